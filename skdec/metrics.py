"""Clustering accuracy against classes, and a label-free score of a clustering.

:func:`cluster_accuracy` matches clusters to classes one to one;
:func:`graph_separation_score` and :func:`graph_separation_scorer` need no
classes.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import make_scorer
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_consistent_length

from ._warnings import warn

__all__ = [
    "align_clusters",
    "cluster_accuracy",
    "cluster_accuracy_scorer",
    "graph_separation_score",
    "graph_separation_scorer",
]


def _missing_mask(y):
    """Which of the labels ``y`` (a NumPy array) are missing: None, NaN, NaT
    or pandas' ``pd.NA``."""
    if y.dtype.kind in "fOmM":
        return np.asarray(pd.isna(y), dtype=bool)
    return np.zeros(y.shape, dtype=bool)


def _label_values(y):
    """Labels as a NumPy array of their own values: pandas' nullable
    integers and booleans, categories and text stay what they are (an
    object array where some are missing), not floats."""
    if isinstance(
        y, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)
    ) and not isinstance(y.dtype, np.dtype):
        return y.to_numpy(dtype=object) if pd.isna(y).any() else y.to_numpy()
    return np.asarray(y)


def _labels_1d(y):
    """:func:`_label_values` of ``y``, a column or a single row of labels."""
    return column_or_1d(_label_values(y), warn=True)


def _unique_labels(y, name):
    """``(values, codes)`` of the labels ``y`` as :func:`numpy.unique` sorts
    them; labels that cannot be sorted together are refused with a reason."""
    try:
        values, codes = np.unique(y, return_inverse=True)
    except TypeError:
        kinds = sorted({type(value).__name__ for value in y})
        raise ValueError(
            f"{name} mixes values that cannot be sorted together "
            f"({', '.join(kinds)}): give labels of one type."
        ) from None
    return values, codes.ravel()


def _label_codes(y, name):
    """:func:`_unique_labels` of the labels ``y`` (a NumPy array), which must
    not be missing."""
    missing = int(_missing_mask(y).sum())
    if missing:
        raise ValueError(
            f"{name} has {missing} missing label(s) (None, NaN or pd.NA): leave "
            "the samples without a label out."
        )
    return _unique_labels(y, name)


