"""The skdec model file: what is on disk, and how it is checked on the way in.

Format version 2 (this one) is a ZIP archive of two members:

``skdec.json``
    ``{"format": "skdec.model", "format_version": 2, "skdec_version": ...,
    "object": <class name>, "notes": {...}}``; ``notes`` holds plain JSON
    values that the command line keeps beside the model (its label and id
    columns).
``model.skops``
    The fitted estimator or pipeline, written by :func:`skops.io.dumps`. An
    estimator is stored as the state that its ``__getstate__`` returns, so a
    :class:`~skdec.DECClusterer` is its parameters, fitted attributes,
    architecture recipe and network weights, and is rebuilt by its
    ``__setstate__`` on loading, as pickle rebuilds it.

Reading checks the types in ``model.skops`` against skops' defaults (NumPy,
built-in containers, scikit-learn's estimators) plus the caller's explicit
``trusted`` list *before* anything is built: a file naming any other type or
function is refused, and nothing in it is unpickled or run.

Format version 1 (skdec 0.1) was a NumPy ``.npz`` archive: a ``metadata``
array of JSON and the arrays (labels, centres, weights). :func:`read` still
reads it, as the state of a DECClusterer for the caller to restore with
``__setstate__``.

:func:`check_state` validates a DECClusterer state, from a file or a pickle,
before the networks are built from it; :func:`check_recipe` validates its
architecture recipe. ``DECClusterer.__setstate__`` calls them, so every way of
restoring an estimator goes through the same checks.

This module imports no other part of skdec, so that the estimator can use it
to save itself and :mod:`skdec._persistence` can use it to load.
"""

import json
import os
import tempfile
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np

FORMAT_NAME = "skdec.model"
FORMAT_VERSION = 2
LEGACY_FORMAT_NAME = "skdec.DECClusterer"  # format version 1, a .npz archive
_HEADER = "skdec.json"
_PAYLOAD = "model.skops"
_MAX_HEADER_BYTES = 1 << 20

RECIPE_KEYS = frozenset(
    {
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
)
FITTED_ATTRIBUTES = frozenset(
    {
        "cluster_centers_",
        "labels_",
        "n_iter_",
        "history_",
        "n_features_in_",
        "feature_names_in_",
        "_network_recipe",
        "init_",
        "init_scores_",
        "batch_size_",
        "pretrain_epochs_",
        "self_training_kept_",
    }
)
# The initial clusterings a fit can have started from (init_).
_STARTS = frozenset({"kmeans", "kmeans_input", "umap", "umap_input"})
# Fitted attributes that states written before skdec 0.2 lack, and the
# parameter whose value they then had (init_scores_ is then None).
_DERIVED_ATTRIBUTES = {
    "init_": "init",
    "batch_size_": "batch_size",
    "pretrain_epochs_": "pretrain_epochs",
}
# Set by scikit-learn itself: its version, set_output and metadata routing.
_SKLEARN_ATTRIBUTES = frozenset(
    {"_sklearn_version", "_sklearn_output_config", "_metadata_request"}
)


class InvalidModelFile(ValueError):
    """A file that is not a valid skdec model file."""

    def __init__(self, path, reason):
        super().__init__(
            f"{os.fspath(path)!r} is not a valid skdec model file: {reason}"
        )


# ------------------------------------------------------------------ writing


def write(obj, path, *, trusted, notes=None):
    """Write ``obj`` to ``path`` atomically in format version 2.

    Parameters
    ----------
    obj : estimator
        A fitted scikit-learn estimator or pipeline.
    path : str or path-like
        The file to write.
    trusted : sequence of type or function
        What, besides skops' defaults, :func:`read` will accept. ``obj`` is
        refused if it holds anything else, so that no file is written that
        would not load.
    notes : dict, default=None
        Plain JSON values stored beside the model (see :func:`read`).
    """
    import skops.io

    from skdec import __version__

    payload = skops.io.dumps(obj, compression=zipfile.ZIP_DEFLATED)
    untrusted = sorted(
        set(skops.io.get_untrusted_types(data=payload)) - _type_names(trusted)
    )
    if untrusted:
        raise ValueError(
            f"{type(obj).__name__} cannot be saved to a skdec model file: it holds "
            f"{', '.join(untrusted)}, which loading a file never imports, so as "
            "to run no code from it. Use pickle or joblib for such models; "
            "they store these by reference."
        )
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skdec_version": __version__,
        "object": type(obj).__name__,
        "notes": dict(notes or {}),
    }
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as f, zipfile.ZipFile(f, "w") as archive:
            archive.writestr(_HEADER, json.dumps(header, indent=1))
            archive.writestr(_PAYLOAD, payload)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _type_names(types):
    return {
        t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}" for t in types
    }


