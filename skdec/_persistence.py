"""Safe save and load of fitted estimators: plain arrays plus JSON.

A model file is a NumPy ``.npz`` archive: one unicode array ``metadata`` holds
JSON (format name and version, parameters, architecture recipe, small fitted
attributes), the other arrays hold the labels, the centres and the network
weights. Loading uses ``allow_pickle=False`` and builds the networks with
skdec's own builder from a validated recipe, so a file can never make the
loader unpickle objects or run code.
"""

import json
import os
import tempfile
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skdec._networks import networks_from_weights

FORMAT_NAME = "skdec.DECClusterer"
FORMAT_VERSION = 1

_RECIPE_KEYS = {
    "n_features",
    "n_components",
    "n_clusters",
    "alpha",
    "autoencoder",
    "hidden_layer_sizes",
    "activation",
    "input_shape",
    "conv_filters",
    "decoder",
}
_HISTORY_KEYS = {"pretrain_loss", "kl_loss", "delta_label"}


def _json_params(params):
    out = {}
    for name, value in params.items():
        if name == "random_state" and not isinstance(value, (Integral, type(None))):
            value = None  # a RandomState instance has no portable form
        elif isinstance(value, tuple):
            value = [v.item() if isinstance(v, np.generic) else v for v in value]
        elif isinstance(value, np.generic):
            value = value.item()
        out[name] = value
    return out


def save(estimator, path):
    """Write a fitted estimator to ``path`` atomically (see module docstring)."""
    check_is_fitted(estimator)
    from skdec import __version__

    recipe = dict(estimator._network_recipe)
    if callable(recipe["autoencoder"]):
        raise ValueError(
            "save() stores the built-in architectures ('dense', 'conv') only: a "
            "custom autoencoder callable cannot be saved without running code at "
            "load time. Use pickle or joblib, which store the callable by "
            "reference, for such models."
        )
    for key in ("hidden_layer_sizes", "input_shape", "conv_filters"):
        if recipe[key] is not None:
            recipe[key] = list(recipe[key])
    weights = estimator._networks.model.get_weights()
    feature_names = getattr(estimator, "feature_names_in_", None)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skdec_version": __version__,
        "params": _json_params(estimator.get_params(deep=False)),
        "recipe": recipe,
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if feature_names is None else list(feature_names),
        "n_iter": int(estimator.n_iter_),
        "history": estimator.history_,
        "n_weights": len(weights),
    }
    arrays = {
        "metadata": np.array(json.dumps(metadata)),
        "labels": np.asarray(estimator.labels_),
        "cluster_centers": np.asarray(estimator.cluster_centers_),
    }
    arrays.update({f"weight_{i:03d}": w for i, w in enumerate(weights)})

    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _refuse(path, reason):
    return ValueError(f"{os.fspath(path)!r} is not a valid skdec model file: {reason}")


def _check_recipe(recipe, params, path):
    from skdec._estimator import _ACTIVATIONS

    if not isinstance(recipe, dict) or set(recipe) != _RECIPE_KEYS:
        raise _refuse(path, f"unexpected architecture description {recipe!r}.")

    def positive_int(value):
        return isinstance(value, int) and not isinstance(value, bool) and value > 0

    def int_list(value, length=None):
        return (
            isinstance(value, list)
            and (length is None or len(value) == length)
            and all(positive_int(v) for v in value)
        )

    kind = recipe["autoencoder"]
    common = (
        positive_int(recipe["n_features"])
        and positive_int(recipe["n_components"])
        and positive_int(recipe["n_clusters"])
        and isinstance(recipe["alpha"], Real)
        and not isinstance(recipe["alpha"], bool)
        and recipe["alpha"] > 0
        and (recipe["input_shape"] is None or int_list(recipe["input_shape"], 3))
    )
    if kind == "dense":
        specific = (
            int_list(recipe["hidden_layer_sizes"])
            and recipe["activation"] in _ACTIVATIONS
            and recipe["conv_filters"] is None
            and recipe["decoder"] is None
        )
    elif kind == "conv":
        specific = (
            recipe["input_shape"] is not None
            and int_list(recipe["conv_filters"])
            and len(recipe["conv_filters"]) > 0
            and recipe["decoder"] in ("transpose", "upsample")
            and recipe["hidden_layer_sizes"] is None
            and recipe["activation"] is None
        )
    else:
        specific = False
    if not (common and specific):
        raise _refuse(path, f"invalid architecture {recipe!r}.")
    if recipe["input_shape"] is not None and (
        int(np.prod(recipe["input_shape"])) != recipe["n_features"]
    ):
        raise _refuse(path, "input_shape does not hold n_features values.")
    for name in ("n_components", "n_clusters", "autoencoder"):
        if recipe[name] != params.get(name):
            raise _refuse(path, f"architecture and parameters disagree on {name}.")
    tuples = {
        key: tuple(recipe[key])
        for key in ("hidden_layer_sizes", "input_shape", "conv_filters")
        if recipe[key] is not None
    }
    return {**recipe, **tuples, "alpha": float(recipe["alpha"])}


