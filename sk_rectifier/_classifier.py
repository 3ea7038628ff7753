"""RectifierMLPClassifier: a scikit-learn classifier over a skorch/PyTorch MLP."""

from numbers import Real
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d

from sk_rectifier._compat import StrOptions, _fit_context
from sk_rectifier._docstrings import fill_parameters
from sk_rectifier._mixin import arguments_of, check_sample_weight
from sk_rectifier._mlp import LBFGS_DOCS, BaseMLP, _stochastic_solver


def _weighted_accuracy(outputs, y, sample_weight):
    correct = (outputs.argmax(axis=1) == y).astype(np.float64)
    return np.average(correct, weights=sample_weight)


def _weighted_subset_accuracy(outputs, y, sample_weight):
    """Multi-label accuracy as scikit-learn scores it: the (weighted) share
    of samples whose labels are all right."""
    correct = ((outputs > 0) == (y > 0.5)).all(axis=1).astype(np.float64)
    return np.average(correct, weights=sample_weight)


def _label_kind(value):
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, Real):
        return "number"
    return "str" if isinstance(value, str) else type(value).__name__


def _check_label_types(y):
    """Labels of one kind: an object array of numbers (or of booleans) becomes
    a numeric array; labels that mix kinds (which cannot be sorted into
    ``classes_``) are refused with one clear message."""
    if y.dtype != object:
        return y
    kinds = {_label_kind(v) for v in y}
    if len(kinds) > 1:
        raise ValueError(
            f"y mixes labels of types {sorted(kinds)}; labels must all be "
            "strings, all numbers or all booleans, so that they can be sorted "
            "into classes_."
        )
    return np.asarray(y.tolist()) if kinds <= {"number", "bool"} else y


def _unlabeled(y):
    """Mask of the samples labeled -1 (unlabeled, as in sklearn.semi_supervised)."""
    if y.dtype.kind in "iuf":
        return y == -1
    return np.array([isinstance(v, Real) and v == -1 for v in y], dtype=bool)


