"""The training engine: the only code that knows skorch.

An estimator describes what to train with a :class:`Spec`; :func:`build`
makes a private skorch net for it, :func:`train` runs epochs and answers with a
:class:`Result` (epochs completed, and what ended them) instead of setting
attributes, :func:`checkpoint` lets a failed fit put a net back exactly as it
was, and :func:`predict` is the inference path: the torch module run directly
over slices of a validated array, without skorch, a DataLoader or callbacks.
"""

import collections
import contextlib
import copy
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import TeeGenerator, noop

from sk_rectifier._data import ArrayDataset, to_tensor
from sk_rectifier.nn import LazyAdam, LazySGD
from sk_rectifier.nn.optim import _clone_table, _optimizer_step

#: solver -> (optimizer of the dense layers, row-wise optimizer of the first
#: layer, which takes sparse and dense gradients alike)
OPTIMIZERS = {
    "adam": (torch.optim.Adam, LazyAdam),
    "sgd": (torch.optim.SGD, LazySGD),
    "lbfgs": (torch.optim.LBFGS, None),  # full batch, every parameter
}

#: rows per inference batch
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
    # learning-rate schedule: "constant", "invscaling" (with power_t and the
    # samples seen before this call) or "adaptive"
    schedule: str = "constant"
    power_t: float = 0.5
    samples_seen: int = 0
    # the user's skorch callbacks (fresh clones), run after the engine's own
    callbacks: list | None = None
    max_fun: int = 15000  # loss evaluations of L-BFGS
    precision: str = "float32"  # or "bfloat16"/"float16": autocast
    compile: bool = False  # the module's dense layers through torch.compile
    # one model trained data-parallel by the processes of a torch.distributed
    # process group (launched by torchrun or accelerate launch)
    data_parallel: bool = False


@dataclass(frozen=True)
class Result:
    """What a call to :func:`train` did."""

    epochs: int  # epochs completed in this call (kept in the history)
    # None (incremental call), "stopped" (the stopping rule ended training),
    # "max_iter" (max_epochs ran out first), "diverged" (a non-finite loss:
    # the last finite epoch is kept), "interrupted" (KeyboardInterrupt in an
    # epoch: the last completed epoch is kept)
    event: str | None
    samples: int = 0  # samples trained on in the completed epochs


def _total(X):
    """Sum of the batch's sample weights (its size without weights), as a
    float, 1.0 if the weights sum to zero."""
    weight = X.get("sample_weight")
    total = len(X["X"]) if weight is None else float(weight.sum())
    return total if total > 0 else 1.0


def autocast(device, precision):
    """``torch.autocast`` for ``precision`` on ``device`` (nothing for
    float32). float16 autocast is a CUDA feature: elsewhere it runs as
    bfloat16."""
    if precision == "float32":
        return contextlib.nullcontext()
    kind = torch.device(device).type
    dtype = (
        torch.float16 if precision == "float16" and kind == "cuda" else (torch.bfloat16)
    )
    return torch.autocast(kind, dtype=dtype)


