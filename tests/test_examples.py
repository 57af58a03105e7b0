"""The example that is not run when the documentation is built."""

import importlib.util
from pathlib import Path

import numpy as np

from skdec import DECClusterer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mnist_reproduce.py"


def load_example():
    spec = importlib.util.spec_from_file_location("mnist_reproduce", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paper_configuration_is_valid_and_differs_from_the_defaults():
    example = load_example()
    model = DECClusterer(10, **example.PAPER)
    model._validate_params()  # raises on an unknown or out-of-range value
    defaults = DECClusterer(10).get_params()
    assert all(defaults[name] != value for name, value in example.PAPER.items())
    assert example.parse_args(["--paper"]).paper
    assert not example.parse_args([]).paper


def test_defaults_run_on_a_small_mnist_file(tmp_path, capsys):
    example = load_example()
    rng = np.random.default_rng(0)
    centers = rng.integers(0, 256, size=(10, 784))
    y = np.repeat(np.arange(10), 8)
    X = np.clip(centers[y] + rng.integers(-20, 21, size=(80, 784)), 0, 255)
    np.savez(tmp_path / "mnist.npz", X=X.astype(np.uint8), y=y)
    example.main(["--data-dir", str(tmp_path), "--n-samples", "60", "--quiet"])
    out = capsys.readouterr().out
    assert "60 images of 784 pixels" in out
    assert "k-means: accuracy 1.0000" in out  # ten far-apart groups
    assert "DEC (defaults, start " in out and "accuracy 1.0000, NMI" in out
