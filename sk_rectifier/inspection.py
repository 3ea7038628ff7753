"""How sparse are the hidden layers? Measures and plots for fitted estimators.

Works with every sk_rectifier estimator (and anything with a
``hidden_activations(X, layer)`` method and ``coefs_``). Plots follow
scikit-learn's ``Display`` convention (``from_estimator``, ``plot``) and need
matplotlib, an optional dependency.
"""

from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state


def _layers(estimator, X):
    """Every hidden layer's activations: in one pass through the estimator's
    ``_hidden_layers`` hook, else layer by layer through
    ``hidden_activations`` until it refuses the index."""
    if hasattr(estimator, "_hidden_layers"):  # sk_rectifier: one forward pass
        return estimator._hidden_layers(X)
    layers = []
    while True:
        try:
            layers.append(estimator.hidden_activations(X, layer=len(layers)))
        except (ValueError, IndexError):
            return layers


def activation_sparsity(estimator, X: Any) -> np.ndarray:
    """Fraction of exact zeros in each hidden layer's output on ``X``.

    Parameters
    ----------
    estimator : fitted sk_rectifier estimator
        A classifier, regressor or autoencoder.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input samples.

    Returns
    -------
    sparsity : ndarray of shape (n_hidden_layers,)
        Fraction of (sample, unit) pairs whose output is exactly 0.

    See Also
    --------
    dead_units : The units that are zero on every sample.
    ActivationHistogramDisplay : The activations' histograms.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> from sk_rectifier.inspection import activation_sparsity
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RectifierMLPClassifier((32, 16), max_iter=5, random_state=0).fit(X, y)
    >>> activation_sparsity(clf, X).shape
    (2,)
    """
    return np.array([float(np.mean(h == 0)) for h in _layers(estimator, X)])


def dead_units(estimator, X: Any) -> list[np.ndarray]:
    """Hidden units that output 0 on every sample of ``X``.

    Parameters
    ----------
    estimator : fitted sk_rectifier estimator
        A classifier, regressor or autoencoder.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input samples.

    Returns
    -------
    dead : list of ndarray of bool
        One mask per hidden layer, True for a dead unit.

    See Also
    --------
    activation_sparsity : The fraction of exact zeros per layer.
    sk_rectifier.RectifierMLPClassifier.prune : Removes dead units.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> from sk_rectifier.inspection import dead_units
    >>> X, y = np.random.RandomState(0).rand(50, 4), np.arange(50) % 2
    >>> clf = RectifierMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    >>> [mask.shape for mask in dead_units(clf, X)]
    [(8,)]
    """
    return [np.all(h == 0, axis=0) for h in _layers(estimator, X)]


class ActivationHistogramDisplay:
    """Histogram of hidden activations per layer, with its fraction of zeros.

    Build it with :meth:`from_estimator`; :meth:`plot` draws one panel per
    hidden layer. The exact zeros are shown as their own bar at 0 and quoted
    in the panel's title, since a rectifier's zeros are the point.

    Parameters
    ----------
    activations : list of ndarray
        Hidden activations of each layer, shape (n_samples, n_units).
    name : str, default=None
        Name of the model, for the titles.

    Attributes
    ----------
    sparsity_ : ndarray
        Fraction of exact zeros per layer.
    figure_ : matplotlib Figure
        Set by :meth:`plot`.
    axes_ : ndarray of matplotlib Axes
        Set by :meth:`plot`.

    See Also
    --------
    activation_sparsity : The fractions of zeros alone.
    L1SweepDisplay : Sparsity against the L1 penalty.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> from sk_rectifier.inspection import ActivationHistogramDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RectifierMLPClassifier((32,), max_iter=5, random_state=0).fit(X, y)
    >>> disp = ActivationHistogramDisplay.from_estimator(clf, X)
    >>> disp.axes_.shape
    (1,)
    """

    def __init__(self, activations, *, name=None):
        self.activations = activations
        self.name = name
        self.sparsity_ = np.array([float(np.mean(a == 0)) for a in activations])

    @classmethod
    def from_estimator(
        cls, estimator, X, *, max_samples=2000, random_state=0, bins=50, ax=None
    ):
        """Compute the activations of ``estimator`` on ``X`` and plot them.

        Parameters
        ----------
        estimator : fitted sk_rectifier estimator
            A classifier, regressor or autoencoder.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        max_samples : int, default=2000
            Use at most this many samples (drawn at random).
        random_state : int, default=0
            Seed of that draw.
        bins : int, default=50
            Histogram bins.
        ax : array of matplotlib Axes, default=None
            One per hidden layer; new ones by default.

        Returns
        -------
        display : ActivationHistogramDisplay
            The plotted display.
        """
        n = X.shape[0]
        if n > max_samples:
            rows = check_random_state(random_state).choice(
                n, max_samples, replace=False
            )
            X = X[np.sort(rows)]
        display = cls(_layers(estimator, X), name=type(estimator).__name__)
        return display.plot(bins=bins, ax=ax)

    def plot(self, *, bins=50, ax=None):
        """Draw the histograms.

        Parameters
        ----------
        bins : int, default=50
            Histogram bins for the non-zero activations.
        ax : array of matplotlib Axes, default=None
            One per hidden layer; new ones by default.

        Returns
        -------
        display : ActivationHistogramDisplay
            ``self``, with ``figure_`` and ``axes_`` set.
        """
        import matplotlib.pyplot as plt

        n = len(self.activations)
        if ax is None:
            fig, ax = plt.subplots(1, n, figsize=(4 * n, 3), squeeze=False)
            ax = ax[0]
        ax = np.atleast_1d(ax)
        for k, (a, values) in enumerate(zip(ax, self.activations)):
            values = values.ravel()
            nonzero = values[values != 0]
            a.hist(nonzero, bins=bins, color="tab:blue", label="non-zero")
            zeros = values.size - nonzero.size
            if zeros:
                a.bar(
                    [0],
                    [zeros],
                    width=(np.ptp(values) or 1) / bins,
                    color="tab:red",
                    label="exact zeros",
                )
            a.set_title(f"layer {k + 1}: {self.sparsity_[k]:.1%} exact zeros")
            a.set_xlabel("activation")
            a.legend(fontsize="small")
        ax[0].set_ylabel("count")
        if self.name:
            ax[0].figure.suptitle(self.name, y=1.04)
        self.axes_ = ax
        self.figure_ = ax[0].figure
        return self


