#!/usr/bin/env bash
# Benchmarks every face against its anchor (../shared/BENCH.md, docs/performance.md) and prints
# one table: workload x face, tlsbridge / anchor / ratio. Builds a Release tree in build-bench/
# (or $BENCH_BUILD) with setup.sh, makes a throwaway PKI, then runs bench_c, the Java harness
# and the .NET harness (each face only when it is built). Extra arguments go to every harness,
# e.g. `--rounds 9`, or `--quick` for a fast smoke run.
# Run it on an otherwise idle machine: the harnesses time two threads on two cores.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD:-$top/build-bench}
bash "$top/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$top/c-tests/certs/make-certs.sh" "$work/certs" >/dev/null 2>&1
results=$work/results

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "stacks:  $(openssl version | cut -d' ' -f1-2), $(java -version 2>&1 | head -1)$(command -v dotnet >/dev/null && echo ", .NET $(dotnet --version)")"
echo "command: scripts/bench.sh $*"
echo

"$build/bin/bench_c" "$work/certs" "$@" | tee -a "$results"
if [ -f "$build/java/tlsbridge-bench.jar" ]; then
  java -Dtlsbridge.library.path="$build/lib" -cp "$build/java/tlsbridge-bench.jar:$build/java/tlsbridge.jar" \
    org.tlsbridge.bench.Bench "$work/certs" "$@" | tee -a "$results"
fi
if [ -f "$build/bench/dotnet/TlsBridge.Bench.dll" ]; then
  TLSBRIDGE_LIBRARY_PATH="$build/lib/libtlsbridge.so.1" OPENSSL_CONF="$top/bench/dotnet/openssl-suite.cnf" \
    dotnet "$build/bench/dotnet/TlsBridge.Bench.dll" "$work/certs" "$@" | tee -a "$results"
fi

# pp in C: read system calls per TLS record received, counted by strace over 1,000 round trips
# on both ends (2,000 records), for each stack.
reads_per_record() {
  strace -f -qq -c -e trace=read,recvfrom,recvmsg -o "$work/strace" \
    "$build/bin/bench_c" "$work/certs" --quick --only pp --impl "$1" >/dev/null
  awk '$NF ~ /^(read|recvfrom|recvmsg)$/ { calls += $4 } END { printf "%.2f", calls / 2000 }' "$work/strace"
}
if command -v strace >/dev/null; then
  pp_reads="pp read calls per record (C, strace): tlsbridge $(reads_per_record tlsbridge), OpenSSL $(reads_per_record openssl)"
fi

echo
awk -v pp_reads="${pp_reads:-}" '
  $1 == "RESULT" {
    face = $2; w = $3; unit[w] = $4; a[face, w] = $5; b[face, w] = $6; q[face, w] = $7
    if (!(w in seen)) { seen[w] = 1; order[++n] = w }
  }
  function cell(face, w,   r) {
    if (!((face, w) in a)) return "| – | – | – "
    r = (tolower(q[face, w]) == "nan" || q[face, w] == "") ? "n/a" : sprintf("%.2f", q[face, w])
    return sprintf("| %s | %s | **%s** ", a[face, w], b[face, w], r)
  }
  END {
    print "| workload | unit | C tlsbridge | OpenSSL | ratio | Java tlsbridge | JSSE | ratio | .NET tlsbridge | SslStream | ratio |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      w = order[i]
      printf "| %s | %s %s%s%s|\n", w, unit[w], cell("c", w), cell("java", w), cell("dotnet", w)
    }
    # scale: the 2-thread rate over the 1-thread rate (hs), per stack.
    printf "| scale factor | 2 threads / 1 "
    split("c java dotnet", faces, " ")
    for (f = 1; f <= 3; f++) {
      face = faces[f]
      if ((face, "scale") in a && (face, "hs") in a)
        printf "| %.2fx | %.2fx | ", a[face, "scale"] / a[face, "hs"], b[face, "scale"] / b[face, "hs"]
      else
        printf "| – | – | "
    }
    print ""
    print "\nratio: tlsbridge / anchor, the median of the per-round ratios (idle: lower is better, else higher)."
    if (pp_reads != "") print pp_reads
  }' "$results"
