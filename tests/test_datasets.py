import gzip

import numpy as np
import pytest

from sk_rectifier import datasets


def test_load_mr(data_home):
    mr = datasets.load_mr(data_home)
    assert len(mr.data) == len(mr.target) == 10662
    assert mr.target.sum() == 5331
    assert all(isinstance(doc, str) and doc for doc in mr.data[:10])


def test_load_sst2(data_home):
    sst = datasets.load_sst2(data_home)
    sizes = {split: len(sst[split].data) for split in ("train", "dev", "test")}
    assert sizes == {"train": 6920, "dev": 872, "test": 1821}
    assert set(np.unique(sst.test.target)) == {0, 1}


def test_env_var_is_the_default(data_home, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(data_home))
    assert len(datasets.load_mr().data) == 10662


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="rt-polarity.pos"):
        datasets.load_mr(tmp_path)
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="data_home"):
        datasets.load_sst2()


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_load_fashion_mnist_reads_idx(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        _write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.randint(0, 256, (n, 28, 28))
        )
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    fm = datasets.load_fashion_mnist(tmp_path)
    assert fm.train.data.shape == (6, 784) and fm.test.data.shape == (4, 784)
    assert fm.train.data.dtype == np.float32 and fm.train.data.max() <= 1.0
    np.testing.assert_array_equal(fm.test.target, [0, 1, 2, 3])


def test_load_fashion_mnist_rejects_foreign_file(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.load_fashion_mnist(tmp_path)
