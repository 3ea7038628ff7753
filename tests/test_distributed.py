"""Scaling out with Dask: a search on a local cluster of worker processes,
threads per fit inside a worker, and dask-ml's Incremental over dense and
sparse chunks."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from sk_rectifier import RectifierMLPClassifier

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
joblib = pytest.importorskip("joblib")


def _cluster(n_workers, threads):
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = _cluster(2, 1)
        with distributed.Client(cluster) as client:
            yield client
        cluster.close()


def test_a_search_on_a_dask_cluster_equals_the_serial_one(client, tiny_text):
    docs, y = tiny_text
    pipe = make_pipeline(
        TfidfVectorizer(),
        RectifierMLPClassifier((8,), max_iter=5, n_threads=1, random_state=0),
    )
    grid = {
        "rectifiermlpclassifier__activation": ["relu", "tanh"],
        "rectifiermlpclassifier__activation_l1": [0.0, 1e-2],
    }
    serial = GridSearchCV(pipe, grid, cv=3).fit(docs, y)
    with joblib.parallel_config(backend="dask"):
        remote = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(docs, y)
    for key in ("split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], serial.cv_results_[key])
    assert remote.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.predict_proba(docs),
        serial.best_estimator_.predict_proba(docs),
    )


class _RecordThreads(Callback):
    """Records torch's thread count at each epoch (in a class-level list:
    the estimator fits a clone of its callbacks)."""

    seen: list = []

    def on_epoch_begin(self, net, **kwargs):
        _RecordThreads.seen.append(torch.get_num_threads())


def _fit_and_count_threads(seed):
    import sk_rectifier._mixin

    # as if no other process were busy: torch's setting is the only limit
    sk_rectifier._mixin._others_running = lambda: 0
    rng = np.random.RandomState(seed)
    X, y = rng.rand(400, 30), np.arange(400) % 2
    RectifierMLPClassifier(
        (64,), max_iter=3, callbacks=[_RecordThreads()], random_state=seed
    ).fit(X, y)
    return list(_RecordThreads.seen)


def test_fits_in_a_worker_run_one_thread_each():
    """Two fits at once in a worker with two task threads: Dask starts its
    workers with OMP_NUM_THREADS=1, and each fit keeps to torch's setting
    there (one thread), never a thread per core."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _cluster(1, 2) as cluster, distributed.Client(cluster) as client:
            futures = client.map(_fit_and_count_threads, [0, 1])
            threads = sum(client.gather(futures), [])
    assert threads and max(threads) == 1, threads


@pytest.mark.parametrize("sparse", [False, True])
def test_incremental_fits_chunk_by_chunk(sparse, client):
    from dask_ml.wrappers import Incremental

    rng = np.random.RandomState(0)
    X = rng.rand(800, 20).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    dX = da.from_array(X, chunks=(200, 20))
    if sparse:
        dX = dX.map_blocks(sp.csr_matrix, dtype=np.float32)
    dy = da.from_array(y, chunks=200)
    est = RectifierMLPClassifier((16,), n_threads=1, random_state=0)
    inc = Incremental(est, shuffle_blocks=False).fit(dX, dy, classes=[0, 1])
    assert inc.estimator_.n_iter_ == 4  # one partial_fit per chunk
    local = RectifierMLPClassifier((16,), n_threads=1, random_state=0)
    for start in range(0, 800, 200):
        block = X[start : start + 200]
        local.partial_fit(
            sp.csr_matrix(block) if sparse else block,
            y[start : start + 200],
            classes=[0, 1],
        )
    np.testing.assert_array_equal(
        inc.estimator_.predict_proba(X), local.predict_proba(X)
    )
