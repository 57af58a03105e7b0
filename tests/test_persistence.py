"""Model files, pickle across processes, warm start and interrupted fits."""

import copy
import errno
import importlib
import io
import itertools
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import skdec
from skdec import _archive, _networks
from skdec._estimator import DECClusterer
from skdec.tables import make_tabular_pipeline

from _helpers import record_calls, small_dec

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=120, centers=3, n_features=5, random_state=0)
    return X


@pytest.fixture(scope="module")
def fitted(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small_dec().fit(data)


@pytest.fixture()
def saved(fitted, tmp_path):
    path = tmp_path / "m.skdec"
    fitted.save(path)
    return path


# ------------------------------------------------- editing a model file


def read_model_file(path):
    """The header, the skops schema and the other skops members of a file."""
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("skdec.json"))
        payload = archive.read("model.skops")
    with zipfile.ZipFile(io.BytesIO(payload)) as inner:
        members = {name: inner.read(name) for name in inner.namelist()}
    return header, json.loads(members.pop("schema.json")), members


def write_model_file(path, header, schema, members):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
        for name, content in members.items():
            archive.writestr(name, content)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skdec.json", json.dumps(header))
        archive.writestr("model.skops", inner.getvalue())


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def attributes(schema):
    """The skops dict node of the DECClusterer's state."""
    return schema["content"]


# Ids of edited nodes: small numbers, which no object's id (an address) is.
_NEW_IDS = itertools.count(1)


def set_json(node, value):
    # A new __id__ too: skops builds equal ids once (the recipe's n_clusters
    # is the object of the parameter n_clusters).
    node.update(content=json.dumps(value), __id__=next(_NEW_IDS))


def function_node(module, name):
    """The skops node of the function ``module.name``."""
    return {"__class__": name, "__module__": module, "__loader__": "FunctionNode"}


def nodes_of(schema, class_name):
    """The skops nodes of the objects of class ``class_name`` in a schema."""
    found, pending = [], [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("__class__") == class_name:
                found.append(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def add_key(dict_node, key, like):
    """Add ``key`` to a skops dict node, with a copy of the node ``like``."""
    dict_node["content"][key] = {**copy.deepcopy(like), "__id__": next(_NEW_IDS)}
    key_types = dict_node["key_types"]["content"]
    key_types.append(copy.deepcopy(key_types[0]))


# ------------------------------------------------------------ round trips


def test_save_load_round_trip_is_exact(fitted, data, saved):
    loaded = skdec.load(saved)
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
    assert not list(saved.parent.glob(".skdec-save-*")), "temporary file left"
    header, _, _ = read_model_file(saved)
    assert header["format"] == "skdec.model" and header["format_version"] == 2
    assert header["object"] == "DECClusterer"


@pytest.mark.parametrize(
    "change",
    [
        dict(alpha=2.0),
        dict(n_clusters=4),
        dict(n_clusters="auto"),
        dict(n_components=3),
        dict(hidden_layer_sizes=(8, 8)),
        dict(activation="tanh"),
        dict(autoencoder="conv", decoder="upsample"),
    ],
    ids=lambda change: "-".join(change),
)
def test_parameters_set_after_fit_save_and_load_with_the_fitted_networks(
    fitted, data, tmp_path, change
):
    # As in scikit-learn, set_params after fit changes the next fit only: the
    # estimator goes on predicting with its networks, and every way of
    # keeping it restores them with the new parameters.
    dec = copy.deepcopy(fitted).set_params(**change)
    path = tmp_path / "m.skdec"
    dec.save(path)
    for restored in (skdec.load(path), pickle.loads(pickle.dumps(dec))):
        assert restored.get_params() == dec.get_params()
        np.testing.assert_array_equal(
            restored.predict_proba(data), fitted.predict_proba(data)
        )
        np.testing.assert_array_equal(restored.labels_, fitted.labels_)


def _student_t(Z, centers):
    """The soft assignment of the rows Z to ``centers``, alpha = 1."""
    q = 1.0 / (1.0 + ((Z[:, None, :] - centers[None]) ** 2).sum(axis=2))
    return q / q.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("how", ["assigned", "in place"])
def test_cluster_centers_changed_after_fit_are_used_and_kept(
    fitted, data, tmp_path, how
):
    # As KMeans uses cluster_centers_ set after fit. Before, predict went on
    # with the network's centres, and pickle, joblib and skdec.save wrote a
    # state that loading refused ("cluster_centers_ differs from the weights
    # of the clustering layer"), so that a saved model was lost.
    dec = copy.deepcopy(fitted)
    swapped = fitted.cluster_centers_[[1, 0, 2]]
    if how == "assigned":
        dec.cluster_centers_ = swapped.astype(np.float64)
    else:
        dec.cluster_centers_[:] = swapped
    np.testing.assert_allclose(
        dec.predict_proba(data),
        _student_t(fitted.transform(data), swapped),
        rtol=1e-5,
    )
    expected = np.array([1, 0, 2])[fitted.predict(data)]
    np.testing.assert_array_equal(dec.predict(data), expected)
    assert dec.cluster_centers_.dtype == np.float32
    dec.save(tmp_path / "m.skdec")
    for kept in (
        skdec.load(tmp_path / "m.skdec"),
        pickle.loads(pickle.dumps(dec)),
        copy.deepcopy(dec),
    ):
        np.testing.assert_array_equal(kept.cluster_centers_, swapped)
        np.testing.assert_array_equal(kept.predict(data), expected)
    # A warm start continues from them.
    warm = copy.deepcopy(fitted).set_params(warm_start=True, max_iter=0)
    warm.cluster_centers_ = swapped
    np.testing.assert_array_equal(warm.fit(data).labels_, expected)
    np.testing.assert_array_equal(warm.cluster_centers_, swapped)


@pytest.mark.parametrize(
    "centers, match",
    [
        (np.zeros((2, 2)), r"has shape \(2, 2\), but the model has 3 clusters"),
        (np.full((3, 2), np.nan), "NaN or values beyond the float32 range"),
        (np.full((3, 2), 1e39), "NaN or values beyond the float32 range"),
        ([["a", "b"]] * 3, "are not numbers"),
    ],
    ids=["shape", "nan", "float32-range", "text"],
)
def test_cluster_centers_that_cannot_be_used_are_refused(fitted, data, centers, match):
    dec = copy.deepcopy(fitted)
    dec.cluster_centers_ = centers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the cast's overflow
        with pytest.raises(ValueError, match=match):
            dec.predict(data)
        with pytest.raises(ValueError, match=match):
            pickle.dumps(dec)
    # The networks are untouched.
    dec.cluster_centers_ = fitted.cluster_centers_.copy()
    np.testing.assert_array_equal(dec.predict_proba(data), fitted.predict_proba(data))


def test_feature_names_survive_save_and_load(data, tmp_path):
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(data.shape[1])])
    dec = small_dec(max_iter=0).fit(frame)
    dec.save(tmp_path / "m.skdec")
    loaded = skdec.load(tmp_path / "m.skdec")
    np.testing.assert_array_equal(loaded.feature_names_in_, dec.feature_names_in_)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"f0": "other"}))


