"""The cost of a first call in a fresh process: numba's compilation.

umap-learn compiles its numba functions the first time each runs in a process.
This script times, in one fresh process on ``load_digits`` (1,797 x 64):
importing umap (and TensorFlow, which it imports), the first and a second
UMAP map as skdec draws it (of the first 20 columns, then, with another
seed, of the first 30; :func:`skdec._initialization.umap_view`, which
turns on numba's on-disk cache for umap-learn's functions), then on 20,000 x 10
random rows (where skdec gives UMAP exact neighbours, so that umap-learn's
approximate search, pynndescent, whose functions every process compiles
again, does not run), umap-learn's own ``fuzzy_simplicial_set`` on float64
rows (which does run pynndescent, compiling it), and skdec's NumPy graph
(:func:`skdec._modularity.fuzzy_neighbor_graph`) on 10,000 x 784 random rows,
which compiles nothing. Run it twice: the second process loads what the first
compiled::

    python -m benchmarks.first_call
    python -m benchmarks.first_call
"""

import json
import platform
import time
import warnings


def main():
    import numpy as np
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    times = {}
    started = time.perf_counter()
    from umap.umap_ import fuzzy_simplicial_set

    from skdec._initialization import umap_view

    times["import_umap"] = time.perf_counter() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, columns, seed in (("umap_first", 20, 0), ("umap_second", 30, 1)):
            started = time.perf_counter()
            umap_view(X[:, :columns], 10, seed)
            times[name] = time.perf_counter() - started
        # From 4,096 rows umap-learn would search neighbours with pynndescent;
        # umap_view finds them exactly instead.
        large = np.random.default_rng(0).normal(size=(20_000, 10))
        for name, seed in (("umap_first_20000", 0), ("umap_second_20000", 1)):
            started = time.perf_counter()
            umap_view(large, 3, seed)
            times[name] = time.perf_counter() - started
        started = time.perf_counter()
        fuzzy_simplicial_set(X, 15, np.random.RandomState(0), "euclidean")
        times["umap_fuzzy_simplicial_set_float64"] = time.perf_counter() - started
    from skdec._modularity import fuzzy_neighbor_graph

    rows = np.random.default_rng(0).normal(size=(10_000, 784))
    started = time.perf_counter()
    fuzzy_neighbor_graph(rows)
    times["skdec_graph_10000x784"] = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": {k: round(v, 1) for k, v in times.items()},
                "machine": f"{platform.machine()}, {platform.python_version()}",
            }
        )
    )


if __name__ == "__main__":
    main()
