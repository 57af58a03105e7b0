"""Neighbour graphs, two measures of a partition of one (modularity and the
map equation's saving), and greedy merging by modularity.

Used to judge and to refine clusterings on UMAP-style fuzzy neighbour graphs;
plain NumPy, SciPy and scikit-learn on sparse matrices, so that judging a
clustering needs no just-in-time compilation.
"""

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse
from sklearn.neighbors import NearestNeighbors

#: Neighbours per row in the graph, as UMAP's default.
N_NEIGHBORS = 15
#: A share of a cluster's edge weight below which nothing leaves it:
#: rounding error, or links of negligible weight (UMAP's fuzzy weight of a
#: far neighbour can fall below 1e-30).
NEGLIGIBLE_SHARE = 1e-12
#: The weight of a row's link to its nearest neighbour, the largest a link
#: of the fuzzy neighbour graph can weigh: the graph resolves a cut to one
#: such link, not finer (:func:`one_link_weight`).
LINK_WEIGHT = 1.0


#: How :func:`fuzzy_neighbor_graph` makes the directed weights ``w``
#: symmetric: UMAP's fuzzy union, their mean, or 1 wherever either row is
#: among the other's neighbours (the plain symmetric k-nearest-neighbour
#: graph). The package uses the union; ``benchmarks.start_criteria``
#: compares the others.
SYMMETRIZATIONS = ("union", "mean", "binary")


def fuzzy_neighbor_graph(X, n_neighbors=N_NEIGHBORS, symmetrize="union"):
    """UMAP's fuzzy neighbour graph of the rows of ``X``, euclidean.

    Each row is joined to its ``n_neighbors - 1`` nearest other rows with
    weight ``exp(-(d - rho) / sigma)``, where ``rho`` is the distance to the
    nearest other row and ``sigma`` makes the weights of the row sum to
    ``log2(n_neighbors)`` (``log2(n_samples)`` on fewer rows); the directed
    weights ``w`` are then symmetrised as ``w + w.T - w * w.T`` (the fuzzy
    union). The same graph as
    ``umap.umap_.fuzzy_simplicial_set`` on exact neighbours, without umap-learn.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        At least 2 rows.
    n_neighbors : int, default=15
        Neighbours per row, counting the row itself as UMAP does.
    symmetrize : {"union", "mean", "binary"}, default="union"
        ``"union"`` as above; ``"mean"``: ``(w + w.T) / 2``, which halves a
        link that only one of its two rows counts among its neighbours;
        ``"binary"``: weight 1 on every link of the union, the symmetric
        k-nearest-neighbour graph.

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric weights in [0, 1], zero diagonal.
    """
    if symmetrize not in SYMMETRIZATIONS:
        raise ValueError(
            f"symmetrize should be one of {SYMMETRIZATIONS}, got {symmetrize!r}."
        )
    X = np.asarray(X, dtype=np.float64)
    n_samples = X.shape[0]
    k = max(1, min(n_neighbors, n_samples) - 1)
    dist, ind = NearestNeighbors(n_neighbors=k).fit(X).kneighbors()
    rho = np.where(dist > 0, dist, np.inf).min(axis=1)
    rho[~np.isfinite(rho)] = 0.0
    excess = np.maximum(dist - rho[:, None], 0.0)
    # Binary search for sigma, as UMAP's smooth_knn_dist (64 halvings).
    target = np.log2(k + 1)
    lo = np.zeros(n_samples)
    hi = np.full(n_samples, np.inf)
    sigma = np.ones(n_samples)
    for _ in range(64):
        above = np.exp(-excess / sigma[:, None]).sum(axis=1) > target
        hi = np.where(above, sigma, hi)
        lo = np.where(above, lo, sigma)
        sigma = np.where(np.isfinite(hi), (lo + hi) / 2.0, sigma * 2.0)
    # UMAP's floor on sigma, 1e-3 times the mean distance to the neighbours.
    mean_dist = np.concatenate([np.zeros((n_samples, 1)), dist], axis=1)
    floor = 1e-3 * np.where(rho > 0, mean_dist.mean(axis=1), mean_dist.mean())
    sigma = np.maximum(sigma, floor)
    weights = np.exp(-excess / sigma[:, None])
    graph = scipy.sparse.csr_matrix(
        (weights.ravel(), (np.repeat(np.arange(n_samples), k), ind.ravel())),
        shape=(n_samples, n_samples),
    )
    graph.eliminate_zeros()
    if symmetrize == "mean":
        return ((graph + graph.T) / 2.0).tocsr()
    union = (graph + graph.T - graph.multiply(graph.T)).tocsr()
    if symmetrize == "binary":
        union.data = np.ones_like(union.data)
    return union


