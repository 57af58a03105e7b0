"""Choosing the number of clusters without labels (skdec._n_clusters)."""

import json
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import load_digits, make_blobs
from sklearn.neighbors import NearestNeighbors
from umap.umap_ import fuzzy_simplicial_set

from skdec import cluster_accuracy
from skdec._modularity import cluster_volumes, fuzzy_neighbor_graph, neighbor_graph
from skdec._n_clusters import (
    DEFAULT_CANDIDATES,
    _sample,
    choose_n_clusters,
    laplacian_spectrum,
    mean_conductance,
    separation_score,
)

from _helpers import category_table, rows_graph


def separated_blobs(k, per_cluster=30, spread=8.0, seed=0):
    """k Gaussian blobs of unit spread whose centres are ``spread`` apart
    along the axes (pairwise ``spread * sqrt(2)``)."""
    return make_blobs(
        per_cluster * k, centers=spread * np.eye(k), cluster_std=1.0, random_state=seed
    )


def test_graph_is_umaps_fuzzy_simplicial_set():
    X = load_digits().data[:300] / 16.0
    # UMAP's neighbours include each row itself, first.
    dist, ind = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X)
    expected = fuzzy_simplicial_set(
        X, 15, 0, "euclidean", knn_indices=ind, knn_dists=dist
    )[0]
    graph = fuzzy_neighbor_graph(X, n_neighbors=15)
    assert graph.nnz == expected.nnz
    assert abs(graph - expected.tocsr()).max() < 1e-5


def test_graph_is_symmetric_without_self_loops():
    X, _ = make_blobs(80, random_state=0)
    graph = fuzzy_neighbor_graph(X)
    assert abs(graph - graph.T).max() == 0
    assert graph.diagonal().max() == 0
    assert graph.data.min() > 0 and graph.data.max() <= 1


def test_spectrum_counts_connected_components():
    # Three far-apart blobs: the 15-neighbour graph has three components,
    # so exactly three eigenvalues of the Laplacian are zero.
    X, _ = separated_blobs(3, spread=50.0)
    eigenvalues, vectors = laplacian_spectrum(fuzzy_neighbor_graph(X), 5)
    assert np.allclose(eigenvalues[:3], 0, atol=1e-9)
    assert eigenvalues[3] > 0.05
    assert vectors.shape == (90, 5)
    assert np.all(np.diff(eigenvalues) >= 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_solver_finds_every_component(seed):
    # Five far-apart blobs of 300 rows: above 1,000 rows the sparse solver
    # runs, which alone found only three or four of the five zeros.
    X, y = separated_blobs(5, per_cluster=300, spread=50.0)
    graph = fuzzy_neighbor_graph(X)
    eigenvalues, vectors = laplacian_spectrum(graph, 7, seed)
    assert np.all(eigenvalues[:5] < 1e-9) and eigenvalues[5] > 1e-3
    assert np.all(np.diff(eigenvalues) >= 0)
    assert np.allclose(vectors.T @ vectors, np.eye(7), atol=1e-8)
    # The zeros' vectors each live on one blob: the components, one each.
    blobs = [set(np.unique(y[np.abs(v) > 1e-12])) for v in vectors[:, :5].T]
    assert sorted(b.pop() for b in blobs if len(b) == 1) == [0, 1, 2, 3, 4]
    choice = choose_n_clusters(X, None, candidates=range(2, 9), seed=seed, n_init=3)
    assert choice.n_clusters == 5
    assert [choice.scores[k] for k in (2, 3, 4)] == [0.0, 0.0, 0.0]
    assert np.isfinite(choice.scores[5]) and choice.scores[5] > 0


def test_proposals_add_partitions_the_search_would_miss():
    from benchmarks.accuracy import load_dataset
    from skdec import cluster_accuracy

    # Three long, thin blobs: k-means and spectral clustering cut them across,
    # so three clusters score below four; a view in which the blobs are
    # apart proposes them, and three wins.
    X, y = load_dataset("stretched_blobs", None)
    view = np.eye(3)[y] + np.random.default_rng(0).normal(scale=0.01, size=(len(y), 3))
    plain = choose_n_clusters(X, None, range(2, 6), seed=0, n_init=3)
    assert plain.n_clusters == 4
    helped = choose_n_clusters(X, None, range(2, 6), seed=0, n_init=3, proposals=[view])
    assert helped.n_clusters == 3 and helped.scores[3] > 2 * plain.scores[3]
    assert cluster_accuracy(y, helped.labels[3]) == 1.0
    with pytest.raises(ValueError, match="proposals should have the rows of X"):
        choose_n_clusters(X, None, range(2, 4), proposals=[view[:10]])


def test_sparse_and_dense_spectra_agree():
    X, _ = make_blobs(1200, centers=4, random_state=0)
    graph = fuzzy_neighbor_graph(X)
    sparse_values, _ = laplacian_spectrum(graph, 6)  # 1200 rows: sparse solver
    dense = np.linalg.eigvalsh(
        np.eye(1200)
        - (lambda d: d[:, None] * graph.toarray() * d[None, :])(
            1 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel())
        )
    )
    assert np.allclose(sparse_values, dense[:6], atol=1e-6)


def test_select_scores_the_partition_its_criterion_rates_highest():
    from skdec._modularity import codelength_saving, graph_modularity

    # A wide group beside three small tight ones, and a view of pure noise:
    # the proposals per k differ, and each criterion keeps another one.
    X, _ = make_blobs(
        [300, 40, 40, 20],
        centers=[[0, 0], [8, 0], [0, 8], [8, 8]],
        cluster_std=[2.0, 0.5, 0.5, 0.5],
        random_state=0,
    )
    Z = np.random.default_rng(1).normal(size=(len(X), 2))
    rates = {
        "modularity": graph_modularity,
        "map_equation": codelength_saving,
        "score": lambda graph, labels: -mean_conductance(graph, labels),
    }
    choices = {
        select: choose_n_clusters(X, Z, range(2, 7), seed=0, n_init=2, select=select)
        for select in rates
    }
    graph = neighbor_graph(X)
    for select, rate in rates.items():
        for k in range(2, 7):
            kept = rate(graph, choices[select].labels[k])
            assert all(
                kept >= rate(graph, other.labels[k]) - 1e-12
                for other in choices.values()
            )
    # At k = 4 modularity keeps a partition that hands 33 rows of the wide
    # group to two small ones (more even sizes); the map equation keeps the
    # four groups, which score far higher (more than 10 times before what
    # leaves a cluster counted as one link at least: two of the small groups
    # are cut from the rest by less than one link).
    assert choices["map_equation"].scores[4] > 5 * choices["modularity"].scores[4]
    assert choices["modularity"].n_clusters == 5
    assert choices["map_equation"].n_clusters == 4
    with pytest.raises(ValueError, match="select should be one of"):
        choose_n_clusters(X, Z, range(2, 4), select="coverage")