class _CompiledDense:
    """A module's dense layers through ``torch.compile``, falling back to
    running them as they are (with one warning) where compiling fails."""

    def __init__(self, module):
        self.eager = module.dense_layers
        self.compiled = torch.compile(self.eager, dynamic=True)

    def __call__(self, z):
        if self.compiled is not None:
            try:
                return self.compiled(z)
            except Exception as exc:  # no compiler, unsupported platform
                warnings.warn(
                    "compile=True: torch.compile failed on this platform "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                    "running the layers uncompiled.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self.compiled = None
        return self.eager(z)


def compile_dense(module):
    """Put the module's dense layers through ``torch.compile`` (in this
    process: a pickled module runs them uncompiled until this is called)."""
    if hasattr(module, "dense_layers"):
        module.dense = _CompiledDense(module)


class _Batches:
    """The batches of an :class:`ArrayDataset`, built whole (no DataLoader, no
    collate function); shuffled with torch's RNG when ``shuffle``. With
    ``shard=(rank, world)`` each batch is this process's share of the global
    batch (rows ``rank::world``); every process draws the same order."""

    def __init__(self, dataset, batch_size, shuffle, shard=None):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.shard = shard

    def __iter__(self):
        n = len(self.dataset)
        order = torch.randperm(n) if self.shuffle else torch.arange(n)
        if self.shard is not None and self.shuffle:  # rank 0's order for all
            import torch.distributed as dist

            order = order.to(self.shard[2])
            dist.broadcast(order, src=0)
        order = order.cpu().numpy()
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            if self.shard is not None:
                rank, world, _ = self.shard
                rows = rows[rank::world]
            yield self.dataset.__getitems__(rows)

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
        precision="float32",
        data_parallel=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.shuffle = shuffle
        self.precision = precision
        self.data_parallel = data_parallel
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.sparse_optimizer = sparse_optimizer

    def get_default_callbacks(self):
        # skorch's PrintLog formats its table every epoch, printed or not
        defaults = super().get_default_callbacks()
        return [(n, cb) for n, cb in defaults if self.verbose or n != "print_log"]

    def notify(self, method_name, **cb_kwargs):
        # skorch calls every callback's method, at every batch for the batch
        # events; here only the callbacks that override it (Callback's
        # methods do nothing)
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._listeners(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name):
        """The callbacks whose ``method_name`` is not :class:`Callback`'s
        no-op (recomputed when skorch rebuilds its list of callbacks)."""
        callbacks = getattr(self, "callbacks_", [])
        cache = self.__dict__.get("_listening")
        if cache is None or cache[0] is not callbacks:
            cache = self.__dict__["_listening"] = (callbacks, {})
        found = cache[1].get(method_name)
        if found is None:
            noop = getattr(Callback, method_name, None)
            found = cache[1][method_name] = [
                cb
                for _, cb in callbacks
                if getattr(getattr(cb, method_name), "__func__", None) is not noop
            ]
        return found

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_listening", None)  # (rebuilt on demand)
        return state

    def initialize_optimizer(self, triggered_directly=None):
        self.evaluations_ = 0  # loss evaluations (L-BFGS's max_fun)
        cuda = torch.device(self.device).type == "cuda"
        float16 = self.precision == "float16" and cuda
        float16 = float16 and self.sparse_optimizer is not None  # not L-BFGS
        self.scaler_ = torch.amp.GradScaler("cuda") if float16 else None
        if self.sparse_optimizer is None:  # full-batch L-BFGS
            kwargs = {"lr": self.lr, **self.get_params_for("optimizer")}
            # (its flat vectors hold only the parameters that train)
            trained = [p for p in self.module_.parameters() if p.requires_grad]
            self.optimizer_ = self.optimizer(trained, **kwargs)
            self.sparse_optimizer_ = None
            return self
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

    def _lbfgs_step(self, batch, **fit_params):
        """One L-BFGS iteration (its line search evaluates the loss over the
        whole batch one or more times); sparse gradients are densified."""
        step = {}

        def closure():
            self.optimizer_.zero_grad(set_to_none=True)
            step.update(self.train_step_single(batch, **fit_params))
            for p in self.module_.parameters():
                if p.grad is not None and p.grad.is_sparse:
                    p.grad = p.grad.to_dense()
            self.module_.release_batch()
            self.evaluations_ += 1
            return step["loss"]

        self.optimizer_.step(closure)
        return step

    def train_step(self, batch, **fit_params):
        if self.sparse_optimizer_ is None:
            return self._lbfgs_step(batch, **fit_params)
        # One forward/backward, then both optimizers step on those gradients.
        # (skorch's default passes a closure to each optimizer, which would
        # recompute the batch once per optimizer.)
        optimizers = (self.optimizer_, self.sparse_optimizer_)
        for optimizer in optimizers:  # (zero_grad(set_to_none=True), without
            for group in optimizer.param_groups:  # its profiler record)
                for p in group["params"]:
                    p.grad = None
        if self.data_parallel:
            rows = _global_batch(self, batch[0])
        step = self.train_step_single(batch, **fit_params)
        scaler = self.scaler_
        if scaler is not None:  # float16: the loss was scaled for backward
            step["loss"] = step["loss"].detach() / scaler.get_scale()
        if self.data_parallel:  # (records the loss: unscaled first)
            _reduce_gradients(self, step, self.global_total_, rows)
        if scaler is not None:
            for optimizer in optimizers:
                scaler.unscale_(optimizer)
        if self._listeners("on_grad_computed"):
            params = TeeGenerator(self.get_all_learnable_params())
            self.notify("on_grad_computed", named_parameters=params, batch=batch)
        # L2: 0.5 * alpha * ||W||^2 / total has gradient (alpha / total) * W,
        # which the optimizers add as weight decay (the row-wise one to the
        # rows in the first layer's gradient only: lazy decay).
        total = self.global_total_ if self.data_parallel else _total(batch[0])
        decay = self.alpha / total
        self.optimizer_.param_groups[0]["weight_decay"] = decay
        # a learning-rate scheduler (skorch's LRScheduler) sees optimizer_
        # only: the first layer follows its rate
        lr = self.optimizer_.param_groups[0]["lr"]
        for group in self.sparse_optimizer_.param_groups:
            group.update(lr=lr, weight_decay=decay)
        for optimizer in optimizers:
            if scaler is None:
                _optimizer_step(optimizer)  # (with less dispatch)
            else:
                scaler.step(optimizer)  # skipped when gradients overflowed
        if scaler is not None:
            scaler.update()
        self.module_.release_batch()  # drop references to this batch's graph
        return step

    def _set_training(self, training=True):
        # skorch sets the mode of every module at every batch; setting a mode
        # already set walks each submodule's __setattr__ (a tenth of a
        # millisecond of each 4 ms MR batch), so only a module with a
        # submodule in the other mode is set
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                m.training != training for m in module.modules()
            ):
                module.train(training)

    def get_iterator(self, dataset, training=False):
        if training:
            shard = (*_shard(), self.device) if self.data_parallel else None
            return _Batches(dataset, self.batch_size, self.shuffle, shard)
        return _Batches(dataset, max(self.batch_size, 1024), False)

    def train_step_single(self, batch, **fit_params):
        # skorch's, less its unpack_data
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def infer(self, x, **fit_params):
        # skorch's, for the dicts of tensors our datasets give: moved to the
        # device (nothing to do on the CPU) without skorch's to_tensor walk
        x = {k: v.to(self.device) for k, v in x.items() if k != "sample_weight"}
        with autocast(self.device, self.precision):
            if fit_params:  # (skorch checks them against x's keys)
                output, act_l1 = super().infer(x, **fit_params)
            else:
                output, act_l1 = self.module_(**x)
        return output.float(), act_l1.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, act_l1 = y_pred
        if y_true is None:  # the module returned per-sample losses itself
            losses = output
        else:
            losses = self.criterion_(output, y_true.to(output.device))
        if losses.ndim > 1:
            losses = losses.sum(dim=1)
        weight = X.get("sample_weight")
        if weight is not None:
            weight = weight.to(output.device)
            losses = weight * losses
        parallel = self.data_parallel and training  # the global batch's total
        total = self.global_total_ if parallel else _total(X)
        loss = losses.sum() / total
        if self.activation_l1:
            l1 = act_l1 if weight is None else weight * act_l1
            loss = loss + self.activation_l1 * l1.sum() / total
        if self.alpha and self.sparse_optimizer_ is None:
            # L-BFGS has no weight decay: the whole penalty, with autograd, on
            # the weights that train (a frozen layer's would only add a large
            # constant: float32 precision lost, and time)
            squares = sum(
                p.pow(2).sum()
                for name, p in self.module_.named_parameters()
                if p.requires_grad and not name.endswith("bias")
            )
            loss = loss + 0.5 * self.alpha * squares / total
        elif self.alpha and not self.data_parallel:  # (else: _reduce_gradients)
            # The penalty's value, for the record only (on the first layer:
            # the rows of this batch when it is sparse); its gradient is the
            # optimizers' weight decay (see train_step).
            rowwise, dense = self.module_.squared_weight_norms()
            loss = torch.add(loss, rowwise + dense, alpha=0.5 * self.alpha / total)
        if training and self.scaler_ is not None:
            loss = self.scaler_.scale(loss)  # float16: see train_step
        return loss


