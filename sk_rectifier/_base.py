"""Machinery shared by the estimators: validation, device, seeding, the private
skorch net, batched inference and fitted attributes from the training history.
"""

import contextlib
import re
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, noop

from sk_rectifier._activations import ACTIVATIONS
from sk_rectifier._data import ArrayDataset, as_float32, identity_collate
from sk_rectifier._modules import LazyAdam, RectifierMLP

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_OPTIMIZERS = {  # solver -> (dense optimizer, optimizer for the sparse first layer)
    "adam": (torch.optim.Adam, LazyAdam),
    "sgd": (torch.optim.SGD, torch.optim.SGD),
}


def resolve_device(device):
    """Return the torch device string for ``device``; ``"auto"`` picks CUDA
    when available, else CPU."""
    if not isinstance(device, str) or not _DEVICE_PATTERN.match(device):
        raise ValueError(
            "The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:N' or "
            f"'mps'. Got {device!r} instead."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter is {device!r} but CUDA device {index} is "
                "not available on this machine; use device='auto' or 'cpu'."
            )
    return device


@contextlib.contextmanager
def torch_seed(seed, device):
    """Seed torch inside the block only; the global RNG state is restored."""
    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def map_batches(net, dataset, fn):
    """Apply ``fn(module, X)`` to the input ``X`` of every batch of ``dataset``
    in inference mode and return the list of results."""
    module = net.module_
    module.train(False)
    out = []
    with torch.inference_mode():
        for batch in net.get_iterator(dataset, training=False):
            Xi, _ = unpack_data(batch)
            out.append(fn(module, Xi["X"].to(net.device)))
    return out


def hidden_sparsity(net, dataset):
    """Fraction of exact zeros in each hidden layer's output over ``dataset``."""

    def zeros(module, X):
        hidden, _ = module.hidden(X)
        return [(int((h == 0).sum()), h.numel()) for h in hidden]

    counts = np.sum(map_batches(net, dataset, zeros), axis=0)
    return counts[:, 0] / counts[:, 1]


