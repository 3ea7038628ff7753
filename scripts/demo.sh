#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the sentiment demo on the MR corpus.
# The corpora folder is $SK_RECTIFIER_DATA, by default ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m sk_rectifier demo \
    --data-home "${SK_RECTIFIER_DATA:-$PWD/../shared/data}" "$@"
