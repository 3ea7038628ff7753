"""Save and load fitted estimators without pickle.

:func:`save` writes one ``.safetensors`` file: the networks' weights as
tensors, and the estimator's parameters and fitted attributes as JSON in the
file's metadata. :func:`load` reads it back without executing any code from
the file: only the estimator classes of this package can be built, every
parameter goes through the estimator's own validation, and the weights must
match the architecture exactly. Use it to share models or keep them for a long
time; use pickle/joblib for short-lived copies between trusted processes (they
also keep the optimizer state and training history, which this format does
not: a loaded model predicts identically, and fitting it again with
``warm_start=True`` continues from its weights with a fresh optimizer).
"""

import hashlib
import inspect
import json
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from sk_rectifier._mixin import resolve_device

FORMAT = "sk_rectifier"
FORMAT_VERSION = 1


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
    """The file is not a valid sk_rectifier model (foreign or tampered)."""


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
        return {"estimator": _describe(value, None)[0]}
    raise TypeError(
        f"{what} = {value!r} cannot be saved in the safe format (only numbers, "
        "strings, booleans, arrays and lists of them); use pickle instead."
    )


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "ndarray" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biufUO":
            raise UnsafeFileError(f"array dtype {dtype} is not allowed")
        return np.array(_from_json(value["ndarray"]), dtype=dtype)
    if "dict" in value:
        return {_hashable(k): _from_json(v) for k, v in value["dict"]}
    if "estimator" in value:
        return _build(value["estimator"], {}, "")
    raise UnsafeFileError(f"unexpected value {value!r}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _describe(estimator, tensors, prefix=""):
    """JSON description of ``estimator``; its weights go into ``tensors``."""
    name = type(estimator).__name__
    if name not in _classes():
        raise TypeError(f"cannot save a {name}: not an sk_rectifier estimator")
    params = estimator.get_params(deep=False)
    if not isinstance(params.get("random_state"), (Integral, type(None))):
        params["random_state"] = None  # a RandomState instance is not saved
    description = {
        "class": name,
        "params": {k: _to_json(v, k) for k, v in params.items()},
    }
    try:
        check_is_fitted(estimator)
    except Exception:
        return description, tensors
    if tensors is None:  # a nested estimator given as a parameter
        return description, tensors
    attrs = {}
    for attr in estimator._saved_attributes:
        if hasattr(estimator, attr):
            attrs[attr] = _to_json(getattr(estimator, attr), attr)
    description["attributes"] = attrs
    description["nets"] = []
    for i, (module_kwargs, state) in enumerate(estimator._export_networks()):
        for key, tensor in state.items():
            tensors[f"{prefix}net{i}.{key}"] = tensor.detach().cpu().contiguous()
        kwargs = {k: _to_json(v, k) for k, v in module_kwargs.items()}
        description["nets"].append({"module_kwargs": kwargs})
    if getattr(estimator, "pretraining_", None) is not None:
        nested, _ = _describe(estimator.pretraining_, tensors, prefix + "pretraining_.")
        description["pretraining_"] = nested
    return description, tensors


def save(estimator, path) -> None:
    """Save a fitted estimator to ``path`` in the safe format (safetensors).

    Parameters
    ----------
    estimator : RectifierMLPClassifier, RectifierMLPRegressor or \
            DenoisingAutoencoderTransformer
        A fitted estimator.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``).

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
    """
    from safetensors.torch import save_file

    check_is_fitted(estimator)
    description, tensors = _describe(estimator, {})
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "estimator": description,
        "sha256": _digest(tensors),
    }
    save_file(tensors, str(path), metadata={FORMAT: json.dumps(header)})


def load(path, device: str = "auto"):
    """Load an estimator written by :func:`save`, executing no code from it.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default="auto"
        Where to put the networks (``"auto"``: CUDA when available).

    Returns
    -------
    estimator : RectifierMLPClassifier, RectifierMLPRegressor or \
            DenoisingAutoencoderTransformer
        The fitted estimator.

    Raises
    ------
    UnsafeFileError
        If the file is not an sk_rectifier model, or was altered.

    Examples
    --------
    >>> from sk_rectifier.persistence import load
    >>> model = load("model.safetensors", device="cpu")  # doctest: +SKIP
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise UnsafeFileError(
            f"{path} is not a readable safetensors file: {exc}"
        ) from None
    try:
        header = json.loads(metadata[FORMAT])
        if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
            raise UnsafeFileError(f"unsupported format {header.get('format')!r}")
        if header.get("sha256") != _digest(tensors):
            raise UnsafeFileError("the weights do not match their checksum")
        return _build(header["estimator"], tensors, "", resolve_device(device))
    except UnsafeFileError as exc:
        raise UnsafeFileError(
            f"{path} is not a valid sk_rectifier model: {exc}"
        ) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise UnsafeFileError(
            f"{path} is not a valid sk_rectifier model (foreign or altered): "
            f"{type(exc).__name__}: {exc}"
        ) from None


def _digest(tensors):
    """SHA-256 over the tensors' names, shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}|".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _build(description, tensors, prefix, device="cpu"):
    classes = _classes()
    name = description["class"]
    if name not in classes:
        raise UnsafeFileError(f"class {name!r} is not an sk_rectifier estimator")
    cls = classes[name]
    params = {k: _from_json(v) for k, v in description["params"].items()}
    if "hidden_layer_sizes" in params and isinstance(
        params["hidden_layer_sizes"], list
    ):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    unknown = set(params) - set(inspect.signature(cls).parameters)
    if unknown:
        raise UnsafeFileError(f"unknown parameters {sorted(unknown)} for {name}")
    estimator = cls(**params)
    estimator._validate_params()
    if "nets" not in description:
        return estimator
    for attr, value in description["attributes"].items():
        if attr not in cls._saved_attributes:
            raise UnsafeFileError(f"unexpected attribute {attr!r}")
        setattr(estimator, attr, _from_json(value))
    if "pretraining_" in description:
        estimator.pretraining_ = _build(
            description["pretraining_"], tensors, prefix + "pretraining_.", device
        )
    networks = []
    for i, spec in enumerate(description["nets"]):
        kwargs = {k: _from_json(v) for k, v in spec["module_kwargs"].items()}
        allowed = set(inspect.signature(cls._module).parameters)
        if not set(kwargs) <= allowed:
            raise UnsafeFileError(f"unexpected module arguments {sorted(kwargs)}")
        if "hidden_layer_sizes" in kwargs:
            kwargs["hidden_layer_sizes"] = tuple(kwargs["hidden_layer_sizes"])
        for key in ("target_scale", "target_mean"):
            if kwargs.get(key) is not None:
                kwargs[key] = np.asarray(kwargs[key], dtype=np.float32)
        state = {
            key[len(f"{prefix}net{i}.") :]: tensor
            for key, tensor in tensors.items()
            if key.startswith(f"{prefix}net{i}.")
        }
        networks.append((kwargs, state))
    estimator._import_networks(networks, device)
    return estimator
