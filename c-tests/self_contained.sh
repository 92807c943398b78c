#!/usr/bin/env bash
# The build and the tests read nothing outside the repository: no build or test file (CMake,
# scripts, CI, test and project sources) may name the directory beside it (../shared), as c_limbo
# once did. Comment lines may mention it (the benchmarks cite ../shared/BENCH.md as their spec).
# Usage: self_contained.sh SOURCE_DIR
set -euo pipefail
top=$1
# [e] keeps this script from matching itself.
hits=$(grep -rInE '\.\./shar[e]d|/work/shar[e]d' "$top" \
  --exclude-dir=.git --exclude-dir='build*' --exclude-dir=bin --exclude-dir=obj \
  --include=CMakeLists.txt --include='*.cmake' --include='*.sh' --include=run \
  --include='*.c' --include='*.h' --include='*.java' --include='*.cs' --include='*.csproj' \
  --include='*.props' --include='*.targets' --include='*.cnf' --include='*.vec' |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(#|//|/?\*)' || true)
if [ -n "$hits" ]; then
  echo "these build or test files reach outside the repository (vendor the data instead):"
  echo "$hits"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed (no build or test file reaches outside $top)"