# ------------------------------------------------------- data parallelism
def _shard():
    import torch.distributed as dist

    return dist.get_rank(), dist.get_world_size()


def _global_batch(net, X):
    """Sum the shards' sample weights and rows over the processes: the loss
    of each shard is then divided by the global batch's total, and the sum
    of the shards' gradients is the global batch's gradient. Returns the
    global batch's rows."""
    import torch.distributed as dist

    weight = X.get("sample_weight")
    local = len(X["X"]) if weight is None else float(weight.sum())
    # on the net's device: NCCL reduces CUDA tensors only
    sums = torch.tensor([local, len(X["X"])], dtype=torch.float64, device=net.device)
    dist.all_reduce(sums)
    net.global_total_ = float(sums[0]) if sums[0] > 0 else 1.0
    return int(sums[1])


def _reduce_gradients(net, step, total, rows):
    """Sum the gradients (the first layer's sparse row gradients with gloo's
    sparse all-reduce; densified for NCCL, which has none) and the loss over
    the processes, then add the L2 penalty's value to the loss, for the
    record: on the first layer's rows the global batch used (all rows for
    dense input) and on the dense weights (its gradient is the optimizers'
    weight decay, on the same rows). Every process ends with the same
    gradients, hence the same step."""
    import torch.distributed as dist

    for p in net.module_.parameters():
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            p.grad = _reduce_rows(p.grad)
        else:
            dist.all_reduce(p.grad)
    loss = step["loss"].detach().clone()
    dist.all_reduce(loss)
    if net.alpha:
        scale = net.alpha / total
        with torch.no_grad():
            for p in net.module_.sparse_parameters():
                if p.grad is None:
                    continue
                sparse = p.grad.is_sparse
                weights = p.index_select(0, p.grad.indices()[0]) if sparse else p
                loss += 0.5 * scale * weights.pow(2).sum()
            loss += 0.5 * scale * net.module_.squared_weight_norms()[1]
        dist.broadcast(loss, src=0)  # the record: rank 0's sum, bit for bit
    step["loss"] = loss
    net.epoch_loss_ += float(loss) * rows
    net.epoch_rows_ += rows


