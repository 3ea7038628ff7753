"""Activation table: one table from a public name to a torch module class."""

from torch import nn

#: Hidden-layer activations, by the names scikit-learn's MLP uses.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}

#: Glorot-uniform gain per activation: scikit-learn's ``sqrt(6 / (fan_in +
#: fan_out))`` bound, and ``sqrt(2 / ...)`` for the logistic function.
INIT_GAIN: dict[str, float] = {name: 1.0 for name in ACTIVATIONS}
INIT_GAIN["logistic"] = 3.0**-0.5
