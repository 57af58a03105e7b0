"""A grid search over DECClusterer runs on a Dask cluster through joblib."""

import sys
import warnings

import distributed
import joblib
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skdec import cluster_accuracy_scorer

from _helpers import small_dec


def _skdec_imported():
    return "skdec" in sys.modules


def test_grid_search_on_a_local_dask_cluster_matches_serial():
    X, y = make_blobs(240, centers=3, cluster_std=0.6, random_state=0)
    X = X.astype(np.float32)
    grid = {"n_clusters": [2, 3]}

    def search(n_jobs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(
                small_dec(), grid, scoring=cluster_accuracy_scorer, cv=2, n_jobs=n_jobs
            ).fit(X, y)

    serial = search(1)
    with (
        distributed.LocalCluster(
            n_workers=1,  # each worker process imports TensorFlow (10 s)
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            remote = search(-1)
        workers_used = client.run(_skdec_imported)

    # The candidates were fitted in the worker process...
    assert list(workers_used.values()) == [True]
    # ...with the same results as in this process.
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == serial.best_params_
    np.testing.assert_array_equal(remote.predict(X), serial.predict(X))