def _reduce_rows(grad):
    """The sum over the processes of a row-sparse gradient, as a row-sparse
    gradient of the union of their rows (a presence mask, then one block of
    those rows, are all-reduced: dense collectives, which gloo and NCCL both
    have), so that the row-wise optimizer touches the rows the global batch
    used, as in one process."""
    import torch.distributed as dist

    grad = grad.coalesce()
    local = grad.indices()[0]
    present = torch.zeros(grad.shape[0], device=grad.device)
    present[local] = 1
    dist.all_reduce(present)
    rows = present.nonzero().squeeze(1)
    block = grad.values().new_zeros((len(rows), *grad.shape[1:]))
    block.index_add_(0, torch.searchsorted(rows, local), grad.values())
    dist.all_reduce(block)
    return torch.sparse_coo_tensor(
        rows.unsqueeze(0), block, grad.shape, is_coalesced=True
    )


class _GlobalLoss(Callback):
    """With data-parallel training, the epoch's ``train_loss`` of the global
    batches (skorch averages each process's shard losses by shard size):
    the same on every process, so that every stopping decision agrees."""

    def on_epoch_begin(self, net, **kwargs):
        net.epoch_loss_, net.epoch_rows_ = 0.0, 0

    def on_epoch_end(self, net, **kwargs):
        net.history.record("train_loss", net.epoch_loss_ / max(net.epoch_rows_, 1))


def _optimizers(net):
    return [o for o in (net.optimizer_, net.sparse_optimizer_) if o is not None]


def _module_state(module, into=None, trainable=False):
    """A copy of the module's state (copied into ``into``'s tensors when
    given, which spares the allocation). With ``trainable``, only what
    training can change: frozen parameters (``freeze_pretrained``) are left
    out, so restore it with ``load_state_dict(state, strict=False)``. A
    large CPU table (a text layer's weight) is copied into huge-page memory,
    as the weight itself is."""
    state = module.state_dict()
    if trainable:
        frozen = {name for name, p in module.named_parameters() if not p.requires_grad}
        state = {k: v for k, v in state.items() if k not in frozen}
    if into is None:
        return {k: _clone_table(v.detach()) for k, v in state.items()}
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
        if p.requires_grad  # a frozen one was checked when it was trained
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
        self.snapshot_ = _module_state(net.module_, trainable=True)
        self.in_epoch_ = self.after_commit_ = False
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
        self.snapshot_ = _module_state(net.module_, self.snapshot_, trainable=True)
        self.in_epoch_ = False
        self.committed_ += 1

    def _restore(self, net):
        net.module_.load_state_dict(self.snapshot_, strict=False)
        for optimizer in _optimizers(net):
            optimizer.state.clear()

    def on_train_end(self, net, **kwargs):
        if self.in_epoch_:
            self._restore(net)
            self.event_ = "interrupted"
        # no tensors may stay in callbacks: a net pickled on a GPU must load
        # on a machine without one (skorch maps only module/optimizer state)
        self.snapshot_ = None


