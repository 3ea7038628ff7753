import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_regression

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPRegressor


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=300, n_features=10, noise=1.0, random_state=0)
    return X, (y - y.mean()) / y.std()


def make_reg(**kw):
    params = dict(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01)
    return RectifierMLPRegressor(**{**params, "random_state": 0, **kw})


def test_fits_and_predicts(regression):
    X, y = regression
    reg = make_reg().fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg.predict(X).shape == (300,)
    assert reg.n_outputs_ == 1 and reg.activation_sparsity_.shape == (1,)


def test_multi_output_and_sparse(regression):
    X, y = regression
    Y = np.c_[y, -y]
    reg = make_reg().fit(sp.csr_matrix(X), Y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, Y) > 0.8


def test_early_stopping_uses_r2(regression):
    X, y = regression
    reg = make_reg(early_stopping=True, max_iter=300).fit(X, y)
    assert reg.best_validation_score_ == max(reg.validation_scores_) > 0.8


def test_pretraining(regression):
    X, y = regression
    dae = DenoisingAutoencoderTransformer((32,), max_iter=5, random_state=0).fit(X)
    reg = make_reg(pretraining=dae, max_iter=1, learning_rate_init=1e-9, alpha=0)
    reg.fit(X, y)
    np.testing.assert_allclose(reg.coefs_[0], dae.coefs_[0], atol=1e-6)


def test_sst5_rating_regression(data_home):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sk_rectifier.datasets import load_sst5

    sst = load_sst5(data_home)
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    X = tfidf.fit_transform(sst.train.data[:3000])
    reg = make_reg(
        hidden_layer_sizes=(64,), early_stopping=True, learning_rate_init=1e-3
    )
    reg.fit(X, sst.train.target[:3000].astype(float))
    pred = reg.predict(tfidf.transform(sst.test.data))
    rmse = np.sqrt(np.mean((pred - sst.test.target) ** 2))
    baseline = np.sqrt(np.mean((sst.train.target.mean() - sst.test.target) ** 2))
    assert rmse < baseline
