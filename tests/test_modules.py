import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

import sk_rectifier.nn
from sk_rectifier._data import ArrayDataset, as_float32
from sk_rectifier.nn import (
    DenoisingLayer,
    InputLayer,
    LazyAdam,
    LazySGD,
    RectifierMLP,
    optim,
)
from sk_rectifier.nn.optim import _put_rows, _take_rows, _wide


def test_sparse_and_dense_batches_give_the_same_forward():
    torch.manual_seed(0)
    module = RectifierMLP(30, 3, hidden_layer_sizes=(8, 4))
    X = sp.random(10, 30, density=0.2, format="csr", random_state=0)
    dense_X, _ = ArrayDataset(as_float32(X.toarray())).__getitems__(range(10))
    sparse_X, _ = ArrayDataset(as_float32(X)).__getitems__(range(10))
    assert sparse_X["X"].layout == torch.sparse_csr
    for a, b in zip(module(dense_X["X"]), module(sparse_X["X"])):
        torch.testing.assert_close(a, b)


def test_l1_output_is_the_sum_of_hidden_magnitudes():
    torch.manual_seed(0)
    module = RectifierMLP(5, 2, hidden_layer_sizes=(4, 3), activation="tanh")
    X = torch.randn(6, 5)
    hidden, logits = module.hidden(X)
    out, l1 = module(X)
    torch.testing.assert_close(out, logits)
    torch.testing.assert_close(l1, sum(h.abs().sum(1) for h in hidden))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_inference_under_autocast_keeps_its_casts_of_the_weights(sparse):
    """With keep_casts, an inference under autocast computes from bfloat16
    copies of the weights made once and remade when a weight changes what
    autocast computes with the float32 weights (in training or with a
    gradient: cast at every call), bit for bit; a sparse input's first
    layer is never copied."""
    torch.manual_seed(0)
    module = RectifierMLP(30, 3, hidden_layer_sizes=(8, 4), keep_casts=True)
    module.eval()
    X = sp.random(10, 30, density=0.2, format="csr", random_state=0)
    data = ArrayDataset(as_float32(X if sparse else X.toarray()))
    batch, _ = data.__getitems__(range(10))
    X = batch["X"]

    def run(grad, on=module):
        with torch.set_grad_enabled(grad), torch.autocast("cpu", torch.bfloat16):
            return on.hidden(X)

    def same(a, b):
        hidden_a, logits_a = a
        hidden_b, logits_b = b
        return all(map(torch.equal, [*hidden_a, logits_a], [*hidden_b, logits_b]))

    assert run(grad=False)[1].dtype == torch.bfloat16
    casts = module.__dict__["_casts"][1]
    kept = casts["rest"] + casts.get("first", [])
    assert len(kept) == 2 * 2 + (0 if sparse else 2)  # (the first layer's too)
    assert all(c.dtype == torch.bfloat16 for c in kept)
    assert same(run(grad=False), run(grad=True))
    assert all(map(torch.equal, module.__dict__["_casts"][1]["rest"], casts["rest"]))
    assert module.__dict__["_casts"][1]["rest"][0] is casts["rest"][0]  # kept
    before = run(grad=False)
    casts["rest"][0].mul_(2)  # (and used: a change to a copy shows)
    assert not same(run(grad=False), before)
    with torch.no_grad():  # an in-place change of any weight is seen
        for p in module.parameters():
            p.add_(0.5)
            assert same(run(grad=False), run(grad=True))
    fresh = RectifierMLP(30, 3, hidden_layer_sizes=(8, 4))
    module.load_state_dict(fresh.state_dict())
    assert same(run(grad=False), run(grad=True))
    copied = pickle.loads(pickle.dumps(module))
    assert "_casts" not in copied.__dict__  # (not saved: remade on demand)
    assert same(run(grad=False, on=copied), run(grad=False))
    for mode in [module.train, module.eval]:  # (an optimizer step bumps no
        run(grad=False)  # version: training, or eval(), drops the copies)
        mode()
        assert "_casts" not in module.__dict__
    run(grad=False)
    with torch.no_grad():  # float32 inference: no copies, none kept
        float32 = module.hidden(X)
    assert float32[1].dtype == torch.float32 and "_casts" not in module.__dict__
    fresh.eval()  # (without keep_casts: autocast as it is)
    assert same(run(grad=False, on=fresh), run(grad=True, on=fresh))
    assert "_casts" not in fresh.__dict__


def test_kept_casts_leave_what_autocast_leaves():
    """float64 weights (autocast casts float32 only) and weights made in
    inference mode (no version to check) run as autocast runs them."""
    torch.manual_seed(0)
    X = torch.rand(5, 6, dtype=torch.float64)
    double = RectifierMLP(6, 2, hidden_layer_sizes=(4,), keep_casts=True)
    double.double().eval()
    with torch.inference_mode():
        made_here = RectifierMLP(6, 2, hidden_layer_sizes=(4,), keep_casts=True)
        made_here.eval()
    for module, x in [(double, X), (made_here, X.float())]:
        with torch.autocast("cpu", torch.bfloat16):
            expected = module.hidden(x)[1]
            with torch.inference_mode():
                torch.testing.assert_close(
                    module.hidden(x)[1], expected, rtol=0, atol=0
                )


