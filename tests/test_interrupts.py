"""Ctrl-C at any moment of a fit leaves the documented state.

A ``KeyboardInterrupt`` is raised at the k-th of every torch module call and
every skorch callback notification of a fit (the first batch, the middle of an
epoch, an epoch's end and the next one's start, the early-stopping validation
pass, the sparsity pass after training, the encoding between autoencoder
layers), k drawn at random. The README's promise, checked each time:

* if an epoch of this call completed, ``fit`` returns with one warning, and
  the estimator is exactly the one a fit stopped after those epochs gives
  (same predictions, ``n_iter_`` and loss curve);
* otherwise -- or if the interrupt came outside the epochs -- the
  ``KeyboardInterrupt`` propagates and the estimator is exactly as it was
  before the call.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sk_rectifier._engine as engine
from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class _Interrupter:
    """Counts module calls, callback notifications and inference passes;
    raises at the k-th."""

    def __init__(self, monkeypatch, at=None):
        self.at, self.calls = at, 0
        module_call = torch.nn.Module.__call__
        notify = engine._Net.notify

        def call(module, *args, **kwargs):
            self.tick()
            return module_call(module, *args, **kwargs)

        def notifying(net, name, **kwargs):
            self.tick()
            return notify(net, name, **kwargs)

        def predicting(*args, **kwargs):  # validation, sparsity, encoding
            self.tick()
            out = predict(*args, **kwargs)
            self.tick()
            return out

        predict = engine.predict
        monkeypatch.setattr(torch.nn.Module, "__call__", call)
        monkeypatch.setattr(engine._Net, "notify", notifying)
        monkeypatch.setattr(engine, "predict", predicting)

    def tick(self):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt


def _data():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 5)
    return X, np.arange(60) % 3


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _snapshot(est, X):
    """What 'exactly as it was' compares: pickled state is not comparable
    (tensors), so the fitted attributes and outputs."""
    if not hasattr(est, "n_iter_"):
        return None
    out = est.transform(X) if hasattr(est, "transform") else est.predict(X)
    curve = getattr(est, "loss_curve_", getattr(est, "reconstruction_loss_curve_", 0))
    return est.n_iter_, repr(curve), out.tobytes()


def _run(make, calls, X, y, at, monkeypatch):
    """Run ``calls`` (a list of (method, kwargs)) on ``make()``, the last one
    interrupted at the ``at``-th event; return (estimator, state before the
    last call, interrupted?, warnings of the last call)."""
    est = make()
    for method, params in calls[:-1]:
        _quiet(
            getattr(est.set_params(**params), method), X, *([] if y is None else [y])
        )
    method, params = calls[-1]
    est.set_params(**params)
    before = _snapshot(est, X)
    args = [X] if y is None else [X, y]
    with monkeypatch.context() as m:
        interrupter = _Interrupter(m, at)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                getattr(est, method)(*args)
                raised = False
            except KeyboardInterrupt:
                raised = True
    return est, before, raised, caught, interrupter.calls


def _count(make, calls, X, y, monkeypatch):
    *_, n = _run(make, calls, X, y, None, monkeypatch)
    return n


SCENARIOS = {
    # name: (factory, calls, supervised)
    "fit": (
        lambda: RectifierMLPClassifier(
            (8,), max_iter=4, batch_size=20, tol=0, random_state=0
        ),
        [("fit", {})],
        True,
    ),
    "fit with early stopping": (
        lambda: RectifierMLPRegressor(
            (8,), max_iter=4, batch_size=20, tol=0, early_stopping=True, random_state=0
        ),
        [("fit", {})],
        True,
    ),
    "warm fit": (
        lambda: RectifierMLPClassifier(
            (8, 4), max_iter=2, batch_size=20, tol=0, warm_start=True, random_state=0
        ),
        [("fit", {}), ("fit", {"max_iter": 3})],
        True,
    ),
    "partial_fit": (
        lambda: RectifierMLPClassifier((8,), batch_size=20, random_state=0),
        [("fit", {"max_iter": 2}), ("partial_fit", {})],
        True,
    ),
    "autoencoder fit": (
        lambda: DenoisingAutoencoderTransformer(
            (8, 4), max_iter=3, batch_size=20, tol=0, random_state=0
        ),
        [("fit", {})],
        False,
    ),
}


def _reference(make, calls, X, y, epochs):
    """The estimator a fit stopped after ``epochs`` epochs of the last call
    gives, without any interrupt."""
    est = make()
    for method, params in calls[:-1]:
        _quiet(getattr(est.set_params(**params), method), X, y)
    method, params = calls[-1]
    _quiet(getattr(est.set_params(**{**params, "max_iter": epochs}), method), X, y)
    return est


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@SETTINGS
@given(draw=st.data())
def test_an_interrupt_at_any_moment_leaves_the_documented_state(
    scenario, draw, monkeypatch
):
    make, calls, supervised = SCENARIOS[scenario]
    X, y = _data()
    y = y if supervised else None
    n_events = _count(make, calls, X, y, monkeypatch)
    at = draw.draw(st.integers(1, n_events), label="interrupt at event")
    est, before, raised, caught, _ = _run(make, calls, X, y, at, monkeypatch)
    interrupted = [w for w in caught if "interrupted" in str(w.message)]
    if raised:
        assert not interrupted, [str(w.message) for w in caught]
        assert _snapshot(est, X) == before  # exactly as before the call
        return
    # the interrupt was not lost: it stopped training, with one warning
    assert len(interrupted) == 1, [str(w.message) for w in caught]
    if scenario == "autoencoder fit":
        _check_autoencoder(est, X)
        return
    epochs = est.n_iter_ - (before[0] if before else 0)
    assert epochs >= 1 and len(est.loss_curve_) == est.n_iter_
    reference = _reference(make, calls, X, y, epochs)
    assert est.loss_curve_ == reference.loss_curve_
    np.testing.assert_array_equal(
        est.predict_proba(X) if hasattr(est, "classes_") else est.predict(X),
        reference.predict_proba(X)
        if hasattr(est, "classes_")
        else reference.predict(X),
    )
    pickle.loads(pickle.dumps(est)).predict(X)  # still a whole estimator


def _check_autoencoder(dae, X):
    """The kept layers: the first equals a one-layer fit of as many epochs;
    the stack is consistent and encodes to finite values."""
    n_layers = len(dae.coefs_)
    assert 1 <= n_layers <= 2 and len(dae.n_iter_per_layer_) == n_layers
    assert all(n >= 1 for n in dae.n_iter_per_layer_)
    assert dae.n_iter_ == sum(dae.n_iter_per_layer_)
    reference = _quiet(
        DenoisingAutoencoderTransformer(
            (8,),
            max_iter=dae.n_iter_per_layer_[0],
            batch_size=20,
            tol=0,
            random_state=0,
        ).fit,
        X,
    )
    np.testing.assert_array_equal(dae.coefs_[0], reference.coefs_[0])
    codes = dae.transform(X)
    assert codes.shape == (len(X), (8, 4)[n_layers - 1]) and np.isfinite(codes).all()


def test_the_event_count_covers_every_phase(monkeypatch):
    """The interrupt points include validation and the sparsity pass: more
    events than the training batches alone."""
    make, calls, _ = SCENARIOS["fit with early stopping"]
    X, y = _data()
    n_all = _count(make, calls, X, y, monkeypatch)
    n_without = _count(
        lambda: make().set_params(early_stopping=False), calls, X, y, monkeypatch
    )
    assert n_all > n_without > 4 * 3  # 4 epochs of 3 batches, and more
