"""``init="umap"``: the clusters self-training starts from, found by N2D's step."""

import warnings

import keras
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_circles
from sklearn.preprocessing import StandardScaler

from skdec import _initialization, cluster_accuracy
from skdec._trainers import TRAINER_POOL
from skdec._training import train_clusters

from _helpers import record_calls, small_dec

# Short fits stop at max_iter on purpose; their ConvergenceWarning is noise.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def rings():
    X, y = make_circles(400, noise=0.03, factor=0.4, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def test_umap_step_separates_rings_that_kmeans_cuts_in_half(rings):
    X, y = rings
    centers, labels = _initialization.umap_kmeans_centers(X, 2, n_init=5, seed=0)
    kmeans_labels = KMeans(2, n_init=5, random_state=0).fit_predict(X)
    assert cluster_accuracy(y, labels) > 0.95
    assert cluster_accuracy(y, kmeans_labels) < 0.7
    # The centres are the means of the clusters in the input space.
    for j in range(2):
        expected = X[labels == j].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(centers[j], expected, atol=1e-9)


def test_rows_outside_the_umap_sample_never_join_a_cluster_it_left_empty():
    # The sample holds two values, three clusters are asked: one stays
    # empty, and its zero mean is no centre. Before, the rows outside the
    # sample nearest the origin joined it.
    n_rows, max_rows = 1002, 200
    sample = _initialization._init_sample(n_rows, max_rows, 0)
    outside = np.setdiff1d(np.arange(n_rows), sample)
    Z = np.where(np.arange(n_rows)[:, None] % 2 == 0, 5.0, -5.0) * np.ones((1, 2))
    Z[outside[:2]] = [[0.3, -0.2], [1.0, 1.2]]  # near the origin, off the sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k-means: fewer distinct points
        _, labels = _initialization.umap_kmeans_centers(
            Z, 3, n_init=2, seed=0, max_rows=max_rows
        )
    filled = np.unique(labels[sample])
    assert filled.size == 2
    assert np.isin(labels, filled).all()
    # Each row outside the sample joins the cluster of its nearest value.
    nearer_plus = Z[outside, 0] + Z[outside, 1] > 0
    plus = labels[sample][Z[sample, 0] > 0][0]
    np.testing.assert_array_equal(labels[outside] == plus, nearer_plus)


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


@pytest.fixture(scope="module")
def four_blobs():
    """Four blobs, a fitted 2-cluster DEC, and the blob pairing furthest from it.

    Of the three ways to pair the four blobs, the one that disagrees most
    with the fitted clusters: a learnable target that they do not show.
    """
    centres = [[-3, -3], [-3, 3], [3, -3], [3, 3]]
    X, blob = make_blobs(400, centers=centres, cluster_std=0.5, random_state=0)
    X = X.astype(np.float32)
    dec = small_dec(n_clusters=2, max_iter=0).fit(X)
    pairings = [np.isin(blob, pair).astype(int) for pair in ([0, 1], [0, 2], [0, 3])]
    wanted = min(pairings, key=lambda labels: cluster_accuracy(labels, dec.labels_))
    return X, dec, wanted


def self_trained_labels(
    dec,
    X,
    initial_target,
    *,
    max_iter,
    update_interval,
    tol,
    optimizer="adam",
    momentum=0.0,
    start_learning_rate=None,
):
    """Labels after self-training from the fitted ``dec``'s networks, at a
    learning rate of 0.01 (``start_learning_rate`` while the target is
    learned, if given)."""
    with TRAINER_POOL.clustering(
        dec._network_recipe,
        optimizer=optimizer,
        momentum=momentum,
        reconstruction_weight=0.0,
    ) as trainer:
        trainer.start(1e-2, weights=dec._networks.model.get_weights())
        n_iter, converged, _, delta_label, *_ = train_clusters(
            trainer,
            X,
            dec.labels_,
            max_iter=max_iter,
            update_interval=update_interval,
            tol=tol,
            batch_size=32,
            rng=np.random.default_rng(0),
            verbose=0,
            initial_target=initial_target,
            start_learning_rate=start_learning_rate,
        )
        labels = trainer.assign(X, labels_only=True)
    return labels, n_iter, converged, delta_label


def test_first_target_is_the_initial_clustering(four_blobs):
    """The encoder first learns the given clusters, not Q's own sharpening."""
    X, dec, wanted = four_blobs

    def accuracy_after_self_training(initial_target):
        labels, *_ = self_trained_labels(
            dec, X, initial_target, max_iter=300, update_interval=1000, tol=0.0
        )
        return cluster_accuracy(wanted, labels)

    before = cluster_accuracy(wanted, dec.labels_)
    assert before < 0.8
    assert accuracy_after_self_training(np.eye(2)[wanted]) > 0.95
    assert accuracy_after_self_training(None) < 0.8


def test_initial_target_is_kept_until_learned(four_blobs):
    """With frequent updates, the given clusters stay the target until learned.

    Were the initial target used for one ``update_interval`` only, the next
    targets would come from a Q that does not show it yet and pull the
    encoder back to its own clusters.
    """
    X, dec, wanted = four_blobs
    labels, n_iter, converged, delta_label = self_trained_labels(
        dec, X, np.eye(2)[wanted], max_iter=600, update_interval=5, tol=0.01
    )
    assert cluster_accuracy(wanted, labels) > 0.95
    # DEC's phase ran after the held target and converged by the usual rule.
    assert converged and n_iter < 600
    phase_end = next(i for i, d in enumerate(delta_label) if i > 0 and d < 0.01)
    assert len(delta_label) > phase_end + 1
    assert delta_label[-1] < 0.01


def test_umap_init_is_reproducible(rings):
    X, _ = rings
    first = small_dec(n_clusters=2, init="umap").fit(X)
    second = small_dec(n_clusters=2, init="umap").fit(X)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)


