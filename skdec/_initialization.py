"""The clusterings that self-training starts from, one per ``init``.

:func:`initial_clustering` returns the same thing for every ``init``: the
centres of the clustering layer, the label of each row and, where the
clusters were not found by k-means in the embedding itself, the hard target
that self-training first teaches the encoder (see
:func:`skdec._training.learn_initial_target`).
"""

import contextlib
import functools
import sys
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances_argmin
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from skdec._arpack import seeded_eigsh
from skdec._batches import PREDICT_BATCH_SIZE, map_batches
from skdec._modularity import (
    N_NEIGHBORS,
    codelength_saving,
    count_copies,
    cuts_at_most_one_link,
    distinct_rows,
    graph_modularity,
    merge_by_modularity,
    neighbor_graph,
)

# Rows the initial clustering (k-means, or UMAP and k-means) is fitted on at
# most; larger data sets use a random sample of this size. See
# benchmarks/scale.py for the cost that sets it.
INIT_MAX_ROWS = 100_000

# Rows on which init="auto" judges its candidates and runs its k-means
# candidates at most: the exact neighbour graph of the input that judges them
# costs the square of its rows. The UMAP candidate maps up to INIT_MAX_ROWS
# rows, as init="umap" does, which holds these rows.
AUTO_MAX_ROWS = 10_000

# Over-clusterings that the k-means runs in a UMAP map also try with
# ``merge=True``, as multiples of ``n_clusters``.
MERGE_FACTORS = (2, 3)

# The starts that init="auto" chooses from.
AUTO_CANDIDATES = ("kmeans", "kmeans_input", "umap")

# From this many rows umap-learn finds neighbours approximately, with
# pynndescent, whose compiled functions are closures that numba cannot cache:
# every new process compiles them again (tens of seconds). umap_view gives
# UMAP exact neighbours there instead, found by scikit-learn.
_UMAP_APPROXIMATE_ROWS = 4096


@contextlib.contextmanager
def few_distinct_rows_said_once():
    """Silence k-means' warning of fewer distinct rows than clusters: every
    k-means run of every candidate (of the start, or of ``n_clusters``) says
    so; a fit says it once, at its end, if clusters stay empty."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Number of distinct clusters", ConvergenceWarning
        )
        yield


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
    method : str or None
        With ``init="auto"``, the candidate chosen (one of
        :data:`AUTO_CANDIDATES`).
    scores : dict of str to float or None
        With ``init="auto"``, the criterion of the best partition of each
        candidate: the bits its map equation saves on the neighbour graph of
        the input, or ``inf`` if no more than one link of that graph joins
        any of its clusters to the others (:func:`start_criterion`).
    judge : callable or None
        With ``init="auto"``, the same criterion for any labels of the
        training rows: ``judge(labels) -> float``; ``-inf`` for labels that
        leave empty a cluster the start filled, so that the weights kept by
        self-training never lose a cluster to save more bits.
    """

    centers: np.ndarray
    labels: np.ndarray
    target: np.ndarray | None = None
    method: str | None = None
    scores: dict | None = None
    judge: object = None


