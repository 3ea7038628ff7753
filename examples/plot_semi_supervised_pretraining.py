"""
Few labels, many unlabeled reviews: denoising-autoencoder pre-training
======================================================================

Label a few movie reviews and leave the others unlabeled (``y == -1``, as in
``sklearn.semi_supervised``).
``RectifierMLPClassifier(pretraining=DenoisingAutoencoderTransformer(...))``
trains a denoising autoencoder on every review, starts its hidden layer from
the encoder, and fine-tunes on the labeled reviews, all inside one ``fit`` of
a pipeline on raw text. The same autoencoder also serves as a feature learner
for a logistic regression. The test accuracies are compared in a bar chart.

By default 4,000 reviews, 300 of them labeled, 64 units; ``--full`` uses all
of MR with 500 labels and 256 units. With so few labels, results move by a
few points from one labeled subset to the next:
``benchmarks/bench_pretraining.py`` reports medians over several.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.datasets import load_mr

parser = argparse.ArgumentParser(description="Pre-training with few labels.")
parser.add_argument("--data-home", default=None, help="default: $SK_RECTIFIER_DATA")
parser.add_argument("--full", action="store_true", help="all of MR")
args, _ = parser.parse_known_args()

mr = load_mr(args.data_home)
docs, y = mr.data, mr.target
n_labeled, hidden, epochs = 500, (256,), 10
if not args.full:
    keep = np.random.RandomState(0).permutation(len(docs))[:4000]
    docs, y = [docs[i] for i in keep], y[keep]
    n_labeled, hidden, epochs = 300, (64,), 10
docs, docs_test, y, y_test = train_test_split(
    docs, y, test_size=0.2, stratify=y, random_state=0
)
y_semi = y.copy()
y_semi[n_labeled:] = -1  # the split is shuffled: keep the first labels
labeled = y_semi != -1
docs_labeled = [d for d, keep in zip(docs, labeled) if keep]
print(f"{labeled.sum()} labeled and {(~labeled).sum()} unlabeled reviews")


def pipeline(**kwargs):
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        RectifierMLPClassifier(
            hidden_layer_sizes=hidden,
            early_stopping=True,
            validation_fraction=0.2,
            learning_rate_init=0.01,
            n_iter_no_change=20,
            random_state=0,
            **kwargs,
        ),
    )


# %%
# Three ways to use the unlabeled reviews (or not)
# ------------------------------------------------
plain = pipeline().fit(docs_labeled, y[labeled])
dae = DenoisingAutoencoderTransformer(
    hidden_layer_sizes=hidden, max_iter=epochs, random_state=0
)
pretrained = pipeline(pretraining=dae).fit(docs, y_semi)  # -1: unlabeled
tfidf, fitted_dae = pretrained[0], pretrained[-1].pretraining_
logreg = LogisticRegression(C=10, max_iter=2000).fit(
    fitted_dae.transform(tfidf.transform(docs_labeled)), y[labeled]
)
scores = {
    "no pre-training": plain.score(docs_test, y_test),
    "DAE pre-training": pretrained.score(docs_test, y_test),
    "DAE features\n+ LogisticRegression": logreg.score(
        fitted_dae.transform(tfidf.transform(docs_test)), y_test
    ),
}
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):<36} test accuracy {score:.4f}")
print(
    f"exact zeros in the autoencoder's code: {fitted_dae.activation_sparsity_[0]:.1%}"
)

# %%
# Test accuracy
# -------------
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(list(scores), list(scores.values()), color=["0.6", "C0", "C1"])
ax.set_ylim(0.5, max(scores.values()) + 0.05)
ax.set_ylabel("test accuracy")
ax.set_title(f"MR, {labeled.sum()} labels")
fig.tight_layout()
plt.show()
