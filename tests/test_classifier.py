import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

import sk_rectifier._engine as engine
import sk_rectifier._mixin as mixin
from sk_rectifier import RectifierMLPClassifier


def make_clf(**kwargs):
    params = dict(
        hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01, random_state=0
    )
    params.update(kwargs)
    return RectifierMLPClassifier(**params)


@pytest.fixture(scope="module")
def fitted(blobs):
    X, y = blobs
    return make_clf().fit(X, y)


def test_fit_predict_attributes(fitted, blobs):
    X, y = blobs
    assert fitted.score(X, y) > 0.9
    assert fitted.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])
    assert fitted.n_iter_ == len(fitted.loss_curve_) <= 30
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.device_ == "cpu"
    assert [c.shape for c in fitted.coefs_] == [(12, 16), (16, 3)]
    assert [b.shape for b in fitted.intercepts_] == [(16,), (3,)]
    assert isinstance(fitted.coefs_[0], np.ndarray)
    assert fitted.validation_scores_ is None and fitted.best_validation_score_ is None
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.loss_ == fitted.loss_curve_[-1]
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(proba), fitted.predict_log_proba(X), atol=1e-10)
    np.testing.assert_array_equal(fitted.predict(X), proba.argmax(axis=1))


def test_hidden_activations_and_sparsity(blobs):
    X, y = blobs
    clf = make_clf(hidden_layer_sizes=(16, 8)).fit(X, y)
    assert clf.hidden_activations(X, layer=0).shape == (len(X), 16)
    H = clf.hidden_activations(X)
    assert H.shape == (len(X), 8) and (H >= 0).all()
    assert clf.activation_sparsity_.shape == (2,)
    expected = [np.mean(clf.hidden_activations(X, layer=i) == 0) for i in (0, 1)]
    np.testing.assert_allclose(clf.activation_sparsity_, expected)
    with pytest.raises(ValueError, match="layer must be an integer"):
        clf.hidden_activations(X, layer=2)


def test_activation_l1_gives_more_exact_zeros(blobs):
    X, y = blobs
    sparsity = [
        make_clf(hidden_layer_sizes=(64,), activation_l1=l1, max_iter=60)
        .fit(X, y)
        .activation_sparsity_[0]
        for l1 in (0.0, 1e-2, 1e-1)
    ]
    assert sparsity[0] < sparsity[1] < sparsity[2]
    assert sparsity[2] > 0.8


@pytest.mark.parametrize("activation", ["softplus", "tanh", "logistic", "identity"])
def test_other_activations_have_no_exact_zeros(blobs, activation):
    X, y = blobs
    clf = make_clf(activation=activation, max_iter=20).fit(X, y)
    assert clf.score(X, y) > 0.8
    if activation in ("softplus", "logistic"):
        assert clf.activation_sparsity_[0] == 0


def test_sparse_and_dense_input_agree(blobs):
    # SGD updates are the same arithmetic on both paths.
    X, y = blobs
    dense = make_clf(solver="sgd", batch_size=32, alpha=1e-3).fit(X, y)
    sparse = make_clf(solver="sgd", batch_size=32, alpha=1e-3).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)), atol=1e-5
    )
    np.testing.assert_allclose(dense.coefs_[0], sparse.coefs_[0], atol=1e-5)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_first_layer_decays_by_alpha_over_the_batch_total(solver):
    """With all-zero input the first layer's data gradient is zero, so its
    weights move by the L2 penalty's gradient alone, (alpha / n) * W at each
    step: torch's optimizers with that weight decay, from the same start. A
    sparse batch decays only the rows of the features it holds: none here."""
    X, y = np.zeros((40, 6), dtype=np.float32), np.arange(40) % 2
    kw = dict(hidden_layer_sizes=(5,), solver=solver, batch_size=40, max_iter=3)
    kw.update(tol=0.0, n_iter_no_change=10, learning_rate_init=0.1, random_state=0)
    if solver == "sgd":
        kw["momentum"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = RectifierMLPClassifier(**kw, alpha=0.0).fit(X, y).coefs_[0]
        decayed = RectifierMLPClassifier(**kw, alpha=2.0).fit(X, y).coefs_[0]
        lazy = RectifierMLPClassifier(**kw, alpha=2.0).fit(sp.csr_matrix(X), y)
    reference = torch.nn.Parameter(torch.from_numpy(start.copy()))
    optimizer = torch.optim.SGD if solver == "sgd" else torch.optim.Adam
    optimizer = optimizer([reference], lr=0.1, weight_decay=2.0 / 40)
    for _ in range(3):
        reference.grad = torch.zeros_like(reference)
        optimizer.step()
    assert not np.allclose(decayed, start)
    np.testing.assert_allclose(decayed, reference.detach().numpy(), rtol=1e-5)
    np.testing.assert_array_equal(lazy.coefs_[0], start)


def test_sparse_and_dense_input_agree_adam(blobs):
    # The sparse first layer uses a row-wise Adam with the dense Adam's
    # arithmetic; on data without zeros every row is updated at every step.
    X, y = blobs
    dense = make_clf(batch_size=32).fit(X, y)
    sparse = make_clf(batch_size=32).fit(sp.csc_matrix(X), y)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(X), atol=1e-4
    )


