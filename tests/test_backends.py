"""The model code is plain Keras 3: it runs on the JAX backend too.

Keras reads its backend once per process, so each backend runs in a
subprocess. TensorFlow, the default, is what the rest of the suite tests.
"""

import importlib.util
import sys

import pytest

from _helpers import run_json_script

SCRIPT = """
import json, pickle, sys, warnings
import keras
import numpy as np
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
import skdec
from skdec import DECClusterer, cluster_accuracy

warnings.simplefilter("ignore", ConvergenceWarning)
out = {"backend": keras.backend.backend()}
# Whole batches of 32 and 64: a partial last batch compiles JAX's steps again.
X, y = make_blobs(256, centers=3, cluster_std=0.5, random_state=0)
X = X.astype("float32")
small = dict(hidden_layer_sizes=(16,), n_components=2, pretrain_epochs=10,
             max_iter=60, update_interval=20, batch_size=32, n_init=3)
dec = DECClusterer(3, random_state=0, **small).fit(X)
out["acc"] = cluster_accuracy(y, dec.labels_)
out["proba_rows_sum_to_one"] = bool(np.allclose(dec.predict_proba(X).sum(1), 1))
out["predict_is_labels"] = bool((dec.predict(X) == dec.labels_).all())
again = pickle.loads(pickle.dumps(dec))
out["pickle_same"] = bool(np.array_equal(again.transform(X), dec.transform(X)))
dec.save(sys.argv[1])
out["load_same"] = bool(
    np.array_equal(skdec.load(sys.argv[1]).predict(X), dec.predict(X)))
idec = DECClusterer(3, random_state=0, reconstruction_weight=1.0, **small).fit(X)
out["idec_acc"] = cluster_accuracy(y, idec.labels_)
digits, digit_y = load_digits(return_X_y=True)
conv = DECClusterer(10, autoencoder="conv", input_shape=(8, 8, 1),
                    conv_filters=(4, 8), pretrain_epochs=3, max_iter=20,
                    batch_size=64, random_state=0).fit(digits[:256] / 16)
out["conv_shape"] = list(conv.transform(digits[:5] / 16).shape)
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", ["jax"])
def test_fit_predict_save_on_another_backend(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    out = run_json_script(
        SCRIPT, tmp_path / "model.npz", env={"KERAS_BACKEND": backend}
    )
    assert out["backend"] == backend
    assert out["acc"] > 0.9
    assert out["idec_acc"] > 0.9
    assert out["proba_rows_sum_to_one"]
    assert out["predict_is_labels"]
    assert out["pickle_same"]
    assert out["load_same"]
    assert out["conv_shape"] == [5, 10]


class _FakeTorch:
    """What of PyTorch the guard uses: its thread count."""

    def __init__(self, threads):
        self.threads = threads

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, threads):
        self.threads = threads


def test_torch_gets_its_thread_count_back_after_umap(monkeypatch):
    from skdec._initialization import _torch_threads_kept

    torch = _FakeTorch(1)
    monkeypatch.setitem(sys.modules, "torch", torch)
    with _torch_threads_kept():
        torch.set_num_threads(2)  # what numba's OpenMP pool does at launch
    assert torch.threads == 1
    monkeypatch.delitem(sys.modules, "torch")
    with _torch_threads_kept():  # without PyTorch, nothing to keep
        pass


THREADS_SCRIPT = """
import json
import torch
from sklearn.datasets import load_digits
from skdec._initialization import umap_view
before = torch.get_num_threads()
umap_view(load_digits().data[:300] / 16, 10, 0)
print(json.dumps({"before": before, "after": torch.get_num_threads()}))
"""


def test_umap_leaves_the_torch_thread_count_of_omp_num_threads():
    # Found on the PyTorch backend with OMP_NUM_THREADS=1: UMAP's first run
    # in a process raised PyTorch's threads to numba's, and later fits in
    # the process came out different from the first.
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    # numba's pool of two threads at least, as on a machine of two cores.
    env = {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "2"}
    out = run_json_script(THREADS_SCRIPT, env=env)
    assert out == {"before": 1, "after": 1}
