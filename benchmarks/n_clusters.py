"""How many clusters? skdec's label-free choice beside k-means + silhouette.

Run from the repository root, for example::

    python -m benchmarks.n_clusters --data-dir ../shared/datasets \\
        --seeds 0 1 2 3 4

For each data set and seed:

- **skdec**: ``DECClusterer(n_clusters="auto")``, which pretrains once,
  chooses the number of clusters with
  :func:`skdec._n_clusters.choose_n_clusters` on the scaled rows ``X`` and
  the embedding ``Z``, then self-trains DEC with that number of clusters.
- **baseline**: k-means on ``X`` (``n_init=10``) for every candidate, and the
  candidate of highest silhouette (on a random 5,000 rows above that).

Both choose among the same candidates (``--n-clusters-range``, default 2 to
15, both included).
Each record holds the class count, both choices, every candidate's score, the
cluster accuracy (:func:`skdec.cluster_accuracy`) of DEC's final labels at
skdec's choice and of k-means at the baseline's choice, and the times.
Labels are used for nothing but these accuracies.

The DEC settings (``--schedule``): ``defaults`` (default) is
``DECClusterer``'s own defaults; ``benchmark`` is ``benchmarks.accuracy``'s
``dec`` configuration (about ``--pretrain-steps`` gradient steps of
pretraining, ``--max-iter`` of self-training; the paper's network from 1,000
rows on, ``(64, 64)`` below). ``--dec-params`` (JSON) overrides either.
``--max-rows N`` keeps N rows of each larger data set, drawn with seed 12345
(MNIST's 70,000 rows, say); the table says so.

The records go to ``--out-json`` (by default the repository's records file:
give a scratch file to try a command without changing them; a later run
replaces only the records it reruns); the markdown table, regenerated from
the whole file, is printed and written to ``--out-md`` when given, between
the markers :data:`MD_BEGIN` and :data:`MD_END` (the rest of that file is
kept); ``--render-only`` runs
nothing and writes the table of the records already in ``--out-json``, and
``--merge FILE ...`` runs nothing but adds the records of runs made into
other files (with their invocations) to ``--out-json``, replacing its
records of the same data sets and seeds (and of the same data sets made with
other settings), and writes the table: start each
side file empty (a copy of ``--out-json`` would bring back its old records
over newer ones), and merge when no run is writing to ``--out-json`` (an
invocation that owns no record yet is dropped). Per
data set: rows, classes, skdec's choice over seeds (mode and range), the
baseline's, whether each mode is within one of the class count, and the
mean accuracies.
"""

import argparse
import collections
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import silhouette_score  # noqa: E402

from benchmarks._common import (  # noqa: E402
    check_one_setting,
    without_rows_made_otherwise,
)
from benchmarks.accuracy import (  # noqa: E402
    DATASETS,
    DEFAULT_DATA_DIR,
    LATER_PACKAGED_TABLES,
    MADE_TABLES,
    PACKAGED_TABLES,
    PROBES,
    SHAPES,
    UNSEEN,
    _replace_section,
    dec_params,
    invocation_metadata,
    limit_threads,
    load_dataset,
    package_list,
)
from skdec import DECClusterer, cluster_accuracy  # noqa: E402
from skdec._n_clusters import DEFAULT_CANDIDATES, runner_up  # noqa: E402

SILHOUETTE_ROWS = 5000
MD_BEGIN = "<!-- benchmarks.n_clusters: begin (generated, do not edit) -->"
MD_END = "<!-- benchmarks.n_clusters: end -->"


def subsample(X, y, max_rows):
    """At most ``max_rows`` rows, drawn with seed 12345 (the same every run)."""
    if max_rows is None or X.shape[0] <= max_rows:
        return X, y, False
    keep = np.sort(np.random.default_rng(12345).choice(X.shape[0], max_rows, False))
    return X[keep], y[keep], True


def dec_settings(schedule, n_samples, pretrain_steps, max_iter, overrides):
    """Keyword arguments of ``DECClusterer`` (without n_clusters, random_state)."""
    if schedule == "defaults":
        params = {}
    else:
        params = dec_params(n_samples, pretrain_steps, max_iter, {})
        if n_samples < 1000:
            params["hidden_layer_sizes"] = (64, 64)
    params.update(overrides)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        # Non-convergence within max_iter is not what this benchmark measures.
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def skdec_choice(X, seed, params, candidates):
    """skdec's number of clusters, its scores, and DEC's labels with it."""
    with quiet():
        model = DECClusterer(
            "auto",
            n_clusters_range=(min(candidates), max(candidates)),
            random_state=seed,
            **params,
        ).fit(X)
    return model.n_clusters_, model.n_clusters_scores_, model.labels_


