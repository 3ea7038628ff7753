"""Speed and accuracy of RectifierMLPClassifier against its peers, in one run.

Peers: scikit-learn's ``MLPClassifier`` and a plain skorch
``NeuralNetClassifier`` (an ``nn.Sequential`` MLP fed the same data), with the
same architecture, optimizer (Adam, lr 1e-3), batch size (200) and number of
epochs. Cases:

* sparse: MR sentence polarity, TF-IDF uni+bigrams (vocabulary fitted on the
  whole corpus, labels unused), one hidden layer of 100 units; 80/20 split.
* dense: Fashion-MNIST, 10,000 training images and the 10,000 test images,
  three hidden layers of 1000 units (the paper's architecture) and one of 100.

Seconds per epoch are the wall time of ``fit`` divided by the epochs run (so
our figure includes the end-of-fit sparsity pass); every figure is a median
over ``--repeats`` fits with different seeds. Results go to a Markdown table
(and JSON) under ``benchmarks/results/``.

Run (about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_speed.py --data-home ../shared/data
"""

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.exceptions import ConvergenceWarning

import sk_rectifier
from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_fashion_mnist, load_mr

HERE = Path(__file__).resolve().parent


def make_models(hidden, epochs, n_features, n_classes):
    """Factories ``seed -> unfitted model`` for the three contenders."""
    from sklearn.neural_network import MLPClassifier
    from skorch import NeuralNetClassifier

    def ours(seed):
        return RectifierMLPClassifier(
            hidden_layer_sizes=hidden,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=seed,
        )

    def sklearn_mlp(seed):
        return MLPClassifier(
            hidden_layer_sizes=hidden,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=seed,
        )

    def skorch_plain(seed):
        torch.manual_seed(seed)
        sizes = [n_features, *hidden]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        module = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], n_classes))
        return NeuralNetClassifier(
            module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            batch_size=200,
            max_epochs=epochs,
            train_split=None,
            iterator_train__shuffle=True,
            verbose=0,
        )

    return {
        "RectifierMLPClassifier": ours,
        "sklearn MLPClassifier": sklearn_mlp,
        "skorch NeuralNetClassifier": skorch_plain,
    }


def measure(factory, X, y, X_test, y_test, epochs, repeats):
    """Median seconds per epoch and median held-out accuracy."""
    factory(0).fit(X[:400], y[:400])  # warm-up (first-call costs), untimed
    seconds, accuracy = [], []
    for seed in range(repeats):
        model = factory(seed)
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
        ran = getattr(model, "n_iter_", None) or len(model.history)
        seconds.append(elapsed / ran)
        accuracy.append(float(np.mean(model.predict(X_test) == y_test)))
    return statistics.median(seconds), statistics.median(accuracy)


def run_case(name, X, y, X_test, y_test, hidden, epochs, repeats, skip=()):
    n_classes = len(np.unique(y))
    rows = []
    for model, factory in make_models(hidden, epochs, X.shape[1], n_classes).items():
        if model in skip:
            continue
        print(f"  {name} / {model} ...", end=" ", flush=True)
        sec, acc = measure(factory, X, y, X_test, y_test, epochs, repeats)
        print(f"{sec:.3f} s/epoch, accuracy {acc:.4f}", flush=True)
        rows.append({"case": name, "model": model, "s_per_epoch": sec, "accuracy": acc})
    base = next(r for r in rows if r["model"] == "sklearn MLPClassifier")
    for r in rows:
        r["speedup_vs_sklearn"] = base["s_per_epoch"] / r["s_per_epoch"]
        r["accuracy_minus_sklearn"] = r["accuracy"] - base["accuracy"]
    return rows


def sparse_case(data_home, epochs, repeats, quick):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split

    mr = load_mr(data_home)
    docs, y = mr.data, mr.target
    if quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:400]
        docs, y = [docs[i] for i in keep], y[keep]
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(docs)
    X = X.astype(np.float32)  # every contender gets the same float32 CSR matrix
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    name = f"MR TF-IDF ({X.shape[1]} features, {X.nnz / X.shape[0]:.0f} nnz/row), 1x100"
    hidden = (8,) if quick else (100,)
    return run_case(name, X_train, y_train, X_test, y_test, hidden, epochs, repeats)


def dense_cases(epochs, repeats, quick):
    try:
        fm = load_fashion_mnist()
    except FileNotFoundError as exc:
        print(f"  skipping the dense case: {exc}")
        return []
    n_train = 500 if quick else 10_000
    X, y = fm.train.data[:n_train], fm.train.target[:n_train]
    X_test, y_test = fm.test.data, fm.test.target
    if quick:
        X_test, y_test = X_test[:500], y_test[:500]
    rows = []
    for hidden in [(16,)] if quick else [(1000, 1000, 1000), (100,)]:
        arch = (
            "x".join(map(str, hidden))
            if len(set(hidden)) > 1
            else (f"{len(hidden)}x{hidden[0]}")
        )
        name = f"Fashion-MNIST {n_train} x 784 dense, {arch}"
        rows += run_case(name, X, y, X_test, y_test, hidden, epochs, repeats)
    return rows


def to_markdown(rows, meta):
    lines = [
        "# Speed benchmark: RectifierMLPClassifier vs peers",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; {meta['machine']}; torch {meta['torch']}, "
        f"scikit-learn {meta['sklearn']}, skorch {meta['skorch']}, "
        f"sk_rectifier {meta['sk_rectifier']}; torch threads {meta['threads']}.  ",
        f"Medians over {meta['repeats']} fits of {meta['epochs']} epochs each "
        "(Adam, lr 1e-3, batch 200, same architecture); accuracy on held-out data "
        "after those epochs.",
        "",
        "| case | model | s/epoch | speed-up vs MLPClassifier | accuracy "
        "| vs MLPClassifier (points) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['model']} | {r['s_per_epoch']:.3f} "
            f"| {r['speedup_vs_sklearn']:.1f}x | {r['accuracy']:.4f} "
            f"| {100 * r['accuracy_minus_sklearn']:+.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dense-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "speed.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    meta = {
        "command": "python benchmarks/bench_speed.py " + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "sk_rectifier": sk_rectifier.__version__,
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "epochs": f"{args.epochs} (sparse) / {args.dense_epochs} (dense)",
    }
    print("sparse case")
    rows = sparse_case(args.data_home, args.epochs, args.repeats, args.quick)
    print("dense cases")
    rows += dense_cases(args.dense_epochs, args.repeats, args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_markdown(rows, meta))
    args.output.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2)
    )
    print(f"wrote {args.output}")
    return rows


if __name__ == "__main__":
    main()
