"""Speed and memory of RectifierMLPClassifier against its peers, in one run.

Peers: scikit-learn's ``MLPClassifier`` and a plain skorch
``NeuralNetClassifier`` (an ``nn.Sequential`` MLP fed the same data), with the
same architecture, optimizer (Adam, lr 1e-3), batch size (200) and number of
epochs. Ours also runs with ``precision="bfloat16"`` (matrix products in
bfloat16 through ``torch.autocast``, weights in float32), which pays off on
dense input and processors with bfloat16 instructions (AVX512-BF16, AMX):
the results' machine line says whether torch found them, and without them
(on the CPU) that contender is left out. Every figure is
a median over ``--repeats`` runs (more for a case whose fits are short, see
``--fit-seconds``), and every ratio is taken against ``MLPClassifier``
measured in the same run; the contenders take turns, run by run (and round
by round for inference), so that a slow spell of a shared machine falls on
all of them alike.

Sections:

* training: seconds per epoch (wall time of ``fit`` divided by the epochs
  run, so ours includes validation and the end-of-fit sparsity pass), held-out
  accuracy, and the peak memory the fit adds (resident set size above the
  level before the fit, in a fresh process that first loads the data) on MR
  TF-IDF uni+bigrams (sparse, 1x100), Fashion-MNIST 10,000 x 784 (dense,
  3x1000 and 1x100);
* inference: ``predict_proba`` throughput (rows/s) on the held-out rows
  (median call over 0.4 s) and the latency of ``predict`` on one row
  (median of 100 calls), each the median of ``--repeats`` rounds;
* busy machine: the same training and ``predict_proba`` with two busy-loop
  processes beside the run (``--busy``), and each library's slowdown factor;
* autoencoder: seconds per epoch of ``DenoisingAutoencoderTransformer`` and
  of a plain skorch autoencoder of the same shape (sigmoid cross-entropy
  reconstruction, batches densified one at a time) on the MR TF-IDF matrix,
  and the default autoencoder's whole ``fit``.

Results go to a Markdown table (and JSON) under ``benchmarks/results/``.
Run (about 20 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_speed.py --data-home ../shared/data
"""

import argparse
import gc
import json
import math
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
import skorch
import torch
from sklearn.exceptions import ConvergenceWarning

import sk_rectifier
from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.datasets import load_fashion_mnist, load_mr

HERE = Path(__file__).resolve().parent
DEVICE = "cpu"  # ours and plain skorch (--device); scikit-learn is CPU-only
OURS, SKLEARN, SKORCH = (
    "RectifierMLPClassifier",
    "sklearn MLPClassifier",
    "skorch NeuralNetClassifier",
)
#: ours with bfloat16 matrix products
OURS_BF16 = "RectifierMLPClassifier(precision='bfloat16')"


# ------------------------------------------------------------ measurement
def plain_mlp(n_features, hidden, n_classes):
    """The peers' network: ``nn.Sequential`` of ``Linear`` and ``ReLU``."""
    sizes = [n_features, *hidden]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], n_classes))


def machine():
    """The machine line of a results header: the processor's model too, as
    figures (and the ratios between libraries) move with it."""
    return (
        f"{cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}, bfloat16 instructions "
        f"{'yes' if bfloat16_instructions() else 'no'}"
    )


def bfloat16_instructions():
    """Whether torch finds bfloat16 arithmetic on the processor (AVX512-BF16
    or AMX, x86 only), which ``precision="bfloat16"`` needs to run faster
    than float32 on a CPU: without it, the CPU cases leave that contender
    out."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def cpu_model():
    """The processor's model name (Linux's /proc/cpuinfo), else Python's
    guess, else "unknown processor"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


class PeakMemory:
    """Peak resident set size above the level at entry, in MiB (Linux)."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.extra_mib = (self.peak - self.start) / 2**20

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss():
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0


class Busy:
    """``n`` busy-loop processes for the duration of the block."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        # each busy loop ends by itself if this process dies without __exit__
        code = f"import os\nwhile os.getppid() == {os.getpid()}: pass"
        self.procs = [
            subprocess.Popen([sys.executable, "-c", code]) for _ in range(self.n)
        ]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()


