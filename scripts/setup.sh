#!/usr/bin/env bash
# Create ./.venv (once) and install sk_rectifier into it with a pinned PyTorch.
#
#   TORCH_SPEC   the torch requirement to install (default: the CPU build
#                torch==2.13.0); e.g. TORCH_SPEC="torch==2.5.1" with
#                PIP_EXTRA_INDEX_URL pointing at a CUDA wheel index.
#   EXTRAS       the package extras to install (default: test).
#   VENV         the virtual environment folder (default: .venv).
#
# Re-running is cheap: pip runs again only when pyproject.toml, TORCH_SPEC or
# EXTRAS change.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${EXTRAS:-test}"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.sk_rectifier-installed"
want="$(cat pyproject.toml; echo "$TORCH_SPEC [$EXTRAS]")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    # pip byte-compiles one file at a time (a minute for torch); compileall
    # uses every core. Files newer Pythons only parse (a few in torch's tests)
    # stay uncompiled, as under pip.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-compile "$TORCH_SPEC" -e ".[$EXTRAS]"
    site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    "$VENV/bin/python" -m compileall -q -j 0 "$site" > /dev/null || true
    printf '%s' "$want" > "$stamp"
fi
