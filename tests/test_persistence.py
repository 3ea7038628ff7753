"""The safe format, tried as an attacker would: every altered or malformed
file raises UnsafeFileError naming the field, whether or not the attacker
recomputed the digest; nothing else ever escapes from ``load``."""

import json
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from sklearn.base import clone

import sk_rectifier._engine as engine
import sk_rectifier.persistence as persistence
from sk_rectifier import (
    DenoisingAutoencoderTransformer,
    RectifierMLPClassifier,
    RectifierMLPRegressor,
)
from sk_rectifier.persistence import DIGEST, FORMAT, UnsafeFileError, load, save

rng = np.random.RandomState(0)
X = rng.rand(60, 5)
Y = np.arange(60) % 3


def _fit(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "classifier":
            return RectifierMLPClassifier((8,), max_iter=3, random_state=0).fit(
                X, np.array(["a", "b", "c"])[Y]
            )
        if name == "pretrained":
            dae = DenoisingAutoencoderTransformer((8,), max_iter=2, random_state=0)
            return RectifierMLPClassifier(
                (8,), max_iter=3, pretraining=dae, random_state=0
            ).fit(X, Y)
        if name == "regressor":
            return RectifierMLPRegressor((8,), max_iter=3, random_state=0).fit(
                X, np.c_[Y, -Y].astype(float)
            )
        return DenoisingAutoencoderTransformer((8, 4), max_iter=3, random_state=0).fit(
            X
        )


MODELS = {
    name: _fit(name)
    for name in ("classifier", "pretrained", "regressor", "autoencoder")
}


def _output(est, X):
    return est.transform(X) if hasattr(est, "transform") else est.predict(X)


@pytest.fixture
def saved(tmp_path):
    def save_model(name, key=None):
        path = tmp_path / f"{name}.safetensors"
        save(MODELS[name], path, key=key)
        return path

    return save_model


def _read(path):
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    return metadata, load_file(str(path))


def _write(path, header, tensors, resign=True, digest=None, key=None):
    """Write ``header`` (a JSON-able object, or a string as is) and
    ``tensors``; ``resign`` recomputes the digest as an attacker who knows
    the format would (else ``digest`` is kept)."""
    text = header if isinstance(header, str) else json.dumps(header)
    if resign:
        digest = persistence._digest(text, tensors, key)
    save_file(tensors, str(path), metadata={FORMAT: text, DIGEST: digest})
    return path


def _first_weight(tensors):
    return next(k for k in sorted(tensors) if k.endswith("input_layer.weight"))


# (model, how the file is altered: fn(header, tensors) -> header or None,
#  whether the digest is recomputed, the message expected)
def _set(*path_and_value):
    *path, value = path_and_value

    def mutate(header, tensors):
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(*path):
    def mutate(header, tensors):
        target = header
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _tensor(fn):
    def mutate(header, tensors):
        key = _first_weight(tensors)
        tensors[key] = fn(tensors[key])

    return mutate


def _flip_byte(t):
    t = t.clone()
    t.view(-1).view(torch.uint8)[3] ^= 0x10
    return t


def _swap_classes(header, tensors):
    classes = header["estimator"]["attributes"]["classes_"]["ndarray"]
    classes[0], classes[1] = classes[1], classes[0]


ATTRS = ("estimator", "attributes")
PARAMS = ("estimator", "params")
CASES = {
    # --- any change without the digest recomputed
    "a weight's byte flipped": ("classifier", _tensor(_flip_byte), False, "digest"),
    "classes_ swapped": ("classifier", _swap_classes, False, "digest"),
    "activation edited": (
        "classifier",
        _set(*PARAMS, "activation", "tanh"),
        False,
        "digest",
    ),
    "a tensor added": (
        "classifier",
        lambda h, t: t.update(extra=torch.zeros(1)),
        False,
        "digest",
    ),
    # --- the same edits and more, digest recomputed: the schema refuses
    "classes_ swapped, re-signed": (
        "classifier",
        _swap_classes,
        True,
        "classes_: classes must be sorted",
    ),
    "batch_size = -5": (
        "classifier",
        _set(*PARAMS, "batch_size", -5),
        True,
        "'batch_size' parameter",
    ),
    "n_features_in_ = 'abc'": (
        "classifier",
        _set(*ATTRS, "n_features_in_", "abc"),
        True,
        "n_features_in_: expected an integer",
    ),
    "classes_ holding a dict": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": [{"a": 1}, "x"], "dtype": "|O"}),
        True,
        "classes_: expected a flat list",
    ),
    "classes_ an object array of numbers": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": [1, 2, 3], "dtype": "|O"}),
        True,
        "classes_: values of a object array",
    ),
    "classes_ duplicated": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": ["a", "a", "c"], "dtype": "<U1"}),
        True,
        "sorted and unique",
    ),
    "classes_ of one class": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": ["a"], "dtype": "<U1"}),
        True,
        "at least 2 classes",
    ),
    "classes_ of a datetime dtype": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": [1, 2, 3], "dtype": "<M8[s]"}),
        True,
        "not allowed",
    ),
    "classes_ of 4 labels for 3 outputs": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": ["a", "b", "c", "d"], "dtype": "<U1"}),
        True,
        r"network 0 tensor layers\.0\.\w+: \(3,.* give \(4,",
    ),
    "the header a JSON list": (
        "classifier",
        lambda h, t: "[1, 2]",
        True,
        "header: expected an object",
    ),
    "the header not JSON": (
        "classifier",
        lambda h, t: "{'a':",
        True,
        "header: not JSON",
    ),
    "params a list": (
        "classifier",
        _set("estimator", "params", [1, 2]),
        True,
        "params: expected an object",
    ),
    "a deeply nested array": (
        "classifier",
        lambda h, t: "[" * 100_000 + "]" * 100_000,
        True,
        "header: nested",
    ),
    "moderately nested lists": (
        "classifier",
        _set(*PARAMS, "tol", json.loads("[" * 12 + "]" * 12)),
        True,
        "nested deeper",
    ),
    "n_features_in_ = 10**13": (
        "classifier",
        _set(*ATTRS, "n_features_in_", 10**13),
        True,
        r"input_layer\.weight: \(5, 8\).* give \(10000000000000, 8\)",
    ),
    "hidden_layer_sizes edited": (
        "classifier",
        _set(*PARAMS, "hidden_layer_sizes", [9]),
        True,
        r"input_layer\.\w+: .* give \(9",
    ),
    "hidden_layer_sizes negative": (
        "classifier",
        _set(*PARAMS, "hidden_layer_sizes", [-9]),
        True,
        "hidden_layer_sizes",
    ),
    "a foreign class": (
        "classifier",
        _set("estimator", "class", "os.system"),
        True,
        "class: 'os.system' is not an sk_rectifier estimator",
    ),
    "a foreign class as pre-training": (
        "pretrained",
        _set(
            *PARAMS,
            "pretraining",
            {"estimator": {"class": "subprocess.Popen", "params": {}}},
        ),
        True,
        "pretraining.class",
    ),
    "a classifier as pre-training": (
        "pretrained",
        _set(
            *PARAMS,
            "pretraining",
            {"estimator": {"class": "RectifierMLPClassifier", "params": {}}},
        ),
        True,
        "'pretraining' parameter",
    ),
    "an unknown parameter": (
        "classifier",
        _set(*PARAMS, "__reduce__", "os.system"),
        True,
        r"params: unexpected \['__reduce__'\]",
    ),
    "an activation that is code": (
        "classifier",
        _set(*PARAMS, "activation", "__import__('os')"),
        True,
        "'activation' parameter",
    ),
    "a device that is not one": (
        "classifier",
        _set(*PARAMS, "device", "evil"),
        True,
        "'device' parameter",
    ),
    "an unknown attribute": (
        "classifier",
        _set(*ATTRS, "__class__", "x"),
        True,
        r"attributes: unexpected \['__class__'\]",
    ),
    "a missing attribute": (
        "classifier",
        _delete(*ATTRS, "n_iter_"),
        True,
        r"attributes: missing \['n_iter_'\]",
    ),
    "n_iter_ a boolean": (
        "classifier",
        _set(*ATTRS, "n_iter_", True),
        True,
        "n_iter_: expected an integer",
    ),
    "loss_curve_ shorter than n_iter_": (
        "classifier",
        _set(*ATTRS, "loss_curve_", [1.0]),
        True,
        "loss_curve_ has 1 values",
    ),
    "activation_sparsity_ above 1": (
        "classifier",
        _set(*ATTRS, "activation_sparsity_", {"ndarray": [1.5], "dtype": "<f8"}),
        True,
        "fractions must lie in",
    ),
    "activation_sparsity_ of another length": (
        "classifier",
        _set(*ATTRS, "activation_sparsity_", {"ndarray": [0.5, 0.5], "dtype": "<f8"}),
        True,
        "activation_sparsity_ has 2 values for 1 hidden layers",
    ),
    "feature_names_in_ of another length": (
        "classifier",
        _set(*ATTRS, "feature_names_in_", {"ndarray": ["a"], "dtype": "|O"}),
        True,
        "not one name per feature",
    ),
    "NaN in the header": (
        "classifier",
        lambda h, t: json.dumps(h).replace('"tol": 0.0001', '"tol": NaN'),
        True,
        "NaN is not allowed",
    ),
    "an overflowing number": (
        "classifier",
        lambda h, t: json.dumps(h).replace('"tol": 0.0001', '"tol": 1e999'),
        True,
        "1e999 is not allowed",
    ),
    "another format version": (
        "classifier",
        _set("version", 1),
        True,
        "header.version",
    ),
    "a tensor added, re-signed": (
        "classifier",
        lambda h, t: t.update(extra=torch.zeros(1)),
        True,
        r"unexpected tensors \['extra'\]",
    ),
    "a tensor removed": (
        "classifier",
        lambda h, t: [t.pop(_first_weight(t))] and None,
        True,
        r"missing tensors \['input_layer.weight'\]",
    ),
    "a network index with a gap": (
        "classifier",
        lambda h, t: t.update({k.replace("net0", "net1"): t.pop(k) for k in list(t)}),
        True,
        r"networks \[1\] stored",
    ),
    "float64 weights": (
        "classifier",
        _tensor(lambda w: w.double()),
        True,
        "torch.float64 stored",
    ),
    "NaN weights": (
        "classifier",
        _tensor(lambda w: w * float("nan")),
        True,
        "input_layer.weight: not finite",
    ),
    "n_outputs_ edited": (
        "regressor",
        _set(*ATTRS, "n_outputs_", 3),
        True,
        r"layers\.0\.\w+: \(2,.* give \(3",
    ),
    "an unknown reconstruction": (
        "autoencoder",
        _set(*ATTRS, "reconstruction_", ["linear_squared", "os.system"]),
        True,
        "reconstruction_ has unknown values",
    ),
    "a stored layer more than hidden_layer_sizes": (
        "autoencoder",
        _set(*PARAMS, "hidden_layer_sizes", [8]),
        True,
        "2 networks stored for 1 hidden layers",
    ),
    "corruption_level out of range": (
        "autoencoder",
        _set(*PARAMS, "corruption_level", 7.0),
        True,
        "corruption_level must be in",
    ),
    "out_activation_ logistic with string classes": (
        "classifier",
        _set(*ATTRS, "out_activation_", "logistic"),
        True,
        "out_activation_ 'logistic' is not one of",
    ),
    "out_activation_ exp for squared_error": (
        "regressor",
        _set(*ATTRS, "out_activation_", "exp"),
        True,
        "out_activation_ 'exp' is not one of",
    ),
    "n_layers_ edited": (
        "classifier",
        _set(*ATTRS, "n_layers_", 4),
        True,
        "n_layers_ = 4 for 1 hidden layers",
    ),
    "t_ negative": (
        "classifier",
        _set(*ATTRS, "t_", -1),
        True,
        "t_: expected an integer >= 0",
    ),
    "a string dtype wider than its values": (
        "classifier",
        _set(*ATTRS, "classes_", {"ndarray": ["a", "b", "c"], "dtype": "<U500000000"}),
        True,
        "wider than its values",
    ),
    "a million hidden layers": (
        "classifier",
        _set(*PARAMS, "hidden_layer_sizes", [1] * 10**6),
        True,
        "more than 256 layers",
    ),
    "callbacks from a file": (
        "classifier",
        _set(*PARAMS, "callbacks", ["x"]),
        True,
        "callbacks cannot come from a file",
    ),
    "pre-training of another width": (
        "pretrained",
        _set("estimator", "pretraining_", "attributes", "n_features_in_", 4),
        True,
        r"pretraining_ network 0 tensor",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_altered_file_is_refused_naming_the_field(case, saved, tmp_path):
    name, mutate, resign, match = CASES[case]
    metadata, tensors = _read(saved(name))
    header = json.loads(metadata[FORMAT])
    replaced = mutate(header, tensors)
    path = _write(
        tmp_path / "altered.safetensors",
        header if replaced is None else replaced,
        tensors,
        resign=resign,
        digest=metadata[DIGEST],
    )
    with pytest.raises(UnsafeFileError, match=match):
        load(path, device="cpu")


def test_the_adversarial_table_is_large():
    assert len(CASES) >= 50


def test_the_header_size_is_bounded(saved, monkeypatch):
    path = saved("classifier")
    monkeypatch.setattr(persistence, "MAX_HEADER_CHARS", 100)
    with pytest.raises(UnsafeFileError, match="header: .* characters, more than 100"):
        load(path)


def test_foreign_and_broken_files(saved, tmp_path):
    path = saved("classifier")
    broken = {
        "a pickle": pickle.dumps(MODELS["classifier"]),
        "truncated": path.read_bytes()[:-40],
        "empty": b"",
        "random bytes": np.random.RandomState(1).bytes(500),
    }
    for case, content in broken.items():
        target = tmp_path / f"{case}.safetensors"
        target.write_bytes(content)
        with pytest.raises(UnsafeFileError, match="not a readable safetensors"):
            load(target)
    plain = tmp_path / "plain.safetensors"
    save_file(_read(path)[1], str(plain))  # a model's tensors, no metadata
    with pytest.raises(UnsafeFileError, match="metadata: keys"):
        load(plain)
    metadata, tensors = _read(path)
    for extra in ({"x": "1"}, {DIGEST: "md5:abc"}):
        target = tmp_path / "extra.safetensors"
        save_file(tensors, str(target), metadata={**metadata, **extra})
        with pytest.raises(UnsafeFileError, match="metadata|unknown algorithm"):
            load(target)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.safetensors")


def test_a_signed_file_loads_only_with_its_key(saved, tmp_path):
    path = saved("classifier", key=b"k1")
    assert np.array_equal(
        load(path, key=b"k1").predict(X), MODELS["classifier"].predict(X)
    )
    assert np.array_equal(
        load(path, key="k1").predict(X), MODELS["classifier"].predict(X)
    )
    with pytest.raises(UnsafeFileError, match="signed with a key: pass key="):
        load(path)
    with pytest.raises(UnsafeFileError, match="does not match the key"):
        load(path, key=b"k2")
    # an attacker without the key cannot re-sign an edit
    metadata, tensors = _read(path)
    header = json.loads(metadata[FORMAT])
    _swap_classes(header, tensors)
    forged = _write(tmp_path / "forged.safetensors", header, tensors, key=b"guess")
    with pytest.raises(UnsafeFileError, match="does not match the key"):
        load(forged, key=b"k1")
    with pytest.raises(UnsafeFileError, match="not signed, but a key was given"):
        load(saved("regressor"), key=b"k1")
    with pytest.raises(TypeError, match="key"):
        save(MODELS["classifier"], tmp_path / "x.safetensors", key=b"")


def test_parameters_and_weights_cannot_disagree(saved, tmp_path):
    """Re-signed with another activation, the model computes with it: the
    architecture comes from the parameters, not from a separate record."""
    metadata, tensors = _read(saved("classifier"))
    header = json.loads(metadata[FORMAT])
    header["estimator"]["params"]["activation"] = "tanh"
    loaded = load(_write(tmp_path / "tanh.safetensors", header, tensors))
    assert loaded.get_params()["activation"] == "tanh"
    assert isinstance(engine.module(loaded.net_).activation, torch.nn.Tanh)


# -------------------------------------------------------- random mutations
def _json_values():
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(
                    ["ndarray", "dtype", "dict", "estimator", "class", "params", "x"]
                ),
                inner,
                max_size=3,
            ),
        ),
        max_leaves=8,
    )


