"""Which label-free criterion picks the best start among init="auto"'s
candidates? The map equation's saving (the default's) against three others,
and against itself on four other graphs, on the same candidate partitions.

Run from the repository root, for example::

    python -m benchmarks.start_criteria --datasets digits uci_segment \\
        unequal_blobs --seeds 0 1 2 3 4 --data-dir ../shared/datasets

For each data set and seed, the data set is pretrained as
``DECClusterer(n_clusters)`` does with its defaults (``max_iter=0``;
``--cache-dir`` keeps the pretraining for a rerun), and
:func:`skdec._initialization.auto_candidates` builds exactly the candidate
partitions ``init="auto"`` would: k-means in the embedding, k-means on the
input, and every k-means run in UMAP's map of the embedding, with its merged
over-clusterings. Each criterion, computed on the neighbour graph of the
input that judges the default's start
(:func:`skdec._modularity.neighbor_graph`), picks one:

- ``map_equation``: the bits per step by which the partition shortens the
  description of a random walk on the graph, highest
  (:func:`skdec._modularity.codelength_saving`; what ``init="auto"`` keeps,
  except that since 2026-12-05 a partition that no link of the graph
  crosses wins outright there, and since 2026-12-07 one that no more than
  one link joins a cluster to the others,
  :func:`skdec._initialization.start_criterion`);
- ``modularity``: Newman's modularity, highest (what ``init="auto"`` kept
  until 2026-12-03);
- ``conductance``: the mean over clusters of the share of a cluster's link
  weight that leaves it, lowest (:func:`skdec._n_clusters.mean_conductance`);
- ``coverage``: the share of all link weight that stays inside clusters,
  highest;
- ``map_equation_mean`` and ``map_equation_knn``: the map equation's saving
  on the same neighbours with the two directed weights of a link averaged
  instead of joined by UMAP's fuzzy union (a link only one row counts
  among its neighbours weighs half as much), or every link weighing 1 (the
  plain symmetric k-nearest-neighbour graph); see
  :func:`skdec._modularity.fuzzy_neighbor_graph`'s ``symmetrize``;
- ``map_equation_global``: the map equation's saving on the same links
  weighted with one Gaussian bandwidth for all rows
  (:func:`global_gaussian_graph`), which keeps the density that UMAP's
  weights, scaled row by row, leave out: a cut through a sparse region
  crosses light links;
- ``map_equation_k30``: the map equation's saving on UMAP's fuzzy union
  with 30 neighbours per row instead of 15, a coarser view of the same
  rows;
- ``map_equation_null``: the default's score (the map equation on the
  union, a partition that no link crosses winning outright) less the best
  saving that the candidate's kind of start (k-means in the embedding, on
  the input, or UMAP's runs) reaches on the same rows with each column
  shuffled on its own (:func:`null_savings`, one draw): a kind that finds
  clusters in any data, or proposes more partitions, is not paid for it;
- ``kinds_own``, ``umap_mode`` and ``stablest_kind``: the default's score
  among one candidate per kind of start (UMAP's the run that ``init="umap"``
  with ``umap_merge=True`` keeps, or the partition its runs return most
  often), or among the candidates of the kind whose single k-means runs
  agree most (:func:`kind_picks`): where UMAP's map proposes some sixty
  partitions and each k-means start one, the best score of all favours
  UMAP's.

The table gives, per data set, the cluster accuracy of each criterion's pick
on the judged rows (mean over seeds) and which kind of start it picked, with
the accuracy of the best candidate for reference (which no label-free rule can
know); "–" where the records predate a criterion. The last column is a
diagnosis, not a criterion: the map equation's saving of the class labelling
itself on the same graph and rows, beside that of the map equation's pick
(means over seeds). Where the classes save much less than the pick, no start
the map equation prefers can be the classes, and the miss is its notion of a
cluster, not the choice among candidates. ``--class-savings`` adds that
saving to the records of ``--out-json`` without fitting (it needs the data
set cut to the same ``--max-rows`` as the runs). Labels are used for nothing
but the number of clusters (the class count) and these accuracies. Larger
data sets are first cut to ``--max-rows`` rows (seed 12345). ``--out-json``
keeps the records (with ``--merge``, the file's records of other data sets
and seeds are kept, and those this run makes replace theirs; the file must
exist). It is written after each data set and seed, so that a run stopped
part way keeps what it made. Runs side by side each write their own
``--out-json``; ``--merge-from A.json B.json --out-json main.json`` then puts
their records in place of those of the same data sets and seeds in
``main.json`` and lists their runs (it runs nothing). ``--out-md`` writes
the table between markers, ``--render-only`` writes it again from the
records.
"""

