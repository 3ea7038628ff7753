"""
Rating regression on SST-5 with a rectifier network.
====================================================

The paper's sentiment experiment predicted star ratings and reported RMSE.
Here ``RectifierMLPRegressor`` predicts the five-point SST-5 rating (0 very
negative ... 4 very positive) from TF-IDF features, compared with a ridge
regression and with the constant mean prediction; the rounded predictions are
also scored as 5-class accuracy.

Run::

    python examples/sst5_rating_regression.py --data-home ../shared/data
"""

import argparse

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sk_rectifier import RectifierMLPRegressor
from sk_rectifier.datasets import load_sst5


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    sst = load_sst5(args.data_home)
    n = 2000 if args.quick else None
    docs, y = sst.train.data[:n], sst.train.target[:n].astype(float)
    models = {
        "mean rating": None,
        "TF-IDF + Ridge": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), Ridge(alpha=1.0)
        ),
        "TF-IDF + RectifierMLPRegressor": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            RectifierMLPRegressor(
                hidden_layer_sizes=(64,) if args.quick else (256,),
                alpha=1e-3,
                early_stopping=True,
                random_state=0,
            ),
        ),
    }
    truth = sst.test.target
    for name, model in models.items():
        if model is None:
            pred = np.full(len(truth), y.mean())
        else:
            pred = model.fit(docs, y).predict(sst.test.data)
        rmse = np.sqrt(np.mean((pred - truth) ** 2))
        accuracy = np.mean(np.clip(np.rint(pred), 0, 4) == truth)
        print(f"{name:<32} RMSE {rmse:.3f}  rounded 5-class accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