@pytest.fixture
def kernel_calls(monkeypatch):
    """The calls of the compiled kernel (skips the test without Numba)."""
    compiled = pytest.importorskip("sk_rectifier.nn._compiled")
    calls, kernel = [], compiled.adam_rows
    monkeypatch.setattr(compiled, "adam_rows", lambda *a: calls.append(kernel(*a)))
    return calls


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if the compiled kernel runs."""

    def refuse(*args):
        raise AssertionError("the compiled step ran")

    compiled = optim._compiled()
    if compiled is not None:
        monkeypatch.setattr(compiled, "adam_rows", refuse)


LAYER_KERNELS = ("transpose", "sparse_dense", "bag_rows")


@pytest.fixture
def layer_kernel_calls(monkeypatch):
    """The names of the compiled first-layer kernels called, in turn (skips
    the test without Numba)."""
    compiled = pytest.importorskip("sk_rectifier.nn._compiled")
    calls = []

    def counting(name, kernel):
        def counted(*args):
            calls.append(name)
            return kernel(*args)

        return counted

    for name in LAYER_KERNELS:
        monkeypatch.setattr(compiled, name, counting(name, getattr(compiled, name)))
    return calls


@pytest.fixture(params=["compiled", "torch"])
def layer_path(request, monkeypatch):
    """Run a test with the first layer's compiled sparse forward and backward
    (Numba), checked to be the ones taken, and with its PyTorch ops."""
    if request.param == "compiled":
        calls = request.getfixturevalue("layer_kernel_calls")
        yield request.param
        assert set(calls) == set(LAYER_KERNELS), calls
    else:
        monkeypatch.setattr(optim, "_compiled", lambda: None)
        yield request.param


@pytest.fixture(params=["compiled", "torch"])
def adam_path(request, monkeypatch):
    """Run a test with LazyAdam's compiled sparse step (Numba), checked to be
    the one taken, and with its PyTorch ops."""
    if request.param == "compiled":
        calls = request.getfixturevalue("kernel_calls")
        yield request.param
        assert calls, "the compiled step was never taken"
    else:
        monkeypatch.setattr(optim, "_compiled", lambda: None)
        yield request.param


@pytest.mark.parametrize(
    "width, dtype, decay",
    [(3, torch.float32, 0.0), (8, torch.float32, 0.5), (5, torch.float64, 0.5)],
)  # 8: rows copied as 16-byte elements by the PyTorch path
def test_lazy_adam_matches_adam_on_the_rows_it_sees(width, dtype, decay, adam_path):
    torch.manual_seed(0)
    dense = torch.nn.Parameter(torch.randn(6, width, dtype=dtype))
    lazy = torch.nn.Parameter(dense.detach().clone())
    initial = dense.detach().clone()
    adam = torch.optim.Adam([dense], lr=0.1, weight_decay=decay)
    lazy_adam = LazyAdam([lazy], lr=0.1, weight_decay=decay)
    for _ in range(5):
        grad = torch.randn(6, width, dtype=dtype)
        grad[[1, 4]] = 0.0  # rows absent from the "batch"
        # (Adam decays every row: those rows are compared only when not)
        dense.grad = grad.clone()
        rows = torch.tensor([0, 2, 3, 5])
        lazy.grad = torch.sparse_coo_tensor(
            rows[None], grad[rows], (6, width), check_invariants=False
        )
        version = lazy._version
        adam.step()
        lazy_adam.step()
        # in-place for autograd and for caches of the weight
        assert lazy._version > version
    seen = [0, 2, 3, 5]
    torch.testing.assert_close(lazy.detach()[seen], dense.detach()[seen])
    state, reference = lazy_adam.state[lazy], adam.state[dense]
    for key in ("exp_avg", "exp_avg_sq"):
        torch.testing.assert_close(state[key][seen], reference[key][seen])
    # rows absent from every gradient are never touched, decay or not
    torch.testing.assert_close(lazy.detach()[[1, 4]], initial[[1, 4]])
    if not decay:
        torch.testing.assert_close(dense.detach()[[1, 4]], initial[[1, 4]])
    torch.testing.assert_close(
        state["exp_avg"][[1, 4]], torch.zeros(2, width, dtype=dtype)
    )


@pytest.mark.parametrize("decay", [0.0, 0.5])
@pytest.mark.parametrize(
    "dtype, reference",
    [
        (torch.float32, {"fused": True}),  # torch's fused kernel: the same bits
        (torch.float64, {"fused": True}),
        (torch.bfloat16, {"foreach": False}),  # no fused path: PyTorch operations
    ],
)
@pytest.mark.parametrize("kernel", ["kernel", "functional"])
def test_lazy_adam_dense_gradient_takes_adams_step(
    decay, dtype, reference, kernel, monkeypatch
):
    """A dense gradient, contiguous or strided, updates every row as Adam
    does (through torch's fused kernel, or its functional step where this
    torch has no kernel by that name)."""
    if kernel == "functional":
        monkeypatch.setattr(optim, "_FUSED_ADAM", None)
    torch.manual_seed(0)
    dense = torch.nn.Parameter(torch.randn(30, 7, dtype=dtype))
    lazy = torch.nn.Parameter(dense.detach().clone())
    adam = torch.optim.Adam([dense], lr=0.01, weight_decay=decay, **reference)
    lazy_adam = LazyAdam([lazy], lr=0.01, weight_decay=decay)
    for step in range(4):
        grad = torch.randn(30, 7, dtype=dtype)
        dense.grad = grad.clone()
        # every other step a strided gradient (a transposed view)
        lazy.grad = grad.clone() if step % 2 else grad.t().contiguous().t()
        version = lazy._version
        adam.step()
        lazy_adam.step()
        assert lazy._version > version  # in place
    if dtype == torch.bfloat16:
        torch.testing.assert_close(lazy, dense)
    else:
        assert torch.equal(lazy, dense)
    for key in ("exp_avg", "exp_avg_sq"):
        torch.testing.assert_close(lazy_adam.state[lazy][key], adam.state[dense][key])
    assert lazy_adam.state[lazy]["step"] == 4


def test_lazy_adam_compiled_and_torch_steps_agree_on_a_text_layer(
    monkeypatch, kernel_calls
):
    """Both sparse paths on a wide first layer with weight decay, over steps
    with overlapping rows, gradients of the tiny magnitudes text training
    produces, and uncoalesced gradients that repeat rows (a tied
    autoencoder's encoder gets one)."""
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(2000, 16) * 0.01) for _ in range(2)]
    weights[1].data.copy_(weights[0].detach())
    optimizers = [LazyAdam([w], lr=1e-3, weight_decay=0.1) for w in weights]
    for step in range(20):
        rows = torch.randperm(2000)[:300].sort().values
        if step % 2:  # repeated and unsorted rows, summed by coalesce
            rows = torch.cat([rows, rows[:50]])[torch.randperm(350)]
        grad = torch.randn(len(rows), 16) * 10.0 ** -(step % 8)
        for i, (w, opt) in enumerate(zip(weights, optimizers)):
            w.grad = torch.sparse_coo_tensor(
                rows[None], grad, w.shape, check_invariants=False
            )
            with monkeypatch.context() as patch:
                if i:
                    patch.setattr(optim, "_compiled", lambda: None)
                opt.step()
    assert len(kernel_calls) == 20  # the first optimizer's steps only
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.randn(6, 16)[:, ::2],  # not contiguous
        lambda: torch.randn(6, 8, dtype=torch.bfloat16),
        lambda: torch.randn(6, 2, 4),  # not a table of rows
    ],
    ids=["strided", "bfloat16", "3-d"],
)
def test_lazy_adam_falls_back_where_the_compiled_step_cannot_go(make, no_kernel):
    """Tensors NumPy cannot see as they are take the PyTorch ops, with the
    same result as Adam."""
    torch.manual_seed(0)
    lazy = torch.nn.Parameter(make())
    dense = torch.nn.Parameter(lazy.detach().clone())
    grad = torch.randn_like(dense)
    lazy.grad = grad.to_sparse(1)
    dense.grad = grad.clone()
    LazyAdam([lazy], lr=0.1).step()
    torch.optim.Adam([dense], lr=0.1).step()
    torch.testing.assert_close(lazy.detach(), dense.detach())


