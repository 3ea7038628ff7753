"""Parity with scikit-learn's MLPClassifier/MLPRegressor, and the training
controls and outputs beyond them: schedules, L-BFGS, the Poisson loss,
multi-label targets, callbacks, precision, compile, sparse codes, pruning."""

import pickle
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from skorch.callbacks import Callback

import sk_rectifier._engine as engine
from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)
from sk_rectifier.persistence import load, save

PAIRS = [(RectifierMLPClassifier, MLPClassifier), (RectifierMLPRegressor, MLPRegressor)]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


# ------------------------------------------------------------------ parity
@pytest.mark.parametrize("ours, theirs", PAIRS, ids=["classifier", "regressor"])
def test_every_scikit_learn_parameter_is_accepted_with_its_default(ours, theirs):
    mine, peer = ours().get_params(), theirs().get_params()
    assert {k: mine.get(k, "missing") for k in peer} == peer
    ours(**peer).get_params()  # and the peer's values are accepted as given


def _multi_label(y):
    """Four labels of a digit: odd, five or more, round, straight. Among the
    first three, label sets of every size occur, from none (2, 4) to all (9)."""
    return np.c_[y % 2, y >= 5, np.isin(y, [0, 6, 8, 9]), np.isin(y, [1, 4, 7])]


def _targets(digits):
    y = digits[1]
    Y = _multi_label(y).astype(int)
    return {
        "binary": (RectifierMLPClassifier, MLPClassifier, y % 2),
        "multiclass": (RectifierMLPClassifier, MLPClassifier, y),
        "multi-label": (RectifierMLPClassifier, MLPClassifier, Y),
        "string labels": (
            RectifierMLPClassifier,
            MLPClassifier,
            np.array(["neg", "neutral", "pos"])[y % 3],
        ),
        "regression 1-D": (RectifierMLPRegressor, MLPRegressor, y.astype(float)),
        "regression 2-D": (
            RectifierMLPRegressor,
            MLPRegressor,
            np.c_[y, y % 3].astype(float),
        ),
        "poisson": (RectifierMLPRegressor, MLPRegressor, (y % 4).astype(float)),
    }


CASES = [
    "binary",
    "multiclass",
    "multi-label",
    "string labels",
    "regression 1-D",
    "regression 2-D",
    "poisson",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_the_same_script_gives_predictions_of_the_same_form(case, solver, digits):
    X, _ = digits
    ours, theirs, y = _targets(digits)[case]
    params = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        max_iter=30,
        learning_rate="invscaling" if solver == "sgd" else "constant",
        random_state=0,
    )
    if case == "poisson":
        if "loss" not in theirs().get_params():
            pytest.skip("MLPRegressor has a loss parameter from scikit-learn 1.7")
        params["loss"] = "poisson"
    mine = _quiet(ours(**params).fit, X, y)
    peer = _quiet(theirs(**params).fit, X, y)
    got, expected = mine.predict(X), peer.predict(X)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    if ours is RectifierMLPClassifier:
        assert set(np.unique(got)) <= set(np.unique(y))
        assert np.array_equal(mine.classes_, peer.classes_)
        assert mine.predict_proba(X).shape == peer.predict_proba(X).shape
        assert mine.out_activation_ == (
            "logistic" if case == "multi-label" else "softmax"
        )
    else:
        assert mine.out_activation_ == peer.out_activation_
        assert mine.n_outputs_ == peer.n_outputs_
    assert mine.n_layers_ == peer.n_layers_
    assert (mine.best_loss_ is None) == (getattr(peer, "best_loss_", None) is None)
    if solver == "lbfgs":  # both converge: the fits are comparable
        assert abs(mine.score(X, y) - peer.score(X, y)) < 0.2


