"""memory=...: the pretrained autoencoder is cached across fits."""

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skdec import _training, cluster_accuracy_scorer

from _helpers import record_calls, small_dec


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def pretrain_calls(monkeypatch):
    """Count the pretrainings that really run (cache misses)."""
    return record_calls(
        monkeypatch,
        _training,
        "pretrain_autoencoder",
        lambda *args, **kwargs: kwargs["epochs"],
    )


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    return X, y


def test_grid_search_pretrains_once_per_fold(data, tmp_path, pretrain_calls):
    X, y = data
    search = GridSearchCV(
        small_dec(memory=str(tmp_path)),
        [
            {"n_clusters": [2, 3], "alpha": [0.5, 1.0]},
            {"n_clusters": [3], "update_interval": [5], "tol": [0.0, 0.01]},
        ],
        scoring=cluster_accuracy_scorer,
        cv=3,
    )
    search.fit(X, y)
    # 6 candidates x 3 folds + the refit: 3 fold pretrainings, and one on
    # the whole data for the refit; without the cache there would be 19.
    assert len(pretrain_calls) == 4


def test_cached_fit_equals_an_uncached_fit(data, tmp_path, pretrain_calls):
    X, _ = data
    plain = small_dec().fit(X)
    first = small_dec(memory=joblib.Memory(tmp_path, verbose=0)).fit(X)
    second = small_dec(memory=joblib.Memory(tmp_path, verbose=0)).fit(X)
    assert len(pretrain_calls) == 2  # plain and first; second is a hit
    for dec in (first, second):
        np.testing.assert_array_equal(dec.transform(X), plain.transform(X))
        assert dec.history_ == plain.history_


@pytest.mark.parametrize(
    "change",
    [
        {"pretrain_epochs": 11},
        {"pretrain_learning_rate": 0.002},
        {"batch_size": 16},
        {"hidden_layer_sizes": (12,)},
        {"n_components": 3},
        {"random_state": 1},
    ],
)
def test_a_changed_pretraining_parameter_misses(data, tmp_path, pretrain_calls, change):
    X, _ = data
    small_dec(memory=str(tmp_path)).fit(X)
    small_dec(memory=str(tmp_path), **change).fit(X)
    assert len(pretrain_calls) == 2


def test_changed_data_misses_and_clustering_parameters_hit(
    data, tmp_path, pretrain_calls
):
    X, _ = data
    small_dec(memory=str(tmp_path)).fit(X)
    small_dec(memory=str(tmp_path), n_clusters=2, alpha=0.5, tol=0.1).fit(X)
    assert len(pretrain_calls) == 1
    X_changed = X.copy()
    X_changed[0, 0] += 1e-3
    small_dec(memory=str(tmp_path)).fit(X_changed)
    assert len(pretrain_calls) == 2


@pytest.mark.parametrize("layout", [pd.DataFrame, np.asfortranarray])
def test_the_same_rows_laid_out_by_column_hit(data, tmp_path, pretrain_calls, layout):
    # A DataFrame's values come column by column, as a Fortran array's do.
    X, _ = data
    rows = small_dec(memory=str(tmp_path)).fit(X)
    columns = small_dec(memory=str(tmp_path)).fit(layout(X))
    assert len(pretrain_calls) == 1
    np.testing.assert_array_equal(columns.transform(X), rows.transform(X))
    # Which is what the layout pretrains to without the cache.
    plain = small_dec().fit(layout(X))
    np.testing.assert_array_equal(plain.transform(X), rows.transform(X))


@pytest.mark.parametrize("what", ["skdec", "backend", "device"])
def test_another_version_backend_or_device_misses(data, tmp_path, pretrain_calls, what):
    # Before, a cache filled under TensorFlow served a fit under JAX, an
    # entry of another skdec version was reused, and one filled on a CPU
    # served a fit on a GPU (which rounds differently).
    import keras

    import skdec

    X, _ = data
    small_dec(memory=str(tmp_path)).fit(X)
    with pytest.MonkeyPatch.context() as patch:
        if what == "skdec":
            patch.setattr(skdec, "__version__", "99.0")
        elif what == "backend":
            backend = keras.backend.backend()
            patch.setattr(keras.backend, "backend", lambda: f"not-{backend}")
        else:
            patch.setattr(_training, "devices", lambda: ("NVIDIA H100",))
        small_dec(memory=str(tmp_path)).fit(X)
    assert len(pretrain_calls) == 2
    small_dec(memory=str(tmp_path)).fit(X)  # the first entry again
    assert len(pretrain_calls) == 2


def _builder(activation, width):
    """A custom autoencoder callable named ``edited_builder``, as though the
    user edited and ran its ``def`` again."""

    def edited_builder(input_shape, n_components, seed=0):
        import keras

        def layer(units, activation, i):
            init = keras.initializers.GlorotUniform(seed=seed + i)
            return keras.layers.Dense(units, activation, kernel_initializer=init)

        encoder = keras.Sequential(
            [
                keras.Input(shape=input_shape),
                layer(width, activation, 0),
                layer(n_components, None, 1),
            ]
        )
        decoder = keras.Sequential(
            [
                keras.Input(shape=(n_components,)),
                layer(width, activation, 2),
                layer(input_shape[0], None, 3),
            ]
        )
        return encoder, decoder

    edited_builder.__qualname__ = "edited_builder"
    return edited_builder


edited_builder = _builder("relu", 8)


@pytest.mark.parametrize(
    "edit", [{"activation": "tanh", "width": 8}, {"activation": "relu", "width": 12}]
)
def test_an_edited_custom_autoencoder_misses(
    data, tmp_path, pretrain_calls, monkeypatch, edit
):
    # Before, the key held the callable by its module and name alone: after
    # an edit of its activation the old network's pretraining was served
    # (silently), and after an edit of a width the fit failed to load it.
    X, _ = data
    small_dec(autoencoder=edited_builder, memory=str(tmp_path)).fit(X)
    small_dec(autoencoder=edited_builder, memory=str(tmp_path)).fit(X)
    assert len(pretrain_calls) == 1  # the same builder hits
    monkeypatch.setitem(globals(), "edited_builder", _builder(**edit))
    builder = globals()["edited_builder"]
    edited = small_dec(autoencoder=builder, memory=str(tmp_path)).fit(X)
    assert len(pretrain_calls) == 2
    uncached = small_dec(autoencoder=builder).fit(X)
    np.testing.assert_array_equal(
        edited.history_["pretrain_loss"], uncached.history_["pretrain_loss"]
    )


def wrapped_builder(input_shape, n_components, seed=0):
    """A builder with a layer that wraps another (its config names it)."""
    import keras

    x = keras.Input(shape=input_shape)
    h = keras.layers.Reshape((input_shape[0], 1))(x)
    h = keras.layers.TimeDistributed(keras.layers.Dense(2))(h)
    z = keras.layers.Dense(n_components)(keras.layers.Flatten()(h))
    z_in = keras.Input(shape=(n_components,))
    decoder = keras.Model(z_in, keras.layers.Dense(input_shape[0])(z_in))
    return keras.Model(x, z), decoder


def test_a_custom_autoencoder_of_wrapped_layers_hits(data, tmp_path, pretrain_calls):
    # The wrapped layer's name, numbered anew in each build, was in the key:
    # every fit missed.
    X, _ = data
    small_dec(autoencoder=wrapped_builder, memory=str(tmp_path)).fit(X)
    small_dec(autoencoder=wrapped_builder, memory=str(tmp_path)).fit(X)
    assert len(pretrain_calls) == 1
