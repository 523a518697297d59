#!/usr/bin/env bash
# Side-by-side IRC → Matrix relay benchmark: Switchboard and matterbridge
# 1.26.0 on the same InspIRCd and the same built-in homeserver
# (BenchmarkIRCMatterbridge in tests/e2e). Prints each one's msgs/s and
# latency, and the ratios; with RUNS=n (default 1) it runs n times and also
# prints the medians.
#
#   scripts/compare-matterbridge.sh
#   RUNS=3 scripts/compare-matterbridge.sh
#
# matterbridge is built from the Go module proxy into a temporary directory
# (a few minutes on 2 cores the first time; MATTERBRIDGE_BIN=path/to/binary
# reuses a build). It is a peer to measure against: built and run, never
# vendored. Its IRC send pacing (MessageDelay, 1.3 s a line by default) is
# turned off in the configuration the benchmark writes. Needs inspircd.
set -euo pipefail
cd "$(dirname "$0")/.."

version=v1.26.0
bin=${MATTERBRIDGE_BIN:-${TMPDIR:-/tmp}/switchboard-matterbridge-${version#v}/matterbridge}
if [ ! -x "$bin" ]; then
	dir=$(go mod download -json "github.com/42wim/matterbridge@$version" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])')
	echo "building matterbridge $version into $(dirname "$bin") (a few minutes)..." >&2
	mkdir -p "$(dirname "$bin")"
	# nonctalk: its Nextcloud Talk dependency is refused by the module proxy.
	(cd "$dir" && GOFLAGS=-mod=readonly go build -tags nonctalk -o "$bin" .)
fi
echo "matterbridge: $bin" >&2

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One go test per run, so that every run starts from fresh servers and
# databases (-count would rerun the sub-benchmarks in one setup).
for _ in $(seq 1 "${RUNS:-1}"); do
	MATTERBRIDGE_BIN=$bin go test -count=1 -run '^$' -bench '^BenchmarkIRCMatterbridge$' -benchtime 1x -timeout 10m ./tests/e2e/ | tee -a "$out"
done

python3 - "$out" <<'PY'
import re, statistics, sys
runs = [tuple(map(float, m)) for m in re.findall(
    r"Switchboard ([\d.]+) msgs/s, matterbridge ([\d.]+) msgs/s: ratio [\d.]+; "
    r"p50 latency Switchboard ([\d.]+) ms, matterbridge ([\d.]+) ms", open(sys.argv[1]).read())]
if not runs:
    sys.exit("no results: see the output above")
sb_rate, mb_rate, sb_p50, mb_p50 = (statistics.median(r[i] for r in runs) for i in range(4))
print(f"\nIRC → Matrix, median of {len(runs)} run(s):")
print(f"  {'':22s} {'Switchboard':>12s} {'matterbridge':>12s}  ratio")
print(f"  {'throughput (msgs/s)':22s} {sb_rate:12.0f} {mb_rate:12.0f}  x{sb_rate/mb_rate:.2f} (Switchboard/matterbridge)")
print(f"  {'p50 latency (ms)':22s} {sb_p50:12.2f} {mb_p50:12.2f}  x{mb_p50/sb_p50:.2f} (matterbridge/Switchboard)")
PY
