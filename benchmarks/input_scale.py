"""The defaults on the same clusters moved away from zero or shrunk.

Run: ``python -m benchmarks.input_scale`` (about 5 minutes on 2 cores)

The data: ``make_blobs`` (300 rows, 4 columns, 4 clusters of standard
deviation 2, ``random_state=7``), standardised, then moved by ``offset``
(``X + offset``) or multiplied by ``scale`` (``X * scale``). For each, one
``DECClusterer(4, random_state=seed)`` with every other parameter at its
default: the adjusted Rand index of its labels against the blobs', the start
it chose, its iterations, whether it warned that self-training did not
converge, and whether it warned that X is unscaled. The first columns say
how far X is from the unit scale the networks learn from: its columns'
spread, ``sqrt(mean(var))``, and their means in units of that spread,
``sqrt(mean(mean ** 2)) / spread``, the two numbers the fit's own check
uses. With ``--data-dir``, the same two numbers, and whether a fit warns,
for every data set of :mod:`benchmarks.accuracy`, scaled as it scales them
(``python -m benchmarks.input_scale --offsets --scales --data-dir
../shared/datasets``: no fit).
"""

import argparse
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from benchmarks._common import header  # noqa: E402
from skdec import DECClusterer  # noqa: E402
from skdec._estimator import _input_scale  # noqa: E402


def blobs(n_samples=300):
    X, y = make_blobs(n_samples, 4, centers=4, random_state=7, cluster_std=2.0)
    return StandardScaler().fit_transform(X), y


def measure(X, y, seed):
    """One fit with the defaults: a row of the table, as a dict."""
    spread, offset = _input_scale(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dec = DECClusterer(len(np.unique(y)), random_state=seed).fit(X)
    return {
        "spread": spread,
        "offset": offset,
        "ari": adjusted_rand_score(y, dec.labels_),
        "init": dec.init_,
        "n_iter": dec.n_iter_,
        "not_converged": any(w.category is ConvergenceWarning for w in caught),
        "unscaled_warning": any("unscaled" in str(w.message) for w in caught),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offsets", type=float, nargs="*", default=[0, 2, 3, 30])
    parser.add_argument("--scales", type=float, nargs="*", default=[0.1, 0.03, 0.001])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    X, y = blobs(args.rows)
    cases = [(f"X + {c:g}", X + c) for c in args.offsets]
    cases += [(f"X * {s:g}", X * s) for s in args.scales]
    given = sys.argv[1:] if argv is None else argv
    print(header(" ".join(["python -m benchmarks.input_scale", *given])))
    if cases:
        print(
            "| input | seed | spread | means / spread | ARI | start | iterations "
            "| not converged | unscaled warning |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name, data in cases:
        for seed in args.seeds:
            row = measure(data, y, seed)
            rows.append({"input": name, "seed": seed, **row})
            print(
                f"| {name} | {seed} | {row['spread']:.3g} | "
                f"{row['offset'] / row['spread']:.3g} | {row['ari']:.3f} | "
                f"{row['init']} | {row['n_iter']} | "
                f"{'yes' if row['not_converged'] else 'no'} | "
                f"{'yes' if row['unscaled_warning'] else 'no'} |",
                flush=True,
            )
    if args.data_dir is not None:
        shared_data_sets(args.data_dir)
    return rows


def shared_data_sets(data_dir):
    """Print the scale of each data set of :mod:`benchmarks.accuracy`, as
    it scales them, and whether a fit would warn that it looks unscaled."""
    from benchmarks.accuracy import DATASETS, load_dataset
    from skdec._estimator import _LARGEST_OFFSET, _SMALLEST_SPREAD

    print("\n| data set | rows | spread | means / spread | unscaled warning |")
    print("|---|---|---|---|---|")
    for name in DATASETS:
        X = load_dataset(name, data_dir)[0]
        spread, offset = _input_scale(X)
        warned = offset > _LARGEST_OFFSET * spread or spread < _SMALLEST_SPREAD
        print(
            f"| {name} | {len(X)} | {spread:.3g} | {offset / spread:.3g} | "
            f"{'yes' if warned else 'no'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
