"""Machinery of an estimator that trains torch networks through the engine:
the parameters every sk_rectifier estimator shares, validation, device,
seeding, exact rollback of a failed fit, warnings at the user's line, the
inference path, pickling, and the hooks persistence and inspection use.
"""

import contextlib
import copy
import inspect
import os
import re
import sys
import time
import warnings
import weakref
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from sk_rectifier import _engine as engine
from sk_rectifier._compat import Interval, StrOptions
from sk_rectifier._data import CSRBuilder, as_float32
from sk_rectifier.nn import ACTIVATIONS

if torch.distributed.is_available():
    # torch.distributed.nn binds the default process group into its
    # functions' default arguments when first imported (torch.optim imports it
    # with the first optimizer): imported after a group exists, it keeps that
    # group alive past destroy_process_group(), and gloo's threads then meet
    # the interpreter's exit (an occasional SIGABRT). Imported now, before
    # strategy="ddp" sets up the group, it binds None.
    import torch.distributed.nn  # noqa: F401

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")
_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
#: how every estimator validates X: any sparse format, float64 or float32
_X_RULES = {
    "accept_sparse": ("csr", "csc", "coo", "bsr", "dia", "dok", "lil"),
    "accept_large_sparse": True,
    "dtype": (np.float64, np.float32),
}

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_TORCH_SUM = 1 << 20  # values from which torch sums X faster than NumPy


def _valid_as_is(estimator, X):
    """Whether ``validate_data(estimator, X, reset=False, **_X_RULES)`` would
    return ``X`` itself without a warning: a C-ordered float ndarray or a
    float CSR matrix (or array), of exact type, with at least one row, the
    fitted number of columns and only finite values, for an estimator fitted
    without feature names. Anything else takes ``validate_data``, with its
    conversions and error messages. A one-row ``predict`` is dominated by
    ``validate_data``'s inspection of the input's type (whether it is a
    dataframe), which this check makes by ``type`` alone."""
    if type(X) is np.ndarray:
        ok, values = X.flags.c_contiguous, X
    elif type(X) in (sp.csr_matrix, sp.csr_array):  # a csr_array may be 1-d
        ok, values = True, X.data
    else:
        return False
    ok = ok and X.ndim == 2 and X.dtype in _FLOATS and X.shape[0] > 0
    ok = ok and X.shape[1] == getattr(estimator, "n_features_in_", None)
    ok = ok and not hasattr(estimator, "feature_names_in_")
    if not ok:
        return False
    # a finite sum means finite values (an overflowing sum takes the slow path)
    if values.size >= _TORCH_SUM and values.flags.writeable:
        # torch sums on the estimator's threads (a third of NumPy's time on 2
        # idle cores for 10,000 x 784 values)
        with torch_threads(estimator._threads(torch.get_num_threads())):
            return bool(torch.from_numpy(values).sum().isfinite())
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(values.sum()))


#: files whose frames are the library's, not the user's (for warnings)
_INTERNAL = tuple(
    str(Path(module.__file__).parent)
    for module in (sys.modules["sklearn"], sys.modules["skorch"], torch)
) + (str(Path(__file__).parent),)


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
    """Seed torch's generators of ``device`` (the CPU's, and the CUDA
    device's) inside the block only; their global states are restored.
    (``torch.manual_seed`` would also reseed every other device's generator,
    unrestored, and format a stack trace for each kind of device not yet
    initialised: 0.3 ms a call.)"""
    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


#: multiply-adds below which a prediction runs on one thread
_SMALL_WORK = 1e6


def _available_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _data_parallel(estimator, device, seed):
    """The device of this process and the seed all processes agree on (rank
    0's), for ``strategy="ddp"``: Accelerate reads the launcher's environment
    (torchrun, accelerate launch) and sets up the process group (gloo on CPU,
    NCCL on GPUs, one GPU per process)."""
    if estimator.solver == "lbfgs":
        raise ValueError("strategy='ddp' needs a stochastic solver, not 'lbfgs'.")
    try:
        from accelerate import PartialState
        from accelerate.utils import broadcast_object_list
    except ImportError as exc:
        raise ImportError(
            "strategy='ddp' needs Accelerate: pip install 'sk-rectifier[distributed]'"
        ) from exc
    if "WORLD_SIZE" not in os.environ:
        raise ValueError(
            "strategy='ddp' trains one model across the processes of a launcher: "
            "run the script with `torchrun --nproc-per-node=N script.py` or "
            "`accelerate launch script.py`."
        )
    if estimator.precision == "float16":
        raise ValueError(
            "strategy='ddp' does not support precision='float16' (its gradient "
            "scaler); use precision='bfloat16'."
        )
    # gloo for CPU processes, NCCL (one GPU each) for CUDA ones
    state = PartialState(cpu=not device.startswith("cuda"))
    if estimator.device == "auto":
        device = str(state.device)
    return device, broadcast_object_list([seed])[0], state.process_index