def test_umap_functions_go_through_numbas_disk_cache(rings):
    # umap-learn compiles its layout step without numba's cache=True: skdec
    # turns the cache on, so a new process loads it instead of compiling it.
    import umap.layouts

    X, _ = rings
    _initialization.umap_view(X[:50], 2, 0)
    stats = umap.layouts._nb_optimize_layout_euclidean_single_epoch.stats
    assert stats.cache_path
    assert sum(stats.cache_hits.values()) + sum(stats.cache_misses.values()) >= 1


def test_umap_is_used_where_numba_has_no_cache_location(monkeypatch):
    import numba.core.dispatcher

    # umap-learn itself is imported first, as it would be without the cache
    # (its own cache=True functions are numba's to refuse, at its import):
    # the refusal is for the functions that skdec turns the cache on for.
    # Without this, the test failed in a worker that had not imported UMAP.
    import umap

    def refuse(self):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(numba.core.dispatcher.Dispatcher, "enable_caching", refuse)
    imported = _initialization._import_umap.__wrapped__()
    assert imported is umap and imported.UMAP is not None


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_neighbors_are_the_nearest_rows_self_first(metric):
    from sklearn.metrics import pairwise_distances

    X = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    indices, distances = _initialization.exact_neighbors(X, 7, metric)
    assert indices.shape == distances.shape == (60, 7)
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    np.testing.assert_array_equal(indices[:, 0], np.arange(60))
    np.testing.assert_array_equal(distances[:, 0], 0.0)
    full = pairwise_distances(X.astype(np.float64), metric=metric)
    np.fill_diagonal(full, np.inf)
    nearest = np.sort(full, axis=1)[:, :6]
    np.testing.assert_allclose(distances[:, 1:], nearest, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.take_along_axis(full, indices[:, 1:].astype(np.intp), axis=1),
        nearest,
        rtol=1e-5,
        atol=1e-6,
    )


