"""Row-wise optimizer for a first layer fed with sparse input."""

import functools
import math
import mmap
import os
import threading
import weakref

import torch
from torch.optim import optimizer as torch_optimizer
from torch.optim.adam import adam

#: tables of this many bytes or more get memory backed by huge pages
HUGE_TABLE = 4 << 20

#: torch's fused Adam kernel (what ``torch.optim.Adam(fused=True)`` runs), or
#: None where this torch has none by that name: its steps then go through
#: torch's own functions
_FUSED_ADAM = getattr(torch, "_fused_adam_", None)


def _zeros_table(*shape, dtype=None):
    """``torch.zeros(shape, dtype=dtype)``; when that is a large CPU tensor
    (``HUGE_TABLE`` bytes or more), in memory that Linux is asked to back with
    2 MiB pages (``MADV_HUGEPAGE``, where transparent huge pages are on or
    left to ``madvise``).

    A text layer's weight and moments are read at a few thousand rows
    scattered over tens of megabytes at every step: with 4 KiB pages many of
    those reads also miss the address translation cache (MR TF-IDF training,
    about 5 % faster per epoch in interleaved runs). Fresh pages are zeroed
    by the kernel when first touched, the memory of a freed table when it is
    reused (see :func:`_huge_table`). Elsewhere, or if the memory cannot be
    had that way, this is ``torch.zeros``.
    """
    dtype = dtype or torch.get_default_dtype()
    on_cpu = torch.empty(0).device.type == "cpu"  # (torch's default device)
    table = _huge_table(shape, dtype) if on_cpu else None
    return torch.zeros(shape, dtype=dtype) if table is None else table


def _zeros_like(tensor):
    """``torch.zeros_like`` for a contiguous table: a large CPU one as in
    :func:`_zeros_table`."""
    table = _huge_like(tensor)
    return torch.zeros_like(tensor) if table is None else table


def _clone_table(tensor):
    """``tensor.clone()``: a large contiguous CPU table into memory advised
    for huge pages, as in :func:`_zeros_table` (fresh memory costs a page
    fault per page first touched, and 2 MiB pages take 512 times fewer: a
    copy of MR TF-IDF's 124,615 x 100 weight took about 5 ms instead of
    20)."""
    table = _huge_like(tensor, zero=False)
    return tensor.clone() if table is None else table.copy_(tensor)


def _huge_like(tensor, zero=True):
    """A table shaped like a contiguous CPU ``tensor``, in huge-page memory
    (zeros, or whatever a reused table held when ``zero`` is False), or None
    (elsewhere, or see :func:`_huge_table`)."""
    if tensor.device.type != "cpu" or not tensor.is_contiguous():
        return None
    return _huge_table(tensor.shape, tensor.dtype, zero)


#: bytes of freed huge-page tables kept, in all, for the next tables of the
#: same size (see :func:`_huge_table`); :func:`empty_cache` releases them
CACHE_LIMIT = 512 << 20

_CACHE_LOCK = threading.RLock()  # (a table may be freed while it is held)
_CACHED = []  # freed mappings, oldest first
_CACHED_BYTES = [0]


def _new_lock():  # (a child process must not inherit a lock held at fork)
    global _CACHE_LOCK
    _CACHE_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)