def test_lazy_adam_rows_out_of_range_raise_instead_of_writing_memory(no_kernel):
    """The kernel does not check bounds: a gradient whose rows lie outside the
    weight (built without invariant checks) goes to the ops, which raise."""
    weight = torch.nn.Parameter(torch.ones(4, 2))
    for rows in ([0, 4], [-1, 0]):  # increasing: used without a coalesce
        weight.grad = torch.sparse_coo_tensor(
            [rows], torch.ones(2, 2), (4, 2), check_invariants=False
        )
        with pytest.raises((IndexError, RuntimeError)):
            LazyAdam([weight]).step()


def test_lazy_optimizers_load_states_saved_before_weight_decay():
    for make in (LazyAdam, LazySGD):
        weight = torch.nn.Parameter(torch.ones(4, 2))
        state = make([weight]).state_dict()
        for group in state["param_groups"]:
            del group["weight_decay"]
        optimizer = make([weight])
        optimizer.load_state_dict(state)
        weight.grad = torch.sparse_coo_tensor([[1]], torch.ones(1, 2), (4, 2))
        optimizer.step()
        assert optimizer.param_groups[0]["weight_decay"] == 0.0


def test_numba_that_cannot_compile_the_kernels_leaves_them_to_pytorch(
    monkeypatch,
):
    """A Numba release that loads but fails to compile a kernel is found out
    by the first sparse step's warm-up, not in the middle of a fit: the
    PyTorch ops run instead."""
    compiled = pytest.importorskip("sk_rectifier.nn._compiled")

    def fail(*args):
        raise compiled.numba.core.errors.TypingError("a newer Numba")

    monkeypatch.setattr(compiled, "sparse_dense", fail)
    optim._compiled.cache_clear()
    try:
        assert optim._compiled() is None
        X = as_float32(sp.random(4, 30, density=0.3, format="csr", random_state=0))
        batch, _ = ArrayDataset(X).__getitems__(range(4))
        layer = InputLayer(30, 2)
        layer(batch["X"]).sum().backward()
        LazyAdam(layer.parameters()).step()
    finally:
        optim._compiled.cache_clear()