def _paths(node, path=()):
    """The path of every node of a JSON document."""
    yield path
    items = (
        node.items()
        if isinstance(node, dict)
        else (enumerate(node) if isinstance(node, list) else ())
    )
    for key, child in items:
        yield from _paths(child, (*path, key))


def _mutate_header(draw, header):
    """Replace or delete one node of the header, drawn among all of them."""
    path = draw(st.sampled_from(list(_paths(header))))
    if not path:
        return draw(_json_values())
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(_json_values())
    return header


def _mutate_tensors(draw, tensors):
    name = draw(st.sampled_from(sorted(tensors)))
    flat = tensors[name].clone().view(-1).view(torch.uint8)
    index = draw(st.integers(0, flat.numel() - 1))
    flat[index] ^= draw(st.integers(1, 255))
    tensors[name] = flat.view(tensors[name].dtype).view(tensors[name].shape)


MUTATION_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("resign", [False, True], ids=["as-is", "re-signed"])
@pytest.mark.parametrize("name", list(MODELS))
@MUTATION_SETTINGS
@given(draw=st.data())
def test_random_mutations_load_an_equal_model_or_raise_unsafe_file_error(
    name, resign, draw, tmp_path_factory
):
    """Random edits of header fields and tensor bytes. As they are, each one
    either loads a model predicting as the original (an edit that changes
    nothing) or raises UnsafeFileError. Re-signed by an attacker, each one
    raises UnsafeFileError or loads a model that is whole: its parameters
    pass validation, and it predicts without error, within its classes."""
    path = tmp_path_factory.mktemp("m") / "model.safetensors"
    save(MODELS[name], path)
    metadata, tensors = _read(path)
    header = json.loads(metadata[FORMAT])
    if draw.draw(st.booleans(), label="edit the header"):
        header = _mutate_header(draw.draw, header)
    else:
        _mutate_tensors(draw.draw, tensors)
    _write(path, header, tensors, resign=resign, digest=metadata[DIGEST])
    try:
        loaded = load(path, device="cpu")
    except UnsafeFileError as exc:
        event(f"refused: {str(exc).split(': ')[1][:40]}")
        return
    event("loaded")
    if not resign:
        np.testing.assert_array_equal(_output(loaded, X), _output(MODELS[name], X))
        return
    loaded._check_parameters()
    width = loaded.n_features_in_
    sample = np.random.RandomState(0).rand(7, width)
    out = _output(loaded, sample)
    assert len(out) == 7
    if hasattr(loaded, "classes_"):
        assert set(out.tolist()) <= set(loaded.classes_.tolist())
    save(loaded, path)  # and it round-trips
    np.testing.assert_array_equal(_output(load(path), sample), out)


