"""
Few labels, many unlabeled reviews: denoising-autoencoder pre-training.
======================================================================

Label 500 movie reviews and leave the others unlabeled (``y == -1``, as in
``sklearn.semi_supervised``). ``RectifierMLPClassifier(pretraining=...)`` trains
a denoising autoencoder on every review, starts its hidden layer from the
encoder, and fine-tunes on the labeled reviews, all inside one ``fit`` of a
pipeline on raw text. The same autoencoder also serves as a feature learner
for a logistic regression.

Run::

    python examples/semi_supervised_pretraining.py --data-home ../shared/data
"""

import argparse

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.datasets import load_mr


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    mr = load_mr(args.data_home)
    docs, y = mr.data, mr.target
    n_labeled, hidden, epochs = 500, (256,), 10
    if args.quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:600]
        docs, y = [docs[i] for i in keep], y[keep]
        n_labeled, hidden, epochs = 100, (16,), 2
    docs, docs_test, y, y_test = train_test_split(
        docs, y, test_size=0.2, stratify=y, random_state=0
    )
    y_semi = y.copy()
    y_semi[n_labeled:] = -1  # the split is shuffled: keep the first n labels
    labeled = y_semi != -1
    docs_labeled = [d for d, keep in zip(docs, labeled) if keep]

    def pipeline(**kwargs):
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            RectifierMLPClassifier(
                hidden_layer_sizes=hidden,
                early_stopping=True,
                validation_fraction=0.2,
                random_state=0,
                **kwargs,
            ),
        )

    plain = pipeline().fit(docs_labeled, y[labeled])
    dae = DenoisingAutoencoderTransformer(
        hidden_layer_sizes=hidden, max_iter=epochs, random_state=0
    )
    pretrained = pipeline(pretraining=dae).fit(docs, y_semi)
    tfidf, fitted_dae = pretrained[0], pretrained[-1].pretraining_
    logreg = LogisticRegression(C=10, max_iter=2000).fit(
        fitted_dae.transform(tfidf.transform(docs_labeled)), y[labeled]
    )
    test_codes = fitted_dae.transform(tfidf.transform(docs_test))
    scores = {
        "no pre-training": plain.score(docs_test, y_test),
        "DAE pre-training": pretrained.score(docs_test, y_test),
        "DAE features + LogisticRegression": logreg.score(test_codes, y_test),
    }
    print(f"{labeled.sum()} labeled and {(~labeled).sum()} unlabeled reviews")
    for name, score in scores.items():
        print(f"{name:<36} test accuracy {score:.4f}")
    sparsity = fitted_dae.activation_sparsity_[0]
    print(f"exact zeros in the autoencoder's code: {sparsity:.1%}")
    return scores


if __name__ == "__main__":
    main()
