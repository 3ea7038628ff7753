"""Save and load fitted estimators without pickle.

:func:`save` writes one ``.safetensors`` file: the networks' weights as
tensors, and the estimator's parameters and fitted attributes as JSON in the
file's metadata. :func:`load` reads it back without executing any code from
the file. Use it to share models or keep them for a long time; use
pickle/joblib for short-lived copies between trusted processes (they also keep
the optimizer state and training history, which this format does not: a
loaded model predicts identically, and fitting it again with
``warm_start=True`` continues from its weights with a fresh optimizer).

What :func:`load` guarantees
----------------------------
* **Integrity.** One SHA-256 digest covers the whole model: the JSON header
  byte for byte and every tensor's name, shape, dtype and bytes. A file
  changed anywhere after :func:`save` (a flipped bit, an edited header, a
  truncation) raises :class:`UnsafeFileError`.
* **Authenticity only with a key.** Anyone who can edit the file can also
  recompute a plain digest. Pass the same secret ``key`` to :func:`save` and
  :func:`load` to use HMAC-SHA256 instead: then only holders of the key can
  produce a file that loads.
* **A strict schema, whatever the digest.** Even a file with a valid digest
  must describe a model this package could have fitted: only its three
  estimator classes, every parameter through the estimator's own validation,
  each fitted attribute of its expected type and consistent with the others
  (``classes_`` sorted, unique, of a non-object dtype or plain strings;
  ``n_features_in_`` matching the stored weights), the architecture derived
  from the parameters and attributes (never stored separately, so parameters
  and weights cannot disagree) and compared with the stored tensor shapes
  before the network is allocated (the tensors themselves are read first:
  safetensors checks them against the file's size), finite weights, string
  dtypes no wider than their values, a bounded header size, nesting depth and
  number of layers. Nothing from the file is executed or imported; parameters
  that hold objects (``callbacks``) are saved as None.
* **One error type.** Every refusal is an :class:`UnsafeFileError` whose
  message names the offending field; a missing file stays
  :class:`FileNotFoundError` (and a path that cannot be read at all, a
  directory or a file without permission, the ``OSError`` it is).

It does not guarantee that a model is *good*: a file signed with your key, or
written by someone you trust, may still hold a poorly trained model.
"""

import hashlib
import hmac
import inspect
import json
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from sk_rectifier._mixin import resolve_device

FORMAT = "sk_rectifier"
FORMAT_VERSION = 2
DIGEST = "sk_rectifier.digest"
MAX_HEADER_CHARS = 32 * 2**20  # the JSON header (feature names included)
MAX_DEPTH = 10  # JSON nesting (a nested estimator's array parameter: 8)
MAX_NETWORKS = 64
MAX_LAYERS = 256  # hidden layers of a network described by a file


def _classes():
    from sk_rectifier import (
        DenoisingAutoencoderTransformer,
        RectifierMLPClassifier,
        RectifierMLPRegressor,
    )

    return {
        cls.__name__: cls
        for cls in (
            RectifierMLPClassifier,
            RectifierMLPRegressor,
            DenoisingAutoencoderTransformer,
        )
    }


class UnsafeFileError(ValueError):
    """The file is not a valid sk_rectifier model (foreign, altered, or
    signed with another key).

    Raised by :func:`load`, with a message naming the refused field.

    See Also
    --------
    load : Loads a model saved by :func:`save`, checking it first.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sk_rectifier.persistence import UnsafeFileError, load
    >>> path = Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> _ = path.write_bytes(b"not a model")
    >>> try:
    ...     load(path)
    ... except UnsafeFileError as exc:
    ...     print("refused")
    refused
    """


def _fail(field, message):
    raise UnsafeFileError(f"{field}: {message}")