def test_a_pipeline_saves_and_loads_with_its_preprocessing(data, tmp_path):
    pipe = make_pipeline(StandardScaler(), small_dec(max_iter=0))
    pipe.fit(data * 100 + 7)
    skdec.save(pipe, tmp_path / "pipe.skdec")
    loaded = skdec.load(tmp_path / "pipe.skdec")
    np.testing.assert_array_equal(loaded[0].mean_, pipe[0].mean_)
    np.testing.assert_array_equal(
        loaded.predict_proba(data * 100 + 7), pipe.predict_proba(data * 100 + 7)
    )


def test_save_and_load_restore_through_getstate_and_setstate(
    fitted, data, saved, monkeypatch
):
    # One way out and back, as pickle: the file holds what __getstate__
    # returns, and loading calls __setstate__ (for format 1 files too).
    exports = record_calls(monkeypatch, DECClusterer, "__getstate__", lambda s: 1)
    fitted.save(saved)
    assert exports  # skops asks for the state (twice, as it happens)
    restores = record_calls(
        monkeypatch, DECClusterer, "__setstate__", lambda self, state: set(state)
    )
    skdec.load(saved)
    skdec.load(DATA / "v1_dec.skdec")
    assert len(restores) == 2
    assert {"_network_weights", "_network_recipe", "labels_"} <= restores[0]
    # Format 1 predates the attributes that record what "auto" chose, and
    # the parameters n_clusters_range, patience and start_learning_rate.
    since_v2 = {
        "init_",
        "init_scores_",
        "batch_size_",
        "pretrain_epochs_",
        "self_training_kept_",
        "n_clusters_",
        "n_clusters_scores_",
        "n_clusters_range",
        "patience",
        "start_learning_rate",
    }
    assert since_v2 <= restores[0]
    assert restores[0] - since_v2 == restores[1] - {"feature_names_in_"}


def test_a_format_1_file_records_its_parameters_as_what_was_chosen():
    old = skdec.load(DATA / "v1_dec.skdec")
    assert old.init_ == old.init
    assert old.batch_size_ == old.batch_size
    assert old.pretrain_epochs_ == old.pretrain_epochs
    assert old.init_scores_ is None
    assert old.self_training_kept_ is True


