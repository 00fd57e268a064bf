#!/usr/bin/env bash
# Builds the Python role-set plugin into target/plugins/roles-field-service-py.wasm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../componentize-py.sh" "$here" roles-field-service-py role-set
