import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier


def make_dae(**kwargs):
    params = dict(hidden_layer_sizes=(32, 16), max_iter=15, random_state=0)
    params.update(kwargs)
    return DenoisingAutoencoderTransformer(**params)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.fixture(scope="module")
def fitted_dae(digits):
    X, _ = digits
    return make_dae(learning_rate_init=0.01).fit(X)


def test_stacking_shapes_and_attributes(fitted_dae, digits):
    X, _ = digits
    dae = fitted_dae
    assert [w.shape for w in dae.coefs_] == [(64, 32), (32, 16)]
    assert [b.shape for b in dae.intercepts_] == [(32,), (16,)]
    assert dae.transform(X).shape == (600, 16)
    assert dae.hidden_activations(X, layer=0).shape == (600, 32)
    np.testing.assert_array_equal(dae.hidden_activations(X), dae.transform(X))
    assert dae.inverse_transform(dae.transform(X[:5])).shape == (5, 64)
    assert dae.reconstruction_ == ["sigmoid_cross_entropy", "softplus_squared"]
    assert len(dae.reconstruction_loss_curve_) == 2
    assert dae.n_iter_ == sum(dae.n_iter_per_layer_)
    assert dae.activation_sparsity_.shape == (2,)
    np.testing.assert_allclose(
        dae.activation_sparsity_[0], np.mean(dae.hidden_activations(X, layer=0) == 0)
    )
    names = dae.get_feature_names_out()
    assert len(names) == 16 and names[0] == "denoisingautoencodertransformer0"


def test_set_output_pandas(fitted_dae, digits):
    pytest.importorskip("pandas")
    X, _ = digits
    out = fitted_dae.set_output(transform="pandas").transform(X[:4])
    fitted_dae.set_output(transform="default")
    assert list(out.columns) == list(fitted_dae.get_feature_names_out())


def test_reconstruction_error_falls(fitted_dae, digits):
    X, _ = digits
    for curve in fitted_dae.reconstruction_loss_curve_:
        assert curve[-1] < curve[0]
    untrained = make_dae(max_iter=1, learning_rate_init=1e-9).fit(X)
    assert fitted_dae.score(X) > untrained.score(X)


def test_denoising(digits):
    X, _ = digits
    rng = np.random.RandomState(1)
    noisy = X * (rng.rand(*X.shape) >= 0.3)
    kw = dict(hidden_layer_sizes=(48,), corruption_level=0.3)
    trained = make_dae(max_iter=40, learning_rate_init=0.01, **kw).fit(X)
    untrained = make_dae(max_iter=1, learning_rate_init=1e-9, **kw).fit(X)

    def error(dae):
        return np.mean((dae.inverse_transform(dae.transform(noisy)) - X) ** 2)

    assert error(trained) < 0.5 * error(untrained)
    # the reconstruction of the noisy input is closer to the clean X than the
    # noisy input itself
    assert error(trained) < np.mean((noisy - X) ** 2)


@pytest.mark.parametrize("corruption", ["masking", "salt_and_pepper", "gaussian"])
def test_corruptions_and_reconstructions(digits, corruption):
    X, _ = digits
    for reconstruction in (
        "softplus_squared",
        "sigmoid_cross_entropy",
        "linear_squared",
    ):
        dae = make_dae(
            corruption=corruption, reconstruction=reconstruction, max_iter=2
        ).fit(X)
        assert dae.reconstruction_ == [reconstruction] * 2
        assert np.isfinite(dae.score(X))


def test_auto_reconstruction_for_unbounded_input(digits):
    X, _ = digits
    dae = make_dae(activation="tanh", max_iter=2).fit(X * 16 - 8)
    assert dae.reconstruction_ == ["linear_squared", "linear_squared"]


def test_sparse_and_dense_input_agree(digits):
    X, _ = digits
    X = X[:200] + 0.05  # no zeros: every feature is in every batch
    kw = dict(solver="sgd", corruption_level=0.0, shuffle=False, batch_size=50)
    dense = make_dae(**kw).fit(X)
    sparse = make_dae(**kw).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), sparse.transform(X), atol=1e-4)
    for tied in (True, False):
        a = make_dae(tied_weights=tied, corruption_level=0.0, shuffle=False).fit(X)
        b = make_dae(tied_weights=tied, corruption_level=0.0, shuffle=False).fit(
            sp.csr_matrix(X)
        )
        np.testing.assert_allclose(a.transform(X), b.transform(X), atol=1e-3)