def test_numba_without_its_compiler_leaves_the_step_to_pytorch(monkeypatch):
    """NUMBA_DISABLE_JIT would run the kernel as a Python loop."""
    compiled = pytest.importorskip("sk_rectifier.nn._compiled")
    monkeypatch.setattr(compiled.numba.config, "DISABLE_JIT", True)
    monkeypatch.delitem(sys.modules, "sk_rectifier.nn._compiled")
    monkeypatch.delattr(sk_rectifier.nn, "_compiled")
    optim._compiled.cache_clear()
    try:
        assert optim._compiled() is None
    finally:
        optim._compiled.cache_clear()


def _numba_that_cannot_cache():
    fake = types.ModuleType("numba")

    def njit(**options):
        raise RuntimeError("cannot cache function 'adam_rows': no locator available")

    fake.njit = njit
    fake.config = types.SimpleNamespace(DISABLE_JIT=False)
    return fake


@pytest.mark.parametrize(
    "numba",
    [None, _numba_that_cannot_cache()],  # None: import numba fails
    ids=["missing", "no-cache-folder"],
)
def test_without_numba_the_optimizer_uses_pytorch_ops(monkeypatch, numba):
    monkeypatch.setitem(sys.modules, "numba", numba)
    monkeypatch.delitem(sys.modules, "sk_rectifier.nn._compiled", raising=False)
    monkeypatch.delattr(sk_rectifier.nn, "_compiled", raising=False)
    optim._compiled.cache_clear()
    try:
        assert optim._compiled() is None
        weight = torch.nn.Parameter(torch.ones(4, 2))
        weight.grad = torch.sparse_coo_tensor([[1]], torch.ones(1, 2), (4, 2))
        LazyAdam([weight], lr=0.5).step()
        assert weight.detach()[:, 0].tolist() == pytest.approx([1, 0.5, 1, 1])
    finally:
        optim._compiled.cache_clear()


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_lazy_sgd_matches_sgd_on_the_rows_it_sees(decay):
    torch.manual_seed(0)
    dense = torch.nn.Parameter(torch.randn(6, 8))
    lazy = torch.nn.Parameter(dense.detach().clone())
    kw = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=decay)
    sgd = torch.optim.SGD([dense], **kw)
    lazy_sgd = LazySGD([lazy], **kw)
    rows = torch.tensor([0, 2, 3, 5])
    for _ in range(5):
        grad = torch.zeros(6, 8)
        grad[rows] = torch.randn(4, 8)
        dense.grad = grad.clone()
        lazy.grad = torch.sparse_coo_tensor(
            rows[None], grad[rows], (6, 8), check_invariants=False
        )
        sgd.step()
        lazy_sgd.step()
    torch.testing.assert_close(lazy.detach()[rows], dense.detach()[rows])


@pytest.mark.parametrize("tied", [True, False])
def test_autoencoder_penalty_counts_the_rows_its_gradient_holds(tied):
    """The recorded L2 penalty of a sparse autoencoder step sums the squares
    of exactly the rows that the step's (coalesced) sparse gradients hold,
    which are the rows the optimizer decays: each row once."""
    torch.manual_seed(0)
    layer = DenoisingLayer(50, 4, tied_weights=tied)
    X = as_float32(sp.random(6, 50, density=0.1, format="csr", random_state=0))
    batch, _ = ArrayDataset(X).__getitems__(range(6))
    loss, _ = layer(batch["X"])
    loss.sum().backward()
    expected = 0.0
    for weight in layer.sparse_parameters():
        assert weight.grad.is_sparse
        rows = weight.grad.coalesce().indices()[0]
        expected += float(weight.detach()[rows].square().sum())
    rowwise, _ = layer.squared_weight_norms()
    assert float(rowwise) == pytest.approx(expected, rel=1e-6)
    layer.release_batch()
    rowwise, _ = layer.squared_weight_norms()  # no batch: every weight
    every = sum(float(w.detach().square().sum()) for w in layer.sparse_parameters())
    assert float(rowwise) == pytest.approx(every, rel=1e-6)


