"""Peak memory and time of predict and fit as the number of rows grows.

Run: ``python -m benchmarks.scale --rows 10000 100000 1000000``

For each row count N, in a fresh process each (so that peak resident memory,
``ru_maxrss``, belongs to that step alone):

``predict``
    ``predict`` over an N x 784 ``uint8`` ``numpy.memmap`` (random pixels,
    written to ``--tmp-dir`` in chunks) with the paper's dense network
    (500-500-2000, the default when the results were measured; see
    :data:`MEASURED`),
    loaded with :func:`skdec.load` from a model fitted on 2,000 rows.
``fit``
    ``fit`` of ``DECClusterer(n_clusters=10)`` (that network, k-means start)
    on an N x 50
    ``float32`` ``numpy.memmap`` of ten Gaussian blobs, with one pretraining
    epoch and 280 self-training iterations (two target updates), so that the
    time of every stage, not the number of epochs, is what grows with N.
``kmeans``
    The initial clustering alone: ``KMeans(10, n_init=20)`` on N x 10
    Gaussian blobs, on all rows and on the sample of at most
    ``skdec._initialization.INIT_MAX_ROWS`` rows that the estimator uses.

Prints one line per step with N, seconds, peak resident memory (MiB, VmHWM
of the step's process: it counts the pages of a memmap that are resident, and
TensorFlow's own footprint) and seconds per 1,000 rows. Files are removed
afterwards.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import REPO_ROOT, header

#: The network, start and batch of the defaults when RESULTS.md's section was
#: measured (commit 363f95f), fixed so that a rerun fits the same models.
MEASURED = {"hidden_layer_sizes": (500, 500, 2000), "init": "kmeans", "batch_size": 256}

CHUNK = 100_000


def _peak_mib():
    """Peak resident memory of this process (VmHWM), in MiB.

    ``ru_maxrss`` would do on a fresh process, but Linux carries the parent's
    high-water mark over ``fork``; VmHWM belongs to this program's own memory
    map, which ``exec`` starts afresh.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_memmap(path, n_rows, n_features, dtype, blobs):
    """Fill a memmap chunk by chunk, never holding the whole array."""
    data = np.lib.format.open_memmap(
        path, mode="w+", dtype=dtype, shape=(n_rows, n_features)
    )
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=4.0, size=(10, n_features))
    for start in range(0, n_rows, CHUNK):
        rows = min(CHUNK, n_rows - start)
        if blobs:
            chunk = centres[rng.integers(0, 10, rows)] + rng.normal(
                size=(rows, n_features)
            )
        else:
            chunk = rng.integers(0, 256, size=(rows, n_features))
        data[start : start + rows] = chunk.astype(dtype)
    data.flush()
    del data


def step_predict(data_path, model_path):
    import skdec

    model = skdec.load(model_path)
    X = np.load(data_path, mmap_mode="r")
    start = time.perf_counter()
    labels = model.predict(X)
    return time.perf_counter() - start, int(labels.shape[0])


def step_fit(data_path):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skdec import DECClusterer

    X = np.load(data_path, mmap_mode="r")
    dec = DECClusterer(
        n_clusters=10, pretrain_epochs=1, max_iter=280, random_state=0, **MEASURED
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec.fit(X)
    return time.perf_counter() - start, int(dec.labels_.shape[0])


def step_kmeans(n_rows, sampled):
    from skdec._initialization import kmeans_centers

    rng = np.random.default_rng(0)
    centres = rng.normal(scale=4.0, size=(10, 10))
    Z = centres[rng.integers(0, 10, n_rows)] + rng.normal(size=(n_rows, 10))
    start = time.perf_counter()
    kmeans_centers(Z, 10, 20, 0, max_rows=None if sampled else n_rows)
    return time.perf_counter() - start, n_rows


def child(argv):
    """Run one step in this process and print its JSON result."""
    step = argv[0]
    if step == "predict":
        seconds, n = step_predict(argv[1], argv[2])
    elif step == "fit":
        seconds, n = step_fit(argv[1])
    else:
        seconds, n = step_kmeans(int(argv[1]), argv[2] == "sampled")
    print(json.dumps({"seconds": seconds, "rows": n, "peak_mib": _peak_mib()}))


def run_child(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--child", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(step, n_rows, result):
    print(
        f"{step:8s} {n_rows:>9,d} rows  {result['seconds']:8.1f} s  "
        f"peak {result['peak_mib']:7.0f} MiB  "
        f"{1000 * result['seconds'] / n_rows:.3f} s per 1,000 rows",
        flush=True,
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "--child":
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--steps", nargs="+", default=["predict", "fit", "kmeans"])
    parser.add_argument("--tmp-dir", default=None)
    args = parser.parse_args(argv)
    print(header("python -m benchmarks.scale " + " ".join(argv)))

    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
        tmp = Path(tmp)
        model_path = tmp / "model.skdec"
        if "predict" in args.steps:
            import warnings

            from sklearn.exceptions import ConvergenceWarning

            from skdec import DECClusterer

            rng = np.random.default_rng(1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                DECClusterer(
                    n_clusters=10,
                    pretrain_epochs=1,
                    max_iter=0,
                    random_state=0,
                    **MEASURED,
                ).fit(rng.integers(0, 256, (2000, 784)) / 255).save(model_path)
        for n_rows in args.rows:
            if "predict" in args.steps:
                path = tmp / "pixels.npy"
                write_memmap(path, n_rows, 784, np.uint8, blobs=False)
                report("predict", n_rows, run_child("predict", path, model_path))
                path.unlink()
            if "fit" in args.steps:
                path = tmp / "table.npy"
                write_memmap(path, n_rows, 50, np.float32, blobs=True)
                report("fit", n_rows, run_child("fit", path))
                path.unlink()
            if "kmeans" in args.steps:
                report("kmeans", n_rows, run_child("kmeans", n_rows, "all"))
                if n_rows > 100_000:
                    report("kmeans-s", n_rows, run_child("kmeans", n_rows, "sampled"))


if __name__ == "__main__":
    main()