import argparse
import collections
import functools
import os
import statistics
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from benchmarks.accuracy import (  # noqa: E402
    DATASETS,
    DEFAULT_DATA_DIR,
    invocation_metadata,
    load_dataset,
)
from benchmarks.n_clusters import (  # noqa: E402
    invocation_lines,
    quiet,
    read_records,
    replace_records,
    require_records,
    save_records,
    show_table,
    subsample,
)
from skdec import DECClusterer, cluster_accuracy  # noqa: E402
from skdec._estimator import fit_seed  # noqa: E402
from skdec._initialization import (  # noqa: E402
    _sample_rows,
    auto_candidates,
    auto_judged_rows,
    best_map_partition,
    map_partitions,
    start_criterion,
)
from skdec._modularity import (  # noqa: E402
    N_NEIGHBORS,
    SYMMETRIZATIONS,
    cluster_volumes,
    codelength_saving,
    graph_modularity,
    neighbor_graph,
    row_graph,
)
from skdec._n_clusters import mean_conductance  # noqa: E402

MD_BEGIN = "<!-- benchmarks.start_criteria: begin (generated, do not edit) -->"
MD_END = "<!-- benchmarks.start_criteria: end -->"


def coverage(graph, labels):
    """The share of the link weight of ``graph`` inside the clusters."""
    volume, inside = cluster_volumes(graph, labels)
    return float(inside.sum() / max(volume.sum(), np.finfo(float).tiny))


def global_gaussian_graph(X, n_neighbors=N_NEIGHBORS):
    """The neighbour graph of the rows of ``X`` with one bandwidth for all.

    The same links as :func:`skdec._modularity.neighbor_graph` (each
    distinct row to its ``n_neighbors - 1`` nearest other distinct rows,
    either way, weighted by the copies; :func:`skdec._modularity.row_graph`),
    but weighted ``exp(-d**2 / s**2)``, with ``s`` the median over the
    distinct rows of the distance to the farthest of those neighbours: a link
    across a sparse region weighs less than one inside a dense region, where
    UMAP's fuzzy weights give every row's nearest neighbour weight 1 whatever
    the density. A link too long for that weight to be a positive float
    keeps the smallest positive one, so that no row loses its links; one
    distinct row gives a graph without links.
    """

    def weights(rows):
        n_rows = rows.shape[0]
        k = max(1, min(n_neighbors, n_rows) - 1)
        distance, neighbor = NearestNeighbors(n_neighbors=k).fit(rows).kneighbors()
        bandwidth = max(float(np.median(distance[:, -1])), np.finfo(float).tiny)
        graph = scipy.sparse.csr_matrix(
            (
                # At least the smallest positive weight: a far row keeps its
                # links.
                np.maximum(
                    np.exp(-((distance / bandwidth) ** 2)), np.finfo(float).tiny
                ).ravel(),
                (np.repeat(np.arange(n_rows), k), neighbor.ravel()),
            ),
            shape=(n_rows, n_rows),
        )
        return graph.maximum(graph.T).tocsr()

    return row_graph(X, weights)


