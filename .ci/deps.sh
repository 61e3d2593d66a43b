#!/usr/bin/env bash
# Installs the Debian packages Segcast builds and tests with, skipping what
# is already installed. Usage: .ci/deps.sh run|test
set -euo pipefail

run_pkgs=(build-essential pkg-config libvpx-dev libopus-dev libopusfile-dev
  portaudio19-dev libasound2-dev libgtk-3-dev libgl1-mesa-dev xorg-dev ffmpeg)
test_pkgs=(xvfb chromium firefox-esr imagemagick xdotool x11-utils iproute2 redis-server python3-websockets python3-numpy
  gcc-mingw-w64-x86-64) # .ci/crosscheck.sh: the Windows compile check

pkgs=("${run_pkgs[@]}")
if [ "${1:-run}" = test ]; then
  pkgs+=("${test_pkgs[@]}")
  command -v node >/dev/null || pkgs+=(nodejs) # the viewer's JS unit tests
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v go >/dev/null || { echo "Go 1.26 is needed: https://go.dev/doc/install" >&2; exit 1; }
