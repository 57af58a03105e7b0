"""Modularity of a partition, and the greedy merging of clusters by it."""

import warnings

import numpy as np
import pytest
import scipy.sparse

from skdec import cluster_accuracy
from skdec._modularity import graph_modularity, merge_by_modularity


def test_graph_modularity_matches_its_definition():
    rng = np.random.default_rng(0)
    weights = rng.random((30, 30)) * (rng.random((30, 30)) < 0.3)
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    labels = rng.integers(0, 3, 30)
    degree = weights.sum(axis=1)
    total = weights.sum()
    same = labels[:, None] == labels[None, :]
    expected = np.sum((weights - np.outer(degree, degree) / total) * same) / total
    got = graph_modularity(scipy.sparse.csr_matrix(weights), labels)
    assert got == pytest.approx(expected, abs=1e-12)
    # Two cliques without a link between them: the split along the cliques
    # scores 1/2, and cutting each clique scores lower.
    cliques = scipy.sparse.block_diag([np.ones((4, 4)) - np.eye(4)] * 2)
    assert graph_modularity(cliques, [0] * 4 + [1] * 4) == pytest.approx(0.5)
    assert graph_modularity(cliques, [0, 0, 1, 1] * 2) < 0.5
    # A graph without edges prefers no partition (and divides by nothing).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = scipy.sparse.csr_matrix((4, 4))
        assert graph_modularity(empty, [0, 0, 1, 1]) == 0.0


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
    weights = rng.random((60, 60)) * (rng.random((60, 60)) < 0.2)
    weights = np.triu(weights, 1)
    graph = scipy.sparse.csr_matrix(weights + weights.T)
    labels = rng.permutation(np.arange(60) % 9)
    merged = merge_by_modularity(graph, labels, 3)
    expected = _greedy_by_brute_force(graph, labels, 3)
    assert set(merged) == {0, 1, 2}
    # The same partition, whatever the names of its clusters.
    assert cluster_accuracy(expected, merged) == 1.0
    # Every row of a small cluster moved with the whole of it.
    for cluster in range(9):
        assert np.unique(merged[labels == cluster]).size == 1


def test_merge_by_modularity_joins_the_halves_of_linked_groups():
    # Six cliques of six rows in a ring, one weak link between neighbours;
    # each clique starts cut in two halves.
    cliques = scipy.sparse.block_diag([np.ones((6, 6)) - np.eye(6)] * 6).tolil()
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