def make_models(hidden, epochs, n_features, n_classes):
    """Factories ``seed -> unfitted model`` for the contenders: ours (in
    float32 and with bfloat16 matrix products), MLPClassifier and plain
    skorch."""
    from sklearn.neural_network import MLPClassifier
    from skorch import NeuralNetClassifier

    common = dict(hidden_layer_sizes=hidden, max_iter=epochs, tol=0.0)

    def ours(seed):
        return RectifierMLPClassifier(
            **common, n_iter_no_change=epochs + 1, random_state=seed, device=DEVICE
        )

    def sklearn_mlp(seed):
        return MLPClassifier(**common, n_iter_no_change=epochs + 1, random_state=seed)

    def skorch_plain(seed):
        torch.manual_seed(seed)
        return NeuralNetClassifier(
            plain_mlp(n_features, hidden, n_classes),
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            batch_size=200,
            max_epochs=epochs,
            train_split=None,
            iterator_train__shuffle=True,
            device=DEVICE,
            verbose=0,
        )

    def ours_bf16(seed):
        return ours(seed).set_params(precision="bfloat16")

    return {
        OURS: ours,
        OURS_BF16: ours_bf16,
        SKLEARN: sklearn_mlp,
        SKORCH: skorch_plain,
    }


#: seconds of rest before each measurement: NumPy's OpenBLAS threads (what
#: scikit-learn computes with) keep spinning on the cores for about 0.1 s
#: after its last matrix product, and without a rest they would fall on
#: whichever contender is measured next (a 784-100-10 network's first
#: training epoch took 120-160 ms right after an MLPClassifier fit, 63 ms
#: after a pause); torch's own threads spin for about 5 ms
SETTLE_S = 0.3


#: a case whose fits are short gets more rounds than ``--repeats``: as many
#: as fill this many seconds, ``MAX_ROUNDS`` at most (a 3-epoch fit of a
#: 784-100-10 network takes about 0.2 s, and three of them gave ratios from
#: 0.77x to 0.88x in recent runs)
FIT_SECONDS = 20.0
MAX_ROUNDS = 12  # (a whole number of turns for 2, 3 or 4 contenders)