def _huge_table(shape, dtype, zero=True):
    """A CPU tensor in memory advised for huge pages (zeros, unless ``zero``
    is False and freed memory is reused), or None (too small, not Linux, or
    the memory refused).

    The memory of a freed table is kept (up to ``CACHE_LIMIT`` bytes in all)
    and given to the next table of the same size. Fresh memory costs a page
    fault per page first touched, and in a virtual machine whose free memory
    the host reclaims (free page reporting, as Firecracker and other hosts
    do), also the host's faults: the two 50 MB Adam moments of an MR TF-IDF
    layer took 260-280 ms to first touch there after a few idle seconds,
    against 10 ms for memory freed a moment before, and 1 ms reused (as in
    every fit after the first of a process).
    """
    nbytes = math.prod(shape) * dtype.itemsize
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if nbytes < HUGE_TABLE or advice is None:
        return None
    memory = _cached(nbytes)
    if memory is None:
        try:
            flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
            memory = mmap.mmap(-1, nbytes, flags=flags)
            memory.madvise(advice)
        except (OSError, ValueError, AttributeError):
            return None
        zero = False  # (the kernel zeroes fresh pages)
    # The tensor holds this view, which holds the memory: when the last
    # tensor on it is gone, the memory goes back to the cache.
    owner = memoryview(memory)
    weakref.finalize(owner, _cache, memory).atexit = False
    table = torch.frombuffer(owner, dtype=dtype).view(shape)
    return table.zero_() if zero else table


def _cached(nbytes):
    """A freed mapping of ``nbytes`` bytes from the cache (the most recently
    freed), or None; then as many bytes of others (the oldest first) are
    released, so that the cache never adds to the memory of a process whose
    tables change size (a new vocabulary in each fold of a search)."""
    with _CACHE_LOCK:  # (no list built here: a garbage collection it set
        # off could free a table, whose finalizer would change _CACHED)
        for i in range(len(_CACHED) - 1, -1, -1):
            if len(_CACHED[i]) == nbytes:
                _CACHED_BYTES[0] -= nbytes
                return _CACHED.pop(i)
        released = 0
        while _CACHED and released < nbytes:
            released += len(_CACHED.pop(0))
        _CACHED_BYTES[0] -= released
    return None


def _cache(memory):
    """Keep a freed mapping for reuse, dropping the oldest ones beyond
    ``CACHE_LIMIT`` bytes (a dropped mapping is unmapped)."""
    if len(memory) > CACHE_LIMIT:
        return
    with _CACHE_LOCK:
        _CACHED.append(memory)
        _CACHED_BYTES[0] += len(memory)
        while _CACHED_BYTES[0] > CACHE_LIMIT:
            _CACHED_BYTES[0] -= len(_CACHED.pop(0))


def empty_cache() -> int:
    """Hand the memory kept from freed large tables back to the system.

    Large CPU tables (a text layer's weight, its Adam moments, the snapshots
    a fit keeps) live in memory advised for huge pages. When the last tensor
    on such a table is freed, its memory is kept (up to 512 MiB in all, in
    each process) and given to the next table of the same size in bytes:
    the next fit on data as wide then skips the page faults of fresh memory,
    a cost that virtual machines whose host takes back free memory multiply
    many times. This releases what is kept, as
    :func:`torch.cuda.empty_cache` does on a GPU. Tables still in use (a
    model alive, or in a reference cycle not yet collected: see
    :func:`gc.collect`) are not released.

    Returns
    -------
    released : int
        Bytes released.

    See Also
    --------
    InputLayer : The layer whose weight lives in such memory.
    LazyAdam : The optimizer whose moments do.

    Examples
    --------
    >>> from sk_rectifier.nn import InputLayer, empty_cache
    >>> layer = InputLayer(n_features=20_000, n_out=100)  # an 8 MB weight
    >>> del layer  # (on Linux its memory is kept for the next such table)
    >>> released = empty_cache()  # now handed back
    >>> empty_cache()  # nothing is left
    0
    """
    with _CACHE_LOCK:
        released = _CACHED_BYTES[0]
        _CACHED.clear()
        _CACHED_BYTES[0] = 0
    return released


