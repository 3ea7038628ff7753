"""DenoisingAutoencoderTransformer: stacked denoising autoencoders, greedy
layer-wise, with the rectifier-specific reconstructions of Glorot et al."""

import warnings
from numbers import Real
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sk_rectifier._base import BaseRectifierMLP, map_batches
from sk_rectifier._data import ArrayDataset
from sk_rectifier._modules import RECONSTRUCTIONS, DenoisingLayer

_SHARED = (
    "hidden_layer_sizes activation activation_l1 alpha solver learning_rate_init "
    "momentum nesterovs_momentum beta_1 beta_2 epsilon batch_size max_iter shuffle "
    "tol n_iter_no_change early_stopping validation_fraction random_state device "
    "verbose"
).split()

#: reconstruction="auto" for layers above the first, by the layer below's
#: activation (whose outputs are this layer's input).
_AUTO_BY_ACTIVATION = {
    "relu": "softplus_squared",
    "softplus": "softplus_squared",
    "logistic": "sigmoid_cross_entropy",
    "tanh": "linear_squared",
    "identity": "linear_squared",
}


class DenoisingAutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseRectifierMLP
):
    """Stacked denoising autoencoder of rectifier units, as a transformer.

    Layers are trained greedily (Vincent et al., 2008; adapted to rectifiers by
    Glorot, Bordes and Bengio, 2011): layer ``k`` learns to reconstruct the
    clean output of layer ``k - 1`` from a corrupted copy. ``transform``
    returns the top code. Sparse input (TF-IDF) is never densified.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(100,)
        Units of each encoder layer, bottom first.
    activation : {"relu", "softplus", "tanh", "logistic", "identity"}, \
            default="relu"
        Encoder activation.
    activation_l1 : float, default=0.0
        L1 penalty on the codes (batch mean of ``sum(|h|)``).
    alpha : float, default=0.0001
        L2 penalty on the weights, scaled as in
        :class:`~sk_rectifier.RectifierMLPClassifier` (lazy on sparse rows).
    corruption : {"masking", "salt_and_pepper", "gaussian"}, default="masking"
        Noise applied to each layer's input during training: zero a random
        fraction of the entries; set a random fraction to 0 or 1; or add
        Gaussian noise. On sparse input only the stored entries are corrupted.
    corruption_level : float or array-like of float, default=0.25
        Fraction of entries corrupted (masking, salt and pepper; in [0, 1]) or
        the noise's standard deviation (gaussian); one value per layer allowed.
    reconstruction : {"auto", "softplus_squared", "sigmoid_cross_entropy", \
            "linear_squared"}, default="auto"
        Decoder output and cost. ``"softplus_squared"``: softplus output,
        squared error (the paper's choice for rectifier codes on images);
        ``"sigmoid_cross_entropy"``: sigmoid output, cross-entropy against the
        target scaled into [0, 1] by its per-feature training maximum (the
        paper's choice on text); ``"linear_squared"``: linear output, squared
        error. ``"auto"``: for the first layer, sigmoid cross-entropy when the
        input lies in [0, 1] (TF-IDF, pixel intensities), else linear squared
        error; above it, by the activation below: softplus squared error for
        ``relu``/``softplus`` codes, sigmoid cross-entropy for ``logistic``,
        linear squared error for ``tanh``/``identity``.
    tied_weights : bool, default=True
        Decoder weight is the encoder's transpose.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer (see the classifier).
    learning_rate_init : float, default=0.001
        Learning rate.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"``.
    beta_1 : float, default=0.9
        Adam's first-moment decay.
    beta_2 : float, default=0.999
        Adam's second-moment decay.
    epsilon : float, default=1e-8
        Adam's stability constant.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=50
        Maximum epochs per layer.
    shuffle : bool, default=True
        Shuffle samples at each epoch.
    tol : float, default=1e-4
        Minimal improvement of the (training or validation) reconstruction loss.
    n_iter_no_change : int, default=10
        Epochs without improvement before a layer stops.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop each layer when its
        validation reconstruction loss stops improving and keep its best epoch.
    validation_fraction : float, default=0.1
        Fraction held out with ``early_stopping``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, corruption and sampling.
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    verbose : int, default=0
        0 silent, 1 a line per epoch, 2 adds a progress bar.

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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

    Notes
    -----
    If training is interrupted (KeyboardInterrupt), the layer being trained
    keeps the weights of its last completed epoch and the layers above it are
    not trained: the stack is shorter, ``transform`` returns the code of its top
    layer, and a warning says so.

    Cost with sparse input: the encoder costs O(non-zeros x units) per batch.
    The decoder reconstructs the batch's distinct features plus as many
    features sampled from the others (their loss re-weighted for an unbiased
    estimate of the full sum), so a step costs O(batch x distinct features x
    units) instead of O(batch x n_features x units). ``inverse_transform`` and
    ``score`` compute the full reconstruction, O(n_samples x n_features).

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
        **{k: BaseRectifierMLP._parameter_constraints[k] for k in _SHARED},
        "corruption": [StrOptions({"masking", "salt_and_pepper", "gaussian"})],
        "corruption_level": [Interval(Real, 0, None, closed="left"), "array-like"],
        "reconstruction": [StrOptions({"auto", *RECONSTRUCTIONS})],
        "tied_weights": ["boolean"],
    }
    _module = DenoisingLayer
    _criterion = torch.nn.MSELoss  # unused: the module returns its own losses
    _early_stopping_score = None  # early stopping on the validation loss

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
        solver: str = "adam",
        learning_rate_init: float = 0.001,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        max_iter: int = 50,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        verbose: int = 0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_l1 = activation_l1
        self.alpha = alpha
        self.corruption = corruption
        self.corruption_level = corruption_level
        self.reconstruction = reconstruction
        self.tied_weights = tied_weights
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ---------------------------------------------------------------- fit
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
        X = self._validate_input(X, reset=True)
        sizes = self._hidden_sizes()
        levels = self._corruption_levels(len(sizes))
        nets, reconstructions, sparsity = [], [], []
        codes = X
        for k, size in enumerate(sizes):
            reconstruction = self._layer_reconstruction(k, codes)
            module_kwargs = {
                "n_features": codes.shape[1],
                "n_hidden": size,
                "activation": self.activation,
                "reconstruction": reconstruction,
                "corruption": self.corruption,
                "corruption_level": levels[k],
                "tied_weights": self.tied_weights,
                "target_scale": self._target_scale(codes, reconstruction),
                "target_mean": np.asarray(codes.mean(axis=0)).ravel(),
            }
            net = self._fit_net(
                codes,
                None,
                None,
                module_kwargs=module_kwargs,
                net=None,
                incremental=False,
                stratify=None,
                seed=self._next_seed(k == 0),
            )
            codes = _encode(net, codes)
            sparsity.append(float(np.mean(codes == 0)))
            nets.append(net)
            reconstructions.append(reconstruction)
            if net.interrupted_ and k + 1 < len(sizes):
                warnings.warn(
                    f"Training was interrupted in layer {k + 1}: the stack keeps "
                    f"its first {k + 1} of {len(sizes)} layers; fit again to train "
                    "them all.",
                    UserWarning,
                    stacklevel=3,
                )
                break
        self.nets_ = nets
        self.device_ = str(nets[0].device)
        self.reconstruction_ = reconstructions
        self.n_iter_per_layer_ = [len(net.history) for net in nets]
        self.n_iter_ = sum(self.n_iter_per_layer_)
        self.reconstruction_loss_curve_ = [
            [float(v) for v in net.history[:, "train_loss"]] for net in nets
        ]
        self.activation_sparsity_ = np.array(sparsity)
        return self

    # ----------------------------------------------------------- transform
    def _codes(self, X, n_layers=None):
        check_is_fitted(self, "nets_")
        codes = self._validate_input(X, reset=False)
        for net in self.nets_[:n_layers]:
            codes = _encode(net, codes)
        return codes

    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X`` through every layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        codes : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The top layer's code (float32).
        """
        return self._codes(X)

    def hidden_activations(self, X: Any, layer: int = -1) -> np.ndarray:
        """Code of one layer for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        layer : int, default=-1
            Layer index, ``0`` for the first, ``-1`` for the top.

        Returns
        -------
        codes : ndarray of shape (n_samples, hidden_layer_sizes[layer])
            That layer's code.
        """
        check_is_fitted(self, "nets_")
        n_layers = len(self.nets_)
        if not isinstance(layer, int) or not -n_layers <= layer < n_layers:
            raise ValueError(
                f"layer must be an integer in [{-n_layers}, {n_layers - 1}], "
                f"got {layer!r}."
            )
        return self._codes(X, n_layers=layer % n_layers + 1)

    def _hidden_layers(self, X):
        """The code of every layer for ``X``, encoding once."""
        check_is_fitted(self, "nets_")
        codes, layers = self._validate_input(X, reset=False), []
        for net in self.nets_:
            codes = _encode(net, codes)
            layers.append(codes)
        return layers

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode top-layer codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, hidden_layer_sizes[-1])
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features_in_)
            Reconstruction (dense float32), through every layer's decoder.
        """
        check_is_fitted(self, "nets_")
        codes = self._check_codes(X)
        for net in reversed(self.nets_):
            out = map_batches(net, ArrayDataset(codes), lambda m, h: m.decode(h).cpu())
            codes = torch.cat(out).numpy()
        return codes

    def _check_codes(self, X):
        codes = check_array(X, dtype=np.float32)
        expected = self.nets_[-1].module__n_hidden
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
        check_is_fitted(self, "nets_")
        X = self._validate_input(X, reset=False)
        total = 0.0
        for start in range(0, X.shape[0], 256):
            chunk = X[start : start + 256]
            rec = self.inverse_transform(self._codes(chunk))
            dense = chunk.toarray() if sp.issparse(chunk) else chunk
            total += float(((dense - rec) ** 2).sum())
        return -total / (X.shape[0] * X.shape[1])

    @property
    def _n_features_out(self):
        return self.nets_[-1].module__n_hidden

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Encoder weights, ``coefs_[k]`` of shape (n_in, n_out)."""
        check_is_fitted(self, "nets_")
        return [_numpy(net.module_.input_layer.weight) for net in self.nets_]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Encoder biases, ``intercepts_[k]`` of shape (n_out,)."""
        check_is_fitted(self, "nets_")
        return [_numpy(net.module_.input_layer.bias) for net in self.nets_]


def _numpy(tensor):
    return tensor.detach().cpu().numpy().copy()


def _encode(net, codes):
    """Clean codes of one trained layer for float32 ``codes`` (dense or CSR)."""
    out = map_batches(net, ArrayDataset(codes), lambda m, X: m.encode(X).cpu())
    return torch.cat(out).numpy()
