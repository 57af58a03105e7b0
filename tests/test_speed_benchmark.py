"""benchmarks.speed: the products-alone bound and the figures it prints."""

import re
import types

import keras
import numpy as np
import pytest

from benchmarks import speed


@pytest.mark.parametrize("library", ["keras", "numpy"])
def test_step_gemm_rate_times_three_products_per_layer(library, monkeypatch):
    calls = []
    owner = keras.ops if library == "keras" else np
    matmul = owner.matmul

    def counting(a, b):
        out = matmul(a, b)
        calls.append(tuple(out.shape))
        return out

    monkeypatch.setattr(owner, "matmul", counting)
    rate = speed.step_gemm_rate(
        [(8, 4), (4, 2)], batch_size=16, repeats=3, library=library
    )

    assert np.isfinite(rate) and rate > 0
    # Forward X @ W, backward dY @ W.T and X.T @ dY per layer, in each of the
    # warm-up step and the three timed ones.
    one_step = [(16, 4), (16, 8), (8, 4), (16, 2), (16, 4), (4, 2)]
    assert calls == one_step * 4


def test_main_prints_every_ratio(tmp_path, capsys, monkeypatch):
    # The benchmark's clock runs on fake seconds, each call one second more
    # than the last interval, so that every timing differs (the epochs with
    # XLA, timed later, take longer) and each ratio printed can be checked
    # against the times printed beside it (inverted ratios passed before).
    clock = {"now": 0.0, "step": 0.0}

    def perf_counter():
        clock["step"] += 1.0
        clock["now"] += clock["step"]
        return clock["now"]

    monkeypatch.setattr(speed, "time", types.SimpleNamespace(perf_counter=perf_counter))
    rng = np.random.default_rng(0)
    # Two whole batches of 256: a partial last batch would trace the step
    # again, with and without XLA (4 s).
    np.savez(
        tmp_path / "mnist.npz",
        X=rng.integers(0, 256, size=(512, 784), dtype=np.uint8),
        y=rng.integers(0, 10, size=512),
    )
    speed.main(
        [
            "--data-dir",
            str(tmp_path),
            "--epochs",
            "2",
            "--self-train-iters",
            "3",
            "--matmul-size",
            "512",
            "--xla",
        ]
    )
    out = capsys.readouterr().out

    assert out.startswith("machine: ")
    assert "python -m benchmarks.speed" in out.splitlines()[0]
    ratios = {}
    for name, pattern in {
        "products": r"products of one pretraining step alone .*, ([\d.]+) of the",
        "BLAS": r"numpy's BLAS: .*, ([\d.]+) of that matmul rate and ([\d.]+) of",
        "pretraining": r"ideal/actual ([\d.]+); against the products alone ([\d.]+)",
        "transform": r"transform: .*ideal/actual ([\d.]+)",
        "update share": r"self-training: .* = (\d+) % of the phase",
        "XLA": r"with XLA .*ideal/actual ([\d.]+); ([\d.]+) times the speed",
    }.items():
        match = re.search(pattern, out)
        assert match, f"no {name} figure in:\n{out}"
        ratios[name] = [float(value) for value in match.groups()]
    assert all(value > 0 for values in ratios.values() for value in values)
    ideal_epoch = float(re.search(r"ideal epoch ([\d.]+) s", out)[1])
    medians = [
        float(m[1])
        for m in re.finditer(r"min/median/max after the first [\d.]+/([\d.]+)/", out)
    ]
    assert len(medians) == 2  # without XLA, then with
    assert ratios["pretraining"][0] == pytest.approx(ideal_epoch / medians[0], rel=0.02)
    assert ratios["XLA"][1] == pytest.approx(medians[0] / medians[1], rel=0.02)
    assert ratios["XLA"][1] < 1  # the later epochs took longer
    rows, ideal_rows = re.search(
        r"transform: ([\d,]+) rows/s, ideal ([\d,]+) rows/s", out
    ).groups()
    rows, ideal_rows = (float(n.replace(",", "")) for n in (rows, ideal_rows))
    # Each printed to the row: rounding moves the ratio by up to half a row.
    assert ratios["transform"][0] == pytest.approx(
        rows / ideal_rows, rel=0.5 / rows + 0.5 / ideal_rows + 0.01, abs=0.005
    )
    assert "float32 matmul rate (512 x 512): " in out
    assert "(first includes tracing)" in out
    assert "self-training: " in out and "over 3 iterations" in out
