"""Resident memory across repeated fits in one process, as a grid search does.

Run: ``python -m benchmarks.memory --fits 20``

Fits a fresh ``DECClusterer`` (dense 64-32 network on the standardised
``load_digits`` data, 10 pretraining epochs, 100 self-training iterations)
``--fits`` times, predicts with it as a grid search scores it, drops it, and
prints the resident set size after every fit, then the growth from the end of
the warm-up fits to the last fit.
"""

import argparse
import gc
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import psutil  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from benchmarks._common import header  # noqa: E402
from skdec import DECClusterer  # noqa: E402


def rss_mib():
    return psutil.Process().memory_info().rss / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    X = StandardScaler().fit_transform(load_digits().data)
    print(header("python -m benchmarks.memory"))
    sizes = []
    for i in range(args.fits):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            dec = DECClusterer(
                10,
                hidden_layer_sizes=(64, 32),
                pretrain_epochs=10,
                max_iter=100,
                update_interval=20,
                n_init=3,
                random_state=i,
            ).fit(X)
            dec.predict(X)  # a grid search scores every fitted candidate
        del dec
        gc.collect()
        sizes.append(rss_mib())
        print(f"fit {i + 1:3d}: RSS {sizes[-1]:8.1f} MiB", flush=True)
    base = sizes[args.warmup - 1]
    growth = sizes[-1] - base
    per_fit = growth / (len(sizes) - args.warmup)
    print(
        f"growth after {args.warmup} warm-up fits: {growth:.1f} MiB over "
        f"{len(sizes) - args.warmup} fits ({per_fit:.2f} MiB per fit)"
    )


if __name__ == "__main__":
    main()
