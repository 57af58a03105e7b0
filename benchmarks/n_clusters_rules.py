"""Other rules for choosing n_clusters, side by side with skdec's, from one
pretraining per data set and seed.

Run from the repository root, for example::

    python -m benchmarks.n_clusters_rules --data-dir ../shared/datasets \\
        --seeds 0 1 2 --max-rows 10000

It answers "would another label-free rule find the class count more often?"
without a full DEC fit per rule: each data set and seed is pretrained once
with the defaults (``DECClusterer(max_iter=0)``, whose encoder is then the
pretrained one), and every rule chooses among the same candidates
(``--n-clusters-range``, default 2 to 15) on the same ``X`` and embedding
``Z``. ``--cache-dir`` keeps the pretrained networks (the estimator's
``memory``) for a rerun; ``--dec-params`` (JSON) changes the pretraining.
The rules:

- ``skdec``: :func:`skdec._n_clusters.choose_n_clusters` on ``X`` and ``Z``,
  what ``n_clusters="auto"`` does;
- ``graph_Z``: the same score on the neighbour graph of ``Z`` instead of
  ``X`` (partitions from k-means on both and the graph's spectrum);
- ``graph_map``: the same score on the graph of UMAP's map of ``Z``
  (:func:`skdec._initialization.umap_view`, as ``init="umap"`` maps it, with
  as many dimensions as the largest candidate);
- ``eigengap``: the largest gap ``lambda_{k+1} - lambda_k`` of the normalised
  Laplacian of the graph of ``X``;
- ``hdbscan_map``: the number of clusters HDBSCAN finds in that UMAP map
  (``min_cluster_size`` 5% of the rows), clipped to the candidates;
- ``strength_map``: the prediction strength of Tibshirani and Walther
  (2005) in that map: the largest ``k`` whose strength is at least 0.8,
  their threshold (2 when none is);
- ``silhouette``: the baseline of :mod:`benchmarks.n_clusters`.

Every rule sees at most ``choose_n_clusters``' 5,000 sampled rows; larger data
sets are first cut to ``--max-rows`` rows (seed 12345). Labels are used for
nothing but the class count that the table compares with. The table (printed,
and written between markers to ``--out-md`` when given) has each rule's
choice per data set (the mode over seeds, the smallest on ties, and the
range) and, per rule, on how many data sets that mode is within one of the
class count; ``--render-only`` writes it again from the records of
``--out-json``.
"""

import collections
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.cluster import HDBSCAN, KMeans  # noqa: E402

from benchmarks.accuracy import (  # noqa: E402
    invocation_metadata,
    limit_threads,
    load_dataset,
)
from benchmarks.n_clusters import (  # noqa: E402
    argument_parser,
    dec_settings,
    most_common,
    quiet,
    silhouette_choice,
    subsample,
    write_section,
)
from skdec import DECClusterer  # noqa: E402
from skdec._initialization import umap_view  # noqa: E402
from skdec._modularity import fuzzy_neighbor_graph  # noqa: E402
from skdec._n_clusters import (  # noqa: E402
    MAX_ROWS,
    _sample,
    choose_n_clusters,
    laplacian_spectrum,
)

MD_BEGIN = "<!-- benchmarks.n_clusters_rules: begin (generated, do not edit) -->"
MD_END = "<!-- benchmarks.n_clusters_rules: end -->"
#: HDBSCAN's smallest cluster, as a fraction of the rows.
HDBSCAN_FRACTION = 0.05
#: Tibshirani and Walther's threshold on the prediction strength.
STRENGTH_THRESHOLD = 0.8
RULES = (
    "skdec",
    "graph_Z",
    "graph_map",
    "eigengap",
    "hdbscan_map",
    "strength_map",
    "silhouette",
)