#: ``{name: graph(X)}``: the graphs of the judged rows the criteria are
#: computed on; "union" is the default's.
GRAPHS = {
    **{
        symmetrize: functools.partial(neighbor_graph, symmetrize=symmetrize)
        for symmetrize in SYMMETRIZATIONS
    },
    "global": global_gaussian_graph,
    "union30": functools.partial(neighbor_graph, n_neighbors=30),
}
#: ``{name: (criterion(graph, labels), higher is better, graph)}``, with
#: ``graph`` a key of :data:`GRAPHS`.
CRITERIA = {
    "map_equation": (codelength_saving, True, "union"),
    "modularity": (graph_modularity, True, "union"),
    "conductance": (mean_conductance, False, "union"),
    "coverage": (coverage, True, "union"),
    "map_equation_mean": (codelength_saving, True, "mean"),
    "map_equation_knn": (codelength_saving, True, "binary"),
    "map_equation_global": (codelength_saving, True, "global"),
    "map_equation_k30": (codelength_saving, True, "union30"),
}


#: Draws of the null of :func:`null_savings` per data set and seed.
NULL_DRAWS = 1


def shuffled_columns(X, rng):
    """``X`` with each column shuffled on its own: the same values per
    column, with whatever ties the columns together broken."""
    return np.column_stack([rng.permutation(column) for column in np.asarray(X).T])


def null_savings(judged, encode, n_clusters, n_init, seed, draws=NULL_DRAWS):
    """``{kind: saving}``: the best map-equation saving that each kind of
    candidate of ``init="auto"`` reaches on the judged rows with their columns
    shuffled (:func:`shuffled_columns`), on the graph of those rows, as the
    mean over ``draws`` draws; ``encode`` maps rows to the pretrained
    embedding. A kind of start that finds clusters in any data, or that
    proposes many partitions (UMAP's runs) where another proposes one, saves
    more on data without clusters; this is what it saves there."""
    rng = np.random.default_rng([seed, 31])
    best = collections.defaultdict(list)
    for _ in range(draws):
        shuffled = shuffled_columns(judged, rng)
        found = auto_candidates(
            shuffled, encode(shuffled), n_clusters, n_init=n_init, seed=seed
        )
        candidates, sample = found.candidates, found.sample
        judge = neighbor_graph(_sample_rows(shuffled, sample))
        kinds = {}
        for kind, labels, _ in candidates:
            kinds[kind] = max(
                kinds.get(kind, -np.inf), codelength_saving(judge, labels)
            )
        for kind, saving in kinds.items():
            best[kind].append(saving)
    return {kind: statistics.fmean(savings) for kind, savings in best.items()}


#: The columns of :func:`kind_picks`: the default's score among one candidate
#: per kind of start, or among the candidates of the kind whose runs agree
#: most.
KIND_COLUMNS = ("kinds_own", "umap_mode", "stablest_kind")
#: The table's columns: :data:`CRITERIA`, then the default's score less the
#: null of :func:`null_savings`, then :data:`KIND_COLUMNS`.
COLUMNS = [*CRITERIA, "map_equation_null", *KIND_COLUMNS]


def _same_partition_key(labels):
    """A key equal for two labellings that differ only in the clusters'
    names: the labels renumbered in order of first appearance."""
    labels = np.asarray(labels)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.ravel()].astype(np.int64).tobytes()


def mean_agreement(partitions):
    """The mean adjusted Rand index over the pairs of ``partitions``."""
    pairs = [
        adjusted_rand_score(partitions[i], partitions[j])
        for i in range(len(partitions))
        for j in range(i + 1, len(partitions))
    ]
    return statistics.fmean(pairs)


def most_frequent_partition(partitions, score):
    """The partition of ``partitions`` found most often up to the clusters'
    names, ties to the higher ``score(labels)``, then to the first."""
    counts = collections.Counter(_same_partition_key(p) for p in partitions)
    return max(partitions, key=lambda p: (counts[_same_partition_key(p)], score(p)))


def stablest_kind(runs):
    """The key of ``runs`` (``{kind: [labels of each run]}``) whose runs
    agree most (:func:`mean_agreement`), ties to the first."""
    return max(runs, key=lambda kind: mean_agreement(runs[kind]))


