"""Choosing the number of clusters from the data alone.

The score of a partition into ``k`` clusters is computed on the fuzzy
neighbour graph of the rows (UMAP's, 15 neighbours, searched among the
distinct rows and weighted by their copies,
:func:`~skdec._modularity.neighbor_graph`): the square root of the
``(k + 1)``-th smallest eigenvalue of the graph's normalised Laplacian divided
by the mean conductance of the ``k`` clusters. :func:`choose_n_clusters` scores
the best of a few candidate partitions per ``k`` and keeps the ``k`` of highest
score; :func:`separation_score` scores one given labelling, for the label-free
scorer of :mod:`skdec.metrics`. Plain NumPy, SciPy and scikit-learn.
"""

import math
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin

from ._arpack import DENSE_ROWS, eigsh_seed
from ._batches import map_batches
from ._modularity import (
    LINK_WEIGHT,
    N_NEIGHBORS,
    NEGLIGIBLE_SHARE,
    RowGraph,
    cluster_volumes,
    codelength_saving,
    graph_modularity,
    neighbor_graph,
    one_link_weight,
)
from ._warnings import warn

#: Rows drawn at random when the data has more; the graph, its spectrum and
#: the candidate partitions are computed on these rows only.
MAX_ROWS = 5000
#: The candidate numbers of clusters when none are given.
DEFAULT_CANDIDATES = tuple(range(2, 16))


class NClustersChoice(NamedTuple):
    """What :func:`choose_n_clusters` returns."""

    n_clusters: int
    """The candidate of highest score."""
    scores: dict
    """``{k: score}`` for every candidate ``k``; higher is better."""
    labels: dict
    """``{k: labels}``: the partition scored for each ``k``, one label per
    row of ``X`` (rows outside the sample take the label of the nearest
    cluster mean in ``Z``)."""


def laplacian_spectrum(graph, n_eigenvalues, seed=0):
    """Smallest eigenvalues of the normalised Laplacian, with eigenvectors.

    ``L = I - D^-1/2 W D^-1/2`` for the weights ``W`` and degrees ``D``.
    Up to 1,000 rows the whole spectrum is computed densely; above, a sparse
    solver finds the smallest, on each connected component apart when there
    are several (so that eigenvalue 0 comes once per component; see
    :func:`_union_spectrum`).

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative weights; every row has an edge. A
        :class:`~skdec._modularity.RowGraph` stands for the graph of its rows.
    n_eigenvalues : int
        How many; at most ``n_samples``.
    seed : int, default=0
        Seeds the start vector of the sparse solver (large graphs only).

    Returns
    -------
    eigenvalues : ndarray of shape (n_eigenvalues,)
        Ascending, in [0, 2].
    eigenvectors : ndarray of shape (n_samples, n_eigenvalues)
        The matching eigenvectors of ``D^-1/2 W D^-1/2``, one per column.
        On a RowGraph with copies, each vector that sums to zero over the
        copies of a value is an eigenvector of eigenvalue 1; their columns
        are left zero.
    """
    if isinstance(graph, RowGraph):
        if graph.nodes is not None:
            return _row_spectrum(graph, n_eigenvalues, seed)
        graph = graph.weights
    graph = scipy.sparse.csr_matrix(graph, dtype=np.float64)
    n_samples = graph.shape[0]
    degree = np.asarray(graph.sum(axis=1)).ravel()
    scale = scipy.sparse.diags(1.0 / np.sqrt(np.maximum(degree, np.finfo(float).tiny)))
    adjacency = scale @ graph @ scale
    if n_samples <= DENSE_ROWS or n_eigenvalues >= n_samples - 1:
        values, vectors = scipy.linalg.eigh(adjacency.toarray())
        values, vectors = values[::-1], vectors[:, ::-1]
    else:
        n_components, component = scipy.sparse.csgraph.connected_components(
            graph, directed=False
        )
        if n_components > 1:
            return _union_spectrum(graph, component, n_components, n_eigenvalues, seed)
        start = np.random.default_rng(seed).uniform(0.5, 1.5, n_samples)
        values, vectors = scipy.sparse.linalg.eigsh(
            adjacency, k=n_eigenvalues, which="LA", v0=start, **eigsh_seed(seed)
        )
        order = np.argsort(-values)
        values, vectors = values[order], vectors[:, order]
    values = np.clip(1.0 - values[:n_eigenvalues], 0.0, 2.0)
    return values, vectors[:, :n_eigenvalues]