def test_sparse_first_layer_gradient_touches_only_batch_rows():
    rng = np.random.RandomState(0)
    X = sp.random(50, 5000, density=0.002, format="csr", random_state=rng)
    y = np.arange(50) % 2
    clf = make_clf(batch_size=50, max_iter=1, shuffle=False).fit(X, y)
    grad = clf.net_.module_.input_layer.weight.grad
    assert grad.is_sparse
    touched = np.unique(grad.coalesce().indices()[0].numpy())
    np.testing.assert_array_equal(touched, np.unique(X.indices))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_compiled_and_pytorch_sparse_steps_train_the_same_model(monkeypatch, precision):
    """With Numba, a sparse first layer trains through compiled kernels
    (forward, backward, Adam step), under bfloat16 autocast too (the layer
    sums in float32); without, through PyTorch ops. Both give the same model
    and the same recorded losses (the L2 penalty's included), up to float32
    rounding."""
    compiled = pytest.importorskip("sk_rectifier.nn._compiled")
    from sk_rectifier.nn import optim

    rng = np.random.RandomState(0)
    X = sp.random(300, 2000, density=0.01, format="csr", random_state=rng)
    y = (X[:, :1000].sum(axis=1).A1 > X[:, 1000:].sum(axis=1).A1).astype(int)
    optim._compiled()  # (its first call warms the kernels up on a tiny batch)
    calls, steps = [], []
    kernel, step = compiled.sparse_dense, compiled.adam_rows

    def counted(*args):  # (and whether autocast was on)
        calls.append(torch.is_autocast_enabled("cpu"))
        return kernel(*args)

    monkeypatch.setattr(compiled, "sparse_dense", counted)
    monkeypatch.setattr(compiled, "adam_rows", lambda *a: steps.append(1) or step(*a))
    params = dict(max_iter=5, alpha=0.01, batch_size=32, precision=precision)
    fast = make_clf(**params).fit(X, y)
    # every training batch's forward pass and Adam step
    assert calls == [precision == "bfloat16"] * (5 * 10) and len(steps) == 50
    monkeypatch.setattr(optim, "_compiled", lambda: None)
    ops = make_clf(**params).fit(X, y)
    assert len(calls) == len(steps) == 50
    for a, b in zip(fast.coefs_ + fast.intercepts_, ops.coefs_ + ops.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fast.loss_curve_, ops.loss_curve_, rtol=1e-5)
    assert fast.loss_curve_[-1] < fast.loss_curve_[0]


def test_sparse_input_is_never_densified(forbid_densify):
    # a Generator draws the 3,000 positions directly (RandomState shuffles 1e8)
    rng = np.random.default_rng(0)
    X = sp.random(100, 1_000_000, density=3e-5, format="csr", random_state=rng)
    y = np.arange(100) % 2
    clf = make_clf(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    assert clf.predict(X).shape == (100,)


def test_reproducible_same_seed(blobs):
    X, y = blobs
    a = make_clf(dropout=0.2).fit(X, y).predict_proba(X)
    b = make_clf(dropout=0.2).fit(X, y).predict_proba(X)
    c = make_clf(dropout=0.2, random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_touch_global_torch_rng(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_clf(max_iter=2).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_string_labels(blobs):
    X, y = blobs
    names = np.array(["cat", "dog", "emu"], dtype=object)[y]
    clf = make_clf().fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, names) > 0.9


def test_binary_problem(blobs):
    X, y = blobs
    mask = y < 2
    clf = make_clf().fit(X[mask], np.where(y[mask] == 1, "yes", "no"))
    assert clf.predict_proba(X[mask]).shape == (mask.sum(), 2)


def test_single_class_raises(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_clf().fit(X, np.zeros(len(X)))


def test_pandas_feature_names(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = make_clf(max_iter=5).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert clf.predict(df).shape == (len(df),)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"f0": "other"}))


def test_early_stopping_restores_best_epoch(blobs, monkeypatch):
    X, y = blobs
    snapshots = []
    record = engine._ValidationScore.on_epoch_end

    def spy(self, net, **kwargs):
        record(self, net, **kwargs)
        snapshots.append(copy.deepcopy(net.module_.state_dict()))

    monkeypatch.setattr(engine._ValidationScore, "on_epoch_end", spy)
    clf = make_clf(
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=4,
        tol=0.0,
        max_iter=200,
        learning_rate_init=0.05,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ == len(snapshots) < 200
    assert clf.best_validation_score_ == max(scores)
    best = int(np.argmax(scores))
    assert best < clf.n_iter_ - 1  # it did not simply keep the last epoch
    final = clf.net_.module_.state_dict()
    for name, tensor in snapshots[best].items():
        torch.testing.assert_close(final[name], tensor)


def test_stops_when_training_loss_stalls(blobs):
    X, y = blobs
    clf = make_clf(max_iter=500, tol=1e-2, n_iter_no_change=3).fit(X, y)
    assert clf.n_iter_ < 500


def test_convergence_warning(blobs):
    from sklearn.exceptions import ConvergenceWarning

    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        make_clf(max_iter=2, tol=0).fit(X, y)


def test_partial_fit(blobs):
    X, y = blobs
    clf = make_clf()
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    assert clf.n_iter_ == 1
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 21
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) > 0.85
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:5], [0, 1, 2, 3, 0])
    assert clf.n_iter_ == 21


