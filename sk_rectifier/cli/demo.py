"""``python -m sk_rectifier demo``: the library's case on MR in under a minute.

Sentence polarity (MR), one stratified 80/20 split, TF-IDF uni+bigrams scaled
by their naive Bayes log-count ratio (the text recipe's word features and
scaling, the same for every model); a logistic-regression baseline,
scikit-learn's ``MLPClassifier`` and ``RectifierMLPClassifier`` with the
rectifier, softplus and tanh, then an L1 sweep of the rectifier: accuracy,
fit time, speed-up, exact sparsity and dead units, printed as a table and
drawn in one PNG figure.
"""

import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

#: The text recipe: TF-IDF of word uni+bigrams and of character 1-5-grams
#: (``analyzer="char_wb"``), both with sublinear tf, side by side, scaled by
#: :class:`~sk_rectifier.preprocessing.LogCountRatioScaler`, into this network.
#: It was chosen by cross-validation on the SST-2 training split
#: (benchmarks/bench_accuracy.py; never on test data); the demo, the
#: benchmarks and the docs quote it from here. The demo, which is about
#: speed, uses the word features only (10x fewer non-zeros per row).
TEXT_RECIPE = {
    "hidden_layer_sizes": (64,),
    "alpha": 1e-3,
    "dropout": 0.5,
    "early_stopping": True,
    "n_iter_no_change": 3,
}
#: activation_l1 strengths of the sweep (0 is the recipe itself)
L1_VALUES = (0.0, 1e-2, 3e-2, 1e-1)
#: epochs MLPClassifier is given (its first layer costs O(vocabulary x units)
#: per batch: training it to convergence takes minutes)
MLP_EPOCHS = 1


def _fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def _epochs(model):
    """Epochs of a neural network (None for the linear baseline)."""
    epochs = getattr(model, "n_iter_", None)
    return int(epochs) if isinstance(epochs, int | np.integer) else None