def test_saving_to_a_folder_names_the_folder(fitted, tmp_path):
    # Before: os.replace's message, naming the temporary file beside it.
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"Is a directory.*models'$") as caught:
        fitted.save(folder)
    assert ".skdec-save-" not in str(caught.value)
    assert [p.name for p in tmp_path.iterdir()] == ["models"]
    assert not list(folder.iterdir())


def test_saving_into_a_missing_folder_names_the_path_given(fitted, tmp_path):
    # Before: mkstemp's message, naming a temporary file (".m.skdec.x1y2z3")
    # that the user never asked for.
    path = tmp_path / "nowhere" / "m.skdec"
    with pytest.raises(FileNotFoundError) as caught:
        fitted.save(path)
    assert caught.value.filename == str(path)
    assert str(caught.value).endswith(f"No such file or directory: '{path}'")
    assert not list(tmp_path.iterdir())


def test_a_long_name_that_the_folder_takes_is_saved(fitted, tmp_path):
    # Before, the temporary file's name was built on it, and 10 characters
    # longer than the 255 a name may have: "File name too long" for a path
    # that open() takes.
    path = tmp_path / ("m" * 244 + ".skdec")
    path.write_bytes(b"")  # the name itself is allowed
    fitted.save(path)
    np.testing.assert_array_equal(skdec.load(path).labels_, fitted.labels_)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_folder_that_takes_no_new_file_is_named(fitted, tmp_path, monkeypatch):
    # A read-only folder (which root, running the tests, would not refuse):
    # no temporary file can be made there, so the folder is named.
    import tempfile

    def refused(dir, prefix):
        raise PermissionError(errno.EACCES, "Permission denied", f"{dir}/{prefix}x")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError) as caught:
        fitted.save(tmp_path / "m.skdec")
    assert caught.value.filename == str(tmp_path)


def test_save_before_fit_raises(tmp_path):
    with pytest.raises(NotFittedError):
        small_dec().save(tmp_path / "never-written.skdec")
    with pytest.raises(NotFittedError):
        skdec.save(make_pipeline(StandardScaler(), small_dec()), tmp_path / "x")
    assert not list(tmp_path.iterdir())


def _double(X):
    return 2 * X


@pytest.mark.parametrize(
    "first, named",
    [
        (FunctionTransformer(_double), "test_persistence._double"),
        # skops trusts PCA; a model file holds only what skdec writes.
        (PCA(3), "sklearn.decomposition._pca.PCA"),
    ],
)
def test_what_loading_would_refuse_is_not_saved(data, tmp_path, first, named):
    pipe = make_pipeline(first, small_dec(max_iter=0))
    pipe.fit(data)
    with pytest.raises(
        ValueError,
        match=r"Pipeline cannot be saved to a skdec model file: it holds "
        rf"{named}, .* Use pickle or joblib",
    ):
        skdec.save(pipe, tmp_path / "m.skdec")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "make",
    [
        lambda dec: StandardScaler(),
        lambda dec: make_pipeline(StandardScaler()),
        lambda dec: make_pipeline(dec, StandardScaler()),
    ],
    ids=["scaler", "pipeline-without-dec", "dec-not-last"],
)
def test_a_model_without_dec_at_its_end_is_not_saved(data, tmp_path, make):
    # Before, the file was written and skdec.load then refused it ("it
    # holds no DECClusterer").
    model = make(small_dec(max_iter=0)).fit(data)
    with pytest.raises(
        ValueError,
        match=rf"{type(model).__name__} cannot be saved to a skdec model file: "
        "it holds no DECClusterer at its end.* use pickle or joblib",
    ):
        skdec.save(model, tmp_path / "m.skdec")
    assert not list(tmp_path.iterdir())


def test_a_new_file_has_the_permissions_the_umask_allows(fitted, tmp_path):
    for umask, mode in [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)]:
        old = os.umask(umask)
        try:
            fitted.save(tmp_path / f"{umask:o}.skdec")
        finally:
            os.umask(old)
        assert (tmp_path / f"{umask:o}.skdec").stat().st_mode & 0o777 == mode
    # Saving over a file keeps its permissions.
    path = tmp_path / "22.skdec"
    path.chmod(0o640)
    fitted.save(path)
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.filterwarnings("ignore:Persisting input arguments:UserWarning")
def test_a_file_chooses_no_cache_folder(data, tmp_path):
    cache = str(tmp_path / "cache")
    pipe = make_pipeline(StandardScaler(), small_dec(max_iter=0, memory=cache))
    pipe.set_params(memory=cache).fit(data)
    skdec.save(pipe, tmp_path / "m.skdec")
    loaded = skdec.load(tmp_path / "m.skdec")
    assert loaded.memory is None and loaded[-1].memory is None
    np.testing.assert_array_equal(loaded.predict(data), pipe.predict(data))
    # A joblib.Memory is left out the same way (before: refused, with the
    # advice to pickle the model), and the model saved keeps its own.
    memory = joblib.Memory(cache, verbose=0)
    pipe.set_params(memory=memory, decclusterer__memory=memory)
    skdec.save(pipe, tmp_path / "m.skdec")
    assert pipe.memory is memory and pipe[-1].memory is memory
    loaded = skdec.load(tmp_path / "m.skdec")
    assert loaded.memory is None and loaded[-1].memory is None
    np.testing.assert_array_equal(loaded.predict(data), pipe.predict(data))