def _union_spectrum(graph, component, n_components, n_eigenvalues, seed):
    """:func:`laplacian_spectrum` of a graph of several connected components.

    The spectrum of such a graph is the union of its components' spectra, each
    eigenvector zero outside its component; eigenvalue 0 comes once per
    component. The sparse solver, which grows one Krylov space from one start
    vector, finds one eigenvector per repeated eigenvalue in exact arithmetic
    and misses the others (two of five blobs' zeros, say), so each component
    is solved alone. Ties go to the component of the lower number.
    """
    n_samples = graph.shape[0]
    values, vectors = [], []
    for label in range(n_components):
        rows = np.flatnonzero(component == label)
        part = graph[rows][:, rows]
        part_values, part_vectors = laplacian_spectrum(
            part, min(n_eigenvalues, rows.size), seed
        )
        values.append(part_values)
        embedded = np.zeros((n_samples, part_values.size))
        embedded[rows] = part_vectors
        vectors.append(embedded)
    values, vectors = np.concatenate(values), np.hstack(vectors)
    order = np.argsort(values, kind="stable")[:n_eigenvalues]
    return values[order], vectors[:, order]


def _row_spectrum(graph, n_eigenvalues, seed):
    """:func:`laplacian_spectrum` of the rows of a RowGraph with copies.

    A vector constant over each value's copies solves the eigenproblem of
    the rows exactly when its values solve that of ``graph.weights``; the
    rest of the rows' space, vectors that sum to zero over each value's
    copies, has eigenvalue 1 (the copies share their neighbours).
    """
    nodes = graph.nodes
    n_nodes = graph.weights.shape[0]
    counts = np.bincount(nodes, minlength=n_nodes).astype(np.float64)
    values, vectors = laplacian_spectrum(
        graph.weights, min(n_eigenvalues, n_nodes), seed
    )
    # Row r of node u: D^1/2 x with x constant over the copies, whose
    # squares sum to one over the rows.
    vectors = vectors[nodes] / np.sqrt(counts[nodes])[:, None]
    n_ones = min(n_eigenvalues, nodes.size - n_nodes)
    values = np.concatenate([values, np.ones(n_ones)])
    vectors = np.hstack([vectors, np.zeros((nodes.size, n_ones))])
    order = np.argsort(values, kind="stable")[:n_eigenvalues]
    return values[order], vectors[:, order]


def mean_conductance(graph, labels):
    """Mean over clusters of the weight leaving a cluster over its volume.

    The weight leaving a cluster counts as at least one nearest-neighbour
    link (:data:`~skdec._modularity.LINK_WEIGHT`): a cluster that no link
    leaves (a separate group of the graph) and one that a single weak link
    joins to the rest are cut equally cleanly at the graph's resolution.
    Without that floor, exactly separate groups would score infinite and win
    over any partition that one link crosses, however much better it cuts
    the rest. On rows with
    exact copies (a :class:`~skdec._modularity.RowGraph`), a link between
    two values joins every copy of one to every copy of the other, so the
    least that can leave a cluster is one link between the value with the
    fewest copies in it and the value with the fewest copies outside it,
    times both numbers of copies
    (:func:`~skdec._modularity.one_link_weight`): copying every row
    alike then leaves the score as it is.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples) or RowGraph
        Symmetric non-negative weights (a RowGraph: of its rows).
    labels : ndarray of shape (n_samples,)
        Integer cluster of each row.

    Returns
    -------
    conductance : float
        At most 1; above 0, but 0 when fewer than two clusters have edges
        (one cluster, or a graph without edges).
    """
    volume, inside = cluster_volumes(graph, labels)
    used = volume > 0  # clusters whose rows have edges
    if used.sum() < 2:  # one cluster, or no edges: nothing is cut
        return 0.0
    # LINK_WEIGHT is read here, where benchmarks.n_clusters_rules' control
    # sets it to 0.
    floor = one_link_weight(graph, labels, LINK_WEIGHT)[used]
    leaving = np.maximum(volume[used] - inside[used], floor)
    # fsum: the same value whatever the order of the clusters.
    return math.fsum(np.minimum(leaving / volume[used], 1.0)) / int(used.sum())


# Below these, an eigenvalue or a conductance is rounding error around zero.
_EIGENVALUE_TOL = 1e-9
_CONDUCTANCE_TOL = NEGLIGIBLE_SHARE


