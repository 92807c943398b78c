#!/usr/bin/env bash
# The built library keeps the 1.0 ABI: abidiff (libabigail) compares an abidw dump of it with the
# committed dump of the 1.0 release (core/abi/) and fails on any removed or changed function,
# variable or type reachable from them; added ones (the TLSBRIDGE_1.1 node and later) are fine.
# abi_symbols.sh checks names and version nodes; this checks what the names mean.
# Usage: abi_compat.sh LIBRARY BASELINE PUBLIC_HEADERS_DIR
#        abi_compat.sh --write LIBRARY BASELINE PUBLIC_HEADERS_DIR   (makes BASELINE; docs/abi.md)
set -uo pipefail
write=0
[ "${1:-}" = --write ] && { write=1; shift; }
lib=$1 baseline=$2 headers=$3
fail() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

# Without DWARF, abidw sees only symbol names and the comparison would mean nothing.
readelf -S "$lib" | grep -q '\.debug_info' ||
  fail "$lib has no debug info: build it RelWithDebInfo or Debug"
# Both sides go through the same abidw options, so only the library can differ. Types defined
# outside the public headers (the opaque structs' insides) are private and left out.
dump() {
  abidw --headers-dir "$headers" --drop-private-types --drop-undefined-syms --exported-interfaces-only \
    --no-corpus-path --no-comp-dir-path --short-locs --type-id-style hash --out-file "$2" "$1" ||
    fail "abidw could not read $1"
}
if [ $write -eq 1 ]; then
  dump "$lib" "$baseline"
  echo "wrote $baseline"
  exit 0
fi
current=$(mktemp)
trap 'rm -f "$current"' EXIT
dump "$lib" "$current"
report=$(abidiff "$baseline" "$current" 2>&1)
rc=$?
echo "$report"
# abidiff's status is a bit set: 1 error, 2 usage error, 4 some ABI change, 8 an incompatible one.
# An addition alone sets 4, so the summary lines decide for changes it cannot call incompatible.
(( rc & 3 )) && fail "abidiff could not compare $baseline with $lib (status $rc)"
if (( rc & 8 )) || grep -qE 'summary: [1-9][0-9]* Removed|, [1-9][0-9]* Changed' <<<"$report"; then
  fail "the 1.0 ABI changed (above): a released function or type must stay as $baseline has it"
fi
echo "1 passed, 0 failed (the 1.0 ABI of $(basename "$baseline") is intact)"
