"""Few labels, many unlabeled reviews: does denoising-autoencoder pre-training
help RectifierMLPClassifier? One run, every contender on the same splits.

Protocol: MR sentence polarity, stratified 80/20 train/test split; from the
training part ``--n-labeled`` reviews keep their label and the rest are
unlabeled (``y == -1``). TF-IDF (uni+bigrams) is fitted on all training texts
(no labels involved). For each seed (a different labeled subset):

* ``TF-IDF + LogisticRegression`` on the labeled reviews (reference);
* ``RectifierMLPClassifier`` on the labeled reviews, no pre-training;
* ``RectifierMLPClassifier(pretraining=DAE)``: the autoencoder is trained on
  all training texts, the classifier fine-tuned on the labeled ones, all from
  one ``fit(texts, y_with_minus_ones)``;
* ``DAE features + LogisticRegression``: the same autoencoder's codes, then a
  logistic regression on the labeled reviews.

Accuracy on the test split, median over seeds; written to
``benchmarks/results/pretraining.md``.

Run (about 5 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_pretraining.py --data-home ../shared/data
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.datasets import load_mr

HERE = Path(__file__).resolve().parent


def run_seed(docs, y, docs_test, y_test, args, seed):
    """Accuracies of the four contenders for one labeled subset."""
    n_labeled, hidden = args.n_labeled, (args.hidden,)
    rng = np.random.RandomState(seed)
    labeled = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):  # stratified choice of the labeled reviews
        pool = np.flatnonzero(y == label)
        labeled[rng.choice(pool, n_labeled // 2, replace=False)] = True
    y_semi = np.where(labeled, y, -1)
    docs_labeled = [d for d, keep in zip(docs, labeled) if keep]

    def classifier(**kwargs):
        return RectifierMLPClassifier(
            hidden_layer_sizes=hidden,
            early_stopping=True,
            validation_fraction=0.2,
            learning_rate_init=args.lr,
            n_iter_no_change=args.patience,
            random_state=seed,
            **kwargs,
        )

    dae = DenoisingAutoencoderTransformer(
        hidden_layer_sizes=hidden,
        corruption_level=0.25,
        max_iter=args.dae_epochs,
        random_state=seed,
    )
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    models = {
        "TF-IDF + LogisticRegression": (
            make_pipeline(tfidf, LogisticRegression(C=10)),
            docs_labeled,
            y[labeled],
        ),
        "RectifierMLPClassifier, no pre-training": (
            make_pipeline(tfidf, classifier()),
            docs_labeled,
            y[labeled],
        ),
        "RectifierMLPClassifier(pretraining=DAE)": (
            make_pipeline(tfidf, classifier(pretraining=dae)),
            docs,
            y_semi,
        ),
    }
    scores, seconds = {}, {}
    for name, (model, X_fit, y_fit) in models.items():
        start = time.perf_counter()
        model.fit(X_fit, y_fit)
        seconds[name] = time.perf_counter() - start
        scores[name] = model.score(docs_test, y_test)
        print(f"    {name}: {scores[name]:.4f} ({seconds[name]:.0f} s)", flush=True)
    # the autoencoder fitted inside the pre-trained classifier, reused as a
    # feature learner for a logistic regression on the labeled reviews
    fitted = models["RectifierMLPClassifier(pretraining=DAE)"][0]
    tfidf_fitted, dae_fitted = fitted[0], fitted[-1].pretraining_
    features = dae_fitted.transform(tfidf_fitted.transform(docs_labeled))
    logreg = LogisticRegression(C=10, max_iter=2000).fit(features, y[labeled])
    test_features = dae_fitted.transform(tfidf_fitted.transform(docs_test))
    name = "DAE features + LogisticRegression"
    scores[name] = logreg.score(test_features, y_test)
    print(f"    {name}: {scores[name]:.4f}", flush=True)
    sparsity = dae_fitted.activation_sparsity_
    return scores, seconds, sparsity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--n-labeled", type=int, default=500)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dae-epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.01, help="classifier's")
    parser.add_argument("--patience", type=int, default=20, help="n_iter_no_change")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "pretraining.md"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    mr = load_mr(args.data_home)
    docs, y = mr.data, mr.target
    if args.quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:600]
        docs, y = [docs[i] for i in keep], y[keep]
    docs, docs_test, y, y_test = train_test_split(
        docs, y, test_size=0.2, stratify=y, random_state=0
    )
    results = []
    for seed in range(args.seeds):
        print(f"seed {seed}")
        results.append(run_seed(docs, y, docs_test, y_test, args, seed))
    names = list(results[0][0])
    lines = [
        "# Pre-training with few labels (MR)",
        "",
        "Command: `python benchmarks/bench_pretraining.py "
        + " ".join(argv if argv is not None else sys.argv[1:])
        + "`  ",
        f"{len(docs)} training reviews, {args.n_labeled} of them labeled, the rest "
        f"unlabeled; {len(docs_test)} test reviews. One hidden layer of "
        f"{args.hidden} rectifier units; autoencoder: masking noise 0.25, "
        f"{args.dae_epochs} epochs; classifiers (with and without pre-training "
        f"alike): learning_rate_init={args.lr}, early stopping on 20% of the "
        f"labeled reviews with n_iter_no_change={args.patience}. Test accuracy, "
        f"median over {args.seeds} labeled subsets (the individual runs listed).",
        "",
        "| model | test accuracy | runs |",
        "|---|---:|---|",
    ]
    for name in names:
        accs = [r[0][name] for r in results]
        runs = ", ".join(f"{a:.4f}" for a in accs)
        lines.append(f"| {name} | {statistics.median(accs):.4f} | {runs} |")
    sparsity = statistics.median(float(r[2][0]) for r in results)
    lines += ["", f"Exact sparsity of the autoencoder's code: {sparsity:.1%}."]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return {name: [r[0][name] for r in results] for name in names}


if __name__ == "__main__":
    main()