def _score(eigenvalues, conductance, k):
    """``sqrt(lambda_{k+1}) / conductance``; ``eigenvalues[k]`` is lambda_{k+1}.

    On a graph of several connected components, 0 when more than ``k``
    components remain (lambda_{k+1} = 0, a further cut is free). The
    conductance is at least one link's share of a cluster's volume
    (:func:`mean_conductance`), so the score is finite but for a graph
    without edges.
    """
    if eigenvalues[k] <= _EIGENVALUE_TOL:
        return 0.0
    if conductance <= _CONDUCTANCE_TOL:
        # Only without the floor (LINK_WEIGHT = 0, the control of
        # benchmarks.n_clusters_rules) or on a graph without edges.
        return float("inf")
    return float(np.sqrt(eigenvalues[k]) / conductance)


def _sample(n_samples, max_rows, seed):
    if max_rows is None or n_samples <= max_rows:
        return None
    rng = np.random.default_rng([seed, 20])
    return np.sort(rng.choice(n_samples, max_rows, replace=False))


def _warn_few_values(graph, n_neighbors, advice):
    """Warn where the rows of ``graph`` (a RowGraph) have so few distinct
    values that its score cannot tell clusters apart: at most
    ``n_neighbors`` with copies, every value is a neighbour of every other
    and copies of a value are linked to none of each other, so a cluster of
    one value has no link inside it (or fewer than ``log2(n_neighbors) + 1``
    values in all). ``advice`` ends the message."""
    n_values = graph.weights.shape[0]
    copies = graph.nodes is not None
    if n_values - 1 < math.log2(n_neighbors) or (copies and n_values <= n_neighbors):
        scorer = "the neighbour graph that scores a clustering"
        if n_values == 1:
            what = f"every row of X is the same: {scorer} has no link, so it "
            what += "cannot tell clusters apart. "
        elif copies:
            what = (
                f"X has only {n_values} distinct rows: {scorer} links every two "
                "of them, and no two copies of a row, so it cannot tell a "
                "cluster of copies of one row from a poor cluster. "
            )
        else:
            what = (
                f"X has only {n_values} rows: {scorer} links every two of them, "
                "so it cannot tell a good cluster from a poor one. "
            )
        warn(what + advice, UserWarning)


def separation_score(X, labels, *, n_neighbors=N_NEIGHBORS, max_rows=MAX_ROWS, seed=0):
    """How well ``labels`` cut the neighbour graph of ``X``; higher is better.

    ``sqrt(lambda_{k+1}) / mean_conductance``: ``lambda_{k+1}`` is the
    ``(k + 1)``-th smallest eigenvalue of the normalised Laplacian of the
    fuzzy neighbour graph of the rows (exact copies of a row share one node,
    :func:`~skdec._modularity.neighbor_graph`), which is
    large when no further cut of the graph is cheap, and the mean conductance
    is the mean over the ``k`` clusters of the edge weight leaving a cluster
    over its volume, which is small when the clusters are cut along sparse
    regions. On a graph without cluster structure the k-way conductance grows
    like ``sqrt(lambda_k)`` (Cheeger's inequality), so the score stays flat
    in ``k``; it peaks where ``k`` clusters separate cleanly.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
        At least 2 distinct labels, fewer than ``n_samples - 1``.
    n_neighbors : int, default=15
    max_rows : int or None, default=5000
        Above this, rows drawn at random (with ``seed``) are scored.
    seed : int, default=0

    Returns
    -------
    score : float
    """
    X = np.asarray(X)  # in its own dtype: only the rows scored are converted
    labels = np.asarray(labels)
    n_given = X.shape[0]
    sample = _sample(n_given, max_rows, seed)
    if sample is not None:
        X, labels = X[sample], labels[sample]
    X = np.asarray(X, dtype=np.float64)
    k = np.unique(labels).size
    # Checked first, so that a validation fold too small to score fails the
    # same way whether predict gave it one cluster or several.
    if k + 1 > X.shape[0] - 1:
        used = (
            f"got {X.shape[0]}"
            if sample is None
            else f"max_rows={max_rows} of the {n_given} given are used"
        )
        clusters = "cluster" if k == 1 else "clusters"
        raise ValueError(
            f"The score of {k} {clusters} needs at least {k + 2} rows; {used}."
        )
    if k < 2:
        return 0.0
    if (X == X[0]).all():
        return 0.0  # one point: its graph has no link, and no cut separates
    graph = neighbor_graph(X, n_neighbors)
    _warn_few_values(graph, n_neighbors, "Do not compare labellings by it.")
    eigenvalues, _ = laplacian_spectrum(graph, k + 1, seed)
    return _score(eigenvalues, mean_conductance(graph, labels), k)


