"""Figures of a DEC fit: confusion matrix, training history, centres, embedding.

Every function imports matplotlib when it is called, so ``import skdec`` does
not need it; install it with ``pip install 'skdec[plot]'``. Each ``plot_``
function draws on the Axes (or Figure) it is given, or on a new one, and
returns what it drew on; :func:`decode_cluster_centers` draws nothing and
returns the decoded centres.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from skdec._batches import predict_batches
from skdec._warnings import retracing_unreported, warn
from skdec.metrics import (
    _labels_1d,
    _matched_contingency,
    _missing_mask,
    _python_value,
    _unique_labels,
)

__all__ = [
    "decode_cluster_centers",
    "plot_cluster_centers",
    "plot_cluster_profile",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_history",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skdec.plotting needs matplotlib; install it with "
            "pip install 'skdec[plot]'."
        ) from exc
    return plt


def _dec_step(estimator):
    """The DECClusterer itself, or the last step of a Pipeline ending in one,
    fitted; any other estimator is refused (its ``transform`` and centres
    mean other things, and the figure would be drawn anyway)."""
    from sklearn.utils.validation import check_is_fitted

    from skdec._estimator import DECClusterer

    steps = getattr(estimator, "steps", None)
    dec = steps[-1][1] if steps else estimator
    if not isinstance(dec, DECClusterer):
        raise TypeError(
            "skdec.plotting needs a DECClusterer or a Pipeline ending in one, "
            f"got {type(dec).__name__}."
        )
    check_is_fitted(dec)
    return dec


def _aligned_contingency(y_true, y_pred):
    """Contingency table with matched classes and clusters on the diagonal.

    Returns ``counts, classes, clusters``: ``counts[i, j]`` is the number of
    samples of class ``classes[i]`` in cluster ``clusters[j]``. The pairs
    matched by :func:`~skdec.metrics.align_clusters` come first, in the order
    of the classes, so ``counts[i, i]`` counts the correctly clustered samples
    of the ``i``-th matched class; unmatched classes and clusters come last.
    """
    classes, clusters, counts, rows, cols = _matched_contingency(
        y_true, y_pred, "plot_confusion_matrix"
    )
    # linear_sum_assignment returns the matched rows in ascending order.
    row_order = [*rows, *(i for i in range(len(classes)) if i not in set(rows))]
    col_order = [*cols, *(j for j in range(len(clusters)) if j not in set(cols))]
    return (
        counts[np.ix_(row_order, col_order)],
        [_python_value(classes[i]) for i in row_order],
        [_python_value(clusters[j]) for j in col_order],
    )


def plot_confusion_matrix(y_true, y_pred, ax=None, cmap="Blues"):
    """Plot the classes against the clusters after Hungarian alignment.

    The clusters are put in the column of the class that
    :func:`~skdec.metrics.align_clusters` matches them to, so the diagonal
    counts the correctly clustered samples and its sum over the total is
    :func:`~skdec.metrics.cluster_accuracy`. Drawn by scikit-learn's
    :class:`~sklearn.metrics.ConfusionMatrixDisplay`, with the classes as
    rows and the clusters as columns.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None, larger than matplotlib's
        default beyond about 10 classes or clusters.
    cmap : str or matplotlib colormap, default="Blues"
        Colormap of the counts.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on; ``ax.images[0].get_array()`` holds the counts,
        with the classes as rows and the clusters as columns. Matched pairs
        come first, in the order of the classes, so the diagonal holds the
        correctly clustered samples; unmatched classes or clusters come last.
        When there are more clusters than classes (or the reverse), the
        matrix is completed to a square one by a row (or column) of zeros
        labelled ``"(none)"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdec.plotting import plot_confusion_matrix
    >>> ax = plot_confusion_matrix([0, 0, 1, 1], [1, 1, 0, 1])
    >>> ax.images[0].get_array().tolist()
    [[2, 0], [1, 1]]
    """
    plt = _pyplot()
    from sklearn.metrics import ConfusionMatrixDisplay

    counts, classes, clusters = _aligned_contingency(y_true, y_pred)
    n = max(counts.shape)
    square = np.zeros((n, n), dtype=counts.dtype)
    square[: counts.shape[0], : counts.shape[1]] = counts
    if ax is None:
        # Constrained: long class names and the axis label stay on the figure.
        # Wider and taller with the matrix, so that its labels and counts do
        # not run into each other (matplotlib's default is 6.4 x 4.8 inches).
        figsize = (max(6.4, 0.45 * n + 2.0), max(4.8, 0.3 * n + 1.5))
        _, ax = plt.subplots(layout="constrained", figsize=figsize)
    fontsize = "medium" if n <= 12 else "small" if n <= 24 else "x-small"
    ConfusionMatrixDisplay(square).plot(
        ax=ax,
        cmap=cmap,
        colorbar=False,
        values_format="d",
        text_kw={"fontsize": fontsize},
    )
    ax.set_aspect("auto")
    none = ["(none)"] * n
    ax.set_xticks(range(n), [*map(str, clusters), *none][:n])
    ax.set_yticks(range(n), [*map(str, classes), *none][:n])
    ax.set_xlabel("cluster")
    ax.set_ylabel("class")
    accuracy = np.trace(square) / square.sum()
    ax.set_title(f"Clusters matched to classes (accuracy {accuracy:.3f})")
    return ax


def plot_history(estimator_or_history, axes=None):
    """Plot the training history of a DEC fit.

    Three panels: the reconstruction loss of each pretraining epoch, the
    KL divergence of the target from ``Q`` at each target update (the
    start's one-hot labels while a start found outside the embedding is
    learned, then DEC's ``P``: see ``history_``), and the fraction of labels
    changed at each target update (the stopping criterion, with ``tol``).
    With the joint loss (IDEC, ``reconstruction_weight > 0``), the second
    panel also shows the reconstruction loss at each target update
    (``history_["reconstruction_loss"]``), on an axis of its own at the right.

    Parameters
    ----------
    estimator_or_history : DECClusterer, Pipeline or dict
        A fitted estimator (or a Pipeline ending in one), or its
        ``history_`` dict.
    axes : sequence of 3 matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure with three panels when None.

    Returns
    -------
    axes : ndarray of matplotlib.axes.Axes
        The three Axes drawn on, with one line each of the history; given
        an estimator, the third also has a dashed line at its ``tol`` (as the
        parameter is now: one set after the fit is not the one it stopped by).
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    history = estimator_or_history
    tol = None
    if not isinstance(history, dict):
        estimator = _dec_step(estimator_or_history)
        history = estimator.history_
        tol = estimator.tol
    panels = [
        ("pretrain_loss", "pretraining epoch", "reconstruction loss (MSE)"),
        ("kl_loss", "target update", "KL(target || Q)"),
        ("delta_label", "target update", "fraction of labels changed"),
    ]
    absent = [key for key, *_ in panels if key not in history]
    if absent:  # checked before any figure is made
        raise ValueError(
            f"The history has no {', '.join(map(repr, absent))}: give a fitted "
            "DECClusterer, a Pipeline ending in one, or its history_ dict, "
            "which has 'pretrain_loss', 'kl_loss' and 'delta_label'."
        )
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.5), layout="constrained")
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 3:
        raise ValueError(
            f"plot_history draws three panels and needs 3 Axes; got {axes.size}."
        )
    for ax, (key, xlabel, ylabel) in zip(axes, panels, strict=True):
        values = np.asarray(history[key], dtype=float)
        ax.plot(
            np.arange(1, values.size + 1), values, marker="." if values.size else ""
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        if values.size == 0:
            ax.set_title("(none)")
    reconstruction = np.asarray(history.get("reconstruction_loss", []), dtype=float)
    if reconstruction.size:
        right = axes[1].twinx()
        right.plot(
            np.arange(1, reconstruction.size + 1),
            reconstruction,
            marker=".",
            color="C1",
        )
        right.set_ylabel("reconstruction loss (MSE)", color="C1")
        axes[1].yaxis.label.set_color("C0")  # the KL line's colour
        axes[1].set_title("KL (left), reconstruction (right)")
    if tol is not None:
        axes[2].axhline(tol, color="gray", linestyle="--", label="tol")
        axes[2].legend()
    axes[0].set_yscale(
        "log" if np.all(np.asarray(history["pretrain_loss"]) > 0) else "linear"
    )
    return axes


def decode_cluster_centers(estimator):
    """The reconstructions of the cluster centres by the trained decoder.

    The centres live in the embedding; ``estimator.decoder_`` maps them back to
    the input space. The decoder learns with the encoder only while the
    reconstruction is a term of the loss: in pretraining, and in
    self-training when ``reconstruction_weight > 0`` (IDEC). DEC's own
    self-training (``reconstruction_weight=0``) moves the encoder alone, so
    that the decoder then reads the centres as the pretrained embedding would
    place them, which may be far from the cluster's rows.

    Parameters
    ----------
    estimator : DECClusterer or Pipeline
        A fitted estimator, or a Pipeline ending in one.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The decoded centres, in the scaled space the estimator was fitted in.
    """
    estimator = _dec_step(estimator)
    # As the estimator's own predictions: TensorFlow's retracing warning,
    # which decoders of several architectures would give, is not shown.
    with retracing_unreported():
        return predict_batches(estimator.decoder_, estimator.cluster_centers_)


def plot_cluster_centers(estimator, image_shape, fig=None, cmap="gray", *, X=None):
    """Show each cluster as an image: its decoded centre, or its mean row.

    Without ``X``, each centre is decoded by :func:`decode_cluster_centers`
    and reshaped to ``image_shape``, one panel per cluster. The decoder
    follows the encoder only when the reconstruction stays in the loss
    (``reconstruction_weight > 0``); after DEC's own self-training it does
    not, the decoded centres may look like no image of their cluster, and a
    ``UserWarning`` says so (not where a start in the embedding, ``init_``
    ``"kmeans"``, had its sharpening undone, ``self_training_kept_`` False:
    the encoder is then the pretrained one). With ``X``, each panel is the
    mean of the rows of ``X`` that the estimator puts in the cluster, in the
    units of ``X``, which any fit shows truly.

    Parameters
    ----------
    estimator : DECClusterer or Pipeline
        A fitted estimator on image rows, or a Pipeline ending in one.
    image_shape : tuple of int
        Shape of one image, ``(height, width)``, ``(height, width, 1)`` (as
        the convolutional autoencoder's ``input_shape``) or ``(height, width,
        3)``;
        its product must be the number of features (of ``X``, when given;
        else ``n_features_in_`` of the DECClusterer). A colour image is drawn
        on one scale for all panels: a decoded centre's values clipped to
        [0, 1], pixels scaled as ``MinMaxScaler`` scales them (a decoder's
        output slightly outside); a mean row of ``X`` on [0, 1] or [0, 255]
        where the values of ``X`` lie within, else from its least to its
        largest value. A grey one is stretched from its darkest to its
        brightest value.
    fig : matplotlib.figure.Figure, default=None
        Figure to draw on; a new one when None.
    cmap : str or matplotlib colormap, default="gray"
        Colormap of single-channel images.
    X : array-like of shape (n_samples, n_features), default=None
        Rows to show the clusters by, as ``estimator.predict`` takes them (for
        a Pipeline, before its first step); None shows the decoded centres.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with one Axes per cluster, holding its image (none for a
        cluster that no row of ``X`` falls in).
    """
    plt = _pyplot()
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) not in (2, 3):
        raise ValueError(
            f"image_shape should be (height, width) or (height, width, "
            f"channels), got {image_shape}."
        )
    if len(image_shape) == 3 and image_shape[2] not in (1, 3, 4):
        raise ValueError(
            f"image_shape={image_shape} has {image_shape[2]} channels; an image "
            "is drawn with 1 (grey), 3 (RGB) or 4 (RGBA)."
        )
    if X is None:
        dec = _dec_step(estimator)
        # Whether the fit trained the decoder, as its history says (models
        # saved before the history had the key: the parameter, as it is).
        recorded = dec.history_.get("reconstruction_loss")
        joint = dec.reconstruction_weight > 0 if recorded is None else bool(recorded)
        # A start in the embedding whose sharpening was undone: the encoder
        # is the pretrained one again (other starts were learned first).
        undone = not getattr(dec, "self_training_kept_", True) and (
            getattr(dec, "init_", None) == "kmeans"
        )
        if not joint and dec.n_iter_ > 0 and not undone:
            warn(
                "The decoder learned only in pretraining (reconstruction_weight"
                f"=0), and self-training has moved the encoder since ({dec.n_iter_} "
                "iterations): the decoded centres may look like no image of "
                "their cluster. Pass X to show each cluster's mean row instead.",
                UserWarning,
            )
        centers = decode_cluster_centers(estimator)
        titles = [f"cluster {k}" for k in range(centers.shape[0])]
        low, high = 0.0, 1.0  # MinMaxScaler's pixels
    else:
        centers, titles, (low, high) = _cluster_means(estimator, X)
    if int(np.prod(image_shape)) != centers.shape[1]:
        raise ValueError(
            f"image_shape={image_shape} holds {int(np.prod(image_shape))} values, "
            f"but the {'estimator' if X is None else 'rows of X'} have "
            f"{centers.shape[1]} features."
        )
    n_clusters = centers.shape[0]
    n_cols = min(n_clusters, 10)
    n_rows = -(-n_clusters // n_cols)
    if fig is None:
        fig = plt.figure(figsize=(1.2 * n_cols, 1.4 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k < n_clusters:
            image = centers[k].reshape(image_shape)
            if image.ndim == 3 and image.shape[2] == 1:
                image = image[:, :, 0]  # grey, as the conv autoencoder's
            elif image.ndim == 3:
                # matplotlib clips colours itself, with a warning per image.
                image = np.clip((image - low) / (high - low), 0.0, 1.0)
            if np.isfinite(image).all():
                ax.imshow(image, cmap=cmap)
            ax.set_title(titles[k], fontsize="small")
    for ax in axes[n_clusters:]:
        fig.delaxes(ax)
    return fig


def _cluster_means(estimator, X):
    """``(means, titles, (low, high))``: the mean of the rows of ``X`` in each
    cluster of ``estimator.predict(X)`` (NaN for an empty cluster), a title per
    cluster with its number of rows, and the range of colours of ``X``: [0, 1]
    or [0, 255] where its values lie within, else its least and largest."""
    from skdec._initialization import cluster_means

    dec = _dec_step(estimator)
    labels = np.asarray(estimator.predict(X))
    X = np.asarray(X, dtype=np.float64).reshape(len(labels), -1)
    counts = np.bincount(labels, minlength=dec.n_clusters_)
    means = cluster_means(X, labels, dec.n_clusters_)
    means[counts == 0] = np.nan  # not cluster_means' zero: no image at all
    titles = [f"cluster {k} ({n} rows)" for k, n in enumerate(counts)]
    finite = X[np.isfinite(X)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    for scale in (1.0, 255.0):  # pixels as floats, or as 8-bit values
        if 0.0 <= low and high <= scale:
            return means, titles, (0.0, scale)
    # One value only: mid grey rather than a division by zero.
    return means, titles, (low, high) if high > low else (low - 1.0, low + 1.0)


def plot_embedding(estimator, X, y=None, ax=None):
    """Scatter the embedding of X in two dimensions, coloured by cluster.

    The embedding is ``estimator.transform(X)``; with more than two
    components it is projected on its first two principal components, and
    the cluster centres with it (black crosses).

    Parameters
    ----------
    estimator : DECClusterer or Pipeline
        A fitted estimator, or a Pipeline ending in one (X then goes through
        the whole Pipeline).
    X : array-like of shape (n_samples, n_features)
        Rows to embed.
    y : array-like of shape (n_samples,), default=None
        True classes; when given, each class gets its own marker (up to 22
        classes; more share markers, with a warning), named in
        the legend (in grey: the colours are the clusters'), and rows without
        a class (None, NaN, ``pd.NA``) are drawn as dots.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on. Its first collections are the points (with
        ``y``, one per class, then one of the rows without a class, if
        any), the last one the centres.
    """
    plt = _pyplot()
    dec = _dec_step(estimator)
    Z = np.asarray(estimator.transform(X), dtype=float)
    labels = np.asarray(estimator.predict(X))
    centers = np.asarray(dec.cluster_centers_, dtype=float)
    if y is not None:  # checked before any figure is made
        y = _labels_1d(y)
        if len(y) != len(Z):
            raise ValueError(f"y has {len(y)} labels, but X has {len(Z)} rows.")
        unknown = _missing_mask(y)
        classes, codes = _unique_labels(y[~unknown], "y")
    if Z.shape[1] > 2:
        from sklearn.decomposition import PCA

        if len(Z) < 2:
            raise ValueError(
                f"plot_embedding projects the {Z.shape[1]}-dimensional embedding "
                "on its first two principal components, found from the rows of "
                f"X, and needs at least 2 of them; got {len(Z)}."
            )

        pca = PCA(n_components=2).fit(Z)
        Z, centers = pca.transform(Z), pca.transform(centers)
        xlabel, ylabel = "principal component 1", "principal component 2"
    elif Z.shape[1] == 2:
        xlabel, ylabel = "component 1", "component 2"
    else:
        Z = np.column_stack([Z[:, 0], np.zeros(len(Z))])
        centers = np.column_stack([centers[:, 0], np.zeros(len(centers))])
        xlabel, ylabel = "component 1", ""
    if ax is None:
        _, ax = plt.subplots()
    n_clusters = centers.shape[0]
    if n_clusters <= 20:
        colors = plt.get_cmap("tab10" if n_clusters <= 10 else "tab20")
    else:  # one colour per cluster, spread along a continuous map
        colors = plt.get_cmap("turbo").resampled(n_clusters)
    style = dict(c=labels, cmap=colors, vmin=-0.5, vmax=colors.N - 0.5, s=12)
    if y is None:
        ax.scatter(Z[:, 0], Z[:, 1], **style)
    else:
        from matplotlib.lines import Line2D

        member = np.full(len(y), -1)
        member[~unknown] = codes
        # Filled shapes first, then line ones (the centres' "x" is apart).
        markers = "osD^v<>pP*XhHd8" + "1234+|_"
        if len(classes) > len(markers):
            warn(
                f"y has {len(classes)} classes, more than the {len(markers)} "
                "markers: classes share markers in the plot and its legend.",
                UserWarning,
            )
        groups = [
            (member == i, markers[i % len(markers)], f"class {_python_value(cls)}")
            for i, cls in enumerate(classes)
        ]
        if unknown.any():
            groups.append((unknown, ".", "no class"))
        handles = []
        for rows, marker, name in groups:
            ax.scatter(
                Z[rows, 0], Z[rows, 1], marker=marker, **style | {"c": labels[rows]}
            )
            # The markers name the classes; the colours are the clusters'.
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    markersize=np.sqrt(style["s"]),  # as in the plot
                    color="gray",
                    linestyle="",
                    label=name,
                )
            )
        ax.legend(handles=handles, fontsize="small", markerscale=1.5)
    ax.scatter(centers[:, 0], centers[:, 1], c="black", marker="x", s=80)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("Embedding, coloured by cluster")
    return ax


def _readable_on(background):
    """Black or white, whichever contrasts more with the RGBA ``background``
    (the WCAG contrast ratio of relative luminances)."""
    channels = np.asarray(background[:3], dtype=float)
    linear = np.where(
        channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4
    )
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    on_black = (luminance + 0.05) / 0.05
    on_white = 1.05 / (luminance + 0.05)
    return "black" if on_black >= on_white else "white"


@validate_params(
    {"top": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def plot_cluster_profile(profile, top=12, ax=None, cmap="RdBu_r"):
    """Draw a cluster profile as a heatmap of clusters by features.

    Each cell is the standardised difference of a feature between the
    cluster and the other rows (see :func:`skdec.tables.cluster_profile`):
    red where the cluster is above the rest, blue where it is below. The
    ``top`` features that separate some cluster most are shown, the most
    separating first. An infinite difference (a perfect separation) takes
    the colour at the end of the scale and is written ``+inf`` or ``-inf``.
    Each value is written in black or white, whichever reads better on its
    cell.

    Parameters
    ----------
    profile : pandas.DataFrame
        The result of :func:`skdec.tables.cluster_profile`.
    top : int, default=12
        Number of features shown (at least 1), ranked by their largest
        absolute standardised difference over the clusters.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None.
    cmap : str or matplotlib colormap, default="RdBu_r"
        Diverging colormap, centred on zero.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on; ``ax.images[0].get_array()`` holds the
        standardised differences (infinite ones clipped to the largest
        finite one), clusters as rows and features as columns (named by the
        x tick labels).
    """
    plt = _pyplot()
    table = profile.pivot(index="cluster", columns="feature", values="std_difference")
    strength = table.abs().max(axis=0).sort_values(ascending=False, kind="stable")
    table = table[strength.index[:top]]
    values = table.to_numpy(dtype=float)
    new_figure = ax is None
    if new_figure:
        width = 1.0 + 0.55 * table.shape[1]
        _, ax = plt.subplots(
            figsize=(max(width, 4.0), 1.0 + 0.5 * table.shape[0]),
            layout="constrained",
        )
    finite = np.isfinite(values)
    limit = float(np.abs(values[finite]).max()) if finite.any() else 0.0
    limit = limit or 1.0
    image = ax.imshow(
        np.clip(values, -limit, limit),  # a perfect separation at the ends
        cmap=cmap,
        vmin=-limit,
        vmax=limit,
        aspect="auto",
        interpolation="nearest",
    )
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            background = image.cmap(image.norm(np.clip(value, -limit, limit)))
            ax.text(
                j,
                i,
                f"{value:+.1f}",
                ha="center",
                va="center",
                fontsize="small",
                color=_readable_on(background),
            )
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    sizes = profile.groupby("cluster")["size"].first()
    ax.set_yticks(
        range(table.shape[0]),
        [f"{cluster} (n={sizes[cluster]})" for cluster in table.index],
    )
    ax.set_xlabel("feature")
    ax.set_ylabel("cluster")
    colorbar = ax.figure.colorbar(image, ax=ax, label="standardised difference")
    ax.set_title("What sets each cluster apart")
    if new_figure:
        _fit_height(ax, colorbar.ax.yaxis.label)
    return ax


def _fit_height(ax, text):
    """Make the figure of ``ax`` tall enough that ``ax`` (and its colour
    bar, as tall) holds the vertical ``text``, whatever room the tick labels
    and the title take."""
    fig = ax.figure
    for _ in range(4):
        # Any other warning of this draw comes again when the figure is shown.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # Lays the figure out on any canvas (svg and pdf have no
            # renderer of their own): the extents below are its own.
            fig.draw_without_rendering()
        height = text.get_window_extent().height
        if any("constrained_layout not applied" in str(w.message) for w in caught):
            # Too short for long tick labels: the layout gave up.
            missing = height
        else:
            missing = height - ax.bbox.height
            if missing <= 0:
                return
        fig.set_figheight(fig.get_figheight() + missing / fig.dpi + 0.1)