# ------------------------------------------------------- refused files


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


def test_a_file_naming_a_function_to_run_is_refused(saved, monkeypatch):
    calls = record_calls(monkeypatch, os, "system", lambda *args, **kw: args)
    header, schema, members = read_model_file(saved)
    # The estimator replaced by os.system, to be called with its state.
    schema.update({"__class__": "system", "__module__": "os"})
    write_model_file(saved, header, schema, members)
    with pytest.raises(ValueError, match="it names os.system, which skdec does not"):
        skdec.load(saved)
    assert calls == []


@pytest.mark.parametrize(
    "module, name, match",
    [
        # A function a file may name (in the tabular pipeline) is still not
        # an autoencoder for it; skops would trust NumPy's, skdec does not.
        ("skdec.tables", "_as_numbers", "it names a function as the autoencoder"),
        ("numpy", "add", "it names numpy.add, which skdec does not load"),
    ],
)
def test_a_file_naming_an_autoencoder_function_never_calls_it(
    saved, monkeypatch, module, name, match
):
    module_object = importlib.import_module(module)
    calls = record_calls(monkeypatch, module_object, name, lambda *args, **kw: args)
    header, schema, members = read_model_file(saved)
    attrs, recipe = attributes(schema), attributes(schema)["content"]["_network_recipe"]
    attrs["content"]["autoencoder"] = function_node(module, name)
    recipe["content"]["autoencoder"] = function_node(module, name)
    a_json_node = recipe["content"]["activation"]
    for key in ("hidden_layer_sizes", "activation", "conv_filters", "decoder"):
        recipe["content"][key] = copy.deepcopy(a_json_node)
        set_json(recipe["content"][key], None)
    write_model_file(saved, header, schema, members)
    with pytest.raises(ValueError, match="not a valid skdec model file: " + match):
        skdec.load(saved)
    assert calls == []


def test_a_recipe_larger_than_its_weights_is_refused_before_building(
    saved, monkeypatch
):
    builds = record_calls(monkeypatch, _networks, "build_networks", dict)
    header, schema, members = read_model_file(saved)
    attrs = attributes(schema)
    set_json(attrs["content"]["_network_recipe"]["content"]["n_features"], 100_000)
    set_json(attrs["content"]["n_features_in_"], 100_000)
    write_model_file(saved, header, schema, members)
    with pytest.raises(ValueError, match="weights do not fit the architecture"):
        skdec.load(saved)
    assert builds == []


@pytest.mark.parametrize(
    "recipe",
    [
        dict(autoencoder="dense", hidden_layer_sizes=(16, 8), activation="relu"),
        dict(autoencoder="dense", hidden_layer_sizes=(), activation="relu"),
        dict(autoencoder="conv", input_shape=(7, 5, 2), decoder="transpose"),
        dict(autoencoder="conv", input_shape=(7, 5, 2), decoder="upsample"),
        dict(autoencoder="conv", input_shape=(4, 4, 1), decoder="upsample"),
    ],
)
def test_weight_shapes_are_those_of_the_networks(recipe):
    recipe = {
        "n_components": 3,
        "n_clusters": 4,
        "alpha": 1.0,
        "hidden_layer_sizes": None,
        "activation": None,
        "input_shape": None,
        "conv_filters": (4, 6, 8) if recipe["autoencoder"] == "conv" else None,
        "decoder": None,
        **recipe,
    }
    shape = recipe["input_shape"]
    recipe["n_features"] = int(np.prod(shape)) if shape else 5
    networks = _networks.build_networks(**recipe)
    expected = [tuple(w.shape) for w in networks.model.get_weights()]
    assert _archive.weight_shapes(recipe) == expected


def _zip_bomb(members):
    members["padding.bin"] = bytes(50_000_000)  # deflated to about 50 kB


def _huge_array(members):
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    np.lib.format.write_array_header_1_0(buffer, header)
    name = next(n for n in members if n.endswith(".npy"))
    members[name] = buffer.getvalue() + bytes(8)


