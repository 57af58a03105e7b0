"""Modularity of a partition of a weighted graph, and greedy merging by it.

Used to judge and to refine the clusterings found on UMAP's neighbour graph;
plain NumPy and SciPy on sparse matrices.
"""

import numpy as np
import scipy.sparse


def graph_modularity(graph, labels):
    """Newman's modularity of the partition ``labels`` of a weighted graph.

    The fraction of the edge weight that falls inside clusters, minus the
    fraction expected if edges joined rows at random with the same degrees.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
        Symmetric non-negative edge weights.
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row.

    Returns
    -------
    modularity : float
    """
    graph = scipy.sparse.coo_matrix(graph)
    labels = np.asarray(labels)
    total = graph.data.sum()
    if total <= 0:
        # No edges (a tiny or degenerate map): no partition is preferred.
        return 0.0
    inside = graph.data[labels[graph.row] == labels[graph.col]].sum()
    degree = np.bincount(graph.row, weights=graph.data, minlength=labels.size)
    volume = np.bincount(labels, weights=degree)
    return float(inside / total - np.sum((volume / total) ** 2))


def merge_by_modularity(graph, labels, n_clusters):
    """Merge the clusters of ``labels`` greedily until ``n_clusters`` remain.

    Each step joins the two clusters whose union raises the modularity of
    the partition on ``graph`` most (or lowers it least): the pair with the
    most edge weight between them relative to the product of their degrees,
    as in the agglomeration of Clauset, Newman and Moore (2004), started
    from ``labels`` rather than from single rows.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
        Symmetric non-negative edge weights.
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row, ``0`` to ``k - 1`` with ``k`` at least
        ``n_clusters``.
    n_clusters : int
        Number of clusters to merge down to.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Cluster of each row, ``0`` to ``n_clusters - 1``.
    """
    graph = scipy.sparse.coo_matrix(graph)
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    weights = np.zeros((k, k))
    np.add.at(weights, (labels[graph.row], labels[graph.col]), graph.data)
    total = max(weights.sum(), np.finfo(np.float64).tiny)
    volume = weights.sum(axis=1)
    # Half the change in modularity from joining each pair; only the merged
    # cluster's row and column change from one step to the next.
    gain = weights / total - np.outer(volume, volume) / total**2
    np.fill_diagonal(gain, -np.inf)
    owner = np.arange(k)
    for _ in range(k - n_clusters):
        i, j = sorted(np.unravel_index(np.argmax(gain), gain.shape))
        weights[i] += weights[j]
        weights[:, i] += weights[:, j]
        volume[i] += volume[j]
        owner[owner == j] = i
        row = weights[i] / total - volume[i] * volume / total**2
        gain[i] = gain[:, i] = np.where(np.isfinite(gain[i]), row, -np.inf)
        gain[i, i] = -np.inf
        gain[j] = gain[:, j] = -np.inf
    return np.unique(owner[labels], return_inverse=True)[1]
