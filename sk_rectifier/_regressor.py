"""RectifierMLPRegressor: rating regression with a rectifier network."""

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import _check_sample_weight

from sk_rectifier._base import BaseRectifierMLP


def _weighted_r2(outputs, y, sample_weight):
    return r2_score(y, outputs, sample_weight=sample_weight)


class RectifierMLPRegressor(RegressorMixin, BaseRectifierMLP):
    """Deep sparse rectifier network regressor (squared error).

    The regression counterpart of :class:`~sk_rectifier.RectifierMLPClassifier`
    (the paper's sentiment experiment predicted star ratings and reported
    RMSE): same parameters and behaviour, with a linear output layer and the
    squared error summed over outputs. Early stopping monitors the validation
    R^2.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(100,)
        Units of each hidden layer.
    activation : {"relu", "softplus", "tanh", "logistic", "identity"}, \
            default="relu"
        Hidden activation.
    activation_l1 : float, default=0.0
        L1 penalty on the hidden activations (see the classifier).
    alpha : float, default=0.0001
        L2 penalty on the weights (see the classifier).
    dropout : float, default=0.0
        Dropout probability on hidden outputs in training.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer.
    learning_rate_init : float, default=0.001
        Learning rate.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"``.
    beta_1 : float, default=0.9
        Adam's first-moment decay.
    beta_2 : float, default=0.999
        Adam's second-moment decay.
    epsilon : float, default=1e-8
        Adam's stability constant.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum epochs.
    shuffle : bool, default=True
        Shuffle samples at each epoch.
    tol : float, default=1e-4
        Minimal improvement of the loss (or validation R^2) counted as progress.
    n_iter_no_change : int, default=10
        Epochs without progress before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction``, stop when its R^2 stops improving and
        restore the best epoch.
    validation_fraction : float, default=0.1
        Fraction held out with ``early_stopping``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    verbose : int, default=0
        0 silent, 1 a line per epoch, 2 adds a progress bar.
    warm_start : bool, default=False
        Continue from the current weights on the next fit.
        The optimizer restarts with the current ``learning_rate_init``, as in
        scikit-learn's MLP; ``partial_fit`` keeps its state.
    pretraining : DenoisingAutoencoderTransformer or None, default=None
        Start the hidden layers from this autoencoder's encoder (fitted on
        ``X`` inside ``fit`` unless already fitted), then fine-tune.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    n_outputs_ : int
        Number of regression targets.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss at each epoch.
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
        **BaseRectifierMLP._parameter_constraints,
        "pretraining": [HasMethods(["fit", "transform"]), None],
    }
    _criterion = torch.nn.MSELoss
    _early_stopping_score = staticmethod(_weighted_r2)

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (100,),
        *,
        activation: str = "relu",
        activation_l1: float = 0.0,
        alpha: float = 0.0001,
        dropout: float = 0.0,
        solver: str = "adam",
        learning_rate_init: float = 0.001,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        verbose: int = 0,
        warm_start: bool = False,
        pretraining: Any = None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.dropout = dropout
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start
        self.pretraining = pretraining

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
        return self._atomically(self._fit, X, y, sample_weight, False)

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
        return self._atomically(self._fit, X, y, sample_weight, True)

    def _fit(self, X, y, sample_weight, incremental):
        warm = hasattr(self, "net_") and (incremental or self.warm_start)
        X, y = self._validate_input(X, y, reset=not warm, regression=True)
        y = np.asarray(y, dtype=np.float32)
        y = y.reshape(len(y), -1)
        if warm and y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} targets, but the model was fitted with "
                f"{self.n_outputs_}."
            )
        self.n_outputs_ = y.shape[1]
        if self.pretraining is not None and not warm:
            self.pretraining_ = self._pretrain(X)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )
        return self._train(
            X,
            y,
            weights,
            n_outputs=self.n_outputs_,
            incremental=incremental,
            reset=not warm,
        )

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
        out = self._outputs(X).numpy()
        return out.ravel() if self.n_outputs_ == 1 else out