def _own_running():
    """This process's threads in the running state (Linux)."""
    own = 0
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/stat") as f:
            own += f.read().rsplit(")", 1)[1].split()[0] == "R"
    return own


_LAST_READING = [0.0, 0]  # (time.monotonic(), reading): reused for 0.1 s


def _others_running():
    """Threads of other processes running at this moment (Linux; 0 where it
    cannot be read): the kernel's count of runnable threads in
    ``/proc/loadavg`` less this process's own running threads (counted before
    and after, as torch's own threads may just be going to sleep), the lower
    of two readings; a reading is reused for 0.1 s (it costs ~0.5 ms)."""
    now = time.monotonic()
    if now - _LAST_READING[0] < 0.1:
        return _LAST_READING[1]
    try:
        readings = []
        for _ in range(2):
            before = _own_running()
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            own = max(before, _own_running())
            readings.append(max(0, running - own))
    except (OSError, ValueError, IndexError):
        readings = [0]
    _LAST_READING[:] = [now, min(readings)]
    return _LAST_READING[1]


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch intra-op threads; restore the global
    setting afterwards."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside the library
    (sk_rectifier, scikit-learn, skorch, torch): the user's call."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def check_sample_weight(sample_weight, n_samples):
    """Validated non-negative float32 sample weights of shape (n_samples,),
    with at least one non-zero (scikit-learn's rule, on every version)."""
    if isinstance(sample_weight, Real):
        return np.full(n_samples, sample_weight, dtype=np.float32)
    weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=(np.float64, np.float32),
        input_name="sample_weight",
    )
    if weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {weight.shape}, expected {(n_samples,)}!"
        )
    check_non_negative(weight, "sample_weight")
    if not np.any(weight):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weight.astype(np.float32)


def check_layer(layer, n_layers):
    """Validate a hidden-layer index (an integer, not a bool) and return it as
    a non-negative int."""
    if n_layers == 0:
        raise ValueError(
            "This network has no hidden layer (hidden_layer_sizes=()): there are "
            "no hidden activations."
        )
    if (
        isinstance(layer, bool | np.bool_)
        or not isinstance(layer, Integral)
        or not -n_layers <= layer < n_layers
    ):
        raise ValueError(
            f"layer must be an integer in [{-n_layers}, {n_layers - 1}] for "
            f"a network with {n_layers} hidden layers, got {layer!r}."
        )
    return int(layer) % n_layers


_WEIGHT_SIZES = weakref.WeakKeyDictionary()  # module -> (per-row, first layer)


def _work(module, X):
    """Multiply-adds of one inference batch of ``X`` through ``module``'s
    weight matrices (the first layer's at the rows' mean non-zeros when ``X``
    is sparse). The weight sizes are read once per module."""
    sizes = _WEIGHT_SIZES.get(module)
    if sizes is None:
        weights = [p for p in module.parameters() if p.ndim == 2]
        first = tuple(weights[0].shape) if weights else None
        sizes = _WEIGHT_SIZES[module] = (sum(w.numel() for w in weights), first)
    per_row, first = sizes
    rows = min(X.shape[0], engine.INFERENCE_BATCH)
    if sp.issparse(X) and first is not None:
        per_row += X.nnz / max(X.shape[0], 1) * first[1] - first[0] * first[1]
    return rows * per_row