def kind_picks(X, Z, found, judge, n_clusters, n_init, seed):
    """``{column: (kind, labels of the judged rows)}`` for
    :data:`KIND_COLUMNS`, on the candidates ``found`` of
    :func:`skdec._initialization.auto_candidates` (``X`` and ``Z``: every
    row, ``seed`` the fit's).

    UMAP's map proposes some sixty partitions where each k-means start
    proposes one, and the default keeps the best score of all. These columns
    let each kind of start put forward one partition, or let the kinds'
    own runs decide which kind is judged:

    - ``kinds_own``: each kind's own pick, the k-means starts' (lowest
      inertia of ``n_init`` runs, as now) and the run of highest modularity on
      UMAP's graph of the embedding (ties to the lower inertia in the map),
      which ``init="umap"`` with ``umap_merge=True`` keeps; the default's
      score picks among the three;
    - ``umap_mode``: the k-means starts and the one partition (up to the
      clusters' names) that UMAP's runs return most often, ties to the higher
      default score; the default's score picks among the three;
    - ``stablest_kind``: the kind whose ``n_init`` single k-means runs (from
      the seeds of UMAP's runs; in the map, its runs without merging) agree
      most on the judged rows, by the mean adjusted Rand index of their
      pairs; the default's score picks among that kind's candidates (ties to
      the order of :data:`skdec._initialization.AUTO_CANDIDATES`).
    """
    candidates, sample = found.candidates, found.sample
    _, _, in_map = auto_judged_rows(X.shape[0], seed)

    def judged(labels):
        return labels if in_map is None else labels[in_map]

    def best_of(pool):
        return max(pool, key=lambda c: start_criterion(judge, c[1], n_clusters))

    kmeans_starts = [(kind, labels) for kind, labels, _ in candidates if kind != "umap"]
    umap_runs = [labels for kind, labels, _ in candidates if kind == "umap"]
    # The map and graph that UMAP's candidates were found in.
    mapped, graph = found.mapped, found.graph
    own = best_map_partition(mapped, graph, n_clusters, n_init, seed, merge=True)
    mode = most_frequent_partition(
        umap_runs, lambda labels: start_criterion(judge, labels, n_clusters)
    )
    run_seeds = np.random.default_rng([seed, 4]).integers(2**31 - 1, size=n_init)
    runs = {
        kind: [
            KMeans(n_clusters, n_init=1, random_state=int(s)).fit_predict(M)
            for s in run_seeds
        ]
        for kind, M in (
            ("kmeans", _sample_rows(Z, sample)),
            ("kmeans_input", _sample_rows(X, sample)),
        )
    }
    runs["umap"] = [
        judged(labels)
        for labels, _ in map_partitions(
            mapped, graph, n_clusters, n_init, seed, merge=False
        )
    ]
    stablest = stablest_kind(runs)
    return {
        "kinds_own": best_of([*kmeans_starts, ("umap", judged(own))]),
        "umap_mode": best_of([*kmeans_starts, ("umap", mode)]),
        "stablest_kind": best_of(
            [(kind, labels) for kind, labels, _ in candidates if kind == stablest]
        ),
    }


def pick(values, higher):
    """Position of the best of ``values`` (the first on ties)."""
    return int(np.argmax(values) if higher else np.argmin(values))


def _classes_saving(judge, y_judged):
    """The map equation's saving of the class labelling on the judge."""
    return codelength_saving(judge, np.unique(y_judged, return_inverse=True)[1])


def class_saving(X, y, seed):
    """The map equation's saving of the class labelling, on the graph and rows
    that ``init="auto"`` judges its candidates on (with ``random_state=seed``),
    as :func:`run_one` records it; no fit."""
    sample, _, _ = auto_judged_rows(len(X), fit_seed(seed))
    judge = neighbor_graph(_sample_rows(X, sample))
    return _classes_saving(judge, y if sample is None else y[sample])


