"""Does init="auto" prefer UMAP's starts because they were built on a graph
like the one that judges them? A probe: the kind of start judged on rows it
was not built on.

Run from the repository root, for example::

    python -m benchmarks.heldout_judge --datasets uci_ecoli uci_zoo \\
        --seeds 0 1 2 --data-dir ../shared/datasets

The default judges every candidate start (k-means in the embedding, k-means
on the input, the k-means runs in UMAP's map of the embedding) on the
neighbour graph of the input. UMAP's map follows a neighbour graph of the
embedding, which on a small table is nearly the input's, so its partitions
might win partly because they were fitted to the noise of the graph that
scores them. Here, for each data set and seed, pretrained as
``DECClusterer(n_clusters)`` does with its defaults (``--cache-dir`` keeps
the pretraining), the rows are split into two random halves
(:func:`halves`); the candidates are built on one half, as
:func:`skdec._initialization.auto_candidates` builds them, and extended to
the other half (the nearest k-means centre, or the vote of the 15 nearest
rows in the embedding for a UMAP run), where the default's criterion
(:func:`skdec._initialization.start_criterion`) scores them on that half's
own graph; then the halves swap. Each kind of start is ranked by its best
candidate's criterion, averaged over the two folds (a kind that fills fewer
clusters ranks below, as in the default), and the pick is the default's
best candidate of the kind ranked first (:func:`heldout_kind`). Only the
kind is chosen on held-out rows; the partition is the default's.

Data sets of at most 10,000 rows only (the default judges every row
there). Prints, per data set, the mean accuracy of the default's pick and of
this one, and the kinds picked; ``--out-json`` keeps the records.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from benchmarks.accuracy import invocation_metadata  # noqa: E402
from benchmarks.n_clusters import save_records  # noqa: E402
from benchmarks.start_criteria import (  # noqa: E402
    add_run_arguments,
    default_candidates,
    runs,
)
from skdec import cluster_accuracy  # noqa: E402
from skdec._estimator import fit_seed  # noqa: E402
from skdec._initialization import (  # noqa: E402
    AUTO_CANDIDATES,
    _nearest_centers,
    auto_candidates,
    candidate_rank,
)
from skdec._modularity import N_NEIGHBORS, neighbor_graph  # noqa: E402


def halves(n_samples, seed):
    """Two disjoint halves of ``range(n_samples)``, sorted, drawn with
    ``seed``."""
    order = np.random.default_rng([seed, 26]).permutation(n_samples)
    half = n_samples // 2
    return np.sort(order[:half]), np.sort(order[half:])


def _extended(kind, labels, centers, X, Z, built, judged):
    """The labels of the rows ``judged`` for a candidate built on the rows
    ``built``: the nearest k-means centre (on ``X`` for k-means on the input,
    else on ``Z``), or the vote of the nearest built rows in ``Z``."""
    if centers is not None:
        space = X if kind == "kmeans_input" else Z
        return _nearest_centers(space[judged], centers)
    vote = KNeighborsClassifier(min(N_NEIGHBORS, len(built)))
    return vote.fit(Z[built], labels).predict(Z[judged])


def fold_ranks(X, Z, n_clusters, n_init, seed, built, judged):
    """``{kind: (clusters filled, score, saving)}``: the best rank of each
    kind's candidates built on the rows ``built`` and judged on the graph of
    the rows ``judged``."""
    found = auto_candidates(X[built], Z[built], n_clusters, n_init=n_init, seed=seed)
    graph = neighbor_graph(X[judged].astype(np.float64))
    best = {}
    for kind, labels, centers in found.candidates:
        held_out = _extended(kind, labels, centers, X, Z, built, judged)
        rank = candidate_rank(graph, held_out, n_clusters)
        best[kind] = max(best.get(kind, rank), rank)
    return best


def heldout_kind(X, Z, n_clusters, n_init, seed):
    """``(kind, {kind: rank})``: the kind of start ranked first over the two
    folds of :func:`halves` (fewest clusters filled in either fold, then the
    mean score, then the mean saving)."""
    first, second = halves(len(X), seed)
    folds = [
        fold_ranks(X, Z, n_clusters, n_init, seed, first, second),
        fold_ranks(X, Z, n_clusters, n_init, seed, second, first),
    ]
    ranks = {
        kind: (
            min(fold[kind][0] for fold in folds),
            float(np.mean([fold[kind][1] for fold in folds])),
            float(np.mean([fold[kind][2] for fold in folds])),
        )
        for kind in AUTO_CANDIDATES
    }
    return max(AUTO_CANDIDATES, key=ranks.__getitem__), ranks


def run_one(X, y, seed, cache_dir, params=None):
    """The record of one data set and seed: the default's pick and this
    probe's, each ``[kind, accuracy]``, k-means on the input's accuracy and
    the kinds' held-out ranks."""
    n_clusters = int(np.unique(y).size)
    model, Z, found = default_candidates(X, n_clusters, seed, cache_dir, params)
    if found.sample is not None:
        raise ValueError("the probe judges every row: at most 10,000 rows")
    graph = neighbor_graph(np.asarray(X, dtype=np.float64))
    candidates = found.candidates
    ranks = [candidate_rank(graph, labels, n_clusters) for _, labels, _ in candidates]
    accuracy = [cluster_accuracy(y, labels) for _, labels, _ in candidates]
    default = max(range(len(candidates)), key=ranks.__getitem__)
    kind, kind_ranks = heldout_kind(X, Z, n_clusters, model.n_init, fit_seed(seed))
    of_kind = [i for i, (name, _, _) in enumerate(candidates) if name == kind]
    pick = max(of_kind, key=ranks.__getitem__)
    (kmeans_input,) = [i for i, c in enumerate(candidates) if c[0] == "kmeans_input"]
    return {
        "default": [candidates[default][0], accuracy[default]],
        "heldout": [kind, accuracy[pick]],
        "kmeans_input": accuracy[kmeans_input],
        "ranks": {name: list(rank) for name, rank in kind_ranks.items()},
    }


def summary(records):
    """One line per data set, and the mean change over them."""
    lines, changes = [], []
    for name in dict.fromkeys(r["dataset"] for r in records):
        of_data = [r for r in records if r["dataset"] == name]
        default = np.mean([r["default"][1] for r in of_data])
        heldout = np.mean([r["heldout"][1] for r in of_data])
        changes.append(heldout - default)
        kinds = [",".join(r[m][0] for r in of_data) for m in ("default", "heldout")]
        lines.append(
            f"{name}: default {default:.3f} ({kinds[0]}), held out "
            f"{heldout:.3f} ({kinds[1]}), k-means on the input "
            f"{np.mean([r['kmeans_input'] for r in of_data]):.3f}"
        )
    better = sum(c > 1e-9 for c in changes)
    worse = sum(c < -1e-9 for c in changes)
    lines.append(
        f"mean change over {len(changes)} data sets {np.mean(changes):+.4f}; "
        f"better on {better}, worse on {worse}"
    )
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    invocations = [invocation_metadata(argv, "benchmarks.heldout_judge")]
    records = []
    for name, X, y, seed, cache_dir in runs(args):
        record = {"dataset": name, "seed": seed, **run_one(X, y, seed, cache_dir)}
        records.append(record)
        print(name, seed, record["default"], record["heldout"], flush=True)
        save_records(args.out_json, records, invocations)
    print(summary(records))


if __name__ == "__main__":
    main()