def initial_clustering(
    init, X, Z, n_clusters, *, n_init, seed, umap_metric="euclidean", umap_merge=False
):
    """The clustering that self-training starts from.

    Parameters
    ----------
    init : {"kmeans", "kmeans_input", "umap", "umap_input"}
        ``"kmeans"``: k-means in the embedding ``Z``, whose centres become
        the initial centres (the paper's). ``"kmeans_input"``: k-means on the
        input rows ``X``. ``"umap"``: k-means in a UMAP map of ``Z``
        (:func:`umap_kmeans_centers`); ``"umap_input"``: in a UMAP map of
        ``X``. For all but the first, the centres are the means of the
        clusters in ``Z`` and their labels the first target.
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
    if init == "auto":
        return auto_clustering(X, Z, n_clusters, n_init=n_init, seed=seed)
    if init == "kmeans":
        centers, labels = kmeans_centers(Z, n_clusters, n_init, seed)
        return InitialClustering(centers, labels)
    if init == "kmeans_input":
        _, labels = kmeans_centers(X, n_clusters, n_init, seed)
        centers = cluster_means(Z, labels, n_clusters)
    elif init in ("umap", "umap_input"):
        centers, labels = umap_kmeans_centers(
            Z if init == "umap" else X,
            n_clusters,
            n_init,
            seed,
            metric=umap_metric,
            merge=umap_merge,
            rows=X,
        )
        if init == "umap_input":
            centers = cluster_means(Z, labels, n_clusters)
    else:
        raise ValueError(f"Unknown init {init!r}.")
    return InitialClustering(centers, labels, np.eye(n_clusters)[labels])


def _init_sample(n_samples, max_rows, seed, n_clusters=0):
    """Rows the initial clustering is fitted on: all (None), or ``max_rows``,
    and at least ``n_clusters`` (k-means needs a row per cluster).

    ``max_rows=None`` means :data:`INIT_MAX_ROWS`.
    """
    max_rows = max(INIT_MAX_ROWS if max_rows is None else max_rows, n_clusters)
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
    sample = _init_sample(Z.shape[0], max_rows, seed, n_clusters)
    kmeans = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    if sample is None:
        labels = kmeans.fit_predict(np.asarray(Z, dtype=np.float64))
    else:
        kmeans.fit(_sample_rows(Z, sample))
        labels = _nearest_centers(Z, kmeans.cluster_centers_)
    return kmeans.cluster_centers_, labels


def cluster_means(Z, labels, n_clusters):
    """Mean of the rows of ``Z`` in each cluster (zero for an empty one)."""
    centers = np.zeros((n_clusters, Z.shape[1]))
    np.add.at(centers, labels, np.asarray(Z, dtype=np.float64))
    counts = np.bincount(labels, minlength=n_clusters)
    return centers / np.maximum(counts, 1)[:, None]


def _sample_rows(M, sample):
    """The rows ``sample`` (all if None) of M as float64, converting only them."""
    return np.asarray(M if sample is None else M[sample], dtype=np.float64)


# umap-learn's modules whose compiled functions _import_umap caches on disk.
_UMAP_MODULES = (
    "umap.umap_",
    "umap.layouts",
    "umap.spectral",
    "umap.utils",
    "umap.distances",
    "umap.sparse",
)


@functools.cache
def _import_umap():
    """umap-learn, with numba's on-disk cache on for its compiled functions.

    umap-learn compiles most of its numba functions without numba's
    ``cache=True``, so each new Python process compiles them again at its first
    UMAP fit, which takes tens of seconds on two cores. Turning the cache on
    for each compiled function of :data:`_UMAP_MODULES` lets later processes
    load the compiled code instead of compiling it: the same code, so the maps
    do not change. The cache lies where numba puts that of any cached function
    (``NUMBA_CACHE_DIR`` if set, else beside umap-learn's files or in the
    user's cache directory); a function for which numba finds no writable
    place is left as it was.
    """
    import importlib

    import numba.core.dispatcher
    import umap

    for name in _UMAP_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # another version of umap-learn
            continue
        for function in vars(module).values():
            if isinstance(function, numba.core.dispatcher.Dispatcher):
                try:
                    function.enable_caching()
                except RuntimeError:  # numba: no cache location for the file
                    pass
    return umap


def umap_view(M, n_clusters, seed, *, metric="euclidean", n_neighbors=15):
    """UMAP's map of the rows of M and its neighbour graph.

    The map has ``n_clusters`` dimensions and ``min_dist=0``, which keeps each
    row's neighbourhood (its ``n_neighbors`` nearest rows by ``metric``) and
    packs clusters tightly, as in N2D. The neighbours are exact at every size
    (:func:`exact_neighbors` from 4,096 rows, where umap-learn would search
    approximately). Returns the mapped rows and UMAP's fuzzy neighbour graph
    (a symmetric sparse matrix of edge weights).

    Fewer than 3 distinct rows are not laid out: the rows themselves are
    the map, and the graph links the two values, if two. Exact copies of a
    row are mapped once, as umap-learn's ``unique=True`` does: with
    ``n_neighbors`` copies or more, a row's neighbours would be its own
    copies and the graph would fall apart into groups of copies. Copies then
    share their point of the map, and the graph is a
    :class:`~skdec._modularity.RowGraph` that counts them.
    """
    values, nodes, counts = distinct_rows(M)
    if values.shape[0] < 3:
        # Too few points to lay out: the rows are their own map, and the
        # graph links the two values (or none), weighted by their copies.
        n_values = values.shape[0]
        links = scipy.sparse.csr_matrix(1.0 - np.eye(n_values))
        return np.asarray(M, dtype=np.float64), count_copies(links, nodes, counts)
    if values.shape[0] == M.shape[0]:
        return _umap_map(M, n_clusters, seed, metric, n_neighbors)
    mapped, graph = _umap_map(values, n_clusters, seed, metric, n_neighbors)
    return mapped[nodes], count_copies(graph, nodes, counts)


def _umap_map(M, n_clusters, seed, metric, n_neighbors):
    """:func:`umap_view` of rows taken as they are."""
    umap = _import_umap()
    n_samples = M.shape[0]
    n_components = max(1, min(n_clusters, n_samples - 2))
    n_neighbors = max(2, min(n_neighbors, n_samples - 1))
    neighbors = {}
    if n_samples >= _UMAP_APPROXIMATE_ROWS:
        neighbors["precomputed_knn"] = exact_neighbors(M, n_neighbors, metric)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=n_components,
        min_dist=0.0,
        metric=metric,
        # Spectral on 3 rows is not reproducible (umap-learn 0.5: the map's
        # signs change from call to call).
        init="spectral" if n_samples > max(3, n_components + 1) else "random",
        random_state=seed,
        n_jobs=1,
        **neighbors,
    )
    with warnings.catch_warnings(), _torch_threads_kept(), seeded_eigsh(seed):
        # UMAP warns that a random_state makes it single-threaded, and when
        # its spectral initialisation falls back on tiny or disconnected
        # data; neither is the user's to act on.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        mapped = reducer.fit_transform(M)
    return mapped, reducer.graph_.tocoo()


@contextlib.contextmanager
def _torch_threads_kept():
    """Give PyTorch back its thread count, if UMAP changed it.

    UMAP's first parallel function launches numba's OpenMP thread pool,
    which sets the OpenMP thread count of the process to numba's (the
    number of cores); PyTorch, which shares the OpenMP runtime, takes it up.
    With ``OMP_NUM_THREADS=1``, say, every fit after the first would train
    on the Keras PyTorch backend with more threads than the first, which
    changes its result and, on busy cores, slows each step many times over.
    """
    torch = sys.modules.get("torch")
    threads = None if torch is None else torch.get_num_threads()
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def exact_neighbors(M, n_neighbors, metric="euclidean"):
    """Each row's ``n_neighbors`` nearest rows of ``M``, itself first.

    In the form of UMAP's ``precomputed_knn``: ``(indices, distances)``,
    int32 and float32 arrays of shape ``(n_samples, n_neighbors)``, each row's
    own index first at distance 0. A brute-force search (scikit-learn's
    ``NearestNeighbors``), chunked to bounded memory, whose cost does not
    depend on how the rows are spread, as a tree's does.
    """
    search = NearestNeighbors(
        n_neighbors=n_neighbors - 1, algorithm="brute", metric=metric
    )
    # Without rows to query, each row's neighbours are the other rows.
    distances, indices = search.fit(M).kneighbors()
    own = np.arange(M.shape[0])[:, None]
    indices = np.hstack([own, indices]).astype(np.int32)
    distances = np.hstack([np.zeros_like(own, dtype=distances.dtype), distances])
    return indices, distances.astype(np.float32)


def map_partitions(mapped, graph, n_clusters, n_init, seed, *, merge):
    """The k-means runs in a UMAP map, as ``(labels, inertia)`` pairs.

    ``n_init`` k-means runs from seeds drawn from ``seed``; with ``merge``,
    each seed also over-clusters the map into :data:`MERGE_FACTORS` times
    ``n_clusters`` clusters, which :func:`merge_by_modularity` joins back to
    ``n_clusters`` on ``graph`` (their inertia is then that of the merged
    clusters). A class that the map shows as two groups, one of them touching
    another class, is found whole more often that way.
    """
    n_samples = mapped.shape[0]
    sizes = [n_clusters]
    if merge:
        sizes += [f * n_clusters for f in MERGE_FACTORS if f * n_clusters < n_samples]
    for run_seed in np.random.default_rng([seed, 4]).integers(2**31 - 1, size=n_init):
        for size in sizes:
            kmeans = KMeans(n_clusters=size, n_init=1, random_state=int(run_seed))
            # An over-clustering may ask for more clusters than the map has
            # distinct points; merging makes up for it, and the warning would
            # repeat for every run.
            with (
                few_distinct_rows_said_once()
                if size > n_clusters
                else contextlib.nullcontext()
            ):
                labels = kmeans.fit_predict(mapped)
            if size > n_clusters:
                labels = merge_by_modularity(graph, labels, n_clusters)
            # Not kmeans.inertia_, which OpenMP sums in chunks per thread: from
            # three threads on, its last bit moves from call to call, and it
            # broke ties between runs that found the same partition, so that
            # the clusters' numbers did. Summed here in the rows' order, the
            # inertia of a partition is the same however it is numbered.
            means = cluster_means(mapped, labels, n_clusters)
            yield labels, float(np.sum((mapped - means[labels]) ** 2))


def best_map_partition(mapped, graph, n_clusters, n_init, seed, *, merge):
    """The run of :func:`map_partitions` of highest modularity on ``graph``,
    ties to the lower inertia: the labels ``init="umap"`` starts from."""
    labels, _ = max(
        map_partitions(mapped, graph, n_clusters, n_init, seed, merge=merge),
        key=lambda run: (graph_modularity(graph, run[0]), -run[1]),
    )
    return labels


def umap_kmeans_centers(
    Z,
    n_clusters,
    n_init,
    seed,
    n_neighbors=15,
    max_rows=None,
    metric="euclidean",
    merge=False,
    rows=None,
):
    """Clusters of ``Z`` found by k-means in its UMAP map (as N2D does).

    k-means runs ``n_init`` times in the map of :func:`umap_view` (see
    :func:`map_partitions` for ``merge``). Of these partitions the one with
    the highest modularity on UMAP's neighbour graph is kept (ties go to the
    lower inertia): the one whose clusters cut the fewest neighbour links.
    Inertia alone can prefer splitting a large elongated cluster and merging
    two touching ones, which the graph shows as cut links. Returns the means
    of the clusters in ``Z`` (the centres DEC starts from) and the labels.
    Above ``max_rows`` rows (default :data:`INIT_MAX_ROWS`) UMAP and k-means
    see ``max_rows`` rows drawn at random, and the other rows get the label
    of their nearest centre in ``Z``, but for those that repeat a mapped row
    (the same values in ``rows``, by default ``Z``), which take its label.
    """
    sample = _init_sample(Z.shape[0], max_rows, seed, n_clusters)
    Z_fit = _sample_rows(Z, sample)
    mapped, graph = umap_view(
        Z_fit, n_clusters, seed, metric=metric, n_neighbors=n_neighbors
    )
    labels = best_map_partition(mapped, graph, n_clusters, n_init, seed, merge=merge)
    centers = cluster_means(Z_fit, labels, n_clusters)
    if sample is not None:
        # Only the clusters the sample filled have a mean to be nearest to
        # (an empty one's zero is no centre).
        filled = np.unique(labels)
        labels, sample_labels = filled[_nearest_centers(Z, centers[filled])], labels
        labels[sample] = sample_labels
        _copies_share_labels(Z if rows is None else rows, sample, labels)
    return centers, labels


def _copies_share_labels(M, known_rows, labels):
    """Give each row of ``M`` outside ``known_rows`` that has the values of
    one of them that row's label, in ``labels`` (in place).

    Copies of a row are one point of UMAP's map, so the mapped copies share
    a label; a copy outside the map would otherwise take the label of its
    nearest centre or its neighbours' vote, which can differ (the vote of a
    rare value's copies is the more frequent neighbours'). Rows are matched
    by a hash of their values, computed batch by batch (:func:`map_batches`,
    which releases a memmap's pages), then compared.
    """
    import pandas as pd

    def hashes(rows):
        frame = pd.DataFrame(rows)
        return pd.util.hash_pandas_object(frame, index=False).to_numpy()

    found = map_batches(hashes, M, dtype=np.float64)
    known_rows = np.asarray(known_rows)
    known = found[known_rows]
    order = np.argsort(known, kind="stable")
    keys = known[order]
    outside = np.ones(M.shape[0], dtype=bool)
    outside[known_rows] = False
    rows = np.flatnonzero(outside)
    at = np.minimum(np.searchsorted(keys, found[rows]), keys.size - 1)
    match = keys[at] == found[rows]
    rows, copied = rows[match], known_rows[order[at[match]]]
    for start in range(0, rows.size, PREDICT_BATCH_SIZE):
        part = slice(start, start + PREDICT_BATCH_SIZE)
        same = (np.asarray(M[rows[part]]) == np.asarray(M[copied[part]])).all(axis=1)
        labels[rows[part][same]] = labels[copied[part][same]]


def _nearest_centers(M, centers):
    """The nearest of ``centers`` to each row of M, batch by batch."""
    return map_batches(
        lambda rows: pairwise_distances_argmin(rows, centers),
        M,
        PREDICT_BATCH_SIZE,
        dtype=np.float64,
    )


class AutoCandidates(NamedTuple):
    """What :func:`auto_candidates` returns."""

    candidates: list
    """``(name, labels, centres)`` per candidate partition: its kind (one of
    :data:`AUTO_CANDIDATES`), its labels of the judged rows, and k-means'
    centres (None for the UMAP runs)."""
    sample: np.ndarray | None
    """The judged rows (None: all)."""
    map_rows: np.ndarray | None
    """The rows UMAP mapped (None: all)."""
    map_labels: dict
    """``{position in candidates: labels of the mapped rows}``, UMAP runs."""
    mapped: np.ndarray | None = None
    """UMAP's map of the mapped rows of the embedding (:func:`umap_view`)."""
    graph: object = None
    """UMAP's neighbour graph of the mapped rows (:func:`umap_view`)."""


def auto_judged_rows(n_samples, seed, max_rows=None, n_clusters=0):
    """``(sample, map_rows, in_map)``: the rows ``init="auto"`` judges its
    candidates on and builds its k-means candidates on (None: all), the rows
    UMAP maps (None: all), and the judged rows' positions among those
    (None: all of them); ``max_rows`` as in :func:`auto_candidates`, and
    each at least ``n_clusters`` rows."""
    max_rows = AUTO_MAX_ROWS if max_rows is None else max_rows
    # The UMAP candidate maps up to INIT_MAX_ROWS rows, and the judge's
    # sample is drawn from those: every candidate labels the judged rows.
    map_rows = _init_sample(n_samples, None, seed, n_clusters)
    n_mapped = n_samples if map_rows is None else len(map_rows)
    in_map = _init_sample(n_mapped, max_rows, seed, n_clusters)
    if in_map is None:
        sample = map_rows
    else:
        sample = in_map if map_rows is None else map_rows[in_map]
    return sample, map_rows, in_map


def auto_candidates(X, Z, n_clusters, *, n_init, seed, max_rows=None):
    """The candidate partitions of ``init="auto"``, before any is judged.

    See :func:`auto_clustering`; the same arguments. Returns an
    :class:`AutoCandidates`.
    """
    sample, map_rows, in_map = auto_judged_rows(Z.shape[0], seed, max_rows, n_clusters)
    X_fit, Z_fit = _sample_rows(X, sample), _sample_rows(Z, sample)
    candidates = []  # (name, labels, centres of k-means or None)
    for name, M in (("kmeans", Z_fit), ("kmeans_input", X_fit)):
        kmeans = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
        labels = kmeans.fit_predict(M)
        candidates.append((name, labels, kmeans.cluster_centers_))
    mapped, graph = umap_view(_sample_rows(Z, map_rows), n_clusters, seed)
    map_labels = {}  # position among the candidates: labels of the mapped rows
    runs = map_partitions(mapped, graph, n_clusters, n_init, seed, merge=True)
    for labels, _ in runs:
        map_labels[len(candidates)] = labels
        judged = labels if in_map is None else labels[in_map]
        candidates.append(("umap", judged, None))
    return AutoCandidates(candidates, sample, map_rows, map_labels, mapped, graph)


def start_criterion(graph, labels, n_clusters):
    """How ``init="auto"`` scores a partition of the judged rows.

    Returns ``(score, saving)``: ``saving`` is the map equation's saving on
    ``graph`` (:func:`~skdec._modularity.codelength_saving`), and ``score``
    is ``inf`` for a partition into ``n_clusters`` non-empty clusters none
    of which more than one link of the graph joins to the others
    (:func:`~skdec._modularity.cuts_at_most_one_link`), else ``saving``.
    Such a partition keeps each separate group of the graph whole, up to the
    graph's resolution of one link, and no other can describe it better. The
    saving alone can miss it: with (almost) no link crossed, the saving is
    about the entropy of the clusters' shares of the degree, which is small
    when one cluster is far smaller than the others (about 0.29 bits for a
    group of 5% of the rows), where halving the large group saves up to 1
    bit, less the links the cut crosses.
    Among partitions of equal score, the higher saving ranks first.
    """
    saving = codelength_saving(graph, labels)
    separate = np.unique(labels).size == n_clusters and cuts_at_most_one_link(
        graph, labels
    )
    return (np.inf if separate else saving), saving


def candidate_rank(graph, labels, n_clusters):
    """How ``init="auto"`` ranks a candidate partition on ``graph``, higher
    first: ``(clusters filled, score, saving)`` (:func:`start_criterion`).
    A candidate that fills fewer clusters than another ranks below it: it
    is not the ``n_clusters`` asked for, whatever a coarser partition
    saves."""
    return (np.unique(labels).size, *start_criterion(graph, labels, n_clusters))


def _labels_judge(judge, sample, n_clusters, filled):
    """``judge_labels(labels of every row) -> float``: the criterion of
    :func:`start_criterion` on the graph ``judge`` of the rows ``sample``
    (None: all), ``-inf`` for labels that leave empty one of the clusters
    ``filled``."""

    def judge_labels(all_labels):
        all_labels = np.asarray(all_labels)
        if not np.isin(filled, all_labels).all():
            # Training emptied a cluster of the start: not the n_clusters
            # asked for, whatever a coarser partition saves.
            return -np.inf
        rows = all_labels if sample is None else all_labels[sample]
        return start_criterion(judge, rows, n_clusters)[0]

    return judge_labels


def auto_judge(X, labels, n_clusters, *, seed, max_rows=None):
    """The judge of ``init="auto"`` (``InitialClustering.judge``) for a fit
    that continues from ``labels`` (a warm start): the criterion on the
    graph of the rows of ``X`` that :func:`auto_clustering` would judge its
    candidates on with ``seed``, ``-inf`` for labels that fill fewer
    clusters than ``labels``."""
    sample = auto_judged_rows(X.shape[0], seed, max_rows, n_clusters)[0]
    judge = neighbor_graph(_sample_rows(X, sample))
    return _labels_judge(judge, sample, n_clusters, np.unique(labels))


def auto_clustering(X, Z, n_clusters, *, n_init, seed, max_rows=None):
    """The start that best compresses a random walk on the input's graph.

    Candidates:

    - ``"kmeans"`` and ``"kmeans_input"``: k-means (``n_init`` runs, lowest
      inertia) in the embedding ``Z`` and on the input ``X``, on at most
      ``max_rows`` rows (default :data:`AUTO_MAX_ROWS`) drawn at random;
    - ``"umap"``: every k-means run in UMAP's map of ``Z``, with
      over-clusterings merged back (:func:`map_partitions` with
      ``merge=True``), on up to :data:`INIT_MAX_ROWS` rows, as
      ``init="umap"``, which include the ``max_rows`` rows.

    Each partition is judged by the same label-free criterion, on UMAP's
    fuzzy neighbour graph of the input ``X``, built on exact neighbours among
    its distinct rows and weighted by their copies
    (:func:`~skdec._modularity.neighbor_graph`): the map equation's
    saving (:func:`~skdec._modularity.codelength_saving`), the bits per step
    by which the partition shortens the description of a random walk on the
    graph. It is high when the walk seldom leaves a cluster, and it has no
    term in the square of a cluster's size, which makes modularity cut a
    large group to even out the sizes. The judge is the graph of the input,
    which no candidate was built on, so that no partition wins because it
    was optimised on the graph that scores it. The partition of highest
    saving is kept (ties go to the first candidate in the order above),
    unless no more than one link of the graph (of the largest weight, a
    row's link to its nearest neighbour) joins any of a partition's clusters
    to the others: it scores ``inf`` and wins (:func:`start_criterion`). A
    partition that fills fewer clusters than another (where the embedding or
    the map has fewer distinct points than ``n_clusters``) ranks below it,
    whatever its score. All are judged on the same ``max_rows`` rows. Rows a
    candidate was not built on take the label of a k-means partition's
    nearest centre, or the majority label of their :data:`N_NEIGHBORS`
    nearest mapped rows in the embedding; those that repeat a row it was
    built on (the same values in ``X``) take that row's label.

    Returns
    -------
    start : InitialClustering
        With ``method`` the name of the chosen candidate, ``scores`` the best
        score of each candidate, and ``judge`` the score of any labels of
        the training rows (:func:`start_criterion`).
    """
    found = auto_candidates(
        X, Z, n_clusters, n_init=n_init, seed=seed, max_rows=max_rows
    )
    candidates, sample = found.candidates, found.sample
    map_rows, map_labels = found.map_rows, found.map_labels
    del found  # the map and its graph are not needed further
    judge = neighbor_graph(_sample_rows(X, sample))
    # Fewer clusters filled ranks lower, as in the judge of training.
    ranks = [candidate_rank(judge, labels, n_clusters) for _, labels, _ in candidates]
    scores, kinds_best = {}, {}
    for (name, _, _), rank in zip(candidates, ranks, strict=True):
        if name not in kinds_best or rank > kinds_best[name]:
            kinds_best[name] = rank
            scores[name] = rank[1]
    # The first of the highest.
    best = max(range(len(candidates)), key=ranks.__getitem__)
    method, labels, centers = candidates[best]
    # The labels of every row: a UMAP partition's own on the mapped rows,
    # the nearest k-means centre, or a vote of the nearest labelled rows.
    known, known_rows = labels, sample
    if method == "umap":
        known, known_rows = map_labels[best], map_rows
    if known_rows is None:
        labels = known
    else:
        space = X if method == "kmeans_input" else Z
        if centers is not None:
            labels = _nearest_centers(space, centers)
        else:
            vote = KNeighborsClassifier(N_NEIGHBORS).fit(
                _sample_rows(Z, known_rows), known
            )
            labels = map_batches(vote.predict, Z, dtype=np.float64)
        labels[known_rows] = known
        _copies_share_labels(X, known_rows, labels)
    judge_labels = _labels_judge(judge, sample, n_clusters, np.unique(labels))
    if method == "kmeans":
        # The paper's start: k-means' own centres, and no target to learn.
        return InitialClustering(centers, labels, None, method, scores, judge_labels)
    centers = cluster_means(Z, labels, n_clusters)
    return InitialClustering(
        centers, labels, np.eye(n_clusters)[labels], method, scores, judge_labels
    )