def test_umap_view_never_searches_neighbours_approximately(rings, monkeypatch):
    # From _UMAP_APPROXIMATE_ROWS rows umap-learn would search with
    # pynndescent, compiled anew in every process; umap_view gives it the
    # exact neighbours, and the graph is the one UMAP builds from exact
    # distances on small data.
    import umap.umap_

    X = rings[0][:200]
    _, small_data_graph = _initialization.umap_view(X, 2, 0)

    def approximate(*args, **kwargs):
        raise AssertionError("umap-learn searched for neighbours itself")

    monkeypatch.setattr(umap.umap_, "nearest_neighbors", approximate)
    monkeypatch.setattr(_initialization, "_UMAP_APPROXIMATE_ROWS", 100)
    mapped, graph = _initialization.umap_view(X, 2, 0)
    assert mapped.shape == (200, 2) and np.isfinite(mapped).all()
    np.testing.assert_allclose(
        graph.toarray(), small_data_graph.toarray(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("n_samples", [3, 6])
def test_umap_init_on_tiny_data(n_samples, merge):
    # With merge=True, over-clusterings with as many clusters as rows or
    # more are left out (4 and 6 clusters on 3 rows, 6 on 6).
    X, _ = make_blobs(n_samples, centers=2, random_state=0)
    dec = small_dec(n_clusters=2, init="umap", umap_merge=merge, max_iter=5).fit(X)
    assert dec.labels_.shape == (n_samples,)
    assert np.isfinite(dec.cluster_centers_).all()


@pytest.mark.parametrize("init", ["auto", "umap"])
def test_two_distinct_rows_are_two_clusters(init):
    # Copies of two values: no start may put copies of a value apart, which
    # no encoder could keep. UMAP cannot lay out two points; the rows are
    # their own map (before, it mapped the copies apart, and the start that
    # split them won on seeds 0 and 2; two rows made UMAP fail).
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 10, axis=0)
    for seed in range(3):
        dec = small_dec(n_clusters=2, init=init, random_state=seed).fit(X)
        assert cluster_accuracy(np.repeat([0, 1], 10), dec.labels_) == 1.0
    dec = small_dec(n_clusters=2, init=init).fit(X[[0, -1]])
    assert sorted(dec.labels_) == [0, 1]
    mapped, graph = _initialization.umap_view(X, 2, seed=0)
    np.testing.assert_array_equal(mapped, X)
    # The two values, linked with the product of their copies.
    np.testing.assert_array_equal(graph.weights.toarray(), [[0, 100], [100, 0]])


def test_the_map_of_three_rows_is_the_same_at_every_call():
    # UMAP's spectral start gave one of two maps (mirror images) on 3 rows.
    X = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    maps = {tuple(_initialization.umap_view(X, 4, seed=0)[0].ravel()) for _ in range(8)}
    assert len(maps) == 1


@pytest.mark.parametrize("init", ["kmeans", "umap"])
def test_large_data_initialises_on_a_sample(init, monkeypatch):
    X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    X = X.astype(np.float32)
    fitted_rows = record_calls(
        monkeypatch, KMeans, "fit", lambda self, data, *args, **kwargs: data.shape[0]
    )
    on_all_rows = small_dec(init=init, max_iter=0).fit(X)
    monkeypatch.setattr(_initialization, "INIT_MAX_ROWS", 60)
    on_sample = small_dec(init=init, max_iter=0).fit(X)
    # One k-means run per n_init in the UMAP map, one k-means fit otherwise.
    half = len(fitted_rows) // 2
    assert fitted_rows == [300] * half + [60] * half
    assert on_sample.labels_.shape == (300,)
    # Same pretrained embedding, nearly the same clusters.
    assert cluster_accuracy(on_all_rows.labels_, on_sample.labels_) > 0.95
    # The sample is drawn from random_state: refitting gives the same model.
    again = small_dec(init=init, max_iter=0).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, on_sample.cluster_centers_)


def record_modularity(monkeypatch):
    """Record ``(modularity, labels)`` of every partition the UMAP step scores."""
    return record_calls(
        monkeypatch,
        _initialization,
        "graph_modularity",
        lambda graph, labels: (
            _ORIGINAL_MODULARITY(graph, labels),
            np.array(labels),
        ),
    )