def test_sparse_input_is_never_densified(forbid_densify):
    # a Generator draws the 3,000 positions directly (RandomState shuffles 1e8)
    rng = np.random.default_rng(0)
    X = sp.random(100, 1_000_000, density=3e-5, format="csr", random_state=rng)
    dae = make_dae(hidden_layer_sizes=(4,), max_iter=2, tied_weights=False).fit(X)
    assert dae.transform(X).shape == (100, 4)


def test_invalid_corruption_levels(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"corruption_level must be in \[0, 1\]"):
        make_dae(corruption_level=1.5).fit(X)
    with pytest.raises(ValueError, match="one value per layer"):
        make_dae(corruption_level=[0.1, 0.2, 0.3]).fit(X)
    make_dae(corruption="gaussian", corruption_level=[2.0, 0.5], max_iter=1).fit(X)


def test_inverse_transform_checks_width(fitted_dae):
    with pytest.raises(ValueError, match="codes of the top layer"):
        fitted_dae.inverse_transform(np.zeros((2, 5)))


def test_pickle_roundtrip(fitted_dae, digits):
    X, _ = digits
    loaded = pickle.loads(pickle.dumps(fitted_dae))
    np.testing.assert_array_equal(loaded.transform(X), fitted_dae.transform(X))


def test_pretrained_weights_reach_the_classifier(fitted_dae, digits):
    X, y = digits
    clf = RectifierMLPClassifier(
        hidden_layer_sizes=(32, 16),
        pretraining=fitted_dae,
        max_iter=1,
        learning_rate_init=1e-9,
        alpha=0.0,
        random_state=0,
    ).fit(X, y)
    for got, want in zip(clf.coefs_[:2], fitted_dae.coefs_):
        np.testing.assert_allclose(got, want, atol=1e-6)
    plain = RectifierMLPClassifier(
        hidden_layer_sizes=(32, 16), max_iter=1, learning_rate_init=1e-9, random_state=0
    ).fit(X, y)
    assert not np.allclose(plain.coefs_[0], fitted_dae.coefs_[0], atol=1e-3)