# How choose_n_clusters rates the partitions proposed for one k; highest wins.
_SELECTIONS = {
    "modularity": graph_modularity,
    "map_equation": codelength_saving,
    "score": lambda graph, labels: -mean_conductance(graph, labels),
}


def _kmeans(space, k, seed, n_init):
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(space)


def choose_n_clusters(
    X,
    Z=None,
    candidates=DEFAULT_CANDIDATES,
    *,
    seed=0,
    max_rows=MAX_ROWS,
    n_neighbors=N_NEIGHBORS,
    n_init=4,
    proposals=(),
    select="modularity",
):
    """Choose the number of clusters of ``X`` among ``candidates``.

    For each candidate ``k``, up to three partitions of the rows are found:
    k-means on ``X``, k-means on the embedding ``Z`` and spectral clustering
    of the neighbour graph of ``X`` (k-means on the rows of its first ``k``
    Laplacian eigenvectors, normalised), and one more by k-means in each view
    of ``proposals``. The one of highest modularity on that graph (or as
    ``select`` says) is scored by :func:`separation_score` (on the same
    graph), and the ``k`` of highest score is chosen; ties go to the smaller
    ``k``. The graph and its spectrum are computed once for all candidates.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The rows as the clustering sees them (scaled).
    Z : ndarray of shape (n_samples, n_components), default=None
        An embedding of the same rows (DEC's pretrained encoder); it only
        proposes partitions. None leaves that candidate out.
    candidates : iterable of int, default=range(2, 16)
        Numbers of clusters to try, each at least 2 and at most
        ``n_rows - 2`` (``n_rows``: the rows used, at most ``max_rows``).
    seed : int, default=0
        Seeds the sample of rows, k-means and the eigensolver.
    max_rows : int or None, default=5000
        Above this many rows, everything is computed on ``max_rows`` rows drawn
        at random; the other rows get the label of the nearest cluster mean in
        ``Z`` (in ``X`` without ``Z``).
    n_neighbors : int, default=15
        Neighbours per distinct row in the graph.
    n_init : int, default=4
        k-means restarts per partition.
    proposals : sequence of ndarray, default=()
        Further views of the same rows as ``X`` (a UMAP map of ``Z``, say),
        each of which proposes one more partition per ``k`` by k-means, as
        ``Z`` does. The estimator gives none.
    select : {"modularity", "map_equation", "score"}, default="modularity"
        Which partition per ``k`` is scored: the one of highest modularity
        (:func:`~skdec._modularity.graph_modularity`, the estimator's), of
        highest map-equation saving
        (:func:`~skdec._modularity.codelength_saving`), or of highest score,
        that is of lowest mean conductance (:func:`mean_conductance`).

    Returns
    -------
    choice : NClustersChoice
        ``(n_clusters, scores, labels)``.

    Notes
    -----
    The embedding never enters the score: it only proposes partitions, so an
    embedding cannot favour its own clusters, and the same score judges any
    labelling (:func:`skdec.metrics.graph_separation_score`). The cost is one
    exact neighbour search on at most ``max_rows`` rows, one sparse
    eigendecomposition (dense below 1,000 rows), and ``n_init`` k-means runs
    per partition, three partitions per candidate (two without ``Z``).

    It finds clusters, not classes, and errs low where clusters are nested
    (one group far from the rest wins at ``k = 2``), where classes overlap in
    ``X``, and where many classes are smaller than ``n_neighbors`` rows; on
    data without cluster structure it returns the smallest candidate. Only
    partitions into exactly ``k`` clusters are scored for ``k``; a ``k``
    that none of them reaches (fewer distinct rows than ``k``) scores 0. On
    at most ``n_neighbors`` distinct rows with copies (or on fewer than
    ``log2(n_neighbors) + 1``, 4 for 15 neighbours), the
    graph links every value to every other and no copy to another copy of
    its row, so that a cluster made of one value has no link inside it; a
    ``UserWarning`` says that it cannot tell such clusters apart.
    """
    if select not in _SELECTIONS:
        raise ValueError(
            f"select should be one of {sorted(_SELECTIONS)}, got {select!r}."
        )
    # X in its own dtype (uint8 pixels, a memmap): only the sampled rows
    # are converted to float64.
    X_all = np.asarray(X)
    Z_all = None if Z is None else np.asarray(Z, dtype=np.float64)
    if X_all.ndim != 2:
        raise ValueError(f"X should be 2-dimensional, got shape {X_all.shape}.")
    if Z_all is not None and Z_all.shape[0] != X_all.shape[0]:
        raise ValueError(
            f"X and Z should have the same rows, got {X_all.shape[0]} and "
            f"{Z_all.shape[0]}."
        )
    views = [np.asarray(view, dtype=np.float64) for view in proposals]
    for view in views:
        if view.shape[0] != X_all.shape[0]:
            raise ValueError(
                f"proposals should have the rows of X, got {view.shape[0]} and "
                f"{X_all.shape[0]}."
            )
    if Z_all is not None:
        views.insert(0, Z_all)
    candidates = sorted({int(k) for k in candidates})
    sample = _sample(X_all.shape[0], max_rows, seed)
    X = np.asarray(X_all if sample is None else X_all[sample], dtype=np.float64)
    n_rows = X.shape[0]
    if not candidates or candidates[0] < 2 or candidates[-1] > n_rows - 2:
        raise ValueError(
            f"candidates should be integers from 2 to n_rows - 2 = {n_rows - 2} "
            f"(n_rows={n_rows} rows used), got {candidates}."
        )
    graph = neighbor_graph(X, n_neighbors)
    _warn_few_values(graph, n_neighbors, "Give n_clusters yourself.")
    eigenvalues, vectors = laplacian_spectrum(graph, candidates[-1] + 1, seed)
    spaces = [X, *(view if sample is None else view[sample] for view in views)]
    scores, labels = {}, {}
    for k in candidates:
        spectral = vectors[:, :k] / np.maximum(
            np.linalg.norm(vectors[:, :k], axis=1, keepdims=True), 1e-12
        )
        partitions = [_kmeans(s, k, seed, n_init) for s in [*spaces, spectral]]
        # Only partitions into k clusters are k-way cuts: on few distinct
        # rows k-means can return fewer, even one, whose score would say
        # nothing of k (one cluster has no cut: its conductance is 0).
        whole = [p for p in partitions if np.unique(p).size == k]
        best = max(whole or partitions, key=lambda p: _SELECTIONS[select](graph, p))
        scores[k] = (
            _score(eigenvalues, mean_conductance(graph, best), k) if whole else 0.0
        )
        labels[k] = _extend(best, sample, X_all if Z_all is None else Z_all)
    n_clusters = _highest(scores, candidates)
    if eigenvalues[candidates[-1]] <= _EIGENVALUE_TOL:
        _warn_of_more_groups(graph, candidates[-1], n_clusters)
    return NClustersChoice(n_clusters, scores, labels)