_ORIGINAL_MODULARITY = _initialization.graph_modularity


def test_umap_step_keeps_the_run_of_highest_modularity(rings, monkeypatch):
    X, _ = rings
    scored = record_modularity(monkeypatch)
    _, labels = _initialization.umap_kmeans_centers(X, 6, n_init=8, seed=0)
    assert len(scored) == 8
    # Six clusters on two rings: the runs differ, and the best one is kept.
    assert len({round(score, 12) for score, _ in scored}) > 1
    best = max(scored, key=lambda item: item[0])[1]
    np.testing.assert_array_equal(labels, best)


def test_cosine_metric_ignores_the_length_of_embedded_rows():
    # Three groups of directions; every row then stretched by 1, 2, 4 or 8
    # (exact in floating point, so cosine distances are bitwise unchanged).
    directions, y = make_blobs(
        300,
        n_features=5,
        centers=3,
        cluster_std=0.3,
        center_box=(-5, 5),
        random_state=0,
    )
    stretch = 2.0 ** np.random.default_rng(0).integers(0, 4, size=(300, 1))
    stretched = directions * stretch

    _, by_angle = _initialization.umap_kmeans_centers(
        directions, 3, n_init=5, seed=0, metric="cosine"
    )
    _, stretched_by_angle = _initialization.umap_kmeans_centers(
        stretched, 3, n_init=5, seed=0, metric="cosine"
    )
    _, stretched_by_distance = _initialization.umap_kmeans_centers(
        stretched, 3, n_init=5, seed=0
    )
    np.testing.assert_array_equal(stretched_by_angle, by_angle)
    assert cluster_accuracy(y, stretched_by_angle) > 0.95
    assert cluster_accuracy(y, stretched_by_distance) < 0.9


def test_estimator_passes_umap_metric_and_merge(rings, monkeypatch):
    X, _ = rings
    calls = record_calls(
        monkeypatch,
        _initialization,
        "umap_kmeans_centers",
        lambda *args, **kwargs: (kwargs["metric"], kwargs["merge"]),
    )
    for metric, merge in [("euclidean", True), ("cosine", False)]:
        small_dec(
            n_clusters=2, init="umap", umap_metric=metric, umap_merge=merge, max_iter=0
        ).fit(X)
    # Both are ignored without init="umap".
    small_dec(n_clusters=2, umap_metric="cosine", umap_merge=True, max_iter=0).fit(X)
    assert calls == [("euclidean", True), ("cosine", False)]


def test_merge_adds_over_clusterings_to_the_candidates(rings, monkeypatch):
    X, _ = rings
    merges = record_calls(
        monkeypatch,
        _initialization,
        "merge_by_modularity",
        lambda graph, labels, n_clusters: (np.unique(labels).size, n_clusters),
    )
    scored = record_modularity(monkeypatch)
    _initialization.umap_kmeans_centers(X, 4, n_init=3, seed=0)
    assert merges == [] and len(scored) == 3
    best_plain = max(score for score, _ in scored)
    scored.clear()
    _, merged = _initialization.umap_kmeans_centers(X, 4, n_init=3, seed=0, merge=True)
    # Each k-means seed adds runs with 8 and 12 clusters, merged down to 4.
    assert merges == [(8, 4), (12, 4)] * 3
    assert len(scored) == 9
    best_score, best_labels = max(scored, key=lambda item: item[0])
    np.testing.assert_array_equal(merged, best_labels)
    # The runs with four clusters are the same as without merging, so the
    # partition kept can only score higher.
    assert best_score >= best_plain
    assert set(merged) == set(range(4))


def phase_optimizer_states(monkeypatch):
    """Spy on both phases of self-training: ``{phase: [(learning rate,
    optimizer steps already taken)]}`` as each phase begins."""
    from skdec import _training

    def state(run, *args, **kwargs):
        steps = int(keras.ops.convert_to_numpy(run.trainer.optimizer.iterations))
        return round(run.trainer.learning_rate, 6), steps

    return {
        "learn": record_calls(monkeypatch, _training, "learn_initial_target", state),
        "sharpen": record_calls(monkeypatch, _training, "self_train", state),
    }


