#!/usr/bin/env bash
# Builds the Python hostile fixture into target/plugins/hostile-py.wasm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../componentize-py.sh" "$here" hostile-py role-set
