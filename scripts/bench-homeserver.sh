#!/usr/bin/env bash
# Side-by-side homeserver benchmark: Switchboard and Dendrite 0.15.2, both on
# SQLite, each with open registration and rate limits off, measured by the
# same client-API load (tests/hsbench), in one run. Prints each server's
# figures and Switchboard/Dendrite ratios.
#
#   scripts/bench-homeserver.sh            # both servers
#   SKIP_DENDRITE=1 scripts/bench-homeserver.sh
#
# Dendrite is built from the Go module proxy into a temporary directory (a
# few minutes the first time; DENDRITE_BIN=dir reuses a build).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/switchboard" ./cmd/switchboard  # as `make build` ships it
go build -o "$work/hsbench" ./tests/hsbench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready URL LOG: milliseconds until /_matrix/client/versions answers.
wait_ready() {
	local start=$(date +%s%N)
	for _ in $(seq 1 3000); do
		curl -sf "$1/_matrix/client/versions" >/dev/null 2>&1 && { echo $(( ($(date +%s%N) - start) / 1000000 )); return; }
		sleep 0.005
	done
	echo "server at $1 not ready; its log:" >&2; tail -20 "$2" >&2; exit 1
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

measure() { # name url pid
	local idle; sleep 2; idle=$(rss_mb "$3")
	"$work/hsbench" -url "$2" -name "$1" | python3 -c "import json,sys; r=json.load(sys.stdin); r['idle_rss_mb']=$idle; r['ready_ms']=$4; print(json.dumps(r))"
}

# run_switchboard NAME [DATABASE_URI]: one Switchboard run, printed as JSON.
run_switchboard() {
	local dir="$work/run-$1" port; mkdir -p "$dir"; port=$(free_port)
	cat > "$dir/switchboard.yaml" <<YAML
listen:
  client: 127.0.0.1:$port
registration:
  enabled: true
rate_limits:
  enabled: false
log:
  level: warn
YAML
	if [ -n "${2:-}" ]; then printf 'database:\n  uri: %s\n' "$2" >> "$dir/switchboard.yaml"; fi
	(cd "$dir" && exec "$work/switchboard" serve >"$dir/log" 2>&1) & local pid=$!
	local ready; ready=$(wait_ready "http://127.0.0.1:$port" "$dir/log")
	measure "$1" "http://127.0.0.1:$port" "$pid" "$ready"
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

sb_json=$(run_switchboard switchboard)
echo "$sb_json"
# With BENCH_POSTGRES set to the URI of an empty database, Switchboard also
# runs on PostgreSQL (the target: within 2x of SQLite).
if [ -n "${BENCH_POSTGRES:-}" ]; then
	pg_json=$(run_switchboard switchboard-postgres "$BENCH_POSTGRES")
	echo "$pg_json"
	python3 - "$sb_json" "$pg_json" <<'PY'
import json, sys
sq, pg = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("\nPostgreSQL / SQLite:")
for key in ["sequential_sends_per_sec", "concurrent8_sends_per_sec", "sync_wakeup_p50_ms", "paginate_history_ms"]:
    print(f"  {key:28s} {pg[key]:10.2f} {sq[key]:10.2f}   x{pg[key]/sq[key]:.2f}")
PY
fi

if [ -n "${SKIP_DENDRITE:-}" ]; then exit 0; fi

# Dendrite
dbin=$(scripts/build-dendrite.sh)
dd="$work/dendrite"; mkdir -p "$dd"; d_port=$(free_port)
(cd "$dd" && "$dbin/generate-keys" --private-key matrix_key.pem >/dev/null && "$dbin/generate-config" -dir "$dd" > dendrite.yaml)
python3 - "$dd/dendrite.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("registration_disabled: true", "registration_disabled: false")
s = re.sub(r"(rate_limiting:\s*\n\s*enabled:) true", r"\1 false", s)
s = re.sub(r"(logging:\s*\n\s*- type: std\s*\n\s*level:) \w+", r"\1 warn", s)
open(p, "w").write(s)
PY
(cd "$dd" && exec "$dbin/dendrite" --config dendrite.yaml --really-enable-open-registration --http-bind-address "127.0.0.1:$d_port" >"$dd/dendrite.out" 2>&1) & d_pid=$!
d_ready=$(wait_ready "http://127.0.0.1:$d_port" "$dd/dendrite.out")
d_json=$(measure dendrite "http://127.0.0.1:$d_port" "$d_pid" "$d_ready")
kill "$d_pid"; wait "$d_pid" 2>/dev/null || true
echo "$d_json"

python3 - "$sb_json" "$d_json" <<'PY'
import json, sys
sb, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("\nSwitchboard / Dendrite (higher is better for rates, lower for times and memory):")
for key in ["sequential_sends_per_sec", "concurrent8_sends_per_sec", "sync_wakeup_p50_ms",
            "sync_wakeup_p99_ms", "paginate_history_ms", "idle_rss_mb", "ready_ms"]:
    a, b = sb[key], d[key]
    ratio = a / b if b else float("inf")
    print(f"  {key:28s} {a:10.2f} {b:10.2f}   x{ratio:.2f}")
PY
