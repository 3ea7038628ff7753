"""Layers and networks: the rectifier MLP and the denoising autoencoder layer."""

import torch
import torch.nn.functional as F
from torch import nn

from sk_rectifier.nn import optim
from sk_rectifier.nn.activations import ACTIVATIONS, INIT_GAIN
from sk_rectifier.nn.optim import _take_rows, _zeros_table


class _GatherRows(torch.autograd.Function):
    """``weight[rows]`` for sorted, distinct ``rows``, whose weight gradient is
    a sparse tensor already coalesced (one row per distinct feature), so that
    the optimizer need not sort it."""

    @staticmethod
    def forward(ctx, weight, rows):
        ctx.save_for_backward(rows)
        ctx.shape = weight.shape
        return _take_rows(weight, rows)

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        sparse = torch.sparse_coo_tensor(
            rows.unsqueeze(0),
            grad,
            ctx.shape,
            is_coalesced=True,
            check_invariants=False,
        )
        return sparse, None


class _Transposed:
    """A CSR batch as weighted bags of its distinct features' rows (``cols``
    sorted, ``inverse[k]`` the position in ``cols`` of non-zero ``k``, which
    lies in batch row ``row_of[k]``), and transposed: each distinct feature as
    a bag of the non-zeros ``order`` lists for it. One stable sort gives both."""

    def __init__(self, X):
        index, crow = X.col_indices().long(), X.crow_indices().long()
        self.offsets = crow[:-1]
        ordered, self.order = torch.sort(index, stable=True)
        self.cols, counts = torch.unique_consecutive(ordered, return_counts=True)
        rank = torch.arange(len(self.cols), device=index.device)
        nnz = len(index)  # (output_size spares repeat_interleave a GPU sync)
        self.inverse = torch.empty_like(index)
        self.inverse[self.order] = torch.repeat_interleave(
            rank, counts, output_size=nnz
        )
        row = torch.arange(X.shape[0], device=index.device)
        self.row_of = torch.repeat_interleave(row, crow.diff(), output_size=nnz)
        self.t_offsets = counts.cumsum(0) - counts


class _BagRows(torch.autograd.Function):
    """Each batch row as the sum of the gathered feature rows weighted by the
    batch's values (``embedding_bag``), with a backward that is another
    ``embedding_bag`` over the transposed batch: ``embedding_bag``'s own
    backward sorts the indices at every step, and took most of the first
    layer's time. Values that require a gradient get theirs."""

    @staticmethod
    def forward(ctx, rows, values, batch):
        ctx.batch = batch
        ctx.save_for_backward(rows, values)
        return F.embedding_bag(
            batch.inverse, rows, batch.offsets, mode="sum", per_sample_weights=values
        )

    @staticmethod
    def backward(ctx, grad):
        batch, (rows, values) = ctx.batch, ctx.saved_tensors
        grad = grad.to(rows.dtype).contiguous()
        grad_rows = grad_values = None
        if ctx.needs_input_grad[0]:
            order = batch.order
            grad_rows = F.embedding_bag(
                batch.row_of[order],
                grad,
                batch.t_offsets,
                mode="sum",
                per_sample_weights=values[order],
            )
        if ctx.needs_input_grad[1]:
            grad_values = (rows[batch.inverse] * grad[batch.row_of]).sum(1)
        return grad_rows, grad_values, None


class _CompiledBag(torch.autograd.Function):
    """A CSR batch times the weight, forward and backward in compiled kernels
    (:mod:`sk_rectifier.nn._compiled`): the forward reads the weight's rows
    where they are (no gathered copy), the backward sums each distinct
    feature's row gradient from the batch by columns (``transposed``, from
    ``kernels.transpose``), into a coalesced sparse gradient. Also returns
    the sum of the squares of the rows read (float64, no gradient)."""

    @staticmethod
    def forward(ctx, weight, kernels, X, transposed):
        out = weight.new_zeros(X.shape[0], weight.shape[1])
        table, first = weight.detach().numpy(), transposed[4]
        squares = kernels.sparse_dense(*_csr_arrays(X), table, first, out.numpy())
        squares = weight.new_tensor(squares, dtype=torch.float64)
        ctx.mark_non_differentiable(squares)
        ctx.kernels, ctx.transposed = kernels, transposed
        ctx.shape, ctx.dtype = weight.shape, weight.dtype
        return out, squares

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _):
        cols, offsets, rows, weights, _ = ctx.transposed
        grad = grad.to(ctx.dtype).contiguous()
        grad_rows = grad.new_empty(len(cols), ctx.shape[1])
        ctx.kernels.bag_rows(offsets, rows, weights, grad.numpy(), grad_rows.numpy())
        sparse = torch.sparse_coo_tensor(
            torch.from_numpy(cols).unsqueeze(0),
            grad_rows,
            ctx.shape,
            is_coalesced=True,
            check_invariants=False,
        )
        return sparse, None, None, None