# --------------------------------------------------------------- schedules
def test_invscaling_follows_scikit_learns_formula(digits):
    X, y = digits
    clf = _quiet(
        RectifierMLPClassifier(
            (16,),
            solver="sgd",
            learning_rate="invscaling",
            power_t=0.25,
            learning_rate_init=0.1,
            max_iter=7,
            tol=0,
            random_state=0,
        ).fit,
        X,
        y,
    )
    assert clf.t_ == 7 * len(X) and clf.n_iter_ == 7
    expected = 0.1 / (clf.t_ + 1) ** 0.25
    for optimizer in engine._optimizers(clf.net_):
        for group in optimizer.param_groups:
            assert group["lr"] == pytest.approx(expected)
    _quiet(clf.partial_fit, X, y)  # keeps counting samples and the schedule
    assert clf.t_ == 8 * len(X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_adaptive_divides_by_5_then_stops_as_scikit_learn(solver, digits):
    X, y = digits
    # a tol no epoch can meet: every epoch after the first is a miss
    params = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate="adaptive",
        tol=1e9,
        n_iter_no_change=1,
        max_iter=100,
        random_state=0,
    )
    peer = _quiet(MLPClassifier(**params).fit, X, y)
    mine = _quiet(RectifierMLPClassifier(**{**params, "solver": solver}).fit, X, y)
    # cuts at epochs 3, 5, ..., 11 (1e-3 / 5**5 < 1e-6), then the stop at 13
    assert mine.n_iter_ == peer.n_iter_ == 13
    assert engine._optimizers(mine.net_)[0].param_groups[0]["lr"] == pytest.approx(
        1e-3 / 5**5
    )


def test_the_stopping_rule_counts_as_scikit_learn_does(digits):
    X, y = digits
    params = dict(
        hidden_layer_sizes=(8,),
        tol=1e9,
        n_iter_no_change=3,
        max_iter=50,
        random_state=0,
    )
    peer = _quiet(MLPClassifier(**params).fit, X, y)
    mine = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    assert mine.n_iter_ == peer.n_iter_ == 5


