"""Figures of skdec.plotting, drawn with the Agg backend."""

import itertools
import pickle
import sys
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

import skdec.plotting
from skdec import DECClusterer
from skdec.metrics import cluster_accuracy
from skdec.plotting import (
    decode_cluster_centers,
    plot_cluster_centers,
    plot_cluster_profile,
    plot_confusion_matrix,
    plot_embedding,
    plot_history,
)
from skdec.tables import cluster_profile

from _helpers import small_dec

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


@pytest.fixture(scope="module")
def dec3(digits):
    """Four clusters of digit images in a three-dimensional embedding."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small_dec(n_clusters=4, n_components=3, max_iter=20).fit(digits[0])


@pytest.fixture(scope="module")
def dec2(digits):
    return small_dec(n_clusters=3, n_components=2, max_iter=0).fit(digits[0])


def _save(fig, tmp_path):
    path = tmp_path / "figure.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    return path


def test_confusion_matrix_puts_matched_clusters_on_the_diagonal(tmp_path):
    y_true = ["a"] * 4 + ["b"] * 3 + ["c"] * 3
    y_pred = [2, 2, 2, 0, 0, 0, 1, 1, 1, 7]
    ax = plot_confusion_matrix(y_true, y_pred)
    counts = np.asarray(ax.images[0].get_array())
    # Matches: a -> 2, b -> 0, c -> 1; cluster 7 is left over, last, and the
    # square is completed by a row of zeros.
    np.testing.assert_array_equal(
        counts, [[3, 1, 0, 0], [0, 2, 1, 0], [0, 0, 2, 1], [0, 0, 0, 0]]
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "0", "1", "7"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "(none)"]
    assert np.trace(counts) / counts.sum() == cluster_accuracy(y_true, y_pred)
    assert "accuracy 0.700" in ax.get_title()
    assert [t.get_text() for t in ax.texts][:4] == ["3", "1", "0", "0"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cluster", "class")
    _save(ax.figure, tmp_path)


def test_confusion_matrix_more_classes_than_clusters_on_given_axes():
    _, ax = plt.subplots()
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [5, 5, 5, 5, 6, 6]
    assert plot_confusion_matrix(y_true, y_pred, ax=ax) is ax
    counts = np.asarray(ax.images[0].get_array())
    # 0 -> 5 and 2 -> 6 are matched; class 1 has no cluster and comes last.
    np.testing.assert_array_equal(counts, [[2, 0, 0], [0, 2, 0], [2, 0, 0]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "2", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "6", "(none)"]
    assert np.trace(counts) / counts.sum() == cluster_accuracy(y_true, y_pred)
    assert len(ax.figure.axes) == 1  # no colour bar


def test_confusion_matrix_of_a_text_label_column(tmp_path):
    y_true = pd.Series(["benign"] * 3 + ["malignant"] * 2, dtype=object)
    ax = plot_confusion_matrix(y_true, np.array([1, 1, 1, 0, 1]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["benign", "malignant"]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[3, 0], [1, 1]])


def test_confusion_matrix_names_nullable_integer_classes_as_integers():
    ax = plot_confusion_matrix(pd.Series([1, 1, 2, 2], dtype="Int64"), [5, 5, 6, 6])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2"]


def test_history_lines_hold_the_history(dec3, tmp_path):
    axes = plot_history(dec3)
    assert len(axes) == 3
    for ax, key in zip(axes, ["pretrain_loss", "kl_loss", "delta_label"], strict=True):
        x, y = ax.lines[0].get_data()
        np.testing.assert_allclose(y, dec3.history_[key])
        np.testing.assert_array_equal(x, np.arange(1, len(dec3.history_[key]) + 1))
    assert len(dec3.history_["pretrain_loss"]) == 10
    assert len(dec3.history_["kl_loss"]) >= 2
    # The tol line on the panel of the stopping criterion.
    assert axes[2].lines[1].get_ydata()[0] == dec3.tol
    _save(axes[0].figure, tmp_path)
    # Whole ticks: there is no epoch or update 1.5 (before, on short runs).
    for ax in axes:
        ticks = ax.get_xticks()
        np.testing.assert_array_equal(ticks, np.round(ticks))
    assert axes[1].get_ylabel() == "KL(target || Q)"  # the start's, then P

    _, given = plt.subplots(3, 1)
    drawn = plot_history(dec3.history_, axes=given)
    assert list(drawn) == list(given)
    np.testing.assert_allclose(given[1].lines[0].get_ydata(), dec3.history_["kl_loss"])


def test_colour_centres_are_clipped_to_the_drawable_range(dec2, monkeypatch, caplog):
    # A decoder's output lies a little outside [0, 1]: before, matplotlib
    # clipped it and logged a warning once per cluster.
    import skdec.plotting

    centers = np.linspace(-0.03, 1.05, 2 * 12).reshape(2, 12)
    monkeypatch.setattr(skdec.plotting, "decode_cluster_centers", lambda _: centers)
    with warnings.catch_warnings(), caplog.at_level("WARNING"):
        warnings.simplefilter("error")
        fig = plot_cluster_centers(dec2, (2, 2, 3))
    assert not [r for r in caplog.records if "Clipping" in r.getMessage()]
    for k, ax in enumerate(fig.axes):
        np.testing.assert_allclose(
            ax.images[0].get_array(), np.clip(centers[k], 0, 1).reshape(2, 2, 3)
        )
    plt.close(fig)


def test_cluster_centers_are_decoded_by_the_decoder(dec3, tmp_path):
    # Self-training moved the encoder, the decoder stayed: said.
    with pytest.warns(UserWarning, match="decoder learned only in pretraining"):
        fig = plot_cluster_centers(dec3, (8, 8))
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == dec3.n_clusters == 4
    # The decoder of small_dec: one ReLU layer, then the linear reconstruction.
    model = dec3.decoder_
    w0, b0 = model.get_layer("decoder_0").get_weights()
    w1, b1 = model.get_layer("reconstruction").get_weights()
    expected = np.maximum(dec3.cluster_centers_ @ w0 + b0, 0.0) @ w1 + b1
    np.testing.assert_allclose(decode_cluster_centers(dec3), expected, atol=1e-5)
    for k, image in enumerate(images):
        assert image.get_array().shape == (8, 8)
        np.testing.assert_allclose(
            image.get_array(), expected[k].reshape(8, 8), atol=1e-5
        )
    _save(fig, tmp_path)
    with pytest.raises(ValueError, match=r"image_shape=\(7, 7\) holds 49 values"):
        plot_cluster_centers(dec3, (7, 7), X=np.zeros((3, 64)))
    # Before, a flat shape passed and matplotlib failed to draw it.
    with pytest.raises(ValueError, match=r"\(height, width\).*got \(64,\)"):
        plot_cluster_centers(dec3, (64,))


def test_no_warning_where_the_sharpening_of_a_start_in_the_embedding_was_undone():
    # The encoder and centres are then the pretrained encoder's and
    # k-means': before, the warning said self-training had moved them.
    X = np.random.default_rng(0).normal(size=(5, 4))
    tiny = dict(pretrain_epochs=2, hidden_layer_sizes=(16,), n_components=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        undone = DECClusterer(2, random_state=0, max_iter=20, **tiny).fit(X)
        start = DECClusterer(2, random_state=0, max_iter=0, **tiny).fit(X)
    assert undone.init_ == "kmeans" and not undone.self_training_kept_
    assert undone.n_iter_ > 0
    np.testing.assert_array_equal(
        decode_cluster_centers(undone), decode_cluster_centers(start)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plt.close(plot_cluster_centers(undone, (2, 2)))


def test_decoding_centres_hides_tensorflows_retracing_warning(monkeypatch):
    # Decoders of several architectures (a comparison over n_components):
    # TensorFlow warned of retracing from the third, as fit once did.
    from skdec import _warnings

    seen = []
    monkeypatch.setattr(
        skdec.plotting,
        "predict_batches",
        lambda model, rows: seen.append(_warnings._IN_SKDEC.get()) or rows,
    )
    dec = small_dec(n_clusters=2, max_iter=0).fit(np.eye(4).repeat(3, axis=0))
    decode_cluster_centers(dec)
    assert seen == [True]


def test_cluster_centers_as_the_mean_row_of_each_cluster(dec3, dec2, digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_cluster_centers(dec3, (8, 8), X=X)
        # Without self-training the decoder still matches the encoder.
        plot_cluster_centers(dec2, (8, 8))
    labels = dec3.predict(X)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == np.unique(labels).size
    for ax in drawn:
        k = int(ax.get_title().split()[1])
        members = X[labels == k]
        assert ax.get_title() == f"cluster {k} ({len(members)} rows)"
        np.testing.assert_allclose(
            ax.images[0].get_array(), members.mean(axis=0).reshape(8, 8)
        )


def test_one_channel_images_are_drawn_grey_and_two_refused(dec3, digits):
    # (8, 8, 1), the conv autoencoder's input_shape, failed inside matplotlib
    # ("Invalid shape"), as did two channels, which no image has.
    X, _ = digits
    fig = plot_cluster_centers(dec3, (8, 8, 1), X=X)
    grey = plot_cluster_centers(dec3, (8, 8), X=X)
    for ax, same in zip(fig.axes, grey.axes, strict=True):
        np.testing.assert_array_equal(
            ax.images[0].get_array(), same.images[0].get_array()
        )
    with pytest.raises(ValueError, match=r"has 2 channels; an image is drawn with 1"):
        plot_cluster_centers(dec3, (8, 4, 2), X=X)


def test_a_large_confusion_matrix_gets_a_larger_figure(tmp_path):
    # Before, 30 clusters were drawn on matplotlib's 6.4-inch default, their
    # labels and counts running into each other.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 30, 3000)
    ax = plot_confusion_matrix(y, (y + rng.integers(0, 2, 3000)) % 30)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(labels))
    assert ax.figure.get_size_inches()[0] > 0.45 * 30
    small = plot_confusion_matrix([0, 0, 1, 1], [1, 1, 0, 1])
    np.testing.assert_allclose(small.figure.get_size_inches(), [6.4, 4.8])


def test_embedding_scatter_is_the_transform(dec2, digits, tmp_path):
    X, y = digits
    ax = plot_embedding(dec2, X)
    points, centers = ax.collections
    np.testing.assert_allclose(points.get_offsets(), dec2.transform(X), rtol=1e-6)
    np.testing.assert_array_equal(points.get_array(), dec2.predict(X))
    np.testing.assert_allclose(centers.get_offsets(), dec2.cluster_centers_)
    _save(ax.figure, tmp_path)

    ax = plot_embedding(dec2, X, y=y)
    assert len(ax.collections) == np.unique(y).size + 1
    first_class = ax.collections[0]
    np.testing.assert_array_equal(first_class.get_array(), dec2.predict(X[y == 0]))
    # The legend names the classes by their markers, in grey, once drawn:
    # before, matplotlib gave each marker the colour of some cluster.
    ax.figure.canvas.draw()
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()][:2] == ["class 0", "class 1"]
    grey = matplotlib.colors.to_rgba("gray")
    for handle in legend.legend_handles:
        if hasattr(handle, "get_markerfacecolor"):  # a marker of a line
            face = handle.get_markerfacecolor()
        else:  # a scatter's own handle
            face = handle.get_facecolor()[0]
        assert matplotlib.colors.to_rgba(face) == grey


def test_embedding_draws_rows_without_a_class_as_dots(dec2, digits):
    X, y = digits
    classes = pd.Series(np.where(y < 5, "low", "high"), dtype=object)
    classes[:7] = None
    classes[7] = np.nan
    ax = plot_embedding(dec2, X, y=classes)
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["class high", "class low", "no class"]
    no_class = ax.collections[2]
    np.testing.assert_array_equal(no_class.get_array(), dec2.predict(X[:8]))
    with pytest.raises(ValueError, match="y has 3 labels, but X has 300 rows"):
        plot_embedding(dec2, X, y=[0, 1, 2])
    mixed = np.array([1 if digit < 5 else "high" for digit in y], dtype=object)
    with pytest.raises(ValueError, match=r"y mixes values .* \(int, str\)"):
        plot_embedding(dec2, X, y=mixed)


@pytest.mark.parametrize(
    "to_classes, names",
    [
        (lambda y: pd.Series(y % 2 + 1, dtype="Int64"), ["class 1", "class 2"]),
        (lambda y: pd.Series(y < 5, dtype="boolean"), ["class False", "class True"]),
        (
            lambda y: np.where(y < 5, "2020-01-01", "2021-01-01").astype("M8[ns]"),
            ["class 2020-01-01 00:00:00", "class 2021-01-01 00:00:00"],
        ),
    ],
    ids=["Int64", "boolean", "datetime64"],
)
def test_embedding_legend_names_classes_by_their_own_values(
    dec2, digits, to_classes, names
):
    X, y = digits
    ax = plot_embedding(dec2, X, y=to_classes(y))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == names


def test_embedding_gives_up_to_22_classes_their_own_markers(dec2, digits):
    # Before, the 13th class took the first's marker, silently.
    X, _ = digits
    classes = np.arange(len(X)) % 22
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_embedding(dec2, X, y=classes)
    markers = [h.get_marker() for h in ax.get_legend().legend_handles]
    assert len(set(markers)) == len(markers) == 22
    with pytest.warns(UserWarning, match="23 classes, more than the 22 markers"):
        plot_embedding(dec2, X, y=np.arange(len(X)) % 23)


def test_embedding_gives_each_of_many_clusters_its_own_colour(digits):
    X, _ = digits
    # Before, every cluster from the 20th on had the colour of the 20th.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec(n_clusters=25, n_components=2, max_iter=0).fit(X)
    ax = plot_embedding(dec, X)
    ax.figure.canvas.draw()
    points = ax.collections[0]
    colours = {tuple(c) for c in points.get_facecolors()}
    assert len(colours) == np.unique(dec.predict(X)).size > 20


def test_embedding_of_more_than_two_components_is_projected(dec3, digits):
    X, _ = digits
    ax = plot_embedding(dec3, X)
    Z = dec3.transform(X).astype(float)
    pca = PCA(n_components=2).fit(Z)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), pca.transform(Z))
    np.testing.assert_allclose(
        ax.collections[1].get_offsets(), pca.transform(dec3.cluster_centers_)
    )
    assert ax.get_xlabel() == "principal component 1"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skdec\[plot\]'"):
        plot_confusion_matrix([0, 1], [1, 0])


def test_profile_heatmap_shows_the_most_separating_features(tmp_path):
    X = pd.DataFrame(
        {
            "age": [30.0, 32, 31, 70, 74, 72],
            "weight": [60.0, 80, 70, 61, 79, 70],
            "sex": ["F", "F", "M", "M", "M", "F"],
        }
    )
    profile = cluster_profile(X, [0, 0, 0, 1, 1, 1])
    ax = plot_cluster_profile(profile, top=3)
    shown = [t.get_text() for t in ax.get_xticklabels()]
    assert shown[0] == "age" and len(shown) == 3 and "weight" not in shown
    table = profile.pivot(index="cluster", columns="feature", values="std_difference")
    np.testing.assert_allclose(ax.images[0].get_array(), table[shown].to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0 (n=3)", "1 (n=3)"]
    low, high = ax.images[0].get_clim()
    assert low == -high == -np.abs(table.to_numpy()).max()
    _save(ax.figure, tmp_path)
    # Before, top=-1 dropped the last feature, top=0 drew an empty map and
    # top=2.5 failed inside pandas.
    for top in (-1, 0, 2.5):
        with pytest.raises(InvalidParameterError, match="'top' parameter"):
            plot_cluster_profile(profile, top=top)


def test_profile_heatmap_shows_a_perfect_separation_at_the_end_of_the_scale():
    X = pd.DataFrame(
        {"age": [30.0, 34, 31, 70, 74, 72], "sex": ["F", "F", "F", "M", "M", "M"]}
    )
    y = [0, 0, 0, 1, 1, 1]
    profile = cluster_profile(X, y)
    ax = plot_cluster_profile(profile)
    shown = [t.get_text() for t in ax.get_xticklabels()]
    assert shown[:2] == ["sex=F", "sex=M"]  # infinite: the most separating
    low, high = ax.images[0].get_clim()
    age = profile.loc[profile.feature == "age", "std_difference"]
    assert high == -low == pytest.approx(age.abs().max())
    np.testing.assert_allclose(ax.images[0].get_array()[:, 0], [high, low])
    assert {t.get_text() for t in ax.texts} >= {"+inf", "-inf"}
    # The darkest cells, at the ends of the scale, are written in white;
    # before, every value was black, unreadable on dark red and blue.
    assert {t.get_color() for t in ax.texts} == {"white"}
    # Pale cells, near zero, in black.
    ax = plot_cluster_profile(cluster_profile(X.assign(age=[1.0, 2, 3, 2, 1, 3]), y))
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["+0.0"] == "black" and colours["+inf"] == "white"
    plt.close(ax.figure)


def test_history_of_idec_shows_its_reconstruction_loss(digits, dec3, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        idec = small_dec(n_clusters=4, max_iter=30, reconstruction_weight=1.0)
        idec.fit(digits[0])
    axes = plot_history(idec)
    figure = axes[0].figure
    (right,) = [ax for ax in figure.axes if ax not in list(axes)]
    x, y = right.lines[0].get_data()
    np.testing.assert_allclose(y, idec.history_["reconstruction_loss"])
    np.testing.assert_array_equal(x, axes[1].lines[0].get_xdata())
    assert right.get_ylabel() == "reconstruction loss (MSE)"
    _save(figure, tmp_path)
    plt.close(figure)
    # DEC's history has none: no axis more.
    axes = plot_history(dec3)
    assert len(axes[0].figure.axes) == 3
    plt.close(axes[0].figure)


def test_history_needs_three_axes():
    history = {"pretrain_loss": [1.0], "kl_loss": [0.3], "delta_label": [0.1]}
    fig, axes = plt.subplots(2, 2)
    with pytest.raises(ValueError, match="needs 3 Axes; got 4"):
        plot_history(history, axes=axes)
    plt.close(fig)


@pytest.mark.parametrize(
    "name, n_clusters", [("age", 2), ("age_at_first_diagnosis_in_years", 3)]
)
def test_profile_heatmap_keeps_its_colour_bar_label_on_the_figure(name, n_clusters):
    # Before, the figure was 2 inches high for two clusters, and the label
    # "standardised difference" ran off its top; long feature names left even
    # less room (matplotlib's layout gave up, with a warning).
    rng = np.random.default_rng(0)
    X = pd.DataFrame({name: rng.normal(size=300), "sex": rng.choice(["F", "M"], 300)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ax = plot_cluster_profile(cluster_profile(X, np.arange(300) % n_clusters))
        fig = ax.figure
        fig.canvas.draw()
    label = fig.axes[-1].yaxis.label
    assert label.get_text() == "standardised difference"
    extent = label.get_window_extent(fig.canvas.get_renderer())
    assert extent.y0 >= 0 and extent.y1 <= fig.bbox.height
    plt.close(fig)


@pytest.mark.parametrize("backend", ["svg", "pdf"])
def test_profile_heatmap_draws_on_canvases_without_a_renderer(backend):
    # Sizing the figure asked the canvas for its renderer, which svg and pdf
    # canvases do not have (AttributeError).
    X = pd.DataFrame({"age": [30.0, 34, 31, 70, 74, 72], "sex": ["F"] * 3 + ["M"] * 3})
    previous = matplotlib.get_backend()
    plt.switch_backend(backend)
    try:
        ax = plot_cluster_profile(cluster_profile(X, [0, 0, 0, 1, 1, 1]))
        assert ax.figure.get_figheight() > 2.0  # made room for the label
        plt.close(ax.figure)
    finally:
        plt.switch_backend(previous)


def test_confusion_matrix_keeps_long_class_names_on_the_figure():
    y_true = ["benign"] * 3 + ["malignant"] * 3
    ax = plot_confusion_matrix(y_true, [0, 0, 0, 1, 1, 0])
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    for text in [ax.yaxis.label, *ax.get_yticklabels()]:
        assert text.get_window_extent(renderer).x0 >= 0


def test_other_and_unfitted_estimators_are_refused(digits):
    # Before: KMeans drew its distances as the "embedding" and its input-space
    # centres over them; an unfitted DEC raised AttributeError: history_.
    from sklearn.cluster import KMeans
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = digits[0][:200]
    kmeans = KMeans(2, n_init=1, random_state=0).fit(X)
    for plot in (
        plot_embedding,
        lambda estimator, X: plot_history(estimator),
        lambda estimator, X: plot_cluster_centers(estimator, (8, 8)),
    ):
        with pytest.raises(TypeError, match="needs a DECClusterer .* got KMeans"):
            plot(make_pipeline(StandardScaler(), kmeans), X)
        with pytest.raises(NotFittedError, match="DECClusterer instance is not"):
            plot(small_dec(), X)


def test_colour_means_of_x_keep_their_scale():
    # Dark 8-bit colour pixels (4 x 4 x 3): before, each mean was clipped to
    # [0, 1] and drawn at full brightness. Floats in [0, 1] are drawn as
    # they are, other values from the least to the largest of X.
    X = np.random.default_rng(0).uniform(60, 120, size=(200, 48)).round()
    X[:100, 0::3] -= 50  # less red in the first half
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X looks unscaled", UserWarning)
        dec = small_dec(n_clusters=2, max_iter=0).fit(X / 255.0)
    for scale, shift, low, high in [
        (255.0, 0.0, 0.0, 255.0),  # X in 8-bit values, dec.predict of X / 255
        (1.0, 0.0, 0.0, 1.0),  # X in [0, 1]
        (255.0, -200.0, -190.0, -80.0),  # X in neither: its own range
    ]:
        data = X / 255.0 * scale + shift
        pipe = make_pipeline(
            FunctionTransformer(lambda v, s=scale, t=shift: (v - t) / s), dec
        )
        labels = pipe.predict(data)
        fig = plot_cluster_centers(pipe, (4, 4, 3), X=data)
        drawn = [ax for ax in fig.axes if ax.images]
        assert len(drawn) == np.unique(labels).size
        for ax in drawn:
            k = int(ax.get_title().split()[1])
            mean = data[labels == k].mean(axis=0).reshape(4, 4, 3)
            np.testing.assert_allclose(
                ax.images[0].get_array(), (mean - low) / (high - low)
            )
            if high > 1.0:
                assert ax.images[0].get_array().max() < 0.5  # dark, as X is
        plt.close(fig)


def test_refused_input_leaves_no_figure_behind(dec2, dec3, digits):
    # Before, the figure was made before y, or the history, was checked.
    X, y = digits
    plt.close("all")
    with pytest.raises(ValueError, match="y has 299 labels, but X has 300 rows"):
        plot_embedding(dec2, X, y=y[:-1])
    with pytest.raises(ValueError, match="mixes values that cannot be sorted"):
        plot_embedding(dec2, X[:2], y=np.array([1, "a"], dtype=object))
    with pytest.raises(ValueError, match="history has no 'pretrain_loss'"):
        plot_history({"kl_loss": [1.0], "delta_label": [0.1]})
    # One row cannot be projected on two principal components (before:
    # PCA's own error, naming an n_components the user never set).
    with pytest.raises(ValueError, match="needs at least 2 of them; got 1"):
        plot_embedding(dec3, X[:1])
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="plot_confusion_matrix needs at least one"):
        plot_confusion_matrix([], [])


def test_the_decoded_centres_warning_speaks_of_the_fit_not_the_parameter(dec3, digits):
    # set_params after the fit changes the next fit only: before, the
    # warning followed the parameter as it was now.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        idec = small_dec(n_clusters=4, max_iter=30, reconstruction_weight=1.0)
        idec.fit(digits[0])
    idec.set_params(reconstruction_weight=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_cluster_centers(idec, (8, 8))
    dec = pickle.loads(pickle.dumps(dec3)).set_params(reconstruction_weight=1.0)
    with pytest.warns(UserWarning, match="decoder learned only in pretraining"):
        plot_cluster_centers(dec, (8, 8))
