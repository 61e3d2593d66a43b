#!/usr/bin/env bash
# Runs every check and test. Starts what the tests need (an X server for the
# window smoke test) when it is not already there.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
go vet -tags ci ./ui/...

if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=:93
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/tmp/segcast-xvfb.log 2>&1 &
  xvfb_pid=$!
  trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
fi

go build -o bin/segcast .
export SEGCAST_BIN="$PWD/bin/segcast"
go test -race -count=1 ./engine/... ./rtc/...
go test -tags ci -count=1 ./ui/... ./bench/... .
