"""Pure PyTorch modules. Nothing here knows about scikit-learn or NumPy."""

import torch
import torch.nn.functional as F
from torch import nn

from sk_rectifier._activations import ACTIVATIONS, INIT_GAIN


class InputLayer(nn.Module):
    """Affine first layer that takes a dense batch or a CSR batch.

    The weight has shape ``(n_features, n_out)``, so that a sparse batch is a
    weighted sum of weight rows (:func:`torch.nn.functional.embedding_bag`):
    forward and backward cost grow with the batch's non-zeros, and the weight
    gradient is a sparse tensor touching only the rows the batch uses.
    """

    def __init__(self, n_features: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_features, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.batch_rows = None

    def forward(self, X):
        if X.layout != torch.sparse_csr:
            self.batch_rows = None
            return torch.addmm(self.bias, X, self.weight)
        # Gather the rows of the features present in the batch once; the weight
        # gradient is then a sparse tensor with one row per distinct feature.
        cols, inverse = torch.unique(X.col_indices(), return_inverse=True)
        rows = F.embedding(cols, self.weight, sparse=True)
        out = F.embedding_bag(
            inverse,
            rows,
            X.crow_indices()[:-1],
            mode="sum",
            per_sample_weights=X.values(),
        )
        # Kept for the weight penalty of this training step (lazy L2).
        self.batch_rows = rows if self.training else None
        return out + self.bias


class RectifierMLP(nn.Module):
    """Multi-layer perceptron whose hidden activations are also returned.

    ``forward`` returns ``(logits, l1)`` where ``l1[i]`` is the sum over hidden
    layers and units of ``|h|`` for sample ``i``: the activation penalty of
    Glorot, Bordes and Bengio (2011).
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        sizes = [*hidden_layer_sizes, n_outputs]
        self.input_layer = InputLayer(n_features, sizes[0])
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        gain = INIT_GAIN[activation]
        for weight in [self.input_layer.weight, *(lay.weight for lay in self.layers)]:
            nn.init.xavier_uniform_(weight, gain=gain)
        for layer in self.layers:
            nn.init.zeros_(layer.bias)

    def hidden(self, X):
        """Return ``(hidden, logits)``: the list of hidden activations and the
        output scores for a dense or sparse CSR batch ``X``."""
        z = self.input_layer(X)
        hidden = []
        for layer in self.layers:
            h = self.activation(z)
            hidden.append(h)
            z = layer(self.dropout(h))
        return hidden, z

    def forward(self, X):
        hidden, logits = self.hidden(X)
        l1 = logits.new_zeros(len(logits))
        for h in hidden:
            l1 = l1 + h.abs().sum(dim=1)
        return logits, l1

    def squared_weight_norms(self):
        """Return ``(sparse_rows, dense)``: the sum of squared weights of the
        first-layer rows used by the last sparse training batch (0 if none),
        with autograd; and of every dense weight matrix, without autograd."""
        rows = self.input_layer.batch_rows
        sparse_rows = rows.pow(2).sum() if rows is not None else 0.0
        dense = [layer.weight for layer in self.layers]
        if rows is None:
            dense.append(self.input_layer.weight)
        with torch.no_grad():
            norms = torch.stack([torch.linalg.vector_norm(w) for w in dense])
        return sparse_rows, norms.square().sum()


class LazyAdam(torch.optim.Optimizer):
    """Adam for parameters with sparse gradients (row-wise, "lazy" updates).

    Only the rows present in a gradient are updated, with the same arithmetic
    as :class:`torch.optim.Adam`; the moments of the other rows are left as
    they are. A step costs O(rows in the gradient x row width), which for a
    TF-IDF first layer is the batch's distinct features, not the vocabulary.
    Unlike :class:`torch.optim.SparseAdam` it needs no ``sparse_mask`` of the
    dense moments, which makes it several times faster on CPU.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

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
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                grad = p.grad.coalesce()
                rows, values = grad.indices()[0], grad.values()
                m = state["exp_avg"].index_select(0, rows)
                v = state["exp_avg_sq"].index_select(0, rows)
                m.lerp_(values, 1 - beta1)
                v.mul_(beta2).addcmul_(values, values, value=1 - beta2)
                state["exp_avg"].index_copy_(0, rows, m)
                state["exp_avg_sq"].index_copy_(0, rows, v)
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                denom = (v.sqrt_() / bias2**0.5).add_(group["eps"])
                updated = p.index_select(0, rows)
                updated.addcdiv_(m, denom, value=-group["lr"] / bias1)
                p.index_copy_(0, rows, updated)
        return loss