class _Commit(Callback):
    """Commits the epoch in the guard once the engine's own callbacks have
    seen its end, before the user's: a user's callback that stops training
    (skorch's ``EarlyStopping`` raises ``KeyboardInterrupt``) keeps it."""

    def __init__(self, guard):
        self.guard = guard

    def on_epoch_end(self, net, **kwargs):
        self.guard.commit(net)
        self.guard.after_commit_ = True


class _EpochDone(Callback):
    """The last callback: ends the epoch's user section, then stops training
    if a stopping rule (``event_`` set) asked for it."""

    def __init__(self, guard, stoppers=()):
        self.guard, self.stoppers = guard, list(stoppers)

    def on_epoch_end(self, net, **kwargs):
        self.guard.after_commit_ = False
        stop = any(stopper.event_ for stopper in self.stoppers)
        if net.data_parallel:  # one decision for all the processes
            import torch.distributed as dist

            vote = torch.tensor([float(stop)], device=net.device)
            dist.all_reduce(vote, op=dist.ReduceOp.MAX)
            stop = bool(vote.item())
            for stopper in self.stoppers:
                stopper.event_ = stopper.event_ or ("stopped" if stop else None)
        if stop:
            raise KeyboardInterrupt  # how skorch callbacks stop training


#: scipy's L-BFGS-B default ``ftol``: a relative change of the loss this small
#: ends the optimisation (converged)
_FTOL = 2.220446049250313e-09


class _LBFGSLimits(Callback):
    """L-BFGS's stopping rules, as scipy's (which scikit-learn uses):
    converged (``event_ = "stopped"``) when the largest gradient entry at
    the current weights is at most ``tol`` (torch's L-BFGS then makes no
    iteration) or the loss changed by at most ``ftol`` relatively; out of
    budget (``event_ = "max_iter"``) when ``max_fun`` loss evaluations
    ran."""

    def __init__(self, tol, max_fun):
        self.tol, self.max_fun = tol, max_fun

    def on_train_begin(self, net, **kwargs):
        self.event_, self.previous_ = None, None

    def _iterations(self, net):
        return net.optimizer_.state_dict()["state"].get(0, {}).get("n_iter", 0)

    def on_epoch_begin(self, net, **kwargs):
        self.iterations_ = self._iterations(net)

    def on_epoch_end(self, net, **kwargs):
        loss = float(net.history[-1, "train_loss"])
        previous, self.previous_ = self.previous_, loss
        scale = max(abs(loss), abs(previous if previous is not None else loss), 1.0)
        if self._iterations(net) == self.iterations_:
            self.event_ = "stopped"  # the gradient is below tol
        elif previous is not None and previous - loss <= _FTOL * scale:
            self.event_ = "stopped"
        elif net.evaluations_ >= self.max_fun:
            self.event_ = "max_iter"


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


class _Stopping(Callback):
    """scikit-learn's stopping rule (``MLPClassifier``'s): an epoch whose
    monitored value does not beat the best so far by ``tol`` counts as a
    miss; after more than ``n_iter_no_change`` misses in a row, training
    stops -- or, with the adaptive schedule, the learning rate is divided by
    5 and the count restarts, until the rate is at most 1e-6. With held-out
    data (``restore_best``), the best epoch's weights come back at the end.
    The stop itself is left to :class:`_EpochDone`, after the epoch is
    committed."""

    def __init__(
        self,
        monitor,
        lower_is_better,
        n_iter_no_change,
        tol,
        restore_best,
        adaptive,
        sink,
    ):
        self.monitor, self.lower_is_better = monitor, lower_is_better
        self.n_iter_no_change, self.tol = n_iter_no_change, tol
        self.restore_best, self.adaptive, self.sink = restore_best, adaptive, sink

    def on_train_begin(self, net, **kwargs):
        self.best_, self.no_improvement_count_, self.event_ = np.inf, 0, None
        self.best_weights_ = self.best_epoch_ = None

    def on_epoch_end(self, net, **kwargs):
        value = float(net.history[-1, self.monitor])
        value = value if self.lower_is_better else -value
        self.no_improvement_count_ = (
            self.no_improvement_count_ + 1 if value > self.best_ - self.tol else 0
        )
        if value < self.best_:
            self.best_, self.best_epoch_ = value, len(net.history)
            if self.restore_best:
                self.best_weights_ = _module_state(
                    net.module_, self.best_weights_, trainable=True
                )
        if self.no_improvement_count_ <= self.n_iter_no_change:
            return
        lr = net.optimizer_.param_groups[0]["lr"]
        if self.adaptive and lr > 1e-6:
            _set_learning_rate(net, lr / 5)
            self.no_improvement_count_ = 0
            self.sink(f"Setting learning rate to {lr / 5:f}")
        else:
            self.event_ = "stopped"
            self.sink(
                f"{self.monitor} did not improve more than tol={self.tol} for "
                f"{self.n_iter_no_change} consecutive epochs. Stopping."
            )

    def on_train_end(self, net, **kwargs):
        if self.best_weights_ is not None and self.best_epoch_ != len(net.history):
            net.module_.load_state_dict(self.best_weights_, strict=False)
        self.best_weights_ = None  # no tensors left in callbacks