def test_unlabeled_samples_only_pretrain(digits, monkeypatch):
    X, y = digits
    y_semi = y.copy()
    y_semi[100:] = -1
    seen = []
    fit = DenoisingAutoencoderTransformer.fit

    def spy(self, X, y=None):
        seen.append(X.shape[0])
        return fit(self, X, y)

    monkeypatch.setattr(DenoisingAutoencoderTransformer, "fit", spy)
    kw = dict(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    clf = RectifierMLPClassifier(pretraining=make_dae(hidden_layer_sizes=(32,)), **kw)
    clf.fit(X, y_semi)
    assert seen == [600]  # the autoencoder saw every sample
    assert -1 not in clf.classes_
    # the supervised part saw only the labeled samples: same model as fitting
    # the labeled samples alone from the same pre-trained autoencoder
    alone = RectifierMLPClassifier(pretraining=clf.pretraining_, **kw)
    alone.fit(X[:100], y[:100])
    np.testing.assert_array_equal(clf.predict_proba(X), alone.predict_proba(X))
    with pytest.raises(ValueError, match="no labeled sample"):
        RectifierMLPClassifier(pretraining=clf.pretraining_, **kw).fit(
            X, np.full(len(X), -1)
        )


def test_pretraining_shape_mismatch(fitted_dae, digits):
    X, y = digits
    with pytest.raises(ValueError, match="must match"):
        RectifierMLPClassifier(hidden_layer_sizes=(10,), pretraining=fitted_dae).fit(
            X, y
        )


def test_text_pipelines_and_grid_search(tiny_text):
    docs, labels = tiny_text
    pipe = make_pipeline(
        TfidfVectorizer(),
        make_dae(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01),
        LogisticRegression(),
    )
    pipe.fit(docs[:200], labels[:200])
    assert pipe.score(docs[200:], labels[200:]) > 0.8
    clf_pipe = make_pipeline(
        TfidfVectorizer(),
        RectifierMLPClassifier(
            hidden_layer_sizes=(16,),
            max_iter=10,
            random_state=0,
            pretraining=make_dae(hidden_layer_sizes=(16,), max_iter=3),
        ),
    )
    grid = GridSearchCV(
        clf_pipe,
        {
            "rectifiermlpclassifier__activation_l1": [0.0, 1e-3],
            "rectifiermlpclassifier__pretraining__corruption_level": [0.1, 0.4],
        },
        cv=2,
    )
    y_semi = (labels == "pos").astype(int)
    y_semi[150:] = -1  # unlabeled: pre-training only
    grid.fit(docs, y_semi)
    assert len(grid.cv_results_["params"]) == 4


def test_early_stopping_on_validation_reconstruction_loss(digits):
    X, _ = digits
    dae = make_dae(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=2,
        tol=0.5,  # demand large improvements: stops early
        max_iter=100,
    ).fit(X)
    net = dae.nets_[0]
    assert dae.n_iter_ < 100
    assert "valid_loss" in net.history[-1]
    losses = net.history[:, "valid_loss"]
    # it stopped because the validation loss did not improve by tol during the
    # last n_iter_no_change epochs
    best_before = min(losses[:-2])
    assert all(loss > best_before - 0.5 for loss in losses[-2:])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("sparse", [False, True])
def test_freeze_pretrained_trains_the_output_layer_only(
    fitted_dae, digits, solver, sparse
):
    X, y = digits
    X = sp.csr_matrix(X) if sparse else X
    kw = dict(
        hidden_layer_sizes=(32, 16),
        pretraining=fitted_dae,
        max_iter=10,
        solver=solver,
        learning_rate_init=0.01,
        alpha=1e-2,
        random_state=0,
    )
    frozen = RectifierMLPClassifier(freeze_pretrained=True, **kw).fit(X, y)
    for got, want in zip(frozen.coefs_[:2], fitted_dae.coefs_):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(frozen.intercepts_[:2], fitted_dae.intercepts_):
        np.testing.assert_array_equal(got, want)
    tuned = RectifierMLPClassifier(**kw).fit(X, y)
    assert not np.allclose(tuned.coefs_[0], fitted_dae.coefs_[0])
    assert not np.allclose(frozen.coefs_[-1], tuned.coefs_[-1])  # the output learned
    assert frozen.score(X, y) > 0.5
    if solver == "lbfgs":  # its flat vectors hold the output layer only
        (group,) = frozen.net_.optimizer_.param_groups
        assert sum(p.numel() for p in group["params"]) == 16 * 10 + 10
    # unfrozen on a warm fit: the hidden layers move from there
    frozen.set_params(freeze_pretrained=False, warm_start=True).fit(X, y)
    assert not np.allclose(frozen.coefs_[0], fitted_dae.coefs_[0])


def test_frozen_layers_are_not_penalised(fitted_dae, digits):
    # L-BFGS on a frozen encoder minimises the output layer's objective: the
    # data loss plus the L2 penalty of the output weights only (a frozen
    # layer's penalty would be a large constant that costs float32 precision)
    X, y = digits
    alpha = 1.0
    clf = RectifierMLPClassifier(
        hidden_layer_sizes=(32, 16),
        pretraining=fitted_dae,
        freeze_pretrained=True,
        solver="lbfgs",
        alpha=alpha,
        max_iter=500,
        tol=1e-9,
        random_state=0,
    ).fit(X, y)
    W, b = clf.coefs_[-1], clf.intercepts_[-1]
    log_proba = log_softmax(clf.hidden_activations(X) @ W + b, axis=1)
    data = -log_proba[np.arange(len(y)), np.searchsorted(clf.classes_, y)].mean()
    objective = data + 0.5 * alpha * (W**2).sum() / len(y)
    np.testing.assert_allclose(clf.loss_, objective, rtol=1e-4)
    everything = 0.5 * alpha * sum((w**2).sum() for w in clf.coefs_) / len(y)
    assert everything - 0.5 * alpha * (W**2).sum() / len(y) > 1e-2  # would show


def test_freeze_pretrained_needs_pretraining(digits):
    X, y = digits
    clf = RectifierMLPClassifier((8,), freeze_pretrained=True, max_iter=1)
    with pytest.raises(ValueError, match="pretraining is None"):
        clf.fit(X, y)


def test_a_frozen_autoencoder_survives_clone_and_search(fitted_dae, digits):
    from sklearn.frozen import FrozenEstimator

    X, y = digits
    clf = RectifierMLPClassifier(
        hidden_layer_sizes=(32, 16),
        pretraining=FrozenEstimator(fitted_dae),
        freeze_pretrained=True,
        max_iter=3,
        random_state=0,
    )
    search = GridSearchCV(clf, {"alpha": [1e-3, 1e-1]}, cv=2).fit(X, y)
    best = search.best_estimator_
    assert best.pretraining_ is fitted_dae  # unwrapped, not refitted
    np.testing.assert_array_equal(best.coefs_[0], fitted_dae.coefs_[0])
    # without the wrapper, the search's clone refits the autoencoder
    plain = GridSearchCV(
        clf.set_params(pretraining=fitted_dae), {"alpha": [1e-3]}, cv=2
    )
    refitted = plain.fit(X, y).best_estimator_.pretraining_
    assert refitted is not fitted_dae
