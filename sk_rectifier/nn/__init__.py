"""Pure PyTorch: layers, networks, corruption noise, the activation table and
the row-wise optimizer. Nothing here imports scikit-learn or skorch; the
row-wise Adam step runs compiled by Numba when it is installed (the ``speed``
extra), on NumPy views of the CPU tensors."""

from sk_rectifier.nn.activations import ACTIVATIONS, INIT_GAIN
from sk_rectifier.nn.layers import (
    RECONSTRUCTIONS,
    DenoisingLayer,
    InputLayer,
    RectifierMLP,
    corrupt,
)
from sk_rectifier.nn.optim import LazyAdam, LazySGD, empty_cache

__all__ = [
    "ACTIVATIONS",
    "INIT_GAIN",
    "RECONSTRUCTIONS",
    "DenoisingLayer",
    "InputLayer",
    "LazyAdam",
    "LazySGD",
    "RectifierMLP",
    "corrupt",
    "empty_cache",
]
