"""Loaders for the real corpora used in examples, tests and benchmarks.

Each loader reads the original file format from ``data_home``; when
``data_home`` is None it falls back to the ``SK_RECTIFIER_DATA`` environment
variable. Nothing is downloaded and no default location is assumed.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

ENV_VAR = "SK_RECTIFIER_DATA"


def get_data_home(data_home=None) -> Path:
    """Return the data folder: ``data_home``, else ``$SK_RECTIFIER_DATA``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the corpora (``mr/``, ``sst2/``, ...).

    Returns
    -------
    data_home : pathlib.Path
        The folder.

    Examples
    --------
    >>> from sk_rectifier.datasets import get_data_home
    >>> get_data_home("/tmp/corpora")
    PosixPath('/tmp/corpora')
    """
    data_home = data_home if data_home is not None else os.environ.get(ENV_VAR)
    if data_home is None:
        raise ValueError(
            "No data folder given: pass data_home=... or set the "
            f"{ENV_VAR} environment variable to the folder holding the corpora."
        )
    return Path(data_home).expanduser()


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} not found: expected the file {path}. Pass data_home= (or set "
            f"{ENV_VAR}) to the folder that holds it."
        )
    return path


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="latin-1") as f:
        return [line.strip() for line in f if line.strip()]


def load_mr(data_home=None) -> Bunch:
    """Load the Movie Review sentence-polarity corpus v1.0 (Pang and Lee, 2005).

    10,662 lower-cased, tokenized review snippets, half positive, read from
    ``<data_home>/mr/rt-polarity.pos`` and ``rt-polarity.neg`` (latin-1). There
    is no fixed split: the standard protocol is 10-fold cross-validation.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``mr/``; defaults to ``$SK_RECTIFIER_DATA``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (list of str), ``target`` (ndarray of int, 1 = positive),
        ``target_names`` and ``DESCR``.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_mr
    >>> mr = load_mr("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: MR positive snippets not found ...
    """
    folder = get_data_home(data_home) / "mr"
    pos = _read_lines(_require(folder / "rt-polarity.pos", "MR positive snippets"))
    neg = _read_lines(_require(folder / "rt-polarity.neg", "MR negative snippets"))
    return Bunch(
        data=pos + neg,
        target=np.r_[np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)],
        target_names=np.array(["negative", "positive"]),
        DESCR="Movie Review sentence polarity v1.0 (Pang and Lee, ACL 2005).",
    )


def load_sst2(data_home=None) -> Bunch:
    """Load the binary Stanford Sentiment Treebank, sentence level (SST-2).

    Reads ``<data_home>/sst2/stsa.binary.{train,dev,test}``: one ``LABEL TEXT``
    sentence per line, 1 = positive.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``sst2/``; defaults to ``$SK_RECTIFIER_DATA``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train``, ``dev`` and ``test`` Bunches, each with ``data`` (list of
        str) and ``target`` (ndarray of int); plus ``target_names``.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_sst2
    >>> sst = load_sst2("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: SST-2 train split not found ...
    """
    folder = get_data_home(data_home) / "sst2"
    splits = {}
    for split in ("train", "dev", "test"):
        path = _require(folder / f"stsa.binary.{split}", f"SST-2 {split} split")
        labels, texts = zip(*(line.split(" ", 1) for line in _read_lines(path)))
        splits[split] = Bunch(data=list(texts), target=np.array(labels, dtype=int))
    return Bunch(
        **splits,
        target_names=np.array(["negative", "positive"]),
        DESCR="Stanford Sentiment Treebank, binary sentence level (Socher et al.).",
    )


#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes into an ndarray."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(
            f"{path} is truncated: expected {shape}, got {data.size} bytes."
        )
    return data.reshape(shape)


def load_fashion_mnist(data_home=None) -> Bunch:
    """Load Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) from IDX files.

    Looks in ``<data_home>/fashion-mnist/`` and, when ``data_home`` is None
    and ``$SK_RECTIFIER_DATA`` is unset, in ``/usr/share/datasets/fashion-mnist``
    where Debian's ``dataset-fashion-mnist`` package installs it. Files may be
    gzipped (``train-images-idx3-ubyte.gz``) or not.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``fashion-mnist/``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train`` (60,000 images) and ``test`` (10,000) Bunches with ``data``
        (float32 in [0, 1], shape (n, 784)) and ``target`` (int labels 0-9);
        plus ``target_names``.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_fashion_mnist
    >>> fm = load_fashion_mnist("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: Fashion-MNIST train images not found ...
    """
    if data_home is None and os.environ.get(ENV_VAR) is None:
        folder = FASHION_MNIST_DEBIAN
    else:
        folder = get_data_home(data_home) / "fashion-mnist"

    def find(stem, what):
        for name in (f"{stem}.gz", stem):
            if (folder / name).is_file():
                return folder / name
        hint = " (apt-get install dataset-fashion-mnist)" if data_home is None else ""
        return _require(folder / f"{stem}.gz", what + hint)

    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _read_idx(
            find(f"{prefix}-images-idx3-ubyte", f"Fashion-MNIST {split} images")
        )
        labels = _read_idx(
            find(f"{prefix}-labels-idx1-ubyte", f"Fashion-MNIST {split} labels")
        )
        splits[split] = Bunch(
            data=images.reshape(len(images), -1).astype(np.float32) / 255.0,
            target=labels.astype(int),
        )
    return Bunch(
        **splits,
        target_names=np.array(
            [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ]
        ),
        DESCR="Fashion-MNIST: 28x28 grey images of 10 kinds of clothing.",
    )