def _python_value(value):
    """A NumPy scalar as the Python value it holds (a date or a duration as
    pandas' ``Timestamp`` or ``Timedelta``); any other value (what an object
    array holds: a ``str``, say) as it is."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    return value.item() if isinstance(value, np.generic) else value


def _matched_contingency(y_true, y_pred, caller):
    """Classes, clusters, their contingency table and its matched cells;
    ``caller``, the public function, names itself in the errors."""
    y_true, y_pred = _labels_1d(y_true), _labels_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError(f"{caller} needs at least one sample, got 0.")
    (classes, true_codes), (clusters, pred_codes) = (
        _label_codes(y_true, "y_true"),
        _label_codes(y_pred, "y_pred"),
    )
    counts = contingency_matrix(true_codes, pred_codes)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return classes, clusters, counts, rows, cols


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def align_clusters(y_true, y_pred):
    """Match each cluster to at most one class, maximising the agreement.

    The Hungarian algorithm (:func:`scipy.optimize.linear_sum_assignment`)
    finds the one-to-one map of clusters to classes that labels the most
    samples correctly. With more clusters than classes, the extra clusters are
    left unmatched.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes; any hashable, sortable labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels to align; any hashable, sortable labels.

    Returns
    -------
    mapping : dict
        ``{cluster: class}`` for each matched cluster.

    See Also
    --------
    cluster_accuracy : The fraction of samples that this mapping gets right.

    Examples
    --------
    >>> from skdec.metrics import align_clusters
    >>> align_clusters(["a", "a", "b"], [1, 1, 0])
    {0: 'b', 1: 'a'}
    """
    classes, clusters, _, rows, cols = _matched_contingency(
        y_true, y_pred, "align_clusters"
    )
    return {
        _python_value(clusters[c]): _python_value(classes[r])
        for c, r in sorted(zip(cols, rows, strict=True))
    }


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def cluster_accuracy(y_true, y_pred):
    """Clustering accuracy under the best one-to-one map of clusters to classes.

    ``ACC = max_m (1/n) sum_i [y_true_i == m(y_pred_i)]`` over one-to-one maps
    ``m`` from clusters to classes, found with the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) as in Xie et al. (2016).
    Labels may be of any type and the numbers of clusters and classes may
    differ; samples in a cluster left without a class count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    accuracy : float
        Between 0 and 1; 1 exactly when the two partitions are the same.

    See Also
    --------
    align_clusters : The map of clusters to classes behind this score.
    sklearn.metrics.adjusted_rand_score : A chance-corrected partition score.

    References
    ----------
    .. [1] J. Xie, R. Girshick and A. Farhadi, "Unsupervised Deep Embedding
       for Clustering Analysis", ICML 2016.

    Examples
    --------
    >>> from skdec.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> cluster_accuracy(["x", "x", "y", "y"], [0, 0, 0, 1])
    0.75
    """
    _, _, counts, rows, cols = _matched_contingency(y_true, y_pred, "cluster_accuracy")
    return float(counts[rows, cols].sum() / counts.sum())


def _labelled_accuracy(y_true, y_pred):
    """:func:`cluster_accuracy` on the rows whose ``y_true`` is not missing
    (None, NaN or pandas' ``pd.NA``): the scorer's metric, so that a search
    over partly labelled rows is scored on the rows that have a label."""
    y_true, y_pred = _labels_1d(y_true), _labels_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    labelled = ~_missing_mask(y_true)
    if y_true.shape[0] and not labelled.any():
        raise ValueError(
            f"None of the {y_true.shape[0]} validation rows has a label (all are "
            "None, NaN or pd.NA): give each fold some labelled rows, for "
            "example with fewer, shuffled folds."
        )
    return cluster_accuracy(y_true[labelled], y_pred[labelled])


cluster_accuracy_scorer = make_scorer(_labelled_accuracy)
cluster_accuracy_scorer.__doc__ = """Scorer for :func:`cluster_accuracy`.

Calls the estimator's ``predict`` on the validation rows and scores the labels
against the validation targets, for ``GridSearchCV(..., scoring=...)`` and
``cross_val_score``. Rows whose target is missing (None, NaN or ``pd.NA``)
are left out of the score, so that a search can be scored on the rows that
have a label; a validation fold without any raises a ``ValueError``.
"""


@validate_params(
    {
        "X": ["array-like"],
        "labels": ["array-like"],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "max_rows": [Interval(Integral, 4, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def graph_separation_score(X, labels, *, n_neighbors=15, max_rows=5000, random_state=0):
    """Label-free score of a clustering: how cleanly it cuts the neighbour graph.

    The rows of ``X`` are joined into UMAP's fuzzy neighbour graph
    (``n_neighbors`` nearest rows, euclidean; exact copies of a row are one
    point that counts its copies, so that they link to other values, not
    only to each other). With ``k`` clusters the score is
    ``sqrt(lambda_{k+1}) / phi``, where ``phi`` is the mean over clusters of
    their conductance (the edge weight leaving the cluster over the edge
    weight of its rows) and ``lambda_{k+1}`` is the ``(k + 1)``-th smallest
    eigenvalue of the graph's normalised Laplacian, which is small when some
    ``k + 1`` groups of rows are nearly disconnected. Higher is better.

    **What it rewards.** Clusters separated by sparse regions of the graph
    (small ``phi``) when no further cluster could be split off as cheaply
    (large ``lambda_{k+1}``). On data without cluster structure the
    conductance of ``k`` pieces grows like ``sqrt(lambda_k)`` (Cheeger's
    inequality), so the score is nearly flat in ``k``, highest at small
    ``k``; it peaks at the number of clusters that separate cleanly, which
    makes it comparable across numbers of clusters, unlike the modularity or
    the inertia, which grow with ``k``. Among labellings with the same ``k``
    it prefers the one whose clusters cut fewer neighbour links.

    **Where it fails.** It sees clusters, not classes: classes that overlap
    in ``X`` or that are not groups of nearby rows (a label decided by a
    formula of the features, a class split into several blobs) are not
    found, and on data without clusters it prefers 2 clusters whatever the
    classes. Very small clusters (fewer rows than ``n_neighbors``) and very
    unequal sizes are misjudged: a tiny isolated group has a small
    conductance (one link over its volume) and lifts the score of any
    labelling that isolates it, while
    small classes touching a large one are not separated in the graph. On
    a few distinct values with copies (at most ``n_neighbors``), a cluster
    of copies of one value has no link inside it and scores poorly, so that
    a random labelling can score as high as the true one; a ``UserWarning``
    says so. The
    graph is built on the rows given, in their scale: scale the features as
    the clustering sees them (a scorer on a :class:`~sklearn.pipeline.Pipeline`
    does this by itself).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows as the clustering sees them.
    labels : array-like of shape (n_samples,)
        Cluster of each row; any hashable, sortable labels.
    n_neighbors : int, default=15
        Neighbours per row in the graph, counting the row itself (UMAP's
        convention and default).
    max_rows : int or None, default=5000
        Above this many rows, ``max_rows`` rows drawn at random are scored
        (the cost grows with the square of the rows used). None uses all.
    random_state : int, RandomState instance or None, default=0
        Draws the rows above ``max_rows`` and starts the eigensolver.

    Returns
    -------
    score : float
        Non-negative and finite: the weight leaving a cluster counts as at
        least one link of weight 1 (a row's link to its nearest neighbour),
        so clusters that are exactly the separate groups of the graph score
        high, not infinite. ``0.0`` for a single cluster, for rows that
        are all the same point, and for ``k``
        clusters while more than ``k`` separate groups (no link between
        them, or only links of negligible weight) remain (a further cut is
        free). Above ``max_rows`` rows, the graph,
        its groups and the clusters are those of the sampled rows: a group
        that few sampled rows fall in is no longer separate.

    Raises
    ------
    ValueError
        If fewer than ``k + 2`` rows are scored for ``k`` clusters (one
        cluster included), or the labels are invalid.

    See Also
    --------
    graph_separation_scorer : The same score for ``GridSearchCV`` and
        ``cross_val_score``, without ``y``.
    sklearn.metrics.silhouette_score : A label-free score in the feature
        space itself.

    Notes
    -----
    The cost is one exact nearest-neighbour search (quadratic in the rows
    used, at most ``max_rows``) and the ``k + 1`` smallest eigenvalues of a
    sparse matrix. The score is deterministic for an integer
    ``random_state``. ``DECClusterer(n_clusters="auto")`` chooses the number
    of clusters by the same score on the same graph (see the User Guide).

    References
    ----------
    .. [1] J. Cheeger, "A lower bound for the smallest eigenvalue of the
       Laplacian", 1970; J. R. Lee, S. Oveis Gharan and L. Trevisan,
       "Multiway spectral partitioning and higher-order Cheeger
       inequalities", J. ACM 61(6), 2014.
    .. [2] L. McInnes, J. Healy and J. Melville, "UMAP: Uniform Manifold
       Approximation and Projection for Dimension Reduction", 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from skdec.metrics import graph_separation_score
    >>> X, y = make_blobs(120, centers=3, random_state=0)
    >>> shuffled = np.random.default_rng(0).permutation(y)
    >>> bool(graph_separation_score(X, y) > graph_separation_score(X, shuffled))
    True
    """
    from ._n_clusters import separation_score

    # In its own numeric dtype (uint8 pixels, a memmap): only the rows scored,
    # at most max_rows, are converted to float64.
    X = check_array(X, dtype="numeric")
    labels = _labels_1d(labels)
    check_consistent_length(X, labels)
    labels = _label_codes(labels, "labels")[1]
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return separation_score(
        X, labels, n_neighbors=n_neighbors, max_rows=max_rows, seed=seed
    )


def graph_separation_scorer(estimator, X, y=None):
    """Label-free scorer: :func:`graph_separation_score` of ``predict(X)``.

    For ``GridSearchCV(..., scoring=graph_separation_scorer)`` and
    ``cross_val_score(estimator, X, scoring=graph_separation_scorer)``
    without ``y``: the fitted estimator labels the validation rows with
    ``predict`` and the labels are scored on the neighbour graph of those
    rows. If ``estimator`` is a :class:`~sklearn.pipeline.Pipeline`, the graph
    is built on the rows as its last step sees them,
    ``estimator[:-1].transform(X)`` (scaled, selected, reduced); a fitted
    search (``GridSearchCV``, say, in nested cross-validation) is scored
    through its ``best_estimator_``, as the search scores itself; both
    repeatedly, for a pipeline that ends in a pipeline or a search of a
    search; otherwise on ``X`` itself. The graph never uses the estimator's
    own embedding, so an embedding trained to agree with its clusters does
    not score itself.

    It rewards clusters that separate cleanly in that space and can compare
    numbers of clusters; it fails where classes are not clusters and with
    very unequal cluster sizes (see :func:`graph_separation_score`). Each
    validation fold needs at least ``n_clusters + 2`` rows; above 5,000 rows
    a random 5,000 are scored.

    A fold whose rows ``predict`` puts in one cluster scores 0, with a
    ``UserWarning``. That is what unshuffled folds give on rows sorted by
    group (by class or by time, as scikit-learn's ``load_iris`` is): each
    validation fold is a group the training folds never saw. Shuffle the
    folds then, ``cv=KFold(3, shuffle=True, random_state=0)``.

    Parameters
    ----------
    estimator : fitted estimator with ``predict``
        A clusterer, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features)
        Validation rows.
    y : Ignored
        Not used; present for the scorer protocol.

    Returns
    -------
    score : float
        Higher is better; finite (see :func:`graph_separation_score`), so
        that a search can average the folds.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skdec.metrics import graph_separation_scorer
    >>> X, _ = make_blobs(300, centers=4, random_state=0)
    >>> search = GridSearchCV(KMeans(n_init=3, random_state=0),
    ...                       {"n_clusters": [2, 3, 4, 5, 6]},
    ...                       scoring=graph_separation_scorer, cv=3).fit(X)
    >>> search.best_params_
    {'n_clusters': 4}
    """
    labels = estimator.predict(X)
    score = graph_separation_score(_rows_of_last_step(estimator, X), labels)
    if np.unique(labels).size == 1:
        warn(
            f"predict put all {len(labels)} rows in one cluster: they score 0. "
            "If the rows are sorted by group (by class or by time), so are "
            "unshuffled folds, and a validation fold can be a group the "
            "training folds never saw: shuffle them, for example with "
            "cv=KFold(3, shuffle=True, random_state=0).",
            UserWarning,
        )
    return score


def _rows_of_last_step(estimator, X):
    """``X`` as the clusterer at the end of ``estimator`` sees it: through
    the steps before it of each pipeline, and a fitted search's best
    estimator (as the search predicts), down to the last step that is
    neither."""
    while True:
        while hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        steps = getattr(estimator, "steps", None)
        if not steps:
            return X
        if len(steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = steps[-1][1]