# ------------------------------------------------------------------- lbfgs
def test_lbfgs_converges_like_scikit_learns(digits):
    X, y = digits
    params = dict(
        hidden_layer_sizes=(32,),
        solver="lbfgs",
        alpha=1e-3,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        mine = RectifierMLPClassifier(**params).fit(X, y)
    peer = _quiet(MLPClassifier(**params).fit, X, y)
    assert mine.score(X, y) == peer.score(X, y) == 1.0
    assert mine.n_iter_ < 300 and mine.validation_scores_ is None
    assert not hasattr(mine, "partial_fit")  # as scikit-learn: not stochastic


def test_lbfgs_takes_sparse_input_weights_and_both_penalties(digits):
    X, y = digits
    params = dict(
        hidden_layer_sizes=(16,),
        solver="lbfgs",
        alpha=1e-2,
        activation_l1=1e-3,
        max_iter=40,
        random_state=0,
    )
    dense = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    sparse = _quiet(RectifierMLPClassifier(**params).fit, sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        sparse.predict_proba(X), dense.predict_proba(X), atol=2e-2
    )  # the same problem: trajectories apart by float rounding only
    assert (sparse.predict(X) == dense.predict(X)).mean() > 0.99
    # zero weights are the same as leaving the samples out (full batch)
    weights = (np.arange(len(X)) % 2).astype(float)
    weighted = _quiet(RectifierMLPClassifier(**params).fit, X, y, sample_weight=weights)
    subset = _quiet(RectifierMLPClassifier(**params).fit, X[1::2], y[1::2])
    np.testing.assert_allclose(
        weighted.predict_proba(X), subset.predict_proba(X), atol=2e-2
    )
    assert (weighted.predict(X) == subset.predict(X)).mean() > 0.99


def test_lbfgs_warns_when_max_fun_runs_out(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge.*max_fun=5"):
        clf = RectifierMLPClassifier(
            (8,), solver="lbfgs", max_fun=5, random_state=0
        ).fit(X, y)
    assert engine.module(clf.net_) is not None and clf.net_.evaluations_ >= 5


# ---------------------------------------------------------------- poisson
def test_poisson_loss_predicts_positive_rates_and_refuses_negative_y(digits):
    X, y = digits
    counts = np.random.RandomState(0).poisson(np.exp(X[:, 20] * 2)).astype(float)
    reg = _quiet(
        RectifierMLPRegressor(
            (16,), loss="poisson", max_iter=60, learning_rate_init=0.01, random_state=0
        ).fit,
        X,
        counts,
    )
    raw = reg._outputs(X).ravel()
    np.testing.assert_allclose(reg.predict(X), np.exp(raw.astype(np.float64)))
    assert reg.predict(X).min() > 0 and reg.out_activation_ == "exp"
    assert abs(reg.predict(X).mean() - counts.mean()) < 0.2 * counts.mean()
    with pytest.raises(ValueError, match="negative values"):
        RectifierMLPRegressor(loss="poisson").fit(X, counts - 1)


# ------------------------------------------------------------- multi-label
def test_multi_label_targets(digits):
    X, y = digits
    Y = _multi_label(y)[:, :3].astype(int)
    clf = _quiet(RectifierMLPClassifier((32,), max_iter=30, random_state=0).fit, X, Y)
    assert clf.predict(X).shape == Y.shape and set(np.unique(clf.predict(X))) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert clf.n_outputs_ == 3 and clf.classes_.tolist() == [0, 1, 2]
    # early stopping scores subset accuracy, as scikit-learn scores multi-label
    stop = _quiet(
        RectifierMLPClassifier(
            (32,), max_iter=20, early_stopping=True, random_state=0
        ).fit,
        X,
        Y,
    )
    assert 0 <= stop.best_validation_score_ <= 1
    # zero sample weights leave samples out
    w = (np.arange(len(X)) % 2).astype(float)
    weighted = _quiet(
        RectifierMLPClassifier(
            (8,), max_iter=5, shuffle=False, batch_size=len(X), random_state=0
        ).fit,
        X,
        Y,
        sample_weight=w,
    )
    assert weighted.n_iter_ == 5
    # partial_fit and warm starts keep the label set
    inc = RectifierMLPClassifier((8,), random_state=0)
    _quiet(inc.partial_fit, X, Y, classes=[0, 1, 2])
    _quiet(inc.partial_fit, X, Y)
    with pytest.raises(ValueError, match="y is 1-D"):
        inc.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="y has 2 labels"):
        inc.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="multi-label indicator"):
        RectifierMLPClassifier().fit(X, np.c_[Y[:, 0], Y[:, 1] * 2])
    with pytest.raises(ValueError, match="class_weight"):
        RectifierMLPClassifier(class_weight="balanced").fit(X, Y)


# -------------------------------------------------------------- callbacks
def test_callbacks_run_inside_fit_and_are_never_changed(digits, tmp_path):
    from skorch.callbacks import Checkpoint, LRScheduler

    X, y = digits
    cosine = LRScheduler(policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=4)
    checkpoint = Checkpoint(
        monitor="train_loss_best",
        dirname=str(tmp_path),
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
    )
    params = dict(hidden_layer_sizes=(16,), max_iter=4, tol=0, random_state=0)
    clf = _quiet(
        RectifierMLPClassifier(callbacks=[cosine, checkpoint], **params).fit, X, y
    )
    plain = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    assert clf.loss_curve_[0] == plain.loss_curve_[0]  # same first epoch
    assert clf.loss_curve_[-1] != plain.loss_curve_[-1]  # then the schedule acts
    # the first layer followed the schedule too: in the last epoch both ran
    # at the cosine's rate of epoch 4 (then the scheduler stepped to 0)
    dense, rowwise = engine._optimizers(clf.net_)
    assert dense.param_groups[0]["lr"] == pytest.approx(0, abs=1e-12)
    expected = 1e-3 * (1 + np.cos(np.pi * 3 / 4)) / 2
    assert rowwise.param_groups[0]["lr"] == pytest.approx(expected)
    assert (tmp_path / "params.pt").exists()
    assert not hasattr(cosine, "lr_scheduler_")  # the parameter was not fitted
    assert clone(clf).get_params()["callbacks"][0] is not cosine
    restored = pickle.loads(pickle.dumps(clf))  # no callback stays in the net
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_a_callback_that_stops_training_keeps_the_last_epoch(digits):
    from skorch.callbacks import EarlyStopping

    X, y = digits
    stop = EarlyStopping(
        monitor="train_loss", patience=1, threshold=1e9, threshold_mode="abs"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = RectifierMLPClassifier(
            (8,), max_iter=10, callbacks=[stop], random_state=0
        ).fit(X, y)
    # skorch's rule: epoch 1 is the best, epoch 2 misses -> stop after it
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    assert not [w for w in caught if "interrupted" in str(w.message)]
    reference = _quiet(
        RectifierMLPClassifier((8,), max_iter=2, random_state=0).fit, X, y
    )
    np.testing.assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))


