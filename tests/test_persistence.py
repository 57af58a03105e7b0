"""Save/load, pickle across processes, warm start and interrupted fits."""

import json
import os
import pickle
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skdec
from skdec import _persistence

from _helpers import small_dec


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=120, centers=3, n_features=5, random_state=0)
    return X


@pytest.fixture(scope="module")
def fitted(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small_dec().fit(data)


def read_archive(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(str(arrays["metadata"]))


def write_archive(path, arrays, metadata):
    arrays = {**arrays, "metadata": np.array(json.dumps(metadata))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_save_load_round_trip_is_exact(fitted, data, tmp_path):
    path = tmp_path / "model.skdec"
    fitted.save(path)
    loaded = skdec.load(path)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.transform(data), fitted.transform(data))
    np.testing.assert_array_equal(
        loaded.predict_proba(data), fitted.predict_proba(data)
    )
    np.testing.assert_array_equal(loaded.labels_, fitted.labels_)
    np.testing.assert_array_equal(loaded.cluster_centers_, fitted.cluster_centers_)
    assert loaded.n_iter_ == fitted.n_iter_
    assert loaded.history_ == fitted.history_
    assert loaded.n_features_in_ == fitted.n_features_in_
    assert not list(tmp_path.glob(".model.skdec.*")), "temporary file left behind"


def test_feature_names_survive_save_and_load(data, tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(data.shape[1])])
    dec = small_dec(max_iter=0).fit(frame)
    dec.save(tmp_path / "m.skdec")
    loaded = skdec.load(tmp_path / "m.skdec")
    np.testing.assert_array_equal(loaded.feature_names_in_, dec.feature_names_in_)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"f0": "other"}))


def test_save_before_fit_raises():
    with pytest.raises(NotFittedError):
        small_dec().save("never-written.skdec")


def test_load_never_unpickles(tmp_path):
    marker = tmp_path / "code-ran"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.skdec"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match="not a valid skdec model file"):
        skdec.load(path)
    assert not marker.exists()


def test_object_arrays_in_the_archive_are_refused(fitted, tmp_path):
    path = tmp_path / "m.skdec"
    fitted.save(path)
    arrays, metadata = read_archive(path)
    arrays["weight_000"] = np.array([object()], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="not a valid skdec model file"):
        skdec.load(path)


@pytest.mark.parametrize(
    "tamper, match",
    [
        (lambda a, m: m["recipe"].update(activation="lambda"), "invalid architecture"),
        (
            lambda a, m: m["recipe"].update(
                layers=[{"class_name": "Lambda", "config": {"function": "..."}}]
            ),
            "unexpected architecture",
        ),
        (lambda a, m: m["recipe"].update(n_clusters=4), "disagree on n_clusters"),
        (
            lambda a, m: a.update(weight_000=np.zeros((2, 2), np.float32)),
            "weights do not fit the architecture",
        ),
        (lambda a, m: m.update(n_weights=1), "weights do not fit the architecture"),
        (lambda a, m: m.update(format="keras"), "does not name the skdec format"),
        (lambda a, m: m["params"].update(alpha=-1.0), "invalid parameters"),
        (lambda a, m: m["params"].update(unknown=1), "invalid parameters"),
        (lambda a, m: a.update(labels=np.zeros(3)), "inconsistent"),
    ],
)
def test_tampered_files_are_refused(fitted, tmp_path, tamper, match):
    path = tmp_path / "m.skdec"
    fitted.save(path)
    arrays, metadata = read_archive(path)
    tamper(arrays, metadata)
    write_archive(path, arrays, metadata)
    with pytest.raises(ValueError, match=match):
        skdec.load(path)


def test_newer_format_version_names_both_versions(fitted, tmp_path):
    path = tmp_path / "m.skdec"
    fitted.save(path)
    arrays, metadata = read_archive(path)
    metadata["format_version"] = _persistence.FORMAT_VERSION + 1
    write_archive(path, arrays, metadata)
    with pytest.raises(
        ValueError,
        match=rf"format version {_persistence.FORMAT_VERSION + 1}, newer than "
        rf"version {_persistence.FORMAT_VERSION}",
    ):
        skdec.load(path)