def kmeans_partitions(X, seed, candidates):
    """``{k: labels}``: k-means on X (``n_init=10``) for each candidate."""
    return {
        k: KMeans(k, n_init=10, random_state=seed).fit_predict(X) for k in candidates
    }


def silhouette_choice(X, seed, candidates, partitions=None):
    """k-means on X for each candidate; the one of highest silhouette.
    ``partitions`` (of :func:`kmeans_partitions`) saves computing them."""
    if partitions is None:
        partitions = kmeans_partitions(X, seed, candidates)
    sample = min(X.shape[0], SILHOUETTE_ROWS)
    scores = {
        k: float(
            silhouette_score(X, partitions[k], sample_size=sample, random_state=seed)
        )
        for k in candidates
    }
    best = max(candidates, key=lambda k: (scores[k], -k))
    return best, scores, partitions[best]


def run_one(name, X, y, seed, params, candidates):
    started = time.perf_counter()
    k, scores, labels = skdec_choice(X, seed, params, candidates)
    skdec_seconds = time.perf_counter() - started
    started = time.perf_counter()
    k_base, base_scores, base_labels = silhouette_choice(X, seed, candidates)
    base_seconds = time.perf_counter() - started
    return {
        "dataset": name,
        "seed": seed,
        "n_samples": int(X.shape[0]),
        "n_classes": int(np.unique(y).size),
        "skdec": {
            "n_clusters": int(k),
            "runner_up": runner_up(scores, k),
            "scores": {str(c): float(s) for c, s in scores.items()},
            "acc": cluster_accuracy(y, labels),
            "seconds": round(skdec_seconds, 1),
        },
        "silhouette": {
            "n_clusters": int(k_base),
            "runner_up": runner_up(base_scores, k_base),
            "scores": {str(c): float(s) for c, s in base_scores.items()},
            "acc": cluster_accuracy(y, base_labels),
            "seconds": round(base_seconds, 1),
        },
        "params": {
            k: list(v) if isinstance(v, tuple) else v for k, v in params.items()
        },
    }


def load_results(path):
    path = Path(path)
    if path.is_file():
        return json.loads(path.read_text())
    return {"invocations": [], "records": []}


#: The fields that make a row of the table, and the settings its records
#: must share (:func:`benchmarks._common.check_one_setting`).
ROW_SETTINGS = (("dataset",), ("params", "max_rows", "n_samples"))


def replace_records(records, new):
    """``records`` less those of the data sets and seeds in ``new`` and those
    of its data sets made with other settings (parameters, rows), then
    ``new``."""
    rerun = {(r["dataset"], r["seed"]) for r in new}
    records = without_rows_made_otherwise(records, new, *ROW_SETTINGS)
    return [r for r in records if (r["dataset"], r["seed"]) not in rerun] + list(new)


def merge_results(results, other):
    """``results`` with the records of ``other`` (another records file's
    contents) in place of its own of the same data sets and seeds (and of
    the same data sets made with other settings), and the invocations that
    own a record kept, in the order they ran."""
    records = replace_records(results["records"], other["records"])
    owners = {r.get("invocation") for r in records}
    invocations = {}
    for invocation in results["invocations"] + other["invocations"]:
        if invocation["id"] in owners:
            invocations.setdefault(invocation["id"], invocation)
    ordered = sorted(invocations.values(), key=lambda i: i["id"])
    return {"invocations": ordered, "records": records}


def merge_record(path, record):
    """Add ``record`` to the JSON file, replacing the same data set and seed
    (and the data set's records made with other settings); the invocations
    that no longer own a record are dropped."""
    results = load_results(path)
    results["records"] = replace_records(results["records"], [record])
    owners = {r.get("invocation") for r in results["records"]}
    results["invocations"] = [i for i in results["invocations"] if i["id"] in owners]
    Path(path).write_text(json.dumps(results, indent=1))


def most_common(ks):
    """The most frequent of ``ks``, the smallest on ties."""
    counts = collections.Counter(ks)
    return min(counts, key=lambda k: (-counts[k], k))


