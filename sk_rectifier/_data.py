"""From NumPy / SciPy sparse arrays to torch batches.

A :class:`ArrayDataset` builds a whole batch at once (PyTorch's
``__getitems__`` protocol), so a CSR matrix is sliced once per batch and never
densified: a sparse batch travels as a torch sparse CSR tensor.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

with warnings.catch_warnings():
    # torch warns once per process that sparse CSR tensors are "beta"; take
    # that warning here so that building batches stays silent.
    warnings.simplefilter("ignore")
    torch.sparse_csr_tensor([0, 0], [], [], size=(1, 1), check_invariants=False)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def as_float32(X, copy=True):
    """Return finite ``X`` (already validated: no NaN, no infinity) as a
    float32 C-ordered array or CSR matrix; a writable copy unless ``copy`` is
    False and ``X`` is already one (then ``X`` itself).

    Raises ValueError, naming the first column concerned, if a value is too
    large in magnitude for float32 (finite in float64, infinite once cast).
    """
    cast = X.dtype != np.float32  # only a cast can overflow
    if sp.issparse(X):
        reuse = not (copy or cast) and X.format == "csr" and X.has_canonical_format
        if not reuse:
            with np.errstate(over="ignore"):  # reported below, with the column
                X = sp.csr_matrix(X, dtype=np.float32, copy=True)
            X.sum_duplicates()
        values = X.data
    else:
        with np.errstate(over="ignore"):
            X = values = np.array(X, dtype=np.float32, order="C", copy=copy or None)
    if cast and not np.isfinite(values).all():
        if sp.issparse(X):
            column = int(X.indices[np.flatnonzero(~np.isfinite(values))[0]])
        else:
            column = int(np.flatnonzero(~np.isfinite(values).all(axis=0))[0])
        raise ValueError(
            f"X has a value too large for float32 in column {column}: "
            f"sk_rectifier computes in float32, whose largest magnitude is "
            f"{FLOAT32_MAX:.4g}. Scale the input (for example with "
            "sklearn.preprocessing.StandardScaler or MaxAbsScaler)."
        )
    return X


def to_tensor(X):
    """A float32 ndarray as a tensor (no copy unless it is read-only), a CSR
    matrix as a torch sparse CSR tensor."""
    if not sp.issparse(X):
        return torch.from_numpy(X if X.flags.writeable else X.copy())
    return torch.sparse_csr_tensor(
        torch.from_numpy(X.indptr.astype(np.int64)),
        torch.from_numpy(X.indices.astype(np.int64)),
        torch.from_numpy(X.data if X.data.flags.writeable else X.data.copy()),
        size=X.shape,
        check_invariants=False,
    )


def _nonnegative(rows, n):
    """``rows`` (intp) with those counted from the end made non-negative;
    IndexError for one before the first row."""
    if len(rows) and rows.min() < 0:
        rows = np.where(rows < 0, rows + n, rows)
        if rows.min() < 0:
            raise IndexError(f"row index out of range for {n} rows")
    return rows


def _take_dense_rows(X, rows):
    """Rows ``rows`` of a float32 ndarray as a tensor: what
    ``to_tensor(X[rows])`` gives, gathered by ``torch.index_select`` on
    torch's threads (a training batch of 200 Fashion-MNIST rows in about
    half the time of NumPy's row indexing on 2 cores)."""
    # (torch.from_numpy warns on read-only memory, refuses negative strides)
    if sp.issparse(X) or not X.flags.writeable or min(X.strides, default=0) < 0:
        return to_tensor(X[rows])
    rows = _nonnegative(rows, X.shape[0])
    if len(rows) and rows.max() >= X.shape[0]:
        raise IndexError(f"row index out of range for {X.shape[0]} rows")
    return torch.index_select(torch.from_numpy(X), 0, torch.from_numpy(rows))


def _take_csr_rows(X, rows):
    """Rows ``rows`` of a CSR matrix as a torch sparse CSR tensor: what
    ``to_tensor(X[rows])`` gives, in a few NumPy calls (a tenth of the time
    of SciPy's row indexing on a batch of text)."""
    rows = _nonnegative(rows, X.shape[0])
    starts = X.indptr[rows]
    lengths = X.indptr[rows + 1] - starts
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    take = np.arange(indptr[-1]) + np.repeat(starts - indptr[:-1], lengths)
    return torch.sparse_csr_tensor(
        torch.from_numpy(indptr),
        torch.from_numpy(X.indices[take].astype(np.int64, copy=False)),
        torch.from_numpy(X.data[take]),
        size=(len(rows), X.shape[1]),
        check_invariants=False,
    )


class ArrayDataset(Dataset):
    """Rows of ``X`` (float32 ndarray or CSR), with optional targets and weights.

    ``dataset[list_of_rows]`` returns ``(Xi, yi)`` where ``Xi`` is a dict of
    tensors ready for :class:`~sk_rectifier._modules.RectifierMLP` plus an
    optional ``"sample_weight"`` entry. ``ArrayDataset(X, y, sample_weight)``
    with ``y`` None yields ``yi = None``.
    """

    def __init__(self, X, y=None, sample_weight=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, rows):
        rows = np.asarray(rows, dtype=np.intp)
        X = self.X
        csr = sp.issparse(X) and X.format == "csr"
        Xi = {"X": _take_csr_rows(X, rows) if csr else _take_dense_rows(X, rows)}
        if self.sample_weight is not None:
            Xi["sample_weight"] = torch.from_numpy(self.sample_weight[rows])
        yi = None if self.y is None else torch.from_numpy(self.y[rows])
        return Xi, yi

    def subset(self, rows):
        """A new dataset with the given rows."""
        pick = None if self.y is None else self.y[rows]
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        return ArrayDataset(self.X[rows], pick, sw)


class CSRBuilder:
    """A CSR matrix of ``n_rows`` rows assembled from dense row blocks, each
    written into the final arrays as it comes (their size estimated from the
    first block's density, grown by half when needed): the memory used stays
    near the CSR size, far from the dense size."""

    def __init__(self, n_rows):
        self.n_rows, self.nnz, self.n_cols = n_rows, 0, 0
        self.data = self.indices = None
        self.indptr = [np.zeros(1, dtype=np.int64)]

    def _reserve(self, capacity):
        data = np.empty(capacity, dtype=np.float32)  # pages filled as written
        indices = np.empty(capacity, dtype=np.int32)
        if self.data is not None:
            data[: self.nnz] = self.data[: self.nnz]
            indices[: self.nnz] = self.indices[: self.nnz]
        self.data, self.indices = data, indices

    def add(self, dense):
        block = sp.csr_matrix(dense)
        self.n_cols = block.shape[1]
        if self.data is None:
            density = block.nnz / max(block.shape[0], 1)
            self._reserve(int(density * self.n_rows * 1.25) + 1024)
        stop = self.nnz + block.nnz
        if stop > len(self.data):
            self._reserve(max(stop, len(self.data) * 3 // 2))
        self.data[self.nnz : stop] = block.data
        self.indices[self.nnz : stop] = block.indices
        self.indptr.append(block.indptr[1:].astype(np.int64) + self.nnz)
        self.nnz = stop

    def build(self):
        indptr = np.concatenate(self.indptr)
        if self.data is None:
            self._reserve(0)
        data, indices = self.data[: self.nnz], self.indices[: self.nnz]
        if self.nnz < np.iinfo(np.int32).max:
            indptr = indptr.astype(np.int32)
        else:
            indices = indices.astype(np.int64)
        shape = (len(indptr) - 1, self.n_cols)
        return sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
