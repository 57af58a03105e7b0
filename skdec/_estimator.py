"""The scikit-learn front door of DEC: parameters, validation, orchestration."""

import collections.abc
import logging
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_memory, validate_data

from skdec import _archive, _schedule
from skdec._assignment import kl_divergence, target_distribution
from skdec._warnings import retracing_unreported, warn

logger = logging.getLogger("skdec")

_ACTIVATIONS = {"relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "linear"}
_OPTIMIZERS = {"adam", "sgd"}
#: start_learning_rate="auto" is this many times learning_rate (DEC's loss alone).
START_LEARNING_RATE_FACTOR = 10


def fit_seed(random_state):
    """The integer seed a fit draws from ``random_state`` and seeds its
    pretraining, start and choice of ``n_clusters`` with."""
    return int(check_random_state(random_state).randint(2**31 - 1))


def _rows_contiguous(X):
    """X with each row's values side by side in memory (copied only where
    they are not). The ``memory`` cache keys the pretraining on X's bytes
    in memory order, and the values of a DataFrame, say, come column by
    column: the same rows would miss the entry that an array made."""
    return X if X.flags.c_contiguous else np.ascontiguousarray(X)


def _validate_rows(estimator, X, **kwargs):
    """``validate_data(estimator, X, **kwargs)``; where it refuses an array
    of more than two dimensions (images, say), its error says how to give
    them, after scikit-learn's own message. An iterator or generator, which
    scikit-learn takes for a scalar, is refused as what it is."""
    if isinstance(X, collections.abc.Iterator):
        raise TypeError(
            f"X is an iterator ({type(X).__name__}); DECClusterer takes all its "
            "rows at once, as an array. For data larger than memory, give a "
            "read-only memmap, np.load(path, mmap_mode='r'), which it reads in "
            "batches."
        )
    try:
        return validate_data(estimator, X, **kwargs)
    except ValueError as error:
        shape = getattr(X, "shape", None)
        images = shape is not None and 0 not in tuple(shape)
        if not (str(error).startswith("Found array with dim") and images):
            raise
        raise ValueError(
            f"{error} DECClusterer takes one row of features per sample: flatten "
            f"images to rows, X.reshape(len(X), -1), and give their shape as "
            f"input_shape={tuple(shape[1:])} (see autoencoder='conv')."
        ) from error


def _check_float32_range(X):
    """Refuse values that become infinite when cast to float32 for the networks."""
    if X.dtype.kind == "f" and X.dtype.itemsize > 4 and X.size:
        # The extremes, not np.abs(X): no copy of X (a memmap, say) is made.
        largest = max(float(X.max()), -float(X.min()))
        if largest > float(np.finfo(np.float32).max):
            raise ValueError(
                f"X has values up to {largest:.3g}, beyond the float32 range "
                "(3.4e38) in which the networks compute. Scale the input, for "
                "example with StandardScaler."
            )
    return X


# Rows of X that the check of its scale reads, at most.
_SCALE_ROWS = 10_000
# How far from the unit scale the networks learn from X may be before a fit
# warns: its columns' means in units of their spread, and that spread
# (benchmarks/input_scale.py measures both).
_LARGEST_OFFSET = 2.5
_SMALLEST_SPREAD = 0.05


def _input_scale(X):
    """``spread, offset`` of the columns of X: ``sqrt(mean(var))`` and
    ``sqrt(mean(mean ** 2))``, from evenly spaced rows (at most
    ``_SCALE_ROWS``; no draw, and no copy of the rest of a memmap)."""
    step = -(-X.shape[0] // _SCALE_ROWS)  # rounded up
    rows = np.asarray(X[::step], dtype=np.float64)
    means = rows.mean(axis=0)
    spread = float(np.sqrt(rows.var(axis=0).mean()))
    return spread, float(np.sqrt(np.mean(means**2)))


def _warn_if_unscaled(X):
    """Warn where X is far from centred, or varies little, for the
    networks, whose weights and biases start at the scale of inputs near
    zero of about unit spread: such a fit often fails to learn its start."""
    spread, offset = _input_scale(X)
    # One row repeated (said elsewhere): its spread is 0 but for rounding,
    # which leaves a few ulps of values that binary does not hold exactly.
    if spread <= 16 * np.finfo(np.float64).eps * offset:
        return
    if offset > _LARGEST_OFFSET * spread:
        found = (
            f"far from centred: its columns' means are {offset / spread:.3g} "
            f"times their spread ({spread:.3g})"
        )
    elif spread < _SMALLEST_SPREAD:
        found = f"of little spread: its columns vary by {spread:.3g}"
    else:
        return
    warn(
        f"X looks unscaled, {found}. The networks learn from inputs near zero "
        "of about unit spread; far from it, a fit often fails to learn its "
        "start (and runs to max_iter). Scale X first: StandardScaler for "
        "measurements (make_pipeline(StandardScaler(), DECClusterer(...))), "
        "or pixels to [0, 1].",
        UserWarning,
    )


def _count(number, noun):
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _put_empty_clusters_last(networks, labels):
    """Renumber clusters so that the non-empty ones are ``0 .. k-1``.

    The centres of clusters that received no row move to the end, so that
    ``labels`` stay consecutive from 0 as scikit-learn expects; the centres
    are permuted in ``networks`` in place. Returns the new labels.
    """
    n_clusters = networks.clustering_layer.n_clusters
    used = np.unique(labels)
    if used.size == n_clusters:
        return labels
    order = np.concatenate([used, np.setdiff1d(np.arange(n_clusters), used)])
    centers = networks.clustering_layer.get_weights()[0]
    networks.clustering_layer.set_weights([centers[order]])
    new_label = np.empty(n_clusters, dtype=labels.dtype)
    new_label[order] = np.arange(n_clusters)
    return new_label[labels]


class DECClusterer(
    ClusterMixin, TransformerMixin, ClassNamePrefixFeaturesOutMixin, BaseEstimator
):
    """Deep Embedded Clustering (DEC).

    DEC learns an embedding and a clustering of unlabelled data together. It
    pretrains a dense autoencoder on the reconstruction loss, finds the
    clusters to start from (the paper's k-means in the embedding, or by
    default the best of three kinds of start by a label-free criterion; see
    ``init``), places the cluster centres there, then self-trains: every
    ``update_interval`` iterations it computes a sharpened target distribution
    ``P`` from the current soft assignment ``Q`` of all training rows, and
    minimises ``KL(P || Q)`` over the encoder weights and the centres.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_clusters : int or "auto", default=8
        The number of clusters to form. ``"auto"`` chooses it from the data,
        among ``n_clusters_range``, after pretraining (which does not depend
        on it): for each candidate ``k`` the best of a few partitions of the
        pretrained rows is scored by how well its clusters separate on the
        neighbour graph of ``X`` (the square root of the ``(k + 1)``-th
        smallest eigenvalue of the graph's normalised Laplacian over the
        clusters' mean conductance), and the
        ``k`` of highest score is kept. It finds groups that the neighbour
        graph separates, which are not always the classes one has in mind.
        See :ref:`the User Guide <n_clusters_auto>`.

    n_clusters_range : tuple of (int, int), default=(2, 15)
        The smallest and largest number of clusters that
        ``n_clusters="auto"`` considers, both included; a largest above
        ``n_samples - 2`` (and 5,000 - 2 above 5,000 rows, which the choice
        samples) is lowered to it. If the neighbour graph falls apart into more separate
        groups than the largest, every candidate scores 0, the smallest is
        kept, and a warning says how many groups there are. Checked, but not
        used, when ``n_clusters`` is a number.

    autoencoder : {"dense", "conv"} or callable, default="dense"
        The autoencoder. ``"dense"``: fully connected layers of
        ``hidden_layer_sizes``. ``"conv"``: for images stored as flat rows
        (see ``input_shape``), strided convolutions of ``conv_filters``
        (kernels 5, 5, 3, stride 2, ReLU), a dense linear embedding, and a
        mirrored decoder (see ``decoder``), as in DCEC. A callable builds your
        own: ``autoencoder(input_shape, n_components)`` (or with a ``seed``
        keyword, which it should pass to its initialisers for reproducible
        fits) returns ``(encoder, decoder)``, two :class:`keras.Model`; the
        encoder maps inputs of ``input_shape`` (or ``(n_features,)``) to
        ``(n_components,)``, the decoder maps back to ``n_features`` values in
        any shape. Use a module-level function, so that the estimator stays
        clonable and picklable, and not a :func:`functools.partial` or a
        callable object: :func:`~sklearn.base.clone` copies those, and each
        copy compiles networks of its own (time and memory in every fold of
        a search). The compiled networks of a callable are kept
        for its next fit in the process, so a callable must build the same
        networks on every call: after changing what it builds, define it
        again (``memory`` tells its networks apart by their layers' classes,
        settings and weight shapes, not by the code of a custom layer).

    hidden_layer_sizes : "auto" or tuple of int, default="auto"
        Widths of the dense encoder's hidden layers; the decoder mirrors them.
        An empty tuple gives a linear encoder and decoder. ``"auto"``: the
        paper's widths ``(500, 500, 2000)`` scaled so that the autoencoder has
        about one weight per input value (``n_samples * n_features``), at
        most the paper's network and at least ``(32, 32, 128)``. A warm start
        keeps the network of the first fit. Only for ``autoencoder="dense"``.
        See the :ref:`User Guide <user_guide>`.

    n_components : int, default=10
        Dimension of the embedding in which the data are clustered.

    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel of the soft assignment.

    activation : {"relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", \
            "linear"}, default="relu"
        Activation of the dense hidden layers. The embedding and the
        reconstruction are always linear.

    input_shape : tuple of int or None, default=None
        Shape of the image held in each flat row, channels last:
        ``(height, width, channels)`` or ``(height, width)`` for grey images,
        for example ``(28, 28, 1)``. For ``autoencoder="conv"``, None means a
        square grey image. Handed to a custom ``autoencoder`` callable.

    conv_filters : tuple of int, default=(32, 64, 128)
        Filters of the strided convolutions of ``autoencoder="conv"``, one
        convolution per entry (at least one).

    decoder : {"transpose", "upsample"}, default="transpose"
        How the convolutional decoder doubles the resolution: stride-2
        transposed convolutions, or 2x upsampling followed by a convolution.

    reconstruction_weight : float, default=0.0
        Keeps the reconstruction loss during self-training:
        ``L = KL(P || Q) + reconstruction_weight * MSE(x, x_hat)``. ``0`` is
        plain DEC; a positive weight is IDEC (Guo et al. 2017), whose
        ``L_r + gamma * L_c`` with ``gamma=0.1`` is this loss with
        ``reconstruction_weight=10`` divided by 10 (the same minimiser; with
        ``optimizer="adam"`` the same steps). Adam scales each weight's step
        by the size of its own gradients, so with it the decoder, which only
        the reconstruction term trains, learns about as fast at any positive
        weight whose gradients stay well above Adam's ``epsilon``: the weight
        then sets the balance of the two terms in the encoder only.

    pretrain_epochs : int or "auto", default="auto"
        Passes over the data when pretraining the autoencoder. ``"auto"``:
        enough epochs for a budget of gradient steps that grows with the
        square root of the number of rows, from 2,000 (up to 10,000 rows) to
        4,000 (from 40,000 rows on). ``0`` skips pretraining (the clusters are
        then found on a randomly initialised encoder).

    pretrain_optimizer : {"adam", "sgd"}, default="adam"
        Optimizer of the pretraining.

    pretrain_learning_rate : float, default=1e-3
        Learning rate of the pretraining.

    optimizer : {"sgd", "adam"}, default="sgd"
        Optimizer of the self-training.

    learning_rate : float, default=0.01
        Learning rate of the self-training (DEC's phase; see
        ``start_learning_rate`` for the phase before it).

    start_learning_rate : float or "auto", default="auto"
        Learning rate while the encoder and centres learn a start found
        outside the embedding (``init`` other than ``"kmeans"``), before
        DEC's phase; the optimizer's state is reset between the two phases.
        That phase fits a fixed hard target, and ends when the labels of all
        but ``tol`` of the rows match it, or when the share that does not
        has halved and stopped falling by ``tol`` per target update: at
        DEC's rate it learns the last rows so slowly that it often stops
        with a few percent of them still off the start. ``"auto"``: ten
        times ``learning_rate``, or ``learning_rate`` itself when
        ``reconstruction_weight > 0``: the reconstruction loss's gradients
        grow with the scale of the input, and at ten times the rate they can
        diverge on unscaled data.

    momentum : float, default=0.9
        Momentum of SGD (pretraining and self-training); ignored by Adam.

    batch_size : int or "auto", default="auto"
        Rows per gradient step, in pretraining and self-training. ``"auto"``:
        about a fortieth of the rows, a power of two from 32 to 256.

    max_iter : int, default=4000
        Maximum number of self-training iterations (gradient steps), learning
        the start and then sharpening it; the paper allowed 20,000, but
        self-training rarely moves far from its start, and this bounds its
        cost. ``0`` skips self-training: the centres are the initial ones
        and each row takes its nearest centre in the pretrained embedding;
        for a start found outside the embedding (any ``init`` but
        ``"kmeans"``), these labels can differ from the start's, which
        learning the start would teach the encoder.

    update_interval : int, default=140
        Self-training iterations between two updates of the target
        distribution.

    tol : float, default=1e-3
        Self-training stops when the fraction of training rows whose label
        changed between two target updates is below ``tol``. With
        ``tol=0`` it never stops on the labels: it runs all ``max_iter``
        iterations (and says so with a ``ConvergenceWarning``), unless the
        criterion of ``init="auto"`` stops it first (see ``patience``;
        ``patience=None`` runs them all).

    patience : int or None, default=5
        With ``init="auto"``, DEC's sharpening also stops once this many
        target updates in a row have not raised the criterion that chose the
        start (see ``init``), and the encoder and centres of the update that
        scored highest are kept (:attr:`self_training_kept_`,
        ``history_["criterion"]``); it stops at the first update that
        scores ``inf``, the start or a later one, whose weights are then
        kept, as no update can beat them (such a stop counts as converged:
        no ``ConvergenceWarning``). None: sharpening runs until ``tol`` or
        ``max_iter``, and the highest-scoring update is still kept. Ignored
        by the other starts, which have no criterion. The default is
        scikit-learn's ``n_iter_no_change`` of stochastic gradient descent.

    init : {"auto", "kmeans", "kmeans_input", "umap", "umap_input"}, \
            default="auto"
        How the clusters that self-training starts from are found: k-means
        in the pretrained embedding (``"kmeans"``, the paper's choice, whose
        centres initialise the clustering layer), k-means on the input rows
        (``"kmeans_input"``), k-means in a UMAP map of the embedding
        (``"umap"``, N2D's manifold step) or of the input (``"umap_input"``).
        ``"auto"`` builds the first three and keeps the partition that best
        compresses a random walk on the neighbour graph of the input (the
        map equation of Rosvall and Bergstrom): one label-free criterion,
        the same for every candidate, computed on at most 10,000 rows,
        highest when the walk seldom leaves a cluster, and infinite for a
        partition into ``n_clusters`` non-empty clusters none of which the
        graph joins to the others by more than one link of the largest
        weight (a row's link to its nearest neighbour); the choice is in
        :attr:`init_`. Unlike modularity, it does not cut a well-linked
        large cluster to make the sizes more even, but it may still cut one
        spread over few dimensions, where a cut crosses few links (compare
        the sizes of the clusters with those of ``"kmeans_input"``).

        Except for ``"kmeans"``, the centres start at the means of the
        clusters in the embedding, and self-training first teaches the
        encoder these clusters before it sharpens them. For the UMAP starts,
        of the ``n_init`` k-means runs in the map the one with the highest
        modularity on UMAP's neighbour graph is kept (with ``"auto"``, every
        run is a candidate). See the :ref:`User Guide <user_guide>`.

    umap_metric : {"euclidean", "cosine"}, default="euclidean"
        Distance by which UMAP finds each row's neighbours, with
        ``init="umap"`` or ``"umap_input"`` (ignored otherwise). ``"cosine"``
        compares the directions of the rows and ignores their lengths.

    umap_merge : bool, default=False
        With ``init="umap"`` or ``"umap_input"`` (ignored otherwise; always on
        with ``"auto"``), each k-means run in UMAP's map also splits it into 2
        and 3 times ``n_clusters`` clusters and merges them back to
        ``n_clusters`` greedily by modularity; the partition of highest
        modularity among all runs is kept. This can keep together a class
        that the map shows as two groups.

    n_init : int, default=20
        Number of k-means runs with different seeds (in the embedding, on the
        input with ``init="kmeans_input"``, or in a UMAP map with
        ``init="umap"`` or ``"umap_input"``); the run with the lowest inertia
        (highest modularity with the UMAP starts) initialises the centres.
        Above 100,000 rows the initial clustering is fitted on 100,000 rows
        drawn at random (from ``random_state``), and every other row takes
        the label of its nearest centre; with ``init="auto"``, the k-means
        starts are fitted on at most 10,000 rows, and rows outside a UMAP
        start take the majority label of their 15 nearest mapped rows. A row
        that repeats a row the start was fitted on takes its label.

    random_state : int, RandomState instance or None, default=None
        Determines the weight initialisation, the order of the rows, the
        k-means seeds and UMAP's maps. Pass an int for reproducible results:
        on the CPU, the same int gives bitwise-identical fits on one machine
        (another may round differently). With SciPy older than 1.17, whose
        ARPACK keeps a seed of its own that moves on with every call, UMAP's
        spectral layout of more than 1,000 distinct rows whose neighbour
        graph repeats an eigenvalue can differ from one fit to the next in a
        process (up to 1,000, as a table of a few categories has, it is
        solved densely). See :term:`Glossary <random_state>`.

    verbose : int, default=0
        ``0`` is silent; ``1`` or more shows progress bars of pretraining and
        self-training, and prints what the fit chose: the network and the
        pretraining schedule (naming the settings that ``"auto"`` resolved),
        the number of clusters of ``n_clusters="auto"`` (with the
        runner-up), the start of ``init="auto"`` (with each candidate's
        criterion), why self-training stopped before ``max_iter`` if it
        did, and whether DEC's sharpening was kept. These messages are
        logged at the ``INFO`` level of the ``"skdec"`` logger whatever
        ``verbose`` is, and per-epoch and per-update figures at its
        ``DEBUG`` level.

    warm_start : bool, default=False
        When True and the estimator is fitted, :meth:`fit` continues the
        self-training of the fitted networks for up to ``max_iter`` more
        iterations (no pretraining, no k-means); ``n_iter_`` and ``history_``
        accumulate. The optimizer state starts afresh. Where the first fit's
        start was chosen by ``init="auto"``, its criterion judges the new
        target updates on the rows given now, as in that fit (``patience``,
        ``history_["criterion"]``): the weights of the update that scores
        highest are kept, those the warm start began from if none beats
        them (:attr:`self_training_kept_` is then False), and, with a
        ``patience``, it stops at once where they score ``inf`` (no more
        than one link of the graph joins a cluster to the others), as
        nothing can beat them; the
        neighbour graph
        of the rows is built again for it, as the first fit built it. A warm
        start goes on with DEC's own targets: a start that the first fit ran
        out of ``max_iter`` learning is not learned further. The
        architecture, the number of features and ``alpha`` (the kernel of the
        clustering layer) must be those of the fitted model, and so must the
        number of clusters: ``n_clusters="auto"`` keeps ``n_clusters_`` and
        chooses nothing, and refuses an ``n_clusters_range`` without it.
        Each cluster
        keeps its number, even where the rows given now leave it empty. See
        :term:`the Glossary <warm_start>`.

    memory : str, joblib.Memory or None, default=None
        Caches the pretrained autoencoder, as ``Pipeline(memory=...)`` caches
        transformers: a folder or a :class:`joblib.Memory`. The key is the
        training data (its values and dtype: an array and a DataFrame of the
        same rows share an entry), the architecture without the clustering layer
        (``autoencoder``, and for a callable the layers it builds;
        ``hidden_layer_sizes``, ``n_components``, ``activation``,
        ``input_shape``, ``conv_filters``, ``decoder``), the
        pretraining schedule (``pretrain_epochs``, ``batch_size``,
        ``pretrain_optimizer``, ``pretrain_learning_rate``, ``momentum`` for
        SGD), the seed drawn from ``random_state``, the versions of skdec,
        Keras and its backend, and the device (a GPU's model, or the CPU's
        architecture): another backend, version or device pretrains anew. A
        grid search over ``n_clusters``, ``alpha``, ``update_interval``,
        ``tol`` or the self-training optimizer then pretrains once per fold,
        not once per candidate; results are identical with and without the
        cache. CPUs of one architecture are not told apart: a folder shared
        by hosts whose CPUs round differently can serve one host's
        pretraining to the other. With ``random_state=None`` every fit draws
        a new seed, so nothing is reused.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (`n_clusters_`, n_components)
        Cluster centres in the embedding, after self-training. As with
        :class:`~sklearn.cluster.KMeans`, centres changed after the fit, in
        place or by assignment (in the same shape), are those that
        ``predict``, ``predict_proba``, ``score``, a warm start and saving
        use.

    n_clusters_ : int
        The number of clusters: ``n_clusters``, or what ``"auto"`` chose.

    n_clusters_scores_ : dict of int to float or None
        With ``n_clusters="auto"``, the score of each candidate number of
        clusters (higher separates better; the highest is
        :attr:`n_clusters_`). None otherwise, and where the number was given
        to the fit that a warm start continues.

    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row; equal to ``predict(X)`` on the training
        data. Where a fit leaves clusters empty, they are numbered last, so
        that the labels run from 0 without a gap (but not in a warm start,
        whose clusters keep their numbers).

    n_iter_ : int
        Number of self-training iterations run (summed over warm starts).

    history_ : dict of str to list of float
        ``"pretrain_loss"``: the mean reconstruction loss of each pretraining
        epoch; ``"kl_loss"``: the KL divergence of the target from ``Q``
        (mean over rows) at each target update: of the start's one-hot labels
        while a start found outside the embedding is learned (see
        ``start_learning_rate``), then ``KL(P || Q)`` in DEC's phase;
        ``"delta_label"``: the fraction of labels changed at each
        target update (the first is against the start's labels);
        ``"reconstruction_loss"``: with ``reconstruction_weight > 0``, the
        reconstruction loss (the mean squared error over all rows, the
        pretraining's loss) at each target update (empty otherwise);
        ``"criterion"``: with ``init="auto"``, the criterion of the labels at
        each target update of DEC's sharpening, the first at its start, and
        of the last weights when ``max_iter`` ended it (empty otherwise).

    init_ : str
        The start that self-training began from: ``init``, or what
        ``init="auto"`` chose.

    init_scores_ : dict of str to float or None
        With ``init="auto"``, the criterion of each candidate start: the bits
        per step by which its best partition shortens the description of a
        random walk on the neighbour graph of the input, by the map equation,
        or ``inf`` when it has ``n_clusters`` non-empty clusters and no more
        than one link of that graph joins any of them to the others (the
        highest is :attr:`init_`; among
        infinite scores, the higher saving wins; a candidate that fills fewer
        clusters than another ranks below it). None otherwise.

    self_training_kept_ : bool
        With ``init="auto"``, False when no target update of DEC's sharpening
        raised that criterion above its start, and the sharpening was undone,
        so the model is the encoder and centres that had learned the start
        (always so for a start that scores ``inf``, which nothing can raise);
        True otherwise (see ``patience``). If ``max_iter`` ran out while the
        encoder was still learning a start found outside the embedding (any
        ``init`` but ``"kmeans"``), the weights that scored highest among that
        phase's target updates and its last weights are kept: by the
        criterion with ``init="auto"``, as for the sharpening, else by the
        share of rows labelled as the start labels them. Then this is False
        when those are the weights it began from (the pretrained encoder and
        the start's centres). ``max_iter=0`` trains nothing and leaves it
        True.

    batch_size_ : int
        The rows per gradient step used (``batch_size`` resolved, at most the
        number of training rows).

    pretrain_epochs_ : int
        The pretraining epochs run (``pretrain_epochs`` resolved).

    hidden_layer_sizes_ : tuple of int or None
        The widths of the dense encoder's hidden layers (``hidden_layer_sizes``
        resolved; the decoder mirrors them). The convolutional autoencoder and
        a custom one do not use them.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    encoder_, decoder_, autoencoder_ : keras.Model
        The trained networks: from input rows to the embedding, from the
        embedding to flat rows (to decode :attr:`cluster_centers_`, say), and
        from input rows to their reconstruction (sharing the encoder).

    See Also
    --------
    sklearn.cluster.KMeans : K-means on the input itself; DEC's initialiser.
    skdec.metrics.cluster_accuracy : Accuracy of a clustering against labels.

    Notes
    -----
    The input is not scaled: put a scaler before the estimator, for example
    ``make_pipeline(MinMaxScaler(clip=True), DECClusterer())`` for pixels
    (``clip=True`` keeps new images in [0, 1] where a pixel that was dark in
    every fitted image lights up) or ``StandardScaler`` for tabular features.
    ``fit`` warns where X looks unscaled: its columns' means more than 2.5
    times their spread, or that spread below 0.05.

    Pretraining costs about ``6 * n_weights`` floating-point operations per
    row and epoch, where ``n_weights`` is about 3.3 million for 784 inputs and
    the paper's layers (what ``"auto"`` gives MNIST). Self-training costs the
    same per row of each batch, plus one forward pass of the encoder over all
    rows (about a third of that per row) at each target update; with
    ``reconstruction_weight > 0``, of the decoder too (for
    ``history_["reconstruction_loss"]``).

    The estimator holds Keras models; it pickles as its parameters, fitted
    attributes and network weights, and is rebuilt on unpickling. For files
    that other people or processes will load, prefer :meth:`save` and
    :func:`skdec.load`, which never unpickle. Fits do not
    reseed NumPy, Python or Keras: every source of randomness is seeded from
    ``random_state``. With ``random_state=None`` one integer is drawn from
    NumPy's global generator, as in scikit-learn.

    References
    ----------
    .. [1] J. Xie, R. Girshick and A. Farhadi, "Unsupervised Deep Embedding
       for Clustering Analysis", ICML 2016.
    .. [2] X. Guo, L. Gao, X. Liu and J. Yin, "Improved Deep Embedded
       Clustering with Local Structure Preservation", IJCAI 2017.
    .. [3] X. Guo, X. Liu, E. Zhu and J. Yin, "Deep Clustering with
       Convolutional Autoencoders", ICONIP 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skdec import DECClusterer
    >>> X = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.1], [5.1, 5.0]])
    >>> dec = DECClusterer(n_clusters=2, hidden_layer_sizes=(8,), n_components=2,
    ...                    pretrain_epochs=2, max_iter=10, update_interval=2,
    ...                    random_state=0)
    >>> dec.fit(X).labels_.shape
    (4,)
    >>> dec.predict_proba(X).shape
    (4, 2)
    >>> dec.transform(X).shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "n_clusters": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_clusters_range": ["array-like"],
        "autoencoder": [StrOptions({"dense", "conv"}), callable],
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like"],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "activation": [StrOptions(_ACTIVATIONS)],
        "input_shape": ["array-like", None],
        "conv_filters": ["array-like"],
        "decoder": [StrOptions({"transpose", "upsample"})],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "pretrain_epochs": [
            StrOptions({"auto"}),
            Interval(Integral, 0, None, closed="left"),
        ],
        "pretrain_optimizer": [StrOptions(_OPTIMIZERS)],
        "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(_OPTIMIZERS)],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "start_learning_rate": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"auto", "kmeans", "kmeans_input", "umap", "umap_input"})],
        "umap_metric": [StrOptions({"euclidean", "cosine"})],
        "umap_merge": ["boolean"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "memory": [None, str, HasMethods(["cache"])],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        n_clusters_range=(2, 15),
        autoencoder="dense",
        hidden_layer_sizes="auto",
        n_components=10,
        alpha=1.0,
        activation="relu",
        input_shape=None,
        conv_filters=(32, 64, 128),
        decoder="transpose",
        reconstruction_weight=0.0,
        pretrain_epochs="auto",
        pretrain_optimizer="adam",
        pretrain_learning_rate=1e-3,
        optimizer="sgd",
        learning_rate=0.01,
        start_learning_rate="auto",
        momentum=0.9,
        batch_size="auto",
        max_iter=4000,
        update_interval=140,
        tol=1e-3,
        patience=5,
        init="auto",
        umap_metric="euclidean",
        umap_merge=False,
        n_init=20,
        random_state=None,
        verbose=0,
        warm_start=False,
        memory=None,
    ):
        self.n_clusters = n_clusters
        self.n_clusters_range = n_clusters_range
        self.autoencoder = autoencoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_components = n_components
        self.alpha = alpha
        self.activation = activation
        self.input_shape = input_shape
        self.conv_filters = conv_filters
        self.decoder = decoder
        self.reconstruction_weight = reconstruction_weight
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_learning_rate = pretrain_learning_rate
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.start_learning_rate = start_learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.update_interval = update_interval
        self.tol = tol
        self.patience = patience
        self.init = init
        self.umap_metric = umap_metric
        self.umap_merge = umap_merge
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.memory = memory

    # ------------------------------------------------------------------ fit

    @staticmethod
    def _positive_ints(name, value, allow_empty=True):
        sizes = np.asarray(value, dtype=object)
        if not (
            sizes.ndim == 1
            and (allow_empty or sizes.size)
            and all(
                isinstance(h, Integral) and not isinstance(h, bool) and h > 0
                for h in sizes
            )
        ):
            what = "sequence" if allow_empty else "non-empty sequence"
            raise ValueError(
                f"{name} must be a {what} of positive integers, got {value!r}."
            )
        return tuple(int(h) for h in sizes)

    def _hidden_layer_sizes(self, n_samples, n_features, fitted_recipe):
        """The dense widths: ``hidden_layer_sizes``, with ``"auto"`` resolved
        from the data's shape, or taken from ``fitted_recipe`` (warm start)."""
        if not isinstance(self.hidden_layer_sizes, str):
            return self._positive_ints("hidden_layer_sizes", self.hidden_layer_sizes)
        if (
            fitted_recipe is not None
            and fitted_recipe["hidden_layer_sizes"] is not None
        ):
            return fitted_recipe["hidden_layer_sizes"]
        return _schedule.hidden_layer_sizes(n_samples, n_features)

    def _start_learning_rate(self):
        """The learning rate of the phase that learns the start."""
        if self.start_learning_rate == "auto":
            if float(self.reconstruction_weight) > 0:
                return float(self.learning_rate)
            return START_LEARNING_RATE_FACTOR * float(self.learning_rate)
        return float(self.start_learning_rate)

    def _n_clusters_candidates(self, n_samples, choose):
        """The numbers of clusters that ``n_clusters="auto"`` tries (None
        unless ``choose``: a warm start keeps ``n_clusters_``);
        ``n_clusters_range`` is validated whatever ``n_clusters`` is."""
        from skdec._n_clusters import MAX_ROWS

        bounds = self._positive_ints("n_clusters_range", self.n_clusters_range)
        if (
            np.ndim(self.n_clusters_range) != 1
            or len(bounds) != 2
            or not 2 <= bounds[0] <= bounds[1]
        ):
            raise ValueError(
                "n_clusters_range must be (smallest, largest) with "
                f"2 <= smallest <= largest, got {self.n_clusters_range!r}."
            )
        if not choose:
            return None
        largest = min(bounds[1], min(n_samples, MAX_ROWS) - 2)
        if largest < bounds[0]:
            raise ValueError(
                f"n_clusters='auto' needs at least {bounds[0] + 2} samples to try "
                f"n_clusters_range={self.n_clusters_range!r}, got {n_samples}."
            )
        return range(bounds[0], largest + 1)

    def _make_recipe(self, n_features, n_samples, n_clusters, fitted_recipe=None):
        """Validated description of the networks, from which they are built.
        ``n_clusters`` is None until ``n_clusters="auto"`` has chosen."""
        recipe = {
            "n_features": n_features,
            "n_components": self.n_components,
            "n_clusters": n_clusters,
            "alpha": float(self.alpha),
            "autoencoder": self.autoencoder,
            "hidden_layer_sizes": self._hidden_layer_sizes(
                n_samples, n_features, fitted_recipe
            ),
            "activation": self.activation,
            "input_shape": None,
            "conv_filters": self._positive_ints(
                "conv_filters",
                self.conv_filters,
                allow_empty=self.autoencoder != "conv",
            ),
            "decoder": self.decoder,
        }
        shape = self.input_shape
        if shape is not None:
            shape = self._positive_ints("input_shape", shape)
        if self.autoencoder == "conv":
            if shape is None:
                side = int(round(np.sqrt(n_features)))
                if side * side != n_features:
                    raise ValueError(
                        "autoencoder='conv' needs input_shape=(height, width, "
                        f"channels); n_features={n_features} is not a square "
                        "number of grey pixels."
                    )
                shape = (side, side, 1)
            if len(shape) == 2:
                shape = (*shape, 1)
            if len(shape) != 3:
                raise ValueError(
                    "input_shape must be (height, width, channels) or (height, "
                    f"width), got {self.input_shape!r}."
                )
        if shape is not None and math.prod(shape) != n_features:
            raise ValueError(
                f"input_shape={shape} holds {math.prod(shape)} values, but X has "
                f"n_features={n_features}."
            )
        recipe["input_shape"] = shape
        # Entries that do not shape this architecture are None, so that
        # changing them neither rebuilds the networks nor blocks a warm start.
        unused = {
            "dense": ("input_shape", "conv_filters", "decoder"),
            "conv": ("hidden_layer_sizes", "activation"),
        }.get(
            self.autoencoder,
            ("hidden_layer_sizes", "activation", "conv_filters", "decoder"),
        )
        recipe.update(dict.fromkeys(unused))
        return recipe

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, initialise the centres and self-train.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Scale it first (see Notes of the class).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.

        Notes
        -----
        If the fit fails or is interrupted (``KeyboardInterrupt``), the
        estimator is left exactly as it was before the call.
        """
        before = self.__dict__.copy()
        try:
            with retracing_unreported():
                return self._fit(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X):
        warm = self.warm_start and hasattr(self, "_networks")
        if warm:
            self._use_cluster_centers()
        X = _validate_rows(
            self, X, dtype="numeric", ensure_min_samples=2, reset=not warm
        )
        _check_float32_range(X)
        _warn_if_unscaled(X)
        n_samples = X.shape[0]
        choose_k = self.n_clusters == "auto"
        candidates = self._n_clusters_candidates(n_samples, choose_k and not warm)
        if not choose_k:
            n_clusters = self.n_clusters
        elif warm:
            n_clusters = self.n_clusters_  # a warm start keeps what it chose
            low, high = self._positive_ints("n_clusters_range", self.n_clusters_range)
            if not low <= n_clusters <= high:
                raise ValueError(
                    "warm_start=True continues the fitted networks of "
                    f"n_clusters_={n_clusters}, outside n_clusters_range="
                    f"{self.n_clusters_range!r}: a warm start does not choose "
                    "again. Set warm_start=False to choose anew."
                )
        else:
            n_clusters = None
        if n_clusters is not None and n_samples < n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={n_clusters}."
            )
        from skdec import _training
        from skdec._initialization import (
            InitialClustering,
            auto_judge,
            few_distinct_rows_said_once,
            initial_clustering,
        )
        from skdec._n_clusters import choose_n_clusters
        from skdec._networks import (
            architecture,
            autoencoder_recipe,
            networks_from_weights,
        )
        from skdec._trainers import TRAINER_POOL

        seed = fit_seed(self.random_state)
        pretrain = _training.pretrain
        if self.memory is not None:
            pretrain = check_memory(self.memory).cache(pretrain, ignore=["verbose"])

        recipe = self._make_recipe(
            X.shape[1], n_samples, n_clusters, self._network_recipe if warm else None
        )
        if warm and recipe != self._network_recipe:
            changed = sorted(k for k in recipe if recipe[k] != self._network_recipe[k])
            raise ValueError(
                f"warm_start=True continues the fitted networks, but {changed} "
                "changed since the last fit. Set warm_start=False to fit anew."
            )
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = _schedule.batch_size(n_samples)
        pretrain_epochs = self.pretrain_epochs
        if pretrain_epochs == "auto":
            pretrain_epochs = _schedule.pretrain_epochs(n_samples, batch_size)
        pretrain_optimizer = {
            "optimizer": self.pretrain_optimizer,
            "momentum": (
                float(self.momentum) if self.pretrain_optimizer == "sgd" else 0.0
            ),
        }
        history = {
            "pretrain_loss": [],
            "kl_loss": [],
            "delta_label": [],
            "reconstruction_loss": [],
            "criterion": [],
        }
        n_iter_before = 0
        n_clusters_scores = None
        if warm:
            history = {key: list(values) for key, values in self.history_.items()}
            # Older archives lack these.
            history.setdefault("reconstruction_loss", [])
            history.setdefault("criterion", [])
            n_iter_before = self.n_iter_
            # A warm start neither pretrains nor initialises again.
            pretrain_epochs = self.pretrain_epochs_
            n_clusters_scores = self.n_clusters_scores_
        else:
            # Arguments that only key the cache: computed only for it.
            cache_key = {}
            if self.memory is not None:
                cache_key["environment"] = _training.environment()
                if callable(self.autoencoder):
                    cache_key["architecture"] = architecture(
                        autoencoder_recipe(recipe), seed
                    )
            self._report_schedule(recipe, n_samples, batch_size, pretrain_epochs)
            *autoencoder, history["pretrain_loss"] = pretrain(
                X if self.memory is None else _rows_contiguous(X),
                autoencoder_recipe(recipe),
                epochs=pretrain_epochs,
                batch_size=batch_size,
                learning_rate=float(self.pretrain_learning_rate),
                seed=seed,
                verbose=self.verbose,
                **cache_key,
                **pretrain_optimizer,
            )
        embedding = None  # of the pretrained encoder, once computed
        if choose_k and not warm:
            embedding = _training.embed(
                X, autoencoder_recipe(recipe), autoencoder[0], **pretrain_optimizer
            )
            with few_distinct_rows_said_once():
                choice = choose_n_clusters(X, embedding, candidates, seed=seed)
            recipe["n_clusters"] = n_clusters = choice.n_clusters
            n_clusters_scores = choice.scores
            self._report_n_clusters(choice.scores, n_clusters)

        with TRAINER_POOL.clustering(
            recipe,
            optimizer=self.optimizer,
            momentum=self.momentum,
            reconstruction_weight=float(self.reconstruction_weight),
        ) as trainer:
            if warm:
                trainer.start(
                    self.learning_rate,
                    weights=self._networks.model.get_weights(),
                    seed=seed + 1,
                )
                labels = trainer.assign(X, labels_only=True)
                start = InitialClustering(
                    self.cluster_centers_,
                    labels,
                    method=self.init_,
                    scores=self.init_scores_,
                    # Where the criterion chose the start (init="auto" in
                    # the first fit), it judges the updates (patience) as
                    # there, on the rows given now.
                    judge=(
                        auto_judge(X, labels, n_clusters, seed=seed)
                        if self.init_scores_ is not None
                        else None
                    ),
                )
            else:
                trainer.start(
                    self.learning_rate, autoencoder=autoencoder, seed=seed + 1
                )
                with few_distinct_rows_said_once():
                    start = initial_clustering(
                        self.init,
                        X,
                        trainer.embed(X) if embedding is None else embedding,
                        n_clusters,
                        n_init=self.n_init,
                        seed=seed,
                        umap_metric=self.umap_metric,
                        umap_merge=self.umap_merge,
                    )
                trainer.set_centers(start.centers)
                self._report_start(start)

            trained = _training.train_clusters(
                trainer,
                X,
                start.labels,
                max_iter=self.max_iter,
                update_interval=self.update_interval,
                tol=self.tol,
                batch_size=batch_size,
                rng=np.random.default_rng([seed, 2]),
                verbose=self.verbose,
                initial_target=start.target,
                start_learning_rate=self._start_learning_rate(),
                judge=start.judge,
                patience=self.patience,
            )
            labels = _training.trained_assign(
                trainer, X, trained.n_iter, labels_only=True
            )
            weights = trainer.networks.model.get_weights()
        self._report_stop(trained, n_iter_before)
        self._report_self_training(trained.criterion)

        # The fitted estimator owns its own networks; the trainer goes back to
        # the pool for the next fit.
        fitted_networks = networks_from_weights(recipe, weights)
        if not warm:
            # A warm start keeps the clusters' numbers, which labels, profiles
            # and models downstream refer to, even where the rows given now
            # leave one empty.
            labels = _put_empty_clusters_last(fitted_networks, labels)
        history["kl_loss"] += trained.kl_loss
        history["delta_label"] += trained.delta_label
        history["reconstruction_loss"] += trained.reconstruction_loss
        history["criterion"] += trained.criterion

        # Attributes are set together, once everything has been computed.
        self._network_recipe = recipe
        self._networks = fitted_networks
        self.cluster_centers_ = fitted_networks.clustering_layer.get_weights()[0]
        self.n_clusters_ = n_clusters
        self.n_clusters_scores_ = n_clusters_scores
        self.labels_ = labels
        self.n_iter_ = n_iter_before + trained.n_iter
        self.history_ = history
        self.init_ = start.method or self.init
        self.init_scores_ = start.scores
        self.batch_size_ = min(batch_size, n_samples)  # a step's rows
        self.pretrain_epochs_ = pretrain_epochs
        self.self_training_kept_ = trained.kept

        delta_label = trained.delta_label
        if trained.unlearned is not None:
            best = (
                "those the criterion scored highest"
                if start.judge is not None
                else "those that labelled the most rows as the start does"
            )
            kept = (
                f" Of the weights at each update and at the end, {best} were "
                "kept" + ("." if trained.kept else ": those it began from.")
            )
            if len(delta_label) < 2:
                # One update, before any training: nothing was measured since.
                measured = (
                    f"it ended before the second target update (every "
                    f"update_interval={self.update_interval} iterations), where "
                    "learning it is first measured."
                )
                remedy = (
                    "Give max_iter more than update_interval and fit again (a "
                    "warm start goes on with DEC's targets, not with this one)."
                )
            else:
                measured = (
                    f"{trained.unlearned:.2%} of the rows still had another "
                    "label than that clustering at the last of "
                    f"{len(delta_label)} target updates."
                )
                remedy = (
                    "Increase max_iter and fit again (a warm start goes on with "
                    "DEC's targets, not with this one), or, if the clusters "
                    "collapsed, scale the input."
                )
            warn(
                f"Self-training spent max_iter={self.max_iter} teaching the "
                f"encoder its initial clustering (init={self.init_!r}), before "
                f"DEC's own targets took over: {measured}{kept} {remedy}",
                ConvergenceWarning,
            )
        elif self.max_iter > 0 and not trained.converged and self.tol == 0:
            warn(
                f"Self-training ran all max_iter={self.max_iter} iterations, as "
                "tol=0 asks (no fraction of changed labels is below 0; it was "
                f"{delta_label[-1]:.4g} at the last of {len(delta_label)} target "
                "updates). Give tol > 0 to stop once the labels settle.",
                ConvergenceWarning,
            )
        elif self.max_iter > 0 and not trained.converged:
            if delta_label[-1] < self.tol:
                # Below tol, yet not converged: the last update was the first
                # of DEC's phase (after the start was learned, if one was), which
                # no tol can pass.
                learned = (
                    "" if start.target is None else ", after the start was learned"
                )
                where = (
                    f"it ended at the first target update of DEC's sharpening "
                    f"(the last of {len(delta_label)}{learned}), which is not "
                    "checked; convergence is checked from the second update of "
                    f"that phase on, every update_interval={self.update_interval} "
                    "iterations"
                )
                remedy = "Give max_iter at least one more update_interval."
            else:
                where = (
                    f"it was {delta_label[-1]:.4g} at the last of "
                    f"{len(delta_label)} target updates; convergence is checked "
                    "from the second update on, every "
                    f"update_interval={self.update_interval} iterations"
                )
                remedy = "Increase max_iter or tol."
            warn(
                f"Self-training stopped at max_iter={self.max_iter} before the "
                f"fraction of changed labels fell below tol={self.tol} ({where}). "
                f"{remedy}",
                ConvergenceWarning,
            )
        n_distinct = np.unique(labels).size
        if n_distinct < n_clusters and warm:
            empty = np.setdiff1d(np.arange(n_clusters), labels)
            warn(
                f"The rows given to this warm start reach {n_distinct} of the "
                f"{n_clusters} clusters: cluster(s) "
                f"{', '.join(map(str, empty))} received no row: their centres "
                "learn nothing from these rows, and they keep their numbers.",
                ConvergenceWarning,
            )
        elif n_distinct < n_clusters:
            from skdec._modularity import distinct_rows

            n_rows = len(distinct_rows(X)[2])  # only where clusters are empty
            if n_rows < n_clusters:
                cause = (
                    f"X has {_count(n_rows, 'distinct row')}, fewer than "
                    "n_clusters, and copies of a row share their cluster."
                )
            else:
                cause = (
                    "If the input is not scaled, scale it first "
                    "(MinMaxScaler(clip=True) for pixels, StandardScaler for "
                    "tables); else the data may hold fewer clusters."
                )
            warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({n_clusters}): some clusters are empty after "
                f"fitting; their centres receive no training row. {cause}",
                ConvergenceWarning,
            )
        return self

    def _report_n_clusters(self, scores, n_clusters):
        """Say which number of clusters n_clusters="auto" chose, the
        runner-up and every candidate's score."""
        from skdec._n_clusters import runner_up

        second = runner_up(scores, n_clusters)
        values = ", ".join(f"{k}: {value:.4f}" for k, value in scores.items())
        second = "" if second is None else f"runner-up {second}; "
        message = (
            f"n_clusters='auto' chose {n_clusters} ({second}"
            f"separation score per k: {values})"
        )
        self._report(message)

    def _report_start(self, start):
        """Say which start init="auto" chose, and the criterion's values."""
        if start.scores is None:
            return
        values = ", ".join(
            f"{name} {value:.4f}" for name, value in start.scores.items()
        )
        message = (
            f"init='auto' chose {start.method!r} (map equation's saving, in "
            "bits, on the input's neighbour graph, inf where no more than one "
            f"link joins a cluster to the others: {values})"
        )
        self._report(message)

    def _report_schedule(self, recipe, n_samples, batch_size, pretrain_epochs):
        """Say which network and pretraining schedule the fit uses, and which
        of them "auto" chose."""
        if recipe["hidden_layer_sizes"] is not None:
            sizes = [recipe["n_features"], *recipe["hidden_layer_sizes"]]
            network = "dense autoencoder with encoder " + "-".join(
                map(str, [*sizes, recipe["n_components"]])
            )
        elif recipe["conv_filters"] is not None:
            filters = "-".join(map(str, recipe["conv_filters"]))
            network = (
                f"convolutional autoencoder with {filters} filters on "
                f"{'x'.join(map(str, recipe['input_shape']))} inputs"
            )
        else:
            network = "given autoencoder"
        if pretrain_epochs == 0:
            self._report(f"No pretraining of the {network} (pretrain_epochs=0)")
            return
        rows = min(batch_size, n_samples)  # a batch holds at most every row
        steps = pretrain_epochs * math.ceil(n_samples / batch_size)
        chosen = [
            name
            for name in ("hidden_layer_sizes", "batch_size", "pretrain_epochs")
            if isinstance(getattr(self, name), str)
            and (name != "hidden_layer_sizes" or recipe[name] is not None)
        ]
        auto = ""
        if chosen:
            named = " and ".join(
                [", ".join(chosen[:-1]), chosen[-1]] if chosen[1:] else chosen
            )
            auto = (
                f"; {named} 'auto', from {n_samples} rows of "
                f"{recipe['n_features']} features"
            )
        cached = "" if self.memory is None else " (or reading it from memory)"
        epochs = _count(pretrain_epochs, "epoch")
        self._report(
            f"Pretraining the {network}{cached} for {epochs} of batches of "
            f"{_count(rows, 'row')}, {_count(steps, 'gradient step')}{auto}"
        )

    def _report_stop(self, trained, n_iter_before):
        """Say why self-training stopped before max_iter, if it did."""
        n_iter = n_iter_before + trained.n_iter
        if trained.stopped_by == "tol":
            self._report(
                f"Self-training converged at iteration {n_iter}: "
                f"{trained.delta_label[-1]:.2%} of the labels changed since "
                f"the last target update, below tol={self.tol}"
            )
        elif trained.stopped_by == "criterion":
            # It stops there only with a patience (see _BestWeights.observe).
            scores = trained.criterion
            best = int(np.argmax(scores))
            if scores[best] == np.inf:
                why = (
                    f"its check {best} (0 is its start) scored inf: no more "
                    "than one link of the neighbour graph joins a cluster to "
                    "the others, and no later check can beat that"
                )
            else:
                why = (
                    f"it did not rise for patience={self.patience} target "
                    "updates in a row"
                )
            self._report(
                f"Self-training stopped at iteration {n_iter} by the criterion "
                f"of init='auto': {why}"
            )

    def _report_self_training(self, scores):
        """Say which target update of DEC's phase init="auto" kept."""
        if not scores:
            return
        best = int(np.argmax(scores))
        message = (
            f"DEC's sharpening kept the weights of its check {best} of "
            f"{len(scores) - 1} by the criterion (0 is its start): "
            f"{scores[best]:.4f}, against {scores[0]:.4f} at the start and "
            f"{scores[-1]:.4f} at the last check"
        )
        self._report(message)

    def _report(self, message):
        """Log what a fit chose, and print it too when verbose."""
        logger.info(message)
        if self.verbose:
            # Beside Keras' progress bars, on standard output.
            print(message)

    # ------------------------------------------------------------ inference

    def _infer(self, X, method, **kwargs):
        """``method`` of a pooled predictor holding this model's weights, on X.

        Fitted models share the pool's predictors (one per architecture), so
        that predicting does not trace a new function for every fitted model.
        """
        from skdec._trainers import TRAINER_POOL

        check_is_fitted(self)
        X = _check_float32_range(_validate_rows(self, X, dtype="numeric", reset=False))
        self._use_cluster_centers()
        with (
            TRAINER_POOL.predictor(self._network_recipe) as predictor,
            retracing_unreported(),
        ):
            predictor.load(self._networks.model.get_weights())
            return getattr(predictor, method)(X, **kwargs)

    def _use_cluster_centers(self):
        """Give the clustering layer ``cluster_centers_`` if they changed
        since the fit, in place or by assignment, so that predicting, a warm
        start and saving use them, as :class:`~sklearn.cluster.KMeans` uses
        its own."""
        layer = self._networks.clustering_layer
        (current,) = layer.get_weights()
        centers = self.cluster_centers_
        if (
            isinstance(centers, np.ndarray)
            and centers.dtype == current.dtype
            and np.array_equal(centers, current)
        ):
            return
        try:
            centers = np.asarray(centers, dtype=current.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cluster_centers_ are not numbers: {exc}") from None
        if centers.shape != current.shape:
            raise ValueError(
                f"cluster_centers_ has shape {centers.shape}, but the model has "
                f"{current.shape[0]} clusters in {current.shape[1]} dimensions: "
                f"give centres of shape {current.shape}, or refit."
            )
        if not np.isfinite(centers).all():
            raise ValueError(
                "cluster_centers_ holds NaN or values beyond the float32 range "
                "in which the networks compute."
            )
        layer.set_weights([centers])
        self.cluster_centers_ = layer.get_weights()[0]

    def transform(self, X):
        """Embed X with the trained encoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype float32
            The embedding of each row.
        """
        return self._infer(X, "embed")

    def predict_proba(self, X):
        """Soft cluster assignment ``q`` of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        q : ndarray of shape (n_samples, `n_clusters_`)
            Student's t similarity of each row's embedding to each centre,
            normalised so that each row sums to one.
        """
        return self._infer(X, "assign")

    def predict(self, X):
        """Predict the closest cluster of each row (the argmax of ``q``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the cluster each row belongs to.
        """
        return self._infer(X, "assign", labels_only=True)

    def score(self, X, y=None):
        """Opposite of the DEC objective on X: ``-KL(P || Q)``, mean over rows.

        ``Q`` is the soft assignment of the rows of X and ``P`` the target
        distribution computed from it, as in self-training. The value is at
        most zero, and zero where self-training has nothing left to sharpen:
        where every assignment is certain, but also where every row is
        assigned uniformly to all clusters (``P`` is then ``Q``) and for a
        single cluster. So it says how far the model is from a fixed point of
        its own objective, not how good its clusters are: do not compare
        models or numbers of clusters by it (``GridSearchCV`` without
        ``scoring`` would, and picks ``n_clusters=1`` where the grid offers
        it). Score a search with :func:`~skdec.graph_separation_scorer`
        without labels, or :data:`~skdec.cluster_accuracy_scorer` with some.
        ``P`` depends on the cluster frequencies over the rows given, so the
        score does too: it compares sets of many rows, not single rows (on
        one row ``P`` is ``Q`` and the score is 0, up to rounding, however
        unsure the assignment).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Opposite of the mean KL divergence of ``P`` from ``Q``.
        """
        q = self.predict_proba(X)
        # KL is never negative; rounding can make it -1e-16 (one row, say).
        # 0.0 - x: a KL of 0 gives 0.0, not -0.0.
        return 0.0 - max(float(kl_divergence(target_distribution(q), q)), 0.0)

    def save(self, path):
        """Save the fitted estimator to one file, safe to load anywhere.

        The file holds the state that pickle stores (parameters, fitted
        attributes, architecture recipe and network weights), written with
        skops, with a format version; it is written atomically. Load it with
        :func:`skdec.load`, which never unpickles and never runs code from the
        file. :func:`skdec.save` does the same for a pipeline ending in a
        DECClusterer.

        Parameters
        ----------
        path : str or path-like
            Where to write the file (``.skdec`` is a good suffix).

        Returns
        -------
        None
        """
        check_is_fitted(self)
        if callable(self.autoencoder):
            raise ValueError(
                "save() stores the built-in architectures ('dense', 'conv') only: a "
                "custom autoencoder callable cannot be saved without running code at "
                "load time. Use pickle or joblib, which store the callable by "
                "reference, for such models."
            )
        _archive.write(self, path)

    @property
    def _n_features_out(self):
        return self.cluster_centers_.shape[1]

    @property
    def hidden_layer_sizes_(self):
        """tuple of int: the widths of the dense encoder's hidden layers."""
        check_is_fitted(self)
        widths = self._network_recipe["hidden_layer_sizes"]
        return None if widths is None else tuple(int(width) for width in widths)

    @property
    def encoder_(self):
        """keras.Model: the trained encoder, from input rows to the embedding."""
        check_is_fitted(self)
        return self._networks.encoder

    @property
    def decoder_(self):
        """keras.Model: the trained decoder, from the embedding to flat rows
        (for example to decode :attr:`cluster_centers_`)."""
        check_is_fitted(self)
        return self._networks.decoder

    @property
    def autoencoder_(self):
        """keras.Model: the trained autoencoder, from input rows to their
        reconstruction (its encoder is shared with :attr:`encoder_`)."""
        check_is_fitted(self)
        return self._networks.autoencoder

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The networks compute in float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ----------------------------------------------------------- persistence

    def __getstate__(self):
        # object.__getstate__ may return the instance dict itself: copy it.
        if hasattr(self, "_networks"):
            self._use_cluster_centers()
        state = dict(super().__getstate__())
        networks = state.pop("_networks", None)
        if networks is not None:
            state["_network_weights"] = networks.model.get_weights()
        return state

    def __setstate__(self, state):
        # The one way back from a state, for pickle and model files alike:
        # checked first, so that a file cannot describe other networks.
        state = _archive.with_default_params(type(self), state)
        _archive.check_state(type(self), state)
        weights = state.pop("_network_weights", None)
        super().__setstate__(state)
        if weights is not None:
            from skdec._networks import networks_from_weights

            self._networks = networks_from_weights(self._network_recipe, weights)
            centers = self._networks.clustering_layer.get_weights()[0]
            if not np.array_equal(centers, self.cluster_centers_):
                raise ValueError(
                    "its fitted attributes are inconsistent: cluster_centers_ "
                    "differs from the weights of the clustering layer."
                )
