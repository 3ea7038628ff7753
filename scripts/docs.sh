#!/usr/bin/env bash
# Build the documentation site into docs/_build/html, offline: set-up with the
# docs extra (scripts/setup.sh), then sphinx-build with warnings as errors;
# the example gallery runs at its quick sizes with the corpora of
# $SK_RECTIFIER_DATA (default ../shared/data). Then check the built site
# (tests/test_docs_site.py: pages, API pages, gallery figures, no dangling
# image links). Extra arguments go to sphinx-build.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${EXTRAS:-test,docs}" bash scripts/setup.sh
export SK_RECTIFIER_DATA="${SK_RECTIFIER_DATA:-$PWD/../shared/data}"
export MPLBACKEND=Agg
rm -rf docs/_build docs/generated docs/auto_examples
.venv/bin/python -m sphinx -W --keep-going -b html "$@" docs docs/_build/html
SK_RECTIFIER_DOCS_BUILT=docs/_build/html .venv/bin/python -m pytest -p no:cacheprovider \
    -q tests/test_docs_site.py
