#!/usr/bin/env bash
# Builds Dendrite 0.15.2 (a peer homeserver for interoperability tests and
# benchmarks) into a directory and prints that directory. Reuses a previous
# build. `go install` cannot fetch it here (the module proxy refuses version
# lists), so the module is downloaded and built in place.
set -euo pipefail
out=${DENDRITE_BIN:-${TMPDIR:-/tmp}/switchboard-dendrite-0.15.2}
if [ -x "$out/dendrite" ] && [ -x "$out/generate-keys" ] && [ -x "$out/generate-config" ]; then
	echo "$out"; exit 0
fi
mkdir -p "$out"
dir=$(go mod download -json github.com/element-hq/dendrite@v0.15.2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
echo "building Dendrite 0.15.2 into $out (a few minutes)..." >&2
(cd "$dir" && GOFLAGS=-mod=readonly go build -o "$out/" ./cmd/dendrite ./cmd/generate-keys ./cmd/generate-config)
echo "$out"