def _warn_of_more_groups(graph, largest, chosen):
    """Warn that ``lambda_{k+1}`` is 0 for the ``largest`` candidate ``k``:
    more groups than it that no link, or only links of negligible weight,
    join; the separate groups are counted."""
    weights = graph.weights if isinstance(graph, RowGraph) else graph
    n_pieces = scipy.sparse.csgraph.connected_components(weights, directed=False)[0]
    if n_pieces > largest:
        groups = (
            f"falls apart into {n_pieces} separate groups, more than the "
            f"largest candidate number of clusters ({largest})"
        )
        at_least = f" to at least {n_pieces}"
    else:
        groups = (
            "falls apart into more groups than the largest candidate number "
            f"of clusters ({largest}), joined only by links of negligible weight"
        )
        at_least = ""
    warn(
        f"The neighbour graph of the rows {groups}: every candidate scores 0, "
        f"and the smallest, {chosen}, was chosen. Widen the range of "
        f"candidates (n_clusters_range, or --n-clusters-range on the command "
        f"line){at_least}.",
        UserWarning,
    )


def _highest(scores, candidates):
    """The candidate of highest score, the smaller on ties; None if none."""
    return max(candidates, key=lambda k: (scores[k], -k), default=None)


def runner_up(scores, chosen):
    """The candidate of highest score but ``chosen`` (of ``{k: score}``), the
    smaller on ties; None when ``chosen`` is the only one."""
    return _highest(scores, [k for k in scores if k != chosen])


def _extend(labels, sample, space):
    """Labels of every row: the sample's own, the nearest mean for the rest."""
    labels = np.unique(labels, return_inverse=True)[1]
    if sample is None:
        return labels
    k = int(labels.max()) + 1
    means = np.zeros((k, space.shape[1]))
    np.add.at(means, labels, np.asarray(space[sample], dtype=np.float64))
    means /= np.bincount(labels, minlength=k)[:, None]
    # Batch by batch: X itself is the space when no embedding is given.
    full = map_batches(
        lambda rows: pairwise_distances_argmin(rows, means), space, dtype=np.float64
    )
    full[sample] = labels
    return full