def whole_turn(rounds, n):
    """``rounds`` rounded up to a whole number of turns of ``n`` contenders:
    how many rounds :func:`take_turns` runs at least."""
    return n * -(-rounds // n)


def take_turns(labels, measure, rounds, min_seconds=0.0, max_rounds=MAX_ROUNDS):
    """Median of ``measure(label, round)`` for each label over ``rounds``
    rounds in which every label is measured once, in an order rotated from
    one round to the next: a slow spell of a shared machine falls on all the
    contenders alike instead of on whichever ran during it. Each measurement
    starts after a rest of ``SETTLE_S`` seconds, so that none starts while
    the threads of the one before are still busy. While the rounds so far
    have taken less than ``min_seconds``, more rounds follow, up to
    ``max_rounds`` (rounded down to a whole turn); the rounds end on a whole
    turn (a multiple of the number of labels, even when that is more than
    ``rounds``), so that every label went first as often as the others."""
    labels = list(labels)
    values = {label: [] for label in labels}
    max_rounds -= max_rounds % len(labels)  # (a whole turn at most)
    start, r = time.perf_counter(), 0
    while (
        r < whole_turn(rounds, len(labels))
        or (r < max_rounds and time.perf_counter() - start < min_seconds)
        or r % len(labels)
    ):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            time.sleep(SETTLE_S)
            values[label].append(measure(label, r))
        r += 1
    return {label: statistics.median(v) for label, v in values.items()}


def fits_timed(factories, X, y, repeats, fit_seconds=0.0):
    """Median seconds per epoch of each contender (seeds ``0, 1, ...``,
    taking turns for ``repeats`` rounds or, when fits are short, as many as
    fill ``fit_seconds``), its model of seed ``repeats - 1`` (whose accuracy
    and inference are measured: the same model however many rounds ran)
    and the number of rounds."""
    models, seeds = {}, set()

    def fit(label, seed):
        model = factories[label](seed)
        if seed == repeats - 1:
            models[label] = model
        seeds.add(seed)
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
        return elapsed / (getattr(model, "n_iter_", None) or len(model.history))

    seconds = take_turns(factories, fit, repeats, min_seconds=fit_seconds)
    return seconds, {label: models[label] for label in factories}, len(seeds)


def peak_memory_mib(label, hidden, epochs, X, y):
    """Peak resident memory a fit adds, measured in a fresh process (so that
    memory freed by earlier fits cannot hide it): the child loads the data,
    fits once on 100 rows (first-use costs, such as torch's thread pool, are
    not the fit's), then fits, and reports its peak resident set size above
    the level before that fit."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.pkl"
        data.write_bytes(pickle.dumps((X, y)))
        spec = json.dumps({"label": label, "hidden": hidden, "epochs": epochs})
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", spec, str(data)],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(result.stdout.split()[-1])


def _memory_child(spec, data):
    spec = json.loads(spec)
    X, y = pickle.loads(Path(data).read_bytes())
    factory = make_models(
        tuple(spec["hidden"]), spec["epochs"], X.shape[1], len(np.unique(y))
    )[spec["label"]]
    factory(1).fit(X[:100], y[:100])  # first-use costs (torch's pools), untimed
    # (that fit's first-layer tables are kept for reuse: the fit measured
    # must pay for its own memory)
    gc.collect()
    sk_rectifier.nn.empty_cache()
    model = factory(0)
    with PeakMemory() as mem:  # sampled every 5 ms during the fit
        model.fit(X, y)
    print(mem.extra_mib)


def throughput(model, X, repeats=3, min_seconds=0.4):
    """Median rows per second of ``predict_proba`` over all of ``X``, over
    ``repeats`` calls or as many as fill ``min_seconds`` (a call on a small
    ``X`` takes milliseconds: a median of three would be noise)."""
    model.predict_proba(X)  # (untimed: first-call costs)
    times = []
    while len(times) < repeats or sum(times) < min_seconds and len(times) < 500:
        start = time.perf_counter()
        model.predict_proba(X)
        times.append(time.perf_counter() - start)
    return X.shape[0] / statistics.median(times)


def latency_ms(model, X, calls=100):
    """Median milliseconds of ``predict`` on one row."""
    row = X[:1]
    for _ in range(20):
        model.predict(row)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


# ------------------------------------------------------------------ cases
def mr_data(data_home, quick):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split

    mr = load_mr(data_home)
    docs, y = mr.data, mr.target
    if quick:
        keep = np.random.RandomState(0).permutation(len(docs))[:400]
        docs, y = [docs[i] for i in keep], y[keep]
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(docs)
    X = X.astype(np.float32)  # every contender gets the same float32 CSR matrix
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    name = f"MR TF-IDF ({X.shape[1]} features, {X.nnz / X.shape[0]:.0f} nnz/row)"
    return name, X_train, y_train, X_test, y_test


def fashion_data(quick):
    try:
        fm = load_fashion_mnist()
    except FileNotFoundError as exc:
        print(f"  skipping the dense cases: {exc}")
        return None
    n_train = 500 if quick else 10_000
    X, y = fm.train.data[:n_train], fm.train.target[:n_train]
    X_test, y_test = fm.test.data, fm.test.target
    if quick:
        X_test, y_test = X_test[:500], y_test[:500]
    return f"Fashion-MNIST {n_train} x 784 dense", X, y, X_test, y_test


def _mib(mib):
    return "n/a" if mib is None else f"{mib:.0f}"


def _arch(hidden):
    return f"{len(hidden)}x{hidden[0]}" if len(set(hidden)) == 1 else str(hidden)


def training_and_inference(
    data, hidden, epochs, repeats, busy_repeats, busy, memory=True, fit_seconds=0.0
):
    """Rows of the training, inference and busy-machine sections for a case."""
    name, X, y, X_test, y_test = data
    case = f"{name}, {_arch(hidden)}"
    factories = make_models(hidden, epochs, X.shape[1], len(np.unique(y)))
    if torch.device(DEVICE).type == "cpu" and not bfloat16_instructions():
        del factories[OURS_BF16]  # (emulated bfloat16: slower than float32)
    for label in OUR_MODELS:  # warm-up (first-use costs), untimed
        if label in factories:
            factories[label](0).set_params(max_iter=1).fit(X[:300], y[:300])
    print(f"  {case}: training {', '.join(factories)} in turn ...", flush=True)
    seconds, models, runs = fits_timed(factories, X, y, repeats, fit_seconds)
    train = []
    for label, model in models.items():
        mib = peak_memory_mib(label, hidden, epochs, X, y) if memory else None
        accuracy = float(np.mean(model.predict(X_test) == y_test))
        sec = seconds[label]
        print(
            f"    {label}: {sec:.3f} s/epoch, {_mib(mib)} MiB, accuracy {accuracy:.4f}"
        )
        train.append(
            {"case": case, "model": label, "s_per_epoch": sec, "peak_mib": mib}
            | {"accuracy": accuracy, "runs": runs}
        )
    predictors = {label: m for label, m in models.items() if label != SKORCH}
    rows_s, lat = inference(predictors, X_test, repeats)
    infer = [
        {"case": case, "model": label, "rows_per_s": rows_s[label]}
        | {"latency_ms": lat[label]}
        for label in predictors
    ]
    loaded = []
    if busy:
        contenders = {label: factories[label] for label in predictors}
        with Busy(busy):
            busy_sec, busy_models, busy_runs = fits_timed(
                contenders, X, y, busy_repeats, fit_seconds
            )
            rounds = max(busy_repeats, 3)
            busy_rows_s, _ = inference(busy_models, X_test, rounds, latency=False)
        loaded = [
            {"case": case, "model": label, "s_per_epoch": busy_sec[label]}
            | {"runs": busy_runs}
            | {"rows_per_s": busy_rows_s[label], "idle_s_per_epoch": seconds[label]}
            | {"idle_rows_per_s": rows_s[label]}
            for label in predictors
        ]
    return train, infer, loaded


def inference(models, X, rounds, latency=True):
    """``predict_proba`` rows per second and one-row latency (ms) of each
    model, the models taking turns for ``rounds`` rounds (median of the
    rounds); latency is None when not asked for."""
    rows_s = take_turns(models, lambda label, _: throughput(models[label], X), rounds)
    if not latency:
        return rows_s, dict.fromkeys(models)
    lat = take_turns(models, lambda label, _: latency_ms(models[label], X), rounds)
    return rows_s, lat


def autoencoder_rows(data, epochs, quick):
    """Seconds per epoch of our autoencoder and of a plain skorch one."""
    from skorch import NeuralNet

    name, X, _, _, _ = data
    hidden = 16 if quick else 100

    class PlainAutoencoder(torch.nn.Module):
        def __init__(self, n_features, n_hidden):
            super().__init__()
            self.encoder = torch.nn.Linear(n_features, n_hidden)
            self.decoder = torch.nn.Linear(n_hidden, n_features)

        def forward(self, X):
            return self.decoder(torch.relu(self.encoder(X)))

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return X.shape[0]

        def __getitem__(self, i):
            return X[i : i + 1], 0

    def densify(batch):
        rows = torch.from_numpy(sp.vstack([row for row, _ in batch]).toarray())
        return rows, rows

    def timed(case, model, fit, epochs):
        start = time.perf_counter()
        fit()
        seconds = time.perf_counter() - start
        return {"case": case, "model": model, "s_per_epoch": seconds / epochs()}

    ours = DenoisingAutoencoderTransformer(
        (hidden,), max_iter=epochs, tol=0, n_iter_no_change=epochs + 1, random_state=0
    )
    plain = NeuralNet(
        PlainAutoencoder,
        module__n_features=X.shape[1],
        module__n_hidden=hidden,
        criterion=torch.nn.BCEWithLogitsLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=200,
        max_epochs=1,
        train_split=None,
        iterator_train__shuffle=True,
        iterator_train__collate_fn=densify,
        verbose=0,
    )
    default = DenoisingAutoencoderTransformer(random_state=0)
    case = f"{name}, 1x{hidden}"
    rows = [
        timed(
            case,
            "DenoisingAutoencoderTransformer",
            lambda: ours.fit(X),
            lambda: ours.n_iter_,
        ),
        timed(
            case,
            "skorch NeuralNet autoencoder (dense batches)",
            lambda: plain.fit(Rows(), None),
            lambda: 1,
        ),
        timed(
            f"{name}, defaults",
            "DenoisingAutoencoderTransformer() whole fit",
            lambda: default.fit(X),
            lambda: default.n_iter_,
        ),
    ]
    rows[-1]["epochs"] = default.n_iter_
    rows[-1]["fit_s"] = rows[-1]["s_per_epoch"] * default.n_iter_
    for row in rows:
        print(f"  {row['case']} / {row['model']}: {row['s_per_epoch']:.3f} s/epoch")
    return rows


# ---------------------------------------------------------------- report
def _ratios(rows, key, higher_is_better):
    by_case = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["model"]] = row
    for case_rows in by_case.values():
        base = case_rows.get(SKLEARN)
        for row in case_rows.values():
            if base is None:
                continue
            ratio = row[key] / base[key] if higher_is_better else base[key] / row[key]
            row[f"{key}_vs_sklearn"] = ratio
    return rows


# Targets, as ratios against MLPClassifier in the same run (higher is better):
# training by case (sparse text, dense 3x1000, dense 1x100), then every case.
TRAINING_TARGETS = {"sparse": 40.0, "3x1000": 3.0, "1x100": 1.5}
PREDICT_PROBA_TARGET, ONE_ROW_TARGET, BUSY_TARGET = 2.0, 1.0, 1.5


def targets(train, infer, loaded):
    """``(what, this run, target)`` for every target this run measured: a
    ratio against MLPClassifier (or, for the slowdown beside busy processes,
    MLPClassifier's slowdown over ours), higher is better. A case without
    an MLPClassifier row has no ratio, hence no target."""
    rows = []
    for r in train:
        kind = "sparse" if "TF-IDF" in r["case"] else r["case"].rsplit(", ", 1)[-1]
        target = TRAINING_TARGETS.get(kind)
        if r["model"] in OUR_MODELS and target and _vs(r, "s_per_epoch"):
            what = f"{r['case']}{OUR_MODELS[r['model']]}: training"
            rows.append((what, r["s_per_epoch_vs_sklearn"], target))
    for r in infer:
        if r["model"] in OUR_MODELS and _vs(r, "rows_per_s"):
            case = f"{r['case']}{OUR_MODELS[r['model']]}"
            what = f"{case}: predict_proba"
            rows.append((what, r["rows_per_s_vs_sklearn"], PREDICT_PROBA_TARGET))
            what = f"{case}: one-row predict"
            rows.append((what, r["latency_ms_vs_sklearn"], ONE_ROW_TARGET))
    theirs = {r["case"]: r for r in loaded if r["model"] == SKLEARN}
    for r in loaded:
        base = theirs.get(r["case"])
        if r["model"] not in OUR_MODELS or base is None:
            continue
        case = f"{r['case']}{OUR_MODELS[r['model']]}, busy"
        for label, key in (
            ("training", "s_per_epoch"),
            ("predict_proba", "rows_per_s"),
        ):
            rows.append((f"{case}: {label}", r[f"{key}_vs_sklearn"], BUSY_TARGET))
            what = f"{case}: {label} slowdown, MLPClassifier's over ours"
            rows.append((what, _slowdown(base, key) / _slowdown(r, key), 1.0))
    return rows


#: our contenders in the targets table, each with what its rows add to the case
OUR_MODELS = {OURS: "", OURS_BF16: ", precision='bfloat16'"}


def _vs(row, key):
    """Whether the row has its ratio against MLPClassifier."""
    return f"{key}_vs_sklearn" in row


def _slowdown(row, key):
    """How many times slower a busy-machine row ran than the same idle."""
    busy, idle = row[key], row[f"idle_{key}"]
    return busy / idle if key == "s_per_epoch" else idle / busy


def _numba_version():
    """Numba's version when the compiled row-wise Adam step loads, else why not."""
    from sk_rectifier.nn.optim import _compiled

    if _compiled() is None:
        return "not installed (the Adam step runs as PyTorch ops)"
    import numba

    return numba.__version__


def _more_runs(meta):
    fit_seconds = meta.get("fit_seconds")
    if not fit_seconds:
        return ""
    return (
        f", more where fits are short: as many as fill {fit_seconds:g} s, "
        f"{meta['max_rounds']} at most (column runs)"
    )


def to_markdown(sections, meta):
    train, infer, loaded, dae = sections
    lines = [
        "# Speed benchmark: RectifierMLPClassifier vs peers",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; {meta['machine']}; torch {meta['torch']}, "
        f"scikit-learn {meta['sklearn']}, skorch {meta['skorch']}, "
        f"sk_rectifier {meta['sk_rectifier']}; numba {meta.get('numba')}.  ",
        f"Medians over {meta['repeats']} runs ({meta['busy_repeats']} with busy "
        f"neighbours) of {meta['epochs']} epochs (Adam, lr 1e-3, batch 200, "
        f"same architecture){_more_runs(meta)}; `predict_proba`: the median "
        "call over 0.4 s, "
        "one-row `predict`: the median of 100 calls, each the median of "
        f"{meta['repeats']} rounds or more (3 with busy neighbours). The "
        "contenders take turns, run by run and round by round, so that a slow "
        "spell of the machine falls on all of them; the rounds end on a whole "
        "turn (every contender first as often as the others), so there may be "
        "more than asked for (column runs). Ratios are against MLPClassifier in this "
        f"run (higher is better for us). {OURS_BF16} runs its matrix "
        "products in bfloat16 (weights, optimizer state and outputs in "
        "float32); its accuracy is in the training table.",
        "",
        "## Training",
        "",
        "| case | model | s/epoch | runs | speed-up vs MLPClassifier "
        "| fit's peak MiB | accuracy |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in train:
        lines.append(
            f"| {r['case']} | {r['model']} | {r['s_per_epoch']:.3f} "
            f"| {r['runs']} "
            f"| {r.get('s_per_epoch_vs_sklearn', float('nan')):.1f}x "
            f"| {_mib(r['peak_mib'])} | {r['accuracy']:.4f} |"
        )
    lines += [
        "",
        "## Inference",
        "",
        "| case | model | predict_proba rows/s | vs MLPClassifier "
        "| one-row predict (ms) | vs MLPClassifier |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in infer:
        lines.append(
            f"| {r['case']} | {r['model']} | {r['rows_per_s']:,.0f} "
            f"| {r.get('rows_per_s_vs_sklearn', float('nan')):.2f}x "
            f"| {r['latency_ms']:.3f} "
            f"| {r.get('latency_ms_vs_sklearn', float('nan')):.2f}x |"
        )
    if loaded:
        lines += [
            "",
            f"## With {meta['busy']} busy-loop processes beside the run",
            "",
            "| case | model | s/epoch | runs | vs MLPClassifier "
            "| slowdown (busy/idle) "
            "| predict_proba rows/s | vs MLPClassifier | slowdown |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in loaded:
            lines.append(
                f"| {r['case']} | {r['model']} | {r['s_per_epoch']:.3f} "
                f"| {r['runs']} "
                f"| {r.get('s_per_epoch_vs_sklearn', float('nan')):.1f}x "
                f"| {_slowdown(r, 's_per_epoch'):.2f}x "
                f"| {r['rows_per_s']:,.0f} "
                f"| {r.get('rows_per_s_vs_sklearn', float('nan')):.2f}x "
                f"| {_slowdown(r, 'rows_per_s'):.2f}x |"
            )
    if dae:
        lines += [
            "",
            "## Autoencoder",
            "",
            "| case | model | s/epoch | notes |",
            "|---|---|---:|---|",
        ]
        for r in dae:
            note = (
                f"{r['epochs']} epochs, whole fit {r['fit_s']:.1f} s"
                if "fit_s" in r
                else ""
            )
            lines.append(
                f"| {r['case']} | {r['model']} | {r['s_per_epoch']:.3f} | {note} |"
            )
    lines += [
        "",
        "## Targets",
        "",
        "Each a ratio from the tables above, higher is better; a missed target "
        "shows how far this run got.",
        "",
        "| target | this run | target | met |",
        "|---|---:|---:|---|",
    ]
    for what, value, target in targets(train, infer, loaded):
        share = math.floor(100 * value / target)  # (99.7 % is not 100 %)
        met = "yes" if value >= target else f"no ({share}% of it)"
        lines.append(f"| {what} | {value:.2f}x | {target:g}x | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--epochs", type=int, default=3, help="epochs, sparse case")
    parser.add_argument(
        "--dense-epochs", type=int, default=2, help="epochs, dense cases"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure")
    parser.add_argument(
        "--busy-repeats", type=int, default=3, help="runs per busy-machine figure"
    )
    parser.add_argument(
        "--busy", type=int, default=2, help="busy-loop processes (0: skip)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument(
        "--fit-seconds",
        type=float,
        default=None,
        help=f"rounds of short fits go on until they fill this many seconds "
        f"(default {FIT_SECONDS:g}; 0 with --quick)",
    )
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the peak-memory fits (each needs a fresh interpreter)",
    )
    parser.add_argument(
        "--device", default="cpu", help="device of ours and plain skorch (cuda)"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "speed.md")
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    if args.fit_seconds is None:
        args.fit_seconds = 0.0 if args.quick else FIT_SECONDS
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    meta = {
        "command": "python benchmarks/bench_speed.py " + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "sk_rectifier": sk_rectifier.__version__,
        # the first layer's Adam step runs compiled when Numba is installed
        "numba": _numba_version(),
        "repeats": args.repeats,
        "busy_repeats": args.busy_repeats,
        "busy": args.busy,
        "fit_seconds": args.fit_seconds,
        # (take_turns never runs fewer rounds than asked for)
        "max_rounds": max(MAX_ROUNDS, args.repeats, args.busy_repeats),
        "epochs": f"{args.epochs} (sparse) / {args.dense_epochs} (dense)",
        "device": args.device,
    }
    train, infer, loaded = [], [], []
    print("sparse case")
    mr = mr_data(args.data_home, args.quick)
    cases = [(mr, (8,) if args.quick else (100,), args.epochs, args.busy)]
    fashion = fashion_data(args.quick)
    if fashion is not None:
        for hidden in [(16,)] if args.quick else [(1000, 1000, 1000), (100,)]:
            busy = args.busy if hidden == (100,) or args.quick else 0
            cases.append((fashion, hidden, args.dense_epochs, busy))
    for i, (data, hidden, epochs, busy) in enumerate(cases):
        if i == 1:
            print("dense cases")
        rows = training_and_inference(
            data,
            hidden,
            epochs,
            args.repeats,
            args.busy_repeats,
            busy,
            args.memory,
            args.fit_seconds,
        )
        for part, part_rows in zip((train, infer, loaded), rows):
            part += part_rows
    print("autoencoder")
    dae = autoencoder_rows(mr, 1 if args.quick else 2, args.quick)
    _ratios(train, "s_per_epoch", higher_is_better=False)
    _ratios(infer, "rows_per_s", higher_is_better=True)
    _ratios(infer, "latency_ms", higher_is_better=False)
    _ratios(loaded, "s_per_epoch", higher_is_better=False)
    _ratios(loaded, "rows_per_s", higher_is_better=True)
    sections = (train, infer, loaded, dae)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_markdown(sections, meta))
    args.output.with_suffix(".json").write_text(
        json.dumps(
            {"meta": meta, "training": train, "inference": infer}
            | {"busy": loaded, "autoencoder": dae},
            indent=2,
        )
    )
    print(f"wrote {args.output}")
    return train


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory-child"]:
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        _memory_child(*sys.argv[2:4])
    else:
        main()
