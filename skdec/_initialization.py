"""The clusterings that self-training starts from, one per ``init``.

:func:`initial_clustering` returns the same thing for every ``init``: the
centres of the clustering layer, the label of each row and, where the
clusters were not found by k-means in the embedding itself, the hard target
that self-training first teaches the encoder (see
:func:`skdec._training.learn_initial_target`).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin

from skdec._batches import PREDICT_BATCH_SIZE, map_batches
from skdec._modularity import graph_modularity, merge_by_modularity

# Rows the initial clustering (k-means, or UMAP and k-means) is fitted on at
# most; larger data sets use a random sample of this size. See
# benchmarks/scale.py for the cost that sets it.
INIT_MAX_ROWS = 100_000

# Over-clusterings that ``umap_kmeans_centers(merge=True)`` also tries, as
# multiples of ``n_clusters``.
MERGE_FACTORS = (2, 3)


@dataclass
class InitialClustering:
    """Where self-training starts.

    Attributes
    ----------
    centers : ndarray of shape (n_clusters, n_components)
        Initial centres of the clustering layer, in the embedding.
    labels : ndarray of shape (n_samples,)
        Initial cluster of each training row.
    target : ndarray of shape (n_samples, n_clusters) or None
        One-hot ``labels``, to be learned by the encoder before DEC's own
        targets take over, when the clusters were found elsewhere than by
        k-means in the embedding (which the embedding may not yet show);
        None otherwise.
    """

    centers: np.ndarray
    labels: np.ndarray
    target: np.ndarray | None = None


def initial_clustering(
    init, X, Z, n_clusters, *, n_init, seed, umap_metric="euclidean", umap_merge=False
):
    """The clustering that self-training starts from.

    Parameters
    ----------
    init : {"kmeans", "kmeans_input", "umap"}
        ``"kmeans"``: k-means in the embedding ``Z``, whose centres become
        the initial centres (the paper's). ``"kmeans_input"``: k-means on the
        input rows ``X``. ``"umap"``: k-means in a UMAP map of ``Z``
        (:func:`umap_kmeans_centers`). For the last two, the centres are the
        means of the clusters in ``Z`` and their labels the first target.
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    Z : ndarray of shape (n_samples, n_components)
        Their embedding by the pretrained encoder.
    n_clusters, n_init : int
        Number of clusters, and of k-means runs from different seeds.
    seed : int
        Seed of the k-means runs, UMAP and any sample of rows.
    umap_metric : str, default="euclidean"
        Neighbour metric of UMAP (``init="umap"``).
    umap_merge : bool, default=False
        Whether UMAP's map is also over-clustered and merged back by
        modularity (``init="umap"``).

    Returns
    -------
    start : InitialClustering
    """
    if init == "kmeans":
        centers, labels = kmeans_centers(Z, n_clusters, n_init, seed)
        return InitialClustering(centers, labels)
    if init == "kmeans_input":
        _, labels = kmeans_centers(X, n_clusters, n_init, seed)
        centers = cluster_means(Z, labels, n_clusters)
    elif init == "umap":
        centers, labels = umap_kmeans_centers(
            Z, n_clusters, n_init, seed, metric=umap_metric, merge=umap_merge
        )
    else:
        raise ValueError(f"Unknown init {init!r}.")
    return InitialClustering(centers, labels, np.eye(n_clusters)[labels])


def _init_sample(n_samples, max_rows, seed):
    """Rows the initial clustering is fitted on: all (None), or ``max_rows``.

    ``max_rows=None`` means :data:`INIT_MAX_ROWS`.
    """
    max_rows = INIT_MAX_ROWS if max_rows is None else max_rows
    if n_samples <= max_rows:
        return None
    rng = np.random.default_rng([seed, 3])
    return np.sort(rng.choice(n_samples, max_rows, replace=False))


def kmeans_centers(Z, n_clusters, n_init, seed, max_rows=None):
    """Centres and labels of the best of ``n_init`` k-means runs on ``Z``.

    ``Z`` is the embedding, or the input rows themselves for
    ``init="kmeans_input"``. Above ``max_rows`` rows (default
    :data:`INIT_MAX_ROWS`) k-means is fitted on ``max_rows`` rows drawn at
    random, and every row gets the label of its nearest centre, one batch at
    a time: a ``uint8`` array or a memmap is converted to float64 at most
    ``max_rows`` rows at once, never whole.
    """
    sample = _init_sample(Z.shape[0], max_rows, seed)
    kmeans = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    if sample is None:
        labels = kmeans.fit_predict(np.asarray(Z, dtype=np.float64))
    else:
        kmeans.fit(np.asarray(Z[sample], dtype=np.float64))
        labels = map_batches(
            lambda rows: pairwise_distances_argmin(rows, kmeans.cluster_centers_),
            Z,
            PREDICT_BATCH_SIZE,
            dtype=np.float64,
        )
    return kmeans.cluster_centers_, labels


def cluster_means(Z, labels, n_clusters):
    """Mean of the rows of ``Z`` in each cluster (zero for an empty one)."""
    centers = np.zeros((n_clusters, Z.shape[1]))
    np.add.at(centers, labels, np.asarray(Z, dtype=np.float64))
    counts = np.bincount(labels, minlength=n_clusters)
    return centers / np.maximum(counts, 1)[:, None]


def umap_kmeans_centers(
    Z,
    n_clusters,
    n_init,
    seed,
    n_neighbors=15,
    max_rows=None,
    metric="euclidean",
    merge=False,
):
    """Clusters of ``Z`` found by k-means in its UMAP map (as N2D does).

    UMAP maps ``Z`` to ``n_clusters`` dimensions with ``min_dist=0``, which
    keeps each point's neighbourhood (its nearest rows by ``metric``, a
    metric name of umap-learn) and packs clusters tightly; k-means runs
    there ``n_init`` times from different seeds. Of these partitions the one
    with the highest modularity on UMAP's neighbour graph is kept (ties go to
    the lower inertia): the one whose clusters cut the fewest neighbour
    links. Inertia alone can prefer splitting a large elongated cluster and
    merging two touching ones, which the graph shows as cut links. With
    ``merge=True`` each k-means seed also over-clusters the map into
    :data:`MERGE_FACTORS` times ``n_clusters`` clusters, which
    :func:`merge_by_modularity` joins back to ``n_clusters``; these partitions
    compete with the others by the same modularity. A class split across
    two tight groups, one of them touching another class, is then found
    whole more often than k-means finds it. Returns
    the means of the clusters in ``Z`` (the centres DEC starts from) and the
    labels. Above ``max_rows`` rows (default :data:`INIT_MAX_ROWS`) UMAP and
    k-means see ``max_rows`` rows drawn at random, and the other rows get the
    label of their nearest centre in ``Z``.
    """
    try:
        import umap
    except ImportError as exc:
        raise ImportError(
            "init='umap' needs the optional dependency umap-learn: "
            'pip install "skdec[umap]" (or pip install umap-learn).'
        ) from exc
    Z_all = np.asarray(Z, dtype=np.float64)
    sample = _init_sample(Z_all.shape[0], max_rows, seed)
    Z = Z_all if sample is None else Z_all[sample]
    n_samples = Z.shape[0]
    n_components = max(1, min(n_clusters, n_samples - 2))
    reducer = umap.UMAP(
        n_neighbors=max(2, min(n_neighbors, n_samples - 1)),
        n_components=n_components,
        min_dist=0.0,
        metric=metric,
        init="spectral" if n_samples > n_components + 1 else "random",
        random_state=seed,
        n_jobs=1,
    )
    with warnings.catch_warnings():
        # UMAP warns that a random_state makes it single-threaded, and when
        # its spectral initialisation falls back on tiny or disconnected
        # data; neither is the user's to act on.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        mapped = reducer.fit_transform(Z)
    graph = reducer.graph_.tocoo()  # converted once, scored n_init times
    sizes = [n_clusters]
    if merge:
        sizes += [f * n_clusters for f in MERGE_FACTORS if f * n_clusters < n_samples]
    best = None
    for run_seed in np.random.default_rng([seed, 4]).integers(2**31 - 1, size=n_init):
        for size in sizes:
            kmeans = KMeans(n_clusters=size, n_init=1, random_state=int(run_seed))
            run_labels = kmeans.fit_predict(mapped)
            inertia = kmeans.inertia_
            if size > n_clusters:
                run_labels = merge_by_modularity(graph, run_labels, n_clusters)
                means = cluster_means(mapped, run_labels, n_clusters)
                inertia = np.sum((mapped - means[run_labels]) ** 2)
            score = (graph_modularity(graph, run_labels), -inertia)
            if best is None or score > best[0]:
                best = (score, run_labels)
    labels = best[1]
    centers = cluster_means(Z, labels, n_clusters)
    if sample is not None:
        labels, sample_labels = pairwise_distances_argmin(Z_all, centers), labels
        labels[sample] = sample_labels
    return centers, labels
