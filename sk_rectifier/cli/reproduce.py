"""``python -m sk_rectifier reproduce``: the paper's Table 1 layout on a data set.

For each activation (rectifier, softplus, tanh, logistic), a network without
and with denoising-autoencoder pre-training: test error (or RMSE) and the
exact sparsity of each hidden layer; then an L1 sweep of the rectifier
network (accuracy against sparsity, the paper's Figure 3 left). Writes a
Markdown report and PNG plots.
"""

import sys
import time
from pathlib import Path

import numpy as np

from sk_rectifier import datasets

ACTIVATIONS = ("relu", "softplus", "tanh", "logistic")
DATASETS = ("digits", "mnist5k", "fashion-mnist", "mr", "sst2", "sst5")


def _tfidf(train_docs, test_docs):
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    return tfidf.fit_transform(train_docs), tfidf.transform(test_docs)


def load(name, data_home=None):
    """``(X_train, y_train, X_test, y_test, kind)`` for a data set name; kind is
    "image" or "text"."""
    from sklearn.model_selection import train_test_split

    if name in ("digits", "mnist5k"):
        bunch = (
            datasets.load_digits()
            if name == "digits"
            else (datasets.load_mnist5k(data_home))
        )
        X_train, X_test, y_train, y_test = train_test_split(
            bunch.data,
            bunch.target,
            test_size=0.25,
            stratify=bunch.target,
            random_state=0,
        )
        return X_train, y_train, X_test, y_test, "image"
    if name == "fashion-mnist":
        fm = datasets.load_fashion_mnist(data_home)
        return fm.train.data, fm.train.target, fm.test.data, fm.test.target, "image"
    if name == "mr":
        mr = datasets.load_mr(data_home)
        train, test, y_train, y_test = train_test_split(
            mr.data, mr.target, test_size=0.2, stratify=mr.target, random_state=0
        )
        X_train, X_test = _tfidf(train, test)
        return X_train, y_train, X_test, y_test, "text"
    if name in ("sst2", "sst5"):
        sst = (datasets.load_sst2 if name == "sst2" else datasets.load_sst5)(data_home)
        X_train, X_test = _tfidf(sst.train.data, sst.test.data)
        return X_train, sst.train.target, X_test, sst.test.target, "text"
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def _settings(kind, quick):
    if kind == "image":
        hidden = (64, 64, 64) if quick else (1000, 1000, 1000)
    else:
        hidden = (128,) if quick else (1000,)
    return {
        "hidden": hidden,
        "max_iter": 30 if quick else 200,
        "dae_epochs": 3 if quick else 15,
        "l1_values": (0, 1e-4, 1e-3, 1e-2) if quick else (0, 1e-4, 1e-3, 3e-3, 1e-2),
        "max_train": 2000 if quick else None,
        "patience": 10,
    }


def _model(estimator_cls, hidden, activation, max_iter, pretraining, seed, **kw):
    from sk_rectifier import DenoisingAutoencoderTransformer

    dae = None
    if pretraining is not None:
        dae = DenoisingAutoencoderTransformer(
            hidden_layer_sizes=hidden,
            activation=activation,
            max_iter=pretraining,
            random_state=seed,
        )
    return estimator_cls(
        hidden_layer_sizes=hidden,
        activation=activation,
        early_stopping=True,
        n_iter_no_change=10,
        max_iter=max_iter,
        pretraining=dae,
        random_state=seed,
        **kw,
    )


