"""
How sparse are the hidden layers? Activation histograms and dead units
======================================================================

Rectifier networks output exact zeros. This example fits a three-layer
rectifier network and a tanh network of the same shape on the MNIST-like
digits, plots the histogram of each hidden layer's activations with its
fraction of exact zeros, and lists the dead units (zero on every test
sample), which :meth:`~sk_rectifier.RectifierMLPClassifier.prune` removes
without changing a prediction on the data it was given.

By default three layers of 32 units; ``--full`` uses three layers of 256.
"""

import argparse

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_digits
from sk_rectifier.inspection import (
    ActivationHistogramDisplay,
    activation_sparsity,
    dead_units,
)

parser = argparse.ArgumentParser(description="Sparsity of hidden layers.")
parser.add_argument("--data-home", default=None, help="unused (bundled data)")
parser.add_argument("--full", action="store_true", help="larger layers")
args, _ = parser.parse_known_args()

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.25, random_state=0
)
hidden = (256,) * 3 if args.full else (32,) * 3

# %%
# A rectifier network with an L1 penalty on its activations
# ---------------------------------------------------------
relu = RectifierMLPClassifier(
    hidden_layer_sizes=hidden, activation_l1=1e-3, early_stopping=True, random_state=0
).fit(X_train, y_train)
print(f"rectifier: test accuracy {relu.score(X_test, y_test):.4f}")
print(
    "exact zeros per layer:",
    " ".join(f"{s:.1%}" for s in activation_sparsity(relu, X_test)),
)
print("dead units per layer:", [int(d.sum()) for d in dead_units(relu, X_test)])
ActivationHistogramDisplay.from_estimator(relu, X_test)
plt.show()

# %%
# The same network with tanh units: small values, but no exact zeros
# ------------------------------------------------------------------
tanh = RectifierMLPClassifier(
    hidden_layer_sizes=hidden, activation="tanh", early_stopping=True, random_state=0
).fit(X_train, y_train)
print(f"tanh: test accuracy {tanh.score(X_test, y_test):.4f}")
print(
    "exact zeros per layer:",
    " ".join(f"{s:.1%}" for s in activation_sparsity(tanh, X_test)),
)
ActivationHistogramDisplay.from_estimator(tanh, X_test)
plt.show()

# %%
# Pruning the dead units
# ----------------------
pruned = relu.prune(X_train)
print(f"pruned units per layer: {pruned.pruned_units_}")
print(f"hidden layers now: {pruned.hidden_layer_sizes}")
same = (pruned.predict(X_train) == relu.predict(X_train)).mean()
print(f"same predictions on the training data: {same:.1%}")
print(f"pruned test accuracy {pruned.score(X_test, y_test):.4f}")