def test_a_callback_that_cannot_be_copied_is_used_as_it_is(digits):
    import threading

    X, y = digits

    class Holder(Callback):
        def __init__(self, lock=None):
            self.lock = lock

        def on_epoch_end(self, net, **kwargs):
            Holder.epochs += 1

    Holder.epochs = 0
    _quiet(
        RectifierMLPClassifier(
            (8,),
            max_iter=3,
            tol=0,
            random_state=0,
            callbacks=[Holder(threading.Lock())],
        ).fit,
        X,
        y,
    )
    assert Holder.epochs == 3


# -------------------------------------------------------------- precision
@pytest.mark.parametrize("sparse", [False, True])
def test_bfloat16_autocast_on_cpu(sparse, digits):
    X, y = digits
    X = sp.csr_matrix(X) if sparse else X
    params = dict(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    full = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    half = _quiet(RectifierMLPClassifier(precision="bfloat16", **params).fit, X, y)
    assert half.predict_proba(X).dtype == np.float64
    weights = list(half.net_.module_.parameters())  # (autocast: weights float32)
    assert weights and all(w.dtype == torch.float32 for w in weights)
    moments = [  # (and the optimizer's state)
        t
        for state in half.net_.optimizer_.state.values()
        for t in state.values()
        if torch.is_tensor(t) and t.dim()
    ]
    assert moments and all(t.dtype == torch.float32 for t in moments)
    assert not np.array_equal(half.predict_proba(X), full.predict_proba(X))
    assert (half.predict(X) == full.predict(X)).mean() > 0.9
    dae = _quiet(
        DenoisingAutoencoderTransformer(
            (16,), precision="bfloat16", max_iter=2, random_state=0
        ).fit,
        X,
    )
    assert dae.transform(X).dtype == np.float32


@pytest.mark.parametrize("sparse", [False, True])
def test_bfloat16_predictions_are_autocasts_after_every_fit(
    sparse, digits, monkeypatch
):
    """Inference in bfloat16 reuses its casts of the weights between calls:
    after a fit, a warm fit or a partial_fit (whose optimizer steps change
    the weights without bumping their version counters), the predictions
    are still those of autocast casting the weights at every call."""
    from sk_rectifier.nn import RectifierMLP

    X, y = digits
    X = sp.csr_matrix(X) if sparse else X
    clf = RectifierMLPClassifier(
        (32, 16), precision="bfloat16", max_iter=3, warm_start=True, random_state=0
    )

    def uncached():
        with monkeypatch.context() as m:
            m.setattr(RectifierMLP, "_cast_weights", lambda self, dense: None)
            return clf.predict_proba(X)

    for fit in [clf.fit, clf.fit, clf.partial_fit]:
        _quiet(fit, X, y)
        first = clf.predict_proba(X)
        np.testing.assert_array_equal(first, uncached())
        assert clf.net_.module_.__dict__["_casts"]  # (the casts were kept)


def test_bfloat16_model_unpickled_in_inference_mode_predicts(digits):
    """Its weights are inference tensors, which keep no version counter:
    autocast casts them at each call, to the same predictions."""
    X, y = digits
    clf = _quiet(
        RectifierMLPClassifier(
            (16,), precision="bfloat16", max_iter=2, random_state=0
        ).fit,
        X,
        y,
    )
    with torch.inference_mode():
        loaded = pickle.loads(pickle.dumps(clf))
    for _ in range(2):
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_float16_without_cuda_runs_as_bfloat16_and_says_so(digits):
    X, y = digits
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.warns(UserWarning, match="float16' is for CUDA"):
        RectifierMLPClassifier((8,), precision="float16", max_iter=2, device="cpu").fit(
            X, y
        )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("sparse", [False, True])
def test_float16_with_a_gradient_scaler_on_cuda(sparse, digits):
    X, y = digits
    X = sp.csr_matrix(X) if sparse else X
    clf = _quiet(
        RectifierMLPClassifier(
            (32,), precision="float16", max_iter=20, device="cuda", random_state=0
        ).fit,
        X,
        y,
    )
    assert clf.net_.scaler_ is not None and clf.score(X, y) > 0.9


# ---------------------------------------------------------------- compile
def test_compile_falls_back_with_a_warning(digits, monkeypatch):
    X, y = digits

    def broken(fn, **kwargs):
        def fail(*args):
            raise RuntimeError("no compiler here")

        return fail

    monkeypatch.setattr(torch, "compile", broken)
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    with pytest.warns(RuntimeWarning, match="torch.compile failed.*no compiler"):
        clf = RectifierMLPClassifier(compile=True, **params).fit(X, y)
    plain = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))