def demo(data_home, quick=False, output="sk_rectifier_demo", random_state=0, out=None):
    """Run the demo; print the tables, write ``demo.png``; return the rows.

    Parameters
    ----------
    data_home : str or path-like
        Folder holding ``mr/`` (see :func:`sk_rectifier.datasets.load_mr`).
    quick : bool, default=False
        2,000 snippets and 16 hidden units: a smoke test of a few seconds.
    output : str or path-like, default="sk_rectifier_demo"
        Folder for ``demo.png`` (created if needed).
    random_state : int, default=0
        Seed of the split, the subsample and the networks.
    out : file-like, default=None
        Where the progress and the tables are written (None: the
        ``sys.stdout`` of the call).

    Returns
    -------
    rows : list of dict
        One row per model of the comparison, then one per L1 strength (keys
        ``model``, ``accuracy``, ``seconds``, ``epochs``, ``speedup``,
        ``sparsity``, ``dead``, ``l1``).
    """
    out = sys.stdout if out is None else out
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from sk_rectifier import RectifierMLPClassifier
    from sk_rectifier.datasets import load_mr
    from sk_rectifier.inspection import activation_sparsity, dead_units
    from sk_rectifier.preprocessing import LogCountRatioScaler

    start_all = time.perf_counter()
    mr = load_mr(data_home)
    docs, y = mr.data, mr.target
    if quick:
        keep = np.random.RandomState(random_state).permutation(len(docs))[:2000]
        docs, y = [docs[i] for i in keep], y[keep]
    docs_train, docs_test, y_train, y_test = train_test_split(
        docs, y, test_size=0.2, stratify=y, random_state=random_state
    )
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    X_train = tfidf.fit_transform(docs_train)
    X_test = tfidf.transform(docs_test)
    scaler = LogCountRatioScaler().fit(X_train, y_train)  # the recipe's features
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    print(
        f"MR sentence polarity: {X_train.shape[0]} train / {X_test.shape[0]} test "
        f"snippets (stratified 80/20 split), {X_train.shape[1]} TF-IDF uni+bigram "
        f"features scaled by their log-count ratio, "
        f"{X_train.nnz / X_train.shape[0]:.1f} non-zeros per row "
        f"({100 * (1 - X_train.nnz / np.prod(X_train.shape)):.2f}% zeros).",
        file=out,
    )
    recipe = dict(TEXT_RECIPE)
    if quick:
        recipe["hidden_layer_sizes"] = (16,)
    hidden = recipe["hidden_layer_sizes"]

    def ours(activation, l1=0.0):
        return RectifierMLPClassifier(
            activation=activation,
            activation_l1=l1,
            random_state=random_state,
            **recipe,
        )

    mlp = MLPClassifier(
        hidden_layer_sizes=hidden,
        alpha=recipe["alpha"],
        max_iter=MLP_EPOCHS,
        random_state=random_state,
    )
    jobs = [
        ("logistic regression (baseline)", LogisticRegression(C=10, max_iter=1000)),
        (f"sklearn MLPClassifier {hidden} *", mlp),
        *[(f"{a} {hidden}", ours(a)) for a in ("relu", "softplus", "tanh")],
        *[
            (f"relu {hidden}, activation_l1={l1:g}", ours("relu", l1))
            for l1 in L1_VALUES[1:]
        ],
    ]
    # torch's first-call costs (thread pool, kernels) are paid here, untimed
    warm_up = ours("relu").set_params(max_iter=2, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up.fit(X_train[:200], y_train[:200])
    rows = []
    for k, (name, model) in enumerate(jobs, 1):
        print(f"[{k}/{len(jobs)}] fitting {name} ...", end=" ", file=out, flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # MLPClassifier's
            seconds = _fit(model, X_train, y_train)
        print(f"{seconds:.1f} s", file=out, flush=True)
        row = {
            "model": name,
            "accuracy": float(model.score(X_test, y_test)),
            "seconds": seconds,
            "epochs": _epochs(model),
            "l1": getattr(model, "activation_l1", None),
            "sparsity": None,
            "dead": None,
        }
        if isinstance(model, RectifierMLPClassifier):
            row["sparsity"] = activation_sparsity(model, X_test)
            row["dead"] = [int(mask.sum()) for mask in dead_units(model, X_test)]
        rows.append(row)

    # speed-up: MLPClassifier's seconds per epoch over the model's
    mlp_epoch = rows[1]["seconds"] / rows[1]["epochs"]
    for row in rows:
        epochs = row["epochs"]
        row["speedup"] = mlp_epoch / (row["seconds"] / epochs) if epochs else None
    comparison, sweep = rows[:5], [rows[2], *rows[5:]]
    _print_tables(comparison, sweep, out)
    baseline, relu = rows[0]["accuracy"], rows[2]["accuracy"]
    if relu < baseline:
        print(
            f"Note: the rectifier network ({relu:.3f}) did not beat the "
            f"logistic-regression baseline ({baseline:.3f}) on this split.",
            file=out,
        )
    figure = Path(output) / "demo.png"
    _draw(comparison, sweep, figure, X_train.shape[0])
    print(
        f"Figure: {figure}\nTotal time: {time.perf_counter() - start_all:.0f} s.",
        file=out,
    )
    return rows


def _cells(row):
    speed = f"{row['speedup']:.1f}x" if row["speedup"] else ""
    epochs = row["epochs"] or ""
    sparsity = dead = ""
    if row["sparsity"] is not None:
        sparsity = " ".join(f"{s:.0%}" for s in row["sparsity"])
        dead = " ".join(str(d) for d in row["dead"])
    return (
        f"{row['accuracy']:>8.3f} {row['seconds']:>6.1f} {epochs:>6} {speed:>8}  "
        f"{sparsity:>8} {dead:>5}"
    )


def _header(label):
    return (
        f"{label:<36} {'accuracy':>8} {'fit s':>6} {'epochs':>6} {'speed-up':>8}  "
        f"{'zeros':>8} {'dead':>5}"
    )


def _print_tables(comparison, sweep, out):
    print("", _header("model"), "-" * len(_header("model")), sep="\n", file=out)
    for row in comparison:
        print(f"{row['model']:<36} {_cells(row)}".rstrip(), file=out)
    note = (
        f"* MLPClassifier runs {MLP_EPOCHS} epoch only (training it to "
        "convergence takes minutes): its accuracy is after that epoch. "
        "speed-up: MLPClassifier's seconds per epoch over the model's (the "
        "networks stop early on a held-out 10%, so their fit seconds cover "
        "their epochs). zeros: exact zeros of each hidden layer's output on the "
        "test set; dead: hidden units that are zero on every test snippet."
    )
    print(textwrap.fill(note, 88), file=out)
    print("\nL1 penalty on the rectifier's activations:", file=out)
    print(_header("activation_l1"), file=out)
    for row in sweep:
        print(f"{row['l1']:<36g} {_cells(row)}".rstrip(), file=out)


def _draw(comparison, sweep, path, n_train):
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = [
        r["model"].replace(" (baseline)", "").replace(" *", "") for r in comparison
    ]
    accuracy = [100 * r["accuracy"] for r in comparison]
    bars = left.barh(names, accuracy, color=["0.6", "0.6", "C0", "C1", "C2"])
    for bar, row in zip(bars, comparison):
        note = f"{100 * row['accuracy']:.1f}%"
        if row["sparsity"] is not None:
            note += f", {100 * float(np.mean(row['sparsity'])):.0f}% zeros"
        if row["speedup"]:
            note += f", {row['speedup']:.0f}x MLPClassifier"
        left.text(
            bar.get_width() + 0.3,
            bar.get_y() + bar.get_height() / 2,
            note,
            va="center",
            fontsize=8,
        )
    low = min(accuracy) - 5
    left.set_xlim(low, max(accuracy) + 14)
    left.invert_yaxis()
    left.set_xlabel("test accuracy (%)")
    left.set_title(
        f"MR sentiment, scaled TF-IDF, {n_train} training snippets\n"
        f"(MLPClassifier: {MLP_EPOCHS} epoch; speed-up in seconds per epoch)",
        fontsize=10,
    )
    positions = np.arange(len(sweep))
    labels = [f"{r['l1']:g}" for r in sweep]
    right.plot(
        positions,
        [100 * r["accuracy"] for r in sweep],
        "o-",
        color="C0",
        label="test accuracy (%)",
    )
    sweep_accuracy = [100 * r["accuracy"] for r in sweep]
    right.set_ylim(min(sweep_accuracy) - 3, max(sweep_accuracy) + 3)
    right.set_ylabel("test accuracy (%)", color="C0")
    right.set_xticks(positions, labels)
    right.set_xlabel("activation_l1 (L1 penalty on hidden activations)")
    twin = right.twinx()
    twin.plot(
        positions,
        [100 * float(np.mean(r["sparsity"])) for r in sweep],
        "s--",
        color="C3",
        label="exact zeros (%)",
    )
    twin.set_ylabel("exact zeros in the hidden layer (%)", color="C3")
    twin.set_ylim(0, 100)
    right.set_title("Rectifier network: accuracy and sparsity against L1", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