def test_warm_start_continues_training(blobs):
    X, y = blobs
    clf = make_clf(max_iter=5, warm_start=True, learning_rate_init=0.003, tol=0)
    clf.fit(X, y)
    first_weights = clf.coefs_[0]
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    # the 6th epoch continues from the 5th, instead of starting afresh
    assert clf.loss_curve_[5] < clf.loss_curve_[1]
    cold = make_clf(max_iter=5, learning_rate_init=0.003).fit(X, y)
    np.testing.assert_array_equal(cold.coefs_[0], first_weights)
    assert not np.allclose(clf.coefs_[0], first_weights)


def test_class_weight_changes_the_fit(blobs):
    X, y = blobs
    y2 = (y == 0).astype(int)  # one class in three: imbalanced
    kw = dict(max_iter=5, learning_rate_init=0.003)
    plain = make_clf(**kw).fit(X, y2)
    balanced = make_clf(class_weight="balanced", **kw).fit(X, y2)
    heavy = make_clf(class_weight={0: 1.0, 1: 10.0}, **kw).fit(X, y2)
    r_plain = recall_score(y2, plain.predict(X))
    assert recall_score(y2, balanced.predict(X)) >= r_plain
    assert recall_score(y2, heavy.predict(X)) > r_plain
    with pytest.raises(ValueError, match="balanced"):
        make_clf(class_weight="balanced").partial_fit(X, y2, classes=[0, 1])


def test_sample_weight_changes_the_fit(blobs):
    X, y = blobs
    w = np.where(y == 2, 20.0, 1.0)
    kw = dict(max_iter=3, learning_rate_init=0.003)
    plain = make_clf(**kw).fit(X, y)
    weighted = make_clf(**kw).fit(X, y, sample_weight=w)
    assert (weighted.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()


@pytest.mark.parametrize("to_matrix", [np.asarray, sp.csr_matrix])
def test_sample_weight_equals_repetition_full_batch(blobs, to_matrix):
    # With one batch per epoch, integer weights equal repeated samples (and a
    # zero weight equals dropping the sample), up to float32 rounding.
    X, y = blobs
    X, y = X[:60], y[:60]
    w = np.random.RandomState(0).randint(0, 3, len(y))
    kw = dict(batch_size=500, max_iter=10, alpha=1e-2, activation_l1=1e-3)
    weighted = make_clf(**kw).fit(to_matrix(X), y, sample_weight=w)
    repeated = make_clf(**kw).fit(to_matrix(np.repeat(X, w, axis=0)), np.repeat(y, w))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-6
    )


def test_failed_fit_leaves_fitted_model_unchanged(fitted, blobs):
    X, y = blobs
    clf = copy.deepcopy(fitted)
    before = clf.predict_proba(X)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_bad, y)
    with pytest.raises(ValueError):
        clf.fit(X[:, :3], y[:-1])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (3.5,)}, "hidden_layer_sizes"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_invalid_values(blobs, params, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        make_clf(**params).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "sigmoid"},
        {"activation_l1": -1.0},
        {"dropout": 1.0},
        {"solver": "newton"},
        {"learning_rate": "optimal"},
        {"power_t": -1.0},
        {"max_fun": 0},
        {"precision": "float64"},
        {"batch_size": 0},
        {"class_weight": "auto"},
    ],
)
def test_invalid_params_named(blobs, params):
    X, y = blobs
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        make_clf(**params).fit(X, y)


def test_unfitted_and_wrong_width(blobs, fitted):
    X, _ = blobs
    with pytest.raises(NotFittedError):
        make_clf().predict(X)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :5])


def test_device_auto_is_cpu_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    assert mixin.resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match="not available"):
        mixin.resolve_device("cuda:0")