class L1SweepDisplay:
    """Accuracy (or score) against exact sparsity as the L1 penalty on hidden
    activations grows: the paper's Figure 3 (left).

    Build it with :meth:`from_estimator`, which refits clones of an estimator
    with each ``activation_l1`` value.

    Parameters
    ----------
    l1_values : array-like
        The ``activation_l1`` values tried.
    sparsity : ndarray of shape (n_values, n_hidden_layers)
        Exact sparsity of each hidden layer on the evaluation data.
    scores : ndarray of shape (n_values,)
        The estimator's ``score`` on the evaluation data (accuracy for a
        classifier, R^2 for a regressor).
    score_name : str, default="accuracy"
        Label of the score axis.

    See Also
    --------
    ActivationHistogramDisplay : The activations of one model.
    activation_sparsity : The fraction of exact zeros per layer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> from sk_rectifier.inspection import L1SweepDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RectifierMLPClassifier((32,), max_iter=5, random_state=0)
    >>> disp = L1SweepDisplay.from_estimator(clf, X, y, l1_values=[0, 1e-3])
    >>> disp.scores.shape
    (2,)
    """

    def __init__(self, l1_values, sparsity, scores, *, score_name="accuracy"):
        self.l1_values = np.asarray(l1_values, dtype=float)
        self.sparsity = np.asarray(sparsity, dtype=float)
        self.scores = np.asarray(scores, dtype=float)
        self.score_name = score_name

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, l1_values, X_test=None, y_test=None, ax=None
    ):
        """Refit ``estimator`` with each ``activation_l1`` and plot the sweep.

        Parameters
        ----------
        estimator : sk_rectifier classifier or regressor
            Fitted or not; clones are fitted.
        X, y : training data
            Data the clones are fitted on.
        l1_values : array-like of float
            ``activation_l1`` values to try.
        X_test, y_test : evaluation data, default=None
            Where sparsity and score are measured (``X, y`` if None).
        ax : matplotlib Axes, default=None
            Where to draw; a new one by default.

        Returns
        -------
        display : L1SweepDisplay
            The plotted display.
        """
        X_eval, y_eval = (X, y) if X_test is None else (X_test, y_test)
        sparsity, scores = [], []
        for l1 in l1_values:
            model = clone(estimator).set_params(activation_l1=l1).fit(X, y)
            sparsity.append(activation_sparsity(model, X_eval))
            scores.append(model.score(X_eval, y_eval))
        name = "accuracy" if is_classifier(estimator) else "R^2"
        return cls(l1_values, sparsity, scores, score_name=name).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the score against the mean exact sparsity over hidden layers.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new one by default.

        Returns
        -------
        display : L1SweepDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        mean_sparsity = self.sparsity.mean(axis=1)
        ax.plot(mean_sparsity, self.scores, "o-")
        for x, s, l1 in zip(mean_sparsity, self.scores, self.l1_values):
            ax.annotate(
                f"{l1:g}",
                (x, s),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize="small",
            )
        ax.set_xlabel("exact sparsity of hidden layers (mean)")
        ax.set_ylabel(self.score_name)
        ax.set_title("L1 penalty on activations (labels: activation_l1)")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
