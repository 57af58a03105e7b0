"""Modularity and the map equation's saving of a partition, and the greedy
merging of clusters by modularity."""

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.neighbors import kneighbors_graph

from skdec import cluster_accuracy
from skdec._modularity import (
    cluster_volumes,
    codelength_saving,
    cuts_at_most_one_link,
    fuzzy_neighbor_graph,
    graph_modularity,
    merge_by_modularity,
    neighbor_graph,
    one_link_weight,
)

from _helpers import rows_graph


def _random_weights(rng, n, density):
    """Symmetric random weights on about ``density`` of the pairs, zero
    diagonal, as a dense array."""
    weights = rng.random((n, n)) * (rng.random((n, n)) < density)
    weights = np.triu(weights, 1)
    return weights + weights.T


def _cliques(size, count):
    """``count`` cliques of ``size`` rows without a link between them, as a
    sparse array (SciPy's newer interface; UMAP's graph is a sparse matrix)."""
    clique = scipy.sparse.coo_array(np.ones((size, size)) - np.eye(size))
    return scipy.sparse.block_diag([clique] * count)


def test_graph_modularity_matches_its_definition():
    rng = np.random.default_rng(0)
    weights = _random_weights(rng, 30, 0.3)
    labels = rng.integers(0, 3, 30)
    degree = weights.sum(axis=1)
    total = weights.sum()
    same = labels[:, None] == labels[None, :]
    expected = np.sum((weights - np.outer(degree, degree) / total) * same) / total
    got = graph_modularity(scipy.sparse.csr_matrix(weights), labels)
    assert got == pytest.approx(expected, abs=1e-12)
    # Two cliques without a link between them: the split along the cliques
    # scores 1/2, and cutting each clique scores lower.
    cliques = _cliques(4, 2)
    assert graph_modularity(cliques, [0] * 4 + [1] * 4) == pytest.approx(0.5)
    assert graph_modularity(cliques, [0, 0, 1, 1] * 2) < 0.5
    # A graph without edges prefers no partition (and divides by nothing).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = scipy.sparse.csr_matrix((4, 4))
        assert graph_modularity(empty, [0, 0, 1, 1]) == 0.0


def _map_equation(weights, labels):
    """Rosvall and Bergstrom's two-level codelength L(M), as they write it."""

    def plogp(x):
        x = np.asarray(x, dtype=float)
        return np.sum(x[x > 0] * np.log2(x[x > 0]))

    p = weights.sum(axis=1) / weights.sum()
    modules = np.unique(labels)
    exits = (
        np.array([weights[np.ix_(labels == m, labels != m)].sum() for m in modules])
        / weights.sum()
    )
    stay = np.array([p[labels == m].sum() for m in modules]) + exits
    return (
        plogp(exits.sum())
        - 2 * sum(plogp(q) for q in exits)
        - plogp(p)
        + sum(plogp(s) for s in stay)
    )


def test_codelength_saving_matches_the_map_equation():
    rng = np.random.default_rng(0)
    weights = _random_weights(rng, 30, 0.3)
    one = np.zeros(30, dtype=int)
    for labels in (rng.integers(0, 3, 30), np.arange(30) % 5, 7 * one + 2):
        got = codelength_saving(scipy.sparse.csr_matrix(weights), labels)
        expected = _map_equation(weights, one) - _map_equation(weights, labels)
        assert got == pytest.approx(expected, abs=1e-12)
    # Two cliques without a link between them: the split along the cliques
    # costs no exit and saves the one bit that names the clique; cutting each
    # clique in two saves less.
    cliques = _cliques(4, 2)
    assert codelength_saving(cliques, [0] * 4 + [1] * 4) == pytest.approx(1.0)
    assert codelength_saving(cliques, [0, 0, 1, 1] * 2) < 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = scipy.sparse.csr_matrix((4, 4))
        assert codelength_saving(empty, [0, 0, 1, 1]) == 0.0