@pytest.mark.parametrize("shape", [(3, 4), (1024, 1025)], ids=["small", "4 MiB"])
def test_zeros_tables_are_ordinary_writable_zeros(shape, monkeypatch):
    """Large tables come from memory advised for huge pages, small ones from
    torch.zeros; either way they are zeros that NumPy, pickle and the
    optimizers can use, and a refusal of the memory falls back."""
    mapped, mmap = [], optim.mmap.mmap
    monkeypatch.setattr(
        optim.mmap, "mmap", lambda *a, **k: mapped.append(a) or mmap(*a, **k)
    )
    table = optim._zeros_table(*shape, dtype=torch.float64)
    assert table.shape == shape and table.dtype == torch.float64
    assert not table.any() and table.is_contiguous()
    table.numpy()[1, 2] = 5.0
    copy = pickle.loads(pickle.dumps(table))
    assert copy[1, 2] == 5.0 and copy.sum() == 5.0
    if hasattr(optim.mmap, "MADV_HUGEPAGE"):  # Linux
        assert len(mapped) == (shape != (3, 4))

    def refuse(*args, **kwargs):
        raise OSError("no memory of that kind")

    monkeypatch.setattr(optim.mmap, "mmap", refuse)
    assert not optim._zeros_table(*shape).any()


def test_freed_tables_are_reused_zeroed_and_never_while_in_use(table_cache):
    """The memory of a table comes back, zeroed, for the next table of the
    same size once no tensor (view, NumPy array, parameter) uses it, and
    never before; a clone gets it with the copy."""
    shape, nbytes = (300, 7), 300 * 7 * 4
    a = torch.nn.Parameter(optim._zeros_table(*shape))
    where = a.data_ptr()
    with torch.no_grad():
        a.fill_(3.0)
    b = optim._zeros_table(*shape)  # a is in use: fresh memory
    assert b.data_ptr() != where and not b.any()
    view, array = a[2:4], a.detach().numpy()
    del a
    c = optim._zeros_table(*shape)  # still in use by the view and the array
    assert c.data_ptr() not in (where, b.data_ptr()) and not c.any()
    del view
    g = optim._zeros_table(*shape)  # still in use by the array
    assert g.data_ptr() != where and not table_cache and (array == 3.0).all()
    del array
    assert [len(m) for m in table_cache] == [nbytes]
    d = optim._zeros_table(*shape)  # a's memory, zeroed
    assert d.data_ptr() == where and not d.any() and not table_cache
    d.fill_(5.0)
    del d
    source = torch.randn(shape)
    e = optim._clone_table(source)
    assert e.data_ptr() == where and torch.equal(e, source)
    del e
    f = optim._zeros_table(301, 7)  # another size: fresh memory, and the
    assert not f.any() and not table_cache  # other size is let go
    del f
    assert [len(m) for m in table_cache] == [301 * 7 * 4]


def test_the_cache_keeps_at_most_its_limit_and_empties(table_cache, monkeypatch):
    """Freed memory beyond CACHE_LIMIT is returned (the oldest first), and
    empty_cache returns the rest."""
    nbytes = 300 * 7 * 4
    monkeypatch.setattr(optim, "CACHE_LIMIT", 3 * nbytes + 10)
    tables = [optim._zeros_table(300, 7) for _ in range(5)]
    newest = [t.data_ptr() for t in tables[2:]]
    while tables:  # freed first to last
        tables.pop(0)
    assert len(table_cache) == 3
    kept = [optim._zeros_table(300, 7) for _ in range(3)]
    assert sorted(t.data_ptr() for t in kept) == sorted(newest) and not table_cache
    del kept
    assert len(table_cache) == 3
    assert optim.empty_cache() == 3 * nbytes and not table_cache
    assert optim.empty_cache() == 0
    large, small = optim._zeros_table(300, 22), optim._zeros_table(300, 7)
    del small
    del large  # beyond the limit alone: not kept, and the rest stays
    assert [len(m) for m in table_cache] == [nbytes]


def test_a_miss_lets_go_of_as_much_memory_of_other_sizes(table_cache):
    """A table of a size the table_cache does not hold releases at least as many
    bytes of other sizes (the oldest first) before mapping its own, so that
    the table_cache never adds to a process's memory when sizes change."""
    small = [optim._zeros_table(256, 4) for _ in range(3)]  # 4 KiB each
    while small:
        small.pop(0)
    assert [len(m) for m in table_cache] == [4096] * 3
    table = optim._zeros_table(512, 4)  # 8 KiB: the two oldest let go
    assert [len(m) for m in table_cache] == [4096] and optim._CACHED_BYTES == [4096]
    del table
    assert sorted(len(m) for m in table_cache) == [4096, 8192]
    assert optim._CACHED_BYTES == [4096 + 8192]


def test_large_layers_follow_torchs_default_dtype(monkeypatch):
    """A first layer large enough for huge pages is made in torch's default
    dtype, like its bias and like torch.zeros."""
    monkeypatch.setattr(optim, "HUGE_TABLE", 1024)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        layer = InputLayer(300, 6)
    finally:
        torch.set_default_dtype(previous)
    assert layer.weight.dtype == layer.bias.dtype == torch.float64
    assert layer.weight.shape == (300, 6) and not layer.weight.any()


def _bits(tensor):
    return tensor.contiguous().view(torch.uint8)


