"""Numerical faults and concurrency: clear errors or safe results, never NaN."""

import threading
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skdec._trainers import TRAINER_POOL
from skdec._training import train_step

from _helpers import small_dec


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=150, centers=3, n_features=4, random_state=0)
    return X


def assert_sane(dec, X):
    q = dec.predict_proba(X)
    assert np.all(np.isfinite(dec.cluster_centers_))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    labels = np.unique(dec.labels_)
    np.testing.assert_array_equal(labels, np.arange(labels.size))


def test_huge_input_scale_gives_a_clear_error(data):
    with pytest.raises(FloatingPointError, match="Scale the input"):
        small_dec().fit(data * 1e30)


def test_values_beyond_float32_are_refused(data):
    X = data.copy()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match="beyond the float32 range"):
        small_dec().fit(X)


def test_predict_refuses_values_beyond_float32(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec(max_iter=0).fit(data)
    X = data.copy()
    X[3, 1] = -1e300
    with pytest.raises(ValueError, match="beyond the float32 range"):
        dec.predict(X)


def test_a_diverging_loss_gives_a_clear_error(data):
    with pytest.raises(FloatingPointError, match="lower .*learning_rate"):
        small_dec(pretrain_learning_rate=1e8, pretrain_optimizer="sgd").fit(data)


def test_diverging_self_training_gives_a_clear_error(data):
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        small_dec(learning_rate=1e12, max_iter=200).fit(data)


def test_a_diverged_fit_leaves_the_next_fit_of_its_network_alone(data):
    """The networks are pooled from fit to fit. Keras before 3.15 kept the
    loss of ``train_on_batch`` as a mean over every step since compiling, so
    a NaN once seen ended every later fit of that network."""
    TRAINER_POOL.clear()
    fresh = small_dec().fit(data)
    for params, match in (
        (dict(pretrain_learning_rate=1e8, pretrain_optimizer="sgd"), "reconstruction"),
        (dict(learning_rate=1e12, max_iter=200), "clustering"),
    ):
        with pytest.raises(FloatingPointError, match=f"The {match} loss became"):
            small_dec(**params).fit(data)
        after = small_dec().fit(data)
        assert after.history_ == fresh.history_
        np.testing.assert_array_equal(after.transform(data), fresh.transform(data))


def test_each_step_reports_the_loss_of_its_own_batch():
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mean_squared_error")
    for scale in (1.0, 100.0, 0.01):
        batch = (rng.normal(size=(8, 4)) * scale).astype("float32")
        expected = np.mean((model.predict_on_batch(batch) - batch) ** 2)
        assert train_step(model, batch, batch) == pytest.approx(expected, rel=1e-5)


def test_diverging_start_learning_names_its_own_rate(data):
    """While the encoder learns a start found outside it, the rate to lower
    is start_learning_rate."""
    with pytest.raises(FloatingPointError, match="lower start_learning_rate"):
        small_dec(init="kmeans_input", start_learning_rate=1e12, max_iter=200).fit(data)


def test_constant_columns_are_harmless(data):
    X = np.hstack([data, np.full((len(data), 2), 7.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec().fit(X)
    assert_sane(dec, X)


def test_all_rows_identical_is_safe_and_reported():
    X = np.ones((30, 4))
    with pytest.warns(ConvergenceWarning, match="some clusters are empty"):
        dec = small_dec(n_clusters=3).fit(X)
    assert_sane(dec, X)
    assert np.unique(dec.labels_).size == 1


def test_duplicated_rows_are_safe(data):
    X = np.repeat(data[:20], 5, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec().fit(X)
    assert_sane(dec, X)


def test_empty_clusters_leave_consecutive_labels_and_matching_centres():
    X = np.repeat([[0.0, 0.0], [3.0, 3.0]], 15, axis=0)
    with pytest.warns(ConvergenceWarning, match="some clusters are empty"):
        dec = small_dec(n_clusters=4).fit(X)
    np.testing.assert_array_equal(np.unique(dec.labels_), [0, 1])
    np.testing.assert_array_equal(dec.predict(X), dec.labels_)
    assert dec.cluster_centers_.shape == (4, 2)


def test_predict_from_eight_threads_matches_serial_calls(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec().fit(data)
    chunks = [data[i::8] for i in range(8)]
    expected = [dec.predict_proba(chunk) for chunk in chunks]
    results = [None] * 8
    errors = []
    barrier = threading.Barrier(8)

    def work(i):
        try:
            barrier.wait()
            for _ in range(5):
                results[i] = dec.predict_proba(chunks[i])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("max_iter", [200, 20])
def test_an_overflowing_idec_network_gives_a_clear_error(max_iter):
    """A large reconstruction weight can overflow the network in the last
    step before a target update while every loss computed was finite (the
    loss is computed before the step): the update then found an infinite
    embedding. Before, scikit-learn's "Input contains infinity" came out.
    With max_iter=20 it overflows in the very last step, found only by the
    labels of the fitted network."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import NotFittedError

    from skdec import DECClusterer

    X = load_digits().data[:300] / 16.0
    dec = DECClusterer(
        n_clusters=10,
        hidden_layer_sizes=(64, 32),
        reconstruction_weight=300.0,
        pretrain_epochs=5,
        max_iter=max_iter,
        update_interval=20,
        n_init=2,
        init="kmeans",
        random_state=0,
    )
    message = "overflowed at self-training iteration 20.*or reconstruction_weight"
    with pytest.raises(FloatingPointError, match=message):
        dec.fit(X)
    with pytest.raises(NotFittedError):
        dec.predict(X)


def test_soft_assignment_refuses_an_embedding_that_is_not_finite():
    from skdec._assignment import soft_assignment

    centers = np.zeros((2, 3))
    Z = np.ones((4, 3))
    Z[1, 2] = np.inf
    with pytest.raises(FloatingPointError, match="not finite"):
        soft_assignment(Z, centers, 1.0)
    with pytest.raises(FloatingPointError, match="not finite"):
        soft_assignment(np.ones((4, 3)), np.full((2, 3), np.nan), 1.0)