PARITY_MODELS = {
    "lbfgs": (RectifierMLPClassifier((8,), solver="lbfgs", max_iter=20), Y),
    "multi-label": (RectifierMLPClassifier((8,), max_iter=3), np.c_[Y == 0, Y == 2]),
    "poisson": (RectifierMLPRegressor((8,), loss="poisson", max_iter=3), Y * 1.0),
    "pruned": (RectifierMLPClassifier((8,), max_iter=3, activation_l1=0.1), Y),
}


@pytest.mark.parametrize("name", list(PARITY_MODELS))
def test_the_parity_models_round_trip(name, tmp_path):
    est, y = PARITY_MODELS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = clone(est).fit(X, y.astype(int) if y.dtype == bool else y)
    if name == "pruned":
        est = est.prune(X)
    path = tmp_path / "m.safetensors"
    save(est, path)
    loaded = load(path)
    np.testing.assert_array_equal(_output(loaded, X), _output(est, X))
    assert loaded.get_params() == est.get_params()


def test_callbacks_are_saved_as_none(tmp_path):
    from skorch.callbacks import LRScheduler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = RectifierMLPClassifier(
            (8,), max_iter=3, callbacks=[LRScheduler(policy="StepLR", step_size=1)]
        ).fit(X, Y)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_a_frozen_pretraining_round_trips_and_its_marker_is_checked(tmp_path):
    from sklearn.frozen import FrozenEstimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dae = DenoisingAutoencoderTransformer((8,), max_iter=2, random_state=0)
        dae.fit(X)
        clf = RectifierMLPClassifier(
            (8,), pretraining=FrozenEstimator(dae), freeze_pretrained=True, max_iter=2
        )
        clf.fit(X, Y)
        other = clone(clf).set_params(pretraining=FrozenEstimator(clone(dae).fit(X)))
    with pytest.raises(TypeError, match="FrozenEstimator"):  # not its pretraining_
        save(
            other.fit(X, Y).set_params(pretraining=FrozenEstimator(dae)), tmp_path / "o"
        )
    path = tmp_path / "m.safetensors"
    save(clf, path)
    loaded = load(path)
    assert isinstance(loaded.pretraining, FrozenEstimator)
    assert loaded.pretraining.estimator is loaded.pretraining_
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    # the marker without the fitted autoencoder it stands for is refused
    metadata, tensors = _read(path)
    header = json.loads(metadata[FORMAT])
    del header["estimator"]["pretraining_"]
    tensors = {k: v for k, v in tensors.items() if ".pretraining_." not in k}
    _write(path, header, tensors)
    with pytest.raises(UnsafeFileError, match="params.pretraining"):
        load(path)