# ------------------------------------------------------------------ reading


def read(path, *, trusted):
    """Read a skdec model file.

    Parameters
    ----------
    path : str or path-like
        The file.
    trusted : sequence of type or function
        What, besides skops' defaults, the file may hold.

    Returns
    -------
    content : object or dict
        The estimator (format 2), or the state of a DECClusterer (format 1)
        to restore with ``__setstate__``.
    notes : dict
        The notes stored with the model (empty for format 1).
    version : int
        The format version of the file.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    InvalidModelFile
        If the file is not a skdec model, names a type outside ``trusted``,
        or holds an inconsistent model.
    ValueError
        If the file has a newer format version than this skdec reads.
    """
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        # Say it before NumPy or skops do: for a pickle, NumPy's own message
        # suggests loading it unsafely, which is the wrong advice here.
        raise InvalidModelFile(
            path,
            "it is not a model archive (a file written by skdec.save or "
            "DECClusterer.save).",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _HEADER in names:
                if archive.getinfo(_HEADER).file_size > _MAX_HEADER_BYTES:
                    raise InvalidModelFile(path, f"its {_HEADER} is too large.")
                header = archive.read(_HEADER)
                payload = archive.read(_PAYLOAD) if _PAYLOAD in names else None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        if isinstance(exc, (FileNotFoundError, InvalidModelFile)):
            raise
        raise InvalidModelFile(path, str(exc)) from exc
    if _HEADER in names:
        return _read_skops(path, header, payload, trusted)
    if "metadata.npy" in names:
        return _read_version_1(path), {}, 1
    raise InvalidModelFile(path, "it has no skdec metadata.")


def _check_version(path, version, name):
    from skdec import __version__

    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidModelFile(path, f"invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} has model format version {version}, newer than "
            f"version {FORMAT_VERSION} that skdec {__version__} reads. Upgrade "
            "skdec to load it."
        )
    if version != {LEGACY_FORMAT_NAME: 1, FORMAT_NAME: FORMAT_VERSION}[name]:
        raise InvalidModelFile(
            path, f"format {name!r} has no version {version} (edited file?)."
        )


def _read_skops(path, header, payload, trusted):
    import skops.io

    try:
        header = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelFile(path, f"its {_HEADER} is not JSON ({exc}).") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise InvalidModelFile(path, "its metadata does not name the skdec format.")
    _check_version(path, header.get("format_version"), FORMAT_NAME)
    notes = header.get("notes", {})
    if not isinstance(notes, dict) or payload is None:
        raise InvalidModelFile(path, "its metadata or its model is missing.")
    # skops' own exceptions on malformed content are of these types.
    errors = (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        ImportError,
        zipfile.BadZipFile,
    )
    try:
        untrusted = sorted(
            set(skops.io.get_untrusted_types(data=payload)) - _type_names(trusted)
        )
    except errors as exc:
        raise InvalidModelFile(path, f"its model cannot be read ({exc}).") from exc
    if untrusted:
        raise InvalidModelFile(
            path,
            f"it names {', '.join(untrusted)}, which skdec does not load "
            "(loading never imports or runs code that a file names).",
        )
    try:
        obj = skops.io.loads(payload, trusted=sorted(_type_names(trusted)))
    except errors as exc:
        raise InvalidModelFile(path, str(exc)) from exc
    if type(obj).__name__ != header.get("object"):
        raise InvalidModelFile(path, "its metadata and its model disagree.")
    return obj, notes, header["format_version"]


def _read_version_1(path):
    """The state of the DECClusterer in a format version 1 (``.npz``) file."""
    read_errors = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except read_errors as exc:
        raise InvalidModelFile(path, str(exc)) from exc
    if arrays["metadata"].dtype.kind != "U":
        raise InvalidModelFile(path, "it has no skdec metadata.")
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        raise InvalidModelFile(path, f"its metadata is not JSON ({exc}).") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != LEGACY_FORMAT_NAME:
        raise InvalidModelFile(path, "its metadata does not name the skdec format.")
    _check_version(path, metadata.get("format_version"), LEGACY_FORMAT_NAME)

    def tuples(value):
        return tuple(value) if isinstance(value, list) else value

    params = metadata.get("params")
    recipe = metadata.get("recipe")
    if not isinstance(params, dict):
        raise InvalidModelFile(path, "it has no parameters.")
    if not isinstance(recipe, dict):
        raise InvalidModelFile(path, f"unexpected architecture description {recipe!r}.")
    n_weights = metadata.get("n_weights")
    names = [f"weight_{i:03d}" for i in range(n_weights if _is_int(n_weights) else 0)]
    if any(name not in arrays for name in names):
        raise InvalidModelFile(path, "weights are missing.")
    feature_names = metadata.get("feature_names_in")
    state = {
        **{key: tuples(value) for key, value in params.items()},
        "_network_recipe": {key: tuples(value) for key, value in recipe.items()},
        "_network_weights": [arrays[name] for name in names],
        "labels_": arrays.get("labels"),
        "cluster_centers_": arrays.get("cluster_centers"),
        "n_iter_": metadata.get("n_iter"),
        "history_": metadata.get("history"),
        "n_features_in_": metadata.get("n_features_in"),
    }
    if feature_names is not None:
        state["feature_names_in_"] = (
            np.asarray(feature_names, dtype=object)
            if isinstance(feature_names, list)
            else feature_names
        )
    return state


# ----------------------------------------------------------------- checking


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _positive_ints(value, length=None):
    return (
        isinstance(value, tuple)
        and (length is None or len(value) == length)
        and all(_is_int(v) and v > 0 for v in value)
    )


def check_recipe(recipe, params):
    """Check an architecture recipe against the estimator's parameters.

    The recipe is what the networks are built from; it must describe a
    built-in architecture (or, from a pickle only, the estimator's own
    ``autoencoder`` callable) and agree with the validated parameters, so
    that a file cannot describe layers or activations the parameters do not
    allow.

    Parameters
    ----------
    recipe : dict
        The ``_network_recipe`` of a fitted DECClusterer.
    params : dict
        Its parameters, already validated against its constraints.

    Raises
    ------
    ValueError
        Naming what is wrong.
    """
    if not isinstance(recipe, dict) or set(recipe) != RECIPE_KEYS:
        raise ValueError(f"unexpected architecture description {recipe!r}.")
    kind = recipe["autoencoder"]
    common = (
        _is_int(recipe["n_features"])
        and recipe["n_features"] > 0
        and isinstance(recipe["alpha"], Real)
        and not isinstance(recipe["alpha"], bool)
        and (recipe["input_shape"] is None or _positive_ints(recipe["input_shape"], 3))
    )
    given_layers = params["hidden_layer_sizes"]
    if kind == "dense":
        specific = (
            _positive_ints(recipe["hidden_layer_sizes"])
            and (
                isinstance(given_layers, str)
                or recipe["hidden_layer_sizes"] == tuple(given_layers)
            )
            and recipe["activation"] == params["activation"]
            and recipe["conv_filters"] is None
            and recipe["decoder"] is None
        )
    elif kind == "conv":
        specific = (
            recipe["input_shape"] is not None
            and _positive_ints(recipe["conv_filters"])
            and len(recipe["conv_filters"]) > 0
            and recipe["conv_filters"] == tuple(params["conv_filters"])
            and recipe["decoder"] == params["decoder"]
            and recipe["hidden_layer_sizes"] is None
            and recipe["activation"] is None
        )
    else:  # the estimator's own builder, as pickle restores it
        specific = callable(kind) and all(
            recipe[key] is None
            for key in ("hidden_layer_sizes", "activation", "conv_filters", "decoder")
        )
    if not (common and specific):
        raise ValueError(f"invalid architecture {recipe!r}.")
    if recipe["input_shape"] is not None and (
        int(np.prod(recipe["input_shape"])) != recipe["n_features"]
    ):
        raise ValueError("input_shape does not hold n_features values.")
    for name in ("n_components", "n_clusters", "autoencoder"):
        if recipe[name] != params[name]:
            raise ValueError(f"architecture and parameters disagree on {name}.")
    if float(recipe["alpha"]) != float(params["alpha"]):
        raise ValueError("architecture and parameters disagree on alpha.")


def with_default_params(estimator_class, state):
    """``state`` with the parameters it lacks set to their defaults.

    A pickle or file written before a parameter existed is restored with the
    parameter's default, the behaviour the parameter was introduced with.
    """
    import inspect

    if not isinstance(state, dict):
        return state
    signature = inspect.signature(estimator_class.__init__).parameters
    missing = set(estimator_class._get_param_names()) - set(state)
    state = {**{name: signature[name].default for name in missing}, **state}
    if "labels_" in state and "init_" not in state:
        # Fitted before init, batch_size and pretrain_epochs could be "auto":
        # the parameters were the values used.
        state = {
            **{name: state.get(param) for name, param in _DERIVED_ATTRIBUTES.items()},
            "init_scores_": None,
            "self_training_kept_": True,
            **state,
        }
    return state


def check_state(estimator_class, state):
    """Check the state of a DECClusterer before it is restored.

    Parameters
    ----------
    estimator_class : type
        The class restored; its parameter names and ``_parameter_constraints``
        are used.
    state : dict
        What ``__getstate__`` returned, with the network weights under
        ``"_network_weights"``.

    Raises
    ------
    ValueError
        Naming what is wrong: unknown attributes, invalid parameters, an
        invalid architecture, or fitted attributes that do not fit together.
        (Weights that do not fit the architecture are found when the networks
        are built from them.)
    """
    from sklearn.utils._param_validation import validate_parameter_constraints

    if not isinstance(state, dict):
        raise ValueError(f"the state is not a dict but {type(state).__name__}.")
    param_names = set(estimator_class._get_param_names())
    allowed = (
        param_names | FITTED_ATTRIBUTES | _SKLEARN_ATTRIBUTES | {"_network_weights"}
    )
    unknown = sorted(map(str, set(state) - allowed))
    if unknown:
        raise ValueError(f"unexpected attributes {unknown}.")
    missing = sorted(param_names - set(state))
    if missing:
        raise ValueError(f"invalid parameters (missing {missing}).")
    params = {name: state[name] for name in param_names}
    try:
        validate_parameter_constraints(
            estimator_class._parameter_constraints,
            params,
            caller_name=estimator_class.__name__,
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid parameters ({exc}).") from exc

    fitted = FITTED_ATTRIBUTES - {"feature_names_in_"}
    present = fitted & set(state)
    if not present:
        if "_network_weights" in state or "feature_names_in_" in state:
            raise ValueError("its fitted attributes are inconsistent.")
        return  # an unfitted estimator
    if present != fitted or "_network_weights" not in state:
        raise ValueError(
            "its fitted attributes are inconsistent (missing "
            f"{sorted(fitted - present)}).",
        )
    recipe = state["_network_recipe"]
    check_recipe(recipe, params)
    weights = state["_network_weights"]
    labels = state["labels_"]
    centers = state["cluster_centers_"]
    history = state["history_"]
    feature_names = state.get("feature_names_in_")
    consistent = (
        isinstance(weights, list)
        and all(isinstance(w, np.ndarray) and w.dtype.kind == "f" for w in weights)
        and isinstance(labels, np.ndarray)
        and labels.ndim == 1
        and labels.dtype.kind in "iu"
        and isinstance(centers, np.ndarray)
        and centers.dtype.kind == "f"
        and centers.shape == (recipe["n_clusters"], recipe["n_components"])
        and isinstance(history, dict)
        and all(
            isinstance(k, str)
            and isinstance(v, list)
            and all(isinstance(x, Real) for x in v)
            for k, v in history.items()
        )
        and _is_int(state["n_iter_"])
        and state["n_iter_"] >= 0
        and state["init_"] in _STARTS
        and (
            state["init_scores_"] is None
            or (
                isinstance(state["init_scores_"], dict)
                and all(
                    isinstance(k, str)
                    and isinstance(v, Real)
                    and not isinstance(v, bool)
                    for k, v in state["init_scores_"].items()
                )
            )
        )
        and _is_int(state["batch_size_"])
        and state["batch_size_"] > 0
        and _is_int(state["pretrain_epochs_"])
        and state["pretrain_epochs_"] >= 0
        and isinstance(state["self_training_kept_"], bool)
        and state["n_features_in_"] == recipe["n_features"]
        and (
            feature_names is None
            or (
                isinstance(feature_names, np.ndarray)
                and feature_names.shape == (recipe["n_features"],)
                and all(isinstance(n, str) for n in feature_names)
            )
        )
    )
    if not consistent:
        raise ValueError("its fitted attributes are inconsistent.")
