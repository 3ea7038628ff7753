"""Reliability: bad input, divergence, interruption, safe persistence,
determinism, concurrency, memory."""

import contextlib
import gc
import io
import pickle
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import sk_rectifier._engine as engine
import sk_rectifier.nn.optim as optim
from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)
from sk_rectifier.persistence import load, save

ERRORS = (ValueError, TypeError, InvalidParameterError, NotFittedError)


def classifier(**kw):
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    return RectifierMLPClassifier(**{**params, **kw})


def autoencoder(**kw):
    params = dict(hidden_layer_sizes=(8, 4), max_iter=3, random_state=0)
    return DenoisingAutoencoderTransformer(**{**params, **kw})


def pretrained(**kw):
    return classifier(
        hidden_layer_sizes=(8, 4), pretraining=autoencoder(max_iter=2), **kw
    )


def regressor(**kw):
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    return RectifierMLPRegressor(**{**params, **kw})


FACTORIES = {
    "classifier": classifier,
    "autoencoder": autoencoder,
    "pretrained": pretrained,
    "regressor": regressor,
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 5)
    y = np.arange(60) % 3
    return X, y


def _with(X, i, j, value):
    X = X.copy()
    X[i, j] = value
    return X


def _sparse_with(X, value):
    S = sp.csr_matrix(X)
    S.data[3] = value
    return S


# (case, X-maker, y-maker, message regex); makers take (X, y)
BAD_FIT_INPUT = [
    ("nan dense", lambda X, y: _with(X, 0, 0, np.nan), None, "Input X contains NaN"),
    ("inf dense", lambda X, y: _with(X, 1, 2, np.inf), None, "Input X contains inf"),
    ("nan sparse", lambda X, y: _sparse_with(X, np.nan), None, "Input X contains NaN"),
    ("inf sparse", lambda X, y: _sparse_with(X, -np.inf), None, "Input X contains inf"),
    ("empty X", lambda X, y: X[:0], lambda X, y: y[:0], "0 sample"),
    ("1-D X", lambda X, y: X[:, 0], None, "Expected 2D array"),
    ("3-D X", lambda X, y: X[:, :, None], None, "dim 3"),
    ("strings in X", lambda X, y: np.full(X.shape, "a"), None, "could not convert"),
    ("objects in X", lambda X, y: np.array([[object()] * 5] * 60), None, "float"),
    ("no features", lambda X, y: X[:, :0], None, "0 feature"),
]
BAD_LABELS = [
    ("one class", lambda X, y: np.zeros(len(y)), "at least 2 classes"),
    ("one sample", lambda X, y: y[:1], "inconsistent numbers of samples"),
    ("nan in y", lambda X, y: np.where(y == 0, np.nan, y), "Input y contains NaN"),
    ("wrong length", lambda X, y: y[:-1], "inconsistent numbers of samples"),
    ("continuous y", lambda X, y: y + 0.5, "Unknown label type"),
    ("2-D y", lambda X, y: np.c_[y, y], "must be a multi-label indicator|1d"),
]


