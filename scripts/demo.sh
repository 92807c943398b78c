#!/usr/bin/env bash
# The main job: build everything, then `tlsbridge demo` on built-in defaults. The build reports
# its steps as it goes, one line per finished target, on stderr; its whole log is kept in
# build/demo-build.log.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$top/build
log=$build/demo-build.log
mkdir -p "$build"
echo "demo: installing what is missing, configuring and building into $build" \
  "(the first time: a minute or two)" >&2
set +e
bash "$top/scripts/setup.sh" "$build" 2>&1 | tee "$log" |
  grep --line-buffered -E '^setup:|^\[ *[0-9]+%\] Built target|rror' >&2
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "demo: the build failed (status $status); the end of $log:" >&2
  tail -n 30 "$log" >&2
  exit "$status"
fi
echo "demo: built; running tlsbridge demo" >&2
exec "$build/bin/tlsbridge" demo "$@"
