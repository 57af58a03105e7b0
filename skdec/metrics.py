"""Clustering accuracy: the best one-to-one match of clusters to classes."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import make_scorer
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_consistent_length

__all__ = ["align_clusters", "cluster_accuracy", "cluster_accuracy_scorer"]


def _matched_contingency(y_true, y_pred):
    y_true = column_or_1d(y_true, warn=True)
    y_pred = column_or_1d(y_pred, warn=True)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("cluster_accuracy needs at least one sample, got 0.")
    classes, true_codes = np.unique(y_true, return_inverse=True)
    clusters, pred_codes = np.unique(y_pred, return_inverse=True)
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
    classes, clusters, _, rows, cols = _matched_contingency(y_true, y_pred)
    return {
        clusters[c].item(): classes[r].item()
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
    _, _, counts, rows, cols = _matched_contingency(y_true, y_pred)
    return float(counts[rows, cols].sum() / counts.sum())


cluster_accuracy_scorer = make_scorer(cluster_accuracy)
cluster_accuracy_scorer.__doc__ = """Scorer for :func:`cluster_accuracy`.

Calls the estimator's ``predict`` on the validation rows and scores the labels
against the validation targets, for ``GridSearchCV(..., scoring=...)`` and
``cross_val_score``.
"""
