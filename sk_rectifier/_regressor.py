"""RectifierMLPRegressor: rating regression with a rectifier network."""

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from sk_rectifier._compat import StrOptions, _fit_context
from sk_rectifier._docstrings import fill_parameters
from sk_rectifier._mixin import arguments_of, check_sample_weight
from sk_rectifier._mlp import LBFGS_DOCS, BaseMLP, _stochastic_solver


def _weighted_r2(outputs, y, sample_weight):
    return r2_score(y, outputs, sample_weight=sample_weight)


def _weighted_r2_of_exp(outputs, y, sample_weight):
    return r2_score(y, np.exp(outputs), sample_weight=sample_weight)


#: loss -> (torch criterion, output activation, early-stopping score)
_LOSSES = {
    "squared_error": (torch.nn.MSELoss, "identity", _weighted_r2),
    "poisson": (torch.nn.PoissonNLLLoss, "exp", _weighted_r2_of_exp),
}


@fill_parameters(**LBFGS_DOCS, score="R^2")
class RectifierMLPRegressor(RegressorMixin, BaseMLP):
    """Deep sparse rectifier network regressor (squared error).

    The regression counterpart of :class:`~sk_rectifier.RectifierMLPClassifier`
    (the paper's sentiment experiment predicted star ratings and reported
    RMSE): same parameters and behaviour, with a linear output layer and the
    squared error summed over outputs. Early stopping monitors the validation
    R^2.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    n_outputs_ : int
        Number of regression targets.
    out_activation_ : {"identity", "exp"}
        The output activation of the ``loss``'s link.
    n_layers_ : int
        Number of layers, input and output included.
    t_ : int
        Number of training samples seen by the solver (the ``"invscaling"``
        schedule's ``t``); summed over warm starts and partial fits.
    pruned_units_ : list of int
        Units each hidden layer lost (on an estimator returned by
        :meth:`prune` only).
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss at each epoch.
    loss_ : float
        Training loss of the last epoch (``loss_curve_[-1]``); the
        penalties count only the weights that train (not the layers
        ``freeze_pretrained`` keeps fixed).
    best_loss_ : float or None
        Minimum training loss; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Validation R^2 per epoch with ``early_stopping``.
    best_validation_score_ : float or None
        Best validation R^2 with ``early_stopping``.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (n_in, n_out).
    intercepts_ : list of ndarray
        Bias vectors.
    activation_sparsity_ : ndarray of shape (n_hidden_layers,)
        Fraction of exact zeros per hidden layer on the training data.
    device_ : str
        The device the network lives on.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : scikit-learn's NumPy multi-layer
        perceptron regressor.
    RectifierMLPClassifier : The classifier with the same network.
    DenoisingAutoencoderTransformer : Unsupervised pre-training of the hidden
        layers.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from sk_rectifier import RectifierMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RectifierMLPRegressor(hidden_layer_sizes=(32,), max_iter=300,
    ...                             learning_rate_init=0.01, random_state=0)
    >>> reg.fit(X, scale(y)).score(X, scale(y)) > 0.4
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(_LOSSES))],
    }
    _saved_attributes = {**BaseMLP._saved_attributes, "n_outputs_": "positive"}
    _y_rules = {"multi_output": True, "y_numeric": True}

    @property
    def _criterion(self):
        return _LOSSES[self.loss][0]

    @property
    def _early_stopping_score(self):
        return _LOSSES[self.loss][2]

    def _out_activation(self):
        return _LOSSES[self.loss][1]

    def _out_activations(self):
        return (self._out_activation(),)

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (100,),
        *,
        loss: str = "squared_error",
        activation: str = "relu",
        activation_l1: float = 0.0,
        alpha: float = 0.0001,
        dropout: float = 0.0,
        solver: str = "adam",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        max_fun: int = 15000,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        n_threads: int | None = None,
        callbacks: list | None = None,
        precision: str = "float32",
        compile: bool = False,
        strategy: str = "single",
        verbose: int = 0,
        warm_start: bool = False,
        pretraining: Any = None,
        freeze_pretrained: bool = False,
    ):
        super().__init__(**arguments_of(BaseMLP, locals()))
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: Any, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "RectifierMLPRegressor":
        """Fit the network to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are used as CSR, never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss.

        Returns
        -------
        self : RectifierMLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "RectifierMLPRegressor":
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss.

        Returns
        -------
        self : RectifierMLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _n_outputs(self):
        return self.n_outputs_

    def _prepare_targets(self, X, y, sample_weight, *, warm, incremental):
        y = np.asarray(y, dtype=np.float32)
        y = y.reshape(len(y), -1)
        if warm and y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} targets, but the model was fitted with "
                f"{self.n_outputs_}."
            )
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                "y has negative values, which loss='poisson' does not allow "
                "(it models counts or rates)."
            )
        self.n_outputs_ = y.shape[1]
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return X, y, sample_weight, self.n_outputs_, None

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions (1-D for a single target).
        """
        out = self._outputs(X).astype(np.float64)
        if self.loss == "poisson":
            out = np.exp(out)  # the log link's inverse
        return out.ravel() if self.n_outputs_ == 1 else out
