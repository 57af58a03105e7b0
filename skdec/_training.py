"""The DEC algorithm on validated arrays: pretraining, initialisation, self-training.

Functions here take NumPy arrays (any numeric dtype: each batch is cast to
float32 when it is taken, so large integer or memory-mapped inputs are never
copied as a whole), Keras models from :mod:`skdec._networks`, plain
hyperparameters and NumPy random generators. They return arrays and plain
Python histories and never see the estimator.
"""

import collections
import contextlib
import logging
import mmap
import threading
import warnings
from dataclasses import dataclass

import keras
import numpy as np
import scipy.sparse
from scipy.special import softmax
from sklearn.cluster import KMeans
from sklearn.metrics.pairwise import euclidean_distances

from skdec._networks import DECNetworks, build_networks

logger = logging.getLogger("skdec")

# Rows per forward pass when embedding a whole data set.
PREDICT_BATCH_SIZE = 4096

# Rows the initial clustering (k-means, or UMAP and k-means) is fitted on at
# most; larger data sets use a random sample of this size. See
# benchmarks/scale.py for the cost that sets it.
INIT_MAX_ROWS = 100_000

# A one-row forward pass takes a matrix-vector kernel that rounds differently
# from the matrix-matrix kernel used for larger batches; padding such a batch
# to two rows makes every row's result independent of how the data is split.
_MIN_BATCH_ROWS = 2


def make_optimizer(name, learning_rate, momentum=0.0):
    """Return a fresh Keras optimizer from plain values.

    Parameters
    ----------
    name : {"adam", "sgd"}
        Optimizer family.
    learning_rate : float
        Step size.
    momentum : float, default=0.0
        Momentum of SGD; ignored by Adam.

    Returns
    -------
    optimizer : keras.optimizers.Optimizer
    """
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    raise ValueError(f"Unknown optimizer {name!r}.")


@dataclass
class Trainer:
    """Compiled networks and their optimizers, reusable from fit to fit.

    With ``reconstruction_weight == 0`` self-training minimises ``KL(P || Q)``
    through ``networks.clusterer`` (DEC); otherwise it minimises
    ``KL(P || Q) + reconstruction_weight * MSE(x, reconstruction)`` through
    ``networks.model`` (the joint loss of IDEC).
    """

    recipe: dict
    networks: DECNetworks
    pretrain_optimizer: keras.optimizers.Optimizer
    optimizer: keras.optimizers.Optimizer
    reconstruction_weight: float

    @property
    def joint(self):
        return self.reconstruction_weight > 0

    def reset(self, seed, pretrain_learning_rate, learning_rate):
        """Put weights and optimizer state where a new fit with ``seed`` starts."""
        fresh = build_networks(**self.recipe, seed=seed)
        self.networks.model.set_weights(fresh.model.get_weights())
        for optimizer, rate in (
            (self.pretrain_optimizer, pretrain_learning_rate),
            (self.optimizer, learning_rate),
        ):
            for variable in optimizer.variables:
                variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
            optimizer.learning_rate = rate


