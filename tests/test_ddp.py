"""One model on several processes: ``strategy="ddp"`` under torchrun with the
gloo backend on the loopback interface (CPU), dense and sparse input. Both
ranks end with the same weights, those of a one-process fit on the same
global batches; rank 0's pickle predicts in a plain process."""

import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sk_rectifier import RectifierMLPClassifier

pytest.importorskip("accelerate")

SCRIPT = textwrap.dedent(
    """
    import os, pickle, sys, warnings
    import numpy as np, scipy.sparse as sp, torch.distributed as dist
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[3])
    from test_ddp import data, params
    from accelerate import PartialState
    from sk_rectifier import RectifierMLPClassifier
    PartialState(cpu=sys.argv[4] == "cpu")  # the group, before any fit
    for mode in sys.argv[2].split(","):
        X, y = data(mode != "dense")
        kw = {**params(mode), "device": sys.argv[4]}
        clf = RectifierMLPClassifier(strategy="ddp", **kw).fit(X, y)
        rank = dist.get_rank()
        np.savez(f"{sys.argv[1]}/{mode}{rank}.npz", *clf.coefs_, *clf.intercepts_,
                 loss=np.array(clf.loss_curve_))
        if rank == 0:
            with open(f"{sys.argv[1]}/{mode}.pkl", "wb") as f:
                pickle.dump(clf, f)
    def threads(when):  # this process's thread names (Linux)
        tasks = "/proc/self/task"
        if os.path.isdir(tasks):
            names = [open(f"{tasks}/{t}/comm").read() for t in os.listdir(tasks)]
            with open(f"{sys.argv[1]}/threads-{when}{rank}.txt", "w") as f:
                f.write("".join(names))

    threads("before")
    # as torch asks of every script: without it, gloo's threads may still hold
    # work at interpreter exit and abort the process (SIGABRT, now and then)
    dist.destroy_process_group()
    # ... and it ends them: nothing (torch.distributed.nn's default arguments,
    # bound on import) may keep the group alive
    threads("after")
    """
)


def data(sparse):
    rng = np.random.RandomState(0)
    X = rng.rand(203, 40) * (rng.rand(203, 40) < 0.3)
    y = (X[:, :5].sum(axis=1) > X[:, 5:10].sum(axis=1)).astype(int)
    return (sp.csr_matrix(X) if sparse else X), y


def params(mode="dense"):
    # "tail": the last global batch has 1 row, one process gets none
    return dict(
        hidden_layer_sizes=(16,),
        batch_size=181 if mode == "tail" else 32,
        max_iter=4,
        tol=0,
        alpha=1e-2,
        activation_l1=1e-3,
        early_stopping=True,
        n_threads=1,
        device="cpu",
        random_state=0,
    )


def _torchrun(tmp_path, n_processes, modes, device="cpu"):
    path = tmp_path / "fit.py"
    path.write_text(SCRIPT)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={n_processes}",
            str(path),
            str(tmp_path),
            modes,
            str(Path(__file__).parent),
            device,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.slow
def test_two_processes_train_one_model(tmp_path):
    _torchrun(tmp_path, 2, "dense,sparse,tail")  # one launch for all
    for rank in (0, 1) if sys.platform == "linux" else ():
        # destroy_process_group() ended gloo's threads
        before, after = (
            (tmp_path / f"threads-{when}{rank}.txt").read_text().split()
            for when in ("before", "after")
        )
        assert [name for name in before if "gloo" in name], before
        assert not [name for name in after if "gloo" in name], after
    for mode in ("dense", "sparse", "tail"):
        ranks = [np.load(tmp_path / f"{mode}{r}.npz") for r in (0, 1)]
        for key in ranks[0].files:  # the same weights on both ranks, bit for bit
            np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
        X, y = data(mode != "dense")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            single = RectifierMLPClassifier(**params(mode)).fit(X, y)
        expected = [*single.coefs_, *single.intercepts_]
        for i, weights in enumerate(expected):
            np.testing.assert_allclose(ranks[0][f"arr_{i}"], weights, atol=1e-5)
        np.testing.assert_allclose(ranks[0]["loss"], single.loss_curve_, rtol=1e-5)
        with open(tmp_path / f"{mode}.pkl", "rb") as f:
            model = pickle.load(f)
        np.testing.assert_allclose(
            model.predict_proba(X), single.predict_proba(X), atol=1e-5
        )


def test_ddp_outside_a_launcher_says_how_to_launch(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    X, y = data(False)
    with pytest.raises(ValueError, match="torchrun --nproc-per-node"):
        RectifierMLPClassifier(strategy="ddp", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="not 'lbfgs'"):
        RectifierMLPClassifier(strategy="ddp", solver="lbfgs").fit(X, y)
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(ValueError, match="precision='bfloat16'"):
        RectifierMLPClassifier(strategy="ddp", precision="float16").fit(X, y)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 1, reason="needs CUDA")
def test_nccl_on_the_gpus(tmp_path):
    """The same under NCCL, one process per GPU (the sparse first layer's
    gradient is densified: NCCL has no sparse all-reduce)."""
    n = torch.cuda.device_count()
    _torchrun(tmp_path, n, "sparse", device="auto")  # one GPU per process
    ranks = [np.load(tmp_path / f"sparse{r}.npz") for r in range(n)]
    for other in ranks[1:]:
        for key in ranks[0].files:
            np.testing.assert_array_equal(ranks[0][key], other[key])


def test_a_ddp_model_loads_and_prunes_in_a_plain_process(tmp_path):
    from sk_rectifier.persistence import load, save

    X, y = data(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RectifierMLPClassifier(**params()).fit(X, y)
    clf.set_params(strategy="ddp")  # as fitted by torchrun processes
    save(clf, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.strategy == "ddp"
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(clf.prune(X).predict(X), clf.predict(X))