def _fitted(name, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return FACTORIES[name]().fit(X, y)


def _output(est, X):
    if isinstance(est, RectifierMLPClassifier):
        return est.predict_proba(X)
    if isinstance(est, RectifierMLPRegressor):
        return est.predict(X)
    return est.transform(X)


@pytest.mark.parametrize("name", list(FACTORIES))
@pytest.mark.parametrize(
    "case, make_X, make_y, match",
    BAD_FIT_INPUT,
    ids=lambda c: c if isinstance(c, str) else "",
)
def test_bad_X_raises_and_keeps_the_model(name, case, make_X, make_y, match, data):
    X, y = data
    est = _fitted(name, data)
    before = _output(est, X)
    bad_y = y if make_y is None else make_y(X, y)
    with pytest.raises(ERRORS, match=match):
        est.fit(make_X(X, y), bad_y)
    np.testing.assert_array_equal(_output(est, X), before)


@pytest.mark.parametrize("name", ["classifier", "pretrained"])
@pytest.mark.parametrize(
    "case, make_y, match", BAD_LABELS, ids=lambda c: c if isinstance(c, str) else ""
)
def test_bad_y_raises_and_keeps_the_model(name, case, make_y, match, data):
    X, y = data
    est = _fitted(name, data)
    before = est.predict_proba(X)
    with pytest.raises(ERRORS, match=match):
        est.fit(X, make_y(X, y))
    np.testing.assert_array_equal(est.predict_proba(X), before)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_wrong_width_and_unfitted(name, data):
    X, _ = data
    with pytest.raises(NotFittedError):
        _output(FACTORIES[name](), X)
    est = _fitted(name, data)
    with pytest.raises(ValueError, match="X has 4 features"):
        _output(est, X[:, :4])
    with pytest.raises(ValueError, match="X has 6 features"):
        _output(est, np.c_[X, X[:, 0]])


BAD_PARAMS = [
    ({"hidden_layer_sizes": (0,)}, ValueError, "hidden_layer_sizes"),
    ({"hidden_layer_sizes": "big"}, ValueError, "hidden_layer_sizes"),
    ({"activation": "sigmoid"}, InvalidParameterError, "'activation' parameter"),
    ({"activation_l1": -1}, InvalidParameterError, "'activation_l1' parameter"),
    ({"alpha": "none"}, InvalidParameterError, "'alpha' parameter"),
    ({"learning_rate_init": 0}, InvalidParameterError, "'learning_rate_init'"),
    ({"batch_size": 0}, InvalidParameterError, "'batch_size' parameter"),
    ({"max_iter": 1.5}, InvalidParameterError, "'max_iter' parameter"),
    ({"validation_fraction": 1.0}, InvalidParameterError, "'validation_fraction'"),
    ({"solver": "newton-cg"}, InvalidParameterError, "'solver' parameter"),
    ({"device": "gpu"}, ValueError, "'device' parameter"),
    ({"device": 3}, InvalidParameterError, "'device' parameter"),
]


@pytest.mark.parametrize("name", list(FACTORIES))
@pytest.mark.parametrize("params, error, match", BAD_PARAMS)
def test_invalid_parameters(name, params, error, match, data):
    X, y = data
    est = _fitted(name, data)
    before = _output(est, X)
    with pytest.raises(error, match=match):
        est.set_params(**params).fit(X, y)
    np.testing.assert_array_equal(_output(est, X), before)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"corruption_level": -0.1}, "'corruption_level' parameter|corruption_level"),
        ({"corruption_level": 1.5}, r"corruption_level must be in \[0, 1\]"),
        ({"corruption_level": [0.1, 0.2, 0.3]}, "one value per layer"),
        ({"corruption": "dropout"}, "'corruption' parameter"),
        ({"reconstruction": "mse"}, "'reconstruction' parameter"),
    ],
)
def test_invalid_autoencoder_parameters(params, match, data):
    X, _ = data
    with pytest.raises(ERRORS, match=match):
        autoencoder(**params).fit(X)


def test_minus_one_labels(data):
    X, y = data
    y = np.where(y == 0, -1, y)
    # without pre-training -1 is an ordinary class
    assert -1 in classifier().fit(X, y).classes_
    # with it, -1 marks unlabeled samples
    assert -1 not in pretrained().fit(X, y).classes_
    with pytest.raises(ValueError, match="no labeled sample"):
        pretrained().fit(X, np.full(len(y), -1))
    with pytest.raises(ValueError, match="cannot be a class label"):
        pretrained().partial_fit(X, y, classes=[-1, 1, 2])


# ---------------------------------------------------------------- faults
def test_divergence_in_first_epoch_raises_and_keeps_the_model(data):
    X, y = data
    est = _fitted("classifier", data)
    before = est.predict_proba(X)
    diverging = dict(
        solver="sgd", learning_rate_init=1e3, activation="identity", batch_size=10
    )
    est.set_params(**diverging)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X * 1e6, y)
    np.testing.assert_array_equal(est.predict_proba(X), before)
    with pytest.raises(ValueError, match="diverged"):
        autoencoder(**diverging).fit(X * 1e6)