def prediction_strength(M, k, seed):
    """Tibshirani and Walther's prediction strength of k-means with ``k``
    clusters on the rows of ``M``, averaged over both halves of one random
    split: for each cluster k-means finds in the test half, the share of its
    pairs of rows that the training half's centres also put together; the
    strength is the smallest share."""
    order = np.random.default_rng(seed).permutation(len(M))
    halves = M[order[: len(M) // 2]], M[order[len(M) // 2 :]]
    strengths = []
    for train, test in (halves, halves[::-1]):
        by_train = KMeans(k, n_init=4, random_state=seed).fit(train).predict(test)
        own = KMeans(k, n_init=4, random_state=seed).fit_predict(test)
        shares = []
        for cluster in range(k):
            counts = np.bincount(by_train[own == cluster])
            n = counts.sum()
            if n >= 2:
                shares.append((counts * (counts - 1)).sum() / (n * (n - 1)))
        strengths.append(min(shares))
    return float(np.mean(strengths))


def pretrained_embedding(X, seed, cache_dir, params=None):
    """The rows of ``X`` in the embedding of the default pretraining (with
    ``DECClusterer`` parameters ``params`` changed, if given)."""
    overrides = {"max_iter": 0, "init": "kmeans", "memory": cache_dir}
    # The defaults' schedule uses neither a step count nor max_iter.
    params = dec_settings("defaults", len(X), None, None, overrides | (params or {}))
    params["random_state"] = seed
    with quiet():
        model = DECClusterer(2, **params).fit(X)
    return model.transform(X)


def choices(X, Z, seed, candidates):
    """``{rule: k}`` for every rule of :data:`RULES`."""
    out = {
        "skdec": choose_n_clusters(X, Z, candidates, seed=seed).n_clusters,
        "graph_Z": choose_n_clusters(Z, X, candidates, seed=seed).n_clusters,
    }
    sample = _sample(X.shape[0], MAX_ROWS, seed)
    Xs, Zs = (X, Z) if sample is None else (X[sample], Z[sample])
    mapped, _ = umap_view(Zs, max(candidates), seed)
    out["graph_map"] = choose_n_clusters(mapped, Zs, candidates, seed=seed).n_clusters
    values, _ = laplacian_spectrum(fuzzy_neighbor_graph(Xs), max(candidates) + 1, seed)
    # values[k] is lambda_{k+1}.
    out["eigengap"] = max(candidates, key=lambda k: values[k] - values[k - 1])
    found = HDBSCAN(
        min_cluster_size=max(5, int(HDBSCAN_FRACTION * len(Xs))), copy=True
    ).fit_predict(mapped)
    out["hdbscan_map"] = int(np.clip(found.max() + 1, min(candidates), max(candidates)))
    strong = [
        k
        for k in candidates
        if prediction_strength(mapped, k, seed) >= STRENGTH_THRESHOLD
    ]
    out["strength_map"] = max(strong, default=min(candidates))
    out["silhouette"] = silhouette_choice(X, seed, candidates)[0]
    return {rule: int(k) for rule, k in out.items()}


def markdown(records, invocation=None):
    """The table: per data set each rule's mode (range), and the hit counts;
    then the run's date, machine, commit and command, when given."""
    by_data = collections.defaultdict(list)
    for record in records:
        by_data[record["dataset"]].append(record)
    lines = [
        "| data | classes | seeds | " + " | ".join(RULES) + " |",
        "|---|---|---|" + "---|" * len(RULES),
    ]
    hits = collections.Counter()
    for name, group in by_data.items():
        n_classes = group[0]["n_classes"]
        cells = []
        for rule in RULES:
            picks = [r["choices"][rule] for r in group]
            mode = most_common(picks)
            hit = abs(mode - n_classes) <= 1
            hits[rule] += hit
            cells.append(f"{mode} ({min(picks)}-{max(picks)}){' ✓' if hit else ''}")
        seeds = ",".join(str(r["seed"]) for r in group)
        lines.append(f"| {name} | {n_classes} | {seeds} | " + " | ".join(cells) + " |")
    lines.append(
        "| **within ±1 of the class count** | | | "
        + " | ".join(f"{hits[rule]}/{len(by_data)}" for rule in RULES)
        + " |"
    )
    if invocation is not None:
        lines.append(
            f"\n{invocation['date']}, {invocation['machine']}, commit "
            f"{invocation['commit']}: `{invocation['command']}`"
        )
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argument_parser(__doc__, seeds=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=10000)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument(
        "--dec-params", default="{}", help="JSON object of DECClusterer parameters"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out-json", default=None)
    parser.add_argument("--out-md", default=None)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write the table of the records in --out-json",
    )
    args = parser.parse_args(argv)
    if args.render_only and args.out_json is None:
        parser.error("--render-only reads the records of --out-json; give it")
    if args.render_only:
        saved = json.loads(Path(args.out_json).read_text())
        render(saved["records"], saved["invocation"], args.out_md)
        return
    if args.threads is not None:
        limit_threads(args.threads)
    meta = invocation_metadata(argv)
    meta["command"] = meta["command"].replace(
        "benchmarks.accuracy", "benchmarks.n_clusters_rules"
    )
    dec_params = json.loads(args.dec_params)
    smallest, largest = args.n_clusters_range
    candidates = list(range(smallest, largest + 1))
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or scratch
        for name in args.datasets:
            X, y = load_dataset(name, args.data_dir)
            X, y, _ = subsample(X, y, args.max_rows)
            usable = [k for k in candidates if k <= min(len(X), MAX_ROWS) - 2]
            for seed in args.seeds:
                Z = pretrained_embedding(X, seed, cache_dir, dec_params)
                picks = choices(X.astype(np.float64), Z, seed, usable)
                records.append(
                    {
                        "dataset": name,
                        "seed": seed,
                        "n_classes": int(np.unique(y).size),
                        "choices": picks,
                    }
                )
                print(name, seed, picks, flush=True)
    if args.out_json:
        Path(args.out_json).write_text(
            json.dumps({"invocation": meta, "records": records}, indent=1)
        )
    render(records, meta, args.out_md)


def render(records, invocation, out_md):
    """Print the table, and write it between the markers of ``out_md``."""
    table = markdown(records, invocation)
    print(table)
    if out_md:
        write_section(out_md, table, MD_BEGIN, MD_END)


if __name__ == "__main__":
    main()