class _Net(NeuralNet):
    """skorch net with a sample-weighted loss, the L1 activation penalty, the L2
    weight penalty and a sparse optimizer for a sparse first layer."""

    def __init__(
        self,
        *args,
        activation_l1=0.0,
        alpha=0.0,
        sparse_input=False,
        sparse_optimizer=LazyAdam,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.sparse_input = sparse_input
        self.sparse_optimizer = sparse_optimizer

    def initialize_optimizer(self, triggered_directly=None):
        # Dense weights decay through the optimizer (weight_decay is set at
        # each step, see train_step); biases never decay; a sparse first
        # layer has its own row-wise optimizer and its penalty in get_loss.
        sparse = self.module_.sparse_parameters() if self.sparse_input else []
        groups = {"weights": [], "biases": []}
        for name, p in self.module_.named_parameters():
            if not any(p is q for q in sparse):
                groups["biases" if name.endswith("bias") else "weights"].append(p)
        kwargs = {"lr": self.lr, **self.get_params_for("optimizer")}
        fused = torch.device(self.device).type in ("cpu", "cuda")
        self.optimizer_ = self.optimizer(
            [{"params": groups["weights"]}, {"params": groups["biases"]}],
            fused=fused,
            **kwargs,
        )
        if sparse:
            self.sparse_optimizer_ = self.sparse_optimizer(sparse, **kwargs)
        elif "sparse_optimizer" in self._optimizers:
            self._unregister_attribute("sparse_optimizer")
            del self.sparse_optimizer_
        return self

    def train_step(self, batch, **fit_params):
        # One forward/backward, then every optimizer steps on those gradients.
        # (skorch's default passes a closure to each optimizer, which would
        # recompute the batch once per optimizer.)
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        params = TeeGenerator(self.get_all_learnable_params())
        self.notify("on_grad_computed", named_parameters=params, batch=batch)
        # L2 on dense weights: 0.5 * alpha * ||W||^2 / total has gradient
        # (alpha / total) * W, which the optimizer adds as weight decay.
        Xi, yi = unpack_data(batch)
        self.optimizer_.param_groups[0]["weight_decay"] = self.alpha / _total(Xi)
        self._step_optimizer(None)
        self.module_.release_batch()  # drop references to this batch's graph
        return step

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if not training:
            # A DataLoader draws a seed when iterated; give inference its own
            # generator so that predicting never changes torch's global RNG.
            iterator.generator = torch.Generator()
        return iterator

    def infer(self, x, **fit_params):
        x = {k: v for k, v in x.items() if k != "sample_weight"}
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, act_l1 = y_pred
        if y_true is None:  # the module returned per-sample losses itself
            losses = output
        else:
            losses = self.criterion_(output, y_true.to(output.device))
        if losses.ndim > 1:
            losses = losses.sum(dim=1)
        weight = X.get("sample_weight")
        total = _total(X)
        if weight is None:
            loss = losses.sum() / total
            l1 = act_l1.sum() / total
        else:
            weight = weight.to(output.device)
            loss = (weight * losses).sum() / total
            l1 = (weight * act_l1).sum() / total
        if self.activation_l1:
            loss = loss + self.activation_l1 * l1
        if self.alpha:
            # The sparse first layer's rows (those in this batch) are penalised
            # through autograd; the dense weights' value is added for the
            # record only, their gradient is the optimizer's weight decay.
            sparse_rows, dense = self.module_.squared_weight_norms()
            loss = loss + 0.5 * self.alpha * (sparse_rows + dense.detach()) / total
        return loss


def _total(X):
    """Sum of the batch's sample weights (its size without weights), as a
    float, 1.0 if the weights sum to zero."""
    weight = X.get("sample_weight")
    total = len(X["X"]) if weight is None else float(weight.sum())
    return total if total > 0 else 1.0


class _ValidationScore(Callback):
    """Records ``score_fn(outputs, y, sample_weight)`` on the validation set."""

    def __init__(self, score_fn):
        self.score_fn = score_fn

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None:
            return
        out = map_batches(net, dataset_valid, lambda m, b: m(b)[0].cpu())
        score = self.score_fn(
            torch.cat(out).numpy(), dataset_valid.y, dataset_valid.sample_weight
        )
        net.history.record("valid_score", float(score))


def _module_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class _TrainingGuard(Callback):
    """Keeps the weights of the last completed epoch whose loss was finite.

    If an epoch's loss (or a weight) becomes NaN or infinite, the weights of
    the previous epoch come back, the optimizer restarts and training stops
    (``event_ = "diverged"``). If training is interrupted (KeyboardInterrupt,
    which skorch catches) in the middle of an epoch, the weights of the last
    completed epoch come back (``event_ = "interrupted"``). In both cases the
    unfinished epoch is dropped from the history.
    """

    def on_train_begin(self, net, **kwargs):
        self.snapshot_ = _module_state(net.module_)
        self.in_epoch_ = False
        self.event_ = None

    def on_epoch_begin(self, net, **kwargs):
        self.in_epoch_ = True

    def on_epoch_end(self, net, **kwargs):
        self.in_epoch_ = False
        finite = np.isfinite(net.history[-1, "train_loss"]) and all(
            bool(torch.isfinite(p).all()) for p in net.module_.parameters()
        )
        if not finite:
            self._restore(net, "diverged")
            net.initialize_optimizer()
            raise KeyboardInterrupt  # how skorch callbacks stop training
        self.snapshot_ = _module_state(net.module_)

    def on_train_end(self, net, **kwargs):
        if self.in_epoch_:
            self._restore(net, "interrupted")
        # no tensors may stay in callbacks: a net pickled on a GPU must load
        # on a machine without one (skorch maps only module/optimizer state)
        del self.snapshot_

    def _restore(self, net, event):
        net.module_.load_state_dict(self.snapshot_)
        del net.history[-1]
        self.event_ = event
        self.in_epoch_ = False


class BaseRectifierMLP(BaseEstimator):
    """Shared parameters and training machinery of the rectifier estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", _POSITIVE_INT],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "activation_l1": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions(set(_OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), _POSITIVE_INT],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # Subclasses set these.
    _module = RectifierMLP  # torch module class
    _criterion = None  # torch loss class, built with reduction="none"
    _early_stopping_score = None  # fn(outputs, y, sample_weight) -> float

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ----------------------------------------------------------- validation
    def _validate_input(self, X, y="no_validation", reset=True, regression=False):
        """Validate ``X`` (and ``y`` unless "no_validation"; numeric and possibly
        2-D for ``regression``); return X as float32 ndarray or CSR."""
        kwargs = {
            "accept_sparse": ("csr", "csc", "coo", "bsr", "dia", "dok", "lil"),
            "accept_large_sparse": True,
            "dtype": (np.float64, np.float32),
            "reset": reset,
        }
        if isinstance(y, str) and y == "no_validation":
            return as_float32(validate_data(self, X, **kwargs))
        X, y = validate_data(
            self, X, y, multi_output=regression, y_numeric=regression, **kwargs
        )
        return as_float32(X), y

    def _hidden_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        ok = sizes.ndim == 1 and sizes.size > 0
        ok = ok and np.issubdtype(sizes.dtype, np.integer) and np.all(sizes > 0)
        if not ok:
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a sequence of "
                f"positive integers, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    # --------------------------------------------------------------- net
    def _module_kwargs(self, n_features, n_outputs):
        """Keyword arguments of the torch module for a new net."""
        return {
            "n_features": n_features,
            "n_outputs": n_outputs,
            "hidden_layer_sizes": self._hidden_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
        }

    def _build_net(self, module_kwargs, batch_size, device):
        dense_opt, sparse_opt = _OPTIMIZERS[self.solver]
        if self.solver == "adam":
            opt_kwargs = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}
        else:
            nesterov = self.nesterovs_momentum and self.momentum > 0
            opt_kwargs = {"momentum": self.momentum, "nesterov": nesterov}
        return _Net(
            module=self._module,
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            criterion=self._criterion,
            criterion__reduction="none",
            optimizer=dense_opt,
            sparse_optimizer=sparse_opt,
            lr=self.learning_rate_init,
            **{f"optimizer__{k}": v for k, v in opt_kwargs.items()},
            max_epochs=self.max_iter,
            batch_size=batch_size,
            iterator_train__shuffle=self.shuffle,
            iterator_train__collate_fn=identity_collate,
            iterator_valid__collate_fn=identity_collate,
            iterator_valid__batch_size=max(batch_size, 1024),
            train_split=None,
            activation_l1=self.activation_l1,
            alpha=self.alpha,
            device=device,
            verbose=0,
        )

    def _callbacks(self, early_stopping, incremental):
        callbacks = [("guard", _TrainingGuard())]
        monitor, lower_is_better = "train_loss", True
        if early_stopping and self._early_stopping_score is not None:
            score = _ValidationScore(self._early_stopping_score)
            callbacks.append(("valid_score", score))
            monitor, lower_is_better = "valid_score", False
        elif early_stopping:
            monitor = "valid_loss"
        if not incremental:
            stop = EarlyStopping(
                monitor=monitor,
                lower_is_better=lower_is_better,
                patience=self.n_iter_no_change,
                threshold=self.tol,
                threshold_mode="abs",
                load_best=early_stopping,
                sink=print if self.verbose else noop,
            )
            callbacks.append(("stopping", stop))
        if self.verbose >= 2:
            callbacks.append(("progress", ProgressBar()))
        return callbacks

    def _fit_net(
        self, X, y, sample_weight, *, module_kwargs, net, incremental, stratify, seed
    ):
        """Train a new net (``net=None``) or continue ``net`` on validated data
        (float32 X, encoded y or None); return the trained net."""
        device = resolve_device(self.device)
        early_stopping = self.early_stopping and not incremental
        full = ArrayDataset(X, y, sample_weight)
        train, valid = full, None
        if early_stopping:
            from sklearn.model_selection import train_test_split

            idx_train, idx_valid = train_test_split(
                np.arange(X.shape[0]),
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=seed,
            )
            train, valid = full.subset(idx_train), full.subset(idx_valid)
        n_train = len(train)
        batch_size = min(200, n_train) if self.batch_size == "auto" else self.batch_size
        batch_size = min(batch_size, n_train)
        epochs = 1 if incremental else self.max_iter

        reset = net is None
        if reset:
            net = self._build_net(module_kwargs, batch_size, device)
        else:
            net.set_params(batch_size=batch_size, device=device)
            net.module_.to(device)
            net.alpha, net.activation_l1 = self.alpha, self.activation_l1
        net.callbacks = self._callbacks(early_stopping, incremental)
        net.verbose = int(self.verbose > 0)
        net.train_split = None
        if valid is not None:
            from skorch.helper import predefined_split

            net.train_split = predefined_split(valid)

        sparse = sp.issparse(X)
        n_before = 0 if reset else len(net.history)
        with torch_seed(seed, device):
            if reset:
                net.sparse_input = sparse
                net.initialize()
                self._initialize_module(net.module_)
            else:
                net.initialize_callbacks()
                if net.sparse_input != sparse or not incremental:
                    # a new fit (warm_start) restarts the optimizer with the
                    # current learning rate, as scikit-learn's MLP does
                    net.sparse_input = sparse
                    net.lr = self.learning_rate_init
                    net.initialize_optimizer()
            net.partial_fit(train, None, epochs=epochs)

        epoch = len(net.history)
        event = dict(net.callbacks_)["guard"].event_
        if event == "diverged" and epoch == 0:
            raise ValueError(
                f"Training diverged: the loss became NaN or infinite in epoch "
                f"{epoch + 1}, before any epoch completed with a finite loss. "
                f"Lower learning_rate_init (now {self.learning_rate_init}) or "
                "scale the input."
            )
        if event == "diverged":
            warnings.warn(
                f"Training diverged: the loss became NaN or infinite in epoch "
                f"{epoch + 1}; training stopped and the weights of epoch {epoch} "
                f"were kept. Lower learning_rate_init (now "
                f"{self.learning_rate_init}) or scale the input.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if event == "interrupted":
            resume = "warm_start" in self.get_params()
            warnings.warn(
                f"Training was interrupted during epoch {epoch + 1}; the weights "
                f"of the last completed epoch ({epoch}) were kept."
                + (" Fit again with warm_start=True to resume." if resume else ""),
                UserWarning,
                stacklevel=4,
            )
        net.interrupted_ = event == "interrupted"
        if event is None and not incremental and epoch - n_before == self.max_iter:
            stopper = dict(net.callbacks_)["stopping"]
            if stopper.misses_ < stopper.patience:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        return net

    def _atomically(self, fit, *args):
        """Run ``fit(*args)``; if it raises, put the estimator's attributes back
        as they were, so that a failed fit leaves a fitted model unchanged."""
        state = self.__dict__.copy()
        try:
            return fit(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _pretrain(self, X):
        """Fit (a clone of) the pre-training autoencoder on all of ``X``, or
        take it as it is if it is fitted; check that it fits this network."""
        dae = self.pretraining
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
        if getattr(self, "pretraining", None) is None:
            return
        weights, biases = self.pretraining_.coefs_, self.pretraining_.intercepts_
        with torch.no_grad():
            module.input_layer.weight.copy_(torch.from_numpy(weights[0]))
            module.input_layer.bias.copy_(torch.from_numpy(biases[0]))
            for layer, weight, bias in zip(module.layers, weights[1:], biases[1:]):
                layer.weight.copy_(torch.from_numpy(weight.T))
                layer.bias.copy_(torch.from_numpy(bias))

    def _next_seed(self, reset):
        """A torch seed for this call, drawn from ``random_state``."""
        if reset or not hasattr(self, "_rng"):
            self._rng = check_random_state(self.random_state)
        return int(self._rng.randint(np.iinfo(np.int32).max))

    def _train(
        self, X, y, sample_weight, *, n_outputs, incremental, stratify=None, reset
    ):
        """Train the private skorch net on validated data (float32 X, encoded y).

        ``reset`` builds a new net; otherwise training continues the current
        one. Fitted attributes are updated only once training has finished.
        """
        early_stopping = self.early_stopping and not incremental
        net = self._fit_net(
            X,
            y,
            sample_weight,
            module_kwargs=self._module_kwargs(X.shape[1], n_outputs),
            net=None if reset else self.net_,
            incremental=incremental,
            stratify=stratify,
            seed=self._next_seed(reset),
        )
        self.net_ = net
        self.device_ = str(net.device)
        history = net.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]
        scores = [h["valid_score"] for h in history if "valid_score" in h]
        self.validation_scores_ = scores if early_stopping else None
        self.best_validation_score_ = max(scores) if early_stopping else None
        self.best_loss_ = min(self.loss_curve_, default=None)
        if early_stopping:
            self.best_loss_ = None
        self.activation_sparsity_ = hidden_sparsity(net, ArrayDataset(X))
        return self

    # ---------------------------------------------------------- inference
    def _dataset(self, X):
        check_is_fitted(self, "net_")
        return ArrayDataset(self._validate_input(X, reset=False))

    def _outputs(self, X):
        """Output-layer scores for ``X`` as a float64 tensor on the CPU."""
        dataset = self._dataset(X)
        out = map_batches(self.net_, dataset, lambda m, b: m(b)[0].cpu())
        return torch.cat(out).double()

    def hidden_activations(self, X, layer: int = -1) -> np.ndarray:
        """Return the activations of a hidden layer for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        layer : int, default=-1
            Index of the hidden layer, ``0`` for the first, ``-1`` for the last.

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[layer])
            The hidden representation, after the activation function.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_rectifier import RectifierMLPClassifier
        >>> X, y = np.random.RandomState(0).rand(30, 4), np.arange(30) % 2
        >>> clf = RectifierMLPClassifier((8, 3), max_iter=2, random_state=0)
        >>> clf.fit(X, y).hidden_activations(X, layer=0).shape
        (30, 8)
        """
        dataset = self._dataset(X)
        n_layers = len(self.net_.module__hidden_layer_sizes)
        if not isinstance(layer, Integral) or not -n_layers <= layer < n_layers:
            raise ValueError(
                f"layer must be an integer in [{-n_layers}, {n_layers - 1}] for "
                f"a network with {n_layers} hidden layers, got {layer!r}."
            )
        out = map_batches(self.net_, dataset, lambda m, b: m.hidden(b)[0][layer].cpu())
        return torch.cat(out).numpy()

    def _hidden_layers(self, X):
        """The activations of every hidden layer for ``X``, in one pass."""
        dataset = self._dataset(X)
        out = map_batches(
            self.net_, dataset, lambda m, b: [h.cpu() for h in m.hidden(b)[0]]
        )
        return [torch.cat(layer).numpy() for layer in zip(*out)]

    # ------------------------------------------------------- weights as numpy
    @property
    def coefs_(self) -> list[np.ndarray]:
        """List of weight matrices, ``coefs_[i]`` of shape (n_in, n_out)."""
        check_is_fitted(self, "net_")
        module = self.net_.module_
        weights = [module.input_layer.weight] + [lay.weight.T for lay in module.layers]
        return [w.detach().cpu().numpy().copy() for w in weights]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """List of bias vectors, ``intercepts_[i]`` of shape (n_out,)."""
        check_is_fitted(self, "net_")
        module = self.net_.module_
        biases = [module.input_layer.bias] + [lay.bias for lay in module.layers]
        return [b.detach().cpu().numpy().copy() for b in biases]

    def __setstate__(self, state):
        # skorch maps a CUDA-trained net onto the CPU when CUDA is missing;
        # keep the estimator's resolved device in step with it.
        super().__setstate__(state)
        nets = [self.__dict__.get("net_"), *self.__dict__.get("nets_", [])]
        nets = [net for net in nets if net is not None]
        if nets:
            self.device_ = str(nets[0].device)