@pytest.mark.parametrize(
    "tamper, match",
    [
        (_zip_bomb, "its model holds 5.* bytes in .* members once decompressed, "
         "more than skdec reads"),
        (_huge_array, "its model holds an array .* larger than its data"),
    ],
)  # fmt: skip
def test_a_small_file_cannot_make_loading_read_much(saved, monkeypatch, tamper, match):
    monkeypatch.setattr(_archive, "MAX_MODEL_BYTES", 10_000_000)
    header, schema, members = read_model_file(saved)
    tamper(members)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", json.dumps(schema))
        for name, content in members.items():
            archive.writestr(name, content)
    with zipfile.ZipFile(saved, "w") as archive:
        archive.writestr("skdec.json", json.dumps(header))
        archive.writestr("model.skops", inner.getvalue())
    assert saved.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="not a valid skdec model file: " + match):
        skdec.load(saved)


def test_a_model_too_large_to_save_says_why_and_what_to_use(
    fitted, monkeypatch, tmp_path
):
    # The cap is met through labels_ on some hundred million training rows;
    # before, the refusal named no cause and no way out.
    import copy

    big = copy.deepcopy(fitted)
    big.labels_ = np.zeros(20_000, dtype=np.int64)  # as if fitted on more rows
    monkeypatch.setattr(_archive, "MAX_MODEL_BYTES", 100_000)
    match = r"more than skdec reads .*\(labels_, 8 bytes each\)\. Use pickle or joblib"
    with pytest.raises(ValueError, match=match):
        big.save(tmp_path / "m.skdec")
    assert not (tmp_path / "m.skdec").exists()


def test_a_pipeline_file_calls_only_skdecs_conversions(table_pipe, tmp_path):
    path = tmp_path / "m.skdec"
    skdec.save(table_pipe, path)
    header, schema, members = read_model_file(path)
    # Its feature names computed by a function the file chooses.
    node = nodes_of(schema, "FunctionTransformer")[0]["content"]["content"]
    node["feature_names_out"] = function_node("skdec.tables", "_as_categories")
    write_model_file(path, header, schema, members)
    with pytest.raises(
        ValueError,
        match="it holds the function skdec.tables._as_categories where skdec calls",
    ):
        skdec.load(path)


@pytest.fixture(scope="module")
def table_pipe():
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0], "b": list("xyxyzx")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_tabular_pipeline(frame, small_dec(n_clusters=2, max_iter=0))
        return pipe.fit(frame)


def test_invalid_scikit_learn_attributes_are_refused(fitted):
    state = fitted.__getstate__()
    state["_sklearn_output_config"] = {"transform": "anything"}
    with pytest.raises(ValueError, match="scikit-learn attributes are invalid"):
        pickle.loads(pickle.dumps(fitted)).__setstate__(state)


def _activation(attrs, members):
    set_json(attrs["content"]["_network_recipe"]["content"]["activation"], "lambda")


def _extra_layer(attrs, members):
    recipe = attrs["content"]["_network_recipe"]
    add_key(recipe, "layers", recipe["content"]["activation"])


def _clusters(attrs, members):
    set_json(attrs["content"]["_network_recipe"]["content"]["n_clusters"], 4)


def _recipe_alpha(attrs, members):
    set_json(attrs["content"]["_network_recipe"]["content"]["alpha"], -1.0)


def _weight_shape(attrs, members):
    first = attrs["content"]["_network_weights"]["content"][0]["file"]
    members[first] = npy(np.zeros((2, 2), np.float32))


def _alpha(attrs, members):
    set_json(attrs["content"]["alpha"], -1.0)


def _unknown_attribute(attrs, members):
    add_key(attrs, "predict", attrs["content"]["n_iter_"])


def _float_labels(attrs, members):
    members[attrs["content"]["labels_"]["file"]] = npy(np.zeros(120))


def _centres(attrs, members):
    name = attrs["content"]["cluster_centers_"]["file"]
    centers = np.load(io.BytesIO(members[name]))
    members[name] = npy(centers + 1)


@pytest.mark.parametrize(
    "tamper, match",
    [
        (_activation, "invalid architecture"),
        (_extra_layer, "unexpected architecture"),
        (_clusters, "weights do not fit the architecture"),
        (_recipe_alpha, "invalid architecture"),
        (_weight_shape, "weights do not fit the architecture"),
        (_alpha, "invalid parameters"),
        (_unknown_attribute, r"unexpected attributes \['predict'\]"),
        (_float_labels, "fitted attributes are inconsistent"),
        (_centres, "cluster_centers_ differs from the weights"),
    ],
)
def test_tampered_state_is_refused(saved, tamper, match):
    header, schema, members = read_model_file(saved)
    tamper(attributes(schema), members)
    write_model_file(saved, header, schema, members)
    with pytest.raises(ValueError, match="not a valid skdec model file: .*" + match):
        skdec.load(saved)


