"""Where a dense training epoch goes: our fit against the loops under it.

The speed benchmark compares whole fits. This one puts beside them, in the
same run and on the same batches (Fashion-MNIST 10,000 x 784, Adam, lr 1e-3,
batch 200, same architecture), the loops a fit is built on:

* a bare PyTorch loop: ``nn.Sequential`` of ``Linear`` and ``ReLU``, fused
  Adam, cross-entropy, shuffled batches gathered from one tensor by
  ``index_select``; no skorch,
  no penalty, no validation: the floor for this arithmetic in PyTorch;
* sk_rectifier's training step: the fitted net's ``train_step`` over its own
  batch iterator (our module, two optimizers, the L2 penalty record), without
  skorch's epoch loop, callbacks, history or the fit's per-call work;
* ``RectifierMLPClassifier.fit``, a plain skorch ``NeuralNetClassifier`` and
  scikit-learn's ``MLPClassifier`` (the speed benchmark's contenders).

Milliseconds per epoch are medians over ``--rounds`` rounds in which the
contenders take turns, after one untimed round that pays the first-use
costs; ratios are against ``MLPClassifier`` in this run. The results end
with the rate of the matrix product that dominates a 3x1000 epoch (a batch
by a hidden layer's weight) in float32 through NumPy (what ``MLPClassifier``
computes with) and through PyTorch, and in bfloat16 through PyTorch.
Results go to ``benchmarks/results/overhead.md``. Run (about 3 minutes on
2 cores)::

    .venv/bin/python benchmarks/bench_overhead.py
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import (  # noqa: E402
    HERE,
    OURS,
    SKLEARN,
    SKORCH,
    _arch,
    fashion_data,
    machine,
    make_models,
    plain_mlp,
    take_turns,
    whole_turn,
)

import sk_rectifier  # noqa: E402
from sk_rectifier._data import ArrayDataset  # noqa: E402

BARE, STEP = "bare PyTorch loop", "sk_rectifier training step (no fit)"
LOOPS = [BARE, STEP, OURS, SKORCH, SKLEARN]
BATCH = 200
#: (rows, inputs, outputs) of the product that dominates a 3x1000 epoch
PRODUCT = (BATCH, 1000, 1000)


def matmul_rates(rounds, shape=PRODUCT, calls=50):
    """GFLOP/s of a ``shape`` matrix product in float32 through NumPy and
    through PyTorch, and in bfloat16 through PyTorch: the median of
    ``rounds`` rounds of ``calls`` products, the three taking turns."""
    n, k, m = shape
    operands = products(shape)

    def rate(label, _):
        left, right = operands[label]
        left @ right  # (warm)
        start = time.perf_counter()
        for _ in range(calls):
            left @ right
        return 2 * n * k * m * calls / (time.perf_counter() - start) / 1e9

    return take_turns(operands, rate, rounds)


def products(shape):
    """The operands ``(left, right)`` of each product :func:`matmul_rates`
    times, by label."""
    n, k, m = shape
    rng = np.random.default_rng(0)
    a, w = rng.random((n, k), dtype=np.float32), rng.random((k, m), dtype=np.float32)
    A, W = torch.from_numpy(a), torch.from_numpy(w)
    return {
        "float32, NumPy": (a, w),
        "float32, PyTorch": (A, W),
        "bfloat16, PyTorch": (A.bfloat16(), W.bfloat16()),
    }


def bare_loop(hidden, n_classes, X, y, epochs, seed):
    """The floor: a plain PyTorch training loop of the same arithmetic."""
    torch.manual_seed(seed)
    module = plain_mlp(X.shape[1], hidden, n_classes)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH):
            rows = order[start : start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            # (index_select: advanced indexing X[rows] takes about 5 times
            # as long for these rows)
            loss = F.cross_entropy(module(X.index_select(0, rows)), y[rows])
            loss.backward()
            optimizer.step()
            loss.item()  # (as every loop that records the loss)
    return module


def training_steps(model, X, y, epochs):
    """Our fitted net's training step over its batch iterator, alone."""
    net = model.net_
    batches = net.get_iterator(ArrayDataset(X, y), training=True)
    for _ in range(epochs):
        for batch in batches:
            net.train_step(batch)["loss"].item()


