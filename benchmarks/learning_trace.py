"""The criterion of init="auto" while self-training learns the start, and
past the point where that phase ends today.

Run from the repository root, for example::

    python -m benchmarks.learning_trace --datasets digits pendigits \\
        --seeds 0 --extra 20 --data-dir ../shared/datasets

With ``init="auto"`` and a start that is not k-means in the embedding,
self-training first teaches the encoder the start's labels
(:func:`skdec._training.learn_initial_target`), then DEC sharpens them. The
criterion that chose the start (the map equation's saving on the input's
neighbour graph, or ``inf`` for a partition that no more than one link
of it joins a cluster to the others)
scores DEC's sharpening, and stops it after ``patience``
updates without a rise; the learning phase ends by its own rule (the
disagreement with the start has fallen to ``tol``, or halved and stopped
falling by ``tol``). This script asks whether the criterion could end the
learning phase too. It fits ``DECClusterer(n_clusters)`` with the defaults
(and ``--dec-params``) and ``max_iter=20000``, and runs the learning phase
``--extra`` target updates past the update at which its rule ends it; the
fit then stops, without DEC's phase. At every target update it records the
iteration, the fraction of rows whose label is not the start's, and the
criterion.

The printed lines derive, from each trace alone:

- ``rule``: the update at which today's rule ends the phase, and the
  criterion there;
- ``best after``: the highest criterion in the ``--extra`` updates after it;
- ``patience from start``: where a rule "stop after 5 updates without a
  rise, keep the best", counted from the first update, would end the phase,
  and the update it would keep;
- ``patience from rule``: the same rule, counted from today's end.

Labels are used for nothing but the number of clusters. ``rings`` (two
concentric circles, 400 rows, made here) is a case where the encoder has to
leave the embedding's own clusters, and the criterion falls, before it
learns the start. ``--out-json`` keeps the traces.
"""

import argparse
import contextlib
import json
import os
import sys
import warnings
from pathlib import Path
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import make_circles  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from benchmarks._common import header  # noqa: E402
from benchmarks.accuracy import DATASETS, DEFAULT_DATA_DIR, load_dataset  # noqa: E402
from skdec import DECClusterer, _training  # noqa: E402

#: The patience of the derived rules: the estimator's default.
PATIENCE = DECClusterer().patience


def load(name, data_dir):
    """Features and classes of ``name``; ``rings`` is made here."""
    if name == "rings":
        X, y = make_circles(400, noise=0.03, factor=0.4, random_state=0)
        return StandardScaler().fit_transform(X).astype(np.float32), y
    return load_dataset(name, data_dir)


@contextlib.contextmanager
def traced_learning(extra):
    """Make the learning phase run ``extra`` updates past its end, record
    each update, and end the fit there. Yields the record (a dict)."""
    record = {}
    original_train = _training.train_clusters

    def train_clusters(*args, judge=None, **kwargs):
        record["judge"] = judge
        if kwargs.get("initial_target") is None:  # k-means' start: no phase
            return _training.SelfTrainingResult(0, True, [], [], [], True, [])
        return original_train(*args, judge=judge, **kwargs)

    def learn_initial_target(run, target, tol, best=None):
        # best (the phase's best weights, kept when the budget runs out) is
        # not shown the updates: the fit ends here, on the last weights.
        judge, target = record["judge"], np.asarray(target, dtype=np.float32)
        target_labels = target.argmax(axis=1)
        trace, first, last = [], None, None
        while run.budget_left:
            q, labels, delta = run.assign()
            apart = float(np.mean(labels != target_labels))
            trace.append([run.n_iter, apart, float(judge(labels))])
            if "rule" not in record and first is not None:
                if _training.target_learned(apart, first, last, tol):
                    record["rule"] = len(trace) - 1
            if "rule" in record and len(trace) - 1 - record["rule"] >= extra:
                break
            first = apart if first is None else first
            last = apart
            run.record(target, q, labels, delta)
            run.train(target)
        record["trace"] = trace
        run.max_iter = run.n_iter  # no DEC phase
        return None

    with (
        mock.patch.object(_training, "train_clusters", train_clusters),
        mock.patch.object(_training, "learn_initial_target", learn_initial_target),
    ):
        yield record


def patience_end(scores, begin, patience=PATIENCE):
    """Where "stop after ``patience`` updates without a rise" ends, counted
    from update ``begin``, and the update it keeps: ``(end, kept)``; ``end``
    is None when the trace ends first."""
    kept = begin
    for i in range(begin + 1, len(scores)):
        if scores[i] > scores[kept]:
            kept = i
        elif i - kept >= patience:
            return i, kept
    return None, kept


def summary(record):
    """One line of figures derived from a record's trace."""
    if record["trace"] is None:
        return (
            f"{record['dataset']} {record['seed']}: start {record['init_']}, "
            "no learning phase"
        )
    trace = record["trace"]
    scores = [row[2] for row in trace]
    rule = record["rule"]

    def at(i):
        return "-" if i is None else f"{i} (iteration {trace[i][0]}, {scores[i]:.4f})"

    after = (
        max(range(rule, len(scores)), key=scores.__getitem__)
        if rule is not None
        else None
    )
    parts = [
        f"{record['dataset']} {record['seed']}: start {record['init_']} "
        f"({record['start_score']:.4f})",
        f"rule {at(rule)}",
        f"best after {at(after)}",
    ]
    for name, begin in (("from start", 0), ("from rule", rule)):
        if begin is None:
            continue
        end, kept = patience_end(scores, begin)
        parts.append(f"patience {name}: ends {at(end)}, keeps {at(kept)}")
    return "; ".join(parts)


def run_one(name, X, n_clusters, seed, extra, overrides):
    """The trace of one fit, as a JSON record."""
    model = DECClusterer(
        n_clusters, random_state=seed, **{**overrides, "max_iter": 20000}
    )
    with traced_learning(extra) as record, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return {
        "dataset": name,
        "seed": seed,
        "n_samples": int(X.shape[0]),
        "init_": model.init_,
        "start_score": (
            None if model.init_scores_ is None else model.init_scores_[model.init_]
        ),
        "n_iter": int(model.n_iter_),
        "rule": record.get("rule"),
        "trace": record.get("trace"),
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", default=["rings"], choices=(*DATASETS, "rings")
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--extra", type=int, default=20)
    parser.add_argument("--dec-params", type=json.loads, default={})
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out-json", default=None)
    args = parser.parse_args(argv)
    print(header("python -m benchmarks.learning_trace " + " ".join(argv)), flush=True)
    records = []
    for name in args.datasets:
        X, y = load(name, args.data_dir)
        for seed in args.seeds:
            record = run_one(
                name, X, len(np.unique(y)), seed, args.extra, args.dec_params
            )
            records.append(record)
            print(summary(record), flush=True)
    if args.out_json:
        Path(args.out_json).write_text(json.dumps({"records": records}, indent=1))
    return records


if __name__ == "__main__":
    main()
