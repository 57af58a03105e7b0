"""``init="kmeans_input"``: self-training starts from k-means on the input rows."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from skdec import _initialization, _training, cluster_accuracy

from _helpers import record_calls, small_dec

# Short fits stop at max_iter on purpose; their ConvergenceWarning is noise.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, n_features=6, centers=3, cluster_std=2.0, random_state=0)
    return X.astype(np.float32), y


def test_starts_from_kmeans_on_the_input(blobs, monkeypatch):
    X, _ = blobs
    started = record_calls(
        monkeypatch,
        _training,
        "train_clusters",
        lambda trainer, X, initial_labels, **kwargs: (
            initial_labels,
            kwargs["initial_target"],
        ),
    )
    dec = small_dec(init="kmeans_input", max_iter=0).fit(X)
    [(labels, target)] = started
    expected = KMeans(3, n_init=3, random_state=0).fit_predict(X.astype(np.float64))
    assert cluster_accuracy(expected, labels) == 1.0
    # Self-training is first taught these clusters, as one-hot rows.
    np.testing.assert_array_equal(target, np.eye(3)[labels])
    # The centres are the means of these clusters in the pretrained embedding.
    Z = dec.transform(X).astype(np.float64)
    for j in range(3):
        np.testing.assert_allclose(
            dec.cluster_centers_[j], Z[labels == j].mean(axis=0), rtol=1e-5, atol=1e-5
        )


def test_keeps_the_input_clusters_that_a_poor_embedding_loses():
    # Four blobs at the corners of a square, embedded in one dimension by an
    # encoder that was not pretrained: k-means there mixes the blobs, k-means
    # on the input does not, and self-training keeps most of that.
    X, y = make_blobs(
        400,
        centers=[[-4, -4], [-4, 4], [4, -4], [4, 4]],
        cluster_std=0.7,
        random_state=1,
    )
    X = X.astype(np.float32)
    params = dict(
        n_clusters=4,
        n_components=1,
        hidden_layer_sizes=(4,),
        pretrain_epochs=0,
        max_iter=200,
        update_interval=20,
    )
    from_input = small_dec(init="kmeans_input", **params).fit(X)
    from_embedding = small_dec(init="kmeans", **params).fit(X)
    assert cluster_accuracy(y, from_input.labels_) > 0.9
    assert cluster_accuracy(y, from_embedding.labels_) < 0.8


def test_large_input_is_clustered_on_a_sample(blobs, monkeypatch):
    X, _ = blobs
    X = (X - X.min()).astype(np.uint8)  # an input in its own dtype
    fitted = record_calls(
        monkeypatch, KMeans, "fit", lambda self, data, *args, **kwargs: (self, data)
    )
    monkeypatch.setattr(_initialization, "INIT_MAX_ROWS", 60)
    monkeypatch.setattr(_initialization, "PREDICT_BATCH_SIZE", 64)
    _, labels = _initialization.kmeans_centers(X, 3, 2, seed=0)
    [(kmeans, data)] = fitted
    assert data.shape == (60, 6) and data.dtype == np.float64
    # Every row, in the sample or not, takes the label of its nearest centre.
    distances = ((X[:, None, :] - kmeans.cluster_centers_) ** 2).sum(axis=2)
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    # The sample is drawn from the seed.
    np.testing.assert_array_equal(
        labels, _initialization.kmeans_centers(X, 3, 2, seed=0)[1]
    )