def _group_and_two_cliques(n_dimensions):
    """A neighbour graph of one Gaussian group of 600 rows in
    ``n_dimensions``, beside two cliques of 10 rows, and two partitions into
    3 clusters: the group and each clique, or the group cut in half with both
    cliques in one cluster."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, n_dimensions))
    group = kneighbors_graph(X, 10)
    group = ((group + group.T) > 0).astype(float)
    clique = np.ones((10, 10)) - np.eye(10)
    graph = scipy.sparse.block_diag([group, clique, clique]).tocsr()
    whole = np.r_[np.zeros(600, dtype=int), [1] * 10, [2] * 10]
    cut = np.r_[X[:, 0] > np.median(X[:, 0]), [2] * 20].astype(int)
    return graph, whole, cut


def test_codelength_saving_does_not_cut_a_group_to_even_the_sizes():
    graph, whole, cut = _group_and_two_cliques(8)
    # Modularity's expected share of links inside clusters, the sum of the
    # squared shares of the degree, rewards the more even sizes; the map
    # equation charges the links that the cut makes the walk cross.
    assert graph_modularity(graph, cut) > graph_modularity(graph, whole)
    assert codelength_saving(graph, whole) > codelength_saving(graph, cut)


def test_codelength_saving_cuts_a_group_spread_over_two_dimensions():
    # A known limit, documented in the user guide: in two dimensions a cut
    # through the group crosses so few of its links that the map equation,
    # too, prefers it.
    graph, whole, cut = _group_and_two_cliques(2)
    assert codelength_saving(graph, cut) > codelength_saving(graph, whole)


def _greedy_by_brute_force(graph, labels, n_clusters):
    """Merge the pair whose union scores highest, by scoring every union."""
    labels = np.asarray(labels).copy()
    while np.unique(labels).size > n_clusters:
        present = np.unique(labels)
        pairs = [(a, b) for i, a in enumerate(present) for b in present[i + 1 :]]
        scores = [
            graph_modularity(graph, np.where(labels == b, a, labels)) for a, b in pairs
        ]
        a, b = pairs[int(np.argmax(scores))]
        labels[labels == b] = a
    return labels


def test_merge_by_modularity_takes_the_best_union_at_each_step():
    rng = np.random.default_rng(1)
    graph = scipy.sparse.csr_matrix(_random_weights(rng, 60, 0.2))
    labels = rng.permutation(np.arange(60) % 9)
    merged = merge_by_modularity(graph, labels, 3)
    expected = _greedy_by_brute_force(graph, labels, 3)
    assert set(merged) == {0, 1, 2}
    # The same partition, whatever the names of its clusters.
    assert cluster_accuracy(expected, merged) == 1.0
    # Every row of a small cluster moved with the whole of it.
    for cluster in range(9):
        assert np.unique(merged[labels == cluster]).size == 1


def test_merge_by_modularity_ignores_labels_without_rows():
    # k-means over-clustering fewer distinct points than it asks for leaves
    # empty clusters; before, they took merges, and a real cluster was merged
    # for each (here: 2 clusters left, not 3).
    rng = np.random.default_rng(1)
    graph = scipy.sparse.csr_matrix(_random_weights(rng, 60, 0.2))
    labels = rng.permutation(np.arange(60) % 9)
    gaps = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11])[labels]  # 4, 7, 10 empty
    merged = merge_by_modularity(graph, gaps, 3)
    assert set(merged) == {0, 1, 2}
    np.testing.assert_array_equal(merged, merge_by_modularity(graph, labels, 3))


def test_merge_by_modularity_of_a_graph_without_links_warns_of_nothing():
    # Rows all alike: before, the gains were 0 / 0 (a RuntimeWarning) and the
    # merge followed NaNs.
    graph = scipy.sparse.csr_matrix((6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        merged = merge_by_modularity(graph, np.arange(6), 3)
    assert set(merged) == {0, 1, 2}


def test_merge_by_modularity_joins_the_halves_of_linked_groups():
    # Six cliques of six rows in a ring, one weak link between neighbours;
    # each clique starts cut in two halves.
    cliques = _cliques(6, 6).tolil()
    for c in range(6):
        a, b = 6 * c, (6 * c + 6) % 36
        cliques[a, b] = cliques[b, a] = 0.1
    graph = cliques.tocsr()
    halves = np.arange(36) // 3
    cliques_labels = np.arange(36) // 6
    merged = merge_by_modularity(graph, halves, 6)
    assert cluster_accuracy(cliques_labels, merged) == 1.0
    # Down to three clusters, neighbouring cliques pair up, not distant ones.
    pairs = merge_by_modularity(graph, halves, 3)[::6]
    for c in range(6):
        assert pairs[c] in (pairs[(c + 1) % 6], pairs[c - 1])
    # Nothing to merge: the partition comes back unchanged.
    np.testing.assert_array_equal(
        merge_by_modularity(graph, cliques_labels, 6), cliques_labels
    )


def test_neighbor_graph_of_distinct_rows_is_the_fuzzy_graph():
    X, _ = make_blobs(90, centers=3, random_state=0)
    graph = neighbor_graph(X)
    assert graph.nodes is None
    assert abs(graph.weights - fuzzy_neighbor_graph(X)).max() == 0


def test_the_other_symmetrizations_weigh_the_same_links_differently():
    # Rows of very different spread: a sparse row's neighbours in a dense
    # group need not count it among theirs, so some links are one-sided.
    X, _ = make_blobs(120, centers=2, cluster_std=[0.3, 3.0], random_state=0)
    union = fuzzy_neighbor_graph(X)
    mean = fuzzy_neighbor_graph(X, symmetrize="mean")
    binary = fuzzy_neighbor_graph(X, symmetrize="binary")
    pattern = union.copy()
    pattern.data[:] = 1.0
    # The same links, the union's weight on each, 1 on each, or the mean of
    # the two directed weights a and b: (a + b) / 2 <= a + b - ab <= a + b.
    assert abs(binary - pattern).max() == 0
    assert abs((mean != 0).astype(float) - pattern).max() == 0
    assert (mean - union).max() <= 1e-12 and (union - 2 * mean).max() <= 1e-12
    # A one-sided link (b = 0) weighs half as much in the mean.
    half = np.isclose(mean.toarray(), union.toarray() / 2) & (union.toarray() > 0)
    assert half.any()
    assert abs(mean - mean.T).max() == 0 and abs(binary - binary.T).max() == 0
    # Copies are counted the same way on each graph: three copies of every
    # row weigh each link of the distinct rows' graph 3 x 3 times.
    values = np.unique(X, axis=0)
    for symmetrize in ("mean", "binary"):
        graph = neighbor_graph(np.repeat(X, 3, axis=0), symmetrize=symmetrize)
        expected = 9 * fuzzy_neighbor_graph(values, symmetrize=symmetrize)
        assert abs(graph.weights - expected).max() <= 1e-9
    with pytest.raises(ValueError, match="symmetrize"):
        fuzzy_neighbor_graph(X, symmetrize="intersection")


def test_neighbor_graph_counts_copies_as_the_graph_of_the_rows():
    rng = np.random.default_rng(0)
    values, _ = make_blobs(60, centers=3, random_state=0)
    X = np.repeat(values, rng.integers(1, 30, len(values)), axis=0)
    graph = neighbor_graph(X)
    assert graph.weights.shape == (60, 60) and graph.nodes.shape == (len(X),)
    rows = rows_graph(X)
    # Any labels, including copies of one value in different clusters.
    labels = rng.integers(0, 4, len(X))
    for measure in (codelength_saving, graph_modularity):
        assert measure(graph, labels) == pytest.approx(measure(rows, labels))
    for got, expected in zip(
        cluster_volumes(graph, labels), cluster_volumes(rows, labels), strict=True
    ):
        np.testing.assert_allclose(got, expected)


def test_copies_do_not_cut_the_graph_into_groups_of_copies():
    # Every value 20 times: on the fuzzy graph of the rows, each row's
    # neighbours are its own copies, every partition that keeps copies
    # together leaves nothing between clusters, and the saving of any such
    # partition is the entropy of its sizes. Counted as copies, the values
    # keep their links, and the measures are those of the distinct rows.
    values, groups = make_blobs(60, centers=3, random_state=0)
    X, labels = np.repeat(values, 20, axis=0), np.repeat(groups, 20)
    scrambled = np.repeat(np.random.default_rng(0).permutation(groups), 20)
    naive = fuzzy_neighbor_graph(X)
    assert codelength_saving(naive, labels) == pytest.approx(np.log2(3))
    assert codelength_saving(naive, scrambled) == pytest.approx(np.log2(3))
    graph = neighbor_graph(X)
    assert codelength_saving(graph, labels) == pytest.approx(
        codelength_saving(fuzzy_neighbor_graph(values), groups)
    )
    assert codelength_saving(graph, scrambled) < 0 < codelength_saving(graph, labels)
    assert graph_modularity(graph, labels) == pytest.approx(
        graph_modularity(fuzzy_neighbor_graph(values), groups)
    )


def test_merge_by_modularity_on_copies_merges_as_on_the_graph_of_the_rows():
    rng = np.random.default_rng(1)
    values, _ = make_blobs(40, centers=4, random_state=1)
    X = np.repeat(values, rng.integers(1, 20, len(values)), axis=0)
    fine = KMeans(12, n_init=1, random_state=0).fit_predict(X)
    merged = merge_by_modularity(neighbor_graph(X), fine, 4)
    np.testing.assert_array_equal(merged, merge_by_modularity(rows_graph(X), fine, 4))
    assert np.unique(merged).size == 4


def test_rows_that_are_all_copies_of_one_prefer_no_partition():
    graph = neighbor_graph(np.ones((6, 2)))
    assert graph.weights.shape == (1, 1) and graph.weights.nnz == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert codelength_saving(graph, [0, 0, 0, 1, 1, 1]) == 0.0
        assert graph_modularity(graph, [0, 0, 0, 1, 1, 1]) == 0.0


def test_cuts_at_most_one_link_when_each_separate_group_lies_in_one_cluster():
    centers = [[0, 0], [20, 0], [0, 20]]
    X, groups = make_blobs(90, centers=centers, cluster_std=0.5, random_state=0)
    graph = fuzzy_neighbor_graph(X)
    assert cuts_at_most_one_link(graph, groups)
    # Two groups in one cluster leave nothing between clusters either.
    assert cuts_at_most_one_link(graph, np.minimum(groups, 1))
    moved = groups.copy()
    moved[0] = (moved[0] + 1) % 3
    assert not cuts_at_most_one_link(graph, moved)
    # Counted as copies, as on the graph of the rows: one copy of a value in
    # another cluster than its other copies is cut from their neighbours.
    X, labels = np.repeat(X, 3, axis=0), np.repeat(groups, 3)
    split = labels.copy()
    split[0] = (split[0] + 1) % 3
    for copies in (neighbor_graph(X), rows_graph(X)):
        assert cuts_at_most_one_link(copies, labels)
        assert not cuts_at_most_one_link(copies, split)
    # Rows without a link between them are not separate groups.
    assert not cuts_at_most_one_link(
        neighbor_graph(np.ones((6, 2))), [0, 0, 0, 1, 1, 1]
    )


def _two_triangles(*bridges):
    """Two triangles of unit links, joined by links of the weights
    ``bridges`` (from rows 2, 1, 0 of the first to rows 3, 4, 5)."""
    edges = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]
    ends = [(2, 3), (1, 4), (0, 5)][: len(bridges)]
    rows, cols = zip(*edges, *ends, strict=True)
    weights = scipy.sparse.coo_matrix(
        ([1.0] * 6 + list(bridges), (rows, cols)), shape=(6, 6)
    ).tocsr()
    return weights + weights.T


@pytest.mark.parametrize(
    "bridges, separate",
    [
        # UMAP's fuzzy weight of a far neighbour can be as small as 1e-30.
        ((1e-30,), True),
        ((1e-6,), True),
        # One link of the largest weight, or several lighter ones together.
        ((1.0,), True),
        ((0.5, 0.5), True),
        ((0.5, 0.6), False),
        ((1.0, 1e-3), False),
    ],
)
def test_cuts_at_most_one_link_resolves_a_cut_to_one_link(bridges, separate):
    graph = _two_triangles(*bridges)
    assert cuts_at_most_one_link(graph, [0, 0, 0, 1, 1, 1]) == separate
    # A cut through a triangle crosses two unit links.
    assert not cuts_at_most_one_link(graph, [0, 0, 1, 1, 1, 1])


def test_one_link_weight_counts_the_fewest_copies_on_each_side():
    graph = _two_triangles(1.0)
    np.testing.assert_array_equal(one_link_weight(graph, [5, 5, 5, 7, 7, 7]), [1, 1])
    np.testing.assert_array_equal(
        one_link_weight(graph, [0, 0, 0, 1, 1, 1], 0.5), [0.5, 0.5]
    )
    # Values 0 and 1 twice and 2 once in one cluster, 9 three times in the
    # other: a link between the clusters joins at least one copy (of 2) to
    # three (of 9).
    X = np.repeat([[0.0], [1.0], [2.0], [9.0]], [2, 2, 1, 3], axis=0)
    labels = np.repeat([0, 0, 0, 1], [2, 2, 1, 3])
    np.testing.assert_array_equal(one_link_weight(neighbor_graph(X), labels), [3, 3])


@pytest.mark.parametrize("measure", [codelength_saving, graph_modularity])
def test_a_partition_scores_the_same_however_its_clusters_are_numbered(measure):
    # init="auto" keeps the first candidate among those of equal score, and
    # two candidates are often one partition numbered differently: its score
    # must not depend on the numbering, to the last bit, or the order in which
    # the clusters' terms are added decides which candidate is kept.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    X[100:] = X[:50]  # copies of rows, for a RowGraph with nodes
    graphs = [
        scipy.sparse.csr_matrix(_random_weights(rng, 150, 0.2)),
        neighbor_graph(X),
    ]
    labels = rng.integers(0, 13, 150)
    for graph in graphs:
        score = measure(graph, labels)
        for _ in range(30):
            renumbered = rng.permutation(13)[labels]
            assert measure(graph, renumbered) == score