class RowGraph(NamedTuple):
    """A neighbour graph of rows, built on their distinct values.

    Exact copies of a row are one node: the graph of the rows themselves
    joins each copy to every copy of each neighbour of its value, and no two
    copies to each other. ``weights`` holds that graph summed over copies, so
    that the weight between two nodes is the fuzzy weight between their
    values times the product of their numbers of copies; measures of a
    partition of the rows computed on it (:func:`cluster_volumes`,
    :func:`graph_modularity`, :func:`codelength_saving`) equal those on the
    graph of the rows, whose size grows with the square of the copies.
    """

    weights: scipy.sparse.csr_matrix
    """Symmetric weights between the nodes, shape ``(n_nodes, n_nodes)``."""
    nodes: np.ndarray | None
    """The node of each row, shape ``(n_rows,)``; None when every row is
    distinct (node ``i`` is row ``i``)."""


def neighbor_graph(X, n_neighbors=N_NEIGHBORS, symmetrize="union"):
    """The neighbour graph that judges partitions of the rows of ``X``.

    :func:`fuzzy_neighbor_graph` of the distinct rows of ``X``, as a
    :class:`RowGraph` that counts each value's copies. A table of categories
    repeats rows: with ``n_neighbors`` or more copies of a value, each copy's
    nearest neighbours are its own copies at distance 0, the graph of the
    rows falls apart into groups of copies, and every partition that keeps
    copies together looks perfect on it. Searching neighbours among the
    distinct values and weighting by the copies keeps the links between
    values. On rows that are all distinct the weights are
    ``fuzzy_neighbor_graph(X, n_neighbors)``, unchanged.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        At least 2 rows.
    n_neighbors : int, default=15
        Distinct neighbours per value, counting the value itself.
    symmetrize : {"union", "mean", "binary"}, default="union"
        As in :func:`fuzzy_neighbor_graph`.

    Returns
    -------
    graph : RowGraph
    """
    return row_graph(
        X, lambda rows: fuzzy_neighbor_graph(rows, n_neighbors, symmetrize)
    )


def row_graph(X, build):
    """The :class:`RowGraph` of the rows of ``X`` from ``build``, a function
    of distinct rows that returns their symmetric weights (a sparse matrix).

    ``build`` sees ``X`` itself when its rows are all distinct, else its
    distinct values, whose weights are then counted by their copies
    (:func:`count_copies`); a single distinct value gives a graph without
    links.
    """
    X = np.asarray(X, dtype=np.float64)
    values, nodes, counts = distinct_rows(X)
    if values.shape[0] == X.shape[0]:
        return RowGraph(build(X), None)
    if values.shape[0] < 2:
        empty = scipy.sparse.csr_matrix((1, 1), dtype=np.float64)
        return RowGraph(empty, nodes)
    return count_copies(build(values), nodes, counts)


def distinct_rows(M):
    """The distinct rows of ``M``: ``(values, nodes, counts)``, with
    ``nodes`` the position in ``values`` of each row (a flat array) and
    ``counts`` the copies of each value."""
    values, nodes, counts = np.unique(
        np.asarray(M), axis=0, return_inverse=True, return_counts=True
    )
    return values, nodes.ravel(), counts


def count_copies(graph, nodes, counts):
    """The :class:`RowGraph` of rows whose distinct values have ``graph``:
    each edge times the product of its two values' ``counts``."""
    copies = scipy.sparse.diags(np.asarray(counts, dtype=np.float64))
    return RowGraph((copies @ graph @ copies).tocsr(), nodes)


def _unwrap(graph):
    """A RowGraph of distinct rows as its plain weights, else unchanged."""
    if isinstance(graph, RowGraph) and graph.nodes is None:
        return graph.weights
    return graph


def _shares(graph, labels, k):
    """Each node's copies per cluster, as fractions, for a RowGraph.

    A sparse ``(n_nodes, k)`` matrix whose row ``u`` holds the share of node
    ``u``'s copies in each cluster; ``labels`` are ``0`` to ``k - 1``.
    """
    nodes = graph.nodes
    n_nodes = graph.weights.shape[0]
    counts = np.bincount(nodes, minlength=n_nodes).astype(np.float64)
    return scipy.sparse.csr_matrix(
        (1.0 / counts[nodes], (nodes, labels)), shape=(n_nodes, k)
    )


