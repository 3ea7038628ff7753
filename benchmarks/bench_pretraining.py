"""Few labels, many unlabeled texts: does denoising-autoencoder pre-training
help RectifierMLPClassifier? One run, every contender on the same splits.

Tasks:

* ``mr``: MR sentence polarity, stratified 80/20 train/test split;
* ``sst2``: SST-2, its train split as the pool and its test split; the MR
  snippets (same domain) join the pool as unlabeled texts.

From each pool ``--n-labeled`` texts keep their label (stratified) and the
rest are unlabeled (``y == -1``). Everything unsupervised is fitted once per
task on all the pool's texts, labels unseen: the TF-IDF (uni+bigrams,
sublinear tf), the ``TruncatedSVD`` and the denoising autoencoder. Then, for
each of ``--seeds`` labeled subsets:

* ``TF-IDF + LogisticRegression`` on the labeled texts;
* ``TF-IDF + TruncatedSVD(300) + LogisticRegression``: the SVD fitted on all
  texts, the regression on the labeled ones (the classic semi-supervised
  baseline);
* ``RectifierMLPClassifier``, no pre-training, on the labeled texts (Adam,
  early stopping);
* ``RectifierMLPClassifier(pretraining=DAE)``: the hidden layer starts from
  the autoencoder's encoder, then the whole network is fine-tuned on the
  labeled texts (the paper's protocol; what ``fit(texts, y_with_minus_ones)``
  does in one call; the autoencoder is fitted once here, as the SVD is);
* the same with ``freeze_pretrained=True, solver="lbfgs"``: the encoder kept
  as pre-training left it, the output layer fitted to convergence (the
  library's few-labels recipe);
* ``DAE features + LogisticRegression``: the autoencoder's code of the
  labeled texts, then a logistic regression.

One autoencoder is fitted per width of ``--hidden`` (256 and 1000 units by
default). The logistic regressions choose ``C`` (0.01 to 1000); the network
without pre-training chooses its width and ``alpha`` (0.001 to 10); the
frozen-encoder recipe chooses its autoencoder (hence its width) and
``alpha``; DAE features + LogisticRegression chooses its autoencoder: all by
3-fold cross-validation on the labeled texts. The fine-tuned network takes
the autoencoder the frozen recipe's search chose. No test data is used to
choose anything. Test accuracy, median over the labeled subsets; the target
is pre-training (the frozen-encoder recipe) beating both no pre-training and
SVD + LogisticRegression by 2 points.
Written to ``benchmarks/results/pretraining.md``.

Run (about 50 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_pretraining.py --data-home ../shared/data
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.datasets import load_mr, load_sst2

HERE = Path(__file__).resolve().parent
LOGREG, SVD, PLAIN, TUNED, PRETRAINED, FEATURES = (
    "TF-IDF + LogisticRegression",
    "TF-IDF + TruncatedSVD(300) + LogisticRegression",
    "RectifierMLPClassifier, no pre-training",
    "RectifierMLPClassifier(pretraining=DAE), all layers fine-tuned",
    "RectifierMLPClassifier(pretraining=DAE, freeze_pretrained=True, solver='lbfgs')",
    "DAE features + LogisticRegression",
)
#: alpha values the networks choose from by cross-validation on the labels
ALPHAS = [1e-3, 1e-1, 1.0, 10.0]


def load_task(task, data_home, quick):
    """``(pool texts, pool labels, unlabeled extra texts, test texts, test
    labels)`` of a task."""
    mr = load_mr(data_home)
    if task == "mr":
        docs, test, y, y_test = train_test_split(
            mr.data, mr.target, test_size=0.2, stratify=mr.target, random_state=0
        )
        extra = []
    else:
        sst = load_sst2(data_home)
        docs, y = sst.train.data, sst.train.target
        test, y_test = sst.test.data, sst.test.target
        extra = list(mr.data)
    if quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:600]
        docs, y, extra = [docs[i] for i in keep], np.asarray(y)[keep], extra[:300]
        test, y_test = test[:300], y_test[:300]
    return list(docs), np.asarray(y), extra, list(test), np.asarray(y_test)


def labeled_subset(y, n_labeled, seed):
    """A stratified mask of ``n_labeled`` samples."""
    rng = np.random.RandomState(seed)
    labeled = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        pool = np.flatnonzero(y == label)
        labeled[rng.choice(pool, n_labeled // 2, replace=False)] = True
    return labeled


def run_task(task, args):
    """Per-contender accuracies over the seeds, seconds of the unsupervised
    fits, the autoencoder's sparsity and the sizes."""
    docs, y, extra, test, y_test = load_task(task, args.data_home, args.quick)
    texts = docs + extra  # every text of the pool, labels unseen
    start = time.perf_counter()
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    X_all, X_test = tfidf.transform(texts), tfidf.transform(test)
    X = X_all[: len(docs)]
    components = 20 if args.quick else 300
    svd = TruncatedSVD(components, random_state=0).fit(X_all)
    svd_seconds = time.perf_counter() - start
    widths = args.hidden
    daes, dae_seconds = {}, {}
    for width in widths:  # one autoencoder per width, on all the pool's texts
        start = time.perf_counter()
        daes[width] = DenoisingAutoencoderTransformer(
            hidden_layer_sizes=(width,),
            corruption_level=args.corruption,
            activation_l1=args.dae_l1,
            max_iter=args.dae_epochs,
            random_state=0,
        ).fit(X_all)
        dae_seconds[width] = time.perf_counter() - start
    codes = {w: (dae.transform(X), dae.transform(X_test)) for w, dae in daes.items()}
    reduced, reduced_test = svd.transform(X), svd.transform(X_test)
    alphas = [1.0] if args.quick else ALPHAS

    def classifier(seed, **kwargs):
        return RectifierMLPClassifier(
            early_stopping=True,
            validation_fraction=0.2,
            learning_rate_init=args.lr,
            n_iter_no_change=args.patience,
            random_state=seed,
            **kwargs,
        )

    def logreg():  # C chosen by cross-validation on the labeled texts
        grid = {"C": [0.1, 10.0] if args.quick else np.logspace(-2, 3, 6)}
        return GridSearchCV(LogisticRegression(max_iter=2000), grid, cv=3)

    def plain(seed):  # width and alpha chosen by CV on the labeled texts
        grid = {"hidden_layer_sizes": [(w,) for w in widths], "alpha": alphas}
        return GridSearchCV(classifier(seed), grid, cv=3)

    def frozen(seed):  # the autoencoder (its width) and alpha chosen likewise
        model = RectifierMLPClassifier(
            freeze_pretrained=True,
            solver="lbfgs",
            max_iter=args.lbfgs_iter,
            random_state=seed,
        )
        grid = [
            {
                "hidden_layer_sizes": [(w,)],
                "pretraining": [FrozenEstimator(dae)],  # the clones keep it fitted
                "alpha": alphas,
            }
            for w, dae in daes.items()
        ]
        return GridSearchCV(model, grid, cv=3)

    def dae_features(rows, y_lab):  # the width whose code CV scores best
        searches = {w: logreg().fit(codes[w][0][rows], y_lab) for w in widths}
        width = max(widths, key=lambda w: searches[w].best_score_)
        return searches[width], codes[width][1]

    names = (LOGREG, SVD, PLAIN, TUNED, PRETRAINED, FEATURES)
    scores = {name: [] for name in names}
    chosen = dict.fromkeys(widths, 0)  # how often the frozen search chose each
    for seed in range(args.seeds):
        labeled = labeled_subset(y, args.n_labeled, seed)
        rows, y_lab = np.flatnonzero(labeled), y[labeled]
        pretrained = frozen(seed).fit(X[rows], y_lab)
        width = pretrained.best_params_["hidden_layer_sizes"][0]
        chosen[width] += 1
        fine_tuned = classifier(  # the paper's protocol, on the width chosen above
            seed, hidden_layer_sizes=(width,), pretraining=daes[width]
        )
        fits = {
            LOGREG: (logreg().fit(X[rows], y_lab), X_test),
            SVD: (logreg().fit(reduced[rows], y_lab), reduced_test),
            PLAIN: (plain(seed).fit(X[rows], y_lab), X_test),
            TUNED: (fine_tuned.fit(X[rows], y_lab), X_test),
            PRETRAINED: (pretrained, X_test),
            FEATURES: dae_features(rows, y_lab),
        }
        for name, (model, features) in fits.items():
            scores[name].append(float(model.score(features, y_test)))
        print(
            f"{task} seed {seed}: "
            + ", ".join(f"{name} {s[-1]:.4f}" for name, s in scores.items()),
            flush=True,
        )
    info = {
        "pool": len(docs),
        "extra": len(extra),
        "test": len(test),
        "svd_seconds": svd_seconds,
        "daes": ", ".join(
            f"{w} units: {dae_seconds[w]:.0f} s, {int(np.sum(dae.n_iter_))} "
            f"epochs, {dae.activation_sparsity_[0]:.1%} exact zeros"
            for w, dae in daes.items()
        ),
        "chosen": ", ".join(f"{w} units {n} times" for w, n in chosen.items()),
    }
    return scores, info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/, sst2/")
    parser.add_argument("--tasks", nargs="+", default=["mr", "sst2"])
    parser.add_argument("--n-labeled", type=int, default=500)
    parser.add_argument(
        "--hidden", type=int, nargs="+", default=[256, 1000], help="widths"
    )
    parser.add_argument("--corruption", type=float, default=0.25, help="masking")
    parser.add_argument("--dae-l1", type=float, default=0.0, help="activation_l1")
    parser.add_argument("--dae-epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.01, help="classifier's")
    parser.add_argument("--patience", type=int, default=20, help="n_iter_no_change")
    parser.add_argument("--lbfgs-iter", type=int, default=200, help="frozen's")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "pretraining.md"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    lines = [
        "# Pre-training with few labels",
        "",
        "Command: `python benchmarks/bench_pretraining.py "
        + " ".join(argv if argv is not None else sys.argv[1:])
        + "`  ",
        f"{args.n_labeled} labeled texts per subset, the rest of the pool "
        "unlabeled; TF-IDF, TruncatedSVD and one autoencoder per width fitted "
        "once on all the pool's texts (labels unseen). One hidden layer of "
        f"rectifier units, {' or '.join(map(str, args.hidden))} wide; "
        "autoencoders: masking noise "
        f"{args.corruption}, activation_l1={args.dae_l1:g}, at most "
        f"{args.dae_epochs} epochs with early stopping on its reconstruction; "
        f"Adam classifiers (with and without pre-training alike): "
        f"learning_rate_init={args.lr}, early stopping on 20% of the labeled "
        f"texts with n_iter_no_change={args.patience}; the frozen encoder's "
        f"output layer: L-BFGS, at most {args.lbfgs_iter} iterations. The "
        "logistic regressions choose C (DAE features + LogisticRegression also "
        "the autoencoder), the classifier without pre-training its width and "
        f"alpha (from {ALPHAS}), the frozen one its autoencoder and alpha, by "
        "3-fold cross-validation on the labeled texts; the fine-tuned one "
        "takes the autoencoder the frozen search chose. Test accuracy, "
        f"median over {args.seeds} labeled subsets (each run listed). Target: "
        "pre-training beats both no pre-training and SVD + LogisticRegression "
        "by 2 points.",
    ]
    results = {}
    for task in args.tasks:
        scores, info = run_task(task, args)
        results[task] = scores
        pool = f"{info['pool']} pool texts"
        if info["extra"]:
            pool += f" + {info['extra']} unlabeled MR snippets"
        lines += [
            "",
            f"## {task.upper()}",
            "",
            f"{pool}; {info['test']} test texts. SVD fitted in "
            f"{info['svd_seconds']:.0f} s; autoencoders: {info['daes']}. The "
            f"frozen recipe's search chose {info['chosen']}.",
            "",
            "| model | test accuracy (median) | runs |",
            "|---|---:|---|",
        ]
        for name, accs in scores.items():
            runs = ", ".join(f"{a:.4f}" for a in accs)
            lines.append(f"| {name} | {statistics.median(accs):.4f} | {runs} |")
        median = {name: statistics.median(accs) for name, accs in scores.items()}
        margin = median[PRETRAINED] - max(median[PLAIN], median[SVD])
        lines += [
            "",
            f"Pre-training (frozen encoder) minus the better of no pre-training "
            f"and SVD + LogisticRegression: {100 * margin:+.1f} points (target "
            "+2.0): " + ("**met**." if margin >= 0.02 else "**not met**."),
        ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return results


if __name__ == "__main__":
    main()
