"""Speed-up of a grid search from caching the pretrained autoencoder.

Run: ``python -m benchmarks.cache``

Times ``GridSearchCV`` (6 candidates over ``n_clusters``, ``alpha`` and
``tol``, 3 folds, scored with ``cluster_accuracy_scorer``) of ``DECClusterer``
(the paper's 500-500-2000 network and k-means start, the defaults when
the results were measured at commit 1ded7ae; 50 pretraining epochs of 64
rows, 300 self-training iterations) on scikit-learn's ``load_digits`` (pixels / 16),
once without ``memory`` and
once with ``memory`` set to a fresh temporary folder, in one process, and
prints both wall times, the ratio and the best scores (which must agree).
"""

import argparse
import os
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from benchmarks._common import header  # noqa: E402
from skdec import DECClusterer, cluster_accuracy_scorer  # noqa: E402

GRID = [
    {"n_clusters": [8, 10], "alpha": [0.5, 1.0]},
    {"n_clusters": [10], "alpha": [1.0], "tol": [0.01, 0.1]},
]


def run_search(X, y, memory):
    # The paper's dense network (the default of commit 1ded7ae, which the
    # results came from), pretrained for 50 epochs of 64 rows: as in a real
    # search, pretraining is the larger part of each fit.
    estimator = DECClusterer(
        10,
        hidden_layer_sizes=(500, 500, 2000),
        init="kmeans",
        pretrain_epochs=50,
        batch_size=64,
        max_iter=300,
        random_state=0,
        memory=memory,
    )
    search = GridSearchCV(estimator, GRID, scoring=cluster_accuracy_scorer, cv=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return time.perf_counter() - start, search


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(header("python -m benchmarks.cache"))
    plain_seconds, plain = run_search(X, y, memory=None)
    with tempfile.TemporaryDirectory() as folder:
        cached_seconds, cached = run_search(X, y, memory=folder)
    assert plain.best_params_ == cached.best_params_
    print("| search (6 candidates x 3 folds, digits) | wall time (s) | best ACC |")
    print("|---|---|---|")
    print(f"| no memory | {plain_seconds:.1f} | {plain.best_score_:.3f} |")
    print(f"| memory=folder | {cached_seconds:.1f} | {cached.best_score_:.3f} |")
    print(f"speed-up: {plain_seconds / cached_seconds:.2f}x")


if __name__ == "__main__":
    main()