def load(path):
    """Load an estimator written by :meth:`DECClusterer.save`.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    estimator : DECClusterer
        The fitted estimator, predicting exactly as the one that was saved.

    Raises
    ------
    ValueError
        If the file is not a skdec model, was written by a newer format
        version, or describes an invalid architecture or weights that do not
        fit it.

    Notes
    -----
    Loading never unpickles and never runs code from the file: arrays are read
    with ``allow_pickle=False`` and the networks are rebuilt by skdec from a
    validated description.

    Examples
    --------
    >>> import numpy as np, skdec
    >>> X = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.1], [5.1, 5.0]])
    >>> dec = skdec.DECClusterer(2, hidden_layer_sizes=(4,), n_components=2,
    ...                          pretrain_epochs=1, max_iter=0, random_state=0)
    >>> path = getfixture("tmp_path") / "dec.skdec"
    >>> dec.fit(X).save(path)
    >>> bool((skdec.load(path).predict(X) == dec.predict(X)).all())
    True
    """
    from skdec import __version__
    from skdec._estimator import DECClusterer

    read_errors = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    # Look at the first bytes before NumPy does: for a pickle, NumPy's own
    # message suggests loading it unsafely, which is the wrong advice here.
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise _refuse(
            path, "it is not a model archive (a file written by DECClusterer.save)."
        )
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except read_errors as exc:
        raise _refuse(path, str(exc)) from exc
    with data:
        try:
            arrays = {name: data[name] for name in data.files}
        except read_errors as exc:
            raise _refuse(path, str(exc)) from exc

    if "metadata" not in arrays or arrays["metadata"].dtype.kind != "U":
        raise _refuse(path, "it has no skdec metadata.")
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        raise _refuse(path, f"its metadata is not JSON ({exc}).") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise _refuse(path, "its metadata does not name the skdec format.")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise _refuse(path, f"invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} has model format version {version}, newer than "
            f"version {FORMAT_VERSION} that skdec {__version__} reads. Upgrade "
            "skdec to load it."
        )

    params = metadata.get("params")
    if not isinstance(params, dict):
        raise _refuse(path, "it has no parameters.")
    params = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in params.items()
    }
    estimator = DECClusterer()
    try:
        estimator.set_params(**params)
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise _refuse(path, f"invalid parameters ({exc}).") from exc
    recipe = _check_recipe(metadata.get("recipe"), params, path)

    n_weights = metadata.get("n_weights")
    names = [
        f"weight_{i:03d}" for i in range(n_weights if isinstance(n_weights, int) else 0)
    ]
    if any(name not in arrays for name in names):
        raise _refuse(path, "weights are missing.")
    weights = [arrays[name] for name in names]
    if any(w.dtype.kind != "f" for w in weights):
        raise _refuse(path, "weights must be floating-point arrays.")
    try:
        networks = networks_from_weights(recipe, weights)
    except ValueError as exc:
        raise _refuse(path, str(exc)) from exc

    labels = arrays.get("labels")
    centers = arrays.get("cluster_centers")
    history = metadata.get("history")
    n_iter = metadata.get("n_iter")
    feature_names = metadata.get("feature_names_in")
    n_features = metadata.get("n_features_in")
    if (
        labels is None
        or labels.ndim != 1
        or labels.dtype.kind not in "iu"
        or centers is None
        or centers.shape != (recipe["n_clusters"], recipe["n_components"])
        or not np.array_equal(centers, networks.clustering_layer.get_weights()[0])
        or not isinstance(history, dict)
        or set(history) != _HISTORY_KEYS
        or not all(
            isinstance(v, list) and all(isinstance(x, Real) for x in v)
            for v in history.values()
        )
        or not isinstance(n_iter, int)
        or n_features != recipe["n_features"]
        or not (
            feature_names is None
            or (
                isinstance(feature_names, list)
                and len(feature_names) == n_features
                and all(isinstance(n, str) for n in feature_names)
            )
        )
    ):
        raise _refuse(path, "its fitted attributes are inconsistent.")

    estimator._network_recipe = recipe
    estimator._networks = networks
    estimator.cluster_centers_ = centers
    estimator.labels_ = labels
    estimator.n_iter_ = n_iter
    estimator.history_ = {k: [float(x) for x in v] for k, v in history.items()}
    estimator.n_features_in_ = n_features
    if feature_names is not None:
        estimator.feature_names_in_ = np.asarray(feature_names, dtype=object)
    return estimator
