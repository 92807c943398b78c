#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/, docs/fuzzing.md) for as long as asked:
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s; all four targets)
# TARGET is options, verify, server or client. Builds build-fuzz/ with clang first (TLSB_FUZZ=ON,
# ASan + UBSan). Inputs found interesting accumulate in build-fuzz/fuzz/work/TARGET (kept between
# runs); the build-time seeds stay in build-fuzz/fuzz/corpus/TARGET. A crash, leak, sanitizer
# report or timeout fails the script and leaves the input in build-fuzz/fuzz/crashes/.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(options verify server client)

build=${TLSB_FUZZ_BUILD:-$top/build-fuzz}
bash "$top/scripts/setup.sh" "$build" -DCMAKE_C_COMPILER=clang-14 -DTLSB_FUZZ=ON -DTLSB_JAVA=OFF -DTLSB_DOTNET=OFF

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
mkdir -p "$build/fuzz/crashes"
failed=()
for t in "${targets[@]}"; do
  work="$build/fuzz/work/$t"
  mkdir -p "$work"
  echo "fuzz: $t for ${seconds}s"
  # One process, no forks: the machine is shared. -timeout: an input that takes 10 s is a hang.
  if ! "$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz/crashes/$t-" "$work" "$build/fuzz/corpus/$t" \
      > "$build/fuzz/$t.log" 2>&1; then
    failed+=("$t")
    tail -60 "$build/fuzz/$t.log"
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$build/fuzz/$t.log" | sed "s/^/  $t /" || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/fuzz/crashes/, logs in $build/fuzz/*.log)" >&2
  exit 1
fi
echo "fuzz: ${targets[*]}: no findings"
