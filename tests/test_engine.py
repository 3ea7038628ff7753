"""The engine under the estimators: input switches, exact rollback, version-
independent rules, warnings at the user's line, one parameter text, row-
independent predictions, and the boundaries between modules."""

import ast
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning

import sk_rectifier
import sk_rectifier._engine as engine
from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)

ESTIMATORS = [
    RectifierMLPClassifier,
    RectifierMLPRegressor,
    DenoisingAutoencoderTransformer,
]
PACKAGE = Path(sk_rectifier.__file__).parent


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(90, 6)
    X[X < 0.5] = 0  # half zeros, so that the CSR form is really sparse
    return X, np.arange(90) % 3


def _clf(**kw):
    params = dict(hidden_layer_sizes=(8, 4), max_iter=4, random_state=0, tol=0)
    return RectifierMLPClassifier(**{**params, **kw})


def _reg(**kw):
    params = dict(hidden_layer_sizes=(8,), max_iter=4, random_state=0, tol=0)
    return RectifierMLPRegressor(**{**params, **kw})


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------- 1. dense <-> sparse
@pytest.mark.parametrize("make", [_clf, _reg], ids=["classifier", "regressor"])
def test_partial_fit_switches_between_dense_and_sparse(make, data):
    X, y = data
    est = make()
    extra = {"classes": np.unique(y)} if make is _clf else {}
    est.partial_fit(X, y, **extra)
    est.partial_fit(sp.csr_matrix(X), y)
    est.partial_fit(X, y)
    est.partial_fit(sp.csc_matrix(X), y)
    assert est.n_iter_ == 4
    np.testing.assert_allclose(
        est.predict(X), est.predict(sp.csr_matrix(X)), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("make", [_clf, _reg], ids=["classifier", "regressor"])
def test_warm_start_switches_between_sparse_and_dense(make, data):
    X, y = data
    est = make(warm_start=True)
    for X_fit in (sp.csr_matrix(X), X, sp.csr_matrix(X)):
        _quiet(est.fit, X_fit, y)
    assert est.n_iter_ == 12


# ----------------------------------------------------------- 2. rollback
def _raise_on_call(monkeypatch, n, exception):
    """Make the n-th training step from now raise ``exception``."""
    calls = {"n": 0}
    step = engine._Net.train_step_single

    def failing(self, batch, **kw):
        calls["n"] += 1
        if calls["n"] == n:
            raise exception
        return step(self, batch, **kw)

    monkeypatch.setattr(engine._Net, "train_step_single", failing)


def _fail_on_call(monkeypatch, n):
    _raise_on_call(monkeypatch, n, RuntimeError("injected failure"))


def _state(est, X):
    net = est.net_
    optimizers = [
        {k: (v.clone() if torch.is_tensor(v) else v) for k, v in s.items()}
        for o in (net.optimizer_, net.sparse_optimizer_)
        for s in o.state.values()
    ]
    return {
        "proba": est.predict(X),
        "history": len(net.history),
        "batch_size": net.batch_size,
        "max_epochs": net.max_epochs,
        "n_iter_": est.n_iter_,
        "weights": [w.copy() for w in est.coefs_],
        "optimizers": optimizers,
    }


def _assert_same(before, after):
    np.testing.assert_array_equal(before["proba"], after["proba"])
    for key in ("history", "batch_size", "max_epochs", "n_iter_"):
        assert before[key] == after[key], key
    for a, b in zip(before["weights"], after["weights"]):
        np.testing.assert_array_equal(a, b)
    assert len(before["optimizers"]) == len(after["optimizers"])
    for a, b in zip(before["optimizers"], after["optimizers"]):
        for key in a:
            if torch.is_tensor(a[key]):
                assert torch.equal(a[key], b[key]), key
            else:
                assert a[key] == b[key], key


@pytest.mark.parametrize(
    "how",
    ["warm_start", "partial_fit", "partial_fit_sparse", "pretraining_refit"],
)
def test_a_failed_fit_restores_the_network_exactly(how, data, monkeypatch):
    X, y = data
    if how == "pretraining_refit":
        dae = DenoisingAutoencoderTransformer((8, 4), max_iter=2, random_state=0)
        est = _quiet(_clf(pretraining=dae).fit, X, y)
    else:
        est = _quiet(_clf(warm_start=how == "warm_start").fit, X, y)
    before = _state(est, X)
    pretraining = getattr(est, "pretraining_", None)
    with monkeypatch.context() as m:
        _fail_on_call(m, 3)
        with pytest.raises(RuntimeError, match="injected"):
            if how == "warm_start":
                est.set_params(batch_size=30).fit(X, y)
            elif how.startswith("partial_fit"):
                X_fit = sp.csr_matrix(X) if how.endswith("sparse") else X
                est.set_params(batch_size=30).partial_fit(X_fit, y)
            else:
                est.set_params(batch_size=30).fit(X, y)
    est.set_params(batch_size="auto")
    _assert_same(before, _state(est, X))
    assert getattr(est, "pretraining_", None) is pretraining


def test_a_failed_first_fit_leaves_the_estimator_unfitted(data, monkeypatch):
    X, y = data
    est = _clf()
    with monkeypatch.context() as m:
        _fail_on_call(m, 2)
        with pytest.raises(RuntimeError):
            est.fit(X, y)
    assert not hasattr(est, "net_") and not hasattr(est, "classes_")
    assert not hasattr(est, "n_features_in_")


# -------------------------------------------------- 3. version-independent
@pytest.mark.parametrize("make", [_clf, _reg], ids=["classifier", "regressor"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_all_zero_sample_weights_are_refused(make, method, data):
    X, y = data
    est = make()
    kw = {"classes": np.unique(y)} if make is _clf and method == "partial_fit" else {}
    with pytest.raises(ValueError, match="at least one non-zero"):
        getattr(est, method)(X, y, sample_weight=np.zeros(len(y)), **kw)


def _private_imports(path):
    """Names imported from private scikit-learn/skorch modules, or private
    names imported from them, in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root not in ("sklearn", "skorch"):
                continue
            private_module = any(p.startswith("_") for p in node.module.split("."))
            names = [a.name for a in node.names if a.name.startswith("_")]
            if private_module or names:
                found.append(f"{node.module}: {[a.name for a in node.names]}")
    return found


def test_private_names_are_imported_in_compat_only():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "_compat.py" and _private_imports(path):
            offenders[str(path.relative_to(PACKAGE))] = _private_imports(path)
    assert offenders == {}
    assert _private_imports(PACKAGE / "_compat.py")  # the check can fail


@pytest.mark.parametrize(
    "name",
    [
        "_optimizers",
        "_unregister_attribute",
        "_zero_grad_optimizer",
        "_step_optimizer",
        "misses_",
        "interrupted_",
        "_initialize_optimizer",
    ],
)
def test_no_skorch_internals_are_used(name):
    for path in PACKAGE.rglob("*.py"):
        assert not re.search(rf"\.{name}\b", path.read_text()), (path, name)


def test_only_the_engine_imports_skorch():
    importers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(from|import) skorch", path.read_text(), re.M)
    }
    assert importers == {"_engine.py"}


def test_nn_imports_neither_sklearn_nor_numpy():
    """sk_rectifier.nn is PyTorch only, but for the optional compiled kernels
    (Numba and its code generator llvmlite, on NumPy views), which import
    nothing else of ours or others'."""
    for path in (PACKAGE / "nn").rglob("*.py"):
        text = path.read_text()
        if path.name == "_compiled.py":
            imports = re.findall(r"^\s*(?:from|import) (\S+)", text, re.M)
            packages = {name.split(".")[0] for name in imports}
            assert packages == {"numba", "numpy", "llvmlite"}, imports
            continue
        assert not re.search(
            r"^\s*(from|import) (sklearn|skorch|numpy|scipy|numba)", text, re.M
        ), path


# ---------------------------------------------------- 4. warnings location
def _interrupt_on_call(monkeypatch, n):
    _raise_on_call(monkeypatch, n, KeyboardInterrupt)


def test_max_iter_warning_points_at_the_callers_line(data):
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _clf(max_iter=2).fit(X, y)
    (warning,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert "maximum iterations" in str(warning.message)
    assert warning.filename == __file__


def test_divergence_warning_points_at_the_callers_line(data):
    X, y = data
    clf = _quiet(_clf(warm_start=True).fit, X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.set_params(learning_rate_init=1e30, max_iter=3).fit(X * 1e30, y)
    (warning,) = [w for w in caught if "diverged" in str(w.message)]
    assert warning.filename == __file__


@pytest.mark.parametrize("layers", [(8,), (8, 4)])
def test_an_interrupted_autoencoder_warns_once_at_the_callers_line(
    layers, data, monkeypatch
):
    X, _ = data
    dae = DenoisingAutoencoderTransformer(layers, max_iter=3, batch_size=30, tol=0)
    with monkeypatch.context() as m:
        _interrupt_on_call(m, 5)  # in the 2nd epoch of the first layer
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dae.fit(X)
    interrupted = [w for w in caught if "interrupted" in str(w.message)]
    assert len(interrupted) == 1, [str(w.message) for w in caught]
    assert interrupted[0].filename == __file__
    assert len(dae.coefs_) == 1 and dae.n_iter_per_layer_ == [1]


def test_interrupt_before_the_first_epoch_leaves_the_estimator_unfitted(
    data, monkeypatch
):
    X, y = data
    est = _clf()
    with monkeypatch.context() as m:
        _interrupt_on_call(m, 1)
        with pytest.raises(KeyboardInterrupt, match="before an epoch of this call"):
            est.fit(X, y)
    assert not hasattr(est, "net_")


# ----------------------------------------------------------- 5. the edges
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_hidden_activations_takes_numpy_integers_and_refuses_booleans(cls, data):
    X, y = data
    est = _quiet(cls((8, 4), max_iter=2, random_state=0).fit, X, y)
    np.testing.assert_array_equal(
        est.hidden_activations(X, layer=np.int64(0)), est.hidden_activations(X, 0)
    )
    for layer in (True, np.bool_(False), 1.0, 2, -3):
        with pytest.raises(ValueError, match="layer must be an integer"):
            est.hidden_activations(X, layer=layer)


def _documented_parameters(cls):
    doc = inspect.getdoc(cls)
    section = doc.split("Parameters\n----------\n")[1].split("\n\n")[0]
    return re.findall(r"^(\w+) : .*default=(.*)$", section, re.M)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_signature_constraints_and_docstring_agree(cls):
    signature = inspect.signature(cls).parameters
    documented = _documented_parameters(cls)
    assert [name for name, _ in documented] == list(signature)
    assert set(cls._parameter_constraints) == set(signature)
    for name, default in documented:
        expected = signature[name].default
        shown = f'"{expected}"' if isinstance(expected, str) else repr(expected)
        assert default == shown, name
    assert "SparseAdam" not in inspect.getdoc(cls)


# ------------------------------------------------ 6. row-independent outputs
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_outputs_do_not_depend_on_the_other_rows(cls, sparse):
    """A row's output is the same, to float32 rounding, whatever other rows
    share its call (not bitwise: matrix-product kernels pick their summation
    order by batch shape), and a call repeated gives the same bits. (Rounding
    is relative to the terms summed, not to the result: a small output from
    terms of order 1 differs by about 1e-7 in absolute terms, hence atol.)"""
    rng = np.random.RandomState(1)
    X = rng.rand(300, 200)
    X[X < 0.6] = 0
    y = np.arange(300) % 2
    if sparse:
        X = sp.csr_matrix(X)
    est = _quiet(cls((256, 64), max_iter=3, random_state=0).fit, X, y)
    method = est.transform if cls is DenoisingAutoencoderTransformer else None
    method = method or getattr(est, "predict_proba", est.predict)
    full = method(X)
    np.testing.assert_array_equal(method(X), full)
    for start, stop in [(0, 1), (1, 2), (5, 12), (7, 16), (13, 70), (30, 299)]:
        part = method(X[start:stop])
        np.testing.assert_allclose(part, full[start:stop], rtol=1e-5, atol=1e-6)
    for layer in (0, 1):
        whole = est.hidden_activations(X, layer)
        part = est.hidden_activations(X[3:9], layer)
        np.testing.assert_allclose(part, whole[3:9], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ threads
def _record_threads(monkeypatch):
    """Record torch's intra-op threads at every training step and every
    inference batch."""
    seen = {"train": [], "predict": []}
    step = engine._Net.train_step_single
    predict = engine.predict

    def recording_step(self, batch, **kw):
        seen["train"].append(torch.get_num_threads())
        return step(self, batch, **kw)

    def recording_predict(module, X, fn, device, **kw):
        seen["predict"].append(torch.get_num_threads())
        return predict(module, X, fn, device, **kw)

    monkeypatch.setattr(engine._Net, "train_step_single", recording_step)
    monkeypatch.setattr(engine, "predict", recording_predict)
    return seen


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_n_threads_is_used_and_the_global_setting_restored(
    n_threads, data, monkeypatch
):
    X, y = data
    before = torch.get_num_threads()
    seen = _record_threads(monkeypatch)
    clf = _quiet(_clf(n_threads=n_threads).fit, X, y)
    clf.predict_proba(X)
    assert set(seen["train"]) == set(seen["predict"]) == {n_threads}
    assert torch.get_num_threads() == before


def test_automatic_threads_follow_the_load(data, monkeypatch):
    import sk_rectifier._mixin as mixin

    X, y = data
    seen = _record_threads(monkeypatch)
    threads = {"n": 3}  # torch's setting before the calls: the ceiling
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads["n"])
    monkeypatch.setattr(torch, "set_num_threads", lambda n: threads.update(n=n))
    monkeypatch.setattr(mixin, "_available_cores", lambda: 4)

    monkeypatch.setattr(mixin, "_others_running", lambda: 0)
    clf = _quiet(_clf().fit, X, y)
    assert set(seen["train"]) == {3}  # idle: up to torch's own setting
    seen["train"].clear()
    monkeypatch.setattr(mixin, "_others_running", lambda: 3)
    _quiet(_clf().fit, X, y)
    assert set(seen["train"]) == {1}  # 3 of 4 cores busy elsewhere: 1 thread
    seen["predict"].clear()
    monkeypatch.setattr(mixin, "_others_running", lambda: 0)
    clf.predict(X[:5])  # a small prediction: one thread, whatever the load
    assert seen["predict"] == [1]
    assert threads["n"] == 3  # restored after every call


def _record_batches(monkeypatch):
    """Record the thread, torch's threads and the rows of every inference
    batch."""
    import threading

    seen = []
    to_tensor = engine.to_tensor

    def recording(chunk):
        seen.append((threading.get_ident(), torch.get_num_threads(), chunk.shape[0]))
        return to_tensor(chunk)

    monkeypatch.setattr(engine, "to_tensor", recording)
    return seen


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_a_busy_machine_shares_the_batches_among_single_thread_workers(
    sparse, data, monkeypatch
):
    """Beside busy processes, a prediction of several batches runs them in
    worker threads of one torch thread each, in order, with the same
    results; torch's setting is restored, and a fixed ``n_threads`` keeps
    its intra-op threads."""
    import threading

    import sk_rectifier._mixin as mixin

    X, y = data
    X = sp.csr_matrix(X) if sparse else X
    clf = _quiet(_clf().fit, X, y)
    fixed = _quiet(_clf(n_threads=2).fit, X, y)
    monkeypatch.setattr(engine, "INFERENCE_BATCH", 16)  # 90 rows: 6 batches
    monkeypatch.setattr(mixin, "_SMALL_WORK", 0)  # (as if each were large)
    monkeypatch.setattr(mixin, "_available_cores", lambda: 2)
    seen = _record_batches(monkeypatch)
    main = threading.get_ident()
    with mixin.torch_threads(2):
        idle = clf.predict_proba(X), clf.hidden_activations(X, 0)
        assert {(ident, threads) for ident, threads, _ in seen} == {(main, 2)}
        seen.clear()
        monkeypatch.setattr(mixin, "_others_running", lambda: 1)
        busy = clf.predict_proba(X), clf.hidden_activations(X, 0)
        assert torch.get_num_threads() == 2
        workers = {ident for ident, _, _ in seen}
        # (the pool starts a second thread when the first is still busy)
        assert main not in workers and len(workers) in (1, 2)
        assert {threads for _, threads, _ in seen} == {1}
        assert sorted(rows for *_, rows in seen) == [10] * 2 + [16] * 10
        seen.clear()
        fixed.predict_proba(X)
        assert {(ident, threads) for ident, threads, _ in seen} == {(main, 2)}
    for a, b in zip(busy, idle):
        a, b = (a.toarray(), b.toarray()) if sp.issparse(a) else (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_workers_name_the_row_that_overflowed(data, monkeypatch):
    import threading

    import sk_rectifier._mixin as mixin

    X, y = data
    reg = _quiet(_reg().fit, X, y)
    monkeypatch.setattr(engine, "INFERENCE_BATCH", 16)
    monkeypatch.setattr(mixin, "_SMALL_WORK", 0)
    monkeypatch.setattr(mixin, "_available_cores", lambda: 2)
    monkeypatch.setattr(mixin, "_others_running", lambda: 1)
    seen = _record_batches(monkeypatch)
    X_large = X.copy()
    X_large[70] = 3e38
    with mixin.torch_threads(2), pytest.raises(ValueError, match=r"rows \[70\]"):
        reg.predict(X_large)
    assert threading.get_ident() not in {ident for ident, _, _ in seen}


def test_in_order_keeps_the_order_and_stops_at_an_error():
    import time

    started = []

    def fn(i):
        started.append(i)
        time.sleep(0.002 * ((7 - i) % 3))  # later items may finish first
        if i == 5:
            raise KeyError(i)
        return i

    out = []
    engine._in_order(fn, range(5), 2, out.append)
    assert out == [0, 1, 2, 3, 4]
    started.clear()
    out.clear()
    with pytest.raises(KeyError):
        engine._in_order(fn, range(40), 2, out.append)
    assert out == [0, 1, 2, 3, 4]
    assert max(started) <= 5 + 2  # never more than workers + 1 ahead


def test_others_running_sees_a_busy_process(monkeypatch):
    import subprocess
    import sys
    import time

    import sk_rectifier._mixin as mixin

    monkeypatch.undo()  # the real reading, not conftest's idle machine
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        seen = []
        for _ in range(8):
            mixin._LAST_READING[:] = [0.0, 0]  # a fresh reading each time
            seen.append(mixin._others_running())
            time.sleep(0.05)
    finally:
        busy.kill()
        busy.wait()
    assert all(isinstance(n, int) and n >= 0 for n in seen)
    assert max(seen) >= 1  # the busy loop is running (on some core) most reads


# ------------------------------------------------------------- from review
@pytest.mark.parametrize("first, then", [("sgd", "adam"), ("adam", "sgd")])
def test_warm_start_may_change_the_solver(first, then, data):
    X, y = data
    clf = _quiet(_clf(solver=first, warm_start=True).fit, X, y)
    _quiet(clf.set_params(solver=then).fit, X, y)
    _quiet(clf.set_params(solver=first).fit, X, y)
    assert clf.n_iter_ == 12


def test_sgd_with_momentum_switches_between_sparse_and_dense(data):
    X, y = data
    clf = _clf(solver="sgd", momentum=0.9)
    clf.partial_fit(sp.csr_matrix(X), y, classes=np.unique(y))
    clf.partial_fit(X, y)
    clf.partial_fit(sp.csr_matrix(X), y)
    assert np.isfinite(clf.coefs_[0]).all()


@pytest.mark.parametrize("nesterov", [False, True])
def test_lazy_sgd_matches_torch_sgd_on_dense_gradients(nesterov):
    from sk_rectifier.nn import LazySGD

    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 3))
    b = torch.nn.Parameter(a.detach().clone())
    ours = LazySGD([a], lr=0.1, momentum=0.9, nesterov=nesterov)
    theirs = torch.optim.SGD([b], lr=0.1, momentum=0.9, nesterov=nesterov)
    for _ in range(4):
        grad = torch.randn(5, 3)
        a.grad, b.grad = grad.clone(), grad.clone()
        ours.step()
        theirs.step()
    torch.testing.assert_close(a, b)


def test_a_failed_partial_fit_leaves_the_random_state_as_it_was(data, monkeypatch):
    X, y = data

    def run(fail):
        clf = _clf(batch_size=7)
        clf.partial_fit(X, y, classes=np.unique(y))
        if fail:
            with monkeypatch.context() as m:
                _fail_on_call(m, 2)
                with pytest.raises(RuntimeError):
                    clf.partial_fit(X, y)
        clf.partial_fit(X, y)
        return clf.coefs_[0]

    np.testing.assert_array_equal(run(fail=True), run(fail=False))


def test_every_training_batch_runs_with_every_module_in_training_mode():
    """The net sets a module's mode only when some submodule is not in it:
    a submodule a callback put in eval mode before a batch is back in
    training mode for that batch, as with skorch's own setting."""
    from skorch.callbacks import Callback

    class EvalDropout(Callback):
        def __init__(self):
            self.modes = []

        def on_batch_begin(self, net, training=False, **kwargs):
            if training:
                net.module_.dropout.eval()

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.modes.append([m.training for m in net.module_.modules()])

    X, y = np.random.RandomState(0).rand(40, 5), np.arange(40) % 2
    callback = EvalDropout()
    RectifierMLPClassifier((4,), dropout=0.5, max_iter=2, callbacks=[callback]).fit(
        X, y
    )
    assert len(callback.modes) == 2 and all(all(m) for m in callback.modes)


def test_every_callback_event_reaches_the_callbacks_that_listen():
    """The net calls only the callback methods that override skorch's no-ops:
    each event still reaches every callback that defines it, as often as
    skorch calls it, including a callback given by ``set_params`` between
    fits (the net's list of listeners follows its callbacks)."""
    from skorch.callbacks import Callback

    log = []  # (the net holds a clone of each callback, and drops it after)

    class Count(Callback):
        def __init__(self, events=("on_batch_begin",)):
            self.events = events

        def _seen(self, name):
            if name in self.events:
                log.append(name)

        def on_batch_begin(self, net, **kwargs):
            self._seen("on_batch_begin")

        def on_batch_end(self, net, **kwargs):
            self._seen("on_batch_end")

        def on_grad_computed(self, net, named_parameters, **kwargs):
            assert len(list(named_parameters)) == 4  # two layers' weight, bias
            self._seen("on_grad_computed")

        def on_epoch_end(self, net, **kwargs):
            self._seen("on_epoch_end")

    def seen(clf):
        counts = {name: log.count(name) for name in set(log)}
        log.clear()
        return counts

    X, y = np.random.RandomState(0).rand(50, 5), np.arange(50) % 2
    clf = RectifierMLPClassifier((4,), batch_size=20, max_iter=2, tol=0.0)
    clf.set_params(callbacks=[Count()]).fit(X, y)
    assert seen(clf) == {"on_batch_begin": 6}  # 3 batches, 2 epochs
    every = ("on_batch_begin", "on_batch_end", "on_grad_computed", "on_epoch_end")
    clf.set_params(callbacks=[Count(every)], max_iter=3).fit(X, y)
    batches = dict.fromkeys(every[:3], 9)
    assert seen(clf) == {**batches, "on_epoch_end": 3}
    clf.partial_fit(X, y)  # the same net, one more epoch
    assert seen(clf) == {**dict.fromkeys(every[:3], 3), "on_epoch_end": 1}
