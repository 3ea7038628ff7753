"""Property tests: valid input of random shapes, densities, dtypes and label
sets never crashes and gives well-formed output; invalid input always raises
one of the documented exceptions."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LABEL_SETS = [
    [0, 1],
    [-3, 7, 11],
    ["neg", "pos"],
    ["a", "b", "c", "d"],
    [False, True],
    [1.0, 2.0, 4.0],
]


@st.composite
def datasets(draw):
    n_samples = draw(st.integers(4, 40))
    n_features = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    if draw(st.booleans()):
        density = draw(st.floats(0.05, 1.0))
        X[rng.rand(*X.shape) > density] = 0
        X = draw(st.sampled_from([sp.csr_matrix, sp.csc_matrix, sp.coo_matrix]))(X)
    X = X.astype(draw(st.sampled_from([np.float32, np.float64])))
    labels = np.array(draw(st.sampled_from(LABEL_SETS)), dtype=object)
    codes = rng.permutation(np.arange(n_samples) % len(labels))
    y = np.array(labels[codes].tolist())
    return X, y


def _fit(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args)


@SETTINGS
@given(data=datasets(), hidden=st.sampled_from([(4,), (6, 3)]))
def test_classifier_output_is_well_formed(data, hidden):
    X, y = data
    clf = _fit(RectifierMLPClassifier(hidden_layer_sizes=hidden, max_iter=2), X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], len(np.unique(y)))
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert set(clf.predict(X).tolist()) <= set(clf.classes_.tolist())
    assert ((clf.activation_sparsity_ >= 0) & (clf.activation_sparsity_ <= 1)).all()


@SETTINGS
@given(
    data=datasets(),
    corruption=st.sampled_from(["masking", "salt_and_pepper", "gaussian"]),
)
def test_autoencoder_output_is_well_formed(data, corruption):
    X, _ = data
    dae = _fit(
        DenoisingAutoencoderTransformer(
            hidden_layer_sizes=(5, 3), corruption=corruption, max_iter=2
        ),
        X,
    )
    codes = dae.transform(X)
    assert codes.shape == (X.shape[0], 3) and np.isfinite(codes).all()
    assert dae.inverse_transform(codes).shape == X.shape
    assert np.isfinite(dae.score(X))


ERRORS = (ValueError, TypeError, InvalidParameterError)


@SETTINGS
@given(
    data=datasets(),
    fault=st.sampled_from(["nan", "inf", "-inf", "width", "rows", "ndim"]),
    where=st.integers(0, 10_000),
)
def test_invalid_input_always_raises_a_documented_error(data, fault, where):
    X, y = data
    X = sp.csr_matrix(X) if sp.issparse(X) else X
    if fault in ("nan", "inf", "-inf"):
        X = X.copy()
        value = float(fault)
        if sp.issparse(X):
            if X.nnz == 0:
                X = sp.csr_matrix(np.where(np.arange(X.shape[1]) == 0, value, 0)[None])
                y = y[:1]
            else:
                X.data[where % X.nnz] = value
        else:
            X.flat[where % X.size] = value
        for est in (
            RectifierMLPClassifier(max_iter=1),
            DenoisingAutoencoderTransformer(max_iter=1),
        ):
            with pytest.raises(ERRORS):
                est.fit(X, y)
        return
    clf = _fit(RectifierMLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    if fault == "width":
        bad = sp.hstack([X, X[:, :1]]) if sp.issparse(X) else np.c_[X, X[:, :1]]
        with pytest.raises(ERRORS):
            clf.predict(bad)
    elif fault == "rows":
        with pytest.raises(ERRORS):
            clf.fit(X, y[:-1])
    else:
        dense = X.toarray() if sp.issparse(X) else X
        with pytest.raises(ERRORS):
            clf.predict(dense[..., None])
