#!/usr/bin/env bash
# Set up (scripts/setup.sh), then lint and run the whole test suite, doctests
# included. Tests on real corpora read $SK_RECTIFIER_DATA (default
# ../shared/data); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SK_RECTIFIER_DATA="${SK_RECTIFIER_DATA:-$PWD/../shared/data}"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