def summarize(records):
    """Per data set: mode and range of each choice, hits, mean accuracies."""
    by_data = collections.defaultdict(list)
    for r in records:
        by_data[r["dataset"]].append(r)
    rows = []
    for name in sorted(by_data, key=lambda d: DATASETS.index(d)):
        runs = sorted(by_data[name], key=lambda r: r["seed"])
        classes = runs[0]["n_classes"]
        row = {"dataset": name, "n_samples": runs[0]["n_samples"], "classes": classes}
        for method in ("skdec", "silhouette"):
            ks = [r[method]["n_clusters"] for r in runs]
            mode = most_common(ks)
            row[method] = {
                "mode": mode,
                "min": min(ks),
                "max": max(ks),
                "hit": abs(mode - classes) <= 1,
                "seed_hits": sum(abs(k - classes) <= 1 for k in ks),
                "acc": float(np.mean([r[method]["acc"] for r in runs])),
                "seeds": len(runs),
            }
        rows.append(row)
    return rows


def markdown(results):
    check_one_setting(results["records"], *ROW_SETTINGS)
    rows = summarize(results["records"])
    lines = [
        "| data set | rows | classes | skdec: k mode [range] | within ±1 "
        "| ACC at skdec's k | k-means + silhouette: k mode [range] | within ±1 "
        "| ACC at its k | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, b = r["skdec"], r["silhouette"]
        lines.append(
            f"| {r['dataset']} | {r['n_samples']} | {r['classes']} "
            f"| {s['mode']} [{s['min']}–{s['max']}] | {'yes' if s['hit'] else 'no'} "
            f"| {s['acc']:.3f} | {b['mode']} [{b['min']}–{b['max']}] "
            f"| {'yes' if b['hit'] else 'no'} | {b['acc']:.3f} | {s['seeds']} |"
        )
    lines.append("")
    # The rule was chosen on the other data sets: count those apart.
    shaped = [r for r in rows if r["dataset"] not in MADE_TABLES]
    unseen = [r for r in rows if r["dataset"] in UNSEEN]
    shapes = [r for r in rows if r["dataset"] in SHAPES]
    later = [r for r in rows if r["dataset"] in LATER_PACKAGED_TABLES]
    packaged = [
        r
        for r in rows
        if r["dataset"] in PACKAGED_TABLES and r["dataset"] not in LATER_PACKAGED_TABLES
    ]
    for group, prefix in (
        (shaped, "Within ±1 of the class count (mode over seeds, the smaller on ties)"),
        (unseen, "On the data sets no rule was compared on ({names})"),
        (shapes, "On the made shapes, on which no rule was compared either ({names})"),
        (
            packaged,
            "On the real tables that packages bundle, added after the rule ({names})",
        ),
        (
            later,
            "On the second batch of packaged tables, added on 2026-12-06 ({names})",
        ),
    ):
        if group:
            names = ", ".join(r["dataset"] for r in group)
            counts = []
            for method, label in (
                ("skdec", "skdec"),
                ("silhouette", "k-means + silhouette"),
            ):
                hits = sum(r[method]["hit"] for r in group)
                seed_hits = sum(r[method]["seed_hits"] for r in group)
                seeds = sum(r[method]["seeds"] for r in group)
                counts.append(
                    f"{label} {hits}/{len(group)} ({seed_hits}/{seeds} seeds)"
                )
            # What answering the smallest candidate, 2, always would count.
            twos = sum(r["classes"] <= 3 for r in group)
            lines.append(
                f"{prefix.format(names=names)}: {', '.join(counts)}; "
                f"always 2, {twos}/{len(group)}."
            )
    probes = [r["dataset"] for r in rows if r["dataset"] in PROBES]
    if probes:
        lines.append(f"Probes, counted in neither: {', '.join(probes)}.")
    subsampled = sorted({r["dataset"] for r in results["records"] if r.get("max_rows")})
    if subsampled:
        lines.append(f"Subsampled rows: {', '.join(subsampled)} (see --max-rows).")
    lines += invocation_lines(results["invocations"])
    return "\n".join(lines)


def invocation_lines(invocations):
    """One line per run of a benchmark: date, machine, the versions of the
    packages it recorded (:func:`benchmarks.accuracy.package_list`), commit,
    command."""
    return [
        f"- {inv['date']}, {inv['machine']}{package_list(inv)}, commit "
        f"{inv['commit']}: `{inv['command']}`"
        for inv in invocations
    ]


def read_records(path):
    """``(records, invocations)`` of a records file (older files name one
    ``invocation``)."""
    saved = json.loads(Path(path).read_text())
    if "invocations" in saved:
        return saved["records"], saved["invocations"]
    return saved["records"], [saved["invocation"]]


def require_records(parser, args, flags):
    """Stop with ``parser``'s error where one of ``flags`` (attribute names
    of ``args``, each reading the records of ``--out-json``) is given but
    ``--out-json`` is not, or names no file."""
    for flag in flags:
        if not getattr(args, flag):
            continue
        option = "--" + flag.replace("_", "-")
        if args.out_json is None:
            parser.error(f"{option} reads the records of --out-json; give it")
        if not os.path.exists(args.out_json):
            parser.error(
                f"{option} reads the records of --out-json, and "
                f"{args.out_json} does not exist (a first run writes it "
                f"without {option})"
            )


def save_records(out_json, records, invocations):
    """Write ``records`` and ``invocations`` to the file ``out_json``; nothing
    when it is None."""
    if out_json:
        Path(out_json).write_text(
            json.dumps({"invocations": invocations, "records": records}, indent=1)
        )


def show_table(table, out_md, begin, end):
    """Print ``table``, and write it between ``begin`` and ``end`` in
    ``out_md`` when given."""
    print(table)
    if out_md:
        write_section(out_md, table, begin, end)


def write_section(path, table, begin=MD_BEGIN, end=MD_END):
    """Put ``table`` between the markers ``begin`` and ``end`` (by default
    :data:`MD_BEGIN` and :data:`MD_END`) in ``path``, replacing what stood
    there, so that it can live inside RESULTS.md."""
    path = Path(path)
    text = path.read_text() if path.is_file() else ""
    section = f"{begin}\n\n{table}\n\n{end}"
    path.write_text(_replace_section(text, begin, end, section).lstrip("\n"))


def argument_parser(description, seeds):
    """A parser with the options both n_clusters benchmarks take: the data
    sets, the seeds (default ``seeds``), the data folder and the range of
    candidate numbers of clusters."""
    parser = argparse.ArgumentParser(
        description=description.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=DATASETS
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(seeds))
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument(
        "--n-clusters-range",
        nargs=2,
        type=int,
        default=[min(DEFAULT_CANDIDATES), max(DEFAULT_CANDIDATES)],
        metavar=("MIN", "MAX"),
    )
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argument_parser(__doc__, seeds=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--schedule", choices=["benchmark", "defaults"], default="defaults"
    )
    parser.add_argument("--pretrain-steps", type=int, default=2000)
    parser.add_argument("--max-iter", type=int, default=2000)
    parser.add_argument(
        "--dec-params", default="{}", help="JSON object of DECClusterer parameters"
    )
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out-json", default="benchmarks/results_n_clusters.json")
    parser.add_argument("--out-md", default=None)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write the table of the records in --out-json",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="run nothing: add the records (and their invocations) of these "
        "records files, written by runs with their own --out-json, to "
        "--out-json, replacing its records of the same data sets and seeds "
        "(and those of the same data sets made with other settings); then "
        "write the table as --render-only does",
    )
    args = parser.parse_args(argv)
    if args.merge:
        results = load_results(args.out_json)
        for path in args.merge:
            if not Path(path).is_file():
                parser.error(f"--merge: no records file {path}")
            results = merge_results(results, load_results(path))
        try:  # before writing: a file of mixed records could not be shown
            check_one_setting(results["records"], *ROW_SETTINGS)
        except ValueError as exc:
            parser.error(f"--merge: {exc}")
        Path(args.out_json).write_text(json.dumps(results, indent=1))
    if args.render_only or args.merge:
        show_table(markdown(load_results(args.out_json)), args.out_md, MD_BEGIN, MD_END)
        return
    if args.threads is not None:
        limit_threads(args.threads)
    overrides = json.loads(args.dec_params)
    smallest, largest = args.n_clusters_range
    candidates = list(range(smallest, largest + 1))

    meta = invocation_metadata(argv, "benchmarks.n_clusters")
    results = load_results(args.out_json)
    results["invocations"].append(meta)
    Path(args.out_json).write_text(json.dumps(results, indent=1))

    for name in args.datasets:
        X, y = load_dataset(name, args.data_dir)
        X, y, subsampled = subsample(X, y, args.max_rows)
        params = dec_settings(
            args.schedule, X.shape[0], args.pretrain_steps, args.max_iter, overrides
        )
        usable = [k for k in candidates if k <= X.shape[0] - 2]
        for seed in args.seeds:
            record = run_one(name, X, y, seed, params, usable)
            record["max_rows"] = args.max_rows if subsampled else None
            record["invocation"] = meta["id"]
            merge_record(args.out_json, record)
            print(
                f"{name} seed {seed}: skdec {record['skdec']['n_clusters']} "
                f"(runner-up {record['skdec']['runner_up']}), silhouette "
                f"{record['silhouette']['n_clusters']}, classes "
                f"{record['n_classes']}",
                flush=True,
            )
    table = markdown(load_results(args.out_json))
    show_table(table, args.out_md, MD_BEGIN, MD_END)


if __name__ == "__main__":
    main()
