"""
Rating regression on SST-5 with a rectifier network
===================================================

The paper's sentiment experiment predicted star ratings and reported RMSE.
Here :class:`~sk_rectifier.RectifierMLPRegressor` predicts the five-point
SST-5 rating (0 very negative ... 4 very positive) from TF-IDF features,
compared with a ridge regression and with the constant mean prediction; the
rounded predictions are also scored as 5-class accuracy, and the predicted
ratings are plotted per true rating.

By default trained on 2,000 sentences with 64 units; ``--full`` uses the
whole training split and 256 units.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sk_rectifier import RectifierMLPRegressor
from sk_rectifier.datasets import load_sst5

parser = argparse.ArgumentParser(description="SST-5 rating regression.")
parser.add_argument("--data-home", default=None, help="default: $SK_RECTIFIER_DATA")
parser.add_argument("--full", action="store_true", help="the whole training split")
args, _ = parser.parse_known_args()

sst = load_sst5(args.data_home)
n = None if args.full else 2000
docs, y = sst.train.data[:n], sst.train.target[:n].astype(float)

# %%
# Three models, one test set
# --------------------------
models = {
    "mean rating": None,
    "TF-IDF + Ridge": make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), Ridge(alpha=1.0)
    ),
    "TF-IDF + RectifierMLPRegressor": make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        RectifierMLPRegressor(
            hidden_layer_sizes=(256,) if args.full else (64,),
            alpha=1e-3,
            early_stopping=True,
            random_state=0,
        ),
    ),
}
truth = sst.test.target
predictions = {}
for name, model in models.items():
    if model is None:
        pred = np.full(len(truth), y.mean())
    else:
        pred = model.fit(docs, y).predict(sst.test.data)
    predictions[name] = pred
    rmse = np.sqrt(np.mean((pred - truth) ** 2))
    accuracy = np.mean(np.clip(np.rint(pred), 0, 4) == truth)
    print(f"{name:<32} RMSE {rmse:.3f}  rounded 5-class accuracy {accuracy:.4f}")

# %%
# Predicted rating per true rating
# --------------------------------
pred = predictions["TF-IDF + RectifierMLPRegressor"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.boxplot([pred[truth == r] for r in range(5)], positions=range(5))
ax.plot(range(5), range(5), "k--", lw=1, label="perfect")
ax.set_xlabel("true rating")
ax.set_ylabel("predicted rating")
ax.set_title("SST-5 test: RectifierMLPRegressor")
ax.legend()
fig.tight_layout()
plt.show()
