"""LogCountRatioScaler: scikit-learn's checks, the formula, unlabeled samples,
sparse input, errors."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.preprocessing import LogCountRatioScaler


@parametrize_with_checks([LogCountRatioScaler()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=60, d=12, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.poisson(0.5, size=(n, d)).astype(float)
    y = rng.randint(0, 3, n)
    return X, y


def test_binary_scale_is_the_absolute_log_count_ratio():
    X, y = _data()
    y = y % 2
    alpha = 0.5
    p = X[y == 1].sum(0) + alpha
    q = X[y == 0].sum(0) + alpha
    expected = np.abs(np.log((p / p.sum()) / (q / q.sum())))
    scaler = LogCountRatioScaler(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(scaler.scale_, expected)
    np.testing.assert_allclose(scaler.transform(X), X * expected)
    flipped = LogCountRatioScaler(alpha=alpha).fit(X, 1 - y)
    np.testing.assert_allclose(flipped.scale_, expected)


def test_multiclass_scale_is_the_largest_one_vs_rest_ratio():
    X, y = _data()
    ratios = []
    for c in range(3):
        p, q = X[y == c].sum(0) + 1, X[y != c].sum(0) + 1
        ratios.append(np.abs(np.log((p / p.sum()) / (q / q.sum()))))
    scaler = LogCountRatioScaler().fit(X, np.array(["a", "b", "c"])[y])
    np.testing.assert_allclose(scaler.scale_, np.max(ratios, axis=0))
    assert scaler.classes_.tolist() == ["a", "b", "c"]


def test_unlabeled_samples_are_ignored():
    X, y = _data()
    extra = np.random.RandomState(1).poisson(3.0, size=(40, X.shape[1]))
    semi = LogCountRatioScaler().fit(np.vstack([X, extra]), np.r_[y, [-1] * 40])
    np.testing.assert_array_equal(semi.scale_, LogCountRatioScaler().fit(X, y).scale_)
    assert -1 not in semi.classes_


def test_sparse_input_stays_sparse_with_the_same_non_zeros():
    X, y = _data()
    X32 = sp.csc_matrix(X, dtype=np.float32)
    out = LogCountRatioScaler().fit(X32, y).transform(X32)
    assert sp.issparse(out) and out.format == "csr" and out.dtype == np.float32
    dense = LogCountRatioScaler().fit(X, y).transform(X)
    np.testing.assert_allclose(out.toarray(), dense, rtol=1e-6)
    assert out.nnz <= np.count_nonzero(X)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (-np.ones((4, 2)), [0, 1, 0, 1], "Negative values"),
        (np.ones((4, 2)), [1, 1, 1, 1], "at least 2 classes"),
        (np.ones((4, 2)), [1, -1, -1, -1], "at least 2 classes"),
        (np.ones((4, 2)), [0.5, 1.5, 0.5, 1.5], "Unknown label type"),
    ],
)
def test_bad_input_raises(X, y, match):
    with pytest.raises(ValueError, match=match):
        LogCountRatioScaler().fit(X, np.asarray(y))


def test_in_a_semi_supervised_pipeline_with_pretraining():
    X, y = _data(n=120)
    y = y % 2
    y_semi = np.where(np.arange(len(y)) < 40, y, -1)
    pipe = make_pipeline(
        LogCountRatioScaler(),
        RectifierMLPClassifier(
            (8,),
            max_iter=3,
            random_state=0,
            pretraining=DenoisingAutoencoderTransformer((8,), max_iter=2),
        ),
    ).fit(sp.csr_matrix(X), y_semi)
    assert set(pipe.predict(X)) <= {0, 1}
    assert pipe[-1].pretraining_.n_features_in_ == X.shape[1]
