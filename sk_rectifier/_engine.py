"""The training engine: the only code that knows skorch.

An estimator describes what to train with a :class:`Spec`; :func:`build`
makes a private skorch net for it, :func:`train` runs epochs and answers with a
:class:`Result` (epochs completed, and what ended them) instead of setting
attributes, :func:`checkpoint` lets a failed fit put a net back exactly as it
was, and :func:`predict` is the inference path: the torch module run directly
over slices of a validated array, without skorch, a DataLoader or callbacks.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import TeeGenerator, noop

from sk_rectifier._data import ArrayDataset, to_tensor
from sk_rectifier.nn import LazyAdam, LazySGD

#: solver -> (optimizer of the dense layers, row-wise optimizer of the first
#: layer, which takes sparse and dense gradients alike)
OPTIMIZERS = {
    "adam": (torch.optim.Adam, LazyAdam),
    "sgd": (torch.optim.SGD, LazySGD),
}

#: rows per inference batch (a multiple of 8, see :func:`predict`)
INFERENCE_BATCH = 4096


@dataclass
class Spec:
    """Everything the engine needs from an estimator to build and train."""

    module: type
    module_kwargs: dict
    criterion: type | None  # a torch loss built with reduction="none"; None:
    # the module returns its own per-sample losses
    solver: str
    learning_rate: float
    optimizer_kwargs: dict
    alpha: float
    activation_l1: float
    batch_size: int
    max_epochs: int
    shuffle: bool
    tol: float
    n_iter_no_change: int
    device: str
    verbose: int = 0
    # fn(outputs, y, sample_weight) -> score (higher is better) for early
    # stopping on held-out data; None: the held-out loss is monitored
    score: Callable | None = None
    # fn() -> torch intra-op threads, asked at the start of every epoch
    threads: Callable | None = None


@dataclass(frozen=True)
class Result:
    """What a call to :func:`train` did."""

    epochs: int  # epochs completed in this call (kept in the history)
    # None (incremental call), "stopped" (the stopping rule ended training),
    # "max_iter" (max_epochs ran out first), "diverged" (a non-finite loss:
    # the last finite epoch is kept), "interrupted" (KeyboardInterrupt in an
    # epoch: the last completed epoch is kept)
    event: str | None


def _total(X):
    """Sum of the batch's sample weights (its size without weights), as a
    float, 1.0 if the weights sum to zero."""
    weight = X.get("sample_weight")
    total = len(X["X"]) if weight is None else float(weight.sum())
    return total if total > 0 else 1.0


class _Batches:
    """The batches of an :class:`ArrayDataset`, built whole (no DataLoader, no
    collate function); shuffled with torch's RNG when ``shuffle``."""

    def __init__(self, dataset, batch_size, shuffle):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle

    def __iter__(self):
        n = len(self.dataset)
        order = torch.randperm(n).numpy() if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            yield self.dataset.__getitems__(order[start : start + self.batch_size])

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)


