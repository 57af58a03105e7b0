"""Rerun the defaults' recorded fits and compare them with their records.

Run from the repository root, for example::

    python -m benchmarks.rerun --datasets iris uci_zoo --seeds 0 1 2 3 4 \\
        --data-dir ../shared/datasets

For each data set and seed, ``DECClusterer(n_clusters, random_state=seed)``
is fitted exactly as ``python -m benchmarks.accuracy --methods dec_defaults``
fits it (:func:`benchmarks.accuracy.run_method`), and its cluster accuracy is
printed beside the record of the same data set and seed in ``--records``,
with the machine and commit that made the record. A fit is bitwise
reproducible on one machine; on another host, TensorFlow's CPU kernels may
round differently, and the pretrained embedding, and from it the start, can
differ. Each line also counts the calls of the criterion that keeps
self-training's best weights (``init="auto"``) that returned ``-inf``,
labels that emptied a cluster of the start: a fit without any took the
decisions it would have taken before that rule (commit fd52097), and names
the packages whose installed version differs from the record's
(:func:`benchmarks.accuracy.package_versions`), and those the record did not
write down (records made before 2026-12-07 name NumPy, scikit-learn and
Keras only), so that a fit that moved can be traced to its host or its
packages. Each line also counts the calls of the criterion of
``init="auto"`` (on the candidate starts and on self-training's labels)
where its rule for a partition that wins outright, that no cluster is
joined to the others by more than one link
(:func:`skdec._modularity.cuts_at_most_one_link`, since 2026-12-07), and the
rule before, that no link of more than negligible weight crosses between
clusters (:func:`cuts_no_link`), disagree: a fit without any is the same
under both. ``--separation no_link`` fits with the rule before. One JSON
object per fit is printed, then a summary per recording machine.
"""

import argparse
import collections
import contextlib
import dataclasses
import json
import statistics
import sys

import numpy as np

from benchmarks.accuracy import (
    DATASETS,
    DEFAULT_DATA_DIR,
    load_dataset,
    package_versions,
    run_method,
)
from skdec import _initialization, cluster_accuracy
from skdec._modularity import (
    NEGLIGIBLE_SHARE,
    cluster_conductance,
    cuts_at_most_one_link,
)

RECORDS = "benchmarks/results_accuracy.json"


@contextlib.contextmanager
def judge_calls_recorded():
    """A list that receives the value of every call of the criterion that
    ``init="auto"`` hands to self-training, while the context is open."""
    calls = []
    original = _initialization.auto_clustering

    def recording_auto_clustering(*args, **kwargs):
        start = original(*args, **kwargs)
        judge = start.judge

        def recording_judge(labels):
            value = judge(labels)
            calls.append(value)
            return value

        return dataclasses.replace(start, judge=recording_judge)

    _initialization.auto_clustering = recording_auto_clustering
    try:
        yield calls
    finally:
        _initialization.auto_clustering = original


def cuts_no_link(graph, labels):
    """The rule of ``init="auto"`` for a partition that wins outright until
    2026-12-07: no link of ``graph`` of more than :data:`NEGLIGIBLE_SHARE`
    of a cluster's link weight leaves any cluster (False for a graph without
    edges)."""
    conductance = cluster_conductance(graph, labels)
    return bool(conductance.size and np.all(conductance <= NEGLIGIBLE_SHARE))


#: ``--separation``: the rule the fits use.
SEPARATION_RULES = {"one_link": cuts_at_most_one_link, "no_link": cuts_no_link}


@contextlib.contextmanager
def separation_rules_compared(rule="one_link"):
    """A list that receives ``(one_link, no_link)`` for every call of the
    criterion's rule for a partition that wins outright where the two
    disagree, while the context is open; the criterion answers with
    ``rule``'s."""
    disagreements = []
    original = _initialization.cuts_at_most_one_link

    def compared(graph, labels):
        answers = {name: test(graph, labels) for name, test in SEPARATION_RULES.items()}
        if answers["one_link"] != answers["no_link"]:
            disagreements.append((answers["one_link"], answers["no_link"]))
        return answers[rule]

    _initialization.cuts_at_most_one_link = compared
    try:
        yield disagreements
    finally:
        _initialization.cuts_at_most_one_link = original


