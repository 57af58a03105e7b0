"""Bad input and bad parameters get clear scikit-learn-style errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from skdec import DECClusterer

from _helpers import small_dec


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(30, 4))
    return small_dec(pretrain_epochs=1, max_iter=2).fit(X)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_fit_refuses_nan_and_inf(value):
    X = np.ones((10, 3))
    X[4, 1] = value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        small_dec().fit(X)


def test_predict_refuses_nan(fitted):
    X = np.ones((5, 4))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(X)


def test_fit_refuses_empty_data():
    with pytest.raises(ValueError, match="0 sample"):
        small_dec().fit(np.empty((0, 3)))


def test_fit_refuses_one_dimensional_data():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        small_dec().fit(np.arange(10.0))


def test_image_arrays_are_refused_with_the_way_to_give_them(fitted):
    # Before, scikit-learn's "Found array with dim 3" only; it still comes first.
    message = (
        r"Found array with dim 3.*X.reshape\(len\(X\), -1\)"
        r".*input_shape=\(2, 2\)"
    )
    with pytest.raises(ValueError, match=message):
        small_dec().fit(np.zeros((10, 2, 2)))
    with pytest.raises(ValueError, match=message):
        fitted.predict(np.zeros((5, 2, 2)))


def test_fit_refuses_a_single_sample():
    with pytest.raises(ValueError, match="1 sample"):
        small_dec(n_clusters=1).fit(np.ones((1, 3)))


def test_one_cluster_fits_without_warnings():
    import warnings

    X = np.random.default_rng(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = small_dec(n_clusters=1, pretrain_epochs=1).fit(X)
    np.testing.assert_array_equal(model.predict(X), 0)
    np.testing.assert_array_equal(model.predict_proba(X), 1.0)


def test_fewer_samples_than_clusters_names_both_numbers():
    with pytest.raises(ValueError, match=r"n_samples=5 should be >= n_clusters=8\."):
        small_dec(n_clusters=8).fit(np.random.default_rng(0).normal(size=(5, 3)))


def test_fit_refuses_strings():
    X = np.array([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]])
    with pytest.raises(ValueError, match="numeric"):
        small_dec(n_clusters=2).fit(X)


def test_fit_refuses_object_strings():
    X = np.array([[1.0, "x"], [2.0, "y"], [3.0, "z"]], dtype=object)
    with pytest.raises(ValueError, match="could not convert string to float"):
        small_dec(n_clusters=2).fit(X)


def test_fit_refuses_complex_numbers():
    with pytest.raises(ValueError, match="Complex data not supported"):
        small_dec(n_clusters=2).fit(np.ones((4, 2)) + 1j)


def test_an_iterator_is_refused_as_one(fitted):
    # Before, scikit-learn's message took it for a scalar and advised
    # reshape(-1, 1).
    for method in (small_dec().fit, fitted.predict):
        rows = (row for row in np.zeros((10, 4)))
        with pytest.raises(TypeError, match=r"X is an iterator \(generator\).*memmap"):
            method(rows)


def test_sparse_input_says_how_to_convert():
    with pytest.raises(TypeError, match=r"dense data is required.*toarray"):
        small_dec(n_clusters=2).fit(scipy.sparse.random(10, 3, density=0.5))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
def test_feature_count_must_match_fit(fitted, method):
    with pytest.raises(
        ValueError,
        match="X has 3 features, but DECClusterer is expecting 4 features as input",
    ):
        getattr(fitted, method)(np.ones((5, 3)))


@pytest.mark.parametrize(
    "method",
    ["predict", "predict_proba", "transform", "score", "get_feature_names_out"],
)
def test_methods_before_fit_raise_not_fitted(method):
    args = () if method == "get_feature_names_out" else (np.ones((5, 3)),)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(DECClusterer(), method)(*args)


@pytest.mark.parametrize("attribute", ["encoder_", "decoder_", "autoencoder_"])
def test_network_attributes_before_fit_raise_not_fitted(attribute):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(DECClusterer(), attribute)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "'n_clusters' parameter of DECClusterer must be"),
        ({"n_clusters": 2.5}, "'n_clusters' parameter"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"alpha": 0.0}, "'alpha' parameter"),
        ({"activation": "softplus2"}, "'activation' parameter"),
        ({"pretrain_epochs": -1}, "'pretrain_epochs' parameter"),
        ({"pretrain_optimizer": "rmsprop2"}, "'pretrain_optimizer' parameter"),
        ({"pretrain_learning_rate": 0.0}, "'pretrain_learning_rate' parameter"),
        ({"optimizer": "lbfgs"}, "'optimizer' parameter"),
        ({"learning_rate": -0.1}, "'learning_rate' parameter"),
        ({"start_learning_rate": 0.0}, "'start_learning_rate' parameter"),
        ({"start_learning_rate": "fast"}, "'start_learning_rate' parameter"),
        ({"momentum": 1.0}, "'momentum' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"max_iter": -1}, "'max_iter' parameter"),
        ({"update_interval": 0}, "'update_interval' parameter"),
        ({"tol": 1.5}, "'tol' parameter"),
        ({"tol": -0.1}, "'tol' parameter"),
        ({"patience": 0}, "'patience' parameter"),
        ({"patience": 2.5}, "'patience' parameter"),
        ({"n_init": 0}, "'n_init' parameter"),
        ({"umap_metric": "manhattan"}, "'umap_metric' parameter"),
        ({"umap_merge": "yes"}, "'umap_merge' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
        ({"hidden_layer_sizes": 5}, "'hidden_layer_sizes' parameter"),
        ({"hidden_layer_sizes": "small"}, "'hidden_layer_sizes' parameter"),
        ({"init": "kmeans_embedding"}, "'init' parameter"),
    ],
)
def test_out_of_range_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        small_dec(**params).fit(np.ones((10, 3)))


@pytest.mark.parametrize(
    "sizes", [(0,), (16, -2), (8.5,), ("16",), (True,), ((16, 8),), [[16], [8]]]
)
def test_hidden_layer_sizes_must_be_positive_integers(sizes):
    with pytest.raises(
        ValueError, match="hidden_layer_sizes must be a sequence of positive integers"
    ):
        small_dec(hidden_layer_sizes=sizes).fit(np.ones((10, 3)))


def _unscaled_warnings(X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_dec(max_iter=0, pretrain_epochs=1).fit(X)
    return [str(w.message) for w in caught if "looks unscaled" in str(w.message)]


@pytest.mark.parametrize(
    "move, found",
    [
        (lambda X: X + 10, "far from centred: its columns' means are 10 times"),
        (lambda X: X * 0.001 + 0.0005, "of little spread: its columns vary by 0.001"),
    ],
    ids=["moved", "shrunk"],
)
def test_input_far_from_the_unit_scale_is_warned_of(move, found):
    # Such a fit often failed to learn its start, silently but for the
    # ConvergenceWarning at its end (benchmarks/input_scale.py).
    X = StandardScaler().fit_transform(make_blobs(200, 4, centers=3, random_state=0)[0])
    (message,) = _unscaled_warnings(move(X))
    assert message.startswith(f"X looks unscaled, {found}")
    assert "Scale X first" in message
    # Scaled as the README says: standardised, or pixels in [0, 1].
    assert _unscaled_warnings(X) == []
    assert _unscaled_warnings(load_digits().data[:300] / 16) == []
    # One row repeated is not unscaled data (said elsewhere): before, values
    # that binary does not hold exactly left a spread of 7e-17, and a mean
    # 6e15 times it.
    assert _unscaled_warnings(np.tile([[0.1, 0.7, 0.3]], (10, 1))) == []


def _warned_where(call):
    """The (file, line) of each warning that ``call()`` raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return {(w.filename, w.lineno) for w in caught}


def test_warnings_name_the_callers_line():
    # Raised at various depths inside skdec and through scikit-learn's fit
    # wrapper and Pipeline: each names the line that called fit (the unscaled
    # input's named scikit-learn's base.py, the few distinct rows' of
    # n_clusters="auto" skdec's _estimator.py).
    import pandas as pd
    from sklearn.pipeline import make_pipeline

    from skdec.tables import make_tabular_pipeline

    X = make_blobs(60, 4, centers=3, random_state=0)[0] + 100
    few = np.repeat(np.eye(3), 10, axis=0)
    table = pd.DataFrame({"id": list("abcd"), "x": [1.0, 2.0, 3.0, 4.0]})
    here = __file__
    calls = {
        "unscaled": lambda: small_dec(max_iter=5).fit(X),
        "in a pipeline": lambda: make_pipeline(small_dec(max_iter=5)).fit(X),
        "n_clusters auto": lambda: small_dec(n_clusters="auto", max_iter=0).fit(few),
        "tables": lambda: make_tabular_pipeline(table, small_dec()),
    }
    for name, call in calls.items():
        line = call.__code__.co_firstlineno
        assert _warned_where(call) == {(here, line)}, name
