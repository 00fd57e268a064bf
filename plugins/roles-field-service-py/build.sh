#!/usr/bin/env bash
# Builds the Python role-set plugin into a WebAssembly component:
#   target/plugins/roles-field-service-py.wasm
# componentize-py (from PyPI) is installed into a virtualenv under
# target/plugins/ the first time, pinned so every build embeds the same
# Python runtime. --stub-wasi turns the WASI imports CPython would bring into
# trapping stubs, so the component imports only Portal's interfaces, as the
# role-set world intends (print() would trap: use portal:plugin/logging).
set -euo pipefail

version="0.25.1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/plugins"
venv="$out/componentize-py-$version"
tool="$venv/bin/componentize-py"

if ! "$tool" --version >/dev/null 2>&1; then
    echo "installing componentize-py $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$version"
fi

mkdir -p "$out"
"$tool" \
    --wit-path "$root/plugin-api/wit/v0.1.0" \
    --world role-set \
    componentize \
    --python-path "$here" \
    --stub-wasi \
    --output "$out/roles-field-service-py.wasm" \
    app
echo "built $out/roles-field-service-py.wasm"