def _optimizer_step(optimizer):
    """``optimizer.step()``, without the per-call work of torch's optimizer
    classes where that work has nothing to do.

    Every ``torch.optim.Optimizer.step`` runs inside a wrapper that opens a
    profiler record and calls the step hooks, and :class:`torch.optim.Adam`
    then gathers each group's tensors and sorts them by device and dtype
    before its fused kernel runs. For a small network that bookkeeping costs
    more than the arithmetic (about 0.15 ms of a 1.4 ms step of a
    784-100-10 network on 2 CPU cores). So, when no step hook is registered
    (on the optimizer or globally), the profiler is off and nothing (such as
    a learning-rate scheduler's step tracking) has replaced the optimizer's
    ``step``:

    * a fused :class:`torch.optim.Adam` whose state exists runs torch's fused
      kernel on each group directly, with the arguments its ``step`` would
      pass (the same update, bit for bit);
    * any other optimizer runs its ``step`` without the wrapper.

    Otherwise, or for anything this does not recognise, it calls
    ``optimizer.step()``.
    """
    step = type(optimizer).step
    bare = "step" not in vars(optimizer) and getattr(step, "hooked", False)
    bare = bare and hasattr(step, "__wrapped__") and not _hooked(optimizer)
    profiled = getattr(torch.autograd.profiler, "_is_profiler_enabled", True)
    if not bare or profiled:
        optimizer.step()
    elif not (type(optimizer) is torch.optim.Adam and _fused_adam_step(optimizer)):
        step.__wrapped__(optimizer)


def _hooked(optimizer):
    """Whether step hooks are registered on ``optimizer`` or globally (True
    where torch keeps them somewhere this cannot see)."""
    hooks = (
        getattr(optimizer, "_optimizer_step_pre_hooks", None),
        getattr(optimizer, "_optimizer_step_post_hooks", None),
        getattr(torch_optimizer, "_global_optimizer_pre_hooks", None),
        getattr(torch_optimizer, "_global_optimizer_post_hooks", None),
    )
    return any(h is None or len(h) for h in hooks)


_PLAIN_ADAM = {"amsgrad": False, "maximize": False, "capturable": False}
_PLAIN_ADAM.update(differentiable=False, decoupled_weight_decay=False, fused=True)


@torch.no_grad()
def _fused_adam_step(optimizer):
    """:class:`torch.optim.Adam`'s fused step on every group, straight to the
    kernel. False (nothing done) unless every group is a plain fused Adam (no
    amsgrad, maximize, capturable, differentiable or decoupled decay; numbers,
    not tensors, as settings) whose parameters with a gradient have their
    state (step tensor, moments), one device and dtype, and dense gradients,
    and no gradient scaler is attached."""
    kernel = _FUSED_ADAM
    if kernel is None or getattr(optimizer, "grad_scale", None) is not None:
        return False
    if getattr(optimizer, "found_inf", None) is not None:
        return False
    calls = []
    for group in optimizer.param_groups:
        if any(group.get(key, value) != value for key, value in _PLAIN_ADAM.items()):
            return False
        settings = (group["lr"], *group["betas"], group["weight_decay"], group["eps"])
        if not all(type(value) in (float, int) for value in settings):
            return False
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        states = [optimizer.state.get(p) for p in params]
        if not all(states):  # (the first step creates the state)
            return False
        first = params[0]
        for p, state in zip(params, states):
            same = p.device == first.device and p.dtype == first.dtype
            if not same or p.grad.is_sparse or not torch.is_tensor(state["step"]):
                return False
        calls.append((group, params, states))
    for group, params, states in calls:
        steps = [state["step"] for state in states]
        torch._foreach_add_(steps, 1)
        beta1, beta2 = group["betas"]
        kernel(
            params,
            [p.grad for p in params],
            [state["exp_avg"] for state in states],
            [state["exp_avg_sq"] for state in states],
            [],
            steps,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            amsgrad=False,
            maximize=False,
        )
    return True


class _RowWise(torch.optim.Optimizer):
    """What the row-wise optimizers share."""

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # saved before weight_decay existed
            group.setdefault("weight_decay", 0.0)