@pytest.mark.parametrize(
    "make, wide",
    [
        (lambda: torch.randn(50, 8), True),
        (lambda: torch.randn(50, 4, dtype=torch.float64), True),
        (lambda: torch.randn(51, 8)[1:], True),  # offset of 32 bytes
        (lambda: torch.randn(50, 3), False),  # 12-byte rows
        (lambda: torch.randn(50 * 8 + 1)[1:].view(50, 8), False),  # misaligned
        (lambda: torch.randn(8, 50).T, False),  # not contiguous
        (lambda: torch.randn(50, 8, dtype=torch.bfloat16), True),
    ],
)
def test_row_copies_are_index_select_and_index_copy_bit_for_bit(make, wide):
    """_take_rows / _put_rows copy bytes: every bit pattern (NaN payloads,
    signed zeros, subnormals) comes through, wide or not."""
    torch.manual_seed(0)
    tensor = make()
    assert (_wide(tensor) is not tensor) == wide
    special = torch.tensor([float("nan"), -0.0, float("inf"), 1e-45])
    width = min(len(special), tensor.shape[1])
    tensor[3, :width] = special[:width].to(tensor.dtype)
    if tensor.dtype == torch.float32:  # a NaN with a payload of its own
        payload = torch.tensor([0x7FC00123], dtype=torch.int32)
        tensor[3, :1] = payload.view(torch.float32)
    rows = torch.tensor([0, 3, 7, 49])
    assert torch.equal(
        _bits(_take_rows(tensor, rows)), _bits(tensor.index_select(0, rows))
    )
    values = torch.randn(4, tensor.shape[1]).to(tensor.dtype)
    values[1, 0] = float("nan")
    expected = tensor.clone().index_copy_(0, rows, values)
    _put_rows(tensor, rows, values)
    assert torch.equal(_bits(tensor), _bits(expected))


