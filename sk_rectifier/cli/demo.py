"""``python -m sk_rectifier demo``: the sentiment demo on MR."""

import sys
import time

import numpy as np


def demo(data_home, quick=False, random_state=0, out=sys.stdout):
    """Sentiment demo on MR: TF-IDF then rectifier, softplus and tanh networks.

    Prints test accuracy, the exact sparsity of each hidden layer and the
    training time of each model, with a logistic-regression baseline.

    Parameters
    ----------
    data_home : str or path-like
        Folder holding ``mr/`` (see :func:`sk_rectifier.datasets.load_mr`).
    quick : bool, default=False
        Use 2,000 snippets and small layers (a smoke test, seconds).
    random_state : int, default=0
        Seed of the split and of the networks.
    out : file-like, default=sys.stdout
        Where the report is written.

    Returns
    -------
    rows : list of dict
        One row per model: ``model``, ``accuracy``, ``sparsity``, ``seconds``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from sk_rectifier import RectifierMLPClassifier
    from sk_rectifier.datasets import load_mr

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
    print(
        f"MR sentence polarity: {X_train.shape[0]} train / {X_test.shape[0]} test "
        f"snippets, {X_train.shape[1]} TF-IDF uni+bigram features, "
        f"{X_train.nnz / X_train.shape[0]:.1f} non-zeros per row "
        f"({100 * (1 - X_train.nnz / np.prod(X_train.shape)):.2f}% zeros).",
        file=out,
    )
    sizes = (32, 32) if quick else (256, 256)
    models = {"logistic regression (baseline)": LogisticRegression(C=10)}
    for activation in ("relu", "softplus", "tanh"):
        models[f"{activation} {sizes}"] = RectifierMLPClassifier(
            hidden_layer_sizes=sizes,
            activation=activation,
            activation_l1=1e-4,
            early_stopping=True,
            random_state=random_state,
        )
    header = f"{'model':<32} {'accuracy':>8} {'fit s':>6} {'epochs':>6}  sparsity/layer"
    print(header, file=out)
    print("-" * len(header), file=out)
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        accuracy = model.score(X_test, y_test)
        sparsity = getattr(model, "activation_sparsity_", None)
        epochs, shown = "", ""
        if sparsity is not None:
            epochs, shown = model.n_iter_, " ".join(f"{s:.0%}" for s in sparsity)
        print(
            f"{name:<32} {accuracy:>8.3f} {seconds:>6.1f} {epochs:>6}  {shown}",
            file=out,
            flush=True,
        )
        rows.append(
            {
                "model": name,
                "accuracy": accuracy,
                "sparsity": sparsity,
                "seconds": seconds,
            }
        )
    print(
        "sparsity = fraction of exact zeros in each hidden layer's output on the "
        "training data (only rectifiers give exact zeros).",
        file=out,
    )
    return rows