@pytest.mark.slow
def test_compile_gives_the_same_model(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)  # no fallback here
        compiled = RectifierMLPClassifier(compile=True, **params).fit(X, y)
    plain = _quiet(RectifierMLPClassifier(**params).fit, X, y)
    assert isinstance(engine.module(compiled.net_).dense, engine._CompiledDense)
    np.testing.assert_allclose(
        compiled.predict_proba(X), plain.predict_proba(X), atol=1e-4
    )
    restored = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_allclose(
        restored.predict_proba(X), compiled.predict_proba(X), atol=1e-5
    )


# ------------------------------------------------------------ sparse codes
@pytest.mark.parametrize("sparse_input", [False, True])
def test_sparse_codes_equal_the_dense_ones(sparse_input, digits):
    X, y = digits
    X = sp.csr_matrix(X) if sparse_input else X
    clf = _quiet(
        RectifierMLPClassifier(
            (32, 16), activation_l1=1e-2, max_iter=5, random_state=0
        ).fit,
        X,
        y,
    )
    for layer in (0, 1, -1):
        code = clf.hidden_activations(X, layer=layer, sparse_output=True)
        assert sp.issparse(code) and code.format == "csr" and code.dtype == np.float32
        np.testing.assert_array_equal(code.toarray(), clf.hidden_activations(X, layer))
        assert code.nnz == np.count_nonzero(clf.hidden_activations(X, layer))
    params = dict(hidden_layer_sizes=(16, 8), max_iter=2, random_state=0)
    dense = _quiet(DenoisingAutoencoderTransformer(**params).fit, X)
    sparse = _quiet(
        DenoisingAutoencoderTransformer(sparse_output=True, **params).fit, X
    )
    np.testing.assert_array_equal(sparse.transform(X).toarray(), dense.transform(X))
    np.testing.assert_array_equal(
        dense.hidden_activations(X, 0, sparse_output=True).toarray(),
        dense.hidden_activations(X, 0),
    )
    np.testing.assert_allclose(
        sparse.inverse_transform(sparse.transform(X)),
        dense.inverse_transform(dense.transform(X)),
    )


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys, warnings
    import numpy as np, torch
    warnings.simplefilter("ignore")
    from sk_rectifier import RectifierMLPClassifier
    import sk_rectifier._engine as engine
    rng = np.random.RandomState(0)
    X = rng.rand(200_000, 8).astype(np.float32)
    clf = RectifierMLPClassifier((2000,), max_iter=1, random_state=0, device="cpu")
    clf.fit(X[:500], np.arange(500) % 2)
    layer = engine.module(clf.net_).input_layer
    with torch.no_grad():  # about 85 % of the units off on every sample
        layer.bias.copy_(torch.linspace(-1.5, 0.25, 2000))
    clf.hidden_activations(X[:10], sparse_output=sys.argv[1] == "sparse")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code = clf.hidden_activations(X, sparse_output=sys.argv[1] == "sparse")
    zeros = 1 - (code.nnz if sys.argv[1] == "sparse" else np.count_nonzero(code)) / (
        200_000 * 2000)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(grown // 1024, round(zeros, 3))
    """
)


@pytest.mark.slow
def test_a_sparse_code_never_takes_the_dense_memory(fresh_python):
    dense_mb = 200_000 * 2000 * 4 / 2**20  # 1526 MiB
    grown_mb, zeros = fresh_python(MEMORY_SCRIPT, "sparse")
    assert 0.8 < float(zeros) < 0.9, zeros
    assert int(grown_mb) < 0.6 * dense_mb, (grown_mb, dense_mb)


# ------------------------------------------------------------------ prune
def _with_dead_units(est, dead):
    """Make units ``dead`` of the first hidden layer zero on any input in
    [0, 1]: zero weights in, a negative bias."""
    nets = est._networks()
    layer = engine.module(nets[0]).input_layer
    with torch.no_grad():
        layer.weight[:, dead] = 0
        layer.bias[dead] = -1.0
    return est


@pytest.mark.parametrize("sparse_input", [False, True])
def test_prune_removes_dead_units_and_keeps_the_predictions(sparse_input, digits):
    X, y = digits
    X = sp.csr_matrix(X) if sparse_input else X
    clf = _quiet(RectifierMLPClassifier((32, 16), max_iter=5, random_state=0).fit, X, y)
    _with_dead_units(clf, [0, 3, 7, 8])
    small = clf.prune(X)
    assert small.pruned_units_[0] >= 4
    assert small.hidden_layer_sizes[0] == 32 - small.pruned_units_[0]
    assert [w.shape[1] for w in small.coefs_[:-1]] == list(small.hidden_layer_sizes)
    np.testing.assert_array_equal(small.predict(X), clf.predict(X))
    np.testing.assert_allclose(small.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert small.activation_sparsity_[0] < clf.activation_sparsity_[0]
    assert small.get_params()["max_iter"] == 5 and type(small) is type(clf)
    assert not hasattr(clf, "pruned_units_")  # the original is untouched
    _quiet(small.set_params(warm_start=True).fit, X, y)  # it trains on


def test_prune_regressor_and_autoencoder_and_save(digits, tmp_path):
    X, y = digits
    reg = _quiet(
        RectifierMLPRegressor((16,), max_iter=5, random_state=0).fit, X, y.astype(float)
    )
    small = _with_dead_units(reg, [1, 2]).prune(X)
    assert small.pruned_units_[0] >= 2
    np.testing.assert_allclose(small.predict(X), reg.predict(X), atol=1e-5)
    dae = _quiet(
        DenoisingAutoencoderTransformer((16, 8), max_iter=2, random_state=0).fit, X
    )
    _with_dead_units(dae, [0, 5])
    alive = (dae.hidden_activations(X, 0) != 0).any(axis=0)
    small_dae = dae.prune(X)
    assert small_dae.hidden_layer_sizes[0] == alive.sum()
    np.testing.assert_allclose(
        small_dae.hidden_activations(X, 0),
        dae.hidden_activations(X, 0)[:, alive],
        atol=1e-6,
    )
    top_alive = (dae.transform(X) != 0).any(axis=0)
    np.testing.assert_allclose(
        small_dae.transform(X), dae.transform(X)[:, top_alive], atol=1e-5
    )
    for model in (small, small_dae):
        path = tmp_path / "pruned.safetensors"
        save(model, path)
        loaded = load(path)
        np.testing.assert_array_equal(
            loaded.transform(X) if hasattr(loaded, "transform") else loaded.predict(X),
            model.transform(X) if hasattr(model, "transform") else model.predict(X),
        )