class LazyAdam(_RowWise):
    """Adam for parameters whose gradient is sparse or dense (row-wise, "lazy").

    With a sparse gradient only the rows present in it are updated, with the
    same arithmetic as :class:`torch.optim.Adam`; the moments of the other rows
    are left as they are. A dense gradient updates every row, exactly as Adam
    does, so one optimizer serves the first layer whether a batch is dense or
    sparse, and its moments carry over when the input switches between them.
    A sparse step costs O(rows in the gradient x row width), which for a
    TF-IDF first layer is the batch's distinct features, not the vocabulary.
    Unlike :class:`torch.optim.SparseAdam` it needs no ``sparse_mask`` of the
    dense moments, which makes it several times faster on CPU. With Numba
    installed (the ``speed`` extra) a sparse step on the CPU updates each row
    of the weight and of its moments in place, in one compiled pass that
    prefetches the rows it is about to update (about 1 ms per MR TF-IDF
    batch, against 2.7-3.0 ms gathering and scattering the rows with PyTorch
    ops); the arithmetic is the same up to rounding. On Linux, large moment
    tables (like the first layer's weight) are allocated in memory advised
    for huge pages, which makes scattered rows cheaper to reach.

    Parameters
    ----------
    params : iterable of torch.Tensor or dict
        Parameters to optimize, or parameter groups.
    lr : float, default=1e-3
        Step size.
    betas : tuple of float, default=(0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0.0
        L2 penalty, added to the gradient as :class:`torch.optim.Adam` does
        (``grad + weight_decay * param``); with a sparse gradient, to the rows
        it holds only ("lazy" decay).

    See Also
    --------
    LazySGD : The same row-wise update for SGD with momentum.
    InputLayer : The first layer whose weight gradient is sparse.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import InputLayer, LazyAdam
    >>> layer = InputLayer(n_features=1000, n_out=4)
    >>> optimizer = LazyAdam([layer.weight], lr=0.1)
    >>> before = layer.weight.detach().clone()
    >>> batch = torch.tensor([[0.0] * 999 + [1.0]]).to_sparse_csr()
    >>> layer(batch).sum().backward()
    >>> optimizer.step()
    >>> changed = (layer.weight != before).any(dim=1)
    >>> int(changed.sum())  # only the row of the feature in the batch
    1
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                state["step"] += 1
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                decay = group["weight_decay"]
                if not p.grad.is_sparse:
                    _dense_adam(p, state, group, bias1, bias2)
                    continue
                rows, values = _rows_and_values(p.grad)
                if _compiled_step(p, state, rows, values, group, bias1, bias2):
                    continue
                updated = _take_rows(p, rows)
                if decay:
                    values = values.add(updated, alpha=decay)
                m = _take_rows(state["exp_avg"], rows)
                v = _take_rows(state["exp_avg_sq"], rows)
                m.lerp_(values, 1 - beta1)
                v.mul_(beta2).addcmul_(values, values, value=1 - beta2)
                _put_rows(state["exp_avg"], rows, m)
                _put_rows(state["exp_avg_sq"], rows, v)
                denom = (v.sqrt_() / bias2**0.5).add_(group["eps"])
                updated.addcdiv_(m, denom, value=-group["lr"] / bias1)
                _put_rows(p, rows, updated)
        return loss


def _dense_adam(p, state, group, bias1, bias2):
    """:class:`torch.optim.Adam`'s step on every row of ``p`` (a dense
    gradient): on the CPU in torch's fused kernel, which passes over the
    weight and its moments once where the separate operations pass eight
    times (0.5 ms against 3.4 ms for a 784 x 1000 layer), elsewhere in
    PyTorch operations."""
    beta1, beta2 = group["betas"]
    m, v, decay = state["exp_avg"], state["exp_avg_sq"], group["weight_decay"]
    fused = p.device.type == "cpu" and p.dtype in (torch.float32, torch.float64)
    if fused and all(t.is_contiguous() for t in (p, m, v)):
        kwargs = {"lr": group["lr"], "weight_decay": decay, "eps": group["eps"]}
        # (the kernel reads a strided gradient as if it were contiguous)
        grad = p.grad.contiguous()
        kernel = _FUSED_ADAM
        if kernel is None:  # (torch's functional step: the same kernel)
            steps = [torch.tensor(float(state["step"] - 1))]  # (it counts this one)
            adam(
                [p], [grad], [m], [v], [], steps, fused=True, amsgrad=False,
                beta1=beta1, beta2=beta2, maximize=False, **kwargs,
            )  # fmt: skip
        else:  # (without the functional step's checks and grouping)
            steps = [torch.tensor(float(state["step"]))]
            kernel(
                [p], [grad], [m], [v], [], steps, amsgrad=False,
                beta1=beta1, beta2=beta2, maximize=False, **kwargs,
            )  # fmt: skip
        for tensor in (p, m, v):  # (the kernel leaves the counters where they were)
            torch.autograd.graph.increment_version(tensor)
        return
    grad = p.grad.add(p, alpha=decay) if decay else p.grad
    m.lerp_(grad, 1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (v.sqrt() / bias2**0.5).add_(group["eps"])
    p.addcdiv_(m, denom, value=-group["lr"] / bias1)


@functools.cache
def _compiled():
    """The module of compiled kernels, or None without Numba or when it cannot
    load (Numba raises RuntimeError when it finds no writable cache folder):
    the optimizers then use PyTorch ops."""
    try:
        from sk_rectifier.nn import _compiled

        if _compiled.COMPILED:
            _compiled.warm_up()
    except Exception:  # any failure to load Numba or to compile the kernels
        return None
    return _compiled if _compiled.COMPILED else None


def _kernels_for(tables, values):
    """The compiled kernels when they may work on ``tables`` and ``values``
    as NumPy views: CPU, 2-D, contiguous float32 or float64 tables of plain
    tensors, all of one dtype, with values of that dtype that need no
    gradient; else None."""
    dtype = tables[0].dtype
    ok = dtype in (torch.float32, torch.float64)
    ok = ok and all(
        t.device.type == "cpu" and t.dtype == dtype and t.dim() == 2 for t in tables
    )
    ok = ok and all(t.is_contiguous() and type(t.data) is torch.Tensor for t in tables)
    ok = ok and values.device.type == "cpu" and values.dtype == dtype
    return _compiled() if ok and not values.requires_grad else None


def _compiled_step(p, state, rows, values, group, bias1, bias2):
    """Run a sparse Adam step on ``rows`` with the compiled kernel, in place,
    and say whether it ran: only on the CPU, for 2-D float32 or float64
    tables that NumPy can see as they are (contiguous, plain tensors)."""
    m, v = state["exp_avg"], state["exp_avg_sq"]
    ok = values.shape == (len(rows), p.shape[-1])
    # rows are sorted (see _rows_and_values): the kernel does not check bounds,
    # the ops raise IndexError
    ok = ok and (not len(rows) or 0 <= int(rows[0]) <= int(rows[-1]) < len(p))
    if not ok or (compiled := _kernels_for((p, m, v), values)) is None:
        return False
    values = values.contiguous()
    beta1, beta2 = group["betas"]
    scalars = [1 - beta1, beta2, 1 - beta2, -group["lr"] / bias1, bias2**0.5]
    scalars = torch.tensor(
        [*scalars, group["eps"], group["weight_decay"]], dtype=p.dtype, device="cpu"
    )
    weight = p.detach()
    compiled.adam_rows(
        weight.numpy(),
        m.numpy(),
        v.numpy(),
        rows.to(torch.int64).contiguous().numpy(),
        values.numpy(),
        scalars.numpy(),
    )
    # written through NumPy: move the version counters as an in-place op
    # would (autograd reads them to catch a saved tensor changed in place)
    for tensor in (weight, m, v):
        torch.autograd.graph.increment_version(tensor)
    return True


def _wide(tensor):
    """``tensor`` seen as rows of 16-byte elements (the same bytes) when it is
    on the CPU, outside autograd, and its rows allow it (2-D, contiguous,
    16-byte aligned), else ``tensor``: a row gather or scatter then copies a
    quarter as many float32 elements, which takes about half the time (the
    CPU kernels' cost is per element more than per byte)."""
    ok = tensor.device.type == "cpu" and tensor.dim() == 2
    ok = ok and tensor.is_contiguous() and not tensor.is_complex()
    ok = ok and not (tensor.requires_grad and torch.is_grad_enabled())
    if ok and tensor.shape[1] * tensor.element_size() % 16 == 0:
        if tensor.data_ptr() % 16 == 0:
            return tensor.view(torch.complex128)
    return tensor


def _take_rows(tensor, rows):
    """``tensor.index_select(0, rows)``, bit for bit (see :func:`_wide`)."""
    wide = _wide(tensor)
    taken = wide.index_select(0, rows)
    return taken if wide is tensor else taken.view(tensor.dtype)


def _put_rows(tensor, rows, values):
    """``tensor.index_copy_(0, rows, values)``, bit for bit (see
    :func:`_wide`)."""
    wide, wide_values = _wide(tensor), _wide(values.contiguous())
    if wide.dtype == wide_values.dtype != tensor.dtype:  # both seen wide
        wide.index_copy_(0, rows, wide_values)
    else:
        tensor.index_copy_(0, rows, values)


def _rows_and_values(grad):
    """Row indices and rows of a sparse gradient, each row once. A gradient
    whose rows are already strictly increasing (what the first layer's
    gather produces) is used as it is: no sort."""
    rows = grad._indices()[0]
    if len(rows) < 2 or bool((rows[1:] > rows[:-1]).all()):
        return rows, grad._values()
    grad = grad.coalesce()
    return grad.indices()[0], grad.values()


class LazySGD(_RowWise):
    """SGD with (Nesterov) momentum for parameters whose gradient is sparse or
    dense, row-wise like :class:`LazyAdam`: a sparse gradient updates, and
    decays the momentum of, only the rows it holds; a dense one updates every
    row as :class:`torch.optim.SGD` does. The momentum buffer stays dense, so
    batches may switch between sparse and dense.

    Parameters
    ----------
    params : iterable of torch.Tensor or dict
        Parameters to optimize, or parameter groups.
    lr : float, default=1e-3
        Step size.
    momentum : float, default=0.0
        Momentum factor.
    nesterov : bool, default=False
        Nesterov momentum.
    weight_decay : float, default=0.0
        L2 penalty, added to the gradient as :class:`torch.optim.SGD` does;
        with a sparse gradient, to the rows it holds only.

    See Also
    --------
    LazyAdam : The same row-wise update for Adam.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import LazySGD
    >>> weight = torch.nn.Parameter(torch.ones(3, 2))
    >>> optimizer = LazySGD([weight], lr=0.5, momentum=0.9)
    >>> weight.grad = torch.sparse_coo_tensor([[1]], torch.ones(1, 2), (3, 2))
    >>> optimizer.step()
    >>> weight.detach()[:, 0]
    tensor([1.0000, 0.5000, 1.0000])
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0):
        defaults = {"lr": lr, "momentum": momentum, "nesterov": nesterov}
        super().__init__(params, {**defaults, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            momentum, lr = group["momentum"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    rows, grad = _rows_and_values(p.grad)
                else:
                    rows, grad = None, p.grad
                if group["weight_decay"]:
                    weights = p if rows is None else _take_rows(p, rows)
                    grad = grad.add(weights, alpha=group["weight_decay"])
                if momentum:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = _zeros_like(p)
                    whole = state["momentum_buffer"]
                    buf = whole if rows is None else _take_rows(whole, rows)
                    buf.mul_(momentum).add_(grad)
                    if rows is not None:
                        _put_rows(whole, rows, buf)
                    grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
                if rows is None:
                    p.add_(grad, alpha=-lr)
                else:
                    p.index_add_(0, rows, grad, alpha=-lr)
        return loss
