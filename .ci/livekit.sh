#!/usr/bin/env bash
# A real LiveKit server for the tests and benchmarks, built once per machine.
#
#   .ci/livekit.sh build
#       builds livekit-server into the cache (skipped when it is there) and
#       prints the binary's path. Concurrent callers wait for one build.
#   .ci/livekit.sh node DIR PORT UDP_PORT [--redis ADDR] [--sync-streams]
#       writes DIR/livekit.yaml and execs one dev node on 127.0.0.1:
#       signal and API on PORT, WebRTC media on UDP_PORT (one muxed port),
#       keys devkey/secret; with --redis it joins the nodes sharing that
#       redis-server. --sync-streams sets room.sync_streams.
#   .ci/livekit.sh redis PORT
#       execs a throwaway redis-server on 127.0.0.1:PORT (no persistence).
#   .ci/livekit.sh run [1|2]
#       starts one node (or two over a redis-server) on free ports, prints
#       their URLs, and runs until interrupted.
#
# Go tests start nodes through rtc/publish/lkserver, which calls `build`
# and `node`; they never build on their own.
set -euo pipefail

version=v1.13.5
cache="${SEGCAST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/segcast}/livekit-$version"
bin="$cache/server"

build() {
  if [ -x "$bin" ]; then echo "$bin"; return; fi
  mkdir -p "$cache"
  # One build per machine even when several test binaries ask at once.
  exec 9>"$cache/build.lock"
  flock 9
  if [ ! -x "$bin" ]; then
    echo "building livekit-server $version into $cache (a few minutes, once)" >&2
    # v1.13.6 and later need forks the module proxy does not serve.
    GOBIN="$cache.tmp" GOFLAGS=-mod=mod go install "github.com/livekit/livekit-server/cmd/server@$version" >&2
    mv "$cache.tmp/server" "$bin"
    rmdir "$cache.tmp"
  fi
  flock -u 9
  echo "$bin"
}

node() {
  local dir=$1 port=$2 udp=$3 redis="" sync=false
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
    --redis) redis=$2; shift 2 ;;
    --sync-streams) sync=true; shift ;;
    *) echo "livekit.sh node: unknown option $1" >&2; exit 2 ;;
    esac
  done
  mkdir -p "$dir"
  {
    echo "port: $port"
    echo "bind_addresses: [127.0.0.1]"
    echo "keys: {devkey: secret}"
    echo "logging: {level: info}"
    # Without node_ip and the lo interface the UDP port binds to the
    # machine's external address.
    echo "rtc: {node_ip: 127.0.0.1, enable_loopback_candidate: true, interfaces: {includes: [lo]},"
    echo "      udp_port: $udp, tcp_port: 0, use_external_ip: false}"
    echo "room: {sync_streams: $sync, empty_timeout: 30, departure_timeout: 5}"
    echo "turn: {enabled: false}"
    [ -n "$redis" ] && echo "redis: {address: '$redis'}"
  } >"$dir/livekit.yaml"
  exec "$(build)" --config "$dir/livekit.yaml"
}

redis() {
  exec redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --protected-mode yes
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

run() {
  local n=${1:-1} dir pids=() redis=""
  build >/dev/null
  dir=$(mktemp -d)
  trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
  trap 'exit 130' INT TERM # so the EXIT trap runs on a signal too
  if [ "$n" = 2 ]; then
    local rp; rp=$(free_port)
    "$0" redis "$rp" >"$dir/redis.log" 2>&1 & pids+=($!)
    redis="127.0.0.1:$rp"
  fi
  for i in $(seq 1 "$n"); do
    local p u; p=$(free_port); u=$(free_port)
    "$0" node "$dir/node$i" "$p" "$u" ${redis:+--redis "$redis"} >"$dir/node$i.log" 2>&1 & pids+=($!)
    echo "node $i: ws://127.0.0.1:$p (keys devkey/secret, log $dir/node$i.log)"
  done
  wait
}

case "${1:-}" in
build) build ;;
node) shift; node "$@" ;;
redis) shift; redis "$@" ;;
run) shift; run "$@" ;;
*) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
