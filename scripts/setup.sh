#!/usr/bin/env bash
# Installs what the build and the tests need (Debian packages, only those missing), then
# configures and builds into build/ (or $1) with any extra CMake arguments after it.
# Sourced by demo.sh, test.sh and bench.sh; safe to run again.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# clang-14, libclang-rt-14-dev: the fuzzers (libFuzzer). dpkg-dev, file: cpack -G DEB (dpkg-shlibdeps); unzip, man-db: packaging/check.sh.
packages=(gcc cmake make pkg-config libssl-dev openssl libffi-dev openjdk-17-jdk-headless junit5 binutils publicsuffix
  libpsl-dev libidn2-dev libunistring-dev libjansson-dev abigail-tools
  dpkg-dev file unzip man-db
  clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || echo "setup: no .NET SDK on PATH; the .NET face is skipped" >&2

build=${1:-$top/build}
shift || true
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