@pytest.mark.parametrize(
    "content",
    [b"just text\n", b"", b"PK\x03\x04 broken zip"],
    ids=["text", "empty", "zip"],
)
def test_files_that_are_not_models_are_refused(tmp_path, content):
    path = tmp_path / "m.skdec"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a valid skdec model file"):
        skdec.load(path)


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, X=np.zeros(3))
    with pytest.raises(ValueError, match="no skdec metadata"):
        skdec.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        skdec.load(tmp_path / "absent.skdec")


def test_pickle_predicts_bitwise_identically_in_a_fresh_process(fitted, data, tmp_path):
    model_path, data_path, out_path = (
        tmp_path / "m.pkl",
        tmp_path / "X.npy",
        tmp_path / "q.npy",
    )
    model_path.write_bytes(pickle.dumps(fitted))
    np.save(data_path, data)
    script = (
        "import pickle, sys, numpy as np\n"
        "est = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "np.save(sys.argv[3], est.predict_proba(np.load(sys.argv[2])))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        [sys.executable, "-c", script, model_path, data_path, out_path],
        check=True,
        env=env,
        timeout=300,
    )
    np.testing.assert_array_equal(np.load(out_path), fitted.predict_proba(data))


def test_warm_start_with_no_iterations_changes_nothing(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, max_iter=0)
    warm.fit(data)
    np.testing.assert_array_equal(warm.transform(data), fitted.transform(data))
    assert warm.n_iter_ == fitted.n_iter_
    assert warm.history_ == fitted.history_


def test_warm_start_continues_self_training(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, max_iter=15, tol=0.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=15"):
        warm.fit(data)
    assert warm.n_iter_ == fitted.n_iter_ + 15
    assert warm.history_["pretrain_loss"] == fitted.history_["pretrain_loss"]
    n_updates = len(fitted.history_["kl_loss"])
    assert warm.history_["kl_loss"][:n_updates] == fitted.history_["kl_loss"]
    assert len(warm.history_["kl_loss"]) == n_updates + 2  # updates at 0 and 10
    assert not np.array_equal(warm.transform(data), fitted.transform(data))
    # A cold refit starts over: pretraining runs again.
    cold = pickle.loads(pickle.dumps(warm)).set_params(warm_start=False).fit(data)
    assert cold.n_iter_ <= cold.max_iter


def test_warm_start_refuses_a_changed_architecture(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True)
    warm.set_params(n_components=3)
    with pytest.raises(ValueError, match=r"\['n_components'\] changed since"):
        warm.fit(data)


def test_warm_start_refuses_a_changed_feature_count(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True)
    with pytest.raises(ValueError, match="X has 4 features"):
        warm.fit(data[:, :4])


def _interrupt_after(monkeypatch, model_name, n_calls):
    original = keras.Model.train_on_batch
    calls = {"n": 0}

    def train_on_batch(self, *args, **kwargs):
        if self.name == model_name:
            calls["n"] += 1
            if calls["n"] > n_calls:
                raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "train_on_batch", train_on_batch)


@pytest.mark.parametrize("phase", ["autoencoder", "clusterer"])
def test_interrupted_first_fit_leaves_the_estimator_unfitted(phase, data, monkeypatch):
    dec = small_dec()
    _interrupt_after(monkeypatch, phase, 3)
    with pytest.raises(KeyboardInterrupt):
        dec.fit(data)
    assert not any(name.endswith("_") for name in vars(dec))
    with pytest.raises(NotFittedError):
        dec.predict(data)


@pytest.mark.parametrize("phase", ["autoencoder", "clusterer"])
def test_interrupted_refit_keeps_the_previous_model(phase, fitted, data, monkeypatch):
    dec = pickle.loads(pickle.dumps(fitted))
    before = dec.predict_proba(data)
    attributes = {k: v for k, v in vars(dec).items() if k.endswith("_")}
    _interrupt_after(monkeypatch, phase, 3)
    with pytest.raises(KeyboardInterrupt):
        dec.set_params(random_state=1).fit(data)
    monkeypatch.undo()
    np.testing.assert_array_equal(dec.predict_proba(data), before)
    for name, value in attributes.items():
        assert getattr(dec, name) is value
    # The interrupted trainer is not reused: a new fit equals a clean one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = small_dec().fit(data)
    np.testing.assert_array_equal(again.predict_proba(data), before)
