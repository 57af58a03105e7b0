"""The label-free score and scorer: graph_separation_score(r)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skdec._n_clusters import choose_n_clusters
from skdec.metrics import graph_separation_score, graph_separation_scorer


def touching_blobs(k, per_cluster=40, seed=0):
    """k unit-spread blobs whose centres are 5.7 apart: one connected graph."""
    return make_blobs(
        per_cluster * k, centers=4.0 * np.eye(k), cluster_std=1.0, random_state=seed
    )


def test_true_clusters_beat_shuffled_and_merged_labels():
    X, y = touching_blobs(4)
    true = graph_separation_score(X, y)
    assert true > graph_separation_score(X, np.random.default_rng(0).permutation(y))
    assert true > graph_separation_score(X, np.minimum(y, 2))  # two blobs merged


def test_true_clusters_beat_a_split():
    X, y = touching_blobs(3)
    split = y.copy()
    split[(y == 0) & (X[:, 1] > np.median(X[y == 0, 1]))] = 3
    assert graph_separation_score(X, y) > graph_separation_score(X, split)


def test_score_ignores_the_names_of_the_labels():
    X, y = touching_blobs(3)
    names = np.array(["c", "a", "b"])[y]
    assert graph_separation_score(X, names) == graph_separation_score(X, y)


def test_one_cluster_scores_zero():
    X, _ = touching_blobs(3)
    assert graph_separation_score(X, np.zeros(len(X))) == 0.0


def test_rows_that_are_all_one_point_score_zero():
    # Their graph has no link at all; before, the score was infinite.
    X = np.ones((30, 2))
    assert graph_separation_score(X, np.arange(30) % 2) == 0.0


@pytest.mark.parametrize(
    "labels, match",
    [
        ([0, 1, None] * 40, "labels has 40 missing label"),
        (pd.array([0, 1, pd.NA] * 40, dtype="Int64"), "labels has 40 missing label"),
        ([0.0, 1.0, np.nan] * 40, "labels has 40 missing label"),
        (
            np.array([0, "a", 1] * 40, dtype=object),
            r"labels mixes values that cannot be sorted together \(int, str\)",
        ),
    ],
    ids=["None", "pd.NA", "NaN", "mixed"],
)
def test_labels_are_checked_as_cluster_accuracy_checks_them(labels, match):
    X, _ = touching_blobs(3)
    with pytest.raises(ValueError, match=match):
        graph_separation_score(X, labels)
    # pandas' nullable integers without a missing value are plain labels.
    y = pd.array([0, 1, 2] * 40, dtype="Int64")
    assert graph_separation_score(X, y) == graph_separation_score(X, np.asarray(y))


def test_separate_groups_score_highest_as_clusters_and_zero_when_merged():
    # Three far-apart groups: the graph falls apart into them.
    X, y = make_blobs(150, centers=20.0 * np.eye(3), random_state=0)
    assert np.isfinite(graph_separation_score(X, y))
    assert graph_separation_score(X, np.minimum(y, 1)) == 0.0  # a free cut left
    search = GridSearchCV(
        KMeans(n_init=3, random_state=0),
        {"n_clusters": [2, 3, 4]},
        scoring=graph_separation_scorer,
        cv=2,
    ).fit(X)
    assert search.best_params_ == {"n_clusters": 3}
    # Finite, so that a search can rank and average them (before: inf, and
    # scikit-learn warned of non-finite test scores).
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_large_inputs_are_scored_on_a_sample():
    X, y = touching_blobs(3, per_cluster=200)
    sampled = graph_separation_score(X, y, max_rows=150, random_state=0)
    assert sampled == graph_separation_score(X, y, max_rows=150, random_state=0)
    assert sampled != graph_separation_score(X, y, max_rows=150, random_state=1)
    assert sampled != graph_separation_score(X, y)


def test_a_few_values_with_copies_are_warned_of():
    # Three pairs of values, far apart, each value copied 20 times: a random
    # labelling scored about as high as the three pairs, silently (the
    # choice of n_clusters warned on the same rows).
    values = np.array([[0, 0], [1, 0], [10, 0], [11, 0], [20, 0], [21, 0.0]])
    X = np.repeat(values, 20, axis=0)
    pairs = np.repeat([0, 0, 1, 1, 2, 2], 20)
    with pytest.warns(UserWarning, match="only 6 distinct rows.*Do not compare"):
        graph_separation_score(X, pairs)
    with pytest.warns(UserWarning, match="every row of X is the same"):
        choose_n_clusters(np.ones((30, 2)), None, range(2, 4), seed=0, n_init=1)


def test_only_the_sampled_rows_are_converted_to_floats():
    # Before, the whole input was copied to float64 first: 8 bytes a value
    # for a uint8 image array or memmap of any size.
    import tracemalloc

    X = np.random.default_rng(0).integers(0, 256, (40_000, 50), dtype=np.uint8)
    y = np.arange(len(X)) % 3
    graph_separation_score(X[:200], y[:200])  # imports and caches outside
    tracemalloc.start()
    try:
        score = graph_separation_score(X, y, max_rows=300)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * X.size / 3  # a float64 copy alone holds 8 * X.size bytes
    assert score == graph_separation_score(X.astype(np.float64), y, max_rows=300)


def test_bad_inputs_are_refused():
    X, y = touching_blobs(3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        graph_separation_score(X, y[:-1])
    with pytest.raises(ValueError, match=r"3 clusters needs at least 5 rows; got 4"):
        graph_separation_score(X[:4], [0, 1, 2, 2])
    # One cluster too: before, 2 rows of one cluster scored 0.0, where 3 rows
    # of two clusters failed, so that tiny folds were averaged in or not.
    with pytest.raises(ValueError, match=r"1 cluster needs at least 3 rows; got 2"):
        graph_separation_score(X[:2], [0, 0])
    assert graph_separation_score(X[:3], [0, 0, 0]) == 0.0
    # Enough rows given, too few drawn: the message says why.
    match = rf"needs at least 5 rows; max_rows=4 of the {len(X)} given are used"
    with pytest.raises(ValueError, match=match):
        graph_separation_score(X, y, max_rows=4)
    with pytest.raises(ValueError, match=r"'n_neighbors' parameter .* Got 1 instead"):
        graph_separation_score(X, y, n_neighbors=1)
    with pytest.raises(ValueError, match="Input contains NaN"):
        graph_separation_score(np.where(X > 5, np.nan, X), y)


def test_grid_search_over_n_clusters_without_labels():
    X, _ = touching_blobs(4)
    search = GridSearchCV(
        KMeans(n_init=3, random_state=0),
        {"n_clusters": [2, 3, 4, 5, 6, 7]},
        scoring=graph_separation_scorer,
        cv=3,
    ).fit(X)
    assert search.best_params_ == {"n_clusters": 4}


def test_cross_val_score_without_labels_scores_the_validation_rows():
    X, y = touching_blobs(3)
    scores = cross_val_score(
        KMeans(3, n_init=3, random_state=0), X, scoring=graph_separation_scorer, cv=3
    )
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    # The first fold's score is the score of its own rows' predictions.
    model = KMeans(3, n_init=3, random_state=0).fit(X[40:])
    assert graph_separation_scorer(model, X[:40]) == pytest.approx(
        graph_separation_score(X[:40], model.predict(X[:40]))
    )


def test_a_fold_predicted_as_one_cluster_warns_to_shuffle_the_folds():
    # Rows sorted by group, as load_iris is: unshuffled, each validation fold
    # is the group the training folds never saw, predicted as one cluster.
    X, y = make_blobs(150, centers=[[0, 0], [10, 0], [20, 0]], random_state=0)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    kmeans = KMeans(3, n_init=3, random_state=0)
    with pytest.warns(UserWarning, match="all 50 rows in one cluster.*shuffle"):
        scores = cross_val_score(kmeans, X, scoring=graph_separation_scorer, cv=3)
    # The groups at either end are one cluster each; the middle one lies
    # between the other two, whose clusters split it.
    assert scores[0] == scores[2] == 0.0 and scores[1] > 0
    shuffled = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = cross_val_score(
            kmeans, X, scoring=graph_separation_scorer, cv=shuffled
        )
    assert np.all(scores > 0)


def test_pipeline_is_scored_where_its_last_step_sees_the_rows():
    # Columns 0-3 hold the blobs; column 4 is noise a million times larger.
    # The pipeline keeps the first four columns and scales them: the graph
    # must be built there, not on the raw rows dominated by the noise.
    X, y = touching_blobs(4)
    noise = np.random.default_rng(0).normal(scale=1e6, size=(len(X), 1))
    X_raw = np.hstack([X, noise])
    pipe = Pipeline(
        [
            ("keep", ColumnTransformer([("blobs", "passthrough", [0, 1, 2, 3])])),
            ("scale", StandardScaler()),
            ("kmeans", KMeans(4, n_init=3, random_state=0)),
        ]
    ).fit(X_raw)
    labels = pipe.predict(X_raw)
    seen = pipe[:-1].transform(X_raw)
    assert graph_separation_scorer(pipe, X_raw) == graph_separation_score(seen, labels)
    assert graph_separation_scorer(pipe, X_raw) > graph_separation_score(X_raw, labels)
    # A search of the pipeline, as nested cross-validation scores it: through
    # its best estimator, as it scores itself; before, on the raw rows.
    search = GridSearchCV(
        pipe, {"kmeans__n_clusters": [3, 4]}, scoring=graph_separation_scorer, cv=2
    ).fit(X_raw)
    best = search.best_estimator_
    assert graph_separation_scorer(search, X_raw) == graph_separation_scorer(
        best, X_raw
    )
    assert graph_separation_scorer(search, X_raw) == search.score(X_raw)
    # Nested: a pipeline that ends in the pipeline, a search of the search.
    # Each scores on the rows the clusterer sees; before, on the raw rows.
    expected = graph_separation_scorer(pipe, X_raw)
    outer = Pipeline([("same", FunctionTransformer()), ("pipe", pipe)])
    assert graph_separation_scorer(outer, X_raw) == expected
    searches = GridSearchCV(
        GridSearchCV(pipe, {"kmeans__n_clusters": [4]}, cv=2), {"cv": [2]}, cv=2
    ).fit(X_raw)
    assert graph_separation_scorer(searches, X_raw) == expected


class FirstCoordinateSign(ClusterMixin, BaseEstimator):
    """Labels rows by the sign of their first feature; fitting learns nothing
    (its own labels_ are all 0)."""

    def fit(self, X, y=None):
        self.labels_ = np.zeros(len(X), dtype=int)
        return self

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 2.0).astype(int)


def test_scorer_scores_predict_of_the_fitted_estimator_not_a_refit():
    X, _ = touching_blobs(3)
    model = FirstCoordinateSign().fit(X)
    expected = graph_separation_score(X, model.predict(X))
    assert expected > 0
    assert graph_separation_scorer(model, X) == expected


def test_y_is_ignored():
    X, y = touching_blobs(3)
    model = KMeans(3, n_init=3, random_state=0).fit(X)
    assert graph_separation_scorer(model, X, y) == graph_separation_scorer(model, X)


def test_the_scorer_and_score_are_exported_at_the_top_level():
    import skdec
    import skdec.metrics

    assert skdec.graph_separation_scorer is skdec.metrics.graph_separation_scorer
    assert skdec.graph_separation_score is skdec.metrics.graph_separation_score
    assert {"graph_separation_score", "graph_separation_scorer"} <= set(skdec.__all__)
