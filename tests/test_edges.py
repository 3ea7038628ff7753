"""Correct at the input edges: float32 range, no hidden layer, label types,
packaging and command-line help."""

import importlib.resources
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)
from sk_rectifier.cli import build_parser

ESTIMATORS = {
    "classifier": lambda: RectifierMLPClassifier((4,), max_iter=20, random_state=0),
    "regressor": lambda: RectifierMLPRegressor((4,), max_iter=20, random_state=0),
    "autoencoder": lambda: DenoisingAutoencoderTransformer(
        (4,), max_iter=3, random_state=0
    ),
}


@pytest.fixture(scope="module")
def data():
    X = np.random.RandomState(0).rand(60, 3)
    return X, np.arange(60) % 2


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _methods(est):
    names = ["predict", "predict_proba", "predict_log_proba", "transform", "score"]
    return [n for n in names if hasattr(est, n)] + ["hidden_activations"]


def _call(est, name, X, y):
    return getattr(est, name)(X, y) if name == "score" else getattr(est, name)(X)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_values_beyond_float32_are_refused_naming_the_column(name, sparse, data):
    X, y = data
    est = _fit(ESTIMATORS[name](), X, y)
    before = est.hidden_activations(X)
    X_big = X[:4].copy()
    X_big[1, 2] = 1e39 if name != "regressor" else -1e39
    X_big = sp.csr_matrix(X_big) if sparse else X_big
    for method in _methods(est):
        with pytest.raises(ValueError, match="too large for float32 in column 2"):
            _call(est, method, X_big, y[:4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy cast warning
        with pytest.raises(ValueError, match="too large for float32 in column 2"):
            est.fit(X_big, y[:4])
    np.testing.assert_array_equal(est.hidden_activations(X), before)


def _inputs(X):
    """Inputs of every kind ``predict`` meets: those that pass as they are,
    and those ``validate_data`` must convert or refuse."""
    unsorted = sp.csr_matrix(X[:5])
    unsorted.indices = unsorted.indices[::-1].copy()  # one row's worth reversed
    unsorted.data = unsorted.data[::-1].copy()
    read_only = X[:5].copy()
    read_only.flags.writeable = False
    nan, inf = X[:5].copy(), X[:5].copy()
    nan[1, 1], inf[2, 0] = np.nan, np.inf
    return {
        "float64": X[:5],
        "float32": X[:5].astype(np.float32),
        "one row": X[3:4],
        "Fortran order": np.asfortranarray(X[:5]),
        "read-only": read_only,
        "a column short": np.ascontiguousarray(X[:5, :-1]),
        "CSR a column short": sp.csr_matrix(X[:5, :-1]),
        "no rows": X[:0],
        "1-d": X[0],
        "list": X[:5].tolist(),
        "integers": (10 * X[:5]).astype(int),
        "CSR": sp.csr_matrix(X[:5]),
        "CSR float32": sp.csr_matrix(X[:5], dtype=np.float32),
        "CSR array": sp.csr_array(X[:5]),
        "1-d CSR array": sp.csr_array(X[0]),
        "CSR unsorted": unsorted,
        "CSC": sp.csc_matrix(X[:5]),
        "NaN": nan,
        "infinity": inf,
        "CSR NaN": sp.csr_matrix(nan),
        "beyond float32": np.full((5, X.shape[1]), 3e38),
        "sum beyond float64": np.full((5, X.shape[1]), 1e308),
    }


def _outcome(est, method, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = _call(est, method, X, y[: np.shape(X)[0]])
        except Exception as exc:  # noqa: BLE001 - compared as a value
            out = (type(exc), str(exc))
    return out, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("frame", [False, True], ids=["array", "dataframe"])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_inputs_that_skip_validate_data_give_what_it_would(
    name, frame, data, monkeypatch
):
    """Inputs already valid skip ``validate_data``'s type inspection; every
    input gives the same outputs, errors and warnings either way."""
    from sk_rectifier import _mixin

    X, y = data
    fit_X = X
    if frame:
        pd = pytest.importorskip("pandas")
        fit_X = pd.DataFrame(X, columns=["a", "b", "c"])
    est = _fit(ESTIMATORS[name](), fit_X, y)
    skipped = set()
    checked = _mixin._valid_as_is

    def spy(estimator, X_in):
        if checked(estimator, X_in):
            skipped.add(kind)
            return True
        return False

    inputs = _inputs(X)
    for kind, X_in in inputs.items():
        for method in _methods(est):
            monkeypatch.setattr(_mixin, "_valid_as_is", spy)
            fast, fast_warnings = _outcome(est, method, X_in, y)
            monkeypatch.setattr(_mixin, "_valid_as_is", lambda est, X: False)
            slow, slow_warnings = _outcome(est, method, X_in, y)
            assert fast_warnings == slow_warnings, (kind, method)
            if isinstance(slow, tuple):
                assert fast == slow, (kind, method)
            else:
                np.testing.assert_array_equal(fast, slow, err_msg=f"{kind} {method}")
    # the check lets the plain inputs through, and only them
    plain = {"float64", "float32", "one row", "read-only", "CSR", "CSR float32"}
    plain |= {"CSR array", "CSR unsorted", "beyond float32"}
    if inputs["1-d CSR array"].ndim == 2:  # SciPy < 1.14 makes it one row
        plain.add("1-d CSR array")
    assert skipped == (set() if frame else plain)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_outputs_are_never_nan(name, data):
    X, y = data
    est = _fit(ESTIMATORS[name](), X, y)
    X_large = X[:4].copy()
    X_large[0, 0], X_large[1, 0], X_large[2, 1] = 3e38, -3e38, 3.4e38
    for method in _methods(est):
        try:
            out = _call(est, method, X_large, y[:4])
        except ValueError as exc:
            assert "overflowed float32" in str(exc)
            continue
        if method != "predict" or name != "classifier":
            assert np.all(np.isfinite(out)), method


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(
    "ours, theirs",
    [(RectifierMLPClassifier, MLPClassifier), (RectifierMLPRegressor, MLPRegressor)],
)
def test_no_hidden_layer_is_a_linear_model(ours, theirs, sparse, data):
    X, y = data
    X_fit = sp.csr_matrix(X) if sparse else X
    est = _fit(ours(hidden_layer_sizes=(), max_iter=30, random_state=0), X_fit, y)
    peer = _fit(theirs(hidden_layer_sizes=(), max_iter=30, random_state=0), X, y)
    # one weight matrix from the input to the output (a binary classifier has
    # two softmax outputs here, one logistic output in scikit-learn)
    assert len(est.coefs_) == len(peer.coefs_) == 1
    assert est.coefs_[0].shape[0] == peer.coefs_[0].shape[0] == X.shape[1]
    assert len(est.intercepts_) == len(peer.intercepts_) == 1
    assert est.predict(X_fit).shape == peer.predict(X).shape
    assert est.activation_sparsity_.shape == (0,)
    with pytest.raises(ValueError, match="no hidden layer"):
        est.hidden_activations(X_fit)
    from sk_rectifier.inspection import activation_sparsity, dead_units

    assert activation_sparsity(est, X_fit).shape == (0,)
    assert dead_units(est, X_fit) == []


def test_no_hidden_layer_learns_a_linear_problem():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) > 0).astype(int)
    clf = _fit(
        RectifierMLPClassifier((), learning_rate_init=0.05, random_state=0), X, y
    )
    assert clf.score(X, y) > 0.95


def test_the_autoencoder_needs_a_hidden_layer(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(\) is not allowed"):
        DenoisingAutoencoderTransformer(()).fit(X)


@pytest.mark.parametrize(
    "labels, types",
    [
        ([1, "a"], "['number', 'str']"),
        (["a", None], "['NoneType', 'str']"),
        ([1.5, (1, 2)], "['number', 'tuple']"),
    ],
)
def test_mixed_label_types_are_one_clear_error(labels, types, data):
    X, _ = data
    y = np.array(labels * 30, dtype=object)
    clf = RectifierMLPClassifier((4,), max_iter=2)
    with pytest.raises(ValueError, match=re.escape(f"y mixes labels of types {types}")):
        clf.fit(X, y)


@pytest.mark.parametrize(
    "labels",
    [["neg", "pos"], [0, 1], [-1.0, 2.0], [True, False], [np.int64(3), 7]],
)
def test_labels_of_one_type_are_accepted(labels, data):
    X, _ = data
    y = np.array(labels * 30, dtype=object)
    clf = _fit(RectifierMLPClassifier((4,), max_iter=2, random_state=0), X, y)
    assert set(clf.predict(X)) <= set(labels)
    assert sorted(clf.classes_.tolist()) == sorted(set(labels))


def test_the_package_is_marked_as_typed():
    assert importlib.resources.files("sk_rectifier").joinpath("py.typed").is_file()


def test_every_command_line_option_has_help():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.choices and a.dest == "command"]
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings}"


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_fitting_never_writes_to_the_callers_X(name, sparse, data):
    """Float32 input is trained on as it is (no copy): its values, and a
    read-only array, come through every way of fitting untouched."""
    X, y = data
    X = X.astype(np.float32)
    X = sp.csr_matrix(X) if sparse else X
    before = X.copy()
    est = ESTIMATORS[name]().set_params(early_stopping=True, validation_fraction=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est.partial_fit(X, y)
        if not sparse:
            X.flags.writeable = False  # (a read-only array trains as well)
            est.fit(X, y)
    after = X.toarray() if sparse else X
    np.testing.assert_array_equal(after, before.toarray() if sparse else before)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_large_X_is_checked_for_finite_values_as_a_small_one(bad, data):
    """Inputs of a million values and more are summed by torch to check that
    they are finite: a NaN or an infinity in the last value is refused as in
    a small input, and finite values whose float32 sum overflows still pass
    (through ``validate_data``), with the same outputs as a row at a time."""
    X, y = data
    clf = _fit(RectifierMLPClassifier((4,), max_iter=5, random_state=0), X, y)
    big = np.tile(X.astype(np.float32), ((1 << 20) // X.size + 1, 1))
    assert big.size >= 1 << 20
    expected = clf.predict_proba(big[7:14])
    big[-1, -1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        clf.predict_proba(big)
    big[-1, -1] = 0.0
    big[:7] = np.float32(3e38)  # finite values, an infinite float32 sum
    assert not np.isfinite(big.sum(dtype=np.float32))
    np.testing.assert_allclose(clf.predict_proba(big)[7:14], expected, rtol=1e-6)