@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
@pytest.mark.parametrize(
    "X",
    [
        sp.random(20, 300, density=0.05, format="csr", random_state=0),
        sp.csr_matrix(([2.0], ([3], [7])), shape=(5, 300)),  # one non-zero
        sp.csr_matrix((4, 300)),  # no non-zero at all
        # wider than one pass of the radix sort (2048 columns)
        sp.random(30, 70_000, density=0.002, format="csr", random_state=0),
        # not canonical: a column twice in a row, columns out of order
        sp.csr_matrix(
            ([1.0, 2.0, 3.0, 4.0, 5.0], [4999, 3, 4999, 2100, 0], [0, 3, 3, 5]),
            shape=(3, 5000),
        ),
    ],
    ids=["random", "one", "empty", "wide", "not canonical"],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sparse_training_forward_and_gradients_are_the_dense_ones(
    X, index_dtype, dtype, layer_path
):
    """The first layer's sparse training paths (compiled: the weight's rows
    read in place, the batch sorted by column for the backward pass; PyTorch
    ops: gathered rows, bags, the transposed bags of the backward pass)
    against dense autograd: the output, the weight's (sparse) and the bias's
    gradients, the lazy L2 penalty's squares, and on the PyTorch path the
    input values' gradient when they require one (an input attribution,
    say; the compiled path leaves such values to the ops)."""
    torch.manual_seed(0)
    layer = InputLayer(X.shape[1], 6).to(dtype)
    torch.nn.init.normal_(layer.weight)
    torch.nn.init.normal_(layer.bias)
    X = X.astype(np.float32)  # (as it is: duplicates and order kept)
    values = torch.from_numpy(X.data).to(dtype)
    values.requires_grad_(layer_path == "torch")
    batch = torch.sparse_csr_tensor(
        torch.from_numpy(X.indptr).to(index_dtype),
        torch.from_numpy(X.indices).to(index_dtype),
        values,
        size=X.shape,
        check_invariants=X.has_canonical_format,
    )
    upstream = torch.randn(X.shape[0], 6, dtype=dtype)
    out = layer(batch)
    (out * upstream).sum().backward()
    sparse_grad, bias_grad = layer.weight.grad, layer.bias.grad
    assert sparse_grad.is_sparse
    # each distinct feature once, increasing: the optimizers need no sort
    touched = sparse_grad._indices()[0].numpy()
    np.testing.assert_array_equal(touched, np.unique(X.indices))
    squares = layer.weight.detach()[touched].square().sum()
    torch.testing.assert_close(layer.batch_squared_norm(), squares)
    layer.zero_grad()
    dense_X = torch.from_numpy(X.toarray()).to(dtype).requires_grad_()
    dense = torch.addmm(layer.bias, dense_X, layer.weight)
    (dense * upstream).sum().backward()
    torch.testing.assert_close(out, dense)
    torch.testing.assert_close(sparse_grad.to_dense(), layer.weight.grad)
    torch.testing.assert_close(bias_grad, layer.bias.grad)
    if values.requires_grad:
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        torch.testing.assert_close(values.grad, dense_X.grad[rows, X.indices])


def test_input_values_that_need_a_gradient_take_the_pytorch_ops(
    layer_kernel_calls,
):
    """Values that require a gradient get it: the compiled kernels, which
    compute none, are not used."""
    X = as_float32(sp.random(5, 40, density=0.2, format="csr", random_state=0))
    values = torch.from_numpy(X.data).requires_grad_()
    batch = torch.sparse_csr_tensor(
        torch.from_numpy(X.indptr), torch.from_numpy(X.indices), values, X.shape
    )
    InputLayer(40, 3)(batch).sum().backward()
    assert values.grad is not None and not layer_kernel_calls


def test_compiled_first_layer_refuses_columns_outside_its_weight(
    layer_kernel_calls,
):
    """A batch wider than the layer raises IndexError, as the PyTorch ops do,
    before the forward kernel (which does not check) reads any row."""
    layer = InputLayer(5, 3)
    batch = torch.sparse_csr_tensor(
        torch.tensor([0, 1, 2]), torch.tensor([1, 6]), torch.ones(2), (2, 8)
    )
    with pytest.raises(IndexError, match="out of range"):
        layer(batch)
    assert layer_kernel_calls == ["transpose"]
    layer.weight.data = torch.zeros(8, 3)
    assert layer(batch).shape == (2, 3)


#: row lists for a batch of an 8-row X: the last two are out of range
_BATCH_ROWS = pytest.mark.parametrize(
    "rows",
    [[3, 0, 7, 7, 1], [], [2], [-1, 0, -8], [0, -9], [8]],
    ids=["shuffled, repeated", "none", "row 2", "from the end", "-9", "8"],
)


def _out_of_range(X, rows):
    """Whether ``rows`` is out of range for X's 8 rows, having checked then
    that X's own indexing and ArrayDataset both raise IndexError."""
    if max(rows, default=0) < 8 and min(rows, default=0) >= -8:
        return False
    with pytest.raises(IndexError):
        X[np.asarray(rows)]
    with pytest.raises(IndexError):
        ArrayDataset(X).__getitems__(rows)
    return True


@_BATCH_ROWS
def test_csr_batches_are_scipys_row_selection(rows):
    """ArrayDataset builds a sparse batch in a few NumPy calls: the same
    tensor as SciPy's row indexing, empty rows and repeats included."""
    X = sp.random(8, 30, density=0.2, format="csr", random_state=0, dtype=np.float32)
    X[2] = 0.0
    X.eliminate_zeros()
    if _out_of_range(X, rows):
        return
    batch, _ = ArrayDataset(X).__getitems__(rows)
    expected = X[np.asarray(rows, dtype=np.intp)]
    assert batch["X"].layout == torch.sparse_csr and batch["X"].shape == expected.shape
    np.testing.assert_array_equal(batch["X"].crow_indices(), expected.indptr)
    np.testing.assert_array_equal(batch["X"].col_indices(), expected.indices)
    np.testing.assert_array_equal(batch["X"].values(), expected.data)


@_BATCH_ROWS
@pytest.mark.parametrize("layout", ["writeable", "read-only", "reversed"])
def test_dense_batches_are_numpys_row_selection(rows, layout, monkeypatch):
    """ArrayDataset gathers a dense batch with torch.index_select (an array
    torch cannot wrap, read-only or with negative strides, with NumPy): the
    rows NumPy's indexing selects, or its IndexError, in memory of their
    own."""
    X = np.random.default_rng(0).random((8, 5), dtype=np.float32)
    if layout == "reversed":
        X = X[::-1]
    X.flags.writeable = layout != "read-only"
    wrapped = []
    from_numpy = torch.from_numpy

    def spy(array):  # (torch warns once per process on read-only memory)
        wrapped.append(array)
        return from_numpy(array)

    monkeypatch.setattr(torch, "from_numpy", spy)
    if _out_of_range(X, rows):
        return
    before = X.copy()
    batch, _ = ArrayDataset(X).__getitems__(rows)
    assert batch["X"].dtype == torch.float32 and batch["X"].is_contiguous()
    np.testing.assert_array_equal(batch["X"], X[np.asarray(rows, dtype=np.intp)])
    batch["X"][:] = -1.0  # (a copy: X keeps its values)
    np.testing.assert_array_equal(X, before)
    assert all(a.flags.writeable and min(a.strides) >= 0 for a in wrapped)
    assert any(a is X for a in wrapped) == (layout == "writeable")


def test_row_copies_inside_autograd_and_from_misaligned_values():
    """Outside ``no_grad`` a gather stays differentiable (no wide view), and
    a scatter of values the wide view cannot take falls back."""
    weight = torch.randn(10, 8, requires_grad=True)
    rows = torch.tensor([1, 4])
    _take_rows(weight, rows).sum().backward()
    assert weight.grad[[1, 4]].eq(1).all() and weight.grad.sum() == 16
    tensor = torch.randn(10, 8)
    misaligned = torch.randn(2 * 8 + 1)[1:].view(2, 8)  # 4 bytes past 16
    expected = tensor.clone().index_copy_(0, rows, misaligned)
    _put_rows(tensor, rows, misaligned)
    assert torch.equal(tensor, expected)


def _adam_pair(make_optimizer, seed=0):
    """Two copies of a small network (weights and biases), each with an
    optimizer made by ``make_optimizer(weights, biases)``."""
    pairs = []
    for _ in range(2):
        torch.manual_seed(seed)
        module = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3))
        weights = [m.weight for m in module]
        biases = [m.bias for m in module]
        pairs.append((module, make_optimizer(weights, biases)))
    return pairs


