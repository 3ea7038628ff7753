"""Wall time of one hyper-parameter search run three ways, in one run.

A 12-candidate x 3-fold ``GridSearchCV`` over a TF-IDF + RectifierMLPClassifier
pipeline on MR (``activation`` in relu/softplus/tanh x ``activation_l1`` in
0, 1e-3, 1e-2, 3e-2) with ``n_jobs=1``, with joblib's loky backend and
``n_jobs=2``, and with joblib's Dask backend on a 2-worker ``LocalCluster``
(one task thread per worker, on the loopback interface). The estimators keep
their default ``n_threads=None``; whether the three searches found the same
cross-validation scores is reported too.

Results go to ``benchmarks/results/scale.md``. Run (about 5 minutes on 2
cores; needs the ``distributed`` extra)::

    .venv/bin/python benchmarks/bench_scale.py --data-home ../shared/data
"""

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.pipeline import make_pipeline

import sk_rectifier
from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_mr

HERE = Path(__file__).resolve().parent
GRID = {
    "rectifiermlpclassifier__activation": ["relu", "softplus", "tanh"],
    "rectifiermlpclassifier__activation_l1": [0.0, 1e-3, 1e-2, 3e-2],
}
QUICK_GRID = {  # --quick: 4 of the 12 candidates
    "rectifiermlpclassifier__activation": ["relu", "tanh"],
    "rectifiermlpclassifier__activation_l1": [0.0, 1e-2],
}


def search(docs, y, epochs, n_jobs, grid=GRID):
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        RectifierMLPClassifier((64,), max_iter=epochs, tol=0, random_state=0),
    )
    start = time.perf_counter()
    grid = GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(docs, y)
    return time.perf_counter() - start, grid.cv_results_["mean_test_score"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "scale.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from distributed import Client, LocalCluster

    mr = load_mr(args.data_home)
    docs, y = mr.data, mr.target
    grid = GRID
    if args.quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:300]
        docs, y, grid = [docs[i] for i in keep], y[keep], QUICK_GRID
    n_candidates = len(ParameterGrid(grid))
    rows = []
    print("n_jobs=1")
    rows.append(("n_jobs=1 (one process)", *search(docs, y, args.epochs, 1, grid)))
    print("loky, n_jobs=2")
    with joblib.parallel_config(backend="loky"):
        rows.append(("loky, n_jobs=2", *search(docs, y, args.epochs, 2, grid)))
    print("dask LocalCluster")
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):
        with joblib.parallel_config(backend="dask"):
            seconds, scores = search(docs, y, args.epochs, -1, grid)
        rows.append(("Dask, LocalCluster of 2 workers x 1 thread", seconds, scores))
    serial = rows[0][1]
    lines = [
        "# Scale-out: one search, three ways",
        "",
        f"Command: `python benchmarks/bench_scale.py {' '.join(argv or sys.argv[1:])}`"
        "  ",
        f"Date: {time.strftime('%Y-%m-%d')}; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores; torch {torch.__version__}; "
        f"sk_rectifier {sk_rectifier.__version__}.",
        "",
        f"GridSearchCV, {n_candidates} candidates x 3 folds, TF-IDF uni+bigrams + "
        f"RectifierMLPClassifier((64,), max_iter={args.epochs}) on "
        f"{len(docs)} MR reviews.",
        "",
        "| backend | wall time (s) | speed-up vs n_jobs=1 "
        "| same CV scores as n_jobs=1 |",
        "|---|---|---|---|",
    ]
    for name, seconds, scores in rows:
        same = np.array_equal(scores, rows[0][2])
        close = np.allclose(scores, rows[0][2], atol=1e-3)
        verdict = "identical" if same else ("within 0.001" if close else "no")
        lines.append(
            f"| {name} | {seconds:.1f} | {serial / seconds:.2f}x | {verdict} |"
        )
        print(f"  {name}: {seconds:.1f} s ({verdict})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")
    return rows


if __name__ == "__main__":
    main()