@pytest.mark.parametrize(
    "edit, match",
    [
        (dict(format="keras"), "does not name the skdec format"),
        (dict(format_version="2"), "invalid format version '2'"),
        (dict(format_version=1), "format 'skdec.model' has no version 1"),
        (dict(object="Pipeline"), "its metadata and its model disagree"),
        (dict(notes=[1]), "its metadata or its model is missing"),
        (
            dict(notes={"id_column": [1]}),
            r"its metadata is invalid: notes must map names to text or None",
        ),
    ],
)
def test_tampered_metadata_is_refused(saved, edit, match):
    header, schema, members = read_model_file(saved)
    write_model_file(saved, {**header, **edit}, schema, members)
    with pytest.raises(ValueError, match="not a valid skdec model file: .*" + match):
        skdec.load(saved)


def test_newer_format_version_names_both_versions(saved):
    header, schema, members = read_model_file(saved)
    header["format_version"] = _archive.FORMAT_VERSION + 1
    write_model_file(saved, header, schema, members)
    with pytest.raises(
        ValueError,
        match=rf"format version {_archive.FORMAT_VERSION + 1}, newer than "
        rf"version {_archive.FORMAT_VERSION} that skdec .* reads. Upgrade skdec",
    ):
        skdec.load(saved)


def test_a_file_of_a_newer_skdec_that_this_one_refuses_says_so(saved):
    # Same format version, but an attribute this skdec does not know: the
    # message says which skdec wrote it (before: only "unexpected attributes").
    header, schema, members = read_model_file(saved)
    _unknown_attribute(attributes(schema), members)
    write_model_file(saved, {**header, "skdec_version": "99.0.0"}, schema, members)
    with pytest.raises(
        ValueError,
        match=r"unexpected attributes \['predict'\]\. It was written by skdec "
        r"99\.0\.0, newer than this skdec .*: upgrade skdec to load it\.",
    ):
        skdec.load(saved)
    # Any newer version, a development or candidate one included.
    assert skdec.__version__ == "0.2.0.dev0"  # the versions below surround it
    for newer in ("0.2.0", "0.3.0.dev0", "1.0rc1"):
        write_model_file(saved, {**header, "skdec_version": newer}, schema, members)
        with pytest.raises(ValueError, match=f"written by skdec {newer}, newer"):
            skdec.load(saved)
    # Written by this version or an older one: no such note.
    for older in ("0.0.1", "0.1.0", skdec.__version__):
        write_model_file(saved, {**header, "skdec_version": older}, schema, members)
        with pytest.raises(ValueError, match=r"unexpected attributes \['predict'\]\.$"):
            skdec.load(saved)


def _patch_zip_headers(path, offset_in_local, offset_in_central, patch):
    """Apply ``patch(data, position)`` to a field of every member's local and
    central directory headers of the zip file at ``path``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos, position = archive.infolist(), archive.start_dir
    for info in infos:
        patch(data, info.header_offset + offset_in_local)
        assert data[position : position + 4] == b"PK\x01\x02"
        patch(data, position + offset_in_central)
        lengths = struct.unpack("<HHH", data[position + 28 : position + 34])
        position += 46 + sum(lengths)
    path.write_bytes(bytes(data))


def _encrypted(path):
    def set_flag(data, position):
        data[position] |= 1

    _patch_zip_headers(path, 6, 8, set_flag)


def _unknown_compression(path):
    def set_method(data, position):
        data[position : position + 2] = struct.pack("<H", 97)

    _patch_zip_headers(path, 8, 10, set_method)


def _broken_deflate_stream(path):
    # The model's own members deflated, one stream overwritten: every CRC of
    # the file itself still holds.
    header, schema, members = read_model_file(path)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", json.dumps(schema))
        for name, content in members.items():
            archive.writestr(name, content)
    payload = bytearray(inner.getvalue())
    with zipfile.ZipFile(inner) as archive:
        info = archive.getinfo("schema.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    payload[start : start + info.compress_size] = b"\xff" * info.compress_size
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skdec.json", json.dumps(header))
        archive.writestr("model.skops", bytes(payload))


@pytest.mark.parametrize(
    "damage, match",
    [
        (_encrypted, "it is damaged or cut short .*is encrypted"),
        (_unknown_compression, "it is damaged or cut short .*not supported"),
        (_broken_deflate_stream, "its model cannot be read .*decompressing"),
    ],
)
def test_a_damaged_archive_is_refused_with_the_files_error(saved, damage, match):
    # zipfile raises RuntimeError, NotImplementedError and zlib.error there.
    damage(saved)
    with pytest.raises(ValueError, match="not a valid skdec model file: " + match):
        skdec.load(saved)


def test_a_file_cut_short_is_called_damaged(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"it is damaged or cut short \(File is not a zip file\)\.$"
    ):
        skdec.load(saved)


def test_a_file_cut_after_its_model_is_called_damaged(saved):
    # Cut where the file's own directory starts, the end record last in the
    # file is that of the model archive stored inside, which zipfile reads
    # as the archive: it holds no skdec metadata, but the file is cut short.
    with zipfile.ZipFile(saved) as archive:
        end_of_members = archive.start_dir
    saved.write_bytes(saved.read_bytes()[:end_of_members])
    with pytest.raises(ValueError, match=r"it is damaged or cut short\.$"):
        skdec.load(saved)


def test_an_estimator_with_parameters_not_yet_valid_pickles_and_copies():
    # scikit-learn validates parameters in fit: GridSearchCV(n_jobs=2) pickles
    # its estimator to the workers before setting the grid's values, which
    # failed where the estimator's own were not valid (n_clusters=None).
    for estimator in (DECClusterer(n_clusters=None), small_dec(alpha=-1.0)):
        for restored in (
            pickle.loads(pickle.dumps(estimator)),
            copy.deepcopy(estimator),
        ):
            assert restored.get_params() == estimator.get_params()
    with pytest.raises(ValueError, match="n_clusters"):  # in fit, as before
        pickle.loads(pickle.dumps(DECClusterer(n_clusters=None))).fit(np.eye(4))


class _Annotated(DECClusterer):
    """A subclass that adds a fitted attribute of its own."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.sizes_ = np.bincount(self.labels_)
        return self


