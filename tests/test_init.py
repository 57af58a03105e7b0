"""``init="umap"``: the clusters self-training starts from, found by N2D's step."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_circles
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skdec import _training, cluster_accuracy

from _helpers import small_dec

pytest.importorskip("umap")


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def rings():
    X, y = make_circles(400, noise=0.03, factor=0.4, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def test_umap_step_separates_rings_that_kmeans_cuts_in_half(rings):
    X, y = rings
    centers, labels = _training.umap_kmeans_centers(X, 2, n_init=5, seed=0)
    kmeans_labels = KMeans(2, n_init=5, random_state=0).fit_predict(X)
    assert cluster_accuracy(y, labels) > 0.95
    assert cluster_accuracy(y, kmeans_labels) < 0.7
    # The centres are the means of the clusters in the input space.
    for j in range(2):
        expected = X[labels == j].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(centers[j], expected, atol=1e-9)


def test_umap_init_gives_dec_the_rings(rings):
    X, y = rings
    params = dict(
        n_clusters=2,
        hidden_layer_sizes=(32,),
        pretrain_epochs=30,
        max_iter=300,
        update_interval=140,
        random_state=0,
    )
    by_kmeans = small_dec(**params).fit(X)
    by_umap = small_dec(init="umap", **params).fit(X)
    assert cluster_accuracy(y, by_kmeans.labels_) < 0.6
    assert (
        cluster_accuracy(y, by_umap.labels_)
        > cluster_accuracy(y, by_kmeans.labels_) + 0.15
    )


def test_first_target_is_the_initial_clustering():
    """The encoder first learns the given clusters, not Q's own sharpening."""
    centres = [[-3, -3], [-3, 3], [3, -3], [3, 3]]
    X, blob = make_blobs(400, centers=centres, cluster_std=0.5, random_state=0)
    X = X.astype(np.float32)
    dec = small_dec(n_clusters=2, max_iter=0).fit(X)
    # Of the three ways to pair the four blobs, the one furthest from the
    # fitted clusters: a learnable target that disagrees with them.
    pairings = [np.isin(blob, pair).astype(int) for pair in ([0, 1], [0, 2], [0, 3])]
    wanted = min(pairings, key=lambda labels: cluster_accuracy(labels, dec.labels_))

    def accuracy_after_self_training(initial_target):
        with _training.TRAINER_POOL.checkout(
            dec._network_recipe,
            pretrain_optimizer="adam",
            optimizer="adam",
            momentum=0.0,
            reconstruction_weight=0.0,
        ) as trainer:
            trainer.reset(0, 1e-3, 1e-2)
            trainer.networks.model.set_weights(dec._networks.model.get_weights())
            _training.self_train(
                trainer,
                X,
                dec.labels_,
                max_iter=300,
                update_interval=1000,
                tol=0.0,
                batch_size=32,
                rng=np.random.default_rng(0),
                verbose=0,
                initial_target=initial_target,
            )
            labels = _training.soft_assignment(trainer.networks, X).argmax(axis=1)
        return cluster_accuracy(wanted, labels)

    before = cluster_accuracy(wanted, dec.labels_)
    assert before < 0.8
    assert accuracy_after_self_training(np.eye(2)[wanted]) > 0.95
    assert accuracy_after_self_training(None) < 0.8


def test_umap_init_is_reproducible(rings):
    X, _ = rings
    first = small_dec(n_clusters=2, init="umap").fit(X)
    second = small_dec(n_clusters=2, init="umap").fit(X)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)


@pytest.mark.parametrize("n_samples", [3, 6])
def test_umap_init_on_tiny_data(n_samples):
    X, _ = make_blobs(n_samples, centers=2, random_state=0)
    dec = small_dec(n_clusters=2, init="umap", max_iter=5).fit(X)
    assert dec.labels_.shape == (n_samples,)
    assert np.isfinite(dec.cluster_centers_).all()


def test_umap_init_names_the_missing_extra(rings, monkeypatch):
    X, _ = rings
    monkeypatch.setitem(sys.modules, "umap", None)
    dec = small_dec(n_clusters=2, init="umap")
    with pytest.raises(ImportError, match=r"skdec\[umap\]"):
        dec.fit(X)
    assert not hasattr(dec, "labels_")


@pytest.mark.parametrize("init", ["kmeans", "umap"])
def test_large_data_initialises_on_a_sample(init, monkeypatch):
    X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    X = X.astype(np.float32)
    fitted_rows = []
    original_fit = KMeans.fit

    def spy(self, data, *args, **kwargs):
        fitted_rows.append(data.shape[0])
        return original_fit(self, data, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", spy)
    on_all_rows = small_dec(init=init, max_iter=0).fit(X)
    monkeypatch.setattr(_training, "INIT_MAX_ROWS", 60)
    on_sample = small_dec(init=init, max_iter=0).fit(X)
    assert fitted_rows == [300, 60]
    assert on_sample.labels_.shape == (300,)
    # Same pretrained embedding, nearly the same clusters.
    assert cluster_accuracy(on_all_rows.labels_, on_sample.labels_) > 0.95
    # The sample is drawn from random_state: refitting gives the same model.
    again = small_dec(init=init, max_iter=0).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, on_sample.cluster_centers_)
