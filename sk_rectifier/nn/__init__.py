"""Pure PyTorch: layers, networks, corruption noise, the activation table and
the row-wise optimizer. Nothing here imports scikit-learn, skorch or NumPy."""

from sk_rectifier.nn.activations import ACTIVATIONS, INIT_GAIN
from sk_rectifier.nn.layers import (
    RECONSTRUCTIONS,
    DenoisingLayer,
    InputLayer,
    RectifierMLP,
    corrupt,
)
from sk_rectifier.nn.optim import LazyAdam, LazySGD

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
]
