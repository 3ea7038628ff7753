"""
Sentiment pipeline: TF-IDF + rectifier network, grid search over the activation
and the activation L1 penalty.
=================================================================================

Which activation wins on movie reviews, and how sparse does the L1 penalty
make the hidden layer? ``GridSearchCV`` answers both in one call; the sparsity
of each candidate is read from the refitted models.

Run::

    python examples/sentiment_grid_search.py --data-home ../shared/data
"""

import argparse

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import load_mr


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    mr = load_mr(args.data_home)
    docs, y = mr.data, mr.target
    if args.quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:800]
        docs, y = [docs[i] for i in keep], y[keep]
    docs_train, docs_test, y_train, y_test = train_test_split(
        docs, y, test_size=0.2, stratify=y, random_state=0
    )
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        RectifierMLPClassifier(
            hidden_layer_sizes=(16,) if args.quick else (256,),
            early_stopping=True,
            random_state=0,
        ),
    )
    grid = {
        "rectifiermlpclassifier__activation": ["relu", "softplus", "tanh"],
        "rectifiermlpclassifier__activation_l1": [0.0, 1e-4, 1e-3],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(docs_train, y_train)

    print(f"{'activation':<10} {'L1':>7} {'CV accuracy':>12} {'sparsity':>9}")
    order = np.argsort(-search.cv_results_["mean_test_score"])
    for i in order:
        params = search.cv_results_["params"][i]
        model = clone(pipe).set_params(**params).fit(docs_train, y_train)
        sparsity = model[-1].activation_sparsity_[0]
        print(
            f"{params['rectifiermlpclassifier__activation']:<10} "
            f"{params['rectifiermlpclassifier__activation_l1']:>7g} "
            f"{search.cv_results_['mean_test_score'][i]:>12.4f} {sparsity:>9.1%}"
        )
    print(f"best: {search.best_params_}")
    print(f"test accuracy of the best pipeline: {search.score(docs_test, y_test):.4f}")
    return search


if __name__ == "__main__":
    main()
