#!/usr/bin/env bash
# The main job: build everything, then `tlsbridge demo` on built-in defaults.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/scripts/setup.sh" "$top/build" >/dev/null
exec "$top/build/bin/tlsbridge" demo "$@"
