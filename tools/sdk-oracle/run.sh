#!/usr/bin/env bash
# Build an isolated venv with Antom's official Python SDK (global-open-sdk-python 1.7.1) and run
# the interop test against it.
#
# The SDK pins cryptography==44.0.3 (and pulls rsa, pycryptodome, enum34, pytz), so it must never
# be installed into the project's own venv: it lives in tools/sdk-oracle/.venv (gitignored).
#
# Usage: tools/sdk-oracle/run.sh            # create/refresh the venv, then run the interop test
#        tools/sdk-oracle/run.sh --setup-only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
sdk_version="1.7.1"
python_bin="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python_bin" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "global-open-sdk-python==$sdk_version"
"$venv/bin/python" -c "import com.alipay.ams.api.tools.signature_tool as t; print('SDK signature_tool:', t.__file__)"
# The interop test uses the venv only once this marker says the SDK imports.
touch "$venv/.sdk-ready"

if [[ "${1:-}" == "--setup-only" ]]; then
    echo "ANTOM_SDK_PYTHON=$venv/bin/python"
    exit 0
fi

cd "$root"
ANTOM_SDK_PYTHON="$venv/bin/python" "$root/.venv/bin/pytest" -q -rs tests/antom/test_sdk_interop.py