def recorded(path):
    """``{(data set, seed): (accuracy, invocation)}`` of the defaults."""
    with open(path) as file:
        results = json.load(file)
    invocations = {i["id"]: i for i in results["invocations"]}
    return {
        (r["dataset"], r["seed"]): (r["acc"], invocations.get(r["invocation"], {}))
        for r in results["records"]
        if r["method"] == "dec_defaults"
    }


def version_changes(recorded_versions, versions):
    """``({name: [recorded, installed]}, [names])``: the packages whose
    recorded version is not the installed one (``None`` where no longer
    installed), and the installed packages the record does not name."""
    changed = {
        name: [then, versions.get(name)]
        for name, then in recorded_versions.items()
        if versions.get(name) != then
    }
    return changed, sorted(set(versions) - set(recorded_versions))


def rerun(name, seed, data_dir, records, versions=None, separation="one_link"):
    """The line of one fit with the rule ``separation`` (a key of
    :data:`SEPARATION_RULES`): its accuracy beside its record's, and how
    the installed ``versions`` (:func:`~benchmarks.accuracy.package_versions`
    by default) differ from the record's."""
    versions = package_versions() if versions is None else versions
    X, y = load_dataset(name, data_dir)
    n_clusters = int(np.unique(y).size)
    with (
        judge_calls_recorded() as calls,
        separation_rules_compared(separation) as disagreements,
    ):
        labels = run_method("dec_defaults", X, n_clusters, seed, {})[0]
    accuracy = cluster_accuracy(y, labels)
    record, invocation = records.get((name, seed), (None, {}))
    changed, unrecorded = (
        version_changes(invocation.get("versions", {}), versions)
        if invocation
        else ({}, [])
    )
    return {
        "dataset": name,
        "seed": seed,
        "acc": accuracy,
        "recorded_acc": record,
        "equal": record is not None and accuracy == record,
        "recorded_on": invocation.get("machine"),
        "recorded_at": invocation.get("commit", "")[:8] or None,
        "judge_calls": len(calls),
        "judge_calls_at_minus_inf": sum(1 for value in calls if value == -np.inf),
        "separation": separation,
        "separation_disagreements": len(disagreements),
        "versions_changed": changed,
        "versions_unrecorded": unrecorded,
    }


def summary(lines):
    """Per recording machine: fits equal to their record, the packages
    whose version moved since the records or that they do not name, and the
    mean difference of each data set's accuracy (over its seeds) from the
    record; then the fits (of all ``lines``) in which the two separation
    rules disagree."""
    by_machine = collections.defaultdict(list)
    for line in lines:
        if line["recorded_acc"] is not None:
            by_machine[line["recorded_on"]].append(line)
    text = []
    for machine, group in by_machine.items():
        equal = sum(line["equal"] for line in group)
        text.append(f"recorded on {machine}: {equal} of {len(group)} fits equal")
        moved = sorted(
            {
                f"{name} {then} -> {now}"
                for line in group
                for name, (then, now) in line["versions_changed"].items()
            }
        )
        unrecorded = sorted({n for line in group for n in line["versions_unrecorded"]})
        if moved:
            text.append(f"  versions since the records: {', '.join(moved)}")
        if unrecorded:
            text.append(f"  versions the records do not name: {', '.join(unrecorded)}")
        by_data = collections.defaultdict(list)
        for line in group:
            by_data[line["dataset"]].append(line["acc"] - line["recorded_acc"])
        for name, differences in by_data.items():
            mean = statistics.fmean(differences)
            if any(differences):
                text.append(f"  {name}: mean {mean:+.4f} ({len(differences)} seeds)")
    disagree = [
        f"{line['dataset']} {line['seed']}"
        for line in lines
        if line["separation_disagreements"]
    ]
    text.append(
        f"the two separation rules disagree in {len(disagree)} of {len(lines)} "
        f"fits{': ' + ', '.join(disagree) if disagree else ''}"
    )
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--records", default=RECORDS)
    parser.add_argument(
        "--separation",
        choices=SEPARATION_RULES,
        default="one_link",
        help="the rule for a partition that wins outright (no_link: before 2026-12-07)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    records = recorded(args.records)
    versions = package_versions()
    lines = []
    for name in args.datasets:
        for seed in args.seeds:
            lines.append(
                rerun(name, seed, args.data_dir, records, versions, args.separation)
            )
            print(json.dumps(lines[-1]), flush=True)
    for text in summary(lines):
        print(text)
    return lines


if __name__ == "__main__":
    main()
