#!/usr/bin/env bash
# Run the fast test suite (everything not marked slow) against the oldest and
# the newest supported scikit-learn and skorch, each in its own virtual
# environment (.venv-oldest, .venv-newest), with torch pinned as in setup.sh.
#
#   TORCH_SPEC   the torch requirement (default torch==2.13.0, the CPU build)
#   WHICH        "oldest", "newest" or "both" (default)
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
WHICH="${WHICH:-both}"
PYTHON="${PYTHON:-python3}"
export SK_RECTIFIER_DATA="${SK_RECTIFIER_DATA:-$PWD/../shared/data}"

run() {  # run NAME PIP-ARGUMENTS...
    local venv=".venv-$1"
    shift
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "$TORCH_SPEC" -e ".[test]" "$@"
    "$venv/bin/python" -c 'import sklearn, skorch, torch; print(
        f"scikit-learn {sklearn.__version__}, skorch {skorch.__version__}, "
        f"torch {torch.__version__}")'
    "$venv/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider
}

# The lower bounds declared in pyproject.toml.
if [ "$WHICH" != newest ]; then
    run oldest "scikit-learn==1.6.1" "skorch==1.2.0"
fi
# The newest releases on the package index.
if [ "$WHICH" != oldest ]; then
    run newest --upgrade scikit-learn skorch
fi