def _same_gradients(modules, step, frozen=()):
    gen = torch.Generator().manual_seed(step)
    for name, _ in modules[0].named_parameters():
        grad = None
        shape = modules[0].get_parameter(name).shape
        if name not in frozen:
            grad = torch.randn(shape, generator=gen)
        for module in modules:
            module.get_parameter(name).grad = None if grad is None else grad.clone()


def _assert_same_training(a, b):
    (module_a, opt_a), (module_b, opt_b) = a, b
    for p, q in zip(module_a.parameters(), module_b.parameters()):
        assert torch.equal(p, q)
        state_a, state_b = opt_a.state.get(p, {}), opt_b.state.get(q, {})
        assert state_a.keys() == state_b.keys()
        for key in state_a:
            assert torch.equal(
                torch.as_tensor(state_a[key]), torch.as_tensor(state_b[key])
            )


@pytest.mark.parametrize(
    "make",
    [
        lambda w, b: torch.optim.Adam(
            [{"params": w, "weight_decay": 0.1}, {"params": b}], lr=0.01, fused=True
        ),
        lambda w, b: torch.optim.Adam(w + b, lr=0.01, weight_decay=0.1),
        lambda w, b: torch.optim.Adam(w + b, lr=0.01, fused=True, amsgrad=True),
        lambda w, b: torch.optim.SGD(w + b, lr=0.01, momentum=0.9),
        lambda w, b: LazyAdam([{"params": w, "weight_decay": 0.1}, {"params": b}]),
        lambda w, b: LazySGD(w + b, lr=0.01, momentum=0.5),
    ],
    ids=["fused Adam", "Adam", "fused AMSGrad", "SGD", "LazyAdam", "LazySGD"],
)
def test_optimizer_step_is_the_optimizers_step_bit_for_bit(make):
    """The engine's step (straight to the fused kernel for a fused Adam,
    without torch's wrapper otherwise) changes parameters and state exactly
    as ``optimizer.step()``, across settings changed between steps and
    parameters without a gradient."""
    reference, lean = _adam_pair(make)
    modules = [reference[0], lean[0]]
    for step in range(6):
        frozen = ("1.bias",) if step in (2, 3) else ()
        _same_gradients(modules, step, frozen)
        for _, optimizer in (reference, lean):  # a scheduler's or the net's change
            optimizer.param_groups[0]["lr"] = 0.01 / (step + 1)
            optimizer.param_groups[0]["weight_decay"] = 0.05 * step
        reference[1].step()
        optim._optimizer_step(lean[1])
        _assert_same_training(reference, lean)


def test_fused_adam_step_goes_to_the_kernel_once_its_state_exists(monkeypatch):
    calls = []
    kernel = optim._FUSED_ADAM

    def counted(params, *args, **kwargs):
        calls.append(len(params))
        return kernel(params, *args, **kwargs)

    monkeypatch.setattr(optim, "_FUSED_ADAM", counted)
    (module, optimizer), _ = _adam_pair(
        lambda w, b: torch.optim.Adam([{"params": w}, {"params": b}], fused=True)
    )
    for step in range(3):
        _same_gradients([module], step)
        optim._optimizer_step(optimizer)
    # the first step creates the state (torch's own step), then one call a group
    assert calls == [2, 2, 2, 2]


@pytest.mark.parametrize("where", ["optimizer", "global"])
def test_optimizer_step_runs_the_step_hooks(where):
    (module, optimizer), _ = _adam_pair(
        lambda w, b: torch.optim.Adam(w + b, fused=True)
    )
    seen = []
    register = {
        "optimizer": optimizer.register_step_pre_hook,
        "global": register_optimizer_step_pre_hook,
    }[where]
    handle = register(lambda opt, args, kwargs: seen.append(opt))
    try:
        for step in range(2):
            _same_gradients([module], step)
            optim._optimizer_step(optimizer)
    finally:
        handle.remove()
    assert seen == [optimizer, optimizer]


def test_optimizer_step_lets_a_scheduler_see_the_steps():
    """torch's schedulers track the optimizer's steps (else they warn that
    the scheduler stepped first)."""
    import warnings

    (module, optimizer), _ = _adam_pair(
        lambda w, b: torch.optim.Adam(w + b, lr=0.1, fused=True)
    )
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for step in range(3):
            _same_gradients([module], step)
            optim._optimizer_step(optimizer)
            scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_optimizer_step_shows_in_the_profiler():
    (module, optimizer), _ = _adam_pair(
        lambda w, b: torch.optim.Adam(w + b, fused=True)
    )
    _same_gradients([module], 0)
    optimizer.step()
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU]
    ) as prof:
        optim._optimizer_step(optimizer)
    names = {event.name for event in prof.events()}
    assert "Optimizer.step#Adam.step" in names