def _distribution_strategy():
    """The ``tf.distribute`` strategy whose scope is active, or None.

    Models and optimizers belong to the strategy under which they were built
    (TensorFlow refuses to update variables of another one), so a trainer is
    only lent out again under the same strategy. Other backends have none.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


class TrainerPool:
    """Trainers kept across fits, one set per architecture and optimizer.

    TensorFlow keeps each traced training function alive until the process
    ends (about 5 MB or more per compiled model), so compiling fresh models
    in every fit makes a grid search grow without bound. A fit instead checks
    out a trainer of its architecture, resets it from its own seed (which
    gives exactly the weights and optimizer state of a new one) and returns
    it. Learning rates are variables and may differ between fits; everything
    that shapes the traced functions is in the key.

    Parameters
    ----------
    max_free : int, default=8
        Idle trainers kept; the least recently used are dropped beyond it.
    """

    def __init__(self, max_free=8):
        self.max_free = max_free
        self._lock = threading.Lock()
        self._free = collections.OrderedDict()

    @staticmethod
    def _build(recipe, pretrain_optimizer, optimizer, momentum, reconstruction_weight):
        networks = build_networks(**recipe)
        trainer = Trainer(
            recipe=recipe,
            networks=networks,
            pretrain_optimizer=make_optimizer(pretrain_optimizer, 1e-3, momentum),
            optimizer=make_optimizer(optimizer, 1e-3, momentum),
            reconstruction_weight=reconstruction_weight,
        )
        networks.autoencoder.compile(
            optimizer=trainer.pretrain_optimizer, loss="mean_squared_error"
        )
        if trainer.joint:
            networks.model.compile(
                optimizer=trainer.optimizer,
                loss=[keras.losses.KLDivergence(), "mean_squared_error"],
                loss_weights=[1.0, reconstruction_weight],
            )
        else:
            networks.clusterer.compile(
                optimizer=trainer.optimizer, loss=keras.losses.KLDivergence()
            )
        return trainer

    @contextlib.contextmanager
    def checkout(
        self, recipe, *, pretrain_optimizer, optimizer, momentum, reconstruction_weight
    ):
        """Lend a trainer for ``recipe`` (not yet reset) for a ``with`` block."""
        key = (
            tuple(sorted(recipe.items())),
            pretrain_optimizer,
            optimizer,
            momentum,
            reconstruction_weight,
            _distribution_strategy(),
        )
        with self._lock:
            idle = self._free.get(key)
            trainer = idle.pop() if idle else None
            if idle is not None and not idle:
                # No empty lists stay behind: eviction below takes the
                # oldest list's first trainer.
                del self._free[key]
        if trainer is None:
            trainer = self._build(
                recipe, pretrain_optimizer, optimizer, momentum, reconstruction_weight
            )
        yield trainer
        # Only a trainer whose fit ended normally goes back to the pool.
        with self._lock:
            self._free.setdefault(key, []).append(trainer)
            self._free.move_to_end(key)
            while sum(map(len, self._free.values())) > self.max_free:
                oldest = next(iter(self._free))
                self._free[oldest].pop(0)
                if not self._free[oldest]:
                    del self._free[oldest]

    def clear(self):
        """Drop every idle trainer."""
        with self._lock:
            self._free.clear()


TRAINER_POOL = TrainerPool()


def _take(X, index):
    return np.asarray(X[index], dtype=np.float32)


def _page_releaser(X):
    """A function ``release(start, stop)`` that evicts rows of a memmap.

    Pages of a memory-mapped file that have been read count as resident
    memory of the process until the mapping goes. For a read-only
    :class:`numpy.memmap` (or a C-contiguous view of one), ``release`` tells
    the kernel that rows ``start:stop`` are no longer needed, so streaming
    over a file larger than memory keeps resident memory bounded; the file is
    unchanged and a later read fetches the rows again. For anything else it
    does nothing.
    """
    root = X
    while root is not None and not isinstance(root, np.memmap):
        root = getattr(root, "base", None)
    mapping = getattr(root, "_mmap", None)
    if (
        mapping is None
        or root.mode != "r"
        or not X.flags.c_contiguous
        or not hasattr(mmap, "MADV_DONTNEED")
    ):
        return lambda start, stop: None
    map_start = root.__array_interface__["data"][0] - (
        root.offset % mmap.ALLOCATIONGRANULARITY
    )
    first = X.__array_interface__["data"][0] - map_start
    row_bytes = X.strides[0] if X.ndim > 1 else X.itemsize

    def release(start, stop):
        low = first + start * row_bytes
        low -= low % mmap.PAGESIZE
        high = min(first + stop * row_bytes, len(mapping))
        if high > low:
            mapping.madvise(mmap.MADV_DONTNEED, low, high - low)

    return release


def predict_batches(model, X, batch_size=PREDICT_BATCH_SIZE, then=None):
    """Run ``model`` over ``X`` in batches and stack the float32 outputs.

    ``then``, if given, is applied to each batch's output before stacking
    (so that only its result, not the whole embedding, is kept). Rows of a
    read-only memmap are evicted from memory once their batch is done.
    """
    outputs = []
    release = _page_releaser(X)
    for start in range(0, X.shape[0], batch_size):
        batch = _take(X, slice(start, start + batch_size))
        n_rows = batch.shape[0]
        if n_rows < _MIN_BATCH_ROWS:
            pad = np.repeat(batch[-1:], _MIN_BATCH_ROWS - n_rows, axis=0)
            batch = np.concatenate([batch, pad])
        output = np.asarray(model.predict_on_batch(batch))[:n_rows]
        outputs.append(output if then is None else then(output))
        release(start, start + batch_size)
    return np.concatenate(outputs)


def student_t_assignment(Z, centers, alpha):
    """Soft assignment ``q`` of DEC in float64 (rows sum to one).

    ``q_ij`` is proportional to ``(1 + |z_i - mu_j|^2 / alpha) ** (-(alpha+1)/2)``;
    it is computed as a softmax of the log-kernel, which stays finite for
    points far from every centre.
    """
    sq_dist = euclidean_distances(
        np.asarray(Z, dtype=np.float64),
        np.asarray(centers, dtype=np.float64),
        squared=True,
    )
    return softmax(-0.5 * (alpha + 1.0) * np.log1p(sq_dist / alpha), axis=1)


def soft_assignment(networks, X, labels_only=False):
    """Soft assignment ``q`` of the rows of X by ``networks`` (encoder, centres).

    Computed batch by batch; with ``labels_only`` only its argmax per row is
    kept.
    """
    return assign(
        networks.encoder,
        X,
        networks.clustering_layer.get_weights()[0],
        networks.clustering_layer.alpha,
        labels_only=labels_only,
    )


def assign(encoder, X, centers, alpha, labels_only=False):
    """``q`` (or its argmax per row) of the rows of X, batch by batch."""

    def then(Z):
        q = student_t_assignment(Z, centers, alpha)
        return q.argmax(axis=1) if labels_only else q

    return predict_batches(encoder, X, then=then)


def target_distribution(q):
    """DEC's auxiliary target ``p_ij = (q_ij^2 / f_j)``, normalised per row.

    ``f_j = sum_i q_ij`` is the soft frequency of cluster ``j``; squaring
    sharpens confident assignments and dividing by ``f_j`` keeps large
    clusters from absorbing the rest.
    """
    frequency = np.maximum(q.sum(axis=0), np.finfo(q.dtype).tiny)
    weight = q**2 / frequency
    return weight / weight.sum(axis=1, keepdims=True)


def kl_divergence(p, q):
    """Mean over rows of ``KL(p_i || q_i)``."""
    eps = np.finfo(np.float64).tiny
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return float(np.mean(np.sum(p * (np.log(p + eps) - np.log(q + eps)), axis=1)))


def pretrain_autoencoder(autoencoder, X, *, epochs, batch_size, rng, verbose):
    """Train ``autoencoder`` to reconstruct ``X`` with the mean squared error.

    Parameters
    ----------
    autoencoder : keras.Model
        Input to reconstruction, compiled with the mean squared error.
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    epochs : int
        Passes over ``X``.
    batch_size : int
        Rows per gradient step.
    rng : numpy.random.Generator
        Draws the order of the rows in each epoch.
    verbose : int
        Show a progress bar when positive.

    Returns
    -------
    losses : list of float
        Mean reconstruction loss of each epoch.
    """
    n_samples = X.shape[0]
    progbar = None
    if verbose and epochs:
        progbar = keras.utils.Progbar(epochs, verbose=1, stateful_metrics=["loss"])
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(n_samples)
        total = 0.0
        for start in range(0, n_samples, batch_size):
            index = np.sort(order[start : start + batch_size])
            batch = _take(X, index)
            total += float(autoencoder.train_on_batch(batch, batch)) * len(index)
        losses.append(total / n_samples)
        if not np.isfinite(losses[-1]):
            raise FloatingPointError(
                f"The reconstruction loss became {losses[-1]} in pretraining epoch "
                f"{epoch + 1}. Scale the input (for example with StandardScaler) "
                "or lower pretrain_learning_rate."
            )
        logger.debug("pretraining epoch %d: loss %.6g", epoch + 1, losses[-1])
        if progbar is not None:
            progbar.update(epoch + 1, values=[("loss", losses[-1])])
    return losses


def pretrain(
    X,
    autoencoder_recipe,
    *,
    epochs,
    batch_size,
    optimizer,
    learning_rate,
    momentum,
    seed,
    verbose,
):
    """Pretrain a new autoencoder from ``seed``; return its weights and losses.

    This is the unit that ``DECClusterer(memory=...)`` caches: its arguments
    (the data, the architecture without the clustering layer, the pretraining
    schedule and the seed) determine its result exactly.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    autoencoder_recipe : dict
        Keyword arguments of :func:`build_networks` without ``n_clusters``,
        ``alpha`` and ``seed``.
    epochs, batch_size : int
        Pretraining schedule.
    optimizer : {"adam", "sgd"}
        Optimizer family.
    learning_rate, momentum : float
        Optimizer settings.
    seed : int
        Seed of the initial weights and of the order of the rows.
    verbose : int
        Show a progress bar when positive.

    Returns
    -------
    encoder_weights, decoder_weights : list of ndarray
        Weights of ``networks.encoder`` and ``networks.decoder``.
    losses : list of float
        Mean reconstruction loss of each epoch.
    """
    recipe = {**autoencoder_recipe, "n_clusters": 1, "alpha": 1.0}
    with TRAINER_POOL.checkout(
        recipe,
        pretrain_optimizer=optimizer,
        optimizer="sgd",
        momentum=momentum,
        reconstruction_weight=0.0,
    ) as trainer:
        trainer.reset(seed, learning_rate, 0.0)
        networks = trainer.networks
        losses = pretrain_autoencoder(
            networks.autoencoder,
            X,
            epochs=epochs,
            batch_size=batch_size,
            rng=np.random.default_rng([seed, 1]),
            verbose=verbose,
        )
        return networks.encoder.get_weights(), networks.decoder.get_weights(), losses


def _init_sample(n_samples, max_rows, seed):
    """Rows the initial clustering is fitted on: all (None), or ``max_rows``.

    ``max_rows=None`` means :data:`INIT_MAX_ROWS`.
    """
    max_rows = INIT_MAX_ROWS if max_rows is None else max_rows
    if n_samples <= max_rows:
        return None
    rng = np.random.default_rng([seed, 3])
    return np.sort(rng.choice(n_samples, max_rows, replace=False))


def _nearest(Z, centers):
    return euclidean_distances(Z, centers, squared=True).argmin(axis=1)


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
        labels = np.concatenate(
            [
                _nearest(
                    np.asarray(Z[start : start + PREDICT_BATCH_SIZE], np.float64),
                    kmeans.cluster_centers_,
                )
                for start in range(0, Z.shape[0], PREDICT_BATCH_SIZE)
            ]
        )
    return kmeans.cluster_centers_, labels


def cluster_means(Z, labels, n_clusters):
    """Mean of the rows of ``Z`` in each cluster (zero for an empty one)."""
    centers = np.zeros((n_clusters, Z.shape[1]))
    np.add.at(centers, labels, np.asarray(Z, dtype=np.float64))
    counts = np.bincount(labels, minlength=n_clusters)
    return centers / np.maximum(counts, 1)[:, None]


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


# Over-clusterings that ``umap_kmeans_centers(merge=True)`` also tries, as
# multiples of ``n_clusters``.
MERGE_FACTORS = (2, 3)


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
        labels, sample_labels = _nearest(Z_all, centers), labels
        labels[sample] = sample_labels
    return centers, labels


def self_train(
    trainer,
    X,
    initial_labels,
    *,
    max_iter,
    update_interval,
    tol,
    batch_size,
    rng,
    verbose,
    initial_target=None,
):
    """DEC's self-training: minimise KL(P || Q) over the encoder and centres.

    A joint trainer (``reconstruction_weight > 0``) adds the weighted
    reconstruction loss, as IDEC does.

    Every ``update_interval`` iterations the soft assignment ``Q`` of all rows
    is recomputed, the target ``P`` derived from it, and the fraction of rows
    whose hard label changed since the previous update compared with ``tol``.
    Training stops when that fraction is below ``tol`` (never at the first
    update) or after ``max_iter`` gradient steps.

    Parameters
    ----------
    trainer : Trainer
        Trainer whose clustering layer holds the initial centres.
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    initial_labels : ndarray of shape (n_samples,)
        Hard labels of the initialisation, for the first label-change count.
    max_iter, update_interval : int
        Iteration budget and target-update period, in gradient steps.
    tol : float
        Stopping threshold on the fraction of changed labels.
    batch_size : int
        Rows per gradient step.
    rng : numpy.random.Generator
        Draws the order of the rows.
    verbose : int
        Show a progress bar when positive.
    initial_target : ndarray of shape (n_samples, n_clusters), default=None
        Target that replaces the one derived from ``Q`` until the encoder has
        learned it (for an initialisation whose clusters the embedding does
        not yet show). It is kept at each update until the fraction of rows
        whose ``Q`` label differs from its label is at most ``tol``, or at
        most half of what it was at the start and no longer falling by
        ``tol`` or more between updates. From then on the targets come from
        ``Q`` as usual, and the stopping rule applies from the update after.

    Returns
    -------
    n_iter : int
        Gradient steps taken.
    converged : bool
        Whether the label-change fraction fell below ``tol``.
    kl_loss, delta_label : list of float
        ``KL(P || Q)`` and the label-change fraction at each target update.
    """
    networks = trainer.networks
    model = networks.model if trainer.joint else networks.clusterer
    n_samples = X.shape[0]
    progbar = None
    if verbose and max_iter:
        progbar = keras.utils.Progbar(
            max_iter, verbose=1, stateful_metrics=["kl", "delta_label"]
        )
    kl_loss, delta_label = [], []
    previous_labels = np.asarray(initial_labels)
    converged = False
    order, position = rng.permutation(n_samples), 0
    target = None
    n_iter = 0
    # Iteration at which the targets derived from Q begin (None while the
    # initial target is still being learned).
    dec_start = None if initial_target is not None else 0
    if initial_target is not None:
        initial_target = np.asarray(initial_target, dtype=np.float32)
        target_labels = initial_target.argmax(axis=1)
        first_apart = last_apart = 1.0
    while n_iter < max_iter:
        if n_iter % update_interval == 0:
            q = soft_assignment(networks, X)
            labels = q.argmax(axis=1)
            delta = float(np.mean(labels != previous_labels))
            if dec_start is None:
                # Fraction of rows whose Q label is not the initial target's.
                apart = float(np.mean(labels != target_labels))
                if n_iter == 0:
                    first_apart = apart
                elif apart <= tol or (
                    apart <= first_apart / 2 and last_apart - apart < tol
                ):
                    dec_start = n_iter
                    logger.debug(
                        "initial target learned after %d iterations (%.4f of "
                        "the labels differ from it)",
                        n_iter,
                        apart,
                    )
                last_apart = apart
            if dec_start is None:
                p = target = initial_target
            else:
                p = target_distribution(q)
                target = p.astype(np.float32)
            kl_loss.append(kl_divergence(p, q))
            delta_label.append(delta)
            previous_labels = labels
            logger.debug(
                "self-training iteration %d: KL %.6g, labels changed %.4f",
                n_iter,
                kl_loss[-1],
                delta,
            )
            if dec_start is not None and n_iter > dec_start and delta < tol:
                converged = True
                break
        if position >= n_samples:
            order, position = rng.permutation(n_samples), 0
        index = np.sort(order[position : position + batch_size])
        position += batch_size
        batch = _take(X, index)
        targets = [target[index], batch] if trainer.joint else target[index]
        loss = model.train_on_batch(batch, targets, return_dict=True)["loss"]
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The clustering loss became {loss} at self-training iteration "
                f"{n_iter + 1}. Scale the input or lower learning_rate."
            )
        n_iter += 1
        if progbar is not None:
            progbar.update(
                n_iter, values=[("kl", kl_loss[-1]), ("delta_label", delta_label[-1])]
            )
    return n_iter, converged, kl_loss, delta_label