def default_candidates(X, n_clusters, seed, cache_dir, params=None):
    """``(model, Z, candidates)``: ``X`` pretrained as
    ``DECClusterer(n_clusters, random_state=seed)`` does with its defaults
    (``max_iter=0``, the pretraining cached in ``cache_dir``; ``params``
    changes its parameters), its embedding ``Z``, and the candidates of
    ``init="auto"`` on it (:func:`skdec._initialization.auto_candidates`)."""
    settings = {"max_iter": 0, "init": "kmeans", "memory": cache_dir}
    with quiet():
        model = DECClusterer(
            n_clusters, random_state=seed, **settings | (params or {})
        ).fit(X)
    Z = model.transform(X)
    candidates = auto_candidates(
        X, Z, n_clusters, n_init=model.n_init, seed=fit_seed(seed)
    )
    return model, Z, candidates


def run_one(X, y, seed, cache_dir, params=None):
    """``{criterion: [kind, accuracy, value]}`` of each criterion's pick, the
    best candidate's accuracy and the classes' saving (:func:`class_saving`);
    ``params`` changes the pretraining's parameters."""
    n_clusters = int(np.unique(y).size)
    model, Z, found = default_candidates(X, n_clusters, seed, cache_dir, params)
    candidates, sample = found.candidates, found.sample
    judged = _sample_rows(X, sample)
    graphs = {
        graph: GRAPHS[graph](judged) for graph in {g for _, _, g in CRITERIA.values()}
    }
    judge = graphs["union"]
    y_judged = y if sample is None else y[sample]
    accuracy = [cluster_accuracy(y_judged, labels) for _, labels, _ in candidates]
    picks = {}
    for name, (criterion, higher, graph) in CRITERIA.items():
        values = [criterion(graphs[graph], labels) for _, labels, _ in candidates]
        best = pick(values, higher)
        picks[name] = [candidates[best][0], accuracy[best], float(values[best])]
    # The default's score (a partition that no link crosses wins outright)
    # less what the candidate's kind saves on the shuffled rows.
    null = null_savings(
        judged, model.transform, n_clusters, model.n_init, fit_seed(seed)
    )
    values = [
        start_criterion(judge, labels, n_clusters)[0] - null[kind]
        for kind, labels, _ in candidates
    ]
    best = pick(values, True)
    picks["map_equation_null"] = [
        candidates[best][0],
        accuracy[best],
        float(values[best]),
    ]
    by_kind = kind_picks(X, Z, found, judge, n_clusters, model.n_init, fit_seed(seed))
    for column, (kind, labels) in by_kind.items():
        picks[column] = [
            kind,
            cluster_accuracy(y_judged, labels),
            float(start_criterion(judge, labels, n_clusters)[0]),
        ]
    return picks, max(accuracy), _classes_saving(judge, y_judged)


def markdown(records, invocations=()):
    """Per data set: each criterion's mean accuracy and kinds picked."""
    by_data = collections.defaultdict(list)
    for record in records:
        by_data[record["dataset"]].append(record)
    lines = [
        "| data | seeds | "
        + " | ".join(COLUMNS)
        + f" | best candidate | {CLASSES_HEADER} |",
        "|---|---|" + "---|" * (len(COLUMNS) + 2),
    ]
    for name, group in by_data.items():
        cells = [name, ",".join(str(r["seed"]) for r in group)]
        for criterion in COLUMNS:
            if any(criterion not in r["picks"] for r in group):
                cells.append("–")
                continue
            picked = [r["picks"][criterion] for r in group]
            kinds = collections.Counter(kind for kind, *_ in picked)
            summary = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
            mean = statistics.fmean(acc for _, acc, *_ in picked)
            cells.append(f"{mean:.3f} ({summary})")
        cells.append(f"{statistics.fmean(r['best'] for r in group):.3f}")
        cells.append(_classes_cell(group))
        lines.append("| " + " | ".join(cells) + " |")
    if invocations:
        lines.append("")
    lines += invocation_lines(invocations)
    return "\n".join(lines)


CLASSES_HEADER = "saving of the classes (of the pick)"


