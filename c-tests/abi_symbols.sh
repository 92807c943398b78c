#!/usr/bin/env bash
# The built library exports exactly the manifest's functions (nothing from OpenSSL, nothing
# internal), each in the version node the manifest's "# node NAME" line above it gives
# (TLSBRIDGE_1.0 before any), and its SONAME is libtlsbridge.so.1.
# Usage: abi_symbols.sh LIBRARY MANIFEST
set -euo pipefail
lib=$1 manifest=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "B" {print $3}' | sort)
expected=$(awk 'BEGIN {node = "TLSBRIDGE_1.0"} $1 == "#" && $2 == "node" {node = $3} !/^#/ && NF {print $1 "@@" node}' "$manifest" | sort)
status=0
if [ "$exported" != "$expected" ]; then
  echo "exports differ from $manifest (< exported, > manifest):"
  diff <(echo "$exported") <(echo "$expected") || true
  status=1
fi
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" != "libtlsbridge.so.1" ]; then
  echo "SONAME is '$soname', expected libtlsbridge.so.1"
  status=1
fi
count=$(echo "$expected" | wc -l)
[ $status -eq 0 ] && echo "1 passed, 0 failed ($count exports, SONAME $soname)" || echo "0 passed, 1 failed"
exit $status