def _csr_arrays(X):
    """``(indptr, indices, values)`` of a CPU CSR tensor, as NumPy views."""
    return X.crow_indices().numpy(), X.col_indices().numpy(), X.values().numpy()


class InputLayer(nn.Module):
    """Affine first layer that takes a dense batch or a CSR batch.

    The weight has shape ``(n_features, n_out)``, so that a sparse batch is a
    weighted sum of weight rows (:func:`torch.nn.functional.embedding_bag`):
    forward and backward cost grow with the batch's non-zeros, and the weight
    gradient is a sparse tensor touching only the rows the batch uses.

    The weight and bias start at zero: the networks built on this layer
    initialise the weight themselves (Xavier, with the activation's gain).

    Parameters
    ----------
    n_features : int
        Input width (the vocabulary, for text).
    n_out : int
        Output width.

    See Also
    --------
    RectifierMLP : The network that starts with this layer.
    LazyAdam : The row-wise optimizer for its sparse weight gradient.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import InputLayer
    >>> layer = InputLayer(n_features=5, n_out=3)
    >>> batch = torch.tensor([[0.0, 1.0, 0.0, 0.0, 2.0]]).to_sparse_csr()
    >>> layer(batch).shape
    torch.Size([1, 3])
    """

    def __init__(self, n_features: int, n_out: int):
        super().__init__()
        # zeros, not uninitialised memory: the networks that use this layer
        # draw its weights (Xavier) themselves
        self.weight = nn.Parameter(_zeros_table(n_features, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        # from the last training batch when it was sparse, for the lazy L2
        # penalty: the weight rows of its features (PyTorch ops) or the sum of
        # their squares (compiled kernels)
        self.batch_rows = self.batch_squares = None

    def forward(self, X):
        self.release_batch()
        if X.layout != torch.sparse_csr:
            return torch.addmm(self.bias, X, self.weight)
        if not (self.training and torch.is_grad_enabled()):
            out = F.embedding_bag(
                X.col_indices(),
                self.weight,
                X.crow_indices()[:-1],
                mode="sum",
                per_sample_weights=X.values(),
            )
            return out + self.bias
        # (under autocast too: this layer's sums stay in the weight's dtype)
        kernels = optim._kernels_for((self.weight,), X.values())
        if kernels is not None:
            # (raises IndexError for a column outside the weight, as
            # embedding_bag does: the forward kernel does not check)
            transposed = kernels.transpose(*_csr_arrays(X), len(self.weight))
            out, squares = _CompiledBag.apply(self.weight, kernels, X, transposed)
            self.batch_squares = squares.to(self.weight.dtype)
            return out + self.bias
        # Gather the rows of the features present in the batch once; the weight
        # gradient is then a sparse tensor with one row per distinct feature.
        batch = _Transposed(X)
        rows = _GatherRows.apply(self.weight, batch.cols)
        out = _BagRows.apply(rows, X.values(), batch)
        self.batch_rows = rows
        return out + self.bias

    def batch_squared_norm(self):
        """The first layer's lazy L2 penalty, without autograd.

        Returns
        -------
        squares : torch.Tensor or None
            The sum of the squared weights of the rows the last training
            batch used when it was sparse (each row once); None after a
            dense batch, in inference, or after :meth:`release_batch`.
        """
        if self.batch_rows is not None:
            return _squared_norm([self.batch_rows])
        return self.batch_squares  # (None after a dense batch)

    def release_batch(self):
        """Forget what was kept from the last training batch (its gathered
        rows or their squares), so that no tensor of its graph stays alive."""
        self.batch_rows = self.batch_squares = None


def _squared_norm(weights):
    """Sum of the squared entries of ``weights``, without autograd."""
    total = None
    with torch.no_grad():
        for w in weights:  # (one BLAS dot each, no temporary)
            flat = w.reshape(-1)
            square = torch.dot(flat, flat)
            total = square if total is None else total + square
    return torch.zeros(()) if total is None else total


class RectifierMLP(nn.Module):
    """Multi-layer perceptron whose hidden activations are also returned.

    ``forward`` returns ``(logits, l1)`` where ``l1[i]`` is the sum over hidden
    layers and units of ``|h|`` for sample ``i``: the activation penalty of
    Glorot, Bordes and Bengio (2011) (zeros when ``track_l1`` is False, which
    spares the computation when the penalty is off).

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int
        Number of output scores.
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer.
    activation : {"relu", "softplus", "tanh", "logistic", "identity"}, \
            default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout rate on hidden activations in training mode.
    keep_casts : bool, default=False
        In inference under ``torch.autocast`` (evaluation mode, no
        gradient, on a CPU or a CUDA GPU), keep the low-precision copies of
        the float32 weights that autocast makes at every call, and reuse
        them while the weights are unchanged: the same outputs, bit for
        bit, without the casts, which take most of a one-row prediction's
        time in a wide network, for half the weights' memory. The copies
        are remade when a weight changes through a torch operation that
        bumps its version counter (``copy_``, ``load_state_dict``) and
        dropped by :meth:`~torch.nn.Module.train` and
        :meth:`~torch.nn.Module.eval`: call one of them after changing
        weights any other way (an optimizer step, ``.data``, a NumPy view).
        :class:`~sk_rectifier.RectifierMLPClassifier` and
        :class:`~sk_rectifier.RectifierMLPRegressor`, which train only in
        training mode, set it.

    See Also
    --------
    sk_rectifier.RectifierMLPClassifier : The scikit-learn estimator around
        this network.
    InputLayer : Its first layer, dense or sparse input.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import RectifierMLP
    >>> net = RectifierMLP(n_features=4, n_outputs=2, hidden_layer_sizes=(8,))
    >>> logits, l1 = net(torch.rand(3, 4))
    >>> logits.shape, l1.shape
    (torch.Size([3, 2]), torch.Size([3]))
    """

    keep_casts = False  # (modules pickled before the parameter existed)

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        dropout: float = 0.0,
        keep_casts: bool = False,
    ):
        super().__init__()
        self.keep_casts = keep_casts
        sizes = [*hidden_layer_sizes, n_outputs]
        self.input_layer = InputLayer(n_features, sizes[0])
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.track_l1 = True  # False: forward returns zeros for the L1 term
        gain = INIT_GAIN[activation]
        for weight in [self.input_layer.weight, *(lay.weight for lay in self.layers)]:
            nn.init.xavier_uniform_(weight, gain=gain)
        for layer in self.layers:
            nn.init.zeros_(layer.bias)

    def hidden(self, X):
        """Return ``(hidden, logits)``: the list of hidden activations and the
        output scores for a dense or sparse CSR batch ``X``."""
        # Submodules are applied through their forward methods: the same
        # arithmetic as calling them, without the per-call hook machinery,
        # which dominates the time of a one-row prediction.
        cast = self._cast_weights(X.layout != torch.sparse_csr)
        if cast is not None:
            first, rest = cast
            if first is None:
                z = self.input_layer.forward(X)
            else:
                z = torch.addmm(first[0], X, first[1])
            return self.dense_layers(z, rest)
        dense = self.__dict__.get("dense", self.dense_layers)
        return dense(self.input_layer.forward(X))

    def dense_layers(self, z, weights=None):
        """``(hidden, logits)`` from the first layer's pre-activation ``z``:
        the dense part of the network (what ``torch.compile`` may take; an
        instance attribute ``dense`` replaces it when set), with the layers'
        ``(weight, bias)`` pairs, or ``weights`` in their place."""
        activation = self.activation.forward
        hidden = []
        for weight, bias in weights or ((la.weight, la.bias) for la in self.layers):
            h = activation(z)
            hidden.append(h)
            if self.training:
                h = self.dropout(h)
            z = F.linear(h, weight, bias)
        return hidden, z

    def _cast_weights(self, dense_input):
        """With ``keep_casts``, in an inference under autocast: the weights
        and biases that autocast would cast at every call, as ``(first,
        rest)``: the first layer's ``(bias, weight)`` for a dense input (None
        for a sparse one, whose sums autocast leaves in float32) and the
        other layers' ``(weight, bias)`` pairs, cast once and kept while the
        parameters are unchanged (see ``keep_casts``). None otherwise."""
        kind = self.input_layer.weight.device.type
        if not (
            self.keep_casts
            and not self.training
            and not torch.is_grad_enabled()
            and "dense" not in self.__dict__  # (compiled layers: as they are)
            and kind in ("cpu", "cuda")  # (others: as autocast does it)
        ):
            return None
        if not torch.is_autocast_enabled(kind):  # (float32: copies of no use)
            self.__dict__.pop("_casts", None)
            return None
        first = [self.input_layer.bias, self.input_layer.weight]
        rest = [p for layer in self.layers for p in (layer.weight, layer.bias)]
        dtype = torch.get_autocast_dtype(kind)
        try:
            stamp = [dtype, *((p.data_ptr(), p._version) for p in first + rest)]
        except RuntimeError:  # (tensors made in inference mode keep no version)
            return None
        kept = self.__dict__.get("_casts")
        if kept is None or kept[0] != stamp:  # (stale copies all dropped)
            kept = self.__dict__["_casts"] = (stamp, {})
        casts = kept[1]

        def cast(key, params):  # autocast casts float32 tensors only
            if key not in casts:
                casts[key] = [
                    p.detach().to(dtype) if p.dtype == torch.float32 else p
                    for p in params
                ]
            return casts[key]

        rest = cast("rest", rest)
        first = cast("first", first) if dense_input else None
        return first, list(zip(rest[::2], rest[1::2]))

    def train(self, mode=True):
        self.__dict__.pop("_casts", None)  # (see _cast_weights)
        return super().train(mode)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("dense", None)  # a compiled function does not pickle
        state.pop("_casts", None)  # (rebuilt on demand)
        return state

    def forward(self, X):
        hidden, logits = self.hidden(X)
        l1 = logits.new_zeros(len(logits))
        for h in hidden if self.track_l1 else []:
            l1 = l1 + h.abs().sum(dim=1)
        return logits, l1

    def sparse_parameters(self):
        """Parameters whose gradient is sparse when the input is sparse (they
        are updated row-wise, whatever the input)."""
        return [self.input_layer.weight]

    def release_batch(self):
        """Forget the rows kept from the last training batch."""
        self.input_layer.release_batch()

    def squared_weight_norms(self):
        """Return ``(rowwise, dense)``, without autograd (the L2 penalty's
        gradient is the optimizers' weight decay): the sum of squared weights
        of the first layer (only the rows the last training batch used when it
        was sparse: lazy decay), and of the other weight matrices. Frozen
        weights (no gradient: ``freeze_pretrained``) are not penalised and not
        counted."""
        layer = self.input_layer
        first = None
        if layer.weight.requires_grad:
            first = layer.batch_squared_norm()
            if first is None:  # a dense batch: every row
                first = _squared_norm([layer.weight])
        if first is None:
            first = _squared_norm([])
        dense = (lay.weight for lay in self.layers if lay.weight.requires_grad)
        return first, _squared_norm(dense)


#: Reconstruction strategies: output activation and per-entry loss.
RECONSTRUCTIONS = ("softplus_squared", "sigmoid_cross_entropy", "linear_squared")


def corrupt(X, kind, level):
    """Return a corrupted copy of a dense or sparse CSR batch ``X``.

    ``masking`` zeroes each entry with probability ``level``;
    ``salt_and_pepper`` sets each entry, with probability ``level``, to 0 or 1
    with equal odds; ``gaussian`` adds noise of standard deviation ``level``.
    On a sparse batch only the stored entries are corrupted (the zeros of a
    bag of words stay zeros), so the cost stays O(non-zeros).

    Parameters
    ----------
    X : torch.Tensor
        A dense or sparse CSR batch.
    kind : {"masking", "salt_and_pepper", "gaussian"}
        The noise.
    level : float
        Its probability (masking, salt and pepper) or standard deviation
        (gaussian).

    Returns
    -------
    corrupted : torch.Tensor
        A new tensor of the same layout; ``X`` itself when ``level`` is 0.

    See Also
    --------
    DenoisingLayer : Corrupts its input with this function in training.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import corrupt
    >>> _ = torch.manual_seed(0)
    >>> corrupt(torch.ones(2, 4), "masking", 0.5).sum() < 8
    tensor(True)
    """
    if level == 0:
        return X
    sparse = X.layout == torch.sparse_csr
    values = X.values() if sparse else X
    if kind == "masking":
        values = values * (torch.rand_like(values) >= level)
    elif kind == "salt_and_pepper":
        hit = torch.rand_like(values) < level
        salt = (torch.rand_like(values) < 0.5).to(values.dtype)
        values = torch.where(hit, salt, values)
    else:  # gaussian
        values = values + level * torch.randn_like(values)
    if not sparse:
        return values
    return torch.sparse_csr_tensor(
        X.crow_indices(), X.col_indices(), values, X.shape, check_invariants=False
    )


class DenoisingLayer(nn.Module):
    """One denoising autoencoder layer: a (sparse-capable) encoder, a decoder.

    ``forward(X)`` corrupts ``X`` (in training mode), encodes it, decodes and
    returns ``(loss, l1)``: the per-sample reconstruction loss against the clean
    ``X`` (summed over features) and the per-sample sum of ``|h|``.

    For a sparse ``X`` the reconstruction is *sampled*: the decoder computes
    only the features present in the batch plus as many features drawn at
    random from the others, whose loss is re-weighted so that the sum over
    features is estimated without bias. A step then costs
    O(batch x distinct features in the batch x units), not O(vocabulary).

    Parameters
    ----------
    n_features : int
        Input width.
    n_hidden : int
        Units of the code.
    activation : str, default="relu"
        Encoder activation.
    reconstruction : {"softplus_squared", "sigmoid_cross_entropy", \
            "linear_squared"}, default="linear_squared"
        Decoder output activation and per-entry loss.
    corruption : {"masking", "salt_and_pepper", "gaussian"}, default="masking"
        Input noise in training (see :func:`corrupt`).
    corruption_level : float, default=0.0
        Its level.
    tied_weights : bool, default=True
        Decode with the transposed encoder weight.
    target_scale, target_mean : torch.Tensor, default=None
        Per-feature affine map of the reconstruction target (used to scale
        targets into [0, 1] for the cross-entropy reconstruction).

    See Also
    --------
    sk_rectifier.DenoisingAutoencoderTransformer : The scikit-learn estimator
        that stacks these layers.
    corrupt : The input noise.

    Examples
    --------
    >>> import torch
    >>> from sk_rectifier.nn import DenoisingLayer
    >>> layer = DenoisingLayer(n_features=6, n_hidden=3, corruption_level=0.25)
    >>> loss, l1 = layer(torch.rand(4, 6))
    >>> loss.shape, l1.shape
    (torch.Size([4]), torch.Size([4]))
    """

    def __init__(
        self,
        n_features: int,
        n_hidden: int,
        activation: str = "relu",
        reconstruction: str = "linear_squared",
        corruption: str = "masking",
        corruption_level: float = 0.0,
        tied_weights: bool = True,
        target_scale=None,
        target_mean=None,
    ):
        super().__init__()
        self.input_layer = InputLayer(n_features, n_hidden)
        self.activation = ACTIVATIONS[activation]()
        self.reconstruction = reconstruction
        self.corruption = corruption
        self.corruption_level = corruption_level
        self.decoder_weight = (
            None if tied_weights else nn.Parameter(_zeros_table(n_features, n_hidden))
        )
        self.decoder_bias = nn.Parameter(torch.zeros(n_features))
        scale = torch.ones(n_features) if target_scale is None else target_scale
        self.register_buffer(
            "target_scale", torch.as_tensor(scale, dtype=torch.float32)
        )
        if target_mean is not None:
            # Start the output at the features' mean (in output space), so that
            # the many zeros of sparse input are reconstructed from the start.
            mean = torch.as_tensor(target_mean, dtype=torch.float32)
            mean = mean / self.target_scale
            if reconstruction == "sigmoid_cross_entropy":
                start = torch.logit(mean.clamp(1e-6, 1 - 1e-6))
            elif reconstruction == "softplus_squared":
                # inverse softplus; softplus(x) = x to float precision above 20
                mean = mean.clamp_min(1e-6)
                start = torch.where(
                    mean > 20, mean, torch.log(torch.expm1(mean.clamp_max(20)))
                )
            else:
                start = mean
            with torch.no_grad():
                self.decoder_bias.copy_(start)
        gain = INIT_GAIN[activation]
        nn.init.xavier_uniform_(self.input_layer.weight, gain=gain)
        if self.decoder_weight is not None:
            nn.init.xavier_uniform_(self.decoder_weight, gain=gain)
        self.batch_decoder_cols = None
        self.track_l1 = True  # False: forward returns zeros for the L1 term

    @property
    def _decoder(self):
        """Decoder weight, shape (n_features, n_hidden) (tied: the encoder's)."""
        tied = self.decoder_weight is None
        return self.input_layer.weight if tied else self.decoder_weight

    def encode(self, X):
        return self.activation(self.input_layer(X))

    def hidden(self, X):
        """``([h], h)``: the code, in the form the sparsity measures expect."""
        h = self.encode(X)
        return [h], h

    def decode(self, h):
        """Reconstruction in input space (after the output activation and
        undoing the target scaling), for all features."""
        z = F.linear(h, self._decoder, self.decoder_bias)
        if self.reconstruction == "softplus_squared":
            z = F.softplus(z)
        elif self.reconstruction == "sigmoid_cross_entropy":
            z = torch.sigmoid(z)
        return z * self.target_scale

    def _entry_loss(self, z, target):
        if self.reconstruction == "sigmoid_cross_entropy":
            return F.binary_cross_entropy_with_logits(
                z, target.clamp(0, 1), reduction="none"
            )
        if self.reconstruction == "softplus_squared":
            z = F.softplus(z)
        return (z - target) ** 2

    def forward(self, X):
        noisy = (
            corrupt(X, self.corruption, self.corruption_level) if self.training else X
        )
        h = self.encode(noisy)
        l1 = h.abs().sum(dim=1) if self.track_l1 else h.new_zeros(len(h))
        self.batch_decoder_cols = None
        if X.layout != torch.sparse_csr:
            z = torch.addmm(self.decoder_bias, h, self._decoder.T)
            return self._entry_loss(z, X / self.target_scale).sum(dim=1), l1
        n_rows, n_features = X.shape
        batch = _Transposed(X)  # the clean batch's distinct features
        present, inverse, rows = batch.cols, batch.inverse, batch.row_of
        draws = torch.randint(n_features, (len(present),), device=X.device)
        absent = draws[~torch.isin(draws, present)]
        cols = torch.cat([present, absent])
        weight = torch.ones(len(cols), device=X.device)
        if len(absent):
            weight[len(present) :] = (n_features - len(present)) / len(absent)
        target = h.new_zeros(n_rows, len(cols))
        target[rows, inverse] = X.values()
        decoder_rows = F.embedding(cols, self._decoder, sparse=True)
        if self.training and torch.is_grad_enabled():  # for the L2 penalty
            self.batch_decoder_cols = cols
        z = torch.addmm(self.decoder_bias[cols], h, decoder_rows.T)
        loss = self._entry_loss(z, target / self.target_scale[cols])
        return (loss * weight).sum(dim=1), l1

    def sparse_parameters(self):
        """Parameters whose gradient is sparse when the input is sparse."""
        tied = self.decoder_weight is None
        return [self.input_layer.weight] + ([] if tied else [self.decoder_weight])

    def release_batch(self):
        """Forget the rows kept from the last training batch."""
        self.input_layer.release_batch()
        self.batch_decoder_cols = None

    def squared_weight_norms(self):
        """``(rowwise, dense)`` as in :meth:`RectifierMLP.squared_weight_norms`:
        every weight here is updated row-wise, and decays on the rows of its
        gradient: after a sparse batch, the encoder's rows of the batch's
        features and the decoder's sampled rows, each once (tied weights: the
        sampled rows, which include the batch's features)."""
        encoder, decoder = self.input_layer.weight, self.decoder_weight
        if self.batch_decoder_cols is None:  # a dense batch: every row
            rowwise = _squared_norm([w for w in (encoder, decoder) if w is not None])
        else:
            cols = torch.unique(self.batch_decoder_cols)
            if decoder is None:
                rowwise = _squared_norm([encoder.detach()[cols]])
            else:
                decoded = _squared_norm([decoder.detach()[cols]])
                encoded = self.input_layer.batch_squared_norm()
                if encoded is None:  # (an encoder switched to eval alone)
                    encoded = _squared_norm([encoder])
                rowwise = encoded + decoded
        return rowwise, torch.zeros(())
