#!/usr/bin/env bash
# Runs every check and test. Tests start what they need themselves: the rtc
# tests re-run inside a private network namespace (rtc/internal/rtctest), the
# window smoke test starts its own Xvfb, the audio tests their own ALSA
# file device.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
go vet -tags smoke ./ui/...
go vet -tags segcast_portable_wait ./rtc/
.ci/crosscheck.sh # compiles for Windows and macOS

go build -o bin/segcast .
export SEGCAST_BIN="$PWD/bin/segcast"
export LANG=C.UTF-8
.ci/livekit.sh build >/dev/null # once per machine: rtc/publish's tests run a real LiveKit server
node --test --test-reporter=spec assets/ # the viewer page's measurement code (assets/measure.js)
# The A/V accuracy tests time flashes and beeps in a real Chromium; the
# race detector slows the sender several-fold and would measure itself,
# so they run on a normal build. Everything else runs under -race.
# -p 1: one package's tests at a time, so the browser tests' timing does
# not compete with another package's test binary for this machine's cores.
accuracy='^TestMeasure(AudioOffsetHookInChromium|CycledOffsetInChromium|ThroughLiveKit)$'
go test -race -count=1 -p 1 -skip "$accuracy" ./engine/... ./rtc/...
go test -count=1 -run "$accuracy" ./rtc/measure/
# the other systems' deadline wait (rtc/wait_other.go), run here on Linux
go test -race -count=1 -tags segcast_portable_wait -run Sleep ./rtc/
go test -count=1 ./ui/... .
go test -count=1 -tags smoke -run Smoke ./ui/