def test_mean_conductance_of_two_triangles_joined_by_one_edge():
    # Triangles {0, 1, 2} and {3, 4, 5} with unit edges, joined by 2-3.
    edges = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 3)]
    rows, cols = zip(*edges, strict=True)
    graph = scipy.sparse.coo_matrix((np.ones(7), (rows, cols)), shape=(6, 6))
    graph = graph + graph.T
    # Each triangle: volume 2 + 2 + 3 = 7, one unit of weight leaves it.
    assert mean_conductance(graph, np.array([0, 0, 0, 1, 1, 1])) == pytest.approx(1 / 7)
    # Labels need not be 0..k-1.
    assert mean_conductance(graph, np.array([5, 5, 5, 9, 9, 9])) == pytest.approx(1 / 7)
    # Unequal volumes: the mean of the clusters' conductances, not the
    # fraction of all weight that is cut. A triangle (volume 7) and a
    # 4-clique (volume 13) joined by one edge: (1/7 + 1/13) / 2, not 2/20.
    edges = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (3, 6), (4, 5), (4, 6)]
    edges += [(5, 6), (2, 3)]
    rows, cols = zip(*edges, strict=True)
    unequal = scipy.sparse.coo_matrix((np.ones(10), (rows, cols)), shape=(7, 7))
    unequal = unequal + unequal.T
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    assert mean_conductance(unequal, labels) == pytest.approx((1 / 7 + 1 / 13) / 2)
    # One cluster: nothing leaves it.
    assert mean_conductance(graph, np.zeros(6, dtype=int)) == 0.0
    # What leaves a cluster counts as one link (weight 1) at least: two
    # triangles apart (volume 6 each), or joined by an edge of weight 0.25
    # (volume 6.25 each).
    for weight, volume in ((0.0, 6.0), (0.25, 6.25)):
        joined = graph.tolil()
        joined[2, 3] = joined[3, 2] = weight
        joined = scipy.sparse.csr_matrix(joined)
        joined.eliminate_zeros()
        labels = np.array([0, 0, 0, 1, 1, 1])
        assert mean_conductance(joined, labels) == pytest.approx(1 / volume)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_chooses_the_number_of_separated_blobs(k):
    X, _ = separated_blobs(k)
    choice = choose_n_clusters(X, None, candidates=range(2, 11), seed=0, n_init=3)
    assert choice.n_clusters == k


@pytest.mark.parametrize("k", [3, 6])
def test_chooses_the_number_of_touching_blobs(k):
    # Centres 5.7 apart at unit spread: the graph is connected.
    X, y = separated_blobs(k, spread=4.0)
    graph = fuzzy_neighbor_graph(X)
    assert laplacian_spectrum(graph, 2)[0][1] > 1e-6  # one component
    choice = choose_n_clusters(X, None, candidates=range(2, 11), seed=0, n_init=3)
    assert choice.n_clusters == k
    assert max(choice.scores, key=choice.scores.get) == k


def test_more_separate_groups_than_candidates_warns_and_says_how_many():
    X, _ = separated_blobs(8, spread=50.0)
    with pytest.warns(UserWarning, match=r"falls apart into 8 separate groups"):
        choice = choose_n_clusters(X, None, candidates=range(2, 6), seed=0, n_init=3)
    assert set(choice.scores.values()) == {0.0} and choice.n_clusters == 2
    # With the range widened as the warning says, the groups are found.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        choice = choose_n_clusters(X, None, candidates=range(2, 9), seed=0, n_init=3)
    assert choice.n_clusters == 8


def test_groups_joined_by_negligible_links_warn_without_a_count():
    # Eight clumps of 10 rows around a cloud: fewer rows than neighbours, so
    # each clump links to the cloud, with fuzzy weights below 1e-30; the
    # graph is one piece, but the Laplacian has nine zero eigenvalues.
    rng = np.random.default_rng(0)
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    clumps = [
        rng.normal(scale=0.05, size=(10, 2)) + 8 * np.array([np.cos(a), np.sin(a)])
        for a in angles
    ]
    X = np.vstack([rng.normal(size=(200, 2)), *clumps])
    with pytest.warns(UserWarning, match="joined only by links of negligible"):
        choose_n_clusters(X, None, candidates=range(2, 6), seed=0, n_init=3)
    assert choose_n_clusters(X, None, seed=0, n_init=3).n_clusters == 9


def test_data_without_clusters_gets_the_smallest_candidate():
    # One Gaussian cloud: no k separates better than the first cut.
    X = np.random.default_rng(0).normal(size=(400, 5))
    choice = choose_n_clusters(X, None, candidates=range(2, 11), seed=0, n_init=3)
    assert choice.n_clusters == 2


def test_few_distinct_rows_give_finite_scores_of_k_way_cuts_and_a_warning():
    # Three values, 30 copies each. Before, every k scored inf: k-means on 3
    # values returned fewer than k clusters, the spectral partition one, and
    # one cluster (no cut, conductance 0) scored inf, silently.
    X = np.repeat([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]], 30, axis=0)
    with pytest.warns(UserWarning, match="only 3 distinct rows"):
        choice = choose_n_clusters(X, X, seed=0, n_init=2)
    assert all(np.isfinite(score) for score in choice.scores.values())
    # k = 4 and more cannot be cut from 3 values: they score 0.
    assert choice.scores[2] > 0 and choice.scores[3] > 0
    assert all(choice.scores[k] == 0.0 for k in range(4, 16))
    for k in (2, 3):  # what was scored is a k-way cut, scored as any labelling
        assert np.unique(choice.labels[k]).size == k
        assert separation_score(X, choice.labels[k]) == choice.scores[k]


