"""Training and inference speed against the machine's matmul rate.

Run: ``python -m benchmarks.speed --data-dir ../shared/datasets [--epochs 3]``

In one process: the float32 matmul rate (4096 x 4096 GEMMs by default,
``--matmul-size``, through ``keras.ops.matmul``) and the rate of the matrix
products alone of one training step of the default network at batch 256 (the
bound a step can reach here, as such thin products run below the large-GEMM
rate), and both again through numpy's BLAS, to tell the backend's kernels from
the machine; then, on MNIST-70k (pixels / 255) with the default dense network
(784-500-500-2000-10 and mirror, 3.3 M weights) and ``batch_size=256``: the
time of each pretraining epoch against the ideal ``6 * weights * rows / rate``
and against the products-alone rate; the self-training iteration rate and the
share of the full-data target updates in it (``update_interval=140``); and
``transform`` throughput against the ideal ``2 * encoder weights`` FLOP per
row.

``--xla`` also times the pretraining epochs of a second copy of the network
compiled with XLA (``jit_compile=True``), which skdec does not do, against
the same ideal, as evidence for or against adopting it.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._common import header  # noqa: E402
from skdec._assignment import target_distribution  # noqa: E402
from skdec._initialization import kmeans_centers  # noqa: E402
from skdec._networks import autoencoder_recipe, build_autoencoder  # noqa: E402
from skdec._trainers import TRAINER_POOL  # noqa: E402
from skdec._training import pretrain_autoencoder, train_clusters  # noqa: E402

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def best_seconds(run, repeats):
    """Shortest wall time of ``run()`` over ``repeats`` calls after a warm-up."""
    run()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _matmul_library(library):
    """``(to_tensor, matmul, to_numpy)`` of ``"keras"`` (the backend's
    kernels) or ``"numpy"`` (the BLAS numpy links, OpenBLAS here)."""
    if library == "numpy":
        return np.asarray, np.matmul, np.asarray
    ops = keras.ops
    return ops.convert_to_tensor, (lambda a, b: ops.matmul(a, b)), ops.convert_to_numpy


def matmul_rate(n=4096, repeats=5, library="keras"):
    """Best float32 GEMM rate in FLOP/s over ``repeats`` products."""
    to_tensor, matmul, to_numpy = _matmul_library(library)
    rng = np.random.default_rng(0)
    a = to_tensor(rng.random((n, n), dtype=np.float32))
    b = to_tensor(rng.random((n, n), dtype=np.float32))
    seconds = best_seconds(lambda: to_numpy(matmul(a, b)), repeats)
    return 2 * n**3 / seconds


def step_gemm_rate(kernel_shapes, batch_size, repeats=20, library="keras"):
    """Rate of the matrix products alone of one dense training step.

    For each dense layer of kernel shape ``(a, b)`` a step of back-propagation
    does three products with ``batch_size`` rows: ``X @ W`` forward,
    ``dY @ W.T`` and ``X.T @ dY`` backward, ``6 * a * b * batch_size`` FLOP in
    all. Timing just these (no activations, loss or optimizer; through
    ``keras.ops.matmul``, as ``matmul_rate``, or numpy's BLAS with
    ``library="numpy"``) gives the fastest a training step of this network
    and batch size can run here. Returns the best rate in FLOP/s over
    ``repeats`` steps.
    """
    to_tensor, matmul, to_numpy = _matmul_library(library)
    rng = np.random.default_rng(0)
    layers = []
    for a, b in kernel_shapes:
        x = rng.random((batch_size, a), dtype=np.float32)
        w = rng.random((a, b), dtype=np.float32)
        dy = rng.random((batch_size, b), dtype=np.float32)
        # Transposes are stored, not taken in the loop: the gradient kernels
        # read them in place.
        layers.append(
            [to_tensor(np.ascontiguousarray(array)) for array in (x, w, dy, w.T, x.T)]
        )

    def step():
        for x, w, dy, w_t, x_t in layers:
            outputs = (matmul(x, w), matmul(dy, w_t), matmul(x_t, dy))
        to_numpy(outputs[-1])

    flop = 6 * batch_size * sum(a * b for a, b in kernel_shapes)
    return flop / best_seconds(step, repeats)


def n_weights(model):
    return int(sum(np.prod(w.shape) for w in model.weights))


def epoch_seconds(autoencoder, X, epochs, rng):
    """Wall time of each of ``epochs`` pretraining epochs of batch 256."""
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        pretrain_autoencoder(
            autoencoder, X, epochs=1, batch_size=256, rng=rng, verbose=0
        )
        times.append(time.perf_counter() - start)
    return times


def describe_epochs(times, ideal):
    """The epoch times, their spread after the first, and ideal / median."""
    steady = times[1:] or times
    median = float(np.median(steady))
    text = (
        "epochs (first includes tracing) "
        + ", ".join(f"{t:.1f}" for t in times)
        + f" s; min/median/max after the first {min(steady):.1f}/"
        f"{median:.1f}/{max(steady):.1f} s; ideal/actual {ideal / median:.2f}"
    )
    return text, median


def xla_autoencoder(recipe, like):
    """A fresh autoencoder of ``recipe`` compiled as ``like`` is, but with XLA.

    The loss and a new optimizer of the same configuration are taken from
    ``like``, skdec's compiled autoencoder, so the two cannot drift apart.
    """
    encoder, decoder = build_autoencoder(**recipe, seed=0)
    x = keras.Input(shape=(recipe["n_features"],))
    autoencoder = keras.Model(x, decoder(encoder(x)))
    optimizer = like.optimizer
    autoencoder.compile(
        optimizer=type(optimizer).from_config(optimizer.get_config()),
        loss=like.loss,
        jit_compile=True,
    )
    return autoencoder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--self-train-iters", type=int, default=420)
    parser.add_argument(
        "--matmul-size",
        type=int,
        default=4096,
        help="side of the square float32 matrices whose product sets the "
        "matmul rate (default: 4096)",
    )
    parser.add_argument(
        "--xla",
        action="store_true",
        help="also time the pretraining epochs of the same network compiled "
        "with XLA (jit_compile=True), which skdec does not use",
    )
    args = parser.parse_args(argv)

    with np.load(args.data_dir / "mnist.npz") as data:
        X = (data["X"] / 255.0).astype(np.float32)
    print(
        header("python -m benchmarks.speed")
        + f"; keras {keras.__version__} on {keras.backend.backend()}"
    )
    side = args.matmul_size
    rate = matmul_rate(side)
    print(f"float32 matmul rate ({side} x {side}): {rate / 1e9:.0f} GFLOP/s")

    recipe = {
        "n_features": 784,
        "n_components": 10,
        "n_clusters": 10,
        "alpha": 1.0,
        "autoencoder": "dense",
        "hidden_layer_sizes": (500, 500, 2000),
        "activation": "relu",
        "input_shape": None,
        "conv_filters": None,
        "decoder": None,
    }
    ae_recipe = autoencoder_recipe(recipe)
    with (
        TRAINER_POOL.autoencoder(ae_recipe, optimizer="adam", momentum=0.0) as pre,
        TRAINER_POOL.clustering(
            recipe, optimizer="sgd", momentum=0.9, reconstruction_weight=0.0
        ) as trainer,
    ):
        pre.reset(0, 1e-3)
        kernel_shapes = [
            tuple(w.shape) for w in pre.autoencoder.weights if len(w.shape) == 2
        ]
        step_rate = step_gemm_rate(kernel_shapes, 256)
        print(
            f"matrix products of one pretraining step alone (batch 256): "
            f"{step_rate / 1e9:.0f} GFLOP/s, {step_rate / rate:.2f} of the matmul rate"
        )
        # The same two measures through numpy's BLAS: whether the bound above
        # is the machine's or the backend's kernels'.
        blas_rate = matmul_rate(side, library="numpy")
        blas_step_rate = step_gemm_rate(kernel_shapes, 256, library="numpy")
        print(
            f"through numpy's BLAS: matmul {blas_rate / 1e9:.0f} GFLOP/s, the "
            f"step's products {blas_step_rate / 1e9:.0f} GFLOP/s, "
            f"{blas_step_rate / blas_rate:.2f} of that matmul rate and "
            f"{blas_step_rate / rate:.2f} of the one above"
        )
        weights = n_weights(pre.autoencoder)
        ideal_epoch = 6 * weights * X.shape[0] / rate
        rng = np.random.default_rng(0)
        text, median = describe_epochs(
            epoch_seconds(pre.autoencoder, X, args.epochs, rng), ideal_epoch
        )
        print(
            f"pretraining: {weights / 1e6:.2f} M weights, ideal epoch "
            f"{ideal_epoch:.1f} s; {text}; against the products alone "
            f"{ideal_epoch * rate / step_rate / median:.2f}"
        )
        if args.xla:
            text, xla_median = describe_epochs(
                epoch_seconds(
                    xla_autoencoder(ae_recipe, pre.autoencoder), X, args.epochs, rng
                ),
                ideal_epoch,
            )
            print(
                f"pretraining with XLA (jit_compile=True, not used by skdec): "
                f"{text}; {median / xla_median:.2f} times the speed above"
            )

        trainer.start(
            0.01, autoencoder=(pre.encoder.get_weights(), pre.decoder.get_weights())
        )
        encoder_weights = n_weights(trainer.networks.encoder)
        trainer.embed(X[:4096])  # warm-up
        start = time.perf_counter()
        Z = trainer.embed(X)
        predict_seconds = time.perf_counter() - start
        ideal_rows = rate / (2 * encoder_weights)
        print(
            f"transform: {X.shape[0] / predict_seconds:,.0f} rows/s, ideal "
            f"{ideal_rows:,.0f} rows/s ({encoder_weights / 1e6:.2f} M encoder "
            f"weights); ideal/actual {X.shape[0] / predict_seconds / ideal_rows:.2f}"
        )

        centers, labels = kmeans_centers(Z, 10, 20, 0)
        trainer.set_centers(centers)
        update_start = time.perf_counter()
        target_distribution(trainer.assign(X))
        update_seconds = time.perf_counter() - update_start
        start = time.perf_counter()
        n_iter, *_ = train_clusters(
            trainer,
            X,
            labels,
            max_iter=args.self_train_iters,
            update_interval=140,
            tol=0.0,
            batch_size=256,
            rng=rng,
            verbose=0,
        )
        seconds = time.perf_counter() - start
        n_updates = -(-n_iter // 140)
        print(
            f"self-training: {n_iter / seconds:.1f} iterations/s over {n_iter} "
            f"iterations; one target update {update_seconds:.2f} s, "
            f"{n_updates} updates = {100 * n_updates * update_seconds / seconds:.0f} % "
            "of the phase"
        )


if __name__ == "__main__":
    main()
