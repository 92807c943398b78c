#!/usr/bin/env bash
# scripts/demo.sh says what it is doing and shows the build's progress, one line per finished
# target, and a failed build ends it with the end of the build's log. It runs on stand-ins: a copy
# of the scripts beside a fake build tree, with cmake, dpkg and the program faked on PATH, so
# nothing is installed or built.
# Usage: demo_script.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/fake" "$tmp/build/bin"
cp "$src/scripts/demo.sh" "$src/scripts/setup.sh" "$tmp/scripts/"
printf '#!/bin/sh\nexit 0\n' > "$tmp/fake/dpkg" # every package is installed
cat > "$tmp/fake/cmake" <<'EOF'
#!/bin/sh
# Configuring prints nothing here; building prints lines as CMake's do (fails if FAIL_BUILD is set).
[ "$1" = --build ] || exit 0
echo "[ 40%] Building C object core/CMakeFiles/tlsbridge_obj.dir/src/names.c.o"
echo "[ 50%] Built target tlsbridge"
[ -z "${FAIL_BUILD:-}" ] || { echo "names.c:1:1: error: the compiler says no"; exit 2; }
echo "[100%] Built target tlsbridge_tool"
EOF
printf '#!/bin/sh\necho "the program ran: tlsbridge $*"\n' > "$tmp/build/bin/tlsbridge"
chmod +x "$tmp/fake/dpkg" "$tmp/fake/cmake" "$tmp/build/bin/tlsbridge"

failures=0
expect() { # WHAT TEXT: TEXT must (or with "no", must not) be in the output
  if [ "$1" = no ]; then
    grep -qF -- "$2" <<<"$out" && { echo "demo.sh printed '$2':"; echo "$out"; failures=$((failures + 1)); }
  else
    grep -qF -- "$1" <<<"$out" || { echo "demo.sh did not print '$1':"; echo "$out"; failures=$((failures + 1)); }
  fi
  return 0
}
out=$(PATH="$tmp/fake:$PATH" bash "$tmp/scripts/demo.sh" 2>&1) || { echo "demo.sh failed:"; echo "$out"; failures=$((failures + 1)); }
expect "demo: installing what is missing, configuring and building into $tmp/build"
expect "[ 50%] Built target tlsbridge"
expect "[100%] Built target tlsbridge_tool"
expect no "Building C object" # one line per target, not per file
expect "the program ran: tlsbridge demo"
status=0
out=$(FAIL_BUILD=1 PATH="$tmp/fake:$PATH" bash "$tmp/scripts/demo.sh" 2>&1) || status=$?
[ $status -ne 0 ] || { echo "demo.sh went on after a failed build"; failures=$((failures + 1)); }
expect "demo: the build failed"
expect "names.c:1:1: error: the compiler says no"
expect no "the program ran"
[ $failures -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
[ $failures -eq 0 ]