def ladder(data, hidden, epochs, rounds):
    """Rows ``{case, loop, ms_per_epoch, ms_per_batch, vs_sklearn}``."""
    case, X, y, _, _ = data
    n_classes = len(np.unique(y))
    y64 = y.astype(np.int64)
    factories = make_models(hidden, epochs, X.shape[1], n_classes)
    # the step's net: fitted once, then trained further by its steps alone
    stepper = factories[OURS](0).set_params(max_iter=1).fit(X, y)

    def measure(label, seed):
        start = time.perf_counter()
        if label == BARE:
            bare_loop(hidden, n_classes, X, y64, epochs, seed)
            done = epochs
        elif label == STEP:
            training_steps(stepper, X, y64, epochs)
            done = epochs
        else:
            model = factories[label](seed).fit(X, y)
            done = getattr(model, "n_iter_", None) or len(model.history)
        return (time.perf_counter() - start) / done

    for label in LOOPS:  # first-use costs (kernels, thread pools) untimed
        measure(label, 0)
    seconds = take_turns(LOOPS, measure, rounds)
    batches = -(-len(X) // BATCH)
    case = f"{case}, {_arch(hidden)}"
    return [
        {
            "case": case,
            "loop": label,
            "ms_per_epoch": 1e3 * seconds[label],
            "ms_per_batch": 1e3 * seconds[label] / batches,
            "vs_sklearn": seconds[SKLEARN] / seconds[label],
        }
        for label in LOOPS
    ]


def to_markdown(rows, meta, rates=None):
    lines = [
        "# Where a dense training epoch goes",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; {meta['machine']}; {meta['versions']}.  ",
        f"Medians over {meta['rounds']} rounds of {meta['epochs']} epochs, the "
        "loops taking turns; the training step is the fitted net's "
        "`train_step` over its batches without the fit around it. Ratios are "
        "against MLPClassifier in this run (higher is better).",
        "",
        "| case | loop | ms/epoch | ms/batch | speed-up vs MLPClassifier |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['loop']} | {r['ms_per_epoch']:.1f} "
            f"| {r['ms_per_batch']:.3f} | {r['vs_sklearn']:.2f}x |"
        )
    if rates:
        n, k, m = meta["product"]
        lines += [
            "",
            "## Matrix-product rates",
            "",
            f"A {n} x {k} batch by a {k} x {m} weight, the median of "
            f"{meta['rate_rounds']} rounds of 50 products taking turns.",
            "",
            "| arithmetic, library | GFLOP/s |",
            "|---|---:|",
        ]
        lines += [f"| {label} | {rate:.0f} |" for label, rate in rates.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per figure")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "overhead.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    data = fashion_data(args.quick)
    if data is None:
        return []
    rows = []
    for hidden in [(16,)] if args.quick else [(100,), (1000, 1000, 1000)]:
        print(f"{_arch(hidden)}")
        rows += ladder(data, hidden, args.epochs, args.rounds)
    product = (20, 50, 50) if args.quick else PRODUCT
    rate_rounds = whole_turn(args.rounds, 3)
    rates = matmul_rates(rate_rounds, product)
    meta = {
        "command": " ".join(
            [
                "python benchmarks/bench_overhead.py",
                *(sys.argv[1:] if argv is None else argv),
            ]
        ),
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "versions": f"torch {torch.__version__}, scikit-learn {sklearn.__version__}"
        f", skorch {skorch.__version__}, sk_rectifier {sk_rectifier.__version__}",
        "rounds": whole_turn(args.rounds, len(LOOPS)),
        "epochs": args.epochs,
        "product": product,
        "rate_rounds": rate_rounds,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_markdown(rows, meta, rates))
    print(args.output.read_text())
    return rows


if __name__ == "__main__":
    main()
