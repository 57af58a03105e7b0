"""Would spectral clustering of the judge's graph be a good start for
``init="auto"``? A probe of one more candidate, not adopted.

Run from the repository root, for example::

    python -m benchmarks.spectral_start --datasets digits r_biopsy \\
        --seeds 0 1 2 --data-dir ../shared/datasets

For each data set and seed, the data set is pretrained as
``DECClusterer(n_clusters)`` does with its defaults (``max_iter=0``;
``--cache-dir`` keeps the pretraining), and
:func:`skdec._initialization.auto_candidates` builds the candidates of
``init="auto"``. Two more partitions of the judged rows are made by spectral
clustering (k-means, 20 restarts, on the rows of the first ``k`` eigenvectors
of the normalised Laplacian, each row scaled to length 1):

- ``spectral_input``: of the neighbour graph of the input, the very graph
  on which ``init="auto"`` judges its candidates
  (:func:`skdec._modularity.neighbor_graph`);
- ``spectral_embedding``: of the same kind of graph built on the pretrained
  embedding.

Each is added alone to the candidates, and the default's rule
(:func:`skdec._initialization.start_criterion`, highest wins) picks again.
Per data set the table gives the cluster accuracy on the judged rows (mean
over the seeds) of the default's pick, of the pick with each spectral
candidate added, and of each spectral candidate alone, with the number of
seeds on which the spectral candidate won. Labels are used for nothing but
the number of clusters and these accuracies. Larger data sets are first cut
to ``--max-rows`` rows (seed 12345), as in :mod:`benchmarks.start_criteria`.
``--out-json`` keeps one record per data set and seed.
"""

import argparse
import collections
import json
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from benchmarks.start_criteria import (  # noqa: E402
    add_run_arguments,
    default_candidates,
    runs,
)
from skdec import cluster_accuracy  # noqa: E402
from skdec._estimator import fit_seed  # noqa: E402
from skdec._initialization import _sample_rows, start_criterion  # noqa: E402
from skdec._modularity import neighbor_graph  # noqa: E402
from skdec._n_clusters import laplacian_spectrum  # noqa: E402

SPECTRAL = ("spectral_input", "spectral_embedding")


def spectral_labels(graph, n_clusters, seed):
    """Spectral clustering of ``graph``: k-means on its first ``n_clusters``
    Laplacian eigenvectors, each row scaled to length 1."""
    _, vectors = laplacian_spectrum(graph, n_clusters, seed)
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = vectors / np.maximum(length, 1e-12)
    return KMeans(n_clusters, n_init=20, random_state=seed).fit_predict(rows)


def run_one(X, y, seed, cache_dir, params=None):
    """The record of one data set and seed: ``{"default": [kind, accuracy,
    saving], name: [accuracy, saving, wins]}`` for each of :data:`SPECTRAL`;
    ``params`` changes the pretraining's parameters."""
    n_clusters = int(np.unique(y).size)
    _, Z, found = default_candidates(X, n_clusters, seed, cache_dir, params)
    candidates, sample = found.candidates, found.sample
    auto_seed = fit_seed(seed)
    judged, embedded = _sample_rows(X, sample), _sample_rows(Z, sample)
    y_judged = y if sample is None else y[sample]
    judge = neighbor_graph(judged)
    scores = [start_criterion(judge, labels, n_clusters) for _, labels, _ in candidates]
    best = max(range(len(candidates)), key=scores.__getitem__)
    kind, labels, _ = candidates[best]
    record = {"default": [kind, cluster_accuracy(y_judged, labels), scores[best][1]]}
    graphs = {"spectral_input": judge, "spectral_embedding": neighbor_graph(embedded)}
    for name in SPECTRAL:
        labels = spectral_labels(graphs[name], n_clusters, auto_seed)
        score = start_criterion(judge, labels, n_clusters)
        # Ties go to the default's candidates, which come first.
        wins = bool(score > scores[best])
        record[name] = [cluster_accuracy(y_judged, labels), score[1], wins]
    return record


def summary(records):
    """Lines of a Markdown table: per data set, the mean accuracies."""
    by_data = collections.defaultdict(list)
    for record in records:
        by_data[record["dataset"]].append(record)
    lines = [
        "| data | seeds | default | + spectral_input (wins) | "
        "+ spectral_embedding (wins) | spectral_input alone | "
        "spectral_embedding alone |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, group in by_data.items():
        default = statistics.mean(r["default"][1] for r in group)
        cells = []
        for spectral in SPECTRAL:
            picked = statistics.mean(
                r[spectral][0] if r[spectral][2] else r["default"][1] for r in group
            )
            wins = sum(r[spectral][2] for r in group)
            cells.append(f"{picked:.3f} ({wins})")
        alone = [statistics.mean(r[s][0] for r in group) for s in SPECTRAL]
        seeds = ",".join(str(r["seed"]) for r in group)
        lines.append(
            f"| {name} | {seeds} | {default:.3f} | {cells[0]} | {cells[1]} | "
            f"{alone[0]:.3f} | {alone[1]:.3f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    records = []
    for name, X, y, seed, cache_dir in runs(args):
        record = run_one(X, y, seed, cache_dir)
        records.append({"dataset": name, "seed": seed, **record})
        print(json.dumps(records[-1]), flush=True)
        if args.out_json:
            with open(args.out_json, "w") as out:
                json.dump(records, out, indent=1)
    print("\n".join(summary(records)))


if __name__ == "__main__":
    main()