# ----------------------------------------------------------------- writing
def _to_json(value, what):
    """A JSON-able form of a parameter or attribute value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, np.ndarray):
        return {"ndarray": _to_json(value.tolist(), what), "dtype": value.dtype.str}
    if isinstance(value, (list, tuple)):
        return [_to_json(v, what) for v in value]
    if isinstance(value, dict):
        return {
            "dict": [[_to_json(k, what), _to_json(v, what)] for k, v in value.items()]
        }
    if isinstance(value, BaseEstimator):
        return {"estimator": _describe(value, None)}
    raise TypeError(
        f"{what} = {value!r} cannot be saved in the safe format (only numbers, "
        "strings, booleans, arrays and lists of them); use pickle instead."
    )


def _describe(estimator, tensors, prefix=""):
    """JSON description of ``estimator``; its weights go into ``tensors``
    (None: a parameter, described by its parameters only)."""
    name = type(estimator).__name__
    if name not in _classes():
        raise TypeError(f"cannot save a {name}: not an sk_rectifier estimator")
    params = estimator.get_params(deep=False)
    if not isinstance(params.get("random_state"), (Integral, type(None))):
        params["random_state"] = None  # a RandomState instance is not saved
    if params.get("callbacks"):
        params["callbacks"] = None  # training-time objects: not saved
    if isinstance(params.get("pretraining"), FrozenEstimator):
        # saved as the fitted pretraining_ it wraps, and wrapped again on load
        if tensors is None or params["pretraining"].estimator is not getattr(
            estimator, "pretraining_", None
        ):
            raise TypeError(
                "a FrozenEstimator pretraining is saved only with the fitted "
                "model whose pretraining_ it holds; use pickle instead."
            )
        params["pretraining"] = None
        frozen = {"pretraining": {"frozen": True}}  # the JSON marker
    else:
        frozen = {}
    description = {
        "class": name,
        "params": {k: _to_json(v, k) for k, v in params.items()} | frozen,
    }
    if tensors is None:
        return description
    description["attributes"] = {
        attr: _to_json(getattr(estimator, attr), attr)
        for attr in estimator._saved_attributes
        if hasattr(estimator, attr)
    }
    for i, state in enumerate(estimator._export_networks()):
        for key, tensor in state.items():
            tensors[f"{prefix}net{i}.{key}"] = tensor.detach().cpu().contiguous()
    if getattr(estimator, "pretraining_", None) is not None:
        description["pretraining_"] = _describe(
            estimator.pretraining_, tensors, prefix + "pretraining_."
        )
    return description


def _digest(header, tensors, key):
    """``algorithm:hex`` over the header's bytes and every tensor's name,
    shape, dtype and bytes (HMAC-SHA256 with ``key``, else SHA-256)."""
    if key is None:
        algorithm, digest = "sha256", hashlib.sha256()
    else:
        algorithm, digest = "hmac-sha256", hmac.new(_key_bytes(key), None, "sha256")
    data = header.encode()
    digest.update(f"{FORMAT}/{FORMAT_VERSION}|{len(data)}|".encode())
    digest.update(data)
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"|{name}|{tuple(tensor.shape)}|{tensor.dtype}|".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy())
    return f"{algorithm}:{digest.hexdigest()}"


def _key_bytes(key):
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise TypeError("key must be a non-empty bytes or str")
    return key


def save(estimator, path, *, key: bytes | str | None = None) -> None:
    """Save a fitted estimator to ``path`` in the safe format (safetensors).

    Parameters
    ----------
    estimator : RectifierMLPClassifier, RectifierMLPRegressor or \
            DenoisingAutoencoderTransformer
        A fitted estimator.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``).
    key : bytes or str, default=None
        A secret: the file is then signed with HMAC-SHA256 and only loads
        with the same key (authenticity). Without it, a SHA-256 digest
        detects any change to the file (integrity), but not a forger who
        recomputes it.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_rectifier import RectifierMLPClassifier
    >>> from sk_rectifier.persistence import save, load
    >>> X, y = np.random.RandomState(0).rand(40, 3), np.arange(40) % 2
    >>> clf = RectifierMLPClassifier(max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save(clf, path)
    >>> np.array_equal(load(path).predict_proba(X), clf.predict_proba(X))
    True
    >>> save(clf, path, key=b"our team's secret")
    >>> signed = load(path, key=b"our team's secret")
    >>> np.array_equal(signed.predict(X), clf.predict(X))
    True
    """
    from safetensors.torch import save_file

    check_is_fitted(estimator)
    tensors = {}
    description = _describe(estimator, tensors)
    header = json.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "estimator": description},
        allow_nan=False,
    )
    metadata = {FORMAT: header, DIGEST: _digest(header, tensors, key)}
    save_file(tensors, str(path), metadata=metadata)


# ----------------------------------------------------------------- reading
def load(path, device: str = "auto", *, key: bytes | str | None = None):
    """Load an estimator written by :func:`save`, executing no code from it.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default="auto"
        Where to put the networks (``"auto"``: CUDA when available).
    key : bytes or str, default=None
        The secret the file was signed with, if it was (see :func:`save`).
        A signed file does not load without its key, nor an unsigned one
        with a key.

    Returns
    -------
    estimator : RectifierMLPClassifier, RectifierMLPRegressor or \
            DenoisingAutoencoderTransformer
        The fitted estimator.

    Raises
    ------
    UnsafeFileError
        If the file is not an sk_rectifier model, was altered, or was signed
        with another key; the message names the field.
    FileNotFoundError
        If there is no file at ``path``.

    See Also
    --------
    save : Write a fitted estimator.

    Examples
    --------
    >>> from sk_rectifier.persistence import load
    >>> model = load("model.safetensors", device="cpu")  # doctest: +SKIP
    """
    path = Path(path)
    device = resolve_device(device)
    if key is not None:
        _key_bytes(key)
    try:
        return _load(path, device, key)
    except (UnsafeFileError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # whatever else the file provoked: one error type
        raise UnsafeFileError(
            f"{path} is not a valid sk_rectifier model ({type(exc).__name__}: {exc})"
        ) from None


def _load(path, device, key):
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, ValueError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise UnsafeFileError(
            f"{path} is not a readable safetensors file: {exc}"
        ) from None
    try:
        if set(metadata) != {FORMAT, DIGEST}:
            _fail("metadata", f"keys {sorted(metadata)[:4]}: not an sk_rectifier model")
        header = metadata[FORMAT]
        if len(header) > MAX_HEADER_CHARS:
            _fail("header", f"{len(header)} characters, more than {MAX_HEADER_CHARS}")
        _check_digest(metadata[DIGEST], header, tensors, key)
        document = _parse(header)
        _expect_keys(document, "header", {"format", "version", "estimator"})
        if document["format"] != FORMAT or document["version"] != FORMAT_VERSION:
            _fail(
                "header.version",
                f"format {document['format']!r} version {document['version']!r}; "
                f"this version of sk_rectifier reads {FORMAT!r} {FORMAT_VERSION}",
            )
        used = set()
        estimator = _build(document["estimator"], tensors, "", device, used)
        extra = sorted(set(tensors) - used)
        if extra:
            _fail("tensors", f"unexpected tensors {extra[:5]}")
        return estimator
    except UnsafeFileError as exc:
        raise UnsafeFileError(
            f"{path} is not a valid sk_rectifier model: {exc}"
        ) from None


def _check_digest(stored, header, tensors, key):
    if not isinstance(stored, str) or ":" not in stored:
        _fail("digest", "missing or malformed")
    algorithm = stored.partition(":")[0]
    expected = "sha256" if key is None else "hmac-sha256"
    if algorithm != expected:
        if algorithm == "hmac-sha256":
            _fail("digest", "the file is signed with a key: pass key= to load it")
        if algorithm == "sha256":
            _fail("digest", "the file is not signed, but a key was given")
        _fail("digest", f"unknown algorithm {algorithm!r}")
    if not hmac.compare_digest(stored, _digest(header, tensors, key)):
        what = "the key or the file's content" if key is not None else "the content"
        _fail("digest", f"does not match {what}: the file was altered")


def _reject_constant(name):
    raise UnsafeFileError(f"header: {name} is not allowed")


def _finite_float(text):
    value = float(text)
    if not np.isfinite(value):
        _reject_constant(text)
    return value


def _parse(header):
    try:
        document = json.loads(
            header, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except RecursionError:
        _fail("header", "nested too deeply")
    except json.JSONDecodeError as exc:
        _fail("header", f"not JSON ({exc})")
    stack = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            _fail("header", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return document


def _expect_keys(value, field, required, optional=()):
    if not isinstance(value, dict):
        _fail(field, f"expected an object, got {type(value).__name__}")
    missing = set(required) - set(value)
    unknown = set(value) - set(required) - set(optional)
    if missing:
        _fail(field, f"missing {sorted(missing)}")
    if unknown:
        _fail(field, f"unexpected {sorted(unknown)[:5]}")


# -------------------------------------------------------- values, by kind
def _is_scalar(value):
    return value is None or isinstance(value, (bool, int, float, str))


def _array(value, field, kinds):
    """A 1-D array from ``{"ndarray": [...], "dtype": ...}`` whose dtype kind
    is in ``kinds`` (``"O"``: plain strings only)."""
    _expect_keys(value, field, {"ndarray", "dtype"})
    items, dtype = value["ndarray"], value["dtype"]
    if not isinstance(items, list) or not all(map(_is_scalar, items)):
        _fail(field, "expected a flat list of numbers or strings")
    if not isinstance(dtype, str) or len(dtype) > 16:
        _fail(field, f"dtype {dtype!r}")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        _fail(field, f"dtype {value['dtype']!r} is not a NumPy dtype")
    if dtype.kind not in kinds:
        _fail(field, f"dtype {dtype} is not allowed here")
    if dtype.kind == "b":
        expected = bool
    elif dtype.kind in "UO":
        expected = str
    else:
        expected = (int, float)
    if not all(
        isinstance(v, expected) and (expected is bool or not isinstance(v, bool))
        for v in items
    ):
        _fail(field, f"values of a {dtype} array must all be {dtype.kind}-typed")
    if dtype.kind == "U":  # as wide as its longest value: never wider
        width = max((len(v) for v in items), default=1)
        if dtype.itemsize > 4 * max(width, 1):
            _fail(field, f"dtype {dtype} is wider than its values")
    try:
        array = np.array(items, dtype=dtype)
    except (OverflowError, ValueError) as exc:
        _fail(field, str(exc))
    if array.tolist() != items:
        _fail(field, f"values do not fit dtype {dtype}")
    return array


def _number(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(field, f"expected a number, got {value!r:.40}")
    return value


def _count(value, field, least=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        _fail(field, f"expected an integer >= {least}, got {value!r:.40}")
    return value


def _list(value, field, item):
    if not isinstance(value, list):
        _fail(field, f"expected a list, got {type(value).__name__}")
    return [item(v, f"{field}[{i}]") for i, v in enumerate(value)]


def _labels(value, field):
    labels = _array(value, field, "biufUO")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        _fail(field, "labels must be finite")
    if len(labels) < 2:
        _fail(field, "a classifier has at least 2 classes")
    if not (labels[1:] > labels[:-1]).all():
        _fail(field, "classes must be sorted and unique")
    return labels


def _fractions(value, field):
    values = _array(value, field, "f")
    if not ((values >= 0) & (values <= 1)).all():
        _fail(field, "fractions must lie in [0, 1]")
    return values


ATTRIBUTE_KINDS = {
    "count": _count,
    "positive": lambda v, f: _count(v, f, 1),
    "counts": lambda v, f: _list(v, f, _count),
    "names": lambda v, f: _array(v, f, "UO"),
    "labels": _labels,
    "fractions": _fractions,
    "reals": lambda v, f: _list(v, f, _number),
    "real or None": lambda v, f: None if v is None else _number(v, f),
    "reals or None": lambda v, f: None if v is None else _list(v, f, _number),
    "lists of reals": lambda v, f: _list(v, f, lambda w, g: _list(w, g, _number)),
    "string": lambda v, f: v if isinstance(v, str) else _fail(f, "not a string"),
    "strings": lambda v, f: _list(
        v, f, lambda w, g: w if isinstance(w, str) else _fail(g, "not a string")
    ),
}


def _parameter(value, field, name):
    """A parameter's value: a scalar, a flat list or numeric array, a dict of
    scalars (class_weight), or an estimator's description."""
    if _is_scalar(value):
        return value
    if isinstance(value, list):
        if not all(map(_is_scalar, value)):
            _fail(field, "expected a flat list")
        return tuple(value) if name == "hidden_layer_sizes" else value
    if isinstance(value, dict) and "ndarray" in value:
        return _array(value, field, "biuf")
    if isinstance(value, dict) and "dict" in value:
        _expect_keys(value, field, {"dict"})
        pairs = value["dict"]
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(map(_is_scalar, p))
            for p in pairs
        ):
            _fail(field, "expected a list of [key, value] scalar pairs")
        return dict(map(tuple, pairs))
    if isinstance(value, dict) and "estimator" in value:
        _expect_keys(value, field, {"estimator"})
        return _build(value["estimator"], None, "", "cpu", set(), field)
    _fail(field, f"unexpected value {str(value)[:60]}")