def test_a_few_values_with_copies_are_warned_of():
    # Six far-apart values, 30 copies each: every value is a neighbour of
    # every other, and a cluster of one value has no link inside it, so the
    # score cannot find the six (it picks 2; before, no warning above 4
    # values).
    values = np.array([[30.0 * i, 3.0 * i] for i in range(6)])
    X = np.repeat(values, 30, axis=0)
    with pytest.warns(UserWarning, match="only 6 distinct rows"):
        choose_n_clusters(X, None, range(2, 8), seed=0, n_init=2)
    # The same values jittered are distinct rows: no warning, and the six
    # groups are found.
    jittered = X + np.random.default_rng(0).normal(0, 0.1, X.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_n_clusters(jittered, None, range(2, 8), seed=0, n_init=2)[0] == 6


def test_a_few_rows_without_copies_are_warned_of_without_speaking_of_copies():
    # Four rows, none a copy: before, the warning spoke of "distinct rows"
    # and of copies that X does not have.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 0.0]])
    with pytest.warns(UserWarning) as caught:
        separation_score(X, [0, 0, 1, 1])
    (message,) = [str(w.message) for w in caught if "neighbour graph" in str(w.message)]
    assert message.startswith("X has only 4 rows: the neighbour graph")
    assert "cannot tell a good cluster from a poor one" in message
    assert "cop" not in message


def test_fifteen_distinct_rows_in_three_groups_are_counted_without_a_warning():
    # Their links' weights still fall with distance: the graph tells the
    # groups apart (a first version warned on up to n_neighbors rows).
    rng = np.random.default_rng(0)
    centres = ([0, 0], [10, 0], [0, 10])
    X = np.concatenate([rng.normal(c, 0.1, size=(5, 2)) for c in centres])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        choice = choose_n_clusters(X, None, range(2, 12), seed=0, n_init=2)
    assert choice.n_clusters == 3


def test_scores_and_labels_cover_every_candidate():
    X, _ = separated_blobs(3)
    choice = choose_n_clusters(X, None, candidates=[4, 2, 3, 3], seed=0, n_init=2)
    assert sorted(choice.scores) == [2, 3, 4]
    assert sorted(choice.labels) == [2, 3, 4]
    for k, labels in choice.labels.items():
        assert labels.shape == (90,)
        assert set(np.unique(labels)) == set(range(k))
    assert choice.scores[3] == max(choice.scores.values())


def test_large_data_is_subsampled_and_every_row_labelled():
    X, y = separated_blobs(4, per_cluster=150)
    Z = X[:, :4] * 2.0
    choice = choose_n_clusters(X, Z, candidates=range(2, 7), seed=0, max_rows=200)
    assert choice.n_clusters == 4
    labels = choice.labels[4]
    assert labels.shape == (600,)
    # The rows outside the sample join their own blob's cluster.
    assert len(set(zip(labels, y, strict=True))) == 4


def test_sampled_rows_keep_the_partition_found_on_the_sample():
    # Z is noise here, so the nearest mean in Z labels the other rows
    # poorly; the sampled rows must keep the partition actually scored.
    X, _ = separated_blobs(4, per_cluster=150)
    Z = np.random.default_rng(0).normal(size=(600, 3))
    full = choose_n_clusters(X, Z, candidates=[3, 4], seed=5, max_rows=200, n_init=2)
    sample = _sample(600, 200, 5)
    alone = choose_n_clusters(
        X[sample], Z[sample], candidates=[3, 4], seed=5, max_rows=None, n_init=2
    )
    assert np.array_equal(full.labels[4][sample], alone.labels[4])
    assert full.scores == alone.scores


def test_same_seed_same_choice():
    X, _ = separated_blobs(4, spread=4.0)
    a = choose_n_clusters(X, None, candidates=range(2, 8), seed=3, n_init=2)
    b = choose_n_clusters(X, None, candidates=range(2, 8), seed=3, n_init=2)
    assert a.n_clusters == b.n_clusters
    assert a.scores == b.scores


def test_default_candidates_are_two_to_fifteen():
    assert DEFAULT_CANDIDATES == tuple(range(2, 16))


@pytest.mark.parametrize(
    "candidates, match",
    [
        ([1, 2, 3], r"candidates should be integers from 2 to n_rows - 2 = 28"),
        ([2, 29], r"candidates should be integers from 2 to n_rows - 2 = 28"),
        ([], r"candidates should be integers"),
    ],
)
def test_bad_candidates_are_refused(candidates, match):
    X, _ = make_blobs(30, random_state=0)
    with pytest.raises(ValueError, match=match):
        choose_n_clusters(X, None, candidates=candidates)


def test_embedding_with_other_rows_is_refused():
    X, _ = make_blobs(30, random_state=0)
    with pytest.raises(ValueError, match=r"same rows, got 30 and 29"):
        choose_n_clusters(X, X[:29], candidates=[2, 3])


def test_score_is_the_root_of_the_next_eigenvalue_over_the_mean_conductance():
    X, y = make_blobs(
        [30, 60, 90], centers=4.0 * np.eye(3), cluster_std=1.0, random_state=0
    )
    weights = fuzzy_neighbor_graph(X).toarray()
    degree = weights.sum(axis=1)
    laplacian = np.eye(180) - weights / np.sqrt(np.outer(degree, degree))
    fourth = np.linalg.eigvalsh(laplacian)[3]
    # What leaves a cluster counts as one link (weight 1) at least.
    conductance = [
        max(weights[y == c][:, y != c].sum(), 1.0) / degree[y == c].sum()
        for c in range(3)
    ]
    assert separation_score(X, y) == pytest.approx(
        np.sqrt(fourth) / np.mean(conductance)
    )


def test_separation_score_cases():
    X, y = separated_blobs(3, spread=4.0)
    assert separation_score(X, y) > separation_score(X, y % 2)
    assert separation_score(X, np.zeros(90)) == 0.0
    with pytest.raises(ValueError, match=r"3 clusters needs at least 5 rows; got 4"):
        separation_score(X[:4], np.array([0, 1, 2, 2]))


def test_components_score_at_the_resolution_of_one_link():
    # Three far-apart blobs, three components: what leaves each cluster of
    # the true labels counts as one nearest-neighbour link; two clusters
    # leave a free cut (zero score).
    X, y = separated_blobs(3, spread=50.0)
    graph = neighbor_graph(X)
    volume, inside = cluster_volumes(graph, y)
    assert np.all(volume - inside < 1e-9)
    eigenvalues, _ = laplacian_spectrum(graph, 4)
    expected = np.sqrt(eigenvalues[3]) / np.mean(1.0 / volume)
    assert separation_score(X, y) == pytest.approx(expected, rel=1e-9)
    assert separation_score(X, np.minimum(y, 1)) == 0.0


@pytest.mark.parametrize("spread", [4.0, 50.0])
def test_copying_every_row_alike_leaves_the_score_unchanged(spread):
    # Touching blobs, and separate ones whose clusters no link leaves: there,
    # one link between two values joins every copy of each (before: a floor
    # of one row link, so separate groups scored higher with every copy).
    X, y = separated_blobs(3, per_cluster=20, spread=spread)
    score = separation_score(X, y)
    for copies in (3, 10):
        repeated = separation_score(np.repeat(X, copies, 0), np.repeat(y, copies))
        assert repeated == pytest.approx(score, rel=1e-9)


def light_blobs(n=300, seed=0):
    """Images of 28 x 28 pixels, each a blob of light at one of three
    positions equally far apart, with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    rows, cols = np.mgrid[:28, :28]
    centres = np.array([(7, 7), (20, 8), (14, 21)])[y] + rng.normal(0, 1.5, (n, 2))
    X = np.exp(
        -((rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2)
        / 18.0
    )
    return np.clip(X + rng.normal(0, 0.05, X.shape), 0, 1).reshape(n, -1), y


def test_a_separate_group_does_not_outscore_a_cut_of_one_link():
    # One blob is a separate piece of the graph; one link of weight below 1
    # joins the other two. Scoring the pieces as infinite chose 2 clusters.
    X, y = light_blobs()
    graph = neighbor_graph(X)
    volume, inside = cluster_volumes(graph, y)
    assert np.sort(volume - inside)[0] < 1e-9 and np.all(volume - inside < 1.0)
    choice = choose_n_clusters(X, None, range(2, 7), n_init=3)
    assert choice.n_clusters == 3 and np.all(np.isfinite(list(choice.scores.values())))
    assert cluster_accuracy(y, choice.labels[3]) == 1.0


def test_benchmark_writes_records_and_a_table(tmp_path, capsys):
    from benchmarks import n_clusters as bench

    out = tmp_path / "results.json"
    tiny = {
        "hidden_layer_sizes": [16],
        "n_components": 4,
        "pretrain_epochs": 1,
        "max_iter": 5,
        "update_interval": 5,
        "n_init": 1,
        "init": "kmeans",
    }
    argv = ["--datasets", "digits", "--seeds", "0", "1", "--n-clusters-range", "2", "3"]
    argv += ["--dec-params", json.dumps(tiny), "--out-json", str(out)]
    (tmp_path / "table.md").write_text("# Results\n\nWritten by hand.\n")
    bench.main([*argv, "--out-md", str(tmp_path / "table.md")])
    results = json.loads(out.read_text())
    assert [(r["dataset"], r["seed"]) for r in results["records"]] == [
        ("digits", 0),
        ("digits", 1),
    ]
    record = results["records"][0]
    assert record["n_classes"] == 10 and record["n_samples"] == 1797
    for method in ("skdec", "silhouette"):
        assert record[method]["n_clusters"] in (2, 3)
        assert set(record[method]["scores"]) == {"2", "3"}
        assert {record[method]["n_clusters"], record[method]["runner_up"]} == {2, 3}
        assert 0 < record[method]["acc"] <= 1
    table = (tmp_path / "table.md").read_text()
    assert table.startswith("# Results\n\nWritten by hand.\n")
    assert table.count(bench.MD_BEGIN) == 1 and table.count(bench.MD_END) == 1
    assert "| digits | 1797 | 10 |" in table
    assert (
        "Within ±1 of the class count (mode over seeds, the smaller on ties): skdec 0/1"
        in table
    )
    assert "benchmarks.n_clusters" in results["invocations"][0]["command"]
    section = table.split(bench.MD_BEGIN)[1].split(bench.MD_END)[0]
    assert section.strip() in capsys.readouterr().out
    # --render-only writes the same table from the records, running nothing.
    again = tmp_path / "again.md"
    again.write_text("# Results\n\nWritten by hand.\n")
    bench.main(["--render-only", "--out-json", str(out), "--out-md", str(again)])
    assert again.read_text() == table
    assert len(json.loads(out.read_text())["invocations"]) == 1
    # Data sets no rule was compared on, and probes, are counted apart.
    row = {"n_clusters": 3, "acc": 0.5}
    records = [
        {"dataset": name, "seed": 0, "n_samples": 9, "n_classes": classes}
        | {"skdec": row, "silhouette": row | {"n_clusters": 2}}
        for name, classes in [
            ("digits", 10),
            ("iris", 3),
            ("moons", 2),
            ("unequal_blobs", 4),
            ("r_cats", 2),
            ("r_davis", 2),
        ]
    ]
    lines = bench.markdown({"records": records, "invocations": []}).splitlines()
    assert lines[-6].startswith(
        "Within ±1 of the class count (mode over seeds, the smaller on ties): "
        "skdec 0/1 (0/1 seeds), "
    )
    each = "skdec 1/1 (1/1 seeds), k-means + silhouette 1/1 (1/1 seeds); always 2, 1/1."
    assert lines[-5] == f"On the data sets no rule was compared on (iris): {each}"
    assert lines[-4] == (
        f"On the made shapes, on which no rule was compared either (moons): {each}"
    )
    # The two batches of packaged tables, each apart.
    assert lines[-3] == (
        "On the real tables that packages bundle, added after the rule (r_cats): "
        + each
    )
    assert lines[-2] == (
        f"On the second batch of packaged tables, added on 2026-12-06 (r_davis): {each}"
    )
    assert lines[-1] == "Probes, counted in neither: unequal_blobs."
    # A second run replaces the records it reruns and keeps the others.
    bench.main([*argv[:3], "1", *argv[5:]])
    results = json.loads(out.read_text())
    assert sorted(r["seed"] for r in results["records"]) == [0, 1]
    assert len(results["invocations"]) == 2


def test_a_rewritten_section_keeps_what_follows_it(tmp_path):
    from benchmarks import n_clusters as bench

    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nBy hand.\n")
    bench.write_section(path, "first")
    path.write_text(path.read_text() + "\n## After\n\nAlso by hand.\n")
    bench.write_section(path, "second")
    bench.write_section(path, "third")
    assert path.read_text() == (
        f"# Results\n\nBy hand.\n\n{bench.MD_BEGIN}\n\nthird\n\n{bench.MD_END}\n"
        "\n## After\n\nAlso by hand.\n"
    )


def test_runner_up_is_the_next_best_smaller_on_ties():
    from skdec._n_clusters import runner_up

    assert runner_up({2: 1.0, 3: 5.0, 4: 3.0, 5: 3.0}, 3) == 4
    assert runner_up({2: 1.0, 3: 5.0}, 3) == 2
    assert runner_up({4: 1.0}, 4) is None


def test_rules_benchmark_counts_modes_within_one_of_the_class_count():
    from benchmarks import n_clusters_rules as rules

    def record(name, n_classes, seed, k):
        return {
            "dataset": name,
            "seed": seed,
            "n_classes": n_classes,
            "choices": dict.fromkeys(rules.RULES, k) | {"silhouette": 2},
        }

    table = rules.markdown(
        [record("a", 10, 0, 9), record("a", 10, 1, 3), record("a", 10, 2, 9)]
        + [record("b", 3, 0, 6), record("b", 3, 1, 6)]
        + [record("c", 4, 0, 9), record("c", 4, 1, 4)]
    )
    assert "| a | 10 | 0,1,2 | 9 (3-9) ✓ |" in table
    assert "| b | 3 | 0,1 | 6 (6-6) |" in table
    assert "| c | 4 | 0,1 | 4 (4-9) ✓ |" in table  # a tie goes to the smaller
    expected = ["1/3" if rule == "silhouette" else "2/3" for rule in rules.RULES]
    assert table.splitlines()[-2].endswith(" | ".join(expected) + " |")
    # Counted per seed too, which no tie between modes decides: c's 9 and 4.
    expected = ["2/7" if rule == "silhouette" else "3/7" for rule in rules.RULES]
    assert table.splitlines()[-1].startswith("| **the same, counted per seed** |")
    assert table.splitlines()[-1].endswith(" | ".join(expected) + " |")
    # The silhouette column: 2 is one from b's 3 classes, far from a's 10.
    silhouette = 3 + rules.RULES.index("silhouette")
    assert table.splitlines()[2].split(" | ")[silhouette] == "2 (2-2)"
    assert table.splitlines()[3].split(" | ")[silhouette] == "2 (2-2) ✓"


def test_benchmark_merges_the_records_of_side_files(tmp_path, capsys, monkeypatch):
    from benchmarks import n_clusters as bench

    def run(invocation, *names, seed=0, k=3):
        records = [
            {"dataset": name, "seed": seed, "n_samples": 9, "n_classes": 3}
            | {"invocation": invocation}
            | {"skdec": {"n_clusters": k, "acc": 0.5}}
            | {"silhouette": {"n_clusters": 2, "acc": 0.4}}
            for name in names
        ]
        meta = {"id": invocation, "date": invocation, "machine": "m"}
        return {
            "invocations": [meta | {"commit": "c", "command": invocation}],
            "records": records,
        }

    main = tmp_path / "main.json"
    main.write_text(json.dumps(run("20261201T1", "digits", "iris")))
    side = tmp_path / "side.json"
    # A rerun of iris (seed 0) and a new seed of digits.
    side.write_text(json.dumps(run("20261202T1", "iris", k=4)))
    other = tmp_path / "other.json"
    other.write_text(json.dumps(run("20261203T1", "digits", seed=1)))
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")

    def no_fit(*args, **kwargs):
        raise AssertionError("--merge fitted")

    monkeypatch.setattr(bench, "run_one", no_fit)
    # The later run first: the invocations are still put in the order they ran.
    argv = ["--merge", str(other), str(side), "--out-json", str(main)]
    bench.main([*argv, "--out-md", str(md)])
    merged = json.loads(main.read_text())
    keys = {(r["dataset"], r["seed"]): r for r in merged["records"]}
    assert set(keys) == {("digits", 0), ("digits", 1), ("iris", 0)}
    assert keys[("iris", 0)]["skdec"]["n_clusters"] == 4  # replaced
    # Every invocation that owns a record, in the order they ran.
    assert [i["id"] for i in merged["invocations"]] == [
        "20261201T1",
        "20261202T1",
        "20261203T1",
    ]
    assert "| iris | 9 | 3 | 4 [4–4] |" in md.read_text()
    # Replacing every record of a run drops its invocation.
    again = tmp_path / "again.json"
    again.write_text(json.dumps(run("20261204T1", "digits", "iris")))
    bench.main(["--merge", str(again), "--out-json", str(main)])
    merged = json.loads(main.read_text())
    assert [i["id"] for i in merged["invocations"]] == ["20261203T1", "20261204T1"]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        bench.main(["--merge", str(tmp_path / "missing.json"), "--out-json", str(main)])
    assert "no records file" in capsys.readouterr().err


def test_rules_benchmark_counts_data_added_after_the_rule_apart():
    from benchmarks import n_clusters_rules as rules

    def record(name, n_classes, k):
        choices = {"skdec": k, "gap": 2}
        if name == "digits":
            choices["generalisability"] = 9
        return {"dataset": name, "seed": 0, "n_classes": n_classes, "choices": choices}

    lines = rules.markdown(
        [
            record("digits", 10, 9),
            record("iris", 3, 2),  # added after the rule: a table
            record("moons", 2, 5),  # and a made shape
            record("r_glass", 6, 2),  # and a packaged table (before: counted
            # among the data sets the rule was chosen on)
            record("unequal_blobs", 4, 4),  # a probe: in no count
        ]
    ).splitlines()
    assert lines[-4] == "| **within ±1 of the class count** | | | 1/1 | 0/1 | 1/1 |"
    # A rule that ran on none of a group's data sets has no count there.
    assert lines[-2] == (
        "| **within ±1, on the data sets added after skdec's rule** | | | 1/3 | 2/3 "
        "| – |"
    )
    assert lines[-1] == "| **the same, counted per seed** | | | 1/3 | 2/3 | – |"
    assert "| unequal_blobs | 4 | 0 | 4 (4-4) ✓ | 2 (2-2) | – |" in lines


def test_rules_benchmark_table_shows_only_the_rules_the_records_hold():
    from benchmarks import n_clusters_rules as rules

    records = [
        {"dataset": "a", "seed": 0, "n_classes": 3, "choices": {"skdec": 3}},
        {"dataset": "b", "seed": 0, "n_classes": 2, "choices": {"eigengap": 2}},
    ]
    lines = rules.markdown(records).splitlines()
    assert lines[0] == "| data | classes | seeds | skdec | eigengap |"
    assert lines[2] == "| a | 3 | 0 | 3 (3-3) ✓ | – |"
    assert lines[3] == "| b | 2 | 0 | – | 2 (2-2) ✓ |"
    # Each rule's hits are counted over the data sets it ran on.
    assert lines[-2] == "| **within ±1 of the class count** | | | 1/1 | 1/1 |"


def test_rules_benchmark_runs_every_rule(tmp_path, capsys):
    from benchmarks import n_clusters_rules as rules

    out = tmp_path / "rules.json"
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    argv = ["--datasets", "digits", "--seeds", "0", "--max-rows", "300"]
    argv += ["--n-clusters-range", "2", "4", "--out-json", str(out)]
    tiny = {"hidden_layer_sizes": [16], "n_components": 4, "pretrain_epochs": 1}
    rules.main([*argv, "--dec-params", json.dumps(tiny), "--out-md", str(md)])
    result = json.loads(out.read_text())
    (record,) = result["records"]
    assert record["dataset"] == "digits" and record["n_classes"] == 10
    assert set(record["choices"]) == set(rules.RULES)
    assert all(k in (2, 3, 4) for k in record["choices"].values())
    (invocation,) = result["invocations"]
    assert "benchmarks.n_clusters_rules" in invocation["command"]
    ratios = record["details"]["generalisability"]
    assert set(ratios) == {"2", "3", "4"} and all(g > 0 for g in ratios.values())
    assert set(record["details"]["gap"]) == {"2", "3", "4"}
    from benchmarks.accuracy import load_dataset
    from benchmarks.n_clusters import subsample
    from skdec import DECClusterer

    X, y, _ = subsample(*load_dataset("digits", None), 300)
    assert record["details"]["class_score"] == separation_score(X, y, seed=0)
    # The skdec rule is what the estimator chooses, seeds included.
    auto = DECClusterer(
        "auto", n_clusters_range=(2, 4), max_iter=0, random_state=0, **tiny
    ).fit(X)
    assert record["choices"]["skdec"] == auto.n_clusters_
    scores = {int(k): v for k, v in record["details"]["skdec"].items()}
    assert scores == pytest.approx(auto.n_clusters_scores_)
    # Dip-means counts the input's clusters and the embedding's; here both
    # are one cluster, which counts as the smallest candidate.
    Z = rules.pretrained_embedding(X, 0, None, tiny)
    for rule, M in (("dip_means", X), ("dip_means_Z", Z)):
        assert record["choices"][rule] == max(rules.dip_means(M, 0, 4), 2)
    for rule, M in (("dip_merge", X), ("dip_merge_Z", Z)):
        assert record["choices"][rule] == max(rules.dip_merge(M, 0, 4), 2)
    # The BIC rule on Z, its criterion per k kept in the details.
    k, bic = rules.bic_choice(Z, 0, (2, 3, 4))
    assert record["choices"]["bic_Z"] == k
    assert record["details"]["bic_Z"] == {str(c): v for c, v in bic.items()}
    text = md.read_text()
    assert text.startswith("# Results\n") and text.count(rules.MD_BEGIN) == 1
    assert "| digits | 10 | 0 |" in capsys.readouterr().out
    assert "`python -m benchmarks.n_clusters_rules --datasets digits" in text
    # --render-only writes the same table from the records, running nothing.
    md.write_text("# Results\n")
    rules.main(["--render-only", "--out-json", str(out), "--out-md", str(md)])
    assert md.read_text() == text


def test_prediction_strength_is_high_at_the_number_of_separated_blobs():
    from benchmarks.n_clusters_rules import prediction_strength

    X, _ = make_blobs(
        400, centers=4, cluster_std=0.3, center_box=(-10, 10), random_state=0
    )
    assert prediction_strength(X, 4, seed=0) > 0.95
    # Splitting a blob in two is arbitrary: the halves disagree on where.
    assert prediction_strength(X, 6, seed=0) < 0.8


@pytest.mark.parametrize(
    "flag", [["--render-only"], ["--merge"], ["--merge-from", "a.json"]]
)
def test_rules_benchmark_refuses_to_read_records_without_out_json(flag, capsys):
    from benchmarks import n_clusters_rules as rules

    with pytest.raises(SystemExit, match="2"):
        rules.main(flag)
    flag = flag[0]
    assert f"{flag} reads the records of --out-json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag", [["--render-only"], ["--merge"], ["--merge-from", "a.json"]]
)
def test_rules_benchmark_says_when_the_records_file_is_missing(flag, tmp_path, capsys):
    # Before, a raw FileNotFoundError traceback.
    from benchmarks import n_clusters_rules as rules

    missing = tmp_path / "none.json"
    with pytest.raises(SystemExit, match="2"):
        rules.main([*flag, "--out-json", str(missing)])
    assert f"{missing} does not exist" in capsys.readouterr().err


def test_rules_benchmark_reads_the_records_to_merge_before_fitting(
    tmp_path, monkeypatch, capsys
):
    from benchmarks import n_clusters_rules as rules

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before reading --out-json")

    monkeypatch.setattr(rules, "choices", no_fit)
    missing = tmp_path / "missing.json"
    argv = ["--datasets", "digits", "--seeds", "0", "--rules", "silhouette"]
    with pytest.raises(SystemExit):
        rules.main([*argv, "--merge", "--out-json", str(missing)])
    assert f"{missing} does not exist" in capsys.readouterr().err


def test_rules_benchmark_merges_new_rules_into_the_records(tmp_path):
    from benchmarks import n_clusters_rules as rules

    out = tmp_path / "rules.json"
    earlier = {"date": "then", "machine": "m", "commit": "c", "command": "first"}
    old = {"dataset": "digits", "seed": 0, "n_classes": 10, "choices": {"skdec": 9}}
    other = {"dataset": "uci_zoo", "seed": 0, "n_classes": 7, "choices": {}}
    # An older records file names its one run "invocation".
    out.write_text(json.dumps({"invocation": earlier, "records": [old, other]}))
    argv = ["--datasets", "digits", "--seeds", "0", "--max-rows", "200"]
    argv += ["--n-clusters-range", "2", "3", "--rules", "silhouette"]
    rules.main([*argv, "--merge", "--out-json", str(out)])
    result = json.loads(out.read_text())
    assert [run["command"] for run in result["invocations"]][0] == "first"
    assert "--rules silhouette --merge" in result["invocations"][1]["command"]
    digits, zoo = result["records"]
    assert digits["choices"]["skdec"] == 9  # kept
    assert digits["choices"]["silhouette"] in (2, 3)  # added
    assert zoo == other


def test_rules_benchmark_refuses_to_merge_other_settings(tmp_path, monkeypatch, capsys):
    from benchmarks import n_clusters_rules as rules

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before refusing")

    settings = {"max_rows": 200, "dec_params": {}, "n_clusters_range": [2, 3]}
    record = {"dataset": "digits", "seed": 0, "n_classes": 10, "choices": {}}
    out = tmp_path / "rules.json"
    runs = {"invocations": [], "records": [{**record, "settings": settings}]}
    out.write_text(json.dumps(runs))
    argv = ["--datasets", "digits", "--seeds", "0", "--max-rows", "200"]
    argv += ["--n-clusters-range", "2", "3", "--rules", "silhouette"]
    argv += ["--merge", "--out-json", str(out)]
    monkeypatch.setattr(rules, "choices", no_fit)
    for other in (["--max-rows", "300"], ["--dec-params", '{"n_components": 5}']):
        with pytest.raises(SystemExit, match="2"):
            rules.main([*argv, *other])
        assert "--merge would mix settings: digits seed 0" in capsys.readouterr().err
    # Another seed, or the same settings, may be merged (and fitted).
    with pytest.raises(AssertionError, match="fitted before refusing"):
        rules.main([*argv, "--max-rows", "300", "--seeds", "1"])
    with pytest.raises(AssertionError, match="fitted before refusing"):
        rules.main(argv)


def test_rules_benchmark_merges_the_records_of_runs_side_by_side(tmp_path, capsys):
    from benchmarks import n_clusters_rules as rules

    settings = {"max_rows": 200, "dec_params": {}, "n_clusters_range": [2, 3]}

    def runs(command, *records):
        run = {"date": "d", "machine": "m", "commit": "c", "command": command}
        return {"invocations": [run], "records": list(records)}

    def record(seed, choices):
        made = {"dataset": "digits", "seed": seed, "n_classes": 10}
        return made | {"choices": choices, "settings": settings}

    main, a, b = (tmp_path / f"{name}.json" for name in ("main", "a", "b"))
    main.write_text(json.dumps(runs("first", record(0, {"skdec": 9}))))
    a.write_text(json.dumps(runs("second", record(0, {"gap": 3}))))
    b.write_text(json.dumps(runs("third", record(1, {"gap": 2}))))
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    argv = ["--merge-from", str(a), str(b), "--out-json", str(main)]
    rules.main([*argv, "--out-md", str(md)])
    result = json.loads(main.read_text())
    assert [run["command"] for run in result["invocations"]] == [
        "first",
        "second",
        "third",
    ]
    assert [r["choices"] for r in result["records"]] == [
        {"skdec": 9, "gap": 3},
        {"gap": 2},
    ]
    assert "| digits | 10 | 0,1 |" in md.read_text()
    # Records of the same data set and seed made with other settings are
    # refused, and the main file is left as it was.
    before = main.read_text()
    other = record(0, {"silhouette": 2}) | {"settings": settings | {"max_rows": 9}}
    a.write_text(json.dumps(runs("fourth", other)))
    with pytest.raises(SystemExit, match="2"):
        rules.main(["--merge-from", str(a), "--out-json", str(main)])
    assert "would mix settings: digits seed 0" in capsys.readouterr().err
    assert main.read_text() == before


def test_rules_benchmark_records_its_settings(tmp_path):
    from benchmarks import n_clusters_rules as rules

    out = tmp_path / "rules.json"
    argv = ["--datasets", "digits", "--seeds", "0", "--max-rows", "200"]
    argv += ["--n-clusters-range", "2", "3", "--rules", "silhouette"]
    rules.main([*argv, "--out-json", str(out)])
    (record,) = json.loads(out.read_text())["records"]
    assert record["settings"] == {
        "max_rows": 200,
        "dec_params": {},
        "n_clusters_range": [2, 3],
    }


def test_gap_statistic_finds_separated_blobs_and_not_noise():
    from benchmarks.n_clusters_rules import gap_statistic

    X, _ = make_blobs(
        300, centers=4, cluster_std=0.5, center_box=(-10, 10), random_state=0
    )
    k, gaps = gap_statistic(X, seed=0, candidates=range(2, 8))
    assert k == 4 and set(gaps) == set(range(2, 8))
    # Past the blobs' number, splitting them gains no more than in the box.
    assert gaps[4][0] > gaps[3][0] and gaps[4][0] >= gaps[5][0] - gaps[5][1]
    uniform = np.random.default_rng(0).uniform(size=(300, 2))
    assert gap_statistic(uniform, seed=0, candidates=range(2, 8))[0] == 2
    # The smallest k passing the test wins; none passing, the largest.
    assert gap_statistic(X, seed=0, candidates=[2, 3])[0] == 3


@pytest.mark.parametrize("rule", ["calinski_harabasz", "davies_bouldin", "gap"])
def test_kmeans_index_rules_count_separated_blobs(rule):
    from benchmarks.n_clusters_rules import choices

    X, _ = make_blobs(
        300, centers=5, cluster_std=0.5, center_box=(-10, 10), random_state=1
    )
    picks, _ = choices(X, 0, list(range(2, 9)), None, rules=(rule,))
    assert picks == {rule: 5}


def test_map_equation_rule_keeps_the_k_that_saves_most_and_splits_blobs():
    from benchmarks.n_clusters_rules import choices

    X, _ = make_blobs(
        300, centers=5, cluster_std=0.5, center_box=(-10, 10), random_state=1
    )
    tiny = {"hidden_layer_sizes": [16], "n_components": 4, "pretrain_epochs": 1}
    picks, details = choices(X, 0, list(range(2, 9)), None, tiny, ("map_equation",))
    savings = {int(k): v for k, v in details["map_equation"].items()}
    assert set(savings) == set(range(2, 9))
    assert picks == {"map_equation": max(savings, key=savings.get)}
    # Each blob split in two still saves bits on the neighbour graph: the
    # rule counts more clusters than the five blobs (what RESULTS.md says).
    assert savings[6] > savings[5] > savings[4]
    assert picks["map_equation"] > 5


def test_rules_benchmark_controls_the_one_link_floor():
    from benchmarks.n_clusters_rules import choices

    # The control scores exactly separate groups infinite, as skdec did.
    X, _ = light_blobs()
    tiny = {"hidden_layer_sizes": [16], "n_components": 4, "pretrain_epochs": 1}
    rules = ("skdec", "skdec_components_infinite")
    picks, details = choices(X, 0, list(range(2, 7)), None, tiny, rules=rules)
    assert picks == {"skdec": 3, "skdec_components_infinite": 2}
    assert details["skdec_components_infinite"]["2"] == np.inf
    assert np.isfinite(details["skdec"]["2"])


def test_split_rule_counts_nested_clusters_and_leaves_a_blob_whole():
    from benchmarks.n_clusters_rules import split_count

    # One seed: a benchmark rule, not adopted (seeds 1 and 2 passed too when
    # it was measured, 2026-12-05).
    seed = 0

    # One group far from three touching ones: the first choice is the two
    # groups (nested clusters), and splitting the near group finds its three.
    far, _ = make_blobs(100, centers=[[60, 60]], cluster_std=1.0, random_state=0)
    near, _ = make_blobs(
        300, centers=[[0, 0], [5, 0], [0, 5]], cluster_std=1.0, random_state=0
    )
    X = np.vstack([far, near])
    candidates = list(range(2, 6))
    assert choose_n_clusters(X, X, candidates, seed=seed).n_clusters == 2
    count, nodes = split_count(X, X, seed, candidates)
    assert count == 4
    assert nodes[0][:2] == [0, 400] and nodes[0][3] is None
    (split,) = [node for node in nodes if node[:2] == [1, 300]]
    assert split[2] > split[3]  # the near group beats its null
    # One Gaussian blob: the first choice must cut it in two, and neither half
    # beats its null.
    blob = np.random.default_rng(0).normal(size=(200, 3))
    count, nodes = split_count(blob, blob, seed, candidates)
    assert count == 2 and all(node[2] <= node[3] for node in nodes[1:])


def test_split_rule_starts_from_the_controls_choice_made_once(monkeypatch):
    from benchmarks import n_clusters_rules as rules

    X, _ = separated_blobs(3, per_cluster=40)
    calls, real = [], rules.choose_n_clusters

    def counted(rows, *args, **kwargs):
        calls.append(len(rows))
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(rules, "choose_n_clusters", counted)
    tiny = {"hidden_layer_sizes": [16], "n_components": 4, "pretrain_epochs": 1}
    candidates = [2, 3, 4]
    chosen, details = rules.choices(
        X, 0, candidates, None, tiny, rules=("skdec_sample", "skdec_split")
    )
    # The splits look at clusters of 40 rows; all 120 are chosen for once.
    assert calls.count(len(X)) == 1 and len(calls) > 1
    Z = rules.pretrained_embedding(X, 0, None, tiny)
    first = real(X, Z, candidates, seed=0)
    assert chosen["skdec_sample"] == first.n_clusters
    assert details["skdec_split"][0][2] == max(first.scores.values())


@pytest.mark.parametrize("k", [3, 5])
def test_dip_means_counts_separated_blobs_and_leaves_one_blob_whole(k):
    from benchmarks.n_clusters_rules import dip_means

    X, _ = separated_blobs(k, per_cluster=60)
    assert dip_means(X, 0, 15) == k
    assert dip_means(X, 0, k - 1) == k - 1  # at most max_clusters
    rng = np.random.default_rng(k)
    assert dip_means(rng.normal(size=(300, k)), 0, 15) == 1
    assert dip_means(rng.uniform(size=(300, k)), 0, 15) == 1


@pytest.mark.parametrize("k", [3, 5])
def test_dip_merge_merges_an_over_clustering_back_to_the_blobs(k):
    from benchmarks.n_clusters_rules import dip_merge

    X, _ = separated_blobs(k, per_cluster=100)
    assert dip_merge(X, 0, 15) == k
    rng = np.random.default_rng(k)
    assert dip_merge(rng.normal(size=(500, k)), 0, 15) == 1
    # Two groups that touch along the line through their means stay two.
    two = np.concatenate(
        [rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [6, 0]]
    )
    assert dip_merge(two, 0, 15) == 2


@pytest.mark.parametrize("k", [3, 5])
def test_bic_choice_counts_gaussian_blobs(k):
    from benchmarks.n_clusters_rules import bic_choice

    X, _ = separated_blobs(k, per_cluster=60)
    candidates = range(2, 9)
    chosen, bic = bic_choice(X, 0, candidates)
    assert chosen == k and set(bic) == set(candidates)
    assert bic[k] == min(bic.values())


def test_bic_choice_leaves_out_a_mixture_that_cannot_be_fitted(monkeypatch):
    from benchmarks import n_clusters_rules as rules

    class Collapsing(rules.GaussianMixture):
        def fit(self, X, y=None):
            if self.n_components == 3:
                raise ValueError("ill-defined empirical covariance")
            return super().fit(X, y)

    monkeypatch.setattr(rules, "GaussianMixture", Collapsing)
    X, _ = separated_blobs(3, per_cluster=60)
    chosen, bic = rules.bic_choice(X, 0, range(2, 6))
    assert bic[3] == np.inf and np.isfinite(bic[2]) and chosen != 3
    # Any other error is not a collapsed component, and is raised.
    with pytest.raises(ValueError, match="Input X contains NaN"):
        rules.bic_choice(np.full((20, 2), np.nan), 0, range(2, 4))


def test_gaussian_like_draws_the_mean_and_covariance_of_the_rows():
    from benchmarks.n_clusters_rules import gaussian_like

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 3)) @ np.array([[2, 0, 0], [1, 1, 0], [0, 0, 0.1]])
    X += [5, -3, 1]
    draw = gaussian_like(X, seed=0, draw=0)
    assert draw.shape == X.shape
    assert np.allclose(draw.mean(axis=0), X.mean(axis=0), atol=0.1)
    # Sampling error aside, the thin third axis included.
    assert np.allclose(np.cov(draw.T), np.cov(X.T), rtol=0.1, atol=0.01)
    assert not np.allclose(draw, gaussian_like(X, seed=0, draw=1))


def test_rules_table_sets_the_classes_score_beside_skdecs():
    from benchmarks import n_clusters_rules as rules

    def record(seed, classes, chosen):
        scores = {"2": chosen, "3": 1.0}
        details = {"class_score": classes, "skdec": scores}
        return {
            "dataset": "a",
            "seed": seed,
            "n_classes": 3,
            "details": details,
            "choices": {"skdec": 2},
        }

    lines = rules.markdown([record(0, 1.5, 4.0), record(1, 2.5, 6.0)]).splitlines()
    assert lines[0].endswith(f"| skdec | {rules.CLASS_SCORE_HEADER} |")
    assert lines[2] == "| a | 3 | 0,1 | 2 (2-2) ✓ | 2.00 (5.00) |"
    assert lines[-2] == "| **within ±1 of the class count** | | | 1/1 | |"
    assert lines[-1] == "| **the same, counted per seed** | | | 2/2 | |"
    # Records without the diagnosis keep the table as it was.
    bare = {"dataset": "a", "seed": 0, "n_classes": 3, "choices": {"skdec": 2}}
    assert (
        rules.markdown([bare]).splitlines()[0] == "| data | classes | seeds | skdec |"
    )


def test_generalisability_holds_out_a_tenth_of_the_rows_by_seed():
    from benchmarks.n_clusters_rules import holdout

    train, validation = holdout(101, seed=3)
    assert len(validation) == 10 and len(train) == 91
    assert sorted([*train, *validation]) == list(range(101))  # disjoint, all
    again = holdout(101, seed=3)
    assert np.array_equal(again[1], validation)
    assert not np.array_equal(holdout(101, seed=4)[1], validation)
    assert len(holdout(5, seed=0)[1]) == 1


def test_generalisability_rule_takes_the_k_before_the_largest_drop():
    from benchmarks.n_clusters_rules import before_largest_drop

    assert before_largest_drop({2: 1.0, 3: 0.98, 4: 0.97, 5: 0.7, 6: 0.69}) == 4
    assert before_largest_drop({2: 1.0, 3: 0.9, 4: 0.8}) == 2  # ties: smaller
    assert before_largest_drop({5: 1.0}) == 5


def test_spectrum_of_copies_is_that_of_the_graph_of_the_rows():
    rng = np.random.default_rng(0)
    values, _ = make_blobs(8, centers=2, random_state=0)
    X = np.repeat(values, rng.integers(1, 6, 8), axis=0)
    graph = neighbor_graph(X)
    rows = rows_graph(X)
    n = 12  # more than the 8 values: copies add eigenvalues 1
    eigenvalues, vectors = laplacian_spectrum(graph, n)
    expected, _ = laplacian_spectrum(rows, n)
    np.testing.assert_allclose(eigenvalues, expected, atol=1e-10)
    assert np.sum(np.isclose(eigenvalues, 1.0)) > 0
    # The values' eigenvectors, lifted to their copies (here those of 0 and
    # 0.58; the values' others are above 1); only the copies' own
    # eigenvalues 1 come without one (zeros).
    given = np.any(vectors, axis=0)
    assert given.sum() == 2
    np.testing.assert_array_equal(eigenvalues[~given], 1.0)
    degree = np.asarray(rows.sum(axis=1)).ravel()
    adjacency = rows.toarray() / np.sqrt(np.outer(degree, degree))
    for value, vector in zip(eigenvalues, vectors.T, strict=True):
        if np.any(vector):
            assert np.linalg.norm(vector) == pytest.approx(1.0)
            np.testing.assert_allclose(
                adjacency @ vector, (1.0 - value) * vector, atol=1e-9
            )


def test_rows_that_are_all_one_value_get_the_smallest_candidate():
    X = np.ones((40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        graph = neighbor_graph(X)
        assert mean_conductance(graph, np.arange(40) % 2) == 0.0
        assert choose_n_clusters(X, candidates=range(2, 6), seed=0).n_clusters == 2


def test_copies_count_as_rows_in_the_score_and_the_choice():
    values, groups = make_blobs(90, centers=3, random_state=0)
    X, labels = np.repeat(values, 20, axis=0), np.repeat(groups, 20)
    assert separation_score(X, labels) == pytest.approx(
        separation_score(values, groups)
    )
    # Tables of categories: three groups, about 50 distinct rows of 600.
    # On the graph of the rows, which falls apart into groups of copies,
    # the choice was 2, 3, 4, 3 and 2.
    for seed in range(5):
        table, _ = category_table(seed)
        assert np.unique(table, axis=0).shape[0] < 60
        assert choose_n_clusters(table, seed=0).n_clusters == 3
