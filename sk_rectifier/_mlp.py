"""The multi-layer perceptron base of the classifier and the regressor: its
parameters, the one fit path, pre-training, hidden activations and weights."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from sk_rectifier import _engine as engine
from sk_rectifier._compat import HasMethods, Interval, StrOptions
from sk_rectifier._mixin import TorchEstimatorMixin, check_layer
from sk_rectifier.nn import RectifierMLP

#: the docstring placeholders of the MLPs' extra solver
LBFGS_DOCS = {
    "lbfgs": ', "lbfgs"',
    "lbfgs_text": """
``"lbfgs"`` is full-batch L-BFGS (``torch.optim.LBFGS`` with a strong-Wolfe
line search) over the whole training set, sparse input included: ``max_iter``
bounds its iterations and ``max_fun`` its loss evaluations, and it stops when
the largest gradient entry is at most ``tol``. It suits small data sets;
``batch_size``, ``shuffle``, ``early_stopping``, the momentum and Adam
parameters, ``learning_rate`` and ``learning_rate_init`` do not apply (each
line search starts from a unit step, as scipy's does). It also stops when the
loss changes by less than scipy's default ``ftol`` (2.2e-9, relative).""",
}


def _stochastic_solver(estimator):
    """``partial_fit`` exists only for the stochastic solvers, as in
    scikit-learn."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. lbfgs is "
            "not stochastic."
        )
    return True


class BaseMLP(TorchEstimatorMixin, BaseEstimator):
    """Parameters and machinery of the rectifier MLP estimators.

    A subclass gives the torch loss (``_criterion``), the early-stopping score
    (``_early_stopping_score``), and ``_prepare_targets``, which validates and
    encodes ``y`` for one call.
    """

    _parameter_constraints: dict = {
        **TorchEstimatorMixin._parameter_constraints,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions({*engine.OPTIMIZERS, "lbfgs"})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "compile": ["boolean"],
        "strategy": [StrOptions({"single", "ddp"})],
        "warm_start": ["boolean"],
        "pretraining": [HasMethods(["fit", "transform"]), None],
        "freeze_pretrained": ["boolean"],
    }
    _saved_attributes = {
        **TorchEstimatorMixin._saved_attributes,
        "loss_curve_": "reals",
        "best_loss_": "real or None",
        "validation_scores_": "reals or None",
        "best_validation_score_": "real or None",
        "activation_sparsity_": "fractions",
        "t_": "count",
        "n_layers_": "positive",
        "out_activation_": "string",
    }
    _module = RectifierMLP
    _criterion = None  # torch loss class, built with reduction="none"
    _early_stopping_score = None  # fn(outputs, y, sample_weight) -> float
    _y_rules: dict = {}  # validate_data's keyword arguments for y
    _allows_no_hidden_layer = True  # hidden_layer_sizes=(): a linear model

    def __init__(
        self,
        hidden_layer_sizes,
        *,
        dropout,
        max_fun,
        compile,
        strategy,
        warm_start,
        pretraining,
        freeze_pretrained,
        **kw,
    ):
        super().__init__(hidden_layer_sizes, **kw)
        self.dropout = dropout
        self.max_fun = max_fun
        self.compile = compile
        self.strategy = strategy
        self.warm_start = warm_start
        self.pretraining = pretraining
        self.freeze_pretrained = freeze_pretrained

    # ------------------------------------------------------------- hooks
    def _networks(self):
        return [self.net_]

    def _set_networks(self, nets):
        (self.net_,) = nets

    # ---------------------------------------------------------------- fit
    def _fit(self, X, y, sample_weight, incremental, classes=None):
        """The one fit path of ``fit`` and ``partial_fit``: a failed call
        leaves the estimator exactly as it was."""
        return self._atomically(
            self._fit_unsafe, X, y, sample_weight, incremental, classes
        )

    def _fit_unsafe(self, X, y, sample_weight, incremental, classes):
        fitted = hasattr(self, "net_")
        warm = self._is_warm(fitted, incremental, classes)
        if self.freeze_pretrained and self.pretraining is None:
            raise ValueError(
                "freeze_pretrained=True keeps the layers that pretraining "
                "initialised fixed, but pretraining is None."
            )
        X, y = self._validate_Xy(X, y, reset=not warm, **self._y_rules)
        if warm:  # the setting may have changed since the network was built
            self._freeze(engine.module(self.net_))
        if self.pretraining is not None and not warm:
            self.pretraining_ = self._pretrain(X)
        X, y, weights, n_outputs, stratify = self._prepare_targets(
            X, y, sample_weight, warm=warm, incremental=incremental
        )
        epochs_before = self.n_iter_ if warm else 0
        net, result = self._train_net(
            self.net_ if warm else None,
            (
                self._module,
                self._module_kwargs(X.shape[1], n_outputs),
                self._criterion,
                self._early_stopping_score,
            ),
            X,
            y,
            weights,
            incremental=incremental,
            stratify=stratify,
            seed=self._next_seed(not warm),
            init_module=self._initialize_module,
        )
        self._report(result, epochs_before=epochs_before)
        self.net_ = net
        self.device_ = engine.device(net)
        curves = engine.curves(net)
        self.n_iter_ = len(curves["train_loss"])
        self.loss_curve_ = [float(v) for v in curves["train_loss"]]
        early_stopping = self.early_stopping and not incremental
        scores = [float(v) for v in curves["valid_score"] if v is not None]
        self.validation_scores_ = scores if early_stopping else None
        self.best_validation_score_ = (
            max(scores, default=None) if early_stopping else None
        )
        # scikit-learn keeps no best loss for L-BFGS (nor with early stopping)
        lbfgs = self.solver == "lbfgs"
        self.best_loss_ = None if early_stopping or lbfgs else min(self.loss_curve_)
        self.t_ = (self.t_ if warm else 0) + result.samples
        self.n_layers_ = len(self._hidden_sizes()) + 2
        self.out_activation_ = self._out_activation()
        self.activation_sparsity_ = self._zero_fractions(X)
        return self

    def _zero_fractions(self, X):
        """Fraction of exact zeros of each hidden layer on validated ``X``,
        counted batch by batch (the layers of all of X are never held)."""
        sizes = self._hidden_sizes()
        if not sizes:
            return np.zeros(0)
        zeros = self._forward(self.net_, X, _zero_counts)  # (n_samples, n_layers)
        return zeros.sum(axis=0) / (X.shape[0] * np.asarray(sizes, dtype=float))

    def _is_warm(self, fitted, incremental, classes):
        """Whether this call continues the current network."""
        return fitted and (incremental or self.warm_start)

    def _architectures(self, n_networks):
        sizes = self._hidden_sizes()
        if n_networks != 1:
            raise ValueError(f"{n_networks} networks stored; this model has 1")
        if len(self.activation_sparsity_) != len(sizes):
            raise ValueError(
                f"activation_sparsity_ has {len(self.activation_sparsity_)} "
                f"values for {len(sizes)} hidden layers"
            )
        if self.n_layers_ != len(sizes) + 2:
            raise ValueError(
                f"n_layers_ = {self.n_layers_} for {len(sizes)} hidden layers"
            )
        if self.out_activation_ not in self._out_activations():
            raise ValueError(
                f"out_activation_ {self.out_activation_!r} is not one of "
                f"{self._out_activations()}"
            )
        if len(self.loss_curve_) != self.n_iter_:
            raise ValueError(
                f"loss_curve_ has {len(self.loss_curve_)} values for "
                f"n_iter_ = {self.n_iter_} epochs"
            )
        return [self._module_kwargs(self.n_features_in_, self._n_outputs())]

    def _module_kwargs(self, n_features, n_outputs):
        return {
            "n_features": n_features,
            "n_outputs": n_outputs,
            "hidden_layer_sizes": self._hidden_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "keep_casts": True,  # (weights change in fits and loads only)
        }

    # ------------------------------------------------------- pre-training
    def _pretrain(self, X):
        """Fit (a clone of) the pre-training autoencoder on all of ``X``, or
        take it as it is if it is fitted (unwrapped from a
        ``FrozenEstimator``); check that it fits this network."""
        dae = self.pretraining
        if isinstance(dae, FrozenEstimator):  # kept fitted through clone()
            dae = dae.estimator
            check_is_fitted(dae)
        try:
            check_is_fitted(dae)
        except NotFittedError:
            dae = clone(dae).fit(X)
        sizes = [w.shape[1] for w in dae.coefs_]
        if tuple(sizes) != self._hidden_sizes() or dae.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"pretraining has {dae.n_features_in_} input features and layers "
                f"{tuple(sizes)}, but this network has {X.shape[1]} features and "
                f"hidden_layer_sizes={self._hidden_sizes()}; they must match."
            )
        return dae

    def _initialize_module(self, module):
        # Start the hidden layers from the pre-trained encoder layers.
        if self.pretraining is None:
            return
        weights, biases = self.pretraining_.coefs_, self.pretraining_.intercepts_
        with torch.no_grad():
            module.input_layer.weight.copy_(torch.from_numpy(weights[0]))
            module.input_layer.bias.copy_(torch.from_numpy(biases[0]))
            for layer, weight, bias in zip(module.layers, weights[1:], biases[1:]):
                layer.weight.copy_(torch.from_numpy(weight.T))
                layer.bias.copy_(torch.from_numpy(bias))
        self._freeze(module)

    def _freeze(self, module):
        """Make the hidden layers untrainable (``freeze_pretrained``) or
        trainable: a parameter without gradient is skipped by the optimizers
        and by the weight decay."""
        hidden = [module.input_layer, *module.layers[:-1]]
        for layer in hidden:
            for parameter in layer.parameters():
                parameter.requires_grad_(not self.freeze_pretrained)

    # ---------------------------------------------------------- inference
    def _outputs(self, X):
        """Output-layer scores for ``X`` (float32 ndarray)."""
        X = self._checked_X(X)
        return self._forward(self.net_, X, engine.logits)

    def _all_layers_fn(self):
        return _hidden

    def _prune_states(self, states, keeps):
        """The state dict without the units ``keeps`` drops: hidden layer k's
        rows of the weights into it and its bias, and the columns of the
        weights out of it."""
        (state,) = states
        for k, keep in enumerate(keeps):
            into = "input_layer" if k == 0 else f"layers.{k - 1}"
            weight = state[f"{into}.weight"]  # (in, out) for the input layer
            state[f"{into}.weight"] = weight[:, keep] if k == 0 else weight[keep]
            state[f"{into}.bias"] = state[f"{into}.bias"][keep]
            state[f"layers.{k}.weight"] = state[f"layers.{k}.weight"][:, keep]
        return [state]

    def _layers_of(self, X):
        """Every hidden layer's activations for validated ``X``, in one pass."""
        return self._forward(self.net_, X, _hidden)

    def _hidden_layers(self, X):
        """The activations of every hidden layer for ``X``, in one pass."""
        return self._layers_of(self._checked_X(X))

    def hidden_activations(
        self, X, layer: int = -1, sparse_output: bool = False
    ) -> np.ndarray | sp.csr_matrix:
        """Return the activations of a hidden layer for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        layer : int, default=-1
            Index of the hidden layer, ``0`` for the first, ``-1`` for the last.
        sparse_output : bool, default=False
            Return a SciPy CSR matrix (the exact zeros not stored), built
            batch by batch: the dense activations of all of ``X`` are never
            held, so a rectifier code of many units takes the memory of its
            non-zeros only.

        Returns
        -------
        H : ndarray or csr_matrix of shape (n_samples, hidden_layer_sizes[layer])
            The hidden representation, after the activation function (float32).

        Examples
        --------
        >>> import numpy as np
        >>> from sk_rectifier import RectifierMLPClassifier
        >>> X, y = np.random.RandomState(0).rand(30, 4), np.arange(30) % 2
        >>> clf = RectifierMLPClassifier((8, 3), max_iter=2, random_state=0)
        >>> clf.fit(X, y).hidden_activations(X, layer=0).shape
        (30, 8)
        >>> clf.hidden_activations(X, layer=0, sparse_output=True).format
        'csr'
        """
        X = self._checked_X(X)
        k = check_layer(layer, len(engine.module(self.net_).layers))

        def activations(module, batch):
            return module.hidden(batch)[0][k]

        if sparse_output:
            return self._forward_sparse(self.net_, X, activations)
        return self._forward(self.net_, X, activations)

    @property
    def loss_(self) -> float:
        """Training loss of the last epoch, penalties included
        (``loss_curve_[-1]``), as scikit-learn's ``loss_``."""
        check_is_fitted(self, "net_")
        return self.loss_curve_[-1]

    # ------------------------------------------------------- weights as numpy
    @property
    def coefs_(self) -> list[np.ndarray]:
        """List of weight matrices, ``coefs_[i]`` of shape (n_in, n_out)."""
        check_is_fitted(self, "net_")
        module = engine.module(self.net_)
        weights = [module.input_layer.weight] + [lay.weight.T for lay in module.layers]
        return [w.detach().cpu().numpy().copy() for w in weights]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """List of bias vectors, ``intercepts_[i]`` of shape (n_out,)."""
        check_is_fitted(self, "net_")
        module = engine.module(self.net_)
        biases = [module.input_layer.bias] + [lay.bias for lay in module.layers]
        return [b.detach().cpu().numpy().copy() for b in biases]


def _zero_counts(module, X):
    """Exact zeros per sample in each hidden layer, shape (batch, n_layers)."""
    hidden = module.hidden(X)[0]
    return torch.stack([(h == 0).sum(dim=1) for h in hidden], dim=1).float()


def _hidden(module, X):
    return module.hidden(X)[0]