@pytest.mark.parametrize("huge_pages", [False, True])
def test_divergence_later_keeps_the_last_finite_epoch(data, huge_pages, monkeypatch):
    X, y = data
    if huge_pages:  # every table, and so the weights kept, in huge-page memory
        monkeypatch.setattr(optim, "HUGE_TABLE", 1)
    est = classifier(
        solver="sgd", activation="identity", momentum=0.99, warm_start=True, max_iter=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    before = est.predict_proba(X)
    with pytest.warns(ConvergenceWarning, match="diverged.*weights of epoch 3"):
        est.set_params(learning_rate_init=1e3, batch_size=10).fit(X * 1e6, y)
    assert est.n_iter_ == 3
    after = est.predict_proba(X)
    assert np.isfinite(after).all()
    np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("name", ["classifier", "autoencoder"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fits_on_reused_table_memory_match_fits_on_fresh(
    data, name, sparse, table_cache, monkeypatch
):
    """A fit whose weights, Adam moments and snapshots reuse the memory of a
    freed fit's tables (zeroed again) gives the same model as on fresh
    memory."""
    X, y = data
    X = sp.csr_matrix(X) if sparse else X
    cached, reused = optim._cached, []
    monkeypatch.setattr(
        optim, "_cached", lambda n: reused.append(cached(n)) or reused[-1]
    )

    def outputs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = FACTORIES[name](max_iter=3).fit(X, y)
        return est.transform(X) if name == "autoencoder" else est.predict_proba(X)

    fresh = outputs()  # (the model is gone when outputs returns)
    gc.collect()
    assert table_cache  # its tables' memory
    reused.clear()
    again = outputs()
    assert sum(memory is not None for memory in reused) >= 3  # weight, moments
    np.testing.assert_array_equal(again, fresh)


def _interrupt_after(monkeypatch, n_steps):
    calls = {"n": 0}
    step = engine._Net.train_step_single

    def interrupted(self, batch, **kw):
        calls["n"] += 1
        if calls["n"] > n_steps:
            raise KeyboardInterrupt
        return step(self, batch, **kw)

    monkeypatch.setattr(engine._Net, "train_step_single", interrupted)


def test_keyboard_interrupt_keeps_the_last_completed_epoch(data, monkeypatch):
    X, y = data
    kw = dict(batch_size=20, max_iter=10, tol=0)  # 3 steps per epoch
    reference = classifier(max_iter=2, batch_size=20, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X, y)
    with monkeypatch.context() as m:
        _interrupt_after(m, 7)  # in the middle of the 3rd epoch
        est = classifier(warm_start=True, **kw)
        with pytest.warns(UserWarning, match="interrupted during epoch 3"):
            est.fit(X, y)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    np.testing.assert_array_equal(est.predict_proba(X), reference.predict_proba(X))
    est.set_params(max_iter=3).fit(X, y)  # warm_start resumes
    assert est.n_iter_ == 5


# ----------------------------------------------------------- persistence
@pytest.mark.parametrize("name", list(FACTORIES))
@pytest.mark.parametrize("sparse", [False, True])
def test_safe_format_roundtrip(name, sparse, data, tmp_path):
    X, y = data
    X = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = y.astype(float) if name == "regressor" else np.array(list("abc"))[y]
        est = FACTORIES[name]().fit(X, labels)
    path = tmp_path / "model.safetensors"
    save(est, path)
    loaded = load(path, device="cpu")
    assert type(loaded) is type(est)
    assert (
        loaded.get_params()["hidden_layer_sizes"]
        == est.get_params()["hidden_layer_sizes"]
    )
    np.testing.assert_array_equal(_output(loaded, X), _output(est, X))
    if name in ("classifier", "pretrained"):
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        assert loaded.classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(est)).__class__.__name__, type(est).__name__
    )


# ------------------------------------------------ determinism, concurrency
SCRIPT = textwrap.dedent(
    """
    import hashlib, sys, warnings
    import numpy as np, scipy.sparse as sp
    warnings.simplefilter("ignore")
    from sk_rectifier import RectifierMLPClassifier
    rng = np.random.RandomState(0)
    X = sp.random(300, 2000, density=0.01, format="csr", random_state=rng)
    y = rng.randint(0, 3, 300)
    clf = RectifierMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, dropout=0.1,
                                 random_state=0, device="cpu").fit(X, y)
    print(hashlib.sha256(clf.predict_proba(X).tobytes()).hexdigest())
    """
)


def test_bitwise_identical_across_processes():
    # two fresh interpreters and this one, side by side
    children = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(SCRIPT, {})
    runs = {out.getvalue()}
    for child in children:
        runs.add(child.communicate()[0])
        assert child.returncode == 0
    assert len(runs) == 1 and len(out.getvalue()) == 65, runs


def test_concurrent_predict_matches_serial(data):
    X, _ = data
    X = np.tile(X, (40, 1))
    est = _fitted("pretrained", data)
    serial = est.predict_proba(X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: est.predict_proba(X), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, serial)


# ------------------------------------------------------------------ memory
MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, warnings
    import numpy as np, scipy.sparse as sp
    warnings.simplefilter("ignore")
    from sk_rectifier import {cls}
    rng = np.random.RandomState(0)
    n, d, nnz = 2000, 1_000_000, 50
    cols = rng.randint(0, d, n * nnz)
    X = sp.csr_matrix((rng.rand(n * nnz), cols, np.arange(0, n * nnz + 1, nnz)),
                      shape=(n, d))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    est = {cls}(hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
    labels = [rng.randint(0, 2, n)] if "{cls}" == "RectifierMLPClassifier" else []
    est.fit(X, *labels)
    est.transform(X) if hasattr(est, "transform") else est.predict(X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((peak - baseline) // 1024)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "cls", ["RectifierMLPClassifier", "DenoisingAutoencoderTransformer"]
)
def test_million_column_sparse_fit_stays_small(cls, fresh_python):
    # A dense batch of 200 x 1,000,000 float32 alone would take 800 MB; the
    # weights (1e6 x 8 float32, with Adam's moments and the epoch snapshot)
    # about 130 MB; the measured growth is about 410 MB for the autoencoder.
    growth_mb = int(fresh_python(MEMORY_SCRIPT.format(cls=cls))[-1])
    assert growth_mb < 700, f"peak RSS grew by {growth_mb} MB during fit"


def test_keyboard_interrupt_in_an_autoencoder_keeps_the_trained_layers(
    data, monkeypatch
):
    X, _ = data
    _interrupt_after(monkeypatch, 4)  # layer 1 runs 3 epochs of 1 step
    with pytest.warns(UserWarning, match="interrupted in layer 2"):
        dae = autoencoder(hidden_layer_sizes=(8, 4, 2), max_iter=3, tol=0).fit(X)
    assert dae.n_iter_per_layer_ == [3, 1]
    assert dae.transform(X).shape == (60, 4)
    assert np.isfinite(dae.transform(X)).all()


@pytest.mark.parametrize(
    "make_y, match",
    [
        (lambda y: np.where(y == 0, np.nan, y), "Input y contains NaN"),
        (lambda y: y[:-1], "inconsistent numbers of samples"),
        (lambda y: np.array(["a", "b", "c"])[y], "could not convert|numeric"),
    ],
)
def test_bad_regression_targets_keep_the_model(make_y, match, data):
    X, y = data
    est = _fitted("regressor", data)
    before = est.predict(X)
    with pytest.raises(ERRORS, match=match):
        est.fit(X, make_y(y))
    np.testing.assert_array_equal(est.predict(X), before)
