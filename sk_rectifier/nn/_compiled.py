"""Compiled kernels for a sparse first layer on the CPU (Numba, the optional
``speed`` extra): the row-wise Adam step, and the layer's forward and
backward passes over a CSR batch.

Loaded by :mod:`sk_rectifier.nn.optim` at the first sparse step on the CPU;
without Numba (or when it cannot load), the same computations run as PyTorch
ops. A text layer's weight is far larger than the CPU caches and a batch
reads a few thousand rows of it scattered over the table: the kernels spend
most of their time waiting for memory, so each one asks for the rows it will
need a few iterations ahead (:func:`prefetch`).
"""

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

#: False under NUMBA_DISABLE_JIT, which leaves the kernels Python loops, far
#: slower than the PyTorch ops
COMPILED = not numba.config.DISABLE_JIT

#: How far ahead the kernels prefetch: rows of an Adam step (1.3 ms to
#: 0.95 ms on 4,600 random rows of a 124,615 x 100 table), and non-zeros of
#: a forward pass (0.8 ms to 0.25 ms for 6,800 non-zeros into that table),
#: which does less work per row
ROWS_AHEAD = 4
NONZEROS_AHEAD = 8

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


def _prefetch_code(write):
    """Code generation for an intrinsic ``(array, row, col)`` that hints the
    CPU to bring the cache line of ``array[row, col]`` (2-D) in, to be
    written (``write``) or read: no effect on results, and no fault for any
    address."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        index = [
            context.cast(builder, value, kind, types.intp)
            for value, kind in zip(args[1:], signature.args[1:])
        ]
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, view, index, wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch",
            [byte_pointer],
            ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]),
        )
        # read or write intent, high locality, data cache
        address = builder.bitcast(pointer, byte_pointer)
        builder.call(function, [address, int32(int(write)), int32(3), int32(1)])
        return context.get_dummy_value()

    return codegen


@intrinsic
def _prefetch_to_write(typingctx, array, row, col):
    return types.void(array, row, col), _prefetch_code(write=True)


@intrinsic
def _prefetch_to_read(typingctx, array, row, col):
    return types.void(array, row, col), _prefetch_code(write=False)


@_jit
def prefetch(table, row, write):
    """Prefetch every cache line of ``table[row]`` (C-contiguous, 2-D), to
    be updated (``write``) or read (callers pass a constant: the branch is
    compiled away)."""
    step = max(64 // table.itemsize, 1)
    for col in range(0, table.shape[1], step):
        _prefetch_line(table, row, col, write)
    _prefetch_line(table, row, table.shape[1] - 1, write)  # (a row off a line)


@_jit
def _prefetch_line(table, row, col, write):
    if write:
        _prefetch_to_write(table, row, col)
    else:
        _prefetch_to_read(table, row, col)


@_jit
def adam_rows(weight, exp_avg, exp_avg_sq, rows, grad, scalars):
    """Adam on rows ``rows`` of ``weight`` and of its moments, in place.

    ``grad[k]`` is the gradient of row ``rows[k]`` (rows distinct);
    ``scalars`` holds, in the tables' dtype, ``1 - beta1``, ``beta2``,
    ``1 - beta2``, ``-lr / (1 - beta1 ** t)``, ``sqrt(1 - beta2 ** t)``,
    ``eps`` and the L2 ``weight_decay`` (added to the gradient).

    Each row is read and written once, where PyTorch ops gather the rows of
    the three tables, update the copies and scatter them back (three passes
    of scattered rows instead of one). The arithmetic is
    :class:`torch.optim.Adam`'s, in the tables' dtype. (NumPy's error model:
    a division is not checked for zero, which lets the loop be vectorized;
    ``eps`` keeps the denominator positive.)
    """
    keep1, beta2, keep2 = scalars[0], scalars[1], scalars[2]
    step, bias2_sqrt, eps, decay = scalars[3], scalars[4], scalars[5], scalars[6]
    n = rows.shape[0]
    for k in range(n):
        if k + ROWS_AHEAD < n:
            ahead = rows[k + ROWS_AHEAD]
            prefetch(weight, ahead, True)
            prefetch(exp_avg, ahead, True)
            prefetch(exp_avg_sq, ahead, True)
        r = rows[k]
        for j in range(weight.shape[1]):
            g = grad[k, j] + decay * weight[r, j]
            m = exp_avg[r, j]
            m = m + keep1 * (g - m)
            v = exp_avg_sq[r, j] * beta2 + keep2 * g * g
            exp_avg[r, j] = m
            exp_avg_sq[r, j] = v
            weight[r, j] += step * (m / (np.sqrt(v) / bias2_sqrt + eps))


@_jit
def transpose(indptr, indices, values, n_features):
    """A CSR batch by columns: ``(cols, offsets, rows, weights, first)``
    where ``cols`` are the distinct columns, increasing, and the non-zeros of
    column ``cols[u]``, in row order, lie in batch rows
    ``rows[offsets[u]:offsets[u + 1]]`` with values ``weights[...]``;
    ``first[k]`` says whether non-zero ``k`` (in CSR order) is its column's
    first.

    A stable radix sort of the non-zeros by column (11 bits per pass: two
    passes for up to 4 million features), O(non-zeros) whatever the width.
    Raises IndexError if a column is outside ``[0, n_features)``.
    """
    nnz = indices.shape[0]
    for p in range(nnz):
        if indices[p] < 0 or indices[p] >= n_features:
            raise IndexError("a column index of the batch is out of range")
    order = np.arange(nnz)
    spare = np.empty(nnz, np.int64)
    passes, widest = 1, max(n_features - 1, 0) >> 11
    while widest:
        passes, widest = passes + 1, widest >> 11
    for shift in range(0, 11 * passes, 11):
        starts = np.zeros(2049, np.int64)
        for p in range(nnz):
            starts[((indices[p] >> shift) & 2047) + 1] += 1
        for d in range(2048):
            starts[d + 1] += starts[d]
        for p in range(nnz):
            k = order[p]
            d = (indices[k] >> shift) & 2047
            spare[starts[d]] = k
            starts[d] += 1
        order, spare = spare, order
    row_of = np.empty(nnz, np.int64)
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            row_of[k] = i
    n_cols = 0
    for p in range(nnz):
        if p == 0 or indices[order[p]] != indices[order[p - 1]]:
            n_cols += 1
    cols = np.empty(n_cols, np.int64)
    offsets = np.empty(n_cols + 1, np.int64)
    rows = np.empty(nnz, np.int64)
    weights = np.empty(nnz, values.dtype)
    first = np.zeros(nnz, np.bool_)
    u = -1
    for p in range(nnz):
        k = order[p]
        if p == 0 or indices[k] != indices[order[p - 1]]:
            u += 1
            cols[u] = indices[k]
            offsets[u] = p
            first[k] = True
        rows[p] = row_of[k]
        weights[p] = values[k]
    offsets[n_cols] = nnz
    return cols, offsets, rows, weights, first


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def sparse_dense(indptr, indices, values, weight, first, out):
    """``out[i] = sum of values[k] * weight[indices[k]]`` over the non-zeros
    ``k`` of batch row ``i`` (``out`` zeroed by the caller; every index
    below ``len(weight)``, which the kernel does not check). Returns the sum
    of the squared entries of the rows read, each row once (``first``, from
    :func:`transpose`), in float64 (the first layer's lazy L2 penalty; in any
    order of addition, which lets that loop be vectorized)."""
    nnz = indices.shape[0]
    squares = 0.0
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            if k + NONZEROS_AHEAD < nnz:
                prefetch(weight, indices[k + NONZEROS_AHEAD], False)
            c, value = indices[k], values[k]
            for j in range(weight.shape[1]):
                out[i, j] += value * weight[c, j]
            if first[k]:
                for j in range(weight.shape[1]):
                    squares += np.float64(weight[c, j]) ** 2
    return squares


@_jit
def bag_rows(offsets, rows, weights, grad, out):
    """``out[u] = sum of weights[p] * grad[rows[p]]`` for ``p`` in
    ``offsets[u]:offsets[u + 1]``: the weight gradient of each distinct
    column of a batch (``grad``, the batch's output gradient, is small)."""
    for u in range(offsets.shape[0] - 1):
        for j in range(grad.shape[1]):
            out[u, j] = 0
        for p in range(offsets[u], offsets[u + 1]):
            r, value = rows[p], weights[p]
            for j in range(grad.shape[1]):
                out[u, j] += value * grad[r, j]


def warm_up():
    """Compile every kernel for float32 tables and int64 indices (or load
    them from Numba's cache) on a tiny batch: a Numba that cannot compile
    them fails here, where the caller can fall back to the PyTorch ops,
    rather than in the middle of a fit."""
    indptr, indices = np.array([0, 2, 3]), np.array([0, 1, 1])
    values = np.ones(3, np.float32)
    weight, moments = np.ones((2, 3), np.float32), np.zeros((2, 2, 3), np.float32)
    cols, offsets, rows, weights, first = transpose(indptr, indices, values, 2)
    out = np.zeros((2, 3), np.float32)
    sparse_dense(indptr, indices, values, weight, first, out)
    grad = np.empty((len(cols), 3), np.float32)
    bag_rows(offsets, rows, weights, out, grad)
    scalars = np.array([0.1, 0.999, 0.001, -0.1, 0.03, 1e-8, 0.0], np.float32)
    adam_rows(weight, moments[0], moments[1], cols, grad, scalars)
