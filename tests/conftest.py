import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

from sk_rectifier.datasets import ENV_VAR


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """Tests see an idle machine: the automatic thread count (which follows
    the load of other processes, and changes float32 sums at ~1e-7) is then
    the same in every run, so that tests comparing fits bitwise do not
    depend on what else the machine is doing. Tests of the load rule patch
    the reading themselves."""
    import sk_rectifier._mixin

    monkeypatch.setattr(sk_rectifier._mixin, "_others_running", lambda: 0)


@pytest.fixture(scope="session")
def data_home():
    """The shared corpora folder, from $SK_RECTIFIER_DATA.

    Tests that need it are skipped when it is not set, except on CI, where a
    missing corpus is an error.
    """
    folder = os.environ.get(ENV_VAR)
    if folder is None or not (Path(folder) / "mr").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{ENV_VAR} must point at the shared data on CI: {folder!r}")
        pytest.skip(f"set {ENV_VAR} to the shared data folder to run this test")
    return Path(folder).resolve()


@pytest.fixture(scope="session")
def blobs():
    """A small, well-separated 3-class problem (dense, no zeros)."""
    X, y = make_classification(
        n_samples=240,
        n_features=12,
        n_informative=6,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="session")
def tiny_text():
    """A small synthetic two-class corpus for pipeline tests."""
    rng = np.random.RandomState(0)
    good = ["great", "fine", "superb", "moving", "funny", "warm", "clever"]
    bad = ["dull", "awful", "boring", "flat", "weak", "tedious", "bland"]
    neutral = ["film", "plot", "actor", "scene", "story", "the", "a", "movie"]
    docs, labels = [], []
    for i in range(300):
        label = i % 2
        words = list(rng.choice(neutral, 6)) + list(rng.choice([bad, good][label], 2))
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(["neg", "pos"][label])
    return docs, np.array(labels)


@pytest.fixture
def table_cache(monkeypatch):
    """Every table (first-layer weights, row-wise moments, snapshots) in
    huge-page memory, and an empty cache of freed ones: the cache list."""
    import torch

    import sk_rectifier.nn.optim as optim

    monkeypatch.setattr(optim, "HUGE_TABLE", 1)
    monkeypatch.setattr(optim, "_CACHED", [])
    monkeypatch.setattr(optim, "_CACHED_BYTES", [0])
    if optim._huge_table((8,), torch.uint8) is None:
        pytest.skip("no memory advised for huge pages here (Linux, THP)")
    optim.empty_cache()  # (the probe's)
    return optim._CACHED


@pytest.fixture
def forbid_densify(monkeypatch):
    """Make densifying a SciPy CSR matrix an error for the test's duration."""

    def refuse(*args, **kwargs):
        raise AssertionError("a sparse matrix was densified")

    for cls in (sp.csr_matrix, sp.csr_array):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)


@pytest.fixture
def fresh_python():
    """``run(script, *args)``: run a Python script in a fresh interpreter and
    return the words of its standard output (a failing script fails the test,
    showing its standard error)."""

    def run(script, *args):
        argv = [sys.executable, "-c", script, *map(str, args)]
        done = subprocess.run(argv, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.split()

    return run