def graph_modularity(graph, labels):
    """Newman's modularity of the partition ``labels`` of a weighted graph.

    The fraction of the edge weight that falls inside clusters, minus the
    fraction expected if edges joined rows at random with the same degrees.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row.

    Returns
    -------
    modularity : float
    """
    graph = _unwrap(graph)
    if isinstance(graph, RowGraph):
        volume, inside = cluster_volumes(graph, labels)
        total = math.fsum(volume)
        if total <= 0:
            return 0.0
        return math.fsum(inside) / total - math.fsum((volume / total) ** 2)
    graph = scipy.sparse.coo_matrix(graph)
    labels = np.asarray(labels)
    total = graph.data.sum()
    if total <= 0:
        # No edges (a tiny or degenerate map): no partition is preferred.
        return 0.0
    inside = graph.data[labels[graph.row] == labels[graph.col]].sum()
    degree = np.bincount(graph.row, weights=graph.data, minlength=labels.size)
    volume = np.bincount(labels, weights=degree)
    return float(inside / total) - math.fsum((volume / total) ** 2)


def _plogp(x):
    """``x * log2(x)`` elementwise, 0 where ``x`` is 0."""
    x = np.asarray(x, dtype=np.float64)
    positive = x > 0
    return np.where(positive, x * np.log2(np.where(positive, x, 1.0)), 0.0)


def cluster_volumes(graph, labels):
    """The edge weight each cluster holds, and how much of it stays inside.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row (any integers; they are renumbered
        ``0`` to ``k - 1`` in sorted order, so empty clusters disappear).

    Returns
    -------
    volume : ndarray of shape (k,)
        Sum of the degrees of each cluster's rows.
    inside : ndarray of shape (k,)
        Weight of the edges with both ends in the cluster, counted from both
        ends (as in ``volume``).
    """
    graph = _unwrap(graph)
    if isinstance(graph, RowGraph):
        labels = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
        k = int(labels.max()) + 1 if labels.size else 0
        weights, shares = graph.weights, _shares(graph, labels, k)
        degree = np.asarray(weights.sum(axis=1)).ravel()
        volume = shares.T @ degree
        inside = np.asarray(shares.multiply(weights @ shares).sum(axis=0)).ravel()
        return volume, inside
    graph = scipy.sparse.coo_matrix(graph)
    labels = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
    k = int(labels.max()) + 1 if labels.size else 0
    degree = np.bincount(graph.row, weights=graph.data, minlength=labels.size)
    volume = np.bincount(labels, weights=degree, minlength=k)
    same = labels[graph.row] == labels[graph.col]
    inside = np.bincount(labels[graph.row[same]], weights=graph.data[same], minlength=k)
    return volume, inside


def codelength_saving(graph, labels):
    """Bits per step the partition ``labels`` saves, by the map equation.

    The map equation (Rosvall and Bergstrom, 2008) measures a partition of a
    graph by the length of the shortest description of a random walk on it,
    where each cluster has its own codebook for its rows and the walk's moves
    between clusters are named in an index codebook. A partition whose
    clusters the walk seldom leaves describes it in fewer bits. This returns
    ``L(one cluster) - L(labels)``, the bits per step saved against putting
    every row in one cluster, so that higher is better:

    ``2 sum_i q_i log2 q_i - q log2 q - sum_i (q_i + p_i) log2 (q_i + p_i)``,

    where ``p_i`` is cluster ``i``'s share of the total degree (the share of
    time the walk spends in it), ``q_i`` the share of the edge weight that
    leaves it (the rate at which the walk exits it) and ``q = sum_i q_i``.

    Modularity subtracts the share of links expected inside clusters by
    chance, the sum of the squared shares of the degree, which rewards even
    sizes: it will cut a large group in two and put two small far-apart
    groups together. The map equation has no squared term (when no edge
    leaves any cluster the saving is the entropy of the clusters' shares of
    the degree) and charges every link the cut makes the walk cross, so it
    cuts a large group only where the group's graph has a cheap cut: a chain
    or a ring, or a group spread over few dimensions.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row (any integers; empty clusters are not
        counted).

    Returns
    -------
    saving : float
        Bits per step; 0 for a single cluster or a graph without edges.
    """
    graph = _unwrap(graph)
    if isinstance(graph, RowGraph):
        total = graph.weights.sum()
    else:
        graph = scipy.sparse.coo_matrix(graph)
        total = graph.data.sum()
    volume, inside = cluster_volumes(graph, labels)
    if total <= 0 or volume.size < 2:
        return 0.0
    share = volume / total
    leaving = np.maximum(share - inside / total, 0.0)
    # Each cluster's terms do not depend on how the clusters are numbered;
    # exact sums over them (math.fsum) keep their total from depending on it.
    return (
        2 * math.fsum(_plogp(leaving))
        - float(_plogp(math.fsum(leaving)))
        - math.fsum(_plogp(leaving + share))
    )


