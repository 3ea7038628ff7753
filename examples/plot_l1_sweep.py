"""
The L1 sweep: accuracy against sparsity on movie reviews
========================================================

The paper's Figure 3 (left): as the L1 penalty on hidden activations grows,
a rectifier network's code gets sparser, and accuracy holds until the
penalty becomes strong. :class:`~sk_rectifier.inspection.L1SweepDisplay`
refits one network per strength on MR movie-review snippets (TF-IDF
uni+bigrams) and plots held-out accuracy and exact sparsity.

By default 3,000 snippets, 32 hidden units and a larger step size; ``--full``
uses all of MR and the network of the library's text recipe (64 units).
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_mr
from sk_rectifier.inspection import L1SweepDisplay

parser = argparse.ArgumentParser(description="L1 sweep on MR.")
parser.add_argument("--data-home", default=None, help="default: $SK_RECTIFIER_DATA")
parser.add_argument("--full", action="store_true", help="all of MR")
args, _ = parser.parse_known_args()

mr = load_mr(args.data_home)
docs, y = mr.data, mr.target
if not args.full:
    keep = np.random.RandomState(0).permutation(len(docs))[:3000]
    docs, y = [docs[i] for i in keep], y[keep]
docs_train, docs_test, y_train, y_test = train_test_split(
    docs, y, test_size=0.2, stratify=y, random_state=0
)
tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
X_train, X_test = tfidf.fit_transform(docs_train), tfidf.transform(docs_test)

# %%
# One network per strength
# ------------------------
network = RectifierMLPClassifier(
    hidden_layer_sizes=(64,) if args.full else (32,),
    learning_rate_init=1e-3 if args.full else 1e-2,
    alpha=1e-3,
    dropout=0.5,
    early_stopping=True,
    n_iter_no_change=3,
    random_state=0,
)
sweep = L1SweepDisplay.from_estimator(
    network,
    X_train,
    y_train,
    l1_values=[0, 1e-3, 1e-2, 3e-2, 1e-1],
    X_test=X_test,
    y_test=y_test,
)
for l1, score, sparsity in zip(sweep.l1_values, sweep.scores, sweep.sparsity):
    print(f"activation_l1={l1:<6g} accuracy {score:.4f}  exact zeros {sparsity[0]:.1%}")
plt.show()
