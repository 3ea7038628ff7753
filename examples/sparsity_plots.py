"""
How sparse are the hidden layers? Activation histograms and the L1 sweep.
========================================================================

Rectifier networks output exact zeros. This example fits a three-layer
rectifier network on the MNIST-like digits, plots the histogram of each hidden
layer's activations with its fraction of exact zeros, lists the dead units,
and sweeps the L1 penalty on activations to show accuracy against sparsity
(the paper's Figure 3, left). The plots are written as PNG files.

Run::

    python examples/sparsity_plots.py --output plots/
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sklearn.model_selection import train_test_split  # noqa: E402

from sk_rectifier import RectifierMLPClassifier  # noqa: E402
from sk_rectifier.datasets import load_digits  # noqa: E402
from sk_rectifier.inspection import (  # noqa: E402
    ActivationHistogramDisplay,
    L1SweepDisplay,
    activation_sparsity,
    dead_units,
)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-home", default=None, help="unused (bundled data)")
    parser.add_argument("--output", type=Path, default=Path("."))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=0
    )
    hidden = (32, 32, 32) if args.quick else (256, 256, 256)
    clf = RectifierMLPClassifier(
        hidden_layer_sizes=hidden,
        activation_l1=1e-3,
        early_stopping=True,
        random_state=0,
    ).fit(X_train, y_train)
    print(f"test accuracy {clf.score(X_test, y_test):.4f}")
    sparsity = activation_sparsity(clf, X_test)
    print("exact zeros per layer:", " ".join(f"{s:.1%}" for s in sparsity))
    print("dead units per layer:", [int(d.sum()) for d in dead_units(clf, X_test)])
    hist = ActivationHistogramDisplay.from_estimator(clf, X_test)
    hist.figure_.savefig(args.output / "activations.png", bbox_inches="tight")
    sweep = L1SweepDisplay.from_estimator(
        RectifierMLPClassifier(
            hidden_layer_sizes=hidden, early_stopping=True, random_state=0
        ),
        X_train,
        y_train,
        l1_values=[0, 1e-4, 1e-3, 1e-2],
        X_test=X_test,
        y_test=y_test,
    )
    sweep.figure_.savefig(args.output / "l1_sweep.png", bbox_inches="tight")
    for l1, score, s in zip(sweep.l1_values, sweep.scores, sweep.sparsity):
        print(f"activation_l1={l1:g}: accuracy {score:.4f}, sparsity {s.mean():.1%}")
    return sweep


if __name__ == "__main__":
    main()
