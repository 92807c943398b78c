#!/usr/bin/env bash
# Every test: the C, Java and .NET suites under CTest, then the C suite again built with
# AddressSanitizer + UndefinedBehaviorSanitizer, then a short smoke of each fuzz target
# (clang + libFuzzer, docs/fuzzing.md).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/scripts/setup.sh" "$top/build"
(cd "$top/build" && ctest --output-on-failure -j2)

bash "$top/scripts/setup.sh" "$top/build-asan" -DTLSB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2)

# 25 s per target, four targets: scripts/fuzz.sh runs them longer on demand.
bash "$top/scripts/fuzz.sh" 25

# Packaging: every face installed as its users install it (docs/packaging.md).
bash "$top/packaging/check.sh" "$top/build"
