"""cluster_accuracy, align_clusters and the scorer."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.model_selection import KFold, cross_val_score

from skdec import align_clusters, cluster_accuracy, cluster_accuracy_scorer


class FirstColumn(ClusterMixin, BaseEstimator):
    """Predicts the first column as the cluster; fitting learns nothing."""

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def test_perfect_partition_under_relabelling_scores_one():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([2, 2, 0, 0, 1, 1])
    assert cluster_accuracy(y_true, y_pred) == 1.0


def test_accuracy_counts_the_best_one_to_one_match():
    # Cluster 0 holds three "a" and one "b"; cluster 1 holds two "b".
    y_true = ["a", "a", "a", "b", "b", "b"]
    y_pred = [0, 0, 0, 0, 1, 1]
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6)


def test_each_cluster_is_matched_to_one_class_only():
    # One cluster for everything can be right for one class only.
    y_true = [0, 0, 1, 1, 2, 2]
    assert cluster_accuracy(y_true, [7] * 6) == pytest.approx(2 / 6)


def test_more_clusters_than_classes_leaves_clusters_unmatched():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 1, 2, 2, 3]
    # Best map: 0 -> 0, 2 -> 1; clusters 1 and 3 count as errors.
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert align_clusters(y_true, y_pred) == {0: 0, 2: 1}


def test_string_labels_on_both_sides():
    y_true = np.array(["cat", "cat", "dog", "dog"])
    y_pred = np.array(["k2", "k2", "k1", "k2"])
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(3 / 4)
    assert align_clusters(y_true, y_pred) == {"k1": "dog", "k2": "cat"}


@pytest.mark.parametrize(
    "to_labels",
    [
        lambda v: np.array(v, dtype=object),
        lambda v: pd.Series(v, dtype=object),
        lambda v: pd.Series(v, dtype="string"),
        pd.Categorical,
    ],
    ids=["object-array", "object-series", "string-series", "categorical"],
)
def test_text_labels_of_pandas_and_object_arrays_are_aligned(to_labels):
    # What a label column read from a CSV file is: before, align_clusters
    # called .item() on the str values that np.unique returns for them.
    y_true = to_labels(["cat", "cat", "dog", "dog"])
    y_pred = to_labels(["k2", "k2", "k1", "k2"])
    assert align_clusters(y_true, y_pred) == {"k1": "dog", "k2": "cat"}
    assert all(type(key) is str for key in align_clusters(y_true, y_pred))
    # NumPy scalars still come back as Python values.
    mapping = align_clusters(np.array([0, 0, 1]), np.array([1, 1, 0]))
    assert all(type(k) is int and type(v) is int for k, v in mapping.items())


@pytest.mark.parametrize(
    "y_true, expected",
    [
        (pd.Series([1, 1, 2, 2], dtype="Int64"), {0: 1, 1: 2}),
        (pd.Series([True, True, False, False], dtype="boolean"), {0: True, 1: False}),
        (
            np.array(["2020-01-01"] * 2 + ["2021-01-01"] * 2, dtype="datetime64[ns]"),
            {0: pd.Timestamp("2020-01-01"), 1: pd.Timestamp("2021-01-01")},
        ),
    ],
    ids=["Int64", "boolean", "datetime64"],
)
def test_labels_keep_their_own_values(y_true, expected):
    # Before, nullable integers and booleans came back as floats (1.0, 0.0)
    # and dates as integer nanoseconds.
    mapping = align_clusters(y_true, [0, 0, 1, 1])
    assert mapping == expected
    assert [type(v) for v in mapping.values()] == [type(v) for v in expected.values()]


def test_symmetric_in_its_arguments():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 6, 50)
    assert cluster_accuracy(a, b) == pytest.approx(cluster_accuracy(b, a))


def test_lengths_must_match():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cluster_accuracy([0, 1, 1], [0, 1])


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="^cluster_accuracy needs at least one sample"):
        cluster_accuracy([], [])
    # Each function names itself (before, align_clusters said cluster_accuracy).
    with pytest.raises(ValueError, match="^align_clusters needs at least one sample"):
        align_clusters([], [])


def test_two_dimensional_labels_are_refused():
    with pytest.raises(ValueError, match="1d array"):
        cluster_accuracy(np.zeros((3, 2)), np.zeros((3, 2)))


def test_scorer_scores_the_estimators_predictions():
    X = np.array([[1], [1], [0], [0]])
    assert cluster_accuracy_scorer(FirstColumn(), X, [5, 5, 6, 6]) == 1.0
    assert cluster_accuracy_scorer(FirstColumn(), X, [5, 6, 6, 6]) == 0.75


def test_scorer_leaves_out_rows_without_a_label():
    # The user guide's partly labelled search: before, every fold scored NaN
    # (cluster_accuracy refuses missing labels, and the search caught it).
    X = np.array([[1], [1], [0], [0], [0]])
    assert cluster_accuracy_scorer(FirstColumn(), X, [5, np.nan, 6, 6, np.nan]) == 1.0
    assert cluster_accuracy_scorer(FirstColumn(), X, [5, None, 5, 6, 6]) == 0.75
    nullable = pd.Series([5, pd.NA, 6, pd.NA, 5], dtype="Int64")
    assert cluster_accuracy_scorer(FirstColumn(), X, nullable) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="None of the 5 validation rows has a label"):
        cluster_accuracy_scorer(FirstColumn(), X, [np.nan] * 5)
    # In a search: each fold is scored on its own labelled rows.
    X, y = make_blobs(90, centers=3, random_state=0)
    partly = y.astype(float)
    partly[::3] = np.nan
    cv = KFold(3, shuffle=True, random_state=0)
    kmeans = KMeans(3, n_init=3, random_state=0)
    scores = cross_val_score(kmeans, X, partly, scoring=cluster_accuracy_scorer, cv=cv)
    expected = []
    for train, test in cv.split(X):
        labelled = test[~np.isnan(partly[test])]
        model = KMeans(3, n_init=3, random_state=0).fit(X[train])
        expected.append(cluster_accuracy(y[labelled], model.predict(X[labelled])))
    np.testing.assert_allclose(scores, expected)
    assert np.isfinite(scores).all()


def test_missing_or_unsortable_labels_are_refused_with_a_reason():
    # Before: a TypeError from sorting None among strings, and NaN counted
    # as a class of its own.
    with pytest.raises(ValueError, match=r"y_true has 1 missing label\(s\)"):
        cluster_accuracy(["a", None, "b", "b"], [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"y_pred has 2 missing label\(s\)"):
        cluster_accuracy([0, 0, 1, 1], [0.0, np.nan, 1.0, np.nan])
    with pytest.raises(ValueError, match=r"y_true has 1 missing"):
        align_clusters(np.array([0.0, 1.0, np.nan]), [0, 1, 1])
    # pandas' own missing value, in a column of text (before: "mixes labels
    # that cannot be sorted together (NAType, str)").
    text = pd.Series(["a", "b", pd.NA, "a"], dtype="string")
    with pytest.raises(ValueError, match=r"y_true has 1 missing label\(s\)"):
        cluster_accuracy(text, [0, 1, 1, 0])
    with pytest.raises(ValueError, match=r"cannot be sorted together \(int, str\)"):
        cluster_accuracy(np.array([1, "a", 1, "a"], dtype=object), [0, 1, 0, 1])