class _InvScaling(Callback):
    """scikit-learn's ``invscaling`` schedule: after each epoch the rate is
    ``lr_init / (t + 1) ** power_t``, ``t`` the number of samples seen."""

    def __init__(self, lr, power_t, samples_seen, samples_per_epoch):
        self.lr, self.power_t = lr, power_t
        self.samples_seen, self.samples_per_epoch = samples_seen, samples_per_epoch

    def on_train_begin(self, net, **kwargs):
        self.t_ = self.samples_seen

    def on_epoch_end(self, net, **kwargs):
        self.t_ += self.samples_per_epoch
        _set_learning_rate(net, self.lr / (self.t_ + 1) ** self.power_t)


def _set_learning_rate(net, lr):
    for optimizer in _optimizers(net):
        for group in optimizer.param_groups:
            group["lr"] = lr


class _ValidationScore(Callback):
    """Records ``score(outputs, y, sample_weight)`` on the held-out data."""

    def __init__(self, score, X, y, sample_weight):
        self.score, self.X, self.y, self.sample_weight = score, X, y, sample_weight

    def on_epoch_end(self, net, **kwargs):
        outputs = predict(
            net.module_, self.X, logits, net.device, precision=net.precision
        )
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


def build(spec: Spec, init_module=None) -> NeuralNet:
    """A new, initialised net for ``spec`` (seed torch around the call);
    ``init_module(module)``, if given, adjusts the new module's weights (and
    which of them train) before the optimizers are built."""
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
        precision=spec.precision,
        data_parallel=spec.data_parallel,
        device=spec.device,
        verbose=0,
    )
    net.initialize()
    if init_module is not None:
        init_module(net.module_)
        net.initialize_optimizer()  # over the parameters that now train
    if spec.compile:
        compile_dense(net.module_)
    return net


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


_USER = "user:"  # the prefix of the user's callbacks' names