class _Net(NeuralNet):
    """skorch net with a sample-weighted loss, the L1 activation penalty, the L2
    weight penalty, and a row-wise optimizer for the first layer."""

    def __init__(
        self,
        *args,
        activation_l1=0.0,
        alpha=0.0,
        sparse_optimizer=LazyAdam,
        shuffle=True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.shuffle = shuffle
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.sparse_optimizer = sparse_optimizer

    def initialize_optimizer(self, triggered_directly=None):
        # The first layer (module.sparse_parameters()) always has the row-wise
        # optimizer, whether a batch is dense or sparse, so switching between
        # them never rebuilds anything. The other weights decay through their
        # optimizer (weight_decay set at each step, see train_step); biases
        # never decay.
        rowwise = self.module_.sparse_parameters()
        groups = {"weights": [], "biases": []}
        for name, p in self.module_.named_parameters():
            if not any(p is q for q in rowwise):
                groups["biases" if name.endswith("bias") else "weights"].append(p)
        kwargs = {"lr": self.lr, **self.get_params_for("optimizer")}
        fused = torch.device(self.device).type in ("cpu", "cuda")
        self.optimizer_ = self.optimizer(
            [{"params": groups["weights"]}, {"params": groups["biases"]}],
            fused=fused,
            **kwargs,
        )
        self.sparse_optimizer_ = self.sparse_optimizer(rowwise, **kwargs)
        return self

    def train_step(self, batch, **fit_params):
        # One forward/backward, then both optimizers step on those gradients.
        # (skorch's default passes a closure to each optimizer, which would
        # recompute the batch once per optimizer.)
        optimizers = (self.optimizer_, self.sparse_optimizer_)
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        params = TeeGenerator(self.get_all_learnable_params())
        self.notify("on_grad_computed", named_parameters=params, batch=batch)
        # L2 on dense weights: 0.5 * alpha * ||W||^2 / total has gradient
        # (alpha / total) * W, which the optimizer adds as weight decay.
        self.optimizer_.param_groups[0]["weight_decay"] = self.alpha / _total(batch[0])
        for optimizer in optimizers:
            optimizer.step()
        self.module_.release_batch()  # drop references to this batch's graph
        return step

    def get_iterator(self, dataset, training=False):
        if training:
            return _Batches(dataset, self.batch_size, self.shuffle)
        return _Batches(dataset, max(self.batch_size, 1024), False)

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
            # The first layer is penalised through autograd (only the rows of
            # this batch when it is sparse); the dense weights' value is added
            # for the record only, their gradient is the optimizer's decay.
            rowwise, dense = self.module_.squared_weight_norms()
            loss = loss + 0.5 * self.alpha * (rowwise + dense) / total
        return loss


def _optimizers(net):
    return (net.optimizer_, net.sparse_optimizer_)


def _module_state(module, into=None):
    """A copy of the module's state (copied into ``into``'s tensors when
    given, which spares the allocation)."""
    state = module.state_dict()
    if into is None:
        return {k: v.detach().clone() for k, v in state.items()}
    for key, value in state.items():
        into[key].copy_(value)
    return into


def _finite(module):
    """Whether every parameter is finite: one sum per parameter (NaN and
    infinities propagate into it), confirmed entry by entry only when a sum
    is not finite (finite weights whose sum overflows float32)."""
    return all(
        bool(torch.isfinite(p.sum())) or bool(torch.isfinite(p).all())
        for p in module.parameters()
    )


class _Guard(Callback):
    """Keeps the weights of the last completed epoch whose loss was finite.

    If an epoch's loss (or a weight) becomes NaN or infinite, the weights of
    the previous epoch come back, the optimizers restart and training stops
    (``event_ = "diverged"``). If training is interrupted (KeyboardInterrupt,
    which skorch catches) before an epoch is complete -- in a batch, in a
    callback at its end, during its validation -- the weights of the last
    completed epoch come back and the optimizers restart
    (``event_ = "interrupted"``); the unfinished epoch's history row is
    dropped by :func:`train`. An epoch is complete when every callback has
    seen its end: the guard is the first callback and :class:`_EpochDone`,
    which commits the epoch, the last.
    """

    def on_train_begin(self, net, **kwargs):
        self.snapshot_ = _module_state(net.module_)
        self.in_epoch_ = False
        self.event_ = None
        self.committed_ = 0  # epochs completed in this call

    def on_epoch_begin(self, net, **kwargs):
        self.in_epoch_ = True

    def on_epoch_end(self, net, **kwargs):
        finite = np.isfinite(net.history[-1, "train_loss"]) and _finite(net.module_)
        if not finite:
            self.in_epoch_ = False
            self._restore(net)
            self.event_ = "diverged"
            raise KeyboardInterrupt  # how skorch callbacks stop training

    def commit(self, net):
        """The epoch is complete: its weights are the ones to keep."""
        self.snapshot_ = _module_state(net.module_, into=self.snapshot_)
        self.in_epoch_ = False
        self.committed_ += 1

    def _restore(self, net):
        net.module_.load_state_dict(self.snapshot_)
        for optimizer in _optimizers(net):
            optimizer.state.clear()

    def on_train_end(self, net, **kwargs):
        if self.in_epoch_:
            self._restore(net)
            self.event_ = "interrupted"
        # no tensors may stay in callbacks: a net pickled on a GPU must load
        # on a machine without one (skorch maps only module/optimizer state)
        self.snapshot_ = None


class _EpochDone(Callback):
    """The last callback: commits the epoch in the guard, then stops
    training if early stopping asked for it."""

    def __init__(self, guard, stopping=None):
        self.guard, self.stopping = guard, stopping

    def on_epoch_end(self, net, **kwargs):
        self.guard.commit(net)
        if self.stopping is not None and self.stopping.stopped_:
            raise KeyboardInterrupt  # how skorch callbacks stop training


class _Threads(Callback):
    """Sets torch's intra-op threads at the start of each epoch."""

    def __init__(self, threads):
        self.threads = threads

    def on_epoch_begin(self, net, **kwargs):
        n = self.threads()
        if n != torch.get_num_threads():
            torch.set_num_threads(n)

    def on_train_end(self, net, **kwargs):
        self.threads = None  # it refers to the estimator: not kept in the net


class _Stopping(EarlyStopping):
    """skorch's early stopping, remembering whether it stopped training; the
    stop itself is left to :class:`_EpochDone`, after the epoch is
    committed."""

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            since_best = net.history[-1, "epoch"] - self.best_epoch_
            if not self.best_epoch_ or since_best != self.patience:
                raise  # an interrupt, not the stopping rule
            self.stopped_ = True

    def on_train_end(self, net, **kwargs):
        if len(net.history):  # skorch reads the last row (none if interrupted)
            super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None  # no tensors left in callbacks


class _ValidationScore(Callback):
    """Records ``score(outputs, y, sample_weight)`` on the held-out data."""

    def __init__(self, score, X, y, sample_weight):
        self.score, self.X, self.y, self.sample_weight = score, X, y, sample_weight

    def on_epoch_end(self, net, **kwargs):
        outputs = predict(net.module_, self.X, logits, net.device)
        value = self.score(outputs.numpy(), self.y, self.sample_weight)
        net.history.record("valid_score", float(value))

    def on_train_end(self, net, **kwargs):
        self.X = self.y = self.sample_weight = None  # do not keep the data


def logits(module, X):
    """The output-layer scores of an MLP module, without the L1 term that
    only training needs."""
    return module.hidden(X)[1]


def _optimizer_params(spec):
    dense, rowwise = OPTIMIZERS[spec.solver]
    params = {"optimizer": dense, "sparse_optimizer": rowwise, "lr": spec.learning_rate}
    params.update({f"optimizer__{k}": v for k, v in spec.optimizer_kwargs.items()})
    return params


def build(spec: Spec) -> NeuralNet:
    """A new, initialised net for ``spec`` (seed torch around the call)."""
    net = _Net(
        module=spec.module,
        **{f"module__{k}": v for k, v in spec.module_kwargs.items()},
        criterion=spec.criterion or torch.nn.MSELoss,
        criterion__reduction="none",
        **_optimizer_params(spec),
        max_epochs=spec.max_epochs,
        batch_size=spec.batch_size,
        shuffle=spec.shuffle,
        train_split=None,
        activation_l1=spec.activation_l1,
        alpha=spec.alpha,
        device=spec.device,
        verbose=0,
    )
    return net.initialize()


def module(net) -> torch.nn.Module:
    """The torch module of a net."""
    return net.module_


def module_kwargs(net) -> dict:
    """The keyword arguments the net's module was built with."""
    return net.get_params_for("module")


def device(net) -> str:
    """The device a net's module lives on."""
    return str(net.device)


def curves(net) -> dict:
    """Per-epoch records of the net's whole history: ``train_loss``, and
    ``valid_score`` when a held-out score was monitored (None for an epoch
    that did not record it)."""
    keys = ("train_loss", "valid_score")
    return {key: [row.get(key) for row in net.history] for key in keys}


def _callbacks(spec, valid, incremental):
    guard, stop = _Guard(), None
    callbacks = [("guard", guard)]
    if spec.threads is not None:
        callbacks.append(("threads", _Threads(spec.threads)))
    monitor, lower_is_better = "train_loss", True
    if valid is not None and spec.score is not None:
        callbacks.append(("valid_score", _ValidationScore(spec.score, *valid)))
        monitor, lower_is_better = "valid_score", False
    elif valid is not None:
        monitor = "valid_loss"
    if not incremental:
        stop = _Stopping(
            monitor=monitor,
            lower_is_better=lower_is_better,
            patience=spec.n_iter_no_change,
            threshold=spec.tol,
            threshold_mode="abs",
            load_best=valid is not None,
            sink=print if spec.verbose else noop,
        )
        callbacks.append(("stopping", stop))
    if spec.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    callbacks.append(("epoch_done", _EpochDone(guard, stop)))
    return callbacks


def train(
    net,
    spec: Spec,
    X,
    y=None,
    sample_weight=None,
    *,
    valid=None,
    incremental=False,
    restart=False,
) -> Result:
    """Train ``net`` on validated data: float32 ``X`` (ndarray or CSR),
    encoded ``y`` (or None for a module that returns its own losses), float32
    ``sample_weight`` or None.

    ``valid`` is ``(X, y, sample_weight)`` of held-out data for early stopping
    (monitoring ``spec.score``, or the loss) with the best epoch restored at
    the end. ``incremental`` runs one epoch without a stopping rule.
    ``restart`` rebuilds the optimizers (fresh state, ``spec``'s solver and
    learning rate), as a new fit from warm-started weights does. Seed torch
    around the call.
    """
    moved = str(net.device) != spec.device
    if moved:
        net.set_params(device=spec.device)
        net.module_.to(spec.device)
    net.set_params(
        batch_size=spec.batch_size,
        max_epochs=spec.max_epochs,
        shuffle=spec.shuffle,
        verbose=int(spec.verbose > 0),
        alpha=spec.alpha,
        activation_l1=spec.activation_l1,
        # skorch computes the held-out loss when it is what is monitored
        train_split=None
        if valid is None or spec.score is not None
        else predefined_split(ArrayDataset(*valid)),
    )
    if restart or moved:
        for stale in [key for key in vars(net) if key.startswith("optimizer__")]:
            del vars(net)[stale]  # another solver's arguments
        for name, value in _optimizer_params(spec).items():
            setattr(net, name, value)
        net.initialize_optimizer()
    net.module_.track_l1 = bool(spec.activation_l1)
    net.callbacks = _callbacks(spec, valid, incremental)
    net.initialize_callbacks()
    n_before = len(net.history)
    epochs = 1 if incremental else spec.max_epochs
    net.partial_fit(ArrayDataset(X, y, sample_weight), None, epochs=epochs)

    callbacks = dict(net.callbacks_)
    guard, stopping = callbacks["guard"], callbacks.get("stopping")
    unfinished = len(net.history) - n_before - guard.committed_
    if unfinished:
        del net.history[-unfinished:]  # an interrupted or non-finite epoch
    event = guard.event_
    if event is None and guard.committed_ < epochs:
        # stopped by its rule, or interrupted between two epochs
        event = (
            "stopped" if stopping is not None and stopping.stopped_ else ("interrupted")
        )
    elif event is None and stopping is not None:
        event = "max_iter"
    net.train_split = None  # do not keep the held-out data
    return Result(epochs=guard.committed_, event=event)


def checkpoint(net) -> Callable[[], None]:
    """A function that puts ``net`` back exactly as it is now: module and
    optimizer state, history, parameters and callbacks."""
    attributes = dict(vars(net))
    history = copy.deepcopy(net.history)
    module_state = _module_state(net.module_)
    optimizer_states = [copy.deepcopy(o.state_dict()) for o in _optimizers(net)]

    def restore():
        vars(net).clear()
        vars(net).update(attributes)
        vars(net)["history_"] = history
        net.module_.to(net.device)  # a failed warm fit may have moved it
        net.module_.load_state_dict(module_state)
        for optimizer, state in zip(_optimizers(net), optimizer_states):
            optimizer.load_state_dict(state)

    return restore


def predict(module, X, fn, device, batch_size=INFERENCE_BATCH) -> torch.Tensor:
    """``fn(module, batch)`` over the rows of ``X`` (float32 ndarray or CSR) in
    inference mode, concatenated on the CPU.

    Batches are padded with zero rows to a multiple of 8 rows, and the dense
    layers multiply by weights in (out, in) layout: together they make each
    row's output independent of the other rows in the call (float32 matrix
    products otherwise pick kernels, and summation orders, by batch shape).
    ``fn`` may return a tensor or a list of tensors (one per layer).
    """
    if module.training:
        module.train(False)
    n, parts = X.shape[0], []
    with torch.inference_mode():
        for start in range(0, max(n, 1), batch_size):
            chunk = X[start : start + batch_size]
            rows = chunk.shape[0]
            padded = -(-max(rows, 1) // 8) * 8
            if padded != rows:
                chunk = _pad(chunk, padded)
            batch = to_tensor(chunk)
            out = fn(module, batch if device == "cpu" else batch.to(device))
            if isinstance(out, list | tuple):
                parts.append([o[:rows].cpu() for o in out])
            else:
                parts.append(out[:rows].cpu())
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        return [torch.cat(layer) for layer in zip(*parts)]
    return torch.cat(parts)


def _pad(chunk, rows):
    """``chunk`` with zero rows appended, ``rows`` in all."""
    extra = rows - chunk.shape[0]
    if sp.issparse(chunk):
        zeros = sp.csr_matrix((extra, chunk.shape[1]), dtype=np.float32)
        return sp.vstack([chunk, zeros], format="csr")
    return np.concatenate([chunk, np.zeros((extra, chunk.shape[1]), chunk.dtype)])
