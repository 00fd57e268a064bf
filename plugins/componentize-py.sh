#!/usr/bin/env bash
# Builds a Python plugin into a WebAssembly component with componentize-py:
#   componentize-py.sh FOLDER ID WORLD  ->  target/plugins/ID.wasm
# FOLDER holds app.py. componentize-py (from PyPI) is installed into a
# virtualenv under target/plugins/ the first time, pinned so every build
# embeds the same Python runtime. --stub-wasi turns the WASI imports CPython
# would bring into trapping stubs, so the component imports only Portal's
# interfaces, as the worlds intend (print() would trap: use
# portal:plugin/logging, and raise the WIT's plugin-error to say why a call
# failed).
set -euo pipefail

folder="$(cd "$1" && pwd)"
id="$2"
world="$3"
version="0.25.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
    --world "$world" \
    componentize \
    --python-path "$folder" \
    --stub-wasi \
    --output "$out/$id.wasm" \
    app
echo "built $out/$id.wasm"