def reproduce(
    name, *, data_home=None, quick=False, output="reproduce", seed=0, out=None
):
    """Run the Table-1 experiment on data set ``name``; return the report rows.

    Parameters
    ----------
    name : str
        One of ``DATASETS``.
    data_home : str or path-like, default=None
        Folder of the corpora (``$SK_RECTIFIER_DATA`` if None).
    quick : bool, default=False
        Small layers, at most 2,000 training samples, few epochs.
    output : str or path-like, default="reproduce"
        Folder for ``report.md``, ``activations.png`` and ``l1_sweep.png``.
    seed : int, default=0
        Seed of every model.
    out : file-like, default=None
        Where progress is printed (None: the ``sys.stdout`` of the call).

    Returns
    -------
    rows : list of dict
        One row per model of the table.
    """
    out = sys.stdout if out is None else out
    import matplotlib

    matplotlib.use("Agg")
    from sk_rectifier import RectifierMLPClassifier, RectifierMLPRegressor
    from sk_rectifier.inspection import (
        ActivationHistogramDisplay,
        L1SweepDisplay,
        activation_sparsity,
    )

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    X_train, y_train, X_test, y_test, kind = load(name, data_home)
    cfg = _settings(kind, quick)
    if cfg["max_train"] and X_train.shape[0] > cfg["max_train"]:
        keep = np.random.RandomState(seed).permutation(X_train.shape[0])
        keep = keep[: cfg["max_train"]]
        X_train, y_train = X_train[keep], y_train[keep]
    tasks = [("classification", RectifierMLPClassifier, y_train, y_test)]
    if name == "sst5":
        tasks.append(
            (
                "rating regression",
                RectifierMLPRegressor,
                y_train.astype(float),
                y_test.astype(float),
            )
        )
    print(
        f"{name}: {X_train.shape[0]} training and {X_test.shape[0]} test samples, "
        f"{X_train.shape[1]} features; hidden layers {cfg['hidden']}",
        file=out,
        flush=True,
    )
    rows, best = [], None
    n_models = len(tasks) * len(ACTIVATIONS) * 2
    for task, cls, y_fit, y_eval in tasks:
        for activation in ACTIVATIONS:
            for pretrain in (None, cfg["dae_epochs"]):
                start = time.perf_counter()
                model = _model(
                    cls, cfg["hidden"], activation, cfg["max_iter"], pretrain, seed
                ).fit(X_train, y_fit)
                seconds = time.perf_counter() - start
                if task == "classification":
                    metric = 100 * (1 - model.score(X_test, y_eval))
                else:
                    pred = model.predict(X_test)
                    metric = float(np.sqrt(np.mean((pred - y_eval) ** 2)))
                sparsity = activation_sparsity(model, X_test)
                rows.append(
                    {
                        "task": task,
                        "activation": activation,
                        "pretraining": pretrain is not None,
                        "metric": metric,
                        "sparsity": sparsity,
                        "seconds": seconds,
                        "epochs": model.n_iter_,
                    }
                )
                print(
                    f"[{len(rows)}/{n_models}] {task}, {activation}, "
                    f"{'with' if pretrain else 'without'} pre-training: "
                    f"{'error %.2f%%' if task == 'classification' else 'RMSE %.3f'}"
                    % metric
                    + f", sparsity {' '.join(f'{s:.0%}' for s in sparsity)}"
                    f" ({seconds:.0f} s)",
                    file=out,
                    flush=True,
                )
                if (
                    task == "classification"
                    and activation == "relu"
                    and (best is None or metric < best[0])
                ):
                    best = (metric, model)

    ActivationHistogramDisplay.from_estimator(best[1], X_test).figure_.savefig(
        output / "activations.png", dpi=100, bbox_inches="tight"
    )
    print("L1 sweep of the rectifier network ...", file=out, flush=True)
    base = _model(
        RectifierMLPClassifier, cfg["hidden"], "relu", cfg["max_iter"], None, seed
    )
    sweep = L1SweepDisplay.from_estimator(
        base,
        X_train,
        y_train,
        l1_values=cfg["l1_values"],
        X_test=X_test,
        y_test=y_test,
    )
    sweep.figure_.savefig(output / "l1_sweep.png", dpi=100, bbox_inches="tight")
    _, counts = np.unique(y_test, return_counts=True)
    chance = 100 * (1 - counts.max() / counts.sum())
    report = _report(
        name, cfg, quick, rows, sweep, X_train.shape[0], X_test.shape[0], chance
    )
    (output / "report.md").write_text(report)
    print(f"wrote {output / 'report.md'}, activations.png, l1_sweep.png", file=out)
    return rows


def _report(name, cfg, quick, rows, sweep, n_train, n_test, chance):
    lines = [
        f"# {name}: deep sparse rectifier networks, Table 1 layout",
        "",
        f"Command: `python -m sk_rectifier reproduce --dataset {name}"
        + (" --quick" if quick else "")
        + "`  ",
        f"{n_train} training and {n_test} test samples; hidden layers "
        f"{cfg['hidden']}; early stopping on 10% of the training data; "
        f"pre-training: denoising autoencoder, masking noise 0.25, "
        f"{cfg['dae_epochs']} epochs per layer. Sparsity: fraction of exact zeros "
        "of each hidden layer on the test data; epochs: epochs run before early "
        "stopping.",
    ]
    # a row is "at chance" when its error is closer to always predicting the
    # majority class than to the best row's: within the last quarter of the gap
    best = min(r["metric"] for r in rows if r["task"] == "classification")
    near_chance = chance - (chance - best) / 4
    at_chance = []
    for task in dict.fromkeys(r["task"] for r in rows):
        metric = "test error (%)" if task == "classification" else "test RMSE"
        lines += [
            "",
            f"## {task}",
            "",
            f"| activation | {metric}, no pre-training | sparsity | epochs "
            f"| {metric}, with pre-training | sparsity | epochs |",
            "|---|---:|---|---:|---:|---|---:|",
        ]
        for activation in ACTIVATIONS:
            cells = []
            for pretrained in (False, True):
                row = next(
                    r
                    for r in rows
                    if r["task"] == task
                    and r["activation"] == activation
                    and r["pretraining"] == pretrained
                )
                fmt = "{:.2f}" if task == "classification" else "{:.3f}"
                cells += [
                    fmt.format(row["metric"]),
                    " / ".join(f"{s:.1%}" for s in row["sparsity"]),
                    str(row["epochs"]),
                ]
                if task == "classification" and row["metric"] >= near_chance:
                    at_chance.append((activation, pretrained, row["epochs"]))
            name_ = "rectifier" if activation == "relu" else activation
            lines.append(f"| {name_} | " + " | ".join(cells) + " |")
    for activation, pretrained, epochs in at_chance:
        lines += [
            "",
            f"**At chance:** the {activation} network "
            f"{'with' if pretrained else 'without'} pre-training (test error in "
            f"the last quarter of the way from the best row's {best:.2f}% to "
            f"always predicting the majority class, {chance:.2f}%) stopped after "
            f"{epochs} epochs, when its validation accuracy had not "
            f"improved for {cfg['patience']} epochs: it had not started to learn. "
            "Deep sigmoid networks sit on such a plateau for many epochs (the "
            "paper's motivating bad case); the full run gives them "
            f"{_settings('image', False)['max_iter']} epochs.",
        ]
    lines += [
        "",
        "## L1 penalty on the rectifier's activations",
        "",
        "| activation_l1 | test accuracy | sparsity per layer |",
        "|---:|---:|---|",
    ]
    for l1, score, sparsity in zip(sweep.l1_values, sweep.scores, sweep.sparsity):
        lines.append(
            f"| {l1:g} | {score:.4f} | {' / '.join(f'{s:.1%}' for s in sparsity)} |"
        )
    lines += ["", "![activations](activations.png)", "", "![L1 sweep](l1_sweep.png)"]
    return "\n".join(lines) + "\n"
