#!/usr/bin/env bash
# What a maintainer runs when a GPU machine is at hand, in one command:
#
#   bash scripts/device_check.sh OUT_DIR
#
# 1. every test marked `gpu` (CUDA fits, float16 autocast with a gradient
#    scaler, a CUDA-trained model unpickled on CPU, and a short
#    strategy="ddp" run under NCCL with one process per GPU, ...);
# 2. the speed benchmark with our classifier and plain skorch on CUDA and
#    scikit-learn on the CPU, same run (sparse MR and dense Fashion-MNIST-sized
#    cases when the Debian dataset is installed), short sizes;
# 3. the device and library versions.
#
# Everything goes under OUT_DIR; about 6 minutes. It needs only the repository
# and ../shared (the corpora). Set-up: a virtual environment .venv-device; if
# the machine's python3 already has a CUDA build of torch, the environment
# reuses it (--system-site-packages, nothing downloaded), else it installs
# TORCH_SPEC (default torch==2.13.0; point PIP_EXTRA_INDEX_URL at a CUDA wheel
# index for a CUDA build).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: bash scripts/device_check.sh OUT_DIR}"
mkdir -p "$out"
export SK_RECTIFIER_DATA="${SK_RECTIFIER_DATA:-$PWD/../shared/data}"
VENV="${VENV:-.venv-device}"
PYTHON="${PYTHON:-python3}"

if [ -z "${TORCH_SPEC:-}" ] && "$PYTHON" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-build-isolation -e ".[test]" 2>&1 | tail -3 \
        || "$VENV/bin/python" -m pip install --quiet --no-deps -e . 2>&1 | tail -3
else
    VENV="$VENV" bash scripts/setup.sh
fi
py="$VENV/bin/python"

status=0
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    "$py" -c "import torch, sklearn, skorch, sk_rectifier as s; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.device_count(), 'sklearn', sklearn.__version__, 'skorch', skorch.__version__, 'sk_rectifier', s.__version__)"
} > "$out/device.txt" 2>&1
cat "$out/device.txt"

echo "== gpu tests"
timeout 240 "$py" -m pytest -m gpu -p no:cacheprovider -q -rs tests \
    > "$out/gpu_tests.txt" 2>&1 || status=1
tail -5 "$out/gpu_tests.txt"

# without CUDA (a dry run of this script), the benchmark runs at tiny sizes
if "$py" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    device=cuda size=()
else
    device=cpu size=(--quick)
fi
echo "== speed benchmark on $device"
timeout 300 "$py" benchmarks/bench_speed.py --data-home "$SK_RECTIFIER_DATA" \
    --device "$device" "${size[@]}" --epochs 2 --dense-epochs 1 --repeats 1 \
    --busy 0 --output "$out/speed_$device.md" > "$out/speed_$device.log" 2>&1 \
    || status=1
tail -5 "$out/speed_$device.log"
exit $status