# ---------------------------------------------------------------- building
def _build(description, tensors, prefix, device, used, field="estimator"):
    """The estimator ``description`` describes; its networks' tensors (named
    ``{prefix}net{i}.*``) are checked and marked in ``used``. With
    ``tensors=None`` (an estimator given as a parameter) it stays unfitted."""
    fitted = tensors is not None
    required = {"class", "params", "attributes"} if fitted else {"class", "params"}
    _expect_keys(description, field, required, {"pretraining_"} if fitted else ())
    classes = _classes()
    name = description["class"]
    if not isinstance(name, str) or name not in classes:
        _fail(f"{field}.class", f"{str(name)[:60]!r} is not an sk_rectifier estimator")
    cls = classes[name]
    params = description["params"]
    allowed = set(inspect.signature(cls).parameters)
    _expect_keys(params, f"{field}.params", (), allowed)
    frozen = params.get("pretraining") == {"frozen": True}  # see _describe
    if frozen:
        params = {**params, "pretraining": None}
    values = {k: _parameter(v, f"{field}.params.{k}", k) for k, v in params.items()}
    estimator = cls(**values)
    try:
        estimator._check_parameters()
    except (ValueError, TypeError) as exc:  # InvalidParameterError included
        _fail(f"{field}.params", str(exc))
    if len(estimator._hidden_sizes()) > MAX_LAYERS:
        _fail(f"{field}.params.hidden_layer_sizes", f"more than {MAX_LAYERS} layers")
    if values.get("callbacks"):  # objects: a file holds none (see _describe)
        _fail(f"{field}.params.callbacks", "callbacks cannot come from a file")
    if not fitted:
        return estimator

    attributes = description["attributes"]
    kinds = cls._saved_attributes
    _expect_keys(
        attributes,
        f"{field}.attributes",
        set(kinds) - {"feature_names_in_"},
        {"feature_names_in_"},
    )
    for attr, value in attributes.items():
        setattr(
            estimator,
            attr,
            ATTRIBUTE_KINDS[kinds[attr]](value, f"{field}.attributes.{attr}"),
        )
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) != estimator.n_features_in_:
        _fail(f"{field}.attributes.feature_names_in_", "not one name per feature")

    if "pretraining_" in description:
        nested = _build(
            description["pretraining_"],
            tensors,
            prefix + "pretraining_.",
            device,
            used,
            f"{field}.pretraining_",
        )
        if not hasattr(nested, "nets_"):
            _fail(f"{field}.pretraining_", "not an autoencoder")
        if nested.n_features_in_ != estimator.n_features_in_:
            _fail(f"{field}.pretraining_", "fitted on another number of features")
        estimator.pretraining_ = nested
        if frozen:
            estimator.pretraining = FrozenEstimator(nested)
    elif frozen:
        _fail(f"{field}.params.pretraining", "frozen, but no pretraining_ stored")

    states = _stored_networks(tensors, prefix, f"{field} tensors")
    try:
        architectures = estimator._architectures(len(states))
    except (ValueError, TypeError, AttributeError) as exc:
        _fail(f"{field}.attributes", str(exc))
    networks = []
    for i, (kwargs, state) in enumerate(zip(architectures, states)):
        _check_tensors(cls._module, kwargs, state, f"{field} network {i}")
        used.update(f"{prefix}net{i}.{key}" for key in state)
        networks.append((kwargs, state))
    estimator._import_networks(networks, device)
    return estimator


