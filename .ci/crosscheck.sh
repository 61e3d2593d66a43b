#!/usr/bin/env bash
# Checks that Segcast compiles for Windows and macOS. Compilation only:
# nothing is linked, so no Windows or macOS libraries are needed.
#  - Windows: `go vet` (which compiles tests too) on every non-main
#    package, with cgo and mingw-w64 as CC, against the headers of Debian's
#    -dev packages cgo includes.
#  - macOS: `go vet` (tests included) on the packages that need no cgo
#    there; the others would need Apple's SDK.
# Packages are listed with `go list`, not named here.
set -euo pipefail
cd "$(dirname "$0")/.."

# The C headers our cgo packages and their libraries include, copied alone
# (not /usr/include, whose glibc headers would hide mingw's), in the same
# layout; each -I the native build gets from pkg-config points into the copy.
# Its path is fixed per checkout (bin/ is ignored by git): CGO_CFLAGS is part
# of Go's build cache key, and a new path would recompile GLFW's C each run.
inc="$PWD/bin/crosscheck-include"
rm -rf "$inc"
trap 'rm -rf "$inc"' EXIT
dpkg -L libvpx-dev libopus-dev libopusfile-dev libogg-dev portaudio19-dev |
  grep '^/usr/include/.*\.h$' | while read -r h; do
    install -D -m 644 "$h" "$inc/${h#/usr/include/}"
  done
cflags="-I$inc"
for dir in $(pkg-config --cflags-only-I vpx opus opusfile portaudio-2.0 | sed 's/-I//g'); do
  cflags+=" -I$inc${dir#/usr/include}"
done

# PKG_CONFIG=true: pkg-config answers nothing (the host's answers name
# host directories and libraries); the headers come from CGO_CFLAGS.
# Fyne's GL and GLFW bring their own Windows sources and headers.
# (Packages whose files are all Linux-only, like the LiveKit test server's, drop out.)
win_pkgs=$(GOOS=windows go list -e -f '{{if and .GoFiles (ne .Name "main")}}{{.ImportPath}}{{end}}' ./...)
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
  PKG_CONFIG=true CGO_CFLAGS="$cflags" go vet $win_pkgs

# macOS: the packages none of whose dependencies (outside the standard
# library) has cgo files there.
cgo_deps=$(GOOS=darwin CGO_ENABLED=1 go list -deps \
  -f '{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}' ./...)
mac_pkgs=$(GOOS=darwin CGO_ENABLED=1 go list -f '{{.ImportPath}} {{join .Deps " "}}' ./... |
  awk -v cgo="$cgo_deps" 'BEGIN { split(cgo, c, "\n"); for (i in c) bad[c[i]] = 1 }
    { for (i = 1; i <= NF; i++) if ($i in bad) next; print $1 }')
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet $mac_pkgs
echo "crosscheck: windows/amd64 vetted: $(echo $win_pkgs); darwin vetted: $(echo $mac_pkgs)"