def test_a_subclass_with_attributes_of_its_own_pickles(data):
    fitted = _Annotated(**small_dec(max_iter=0).get_params()).fit(data)
    fitted.note = "checked by hand"
    for restored in (pickle.loads(pickle.dumps(fitted)), copy.deepcopy(fitted)):
        np.testing.assert_array_equal(restored.sizes_, fitted.sizes_)
        assert restored.note == "checked by hand"
        np.testing.assert_array_equal(restored.predict(data), fitted.labels_)


def test_pickle_goes_through_the_same_checks(fitted):
    state = fitted.__getstate__()
    state["_network_recipe"] = {**state["_network_recipe"], "activation": "lambda"}
    with pytest.raises(ValueError, match="invalid architecture"):
        pickle.loads(pickle.dumps(fitted)).__setstate__(state)


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


def test_foreign_archives_are_refused(tmp_path):
    np.savez(tmp_path / "foreign.npz", X=np.zeros(3))
    with pytest.raises(ValueError, match="no skdec metadata"):
        skdec.load(tmp_path / "foreign.npz")
    import skops.io

    skops.io.dump(StandardScaler().fit(np.eye(3)), tmp_path / "scaler.skops")
    with pytest.raises(ValueError, match="no skdec metadata"):
        skdec.load(tmp_path / "scaler.skops")


def test_a_model_file_without_dec_is_refused(saved, tmp_path):
    import skops.io

    header, _, _ = read_model_file(saved)
    scaler = skops.io.dumps(StandardScaler().fit(np.eye(3)))
    path = tmp_path / "scaler.skdec"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "skdec.json", json.dumps({**header, "object": "StandardScaler"})
        )
        archive.writestr("model.skops", scaler)
    with pytest.raises(ValueError, match="it holds no DECClusterer"):
        skdec.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        skdec.load(tmp_path / "absent.skdec")


# ------------------------------------------------ files of format 1