def _stored_networks(tensors, prefix, field):
    """``[state_dict, ...]`` of the tensors named ``{prefix}net{i}.{key}``,
    for i = 0, 1, ... with no gap."""
    states = {}
    head = prefix + "net"
    for name, tensor in tensors.items():
        if not name.startswith(head):
            continue
        index, _, key = name[len(head) :].partition(".")
        if not (index.isdigit() and index == str(int(index)) and key):
            _fail(field, f"unexpected tensor {name[:80]!r}")
        if int(index) >= MAX_NETWORKS:
            _fail(field, f"more than {MAX_NETWORKS} networks")
        states.setdefault(int(index), {})[key] = tensor
    if sorted(states) != list(range(len(states))):
        _fail(field, f"networks {sorted(states)} stored: not 0, 1, ... in order")
    return [states[i] for i in range(len(states))]


def _check_tensors(module_class, kwargs, state, field):
    """The stored tensors are exactly the module's: names, shapes and dtypes
    (compared on PyTorch's meta device, which allocates nothing), finite."""
    with torch.device("meta"):
        expected = module_class(**kwargs).state_dict()
    missing, extra = set(expected) - set(state), set(state) - set(expected)
    if missing or extra:
        _fail(field, f"missing tensors {sorted(missing)}, unexpected {sorted(extra)}")
    for key, tensor in state.items():
        want = expected[key]
        if tensor.shape != want.shape or tensor.dtype != want.dtype:
            _fail(
                f"{field} tensor {key}",
                f"{tuple(tensor.shape)} {tensor.dtype} stored, the parameters and "
                f"attributes give {tuple(want.shape)} {want.dtype}",
            )
        if not torch.isfinite(tensor).all():
            _fail(f"{field} tensor {key}", "not finite")
