"""The rectifier code as a sparse matrix, and pruning dead units, in one run.

Sections:

* sparse code vs dense code: ``hidden_activations(X, sparse_output=True)``
  against the dense ``hidden_activations(X)`` -- throughput (rows/s) and the
  peak memory the call adds, each in a fresh process -- on (a) 200,000
  synthetic samples through 2,000 rectifier units of which about 85 % are off,
  and (b) the MR TF-IDF matrix through a 2,000-unit layer trained with the
  L1 activation penalty;
* pruning: a 1,000-unit classifier trained on 80 % of MR (TF-IDF uni+bigrams)
  with the L1 penalty, pruned on its training data: the units removed, the
  held-out accuracy before and after, the fraction of held-out predictions
  that changed (a unit dead on the training data may fire on new data), and
  the ``predict_proba`` throughput on the held-out rows before and after.

Results go to ``benchmarks/results/sparse_code.md``. Run (about 3 minutes on 2
cores)::

    .venv/bin/python benchmarks/bench_sparse_code.py --data-home ../shared/data
"""

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import sk_rectifier
import sk_rectifier._engine as engine
from sk_rectifier import RectifierMLPClassifier

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_speed import PeakMemory, mr_data  # noqa: E402


def _best_seconds(fn, X, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(X)
        times.append(time.perf_counter() - start)
    return min(times)


# ------------------------------------------------- sparse vs dense codes
def synthetic_model(n_units):
    """A classifier whose first layer leaves about 85 % of its units off on
    uniform input (biases from -1.5 to 0.25)."""
    rng = np.random.RandomState(0)
    clf = RectifierMLPClassifier((n_units,), max_iter=1, random_state=0)
    clf.fit(rng.rand(500, 8).astype(np.float32), np.arange(500) % 2)
    with torch.no_grad():
        engine.module(clf.net_).input_layer.bias.copy_(
            torch.linspace(-1.5, 0.25, n_units)
        )
    return clf


def child(case, mode, n_rows, data_home, quick):
    """Measure one transform in this (fresh) process; print 3 figures."""
    warnings.simplefilter("ignore")
    if case == "synthetic":
        clf = synthetic_model(200 if quick else 2000)
        X = np.random.RandomState(1).rand(n_rows, 8).astype(np.float32)
    else:
        _, X_train, y_train, X_test, _ = mr_data(data_home, quick)
        clf = RectifierMLPClassifier(
            (200 if quick else 2000,), activation_l1=3e-2, max_iter=2, random_state=0
        ).fit(X_train, y_train)
        import scipy.sparse as sp

        X = sp.vstack([X_train, X_test]).tocsr()
    sparse = mode == "sparse"
    clf.hidden_activations(X[:10], sparse_output=sparse)  # warm up
    with PeakMemory() as memory:
        start = time.perf_counter()
        code = clf.hidden_activations(X, sparse_output=sparse)
        seconds = time.perf_counter() - start
    nnz = code.nnz if sparse else np.count_nonzero(code)
    print(seconds, memory.extra_mib, 1 - nnz / (code.shape[0] * code.shape[1]))


def code_rows(data_home, quick):
    rows = []
    # (--quick, for the tests: the synthetic case only, small)
    cases = [("synthetic", 5_000)] if quick else [("synthetic", 200_000), ("mr", 0)]
    for case, n_rows in cases:
        figures = {}
        for mode in ("dense", "sparse"):
            argv = [sys.executable, __file__, "--child", case, mode, str(n_rows)]
            argv += ["--data-home", str(data_home)] + (["--quick"] if quick else [])
            out = subprocess.run(argv, capture_output=True, text=True, check=True)
            seconds, mib, zeros = map(float, out.stdout.split()[-3:])
            figures[mode] = (seconds, mib, zeros)
            print(f"  {case} {mode}: {seconds:.2f} s, +{mib:.0f} MiB")
        units = 200 if quick else 2000
        name = (
            f"{n_rows} samples x {units} units (synthetic)"
            if case == "synthetic"
            else f"MR TF-IDF, every document x {units} units (L1-trained)"
        )
        dense, sparse = figures["dense"], figures["sparse"]
        rows.append(
            {
                "case": name,
                "zeros": sparse[2],
                "dense_s": dense[0],
                "sparse_s": sparse[0],
                "dense_mib": dense[1],
                "sparse_mib": sparse[1],
            }
        )
    return rows


# --------------------------------------------------------------- pruning
def prune_rows(data_home, quick, repeats):
    _, X_train, y_train, X_test, y_test = mr_data(data_home, quick)
    rows = []
    for l1 in (1e-2, 3e-2):
        clf = RectifierMLPClassifier(
            (100,) if quick else (1000,),
            activation_l1=l1,
            alpha=1e-3,
            early_stopping=True,
            n_iter_no_change=3,
            random_state=0,
        ).fit(X_train, y_train)
        small = clf.prune(X_train)
        before = _best_seconds(clf.predict_proba, X_test, repeats)
        after = _best_seconds(small.predict_proba, X_test, repeats)
        changed = float(np.mean(clf.predict(X_test) != small.predict(X_test)))
        rows.append(
            {
                "activation_l1": l1,
                "units": clf.hidden_layer_sizes[0],
                "pruned": small.pruned_units_[0],
                "acc_before": clf.score(X_test, y_test),
                "acc_after": small.score(X_test, y_test),
                "changed": changed,
                "rows_s_before": X_test.shape[0] / before,
                "rows_s_after": X_test.shape[0] / after,
                "train_identical": bool(
                    (clf.predict(X_train) == small.predict(X_train)).all()
                ),
            }
        )
        print(f"  l1={l1}: pruned {small.pruned_units_[0]}, changed {changed:.4f}")
    return rows


def to_markdown(codes, prunes, meta):
    lines = [
        "# Sparse codes and pruning",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; machine: {meta['machine']}; torch {meta['torch']}; "
        f"sk_rectifier {meta['sk_rectifier']}.",
        "",
        "## Sparse code vs dense code (`hidden_activations`)",
        "",
        "Each call in a fresh process; memory is the peak resident set the call adds.",
        "",
        "| case | zeros | dense: s | sparse: s | speed ratio | dense: MiB added "
        "| sparse: MiB added | memory ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in codes:
        lines.append(
            f"| {r['case']} | {r['zeros']:.1%} | {r['dense_s']:.2f} | "
            f"{r['sparse_s']:.2f} | {r['dense_s'] / r['sparse_s']:.2f}x | "
            f"{r['dense_mib']:.0f} | {r['sparse_mib']:.0f} | "
            f"{r['sparse_mib'] / max(r['dense_mib'], 1):.2f}x |"
        )
    lines += [
        "",
        "speed ratio: dense seconds / sparse seconds (above 1: the sparse code "
        "is faster); memory ratio: sparse MiB / dense MiB (below 1: smaller).",
        "",
        "## Pruning dead units (`prune`), MR, held-out 20 %",
        "",
        "| activation_l1 | units | pruned | accuracy before | after | held-out "
        "predictions changed | predict_proba rows/s before | after | speed-up "
        "| training predictions identical |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in prunes:
        lines.append(
            f"| {r['activation_l1']} | {r['units']} | {r['pruned']} | "
            f"{r['acc_before']:.4f} | {r['acc_after']:.4f} | {r['changed']:.2%} | "
            f"{r['rows_s_before']:,.0f} | {r['rows_s_after']:,.0f} | "
            f"{r['rows_s_after'] / r['rows_s_before']:.2f}x | "
            f"{'yes' if r['train_identical'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "sparse_code.md"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.child:
        case, mode, n_rows = args.child
        return child(case, mode, int(n_rows), args.data_home, args.quick)
    meta = {
        "command": "python benchmarks/bench_sparse_code.py "
        + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "sk_rectifier": sk_rectifier.__version__,
    }
    print("sparse vs dense codes")
    codes = code_rows(args.data_home, args.quick)
    print("pruning")
    prunes = prune_rows(args.data_home, args.quick, args.repeats)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_markdown(codes, prunes, meta))
    print(f"wrote {args.output}")
    return codes, prunes


if __name__ == "__main__":
    main()