def test_verbose_prints_one_line_per_epoch(blobs, capsys):
    X, y = blobs
    make_clf(max_iter=4, tol=0, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(lines) == 4
    make_clf(max_iter=4, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_a_silent_fit_formats_no_log(blobs, capsys, monkeypatch):
    # skorch's PrintLog builds its table every epoch even when nothing prints
    from skorch.callbacks import PrintLog

    tables = []
    table = PrintLog.table
    monkeypatch.setattr(PrintLog, "table", lambda *a: tables.append(1) or table(*a))
    X, y = blobs
    clf = make_clf(max_iter=3, tol=0, verbose=1, warm_start=True).fit(X, y)
    assert len(tables) == 3 and capsys.readouterr().out
    clf.set_params(verbose=0).fit(X, y)  # the same net, now silent
    assert len(tables) == 3 and capsys.readouterr().out == ""
    clf.set_params(verbose=1).fit(X, y)
    assert len(tables) == 6 and capsys.readouterr().out


def test_pipeline_after_tfidf(tiny_text):
    docs, labels = tiny_text
    pipe = make_pipeline(TfidfVectorizer(), make_clf(max_iter=20))
    pipe.fit(docs[:200], labels[:200])
    assert pipe.score(docs[200:], labels[200:]) > 0.9
    assert set(pipe.predict(docs[:5])) <= {"neg", "pos"}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_activation_and_l1(tiny_text, n_jobs):
    docs, labels = tiny_text
    pipe = make_pipeline(TfidfVectorizer(), make_clf(max_iter=10))
    grid = GridSearchCV(
        pipe,
        {
            "rectifiermlpclassifier__activation": ["relu", "tanh"],
            "rectifiermlpclassifier__activation_l1": [0.0, 1e-3],
        },
        cv=2,
        n_jobs=n_jobs,
    ).fit(docs, labels)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.8


def test_clone_pickle_joblib_roundtrip(fitted, blobs, tmp_path):
    X, _ = blobs
    params = clone(fitted).get_params()
    assert params == fitted.get_params()
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected
    )
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )


def test_model_pickled_on_cuda_loads_on_cpu(fitted, blobs, monkeypatch):
    """Simulate a pickle written after a CUDA fit: storages tagged 'cuda:0' and
    the device recorded as CUDA, then load it on a CPU-only machine."""
    import torch.serialization

    X, y = blobs
    # sparse input and early stopping: every optimizer and callback state
    clf = make_clf(early_stopping=True).fit(sp.csr_matrix(X), y)
    expected = clf.predict_proba(X)
    clf.device_ = "cuda"
    clf.net_.device = "cuda"
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        payload = pickle.dumps(clf)
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(io.BytesIO(_tagged_tensor_bytes(monkeypatch)), weights_only=True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(Warning, match="CUDA"):
        loaded = pickle.loads(payload)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def _tagged_tensor_bytes(monkeypatch):
    """A tensor saved as if it lived on CUDA (to show the tag matters)."""
    import torch.serialization

    buffer = io.BytesIO()
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(torch.ones(2), buffer)
    return buffer.getvalue()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_fit_does_not_touch_the_global_cuda_rng(blobs, device):
    X, y = blobs
    torch.cuda.manual_seed_all(123)
    expected = torch.rand(3, device="cuda")
    torch.cuda.manual_seed_all(123)
    make_clf(max_iter=2, device=device).fit(X, y)
    torch.testing.assert_close(torch.rand(3, device="cuda"), expected, rtol=0, atol=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu_and_unpickles(blobs):
    X, y = blobs
    gpu = make_clf(device="cuda").fit(sp.csr_matrix(X), y)
    cpu = make_clf(device="cpu").fit(sp.csr_matrix(X), y)
    assert gpu.device_ == "cuda"
    assert np.mean(gpu.predict(X) == cpu.predict(X)) > 0.95
    loaded = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(loaded.predict_proba(X), gpu.predict_proba(X), atol=1e-6)


def test_mr_subset_accuracy(data_home):
    from sk_rectifier.datasets import load_mr

    mr = load_mr(data_home)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(mr.data))[:3000]
    docs = [mr.data[i] for i in idx]
    y = mr.target[idx]
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        RectifierMLPClassifier(early_stopping=True, random_state=0),
    )
    pipe.fit(docs[:2400], y[:2400])
    assert pipe.score(docs[2400:], y[2400:]) > 0.65


def test_dense_predictions_follow_every_sparse_update():
    """After every row-wise (sparse) update, written by the compiled kernels
    through NumPy, dense inference reads the updated first layer: it agrees
    with sparse inference of the same rows."""
    rng = np.random.RandomState(0)
    X = sp.random(60, 40, density=0.1, format="csr", random_state=rng)
    y = np.arange(60) % 2
    clf = make_clf(hidden_layer_sizes=(8,))
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
        np.testing.assert_allclose(
            clf.predict_proba(X.toarray()), clf.predict_proba(X), atol=1e-6
        )