def arguments_of(cls, values):
    """The entries of ``values`` (a subclass ``__init__``'s ``locals()``)
    that ``cls.__init__`` takes, following its ``**kwargs`` up the class
    hierarchy: the shared parameters, passed on in one line."""
    names = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        names += [
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return {name: values[name] for name in names if name != "self"}


def _take(arrays, rows):
    """The given rows of each array (None stays None)."""
    return tuple(None if a is None else a[rows] for a in arrays)


def _clone_callback(callback):
    """A fresh copy of a user's skorch callback (or ``(name, callback)``) for
    one fit, as scikit-learn clones estimators: the parameter is never
    changed by fitting. One that cannot be copied (it holds a TensorBoard
    writer, a lock) is used as it is."""
    if isinstance(callback, tuple):
        name, callback = callback
        return (name, _clone_callback(callback))
    try:
        return clone(callback)
    except (TypeError, RuntimeError, copy.Error):
        return callback


class TorchEstimatorMixin:
    """Parameters, validation, device, seeding, rollback, training and
    inference through the engine, shared by every sk_rectifier estimator.

    Subclasses set ``_module`` (the torch module class they train),
    implement ``_networks()`` (the fitted nets, bottom first) and
    ``_set_networks(nets)``, and list in ``_saved_attributes`` the fitted
    attributes the safe format keeps.
    """

    _module: type
    _allows_no_hidden_layer = False  # whether hidden_layer_sizes=() is allowed

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", _POSITIVE_INT],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "activation_l1": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(engine.OPTIMIZERS))],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
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
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
        "precision": [StrOptions({"float32", "bfloat16", "float16"})],
        "verbose": ["verbose"],
    }
    # the fitted attributes the safe format keeps, and their kinds
    # (see sk_rectifier.persistence); feature_names_in_ may be absent
    _saved_attributes: dict = {
        "n_features_in_": "positive",
        "feature_names_in_": "names",
        "n_iter_": "count",
    }

    def __init__(
        self,
        hidden_layer_sizes,
        *,
        activation,
        activation_l1,
        alpha,
        solver,
        learning_rate,
        learning_rate_init,
        power_t,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        batch_size,
        max_iter,
        shuffle,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        random_state,
        device,
        n_threads,
        callbacks,
        precision,
        verbose,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
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
        self.n_threads = n_threads
        self.callbacks = callbacks
        self.precision = precision
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ----------------------------------------------------------- validation
    def _validate_X(self, X, reset, copy=True):
        """``X`` validated (any sparse format, float64 or float32) and
        returned as float32 ndarray or CSR (``X`` itself when it already is
        one and ``copy`` is False)."""
        X = validate_data(self, X, reset=reset, **_X_RULES)
        return as_float32(X, copy=copy)

    def _validate_Xy(self, X, y, reset, **y_rules):
        """``(X, y)`` validated together; X as in :meth:`_validate_X`, not
        copied when it already is float32 (training reads its rows, never
        writes them)."""
        X, y = validate_data(self, X, y, reset=reset, **_X_RULES, **y_rules)
        return as_float32(X, copy=False), y

    def _hidden_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.size == 0 and sizes.ndim == 1:
            if self._allows_no_hidden_layer:
                return ()
            raise ValueError(
                f"hidden_layer_sizes=() is not allowed for {type(self).__name__}: "
                "it needs at least one hidden layer (its code)."
            )
        ok = sizes.ndim == 1 and sizes.size > 0
        ok = ok and np.issubdtype(sizes.dtype, np.integer) and np.all(sizes > 0)
        if not ok:
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a sequence of "
                f"positive integers, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    # ------------------------------------------------------------- training
    def _spec(
        self,
        module,
        module_kwargs,
        criterion,
        n_train,
        device,
        score=None,
        samples_seen=0,
    ):
        """The engine's description of a training run with these parameters."""
        lbfgs = self.solver == "lbfgs"
        if self.solver == "adam":
            opt_kwargs = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}
        elif lbfgs:  # one iteration per epoch; the engine checks the limits
            opt_kwargs = {
                "max_iter": 1,
                "max_eval": 21,  # the evaluation at the start + 20 in the line search
                "tolerance_grad": self.tol,  # no iteration once below it
                "tolerance_change": 0.0,
                "history_size": 10,
                "line_search_fn": "strong_wolfe",
            }
        else:
            nesterov = self.nesterovs_momentum and self.momentum > 0
            opt_kwargs = {"momentum": self.momentum, "nesterov": nesterov}
        batch_size = min(200, n_train) if self.batch_size == "auto" else self.batch_size
        if lbfgs:
            batch_size = n_train
        return engine.Spec(
            module=module,
            module_kwargs=module_kwargs,
            criterion=criterion,
            solver=self.solver,
            learning_rate=1.0 if lbfgs else self.learning_rate_init,
            optimizer_kwargs=opt_kwargs,
            alpha=self.alpha,
            activation_l1=self.activation_l1,
            batch_size=max(1, min(batch_size, n_train)),
            max_epochs=self.max_iter,
            shuffle=self.shuffle and not lbfgs,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            device=device,
            verbose=self.verbose,
            score=score,
            schedule=self.learning_rate,
            power_t=self.power_t,
            samples_seen=samples_seen,
            callbacks=[_clone_callback(c) for c in self.callbacks or ()],
            max_fun=getattr(self, "max_fun", 15000),
            precision=self.precision,
            compile=getattr(self, "compile", False),
        )

    def _threads(self, ceiling, work=None):
        """Torch threads for a call (see the ``n_threads`` parameter):
        ``ceiling`` is torch's setting when the call began, ``work`` the
        multiply-adds of a prediction batch (None in training)."""
        if self.n_threads is not None:
            return self.n_threads
        if work is not None and work < _SMALL_WORK:
            return 1
        return max(1, min(ceiling, _available_cores() - _others_running()))

    def _inference_threads(self, module, X, device):
        """``(torch threads, worker threads)`` of a prediction of ``X``.

        Torch's intra-op threads split each operation and meet at its end, so
        on a busy machine one that waits for a core holds the others up.
        When other processes are busy on this process's cores (fewer torch
        threads chosen than torch's setting, for work that is not small) and
        ``X`` spans several inference batches, the batches are instead
        shared among that many worker threads of one torch thread each,
        which never wait for one another: beside two busy processes on 2
        cores, a 784-100-10 network's ``predict_proba`` on 10,000 rows ran
        about 1.3x faster so. Results are the same to float32 rounding."""
        ceiling = torch.get_num_threads()
        work = _work(module, X)
        threads = self._threads(ceiling, work)
        batches = -(-X.shape[0] // engine.INFERENCE_BATCH)
        workers = min(ceiling, _available_cores(), batches)
        busy = self.n_threads is None and work >= _SMALL_WORK and threads < ceiling
        if busy and workers > 1 and torch.device(device).type == "cpu":
            return 1, workers
        return threads, 1

    def _next_seed(self, reset):
        """A torch seed for this call, drawn from ``random_state``."""
        if reset or not hasattr(self, "_rng"):
            self._rng = check_random_state(self.random_state)
        return int(self._rng.randint(np.iinfo(np.int32).max))

    def _train_net(
        self,
        net,
        spec_args,
        X,
        y=None,
        sample_weight=None,
        *,
        incremental,
        stratify=None,
        seed,
        init_module=None,
    ):
        """Train ``net`` (a new one when None) on validated data; return
        ``(net, result)``. ``spec_args`` are :meth:`_spec`'s first arguments
        (module, module_kwargs, criterion) and optionally the score."""
        device = resolve_device(self.device)
        rank, parallel = 0, getattr(self, "strategy", "single") == "ddp"
        if parallel:
            device, seed, rank = _data_parallel(self, device, seed)
        if self.precision == "float16" and not device.startswith("cuda"):
            warn(
                f"precision='float16' is for CUDA; on {device} training and "
                "inference run with bfloat16 autocast instead."
            )
        valid = None
        # early stopping needs a held-out part and a training part: data too
        # small for both (a handful of samples) is trained on as a whole
        held_out = int(np.ceil(self.validation_fraction * X.shape[0]))
        splits = self.early_stopping and not incremental and self.solver != "lbfgs"
        if splits and X.shape[0] - held_out >= 1:
            train, held_out = train_test_split(
                np.arange(X.shape[0]),
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=seed,
            )

            def pick(rows):
                return tuple(
                    None if a is None else a[rows] for a in (X, y, sample_weight)
                )

            (X, y, sample_weight), valid = pick(train), pick(held_out)
        module, module_kwargs, criterion, *score = spec_args
        seen = getattr(self, "t_", 0) if net is not None else 0
        spec = self._spec(
            module,
            module_kwargs,
            criterion,
            X.shape[0],
            device,
            *score,
            samples_seen=seen,
        )
        spec.data_parallel = parallel  # (only training needs a process group)
        ceiling = torch.get_num_threads()
        spec.threads = lambda: self._threads(ceiling)  # decided again each epoch
        # (data-parallel: every process splits and orders the data alike,
        # and draws its own dropout masks and corruption)
        with torch_seed(seed + rank, device), torch_threads(spec.threads()):
            restart = net is not None and not incremental
            if net is None:
                net = engine.build(spec, init_module)
            result = engine.train(
                net,
                spec,
                X,
                y,
                sample_weight,
                valid=valid,
                incremental=incremental,
                restart=restart,
            )
        return net, result

    def _report(self, result, *, epochs_before=0, where=""):
        """Turn a training result into exactly one warning (or an error when
        nothing was trained), attributed to the user's call."""
        epoch = epochs_before + result.epochs
        if result.event == "diverged" and epoch == 0:
            raise ValueError(
                f"Training diverged{where}: the loss became NaN or infinite in "
                "epoch 1, before any epoch completed with a finite loss. Lower "
                f"learning_rate_init (now {self.learning_rate_init}) or scale the "
                "input."
            )
        if result.event == "interrupted" and result.epochs == 0:
            raise KeyboardInterrupt(
                f"Training was interrupted{where} before an epoch of this call "
                "completed; the estimator is left as it was before the call."
            )
        if result.event == "diverged":
            warn(
                f"Training diverged{where}: the loss became NaN or infinite in "
                f"epoch {epoch + 1}; training stopped and the weights of epoch "
                f"{epoch} were kept. Lower learning_rate_init (now "
                f"{self.learning_rate_init}) or scale the input.",
                ConvergenceWarning,
            )
        elif result.event == "interrupted":
            resume = "warm_start" in self.get_params()
            warn(
                f"Training was interrupted{where} during epoch {epoch + 1}; the "
                f"weights of the last completed epoch ({epoch}) were kept."
                + (" Fit again with warm_start=True to resume." if resume else "")
            )
        elif result.event == "max_iter" and self.solver == "lbfgs":
            warn(
                f"lbfgs failed to converge{where}: maximum iterations "
                f"(max_iter={self.max_iter}) or loss evaluations "
                f"(max_fun={self.max_fun}) reached with the largest gradient entry "
                f"above tol={self.tol}.",
                ConvergenceWarning,
            )
        elif result.event == "max_iter":
            warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                f"reached and the optimization hasn't converged yet{where}.",
                ConvergenceWarning,
            )

    def _atomically(self, fit, *args):
        """Run ``fit(*args)``; if it raises, put the estimator back exactly as
        it was: its attributes, and its networks' weights, optimizer state,
        history and settings (which warm starts change in place)."""
        state = self.__dict__.copy()
        if "_rng" in state:  # drawn from in place
            state["_rng"] = copy.deepcopy(state["_rng"])
        restores = [engine.checkpoint(net) for net in self._networks_or_empty()]
        try:
            return fit(*args)
        except BaseException:
            for restore in restores:
                restore()
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    # ------------------------------------------------------------ inference
    def _networks_or_empty(self):
        try:
            return self._networks()
        except AttributeError:
            return []

    def _forward(self, net, X, fn, collect=None):
        """``fn(module, batch)`` over validated float32 ``X`` on ``net``, as a
        NumPy array (a list of them when ``fn`` returns a list); raises
        ValueError rather than return a non-finite value. With ``collect``,
        each batch's arrays go to ``collect`` instead (see
        :func:`engine.predict`)."""
        module = engine.module(net)
        done = 0

        def checked(out):
            nonlocal done
            arrays = (
                [t.numpy() for t in out] if isinstance(out, list) else [out.numpy()]
            )
            for array in arrays:
                if not np.isfinite(array).all():
                    rows = done + np.flatnonzero(~np.isfinite(array).all(axis=1))
                    raise ValueError(
                        "The network's output overflowed float32 on rows "
                        f"{rows[:10].tolist()} of X: its values are too large for "
                        "this model. Scale the input as it was scaled for fit."
                    )
            done += len(arrays[0]) if arrays else 0
            return arrays if isinstance(out, list) else arrays[0]

        each = None if collect is None else (lambda out: collect(checked(out)))
        device = engine.device(net)
        threads, workers = self._inference_threads(module, X, device)
        with torch_threads(threads):
            out = engine.predict(
                module,
                X,
                fn,
                device,
                precision=self.precision,
                collect=each,
                workers=workers,
            )
        return None if collect is not None else checked(out)

    def _forward_sparse(self, net, X, fn):
        """:meth:`_forward` of a single-output ``fn`` as a CSR matrix built
        batch by batch: the dense output of all of ``X`` is never held."""
        builder = CSRBuilder(X.shape[0])
        self._forward(net, X, fn, collect=builder.add)
        return builder.build()

    # -------------------------------------------------------------- pruning
    def prune(self, X: Any):
        """A smaller copy without the hidden units that are zero on every
        sample of ``X`` (dead units).

        A rectifier unit that outputs exactly zero on every sample of ``X``
        contributes nothing to any output on ``X``: removing it (its weights
        in and out) gives the same predictions on ``X`` -- the same labels, and
        outputs equal up to float32 rounding, since the sums that remain have
        fewer (zero) terms -- with less computation. On other inputs a pruned
        unit might have fired: prune on data that represents what the model
        will see (the training set), and check held-out predictions. Each
        layer keeps at least one unit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples on which a unit must be zero everywhere to be removed.

        Returns
        -------
        pruned : estimator of the same class
            A fitted copy: ``hidden_layer_sizes`` holds the new sizes,
            ``pruned_units_`` the number of units each hidden layer lost, and
            ``activation_sparsity_`` is measured on ``X``. Its network starts
            a new training history (``warm_start`` continues from its weights).

        Examples
        --------
        >>> import numpy as np
        >>> from sk_rectifier import RectifierMLPClassifier
        >>> X, y = np.random.RandomState(0).rand(60, 4), np.arange(60) % 2
        >>> clf = RectifierMLPClassifier((32,), activation_l1=0.1, max_iter=30,
        ...                              random_state=0).fit(X, y)
        >>> small = clf.prune(X)
        >>> small.hidden_layer_sizes[0] + small.pruned_units_[0]
        32
        >>> bool((small.predict(X) == clf.predict(X)).all())
        True
        """
        X = self._checked_X(X)
        alive = self._alive_units(X)
        sizes = tuple(int(keep.sum()) for keep in alive)
        pruned = clone(self).set_params(hidden_layer_sizes=sizes)
        networks = self._networks()
        for key, value in self.__dict__.items():
            if key not in pruned.__dict__ and not any(value is n for n in networks):
                pruned.__dict__[key] = copy.deepcopy(value)
        states = [engine.module(net).state_dict() for net in networks]
        states = self._prune_states(states, [torch.from_numpy(a) for a in alive])
        kwargs = pruned._architectures(len(states))
        pruned._import_networks(list(zip(kwargs, states)), self.device_)
        pruned.pruned_units_ = [len(keep) - int(keep.sum()) for keep in alive]
        pruned.activation_sparsity_ = pruned._zero_fractions(X)
        return pruned

    def _alive_units(self, X):
        """Per hidden layer, a boolean mask of the units that are non-zero on
        some sample of validated ``X`` (at least one per layer), reduced batch
        by batch."""
        alive = []

        def collect(layers):
            if not alive:
                alive.extend(np.zeros(h.shape[1], dtype=bool) for h in layers)
            for keep, h in zip(alive, layers):
                keep |= (h != 0).any(axis=0)

        self._forward(self._networks()[0], X, self._all_layers_fn(), collect=collect)
        for keep in alive:
            if not keep.any():
                keep[0] = True
        return alive

    def _checked_X(self, X):
        check_is_fitted(self)
        if _valid_as_is(self, X):  # what validate_data would return unchanged
            return as_float32(X, copy=False)
        return self._validate_X(X, reset=False, copy=False)

    # ---------------------------------------------------------- persistence
    def _check_parameters(self):
        """Every check ``fit`` makes of the parameters alone (no data); the
        safe format's loader runs it before building anything."""
        self._validate_params()
        self._hidden_sizes()
        if not _DEVICE_PATTERN.match(self.device):
            raise ValueError(
                "The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:N' "
                f"or 'mps'. Got {self.device!r} instead."
            )

    def _architectures(self, n_networks):
        """The keyword arguments of each of ``n_networks`` networks, derived
        from the parameters and fitted attributes (the safe format stores no
        architecture of its own); raises ValueError, naming the attribute,
        where the attributes disagree with each other."""
        raise NotImplementedError

    def _export_networks(self):
        """The state dicts of the fitted networks, bottom first."""
        return [engine.module(net).state_dict() for net in self._networks()]

    def _import_networks(self, networks, device):
        """Rebuild the networks from :meth:`_export_networks`'s description."""
        nets = []
        for module_kwargs, state in networks:
            spec = self._spec(self._module, module_kwargs, None, 1, device)
            net = engine.build(spec)
            engine.module(net).load_state_dict(state, strict=True)
            nets.append(net)
        self._set_networks(nets)
        self.device_ = device

    def __setstate__(self, state):
        # skorch maps a CUDA-trained net onto the CPU when CUDA is missing;
        # keep the estimator's resolved device in step with it.
        super().__setstate__(state)
        nets = self._networks_or_empty()
        if nets:
            self.device_ = engine.device(nets[0])
        for net in nets if getattr(self, "compile", False) else ():
            engine.compile_dense(engine.module(net))