@fill_parameters(
    **LBFGS_DOCS,
    score="accuracy",
    held_out="a stratified ",
    unlabeled="""
Following :mod:`sklearn.semi_supervised`, samples with ``y == -1`` are
unlabeled: they are used for pre-training only, never in the supervised
loss, so ``-1`` cannot be a class label when ``pretraining`` is set.""",
)
class RectifierMLPClassifier(ClassifierMixin, BaseMLP):
    """Deep sparse rectifier network classifier (Glorot, Bordes and Bengio, 2011).

    A multi-layer perceptron trained with PyTorch through skorch, on CPU or GPU,
    with the rectifier-specific knobs of the paper as plain hyper-parameters:
    the hidden activation and an L1 penalty on the hidden activations, which
    makes the hidden representation exactly sparse. Sparse input (for example
    ``TfidfVectorizer`` output) is never densified: the first layer's cost
    grows with the number of non-zeros in a batch, not with the vocabulary.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    n_outputs_ : int
        Number of output units (one per class, or per label with multi-label
        ``y``).
    out_activation_ : {"softmax", "logistic"}
        The output activation: ``"logistic"`` (one sigmoid per label) for
        multi-label ``y``, else ``"softmax"``.
    n_layers_ : int
        Number of layers, input and output included.
    t_ : int
        Number of training samples seen by the solver (the ``"invscaling"``
        schedule's ``t``); summed over warm starts and partial fits.
    pruned_units_ : list of int
        Units each hidden layer lost (on an estimator returned by
        :meth:`prune` only).
    n_iter_ : int
        Number of epochs run (accumulated over warm starts and partial fits).
    loss_curve_ : list of float
        Training loss (penalties included) at each epoch.
    loss_ : float
        Training loss of the last epoch (``loss_curve_[-1]``); the
        penalties count only the weights that train (not the layers
        ``freeze_pretrained`` keeps fixed).
    best_loss_ : float or None
        Minimum training loss; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Validation accuracy at each epoch with ``early_stopping``, else None.
    best_validation_score_ : float or None
        Best validation accuracy with ``early_stopping``, else None.
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape (n_in, n_out) of layer i.
    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape (n_out,).
    activation_sparsity_ : ndarray of shape (n_hidden_layers,)
        Fraction of exact zeros in each hidden layer's output on the training
        data at the end of fit.
    device_ : str
        The device the network lives on.
    pretraining_ : DenoisingAutoencoderTransformer
        The fitted autoencoder the hidden layers started from (with
        ``pretraining`` only).
    net_ : skorch.NeuralNet
        The private skorch net (an implementation detail).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's NumPy multi-layer
        perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = RectifierMLPClassifier(hidden_layer_sizes=(32,), max_iter=300,
    ...                              learning_rate_init=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.activation_sparsity_.shape
    (1,)

    A cosine learning-rate schedule and a checkpoint of the best epoch, with
    skorch's callbacks:

    >>> import tempfile
    >>> from skorch.callbacks import Checkpoint, LRScheduler
    >>> from torch.optim.lr_scheduler import CosineAnnealingLR
    >>> folder = tempfile.mkdtemp()
    >>> clf = RectifierMLPClassifier(
    ...     hidden_layer_sizes=(32,), max_iter=20, learning_rate_init=0.01,
    ...     callbacks=[LRScheduler(policy=CosineAnnealingLR, T_max=20),
    ...                Checkpoint(monitor="train_loss_best", dirname=folder)],
    ...     random_state=0).fit(X, y)
    >>> import os; "params.pt" in os.listdir(folder)
    True

    Multi-label targets, as a 0/1 indicator matrix:

    >>> import numpy as np
    >>> Y = np.c_[y == 0, y == 2].astype(int)
    >>> clf = RectifierMLPClassifier((32,), max_iter=50, learning_rate_init=0.01,
    ...                              random_state=0).fit(X, Y)
    >>> clf.predict(X[:2]), clf.out_activation_
    (array([[1, 0],
           [1, 0]]), 'logistic')
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _saved_attributes = {**BaseMLP._saved_attributes, "classes_": "labels"}
    _y_rules = {"multi_output": True}

    @property
    def _multilabel(self):
        return getattr(self, "out_activation_", None) == "logistic"

    @property
    def _criterion(self):
        if self._multilabel:
            return torch.nn.BCEWithLogitsLoss
        return torch.nn.CrossEntropyLoss

    @property
    def _early_stopping_score(self):
        if self._multilabel:
            return _weighted_subset_accuracy
        return _weighted_accuracy

    def _out_activation(self):
        return self.out_activation_

    def _out_activations(self):
        """The output activations ``classes_`` allows (for the safe format)."""
        indicator = np.array_equal(self.classes_, np.arange(len(self.classes_)))
        return ("softmax", "logistic") if indicator else ("softmax",)

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (100,),
        *,
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
        class_weight: dict | str | None = None,
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
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: Any, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "RectifierMLPClassifier":
        """Fit the network to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are used as CSR, never densified.
        y : array-like of shape (n_samples,)
            Target labels, of any hashable type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss.

        Returns
        -------
        self : RectifierMLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: Any,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> "RectifierMLPClassifier":
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss.

        Returns
        -------
        self : RectifierMLPClassifier
            The updated estimator.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one chunk of the data at a time; pass a dict of weights."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _is_warm(self, fitted, incremental, classes):
        if not incremental:
            return fitted and self.warm_start
        # scikit-learn's partial-fit rule: classes on the first call only
        if classes is not None and self.pretraining is not None:
            if _unlabeled(np.asarray(classes)).any():
                raise ValueError(
                    "classes contains -1, which marks unlabeled samples when "
                    "pretraining is set; it cannot be a class label."
                )
        if not fitted:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            self.classes_ = unique_labels(classes)
            return False
        if classes is not None and not np.array_equal(
            self.classes_, unique_labels(classes)
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}"
            )
        return True

    def _n_outputs(self):
        return len(self.classes_)

    @property
    def n_outputs_(self) -> int:
        """Number of output units: one per class (two for a binary problem,
        which scikit-learn's ``MLPClassifier`` models with one logistic
        unit), or one per label with multi-label ``y``."""
        check_is_fitted(self, "classes_")
        return self._n_outputs()

    def _prepare_targets(self, X, y, sample_weight, *, warm, incremental):
        if y.ndim == 2 and y.shape[1] != 1:
            return self._prepare_multilabel(X, y, sample_weight, warm)
        if warm and self._multilabel:
            raise ValueError(
                "y is 1-D, but the model was fitted on multi-label targets (a 2-D "
                "indicator matrix)."
            )
        self.out_activation_ = "softmax"
        y = _check_label_types(column_or_1d(y, warn=True))
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        if self.pretraining is not None:
            unlabeled = _unlabeled(y)
            if unlabeled.all():
                raise ValueError(
                    "y has no labeled sample: every sample is -1 (unlabeled)."
                )
            if sample_weight is not None:
                sample_weight = sample_weight[~unlabeled]
            X, y = X[~unlabeled], y[~unlabeled]
        check_classification_targets(y)
        if not warm and not incremental:
            self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "RectifierMLPClassifier needs samples of at least 2 classes in y, "
                f"but y contains only one class: {self.classes_[0]!r}."
            )
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise ValueError(
                f"y contains labels {np.unique(y[unseen]).tolist()} that are not in "
                f"classes_ {self.classes_.tolist()}: with warm_start or partial_fit, "
                "y may only use the classes of the first call."
            )
        y_enc = np.searchsorted(self.classes_, y).astype(np.int64)

        weights = sample_weight
        if self.class_weight is not None:
            per_class = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )[y_enc]
            weights = per_class if weights is None else weights * per_class
        if weights is not None:
            present = np.unique(y_enc[weights > 0])
            if not incremental and len(present) < 2:
                raise ValueError(
                    "RectifierMLPClassifier needs a positive sample_weight for at "
                    "least 2 classes, but only one class has one."
                )
            weights = np.asarray(weights, dtype=np.float32)
        return X, y_enc, weights, len(self.classes_), y_enc

    def _prepare_multilabel(self, X, y, sample_weight, continuing):
        """Targets of a 2-D 0/1 indicator ``y``: one sigmoid output per label,
        trained with binary cross-entropy, as ``MLPClassifier`` does."""
        if type_of_target(y) != "multilabel-indicator":
            raise ValueError(
                "A 2-D y must be a multi-label indicator matrix of 0/1 values "
                f"(type_of_target(y) is {type_of_target(y)!r}); multiclass-"
                "multioutput targets are not supported."
            )
        if self.class_weight is not None:
            raise ValueError("class_weight is not supported with multi-label y.")
        if self.pretraining is not None and (y == -1).any():
            raise ValueError("Unlabeled samples (-1) need a 1-D y.")
        classes = np.arange(y.shape[1])
        if continuing and not (
            self._multilabel and np.array_equal(self.classes_, classes)
        ):
            raise ValueError(
                f"y has {y.shape[1]} labels, but the model was fitted with "
                f"classes_ {self.classes_.tolist()}"
                + ("" if self._multilabel else " (single-label targets)")
                + "."
            )
        self.classes_, self.out_activation_ = classes, "logistic"
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return X, np.asarray(y, dtype=np.float32), sample_weight, len(classes), None

    # ------------------------------------------------------------ predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns in the order of ``classes_``.
        """
        outputs = self._outputs(X).astype(np.float64)
        if self._multilabel:
            return expit(outputs)
        return softmax(outputs, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, columns in the order of ``classes_``.
        """
        outputs = self._outputs(X).astype(np.float64)
        if self._multilabel:
            return -np.logaddexp(0, -outputs)  # log(sigmoid(x))
        return log_softmax(outputs, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        outputs = self._outputs(X)
        if self._multilabel:
            return (outputs > 0).astype(int)
        return self.classes_[outputs.argmax(axis=1)]