def cluster_conductance(graph, labels):
    """The share of each cluster's edge weight that leaves it.

    ``(volume - inside) / volume`` of :func:`cluster_volumes`, for the
    clusters whose rows have edges (the others are left out): 0 for a
    cluster no link leaves, 1 for one whose links all leave it.
    """
    volume, inside = cluster_volumes(graph, labels)
    used = volume > 0
    return (volume[used] - inside[used]) / volume[used]


def one_link_weight(graph, labels, link_weight=LINK_WEIGHT):
    """Per cluster, the least weight that one link of ``link_weight``
    leaving it can carry in the graph of the rows: the weight itself on
    distinct rows; on a RowGraph, times the fewest copies of a value in the
    cluster and the fewest copies of a value outside it (a link between two
    values joins every copy of one to every copy of the other).

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row (renumbered ``0`` to ``k - 1`` in sorted
        order, as in :func:`cluster_volumes`).
    link_weight : float, default=LINK_WEIGHT
        The weight of one link between two distinct rows.

    Returns
    -------
    weight : ndarray of shape (k,)
    """
    graph = _unwrap(graph)
    labels = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
    k = int(labels.max()) + 1
    if not isinstance(graph, RowGraph) or graph.nodes is None:
        return np.full(k, link_weight)
    copies = np.zeros((graph.weights.shape[0], k))
    np.add.at(copies, (graph.nodes, labels), 1.0)
    outside = copies.sum(axis=1, keepdims=True) - copies
    fewest_in = np.where(copies > 0, copies, np.inf).min(axis=0)
    fewest_out = np.where(outside > 0, outside, np.inf).min(axis=0)
    return link_weight * fewest_in * fewest_out


def cuts_at_most_one_link(graph, labels):
    """Whether no cluster of ``labels`` is joined to the others by more
    than one link of ``graph``'s largest weight.

    The graph resolves a cut to one link, not finer: a cluster that no link
    leaves (a separate group of the graph) and one that links weighing
    together no more than one row's link to its nearest neighbour
    (:data:`LINK_WEIGHT`) join to the rest are cut equally cleanly, as
    ``n_clusters="auto"``'s score counts them too. A small group far from
    a large one is the second kind when it has fewer rows than the graph's
    neighbours per row: each of its rows then links to rows of the large
    group, with weights far below 1 but not 0.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row.

    Returns
    -------
    separate : bool
        True when, for every cluster whose rows have links, the weight of
        the links that leave it is at most :func:`one_link_weight` (on a
        RowGraph, the copies of a value split between clusters are cut from
        their neighbours' copies, :func:`cluster_volumes`). False for a graph
        without edges.
    """
    volume, inside = cluster_volumes(graph, labels)
    used = volume > 0
    leaving = volume[used] - inside[used]
    return bool(used.any() and np.all(leaving <= one_link_weight(graph, labels)[used]))


def merge_by_modularity(graph, labels, n_clusters):
    """Merge the clusters of ``labels`` greedily until ``n_clusters`` remain.

    Each step joins the two clusters whose union raises the modularity of
    the partition on ``graph`` most (or lowers it least): the pair with the
    most edge weight between them relative to the product of their degrees,
    as in the agglomeration of Clauset, Newman and Moore (2004), started
    from ``labels`` rather than from single rows.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative edge weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row; labels without rows (empty clusters of
        k-means) are not clusters.
    n_clusters : int
        Number of clusters to merge down to (fewer only when ``labels`` has
        fewer).

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Cluster of each row, ``0`` to ``n_clusters - 1``.
    """
    graph = _unwrap(graph)
    # Numbered anew, so that k counts the clusters with rows: an empty one
    # (k-means asked for more clusters than there are distinct points) would
    # otherwise take a merge, and a real cluster would be merged for it.
    labels = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
    k = int(labels.max()) + 1
    if isinstance(graph, RowGraph):
        shares = _shares(graph, labels, k)
        weights = (shares.T @ graph.weights @ shares).toarray()
    else:
        graph = scipy.sparse.coo_matrix(graph)
        weights = np.zeros((k, k))
        np.add.at(weights, (labels[graph.row], labels[graph.col]), graph.data)
    # Without links (rows all alike) every join gains nothing: total 1, not
    # 0, whose square would make the gains 0 / 0.
    total = weights.sum() or 1.0
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