def test_the_start_is_learned_at_its_own_rate(four_blobs, monkeypatch):
    """The start is learned at start_learning_rate; DEC's phase then runs at
    the trainer's rate from fresh optimizer state."""
    X, dec, wanted = four_blobs
    states = phase_optimizer_states(monkeypatch)
    _, n_iter, *_ = self_trained_labels(
        dec,
        X,
        np.eye(2)[wanted],
        max_iter=300,
        update_interval=20,
        tol=0.01,
        optimizer="sgd",
        momentum=0.9,
        start_learning_rate=0.1,
    )
    assert states["learn"] == [(0.1, 0)]
    assert states["sharpen"] == [(0.01, 0)]
    assert n_iter > 20  # the start took at least one target update to learn


def test_without_a_start_rate_one_optimizer_state_runs_on(four_blobs, monkeypatch):
    X, dec, wanted = four_blobs
    states = phase_optimizer_states(monkeypatch)
    self_trained_labels(
        dec, X, np.eye(2)[wanted], max_iter=300, update_interval=20, tol=0.01
    )
    assert states["learn"] == [(0.01, 0)]
    ((rate, steps),) = states["sharpen"]
    assert rate == 0.01 and steps > 0


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, 0.1),
        ({"learning_rate": 0.02}, 0.2),
        ({"start_learning_rate": 0.05}, 0.05),
        ({"reconstruction_weight": 0.5}, 0.01),
        ({"reconstruction_weight": 0.5, "start_learning_rate": 0.05}, 0.05),
    ],
)
def test_estimator_learns_its_start_at_start_learning_rate(
    rings, monkeypatch, params, expected
):
    """ "auto" is ten times learning_rate, or learning_rate itself with a
    reconstruction loss (IDEC); a number is used as it is. DEC's phase keeps
    learning_rate."""
    X, _ = rings
    states = phase_optimizer_states(monkeypatch)
    small_dec(n_clusters=2, init="kmeans_input", max_iter=400, **params).fit(X)
    assert states["learn"] == [(expected, 0)]
    ((rate, _),) = states["sharpen"]
    assert rate == params.get("learning_rate", 0.01)


def test_a_kmeans_start_has_no_learning_phase(rings, monkeypatch):
    X, _ = rings
    states = phase_optimizer_states(monkeypatch)
    small_dec(n_clusters=2, init="kmeans", start_learning_rate=0.5).fit(X)
    assert states["learn"] == []
    assert states["sharpen"] == [(0.01, 0)]


def test_map_runs_are_ranked_by_an_inertia_summed_in_the_rows_order(monkeypatch):
    # init="umap" keeps the run of highest modularity, ties to the lower
    # inertia. scikit-learn's inertia_ is summed per OpenMP thread: from three
    # threads on, runs that found the same partition, numbered differently,
    # got inertias a last bit apart, which moved from call to call, and so
    # did the numbers of the clusters of a fit. Here k-means' own inertia_ is
    # moved by one last bit, and the runs' inertias must not follow it. (A
    # check with four OpenMP threads in a subprocess stood here; on two
    # cores it passed with the fault put back.)
    class Nudged(_initialization.KMeans):
        def fit_predict(self, X, y=None, sample_weight=None):
            labels = super().fit_predict(X, y, sample_weight)
            self.inertia_ = np.nextafter(self.inertia_, np.inf)
            return labels

    monkeypatch.setattr(_initialization, "KMeans", Nudged)
    mapped, _ = make_blobs(300, centers=3, random_state=0)
    runs = list(_initialization.map_partitions(mapped, None, 3, 4, 0, merge=False))
    assert len(runs) == 4
    for labels, inertia in runs:
        means = np.array([mapped[labels == k].mean(axis=0) for k in range(3)])
        assert inertia == float(np.sum((mapped - means[labels]) ** 2))