def _callbacks(spec, valid, incremental, n_train):
    guard, stop = _Guard(), None
    callbacks = [("global_loss", _GlobalLoss())] if spec.data_parallel else []
    callbacks.append(("guard", guard))
    if spec.threads is not None:
        callbacks.append(("threads", _Threads(spec.threads)))
    monitor, lower_is_better = "train_loss", True
    if valid is not None and spec.score is not None:
        callbacks.append(("valid_score", _ValidationScore(spec.score, *valid)))
        monitor, lower_is_better = "valid_score", False
    elif valid is not None:
        monitor = "valid_loss"
    if spec.solver == "lbfgs":
        stop = _LBFGSLimits(spec.tol, spec.max_fun)
        callbacks.append(("lbfgs", stop))
    elif spec.schedule == "invscaling":
        schedule = _InvScaling(
            spec.learning_rate, spec.power_t, spec.samples_seen, n_train
        )
        callbacks.append(("schedule", schedule))
    if not incremental and spec.solver != "lbfgs":
        stop = _Stopping(
            monitor=monitor,
            lower_is_better=lower_is_better,
            n_iter_no_change=spec.n_iter_no_change,
            tol=spec.tol,
            restore_best=valid is not None,
            adaptive=spec.schedule == "adaptive",
            sink=print if spec.verbose else noop,
        )
        callbacks.append(("stopping", stop))
    callbacks.append(("commit", _Commit(guard)))
    for i, callback in enumerate(spec.callbacks or ()):
        name, callback = callback if isinstance(callback, tuple) else (None, callback)
        name = f"{_USER}{name or f'{i}_{type(callback).__name__}'}"
        callbacks.append((name, callback))
    if spec.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    stoppers = [] if stop is None else [stop]
    callbacks.append(("epoch_done", _EpochDone(guard, stoppers)))
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
    if spec.criterion is not None and net.criterion is not spec.criterion:
        # a net rebuilt from weights (safe format, prune) or a changed loss
        net.set_params(criterion=spec.criterion, criterion__reduction="none")
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
        precision=spec.precision,
        data_parallel=spec.data_parallel,
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
    if spec.data_parallel:  # every process starts from rank 0's weights
        import torch.distributed as dist

        with torch.no_grad():
            for tensor in net.module_.state_dict().values():
                dist.broadcast(tensor, src=0)
    net.callbacks = _callbacks(spec, valid, incremental, X.shape[0])
    net.initialize_callbacks()
    n_before = len(net.history)
    epochs = 1 if incremental else spec.max_epochs
    net.partial_fit(ArrayDataset(X, y, sample_weight), None, epochs=epochs)

    callbacks = dict(net.callbacks_)
    guard = callbacks["guard"]
    stopper = callbacks.get("stopping", callbacks.get("lbfgs"))
    unfinished = len(net.history) - n_before - guard.committed_
    if unfinished:
        del net.history[-unfinished:]  # an interrupted or non-finite epoch
    event = guard.event_
    if event is None and guard.committed_ < epochs:
        # stopped by a rule or by a user's callback after a complete epoch,
        # or interrupted between two epochs
        if stopper is not None and stopper.event_:
            event = stopper.event_
        else:
            event = "stopped" if guard.after_commit_ else "interrupted"
    elif event is None and stopper is not None:
        event = "max_iter" if stopper.event_ is None else stopper.event_
    if event == "interrupted" and spec.data_parallel:
        # the other processes may be anywhere: nothing partial is kept
        raise KeyboardInterrupt("Data-parallel training was interrupted.")
    net.train_split = None  # do not keep the held-out data
    # the user's callbacks ran for this call only (a TensorBoard writer, say,
    # must not stay in a net that is pickled)
    net.callbacks = [c for c in net.callbacks if not c[0].startswith(_USER)]
    net.callbacks_ = [c for c in net.callbacks_ if not c[0].startswith(_USER)]
    return Result(
        epochs=guard.committed_, event=event, samples=guard.committed_ * X.shape[0]
    )


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


def predict(
    module,
    X,
    fn,
    device,
    batch_size=None,
    precision="float32",
    collect=None,
    workers=1,
) -> torch.Tensor:
    """``fn(module, batch)`` over the rows of ``X`` (float32 ndarray or CSR) in
    inference mode, in batches of ``batch_size`` rows (default
    ``INFERENCE_BATCH``), concatenated on the CPU.

    ``fn`` may return a tensor or a list of tensors (one per layer). With
    ``collect``, each batch's output goes to ``collect(output)`` as soon as it
    is computed, in the order of the rows, and nothing is returned (the
    outputs of all of ``X`` are never held together). With ``workers`` > 1,
    that many threads compute batches side by side (each with the torch
    threads of the caller at the call), and the outputs still come in order.
    """
    if module.training:
        module.train(False)
    n, parts = X.shape[0], []
    batch_size = batch_size or INFERENCE_BATCH

    def run(start):
        chunk = X if n <= batch_size else X[start : start + batch_size]
        batch = to_tensor(chunk)
        with torch.inference_mode(), autocast(device, precision):
            out = fn(module, batch if device == "cpu" else batch.to(device))
            if isinstance(out, list | tuple):
                return [o.float().cpu() for o in out]
            return out.float().cpu()

    starts = range(0, max(n, 1), batch_size)
    consume = parts.append if collect is None else collect
    if workers > 1 and len(starts) > 1:
        _in_order(run, starts, workers, consume)
    else:
        for start in starts:
            consume(run(start))
    if collect is not None:
        return None
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        return [torch.cat(layer) for layer in zip(*parts)]
    return torch.cat(parts)


def _in_order(fn, items, workers, consume):
    """``consume(fn(item))`` for each item in order, ``fn`` running in
    ``workers`` threads: at most one result more than ``workers`` waits to
    be consumed. An exception (in ``fn`` or ``consume``) stops the rest."""
    with ThreadPoolExecutor(workers, thread_name_prefix="sk_rectifier") as pool:
        pending = collections.deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    consume(pending.popleft().result())
            while pending:
                consume(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
