"""DenoisingAutoencoderTransformer: stacked denoising autoencoders, greedy
layer-wise, with the rectifier-specific reconstructions of Glorot et al."""

from numbers import Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from sk_rectifier import _engine as engine
from sk_rectifier._compat import Interval, StrOptions, _fit_context
from sk_rectifier._docstrings import fill_parameters
from sk_rectifier._mixin import TorchEstimatorMixin, arguments_of, check_layer, warn
from sk_rectifier.nn import RECONSTRUCTIONS, DenoisingLayer

#: reconstruction="auto" for layers above the first, by the layer below's
#: activation (whose outputs are this layer's input).
_AUTO_BY_ACTIVATION = {
    "relu": "softplus_squared",
    "softplus": "softplus_squared",
    "logistic": "sigmoid_cross_entropy",
    "tanh": "linear_squared",
    "identity": "linear_squared",
}


@fill_parameters(
    layers_note=", bottom first",
    per_layer=" (per layer)",
    score="reconstruction loss",
)
class DenoisingAutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    TorchEstimatorMixin,
    BaseEstimator,
):
    """Stacked denoising autoencoder of rectifier units, as a transformer.

    Layers are trained greedily (Vincent et al., 2008; adapted to rectifiers by
    Glorot, Bordes and Bengio, 2011): layer ``k`` learns to reconstruct the
    clean output of layer ``k - 1`` from a corrupted copy. ``transform``
    returns the top code. Sparse input (TF-IDF) is never densified.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input feature names, when ``X`` has string column names.
    coefs_ : list of ndarray
        Encoder weights; ``coefs_[k]`` has shape (n_in, n_out) of layer k.
    intercepts_ : list of ndarray
        Encoder biases.
    reconstruction_ : list of str
        Reconstruction strategy used by each layer (``"auto"`` resolved).
    reconstruction_loss_curve_ : list of list of float
        Training reconstruction loss (penalties included) at each epoch, per
        layer.
    n_iter_ : int
        Epochs run, all layers together.
    n_iter_per_layer_ : list of int
        Epochs run by each layer.
    activation_sparsity_ : ndarray of shape (n_layers,)
        Fraction of exact zeros of each layer's code on the training data.
    device_ : str
        The device the networks live on.
    pruned_units_ : list of int
        Units each layer lost (on an autoencoder returned by :meth:`prune`
        only).

    Notes
    -----
    If training is interrupted (KeyboardInterrupt), the layer being trained
    keeps the weights of its last completed epoch (it is dropped if it
    completed none) and the layers above it are not trained: the stack is
    shorter, ``transform`` returns the code of its top layer, and a warning
    says so. If the first layer completed no epoch, or the interrupt comes
    outside training (input validation, encoding between layers), the
    ``KeyboardInterrupt`` propagates and the estimator is left as it was.

    Cost with sparse input: the encoder costs O(non-zeros x units) per batch.
    The decoder reconstructs the batch's distinct features plus as many
    features sampled from the others (their loss re-weighted for an unbiased
    estimate of the full sum), so a step costs O(batch x distinct features x
    units) instead of O(batch x n_features x units). ``inverse_transform`` and
    ``score`` compute the full reconstruction, O(n_samples x n_features).

    See Also
    --------
    RectifierMLPClassifier : Uses a fitted or unfitted autoencoder as
        ``pretraining``.
    sklearn.decomposition.TruncatedSVD : A linear unsupervised reduction of
        sparse text features.
    sk_rectifier.inspection.activation_sparsity : Exact zeros of the code.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_rectifier import DenoisingAutoencoderTransformer
    >>> X = load_digits().data / 16.0
    >>> dae = DenoisingAutoencoderTransformer(hidden_layer_sizes=(64, 32),
    ...                                       max_iter=5, random_state=0)
    >>> dae.fit_transform(X).shape
    (1797, 32)
    >>> dae.reconstruction_
    ['sigmoid_cross_entropy', 'softplus_squared']
    >>> dae.inverse_transform(dae.transform(X[:3])).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        **TorchEstimatorMixin._parameter_constraints,
        "corruption": [StrOptions({"masking", "salt_and_pepper", "gaussian"})],
        "corruption_level": [Interval(Real, 0, None, closed="left"), "array-like"],
        "reconstruction": [StrOptions({"auto", *RECONSTRUCTIONS})],
        "tied_weights": ["boolean"],
        "sparse_output": ["boolean"],
    }
    _module = DenoisingLayer
    _saved_attributes = {
        **TorchEstimatorMixin._saved_attributes,
        "n_iter_per_layer_": "counts",
        "reconstruction_": "strings",
        "reconstruction_loss_curve_": "lists of reals",
        "activation_sparsity_": "fractions",
    }

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (100,),
        *,
        activation: str = "relu",
        activation_l1: float = 0.0,
        alpha: float = 0.0001,
        corruption: str = "masking",
        corruption_level: float | tuple[float, ...] = 0.25,
        reconstruction: str = "auto",
        tied_weights: bool = True,
        sparse_output: bool = False,
        solver: str = "adam",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        max_iter: int = 20,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 3,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        n_threads: int | None = None,
        callbacks: list | None = None,
        precision: str = "float32",
        verbose: int = 0,
    ):
        super().__init__(**arguments_of(TorchEstimatorMixin, locals()))
        self.corruption = corruption
        self.corruption_level = corruption_level
        self.reconstruction = reconstruction
        self.tied_weights = tied_weights
        self.sparse_output = sparse_output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ---------------------------------------------------------------- fit
    def _layer_kwargs(self, n_features, n_hidden, reconstruction, level):
        return {
            "n_features": n_features,
            "n_hidden": n_hidden,
            "activation": self.activation,
            "reconstruction": reconstruction,
            "corruption": self.corruption,
            "corruption_level": level,
            "tied_weights": self.tied_weights,
        }

    def _check_parameters(self):
        super()._check_parameters()
        self._corruption_levels(len(self._hidden_sizes()))

    def _architectures(self, n_networks):
        sizes = self._hidden_sizes()
        if not 1 <= n_networks <= len(sizes):
            raise ValueError(
                f"{n_networks} networks stored for {len(sizes)} hidden layers"
            )
        per_layer = (
            "n_iter_per_layer_",
            "reconstruction_",
            "reconstruction_loss_curve_",
            "activation_sparsity_",
        )
        for name in per_layer:
            if len(getattr(self, name)) != n_networks:
                raise ValueError(f"{name} has not one value per stored layer")
        unknown = set(self.reconstruction_) - set(RECONSTRUCTIONS)
        if unknown:
            raise ValueError(f"reconstruction_ has unknown values {sorted(unknown)}")
        if self.n_iter_ != sum(self.n_iter_per_layer_):
            raise ValueError("n_iter_ is not the sum of n_iter_per_layer_")
        levels = self._corruption_levels(len(sizes))
        inputs = [self.n_features_in_, *sizes]
        return [
            self._layer_kwargs(inputs[k], sizes[k], self.reconstruction_[k], levels[k])
            for k in range(n_networks)
        ]

    def _corruption_levels(self, n_layers):
        levels = np.atleast_1d(np.asarray(self.corruption_level, dtype=float))
        if levels.ndim != 1 or len(levels) not in (1, n_layers):
            raise ValueError(
                "corruption_level must be a float or one value per layer "
                f"({n_layers}), got {self.corruption_level!r}."
            )
        bounded = self.corruption in ("masking", "salt_and_pepper")
        if np.any(levels < 0) or (bounded and np.any(levels > 1)):
            limit = "[0, 1]" if bounded else "[0, inf)"
            raise ValueError(
                f"corruption_level must be in {limit} for corruption="
                f"{self.corruption!r}, got {self.corruption_level!r}."
            )
        return np.broadcast_to(levels, (n_layers,)).tolist()

    def _layer_reconstruction(self, k, codes):
        if self.reconstruction != "auto":
            return self.reconstruction
        if k > 0:
            return _AUTO_BY_ACTIVATION[self.activation]
        values = codes.data if sp.issparse(codes) else codes
        in_unit = values.size == 0 or (values.min() >= 0 and values.max() <= 1)
        return "sigmoid_cross_entropy" if in_unit else "linear_squared"

    @staticmethod
    def _target_scale(codes, reconstruction):
        """Per-feature divisor that brings cross-entropy targets into [0, 1]."""
        if reconstruction != "sigmoid_cross_entropy":
            return None
        peak = codes.max(axis=0)
        peak = peak.toarray().ravel() if sp.issparse(peak) else np.asarray(peak)
        if peak.max(initial=0) <= 1:
            return None
        return np.maximum(peak, 1e-12).astype(np.float32)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "DenoisingAutoencoderTransformer":
        """Train the layers greedily, bottom first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are used as CSR, never densified.
        y : None
            Ignored.

        Returns
        -------
        self : DenoisingAutoencoderTransformer
            The fitted transformer.
        """
        return self._atomically(self._fit, X)

    def _fit(self, X):
        X = self._validate_X(X, reset=True)
        sizes = self._hidden_sizes()
        levels = self._corruption_levels(len(sizes))
        nets, reconstructions, sparsity = [], [], []
        codes = X
        for k, size in enumerate(sizes):
            reconstruction = self._layer_reconstruction(k, codes)
            module_kwargs = {
                **self._layer_kwargs(codes.shape[1], size, reconstruction, levels[k]),
                "target_scale": self._target_scale(codes, reconstruction),
                "target_mean": np.asarray(codes.mean(axis=0)).ravel(),
            }
            net, result = self._train_net(
                None,
                (self._module, module_kwargs, None),
                codes,
                incremental=False,
                seed=self._next_seed(k == 0),
            )
            where = f" in layer {k + 1}" if len(sizes) > 1 else ""
            interrupted = result.event == "interrupted"
            if interrupted and result.epochs == 0:
                if k == 0:
                    self._report(result, where=where)  # raises: nothing kept
                break  # this layer learnt nothing: the stack ends below it
            if not interrupted or k + 1 == len(sizes):
                self._report(result, where=where)
            codes = self._forward(net, codes, _encoder)
            sparsity.append(float(np.mean(codes == 0)))
            nets.append(net)
            reconstructions.append(reconstruction)
            if interrupted:
                break
        if len(nets) < len(sizes):
            warn(
                f"Training was interrupted in layer {k + 1}: the stack keeps its "
                f"first {len(nets)} of {len(sizes)} layers; fit again to train "
                "them all."
            )
        self.nets_ = nets
        self.device_ = engine.device(nets[0])
        self.reconstruction_ = reconstructions
        curves = [engine.curves(net)["train_loss"] for net in nets]
        self.n_iter_per_layer_ = [len(curve) for curve in curves]
        self.n_iter_ = sum(self.n_iter_per_layer_)
        self.reconstruction_loss_curve_ = [[float(v) for v in c] for c in curves]
        self.activation_sparsity_ = np.array(sparsity)
        return self

    def _networks(self):
        return list(self.nets_)

    def _set_networks(self, nets):
        self.nets_ = list(nets)

    # ----------------------------------------------------------- transform
    def _all_layers_fn(self, n_layers=None):
        """``fn(module, batch)`` encoding a batch through the stack (its
        first ``n_layers`` layers), returning every layer's code."""
        modules = [engine.module(net) for net in self.nets_[:n_layers]]
        for module in modules:
            module.train(False)

        def encode(first, batch):
            codes = []
            for module in modules:
                batch = module.encode(batch)
                codes.append(batch)
            return codes

        return encode

    def _zero_fractions(self, X):
        """Fraction of exact zeros of each layer's code on validated ``X``,
        counted batch by batch."""
        zeros = np.zeros(len(self.nets_))

        def count(codes):
            zeros[:] += [np.count_nonzero(c == 0) for c in codes]

        self._forward(self.nets_[0], X, self._all_layers_fn(), collect=count)
        sizes = self._hidden_sizes()[: len(self.nets_)]
        return zeros / (X.shape[0] * np.asarray(sizes, dtype=float))

    def _prune_states(self, states, keeps):
        """Each layer without its dead units (encoder columns, bias, untied
        decoder columns) and, above the first, without the inputs that were
        the dead units of the layer below (encoder and decoder rows, decoder
        bias, target scale)."""
        pruned = []
        for k, (state, keep) in enumerate(zip(states, keeps)):
            state = dict(state)
            for key in ("input_layer.weight", "decoder_weight"):
                if key in state:
                    state[key] = state[key][:, keep]
                    if k:
                        state[key] = state[key][keeps[k - 1]]
            state["input_layer.bias"] = state["input_layer.bias"][keep]
            for key in ("decoder_bias", "target_scale") if k else ():
                state[key] = state[key][keeps[k - 1]]
            pruned.append(state)
        return pruned

    def _encode_sparse(self, X, n_layers):
        """The code of layer ``n_layers`` as CSR, each batch encoded through
        the stack and stored sparse at once (no dense code of all of X)."""
        encode = self._all_layers_fn(n_layers)
        return self._forward_sparse(self.nets_[0], X, lambda m, b: encode(m, b)[-1])

    def _encode(self, X, n_layers=None):
        """The code of each of the first ``n_layers`` layers (all when None)
        for validated ``X``, encoding once."""
        layers = []
        for net in self.nets_[:n_layers]:
            X = self._forward(net, X, _encoder)
            layers.append(X)
        return layers

    def transform(self, X: Any) -> np.ndarray | sp.csr_matrix:
        """Encode ``X`` through every layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        codes : ndarray or csr_matrix of shape (n_samples, hidden_layer_sizes[-1])
            The top layer's code (float32); a CSR matrix built batch by batch
            with ``sparse_output=True``.
        """
        X = self._checked_X(X)
        if self.sparse_output:
            return self._encode_sparse(X, len(self.nets_))
        return self._encode(X)[-1]

    def hidden_activations(
        self, X: Any, layer: int = -1, sparse_output: bool = False
    ) -> np.ndarray | sp.csr_matrix:
        """Code of one layer for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        layer : int, default=-1
            Layer index, ``0`` for the first, ``-1`` for the top.
        sparse_output : bool, default=False
            Return a CSR matrix built batch by batch (see the
            ``sparse_output`` parameter).

        Returns
        -------
        codes : ndarray or csr_matrix of shape (n_samples, hidden_layer_sizes[layer])
            That layer's code.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_rectifier import DenoisingAutoencoderTransformer
        >>> X = np.random.RandomState(0).rand(30, 6)
        >>> dae = DenoisingAutoencoderTransformer((4, 2), max_iter=2, random_state=0)
        >>> dae.fit(X).hidden_activations(X, layer=0).shape
        (30, 4)
        """
        X = self._checked_X(X)
        n_layers = check_layer(layer, len(self.nets_)) + 1
        if sparse_output:
            return self._encode_sparse(X, n_layers)
        return self._encode(X, n_layers=n_layers)[-1]

    def _hidden_layers(self, X):
        """The code of every layer for ``X``, encoding once."""
        return self._encode(self._checked_X(X))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode top-layer codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, hidden_layer_sizes[-1])
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, `n_features_in_`)
            Reconstruction (dense float32), through every layer's decoder.
        """
        check_is_fitted(self)
        return self._decode(self._check_codes(X))

    def _decode(self, codes):
        for net in reversed(self.nets_):
            codes = self._forward(net, codes, _decoder)
        return codes

    def _check_codes(self, X):
        codes = check_array(X, dtype=np.float32, accept_sparse="csr")
        if sp.issparse(codes):  # a sparse_output code: the decoder is dense
            codes = codes.toarray()
        expected = self._n_features_out
        if codes.shape[1] != expected:
            raise ValueError(
                f"X has {codes.shape[1]} features, but inverse_transform expects "
                f"codes of the top layer, with {expected} features."
            )
        return np.array(codes, dtype=np.float32, order="C")

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error (higher is better).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, reconstructed through the whole stack.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-mean((X - inverse_transform(transform(X))) ** 2)``.
        """
        X = self._checked_X(X)
        total = 0.0
        for start in range(0, X.shape[0], 256):
            chunk = X[start : start + 256]
            rec = self._decode(self._encode(chunk)[-1])
            dense = chunk.toarray() if sp.issparse(chunk) else chunk
            total += float(np.square(np.subtract(dense, rec, dtype=np.float64)).sum())
        return -total / (X.shape[0] * X.shape[1])

    @property
    def _n_features_out(self):
        return engine.module_kwargs(self.nets_[-1])["n_hidden"]

    def _layer_parameters(self, name):
        check_is_fitted(self, "nets_")
        return [
            getattr(engine.module(net).input_layer, name).detach().cpu().numpy().copy()
            for net in self.nets_
        ]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Encoder weights, ``coefs_[k]`` of shape (n_in, n_out)."""
        return self._layer_parameters("weight")

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Encoder biases, ``intercepts_[k]`` of shape (n_out,)."""
        return self._layer_parameters("bias")


def _encoder(module, X):
    return module.encode(X)


def _decoder(module, h):
    return module.decode(h)
