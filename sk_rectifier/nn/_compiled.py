"""Compiled row-wise Adam step (Numba, the optional ``speed`` extra).

Loaded by :mod:`sk_rectifier.nn.optim` at the first sparse step on the CPU;
without Numba (or when it cannot load), :class:`~sk_rectifier.nn.LazyAdam`
runs the same step as PyTorch ops.
"""

import numba
import numpy as np

#: False under NUMBA_DISABLE_JIT, which leaves the kernel a Python loop, far
#: slower than the PyTorch ops
COMPILED = not numba.config.DISABLE_JIT


@numba.njit(cache=True, nogil=True, error_model="numpy")
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
    for k in range(rows.shape[0]):
        r = rows[k]
        for j in range(weight.shape[1]):
            g = grad[k, j] + decay * weight[r, j]
            m = exp_avg[r, j]
            m = m + keep1 * (g - m)
            v = exp_avg_sq[r, j] * beta2 + keep2 * g * g
            exp_avg[r, j] = m
            exp_avg_sq[r, j] = v
            weight[r, j] += step * (m / (np.sqrt(v) / bias2_sqrt + eps))