def _classes_cell(group):
    """Mean saving of the class labelling, beside that of the map equation's
    pick; "–" where a record predates the field."""
    if any("class_saving" not in r for r in group):
        return "–"
    classes = statistics.fmean(r["class_saving"] for r in group)
    chosen = statistics.fmean(r["picks"]["map_equation"][2] for r in group)
    return f"{classes:.2f} ({chosen:.2f})"


def add_run_arguments(parser):
    """The options of a benchmark of the start: which data sets and seeds,
    where the data lies, the rows kept, the pretraining cache, the records."""
    parser.add_argument("--datasets", nargs="+", default=["digits"], choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--max-rows", type=int, default=10000)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out-json", default=None)


def runs(args):
    """``(name, X, y, seed, cache_dir)`` for each data set and seed of
    ``args`` (:func:`add_run_arguments`), the data cut to ``--max-rows``
    rows; without ``--cache-dir``, a scratch folder for the whole run."""
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.datasets:
            X, y = load_dataset(name, args.data_dir)
            X, y, _ = subsample(X, y, args.max_rows)
            for seed in args.seeds:
                yield name, X, y, seed, args.cache_dir or scratch


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(parser)
    parser.add_argument("--out-md", default=None)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write the table of the records in --out-json",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep --out-json's records of other data sets and seeds",
    )
    parser.add_argument(
        "--class-savings",
        action="store_true",
        help="fit nothing: add the saving of the class labelling to every "
        "record of --out-json (data from --data-dir, cut to --max-rows as the "
        "runs did)",
    )
    parser.add_argument(
        "--merge-from",
        nargs="+",
        metavar="JSON",
        default=None,
        help="run nothing: the records of these files (runs side by side, each "
        "with its own --out-json) replace those of the same data sets and seeds "
        "in --out-json, and their runs are listed",
    )
    args = parser.parse_args(argv)
    flags = ("render_only", "merge", "class_savings", "merge_from")
    require_records(parser, args, flags)
    if args.merge_from:
        records, invocations = read_records(args.out_json)
        for path in args.merge_from:
            more, their_runs = read_records(path)
            records = replace_records(records, more)
            invocations += [run for run in their_runs if run not in invocations]
        save_records(args.out_json, records, invocations)
    if args.class_savings:
        add_class_savings(args, argv)
    if args.render_only or args.class_savings or args.merge_from:
        render(*read_records(args.out_json), args.out_md)
        return
    # Read the records to merge into now, not after the fits.
    # A missing file is an error, not an empty one: a mistyped path would
    # otherwise write a table of this run's records alone.
    kept, invocations = read_records(args.out_json) if args.merge else ([], [])
    meta = invocation_metadata(argv, "benchmarks.start_criteria")
    invocations = [*invocations, meta]
    records = []
    for name, X, y, seed, cache_dir in runs(args):
        picks, best, classes = run_one(X, y, seed, cache_dir)
        records.append(
            {
                "dataset": name,
                "seed": seed,
                "picks": picks,
                "best": best,
                "class_saving": classes,
            }
        )
        print(name, seed, picks, f"best {best:.4f}", flush=True)
        # After each fit: a run stopped part way keeps what it made.
        save_records(args.out_json, replace_records(kept, records), invocations)
    render(replace_records(kept, records), invocations, args.out_md)


def add_class_savings(args, argv):
    """The ``--class-savings`` pass: each record of ``args.out_json`` gets the
    :func:`class_saving` of its data set and seed, and the pass is added to
    the runs listed."""
    records, invocations = read_records(args.out_json)
    data = {}
    for record in records:
        name = record["dataset"]
        if name not in data:
            X, y = load_dataset(name, args.data_dir)
            data[name] = subsample(X, y, args.max_rows)[:2]
        record["class_saving"] = class_saving(*data[name], record["seed"])
    meta = invocation_metadata(argv, "benchmarks.start_criteria")
    save_records(args.out_json, records, [*invocations, meta])


def render(records, invocations, out_md):
    """Print the table, and write it between the markers of ``out_md``."""
    show_table(markdown(records, invocations), out_md, MD_BEGIN, MD_END)


if __name__ == "__main__":
    main()
