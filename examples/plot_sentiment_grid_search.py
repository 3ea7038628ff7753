"""
Sentiment grid search over the activation and the L1 penalty
=============================================================

Which activation wins on movie reviews, and how sparse does the L1 penalty
on hidden activations make the hidden layer? A ``GridSearchCV`` over a
TF-IDF + :class:`~sk_rectifier.RectifierMLPClassifier` pipeline answers both
in one call: the cross-validation scores are plotted per activation, and the
sparsity of each candidate is read from a refitted model.

By default a quick run (2,500 MR snippets, 16 hidden units, a larger step
size, as a small training set stops early otherwise); ``--full`` runs all of
MR with the network of the library's text recipe.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_mr

parser = argparse.ArgumentParser(description="Grid search on MR.")
parser.add_argument("--data-home", default=None, help="default: $SK_RECTIFIER_DATA")
parser.add_argument("--full", action="store_true", help="all of MR (minutes)")
args, _ = parser.parse_known_args()

# %%
# The data and the pipeline
# -------------------------
mr = load_mr(args.data_home)
docs, y = mr.data, mr.target
if not args.full:
    keep = np.random.RandomState(0).permutation(len(docs))[:2500]
    docs, y = [docs[i] for i in keep], y[keep]
docs_train, docs_test, y_train, y_test = train_test_split(
    docs, y, test_size=0.2, stratify=y, random_state=0
)
pipe = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    RectifierMLPClassifier(
        hidden_layer_sizes=(64,) if args.full else (16,),
        learning_rate_init=1e-3 if args.full else 1e-2,
        alpha=1e-3,
        dropout=0.5,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    ),
)

# %%
# The search
# ----------
activations = ["relu", "softplus", "tanh"]
l1_values = [0.0, 1e-3, 1e-2]
search = GridSearchCV(
    pipe,
    {
        "rectifiermlpclassifier__activation": activations,
        "rectifiermlpclassifier__activation_l1": l1_values,
    },
    cv=3,
).fit(docs_train, y_train)

print(f"{'activation':<10} {'L1':>7} {'CV accuracy':>12} {'exact zeros':>12}")
results = search.cv_results_
for i in np.argsort(-results["mean_test_score"]):
    params = results["params"][i]
    model = clone(pipe).set_params(**params).fit(docs_train, y_train)
    print(
        f"{params['rectifiermlpclassifier__activation']:<10} "
        f"{params['rectifiermlpclassifier__activation_l1']:>7g} "
        f"{results['mean_test_score'][i]:>12.4f} "
        f"{model[-1].activation_sparsity_[0]:>12.1%}"
    )
print(f"best: {search.best_params_}")
print(f"test accuracy of the best pipeline: {search.score(docs_test, y_test):.4f}")

# %%
# Cross-validation scores per activation
# --------------------------------------
# Only the rectifier outputs exact zeros, so only its code gets sparser as
# the penalty grows; the plot shows what each setting costs in accuracy.
fig, ax = plt.subplots(figsize=(6, 3.5))
positions = np.arange(len(l1_values))
for k, activation in enumerate(activations):
    rows = [
        i
        for i, p in enumerate(results["params"])
        if p["rectifiermlpclassifier__activation"] == activation
    ]
    rows.sort(
        key=lambda i: results["params"][i]["rectifiermlpclassifier__activation_l1"]
    )
    ax.errorbar(
        positions + 0.1 * (k - 1),
        results["mean_test_score"][rows],
        yerr=results["std_test_score"][rows],
        marker="o",
        capsize=3,
        label=activation,
    )
ax.set_xticks(positions, [f"{v:g}" for v in l1_values])
ax.set_xlabel("activation_l1")
ax.set_ylabel("3-fold CV accuracy")
ax.set_title("MR: TF-IDF + RectifierMLPClassifier")
ax.legend()
fig.tight_layout()
plt.show()
