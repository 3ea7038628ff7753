import matplotlib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from sk_rectifier import DenoisingAutoencoderTransformer, RectifierMLPClassifier
from sk_rectifier.inspection import (
    ActivationHistogramDisplay,
    L1SweepDisplay,
    activation_sparsity,
    dead_units,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


@pytest.fixture(scope="module")
def clf(digits):
    X, y = digits
    return RectifierMLPClassifier((32, 16), max_iter=20, random_state=0).fit(X, y)


def test_activation_sparsity_matches_hidden_activations(clf, digits):
    X, _ = digits
    expected = [np.mean(clf.hidden_activations(X, layer=k) == 0) for k in (0, 1)]
    np.testing.assert_allclose(activation_sparsity(clf, X), expected)
    np.testing.assert_allclose(activation_sparsity(clf, X), clf.activation_sparsity_)


def test_dead_units(clf, digits):
    X, _ = digits
    dead = dead_units(clf, X)
    assert [d.shape for d in dead] == [(32,), (16,)]
    H = clf.hidden_activations(X, layer=0)
    np.testing.assert_array_equal(dead[0], (H == 0).all(axis=0))
    # a unit whose bias and weights are pushed far negative is dead
    killed = RectifierMLPClassifier((8,), max_iter=1, random_state=0).fit(X, digits[1])
    with torch.no_grad():
        killed.net_.module_.input_layer.bias[3] = -1e6
    assert dead_units(killed, X)[0][3]


def test_autoencoder_layers_are_inspected(digits):
    X, _ = digits
    dae = DenoisingAutoencoderTransformer((16, 8), max_iter=3, random_state=0).fit(X)
    np.testing.assert_allclose(activation_sparsity(dae, X), dae.activation_sparsity_)


def test_histogram_display_renders_to_file(clf, digits, tmp_path):
    X, _ = digits
    disp = ActivationHistogramDisplay.from_estimator(clf, X, max_samples=200)
    assert disp.axes_.shape == (2,)
    assert "exact zeros" in disp.axes_[0].get_title()
    assert ((disp.sparsity_ >= 0) & (disp.sparsity_ <= 1)).all()
    path = tmp_path / "hist.png"
    disp.figure_.savefig(path)
    assert path.stat().st_size > 1000


def test_l1_sweep_display(digits, tmp_path):
    X, y = digits
    base = RectifierMLPClassifier((32,), max_iter=20, random_state=0)
    disp = L1SweepDisplay.from_estimator(
        base, X[:400], y[:400], l1_values=[0.0, 1e-2], X_test=X[400:], y_test=y[400:]
    )
    assert disp.sparsity.shape == (2, 1)
    assert disp.sparsity[1, 0] > disp.sparsity[0, 0]
    assert disp.ax_.get_xlabel().startswith("exact sparsity")
    disp.figure_.savefig(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000