def test_format_1_files_still_load_and_predict_as_before():
    loaded = skdec.load(DATA / "v1_dec.skdec")
    X, _ = make_blobs(60, n_features=3, centers=3, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    np.testing.assert_allclose(
        loaded.predict_proba(frame), np.load(DATA / "v1_dec_proba.npy"), rtol=1e-5
    )
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c"])
    np.testing.assert_array_equal(loaded.labels_, loaded.predict(frame))
    assert loaded.hidden_layer_sizes == (16,) and loaded.max_iter == 20


def test_a_format_1_model_continues_with_a_warm_start():
    # Its history predates the criterion of DEC's sharpening.
    old = skdec.load(DATA / "v1_dec.skdec")
    assert "criterion" not in old.history_
    X, _ = make_blobs(60, n_features=3, centers=3, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    n_iter, n_updates = old.n_iter_, len(old.history_["kl_loss"])
    old.set_params(warm_start=True, max_iter=5, tol=0.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        old.fit(frame)
    assert old.n_iter_ == n_iter + 5
    assert len(old.history_["kl_loss"]) == n_updates + 1
    assert old.history_["criterion"] == []


def test_a_file_from_before_a_parameter_existed_takes_its_default(tmp_path):
    arrays, metadata = read_archive(DATA / "v1_dec.skdec")
    del metadata["params"]["umap_merge"]
    write_archive(tmp_path / "m.skdec", arrays, metadata)
    loaded = skdec.load(tmp_path / "m.skdec")
    assert loaded.umap_merge is False
    assert loaded.get_params() == skdec.load(DATA / "v1_dec.skdec").get_params()


def read_archive(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(str(arrays["metadata"]))


def write_archive(path, arrays, metadata):
    arrays = {**arrays, "metadata": np.array(json.dumps(metadata))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


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
        (
            lambda a, m: m["recipe"].update(n_clusters=4),
            "weights do not fit the architecture",
        ),
        (lambda a, m: m["recipe"].update(alpha=0.0), "invalid architecture"),
        (
            lambda a, m: a.update(weight_000=np.zeros((2, 2), np.float32)),
            "weights do not fit the architecture",
        ),
        (lambda a, m: m.update(n_weights=1), "weights do not fit the architecture"),
        (lambda a, m: m.update(n_weights=99), "weights are missing"),
        (lambda a, m: m.update(n_weights=10**12), "weights are missing"),
        (lambda a, m: m.update(format="keras"), "does not name the skdec format"),
        (lambda a, m: m.update(format_version=2), "format 'skdec.DECClusterer' has"),
        (lambda a, m: m["params"].update(alpha=-1.0), "invalid parameters"),
        (lambda a, m: m["params"].update(unknown=1), "unexpected attributes"),
        (lambda a, m: a.update(labels=np.zeros(3)), "inconsistent"),
    ],
)
def test_tampered_format_1_files_are_refused(tmp_path, tamper, match):
    path = tmp_path / "m.skdec"
    arrays, metadata = read_archive(DATA / "v1_dec.skdec")
    tamper(arrays, metadata)
    write_archive(path, arrays, metadata)
    with pytest.raises(ValueError, match="not a valid skdec model file: .*" + match):
        skdec.load(path)


def test_format_1_file_with_a_newer_version_says_upgrade(tmp_path):
    shutil.copy(DATA / "v1_dec.skdec", tmp_path / "m.skdec")
    arrays, metadata = read_archive(tmp_path / "m.skdec")
    metadata["format_version"] = 3
    write_archive(tmp_path / "m.skdec", arrays, metadata)
    with pytest.raises(ValueError, match="format version 3, newer than version 2"):
        skdec.load(tmp_path / "m.skdec")


# ------------------------------------------------------------- pickle


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


# ------------------------------------------------------------ warm start


def test_warm_start_with_no_iterations_changes_nothing(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, max_iter=0)
    warm.fit(data)
    np.testing.assert_array_equal(warm.transform(data), fitted.transform(data))
    assert warm.n_iter_ == fitted.n_iter_
    assert warm.history_ == fitted.history_


def test_warm_start_keeps_the_numbers_of_clusters_that_new_rows_leave_empty(
    fitted, data
):
    # Continuing on a batch that reaches no row of cluster 0: before, the
    # clusters were renumbered (0 moved last), so that every stored label
    # changed its meaning, even with max_iter=0.
    before = fitted.predict(data)
    warm = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True, max_iter=0)
    with pytest.warns(ConvergenceWarning) as caught:
        warm.fit(data[before != 0])
    assert [str(w.message) for w in caught] == [
        "The rows given to this warm start reach 2 of the 3 clusters: "
        "cluster(s) 0 received no row: their centres learn nothing from these "
        "rows, and they keep their numbers."
    ]
    np.testing.assert_array_equal(warm.predict(data), before)
    np.testing.assert_array_equal(warm.cluster_centers_, fitted.cluster_centers_)
    np.testing.assert_array_equal(warm.labels_, before[before != 0])


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
    # A cold refit starts over: pretraining and k-means run again, so it ends
    # exactly where a fresh fit with the same parameters ends.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold = pickle.loads(pickle.dumps(warm)).set_params(warm_start=False).fit(data)
        fresh = small_dec(max_iter=15, tol=0.0).fit(data)
    assert cold.n_iter_ == fresh.n_iter_ == 15
    assert cold.history_ == fresh.history_
    np.testing.assert_array_equal(cold.predict_proba(data), fresh.predict_proba(data))


def test_warm_start_refuses_a_changed_architecture(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True)
    warm.set_params(n_components=3)
    with pytest.raises(ValueError, match=r"\['n_components'\] changed since"):
        warm.fit(data)


def test_warm_start_refuses_a_changed_feature_count(fitted, data):
    warm = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True)
    with pytest.raises(ValueError, match="X has 4 features"):
        warm.fit(data[:, :4])


# ------------------------------------------------------- interruptions


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
