"""The skdec model file: what is on disk, and how it is checked on the way in.

Format version 2 (this one) is a ZIP archive of two members:

``skdec.json``
    ``{"format": "skdec.model", "format_version": 2, "skdec_version": ...,
    "object": <class name>, "notes": {...}}``; ``notes`` maps names to text
    or null: what the command line keeps beside the model (its label and id
    columns).
``model.skops``
    The fitted estimator or pipeline, written by :func:`skops.io.dumps`. An
    estimator is stored as the state that its ``__getstate__`` returns, so a
    :class:`~skdec.DECClusterer` is its parameters, fitted attributes,
    architecture recipe and network weights, and is rebuilt by its
    ``__setstate__`` on loading, as pickle rebuilds it.

Reading checks every type that ``model.skops`` names against one exact
list, :func:`allowed_types` (built-in containers, NumPy arrays, the
preprocessing that :func:`skdec.tables.make_tabular_pipeline` builds, its two
conversion functions and :class:`~skdec.DECClusterer`), *before* anything is
built or imported, and its size once decompressed against
:data:`MAX_MODEL_BYTES`: a file naming any other type or function is refused,
and nothing in it is unpickled or run. Writing applies the same checks, so no
file is written that would not load. What is restored is then checked beyond
its types (:func:`check_restored`, :func:`check_state`), while
:func:`restoring_from_file` tells those checks that the state comes from a
file: a file never names a function for the estimator to call, nor a folder
for it to write to.

Format version 1 (skdec 0.1) was a NumPy ``.npz`` archive: a ``metadata``
array of JSON and the arrays (labels, centres, weights). :func:`read` still
reads it, as the state of a DECClusterer for the caller to restore with
``__setstate__``.

:func:`check_state` validates a DECClusterer state, from a file or a pickle,
before the networks are built from it; :func:`check_recipe` validates its
architecture recipe. ``DECClusterer.__setstate__`` calls them, so every way of
restoring an estimator goes through the same checks of its architecture and
fitted attributes; a file's state is also refused for attributes or
parameters that the class does not allow, a pickle's is not (scikit-learn
validates parameters in fit, and a subclass may add attributes).

This module imports no other part of skdec, so that the estimator can use it
to save itself and :mod:`skdec._persistence` can use it to load.
"""

import contextlib
import contextvars
import errno
import functools
import io
import itertools
import json
import os
import reprlib
import stat
import tempfile
import types
import zipfile
import zlib
from numbers import Integral, Real
from pathlib import Path

import numpy as np

FORMAT_NAME = "skdec.model"
FORMAT_VERSION = 2
LEGACY_FORMAT_NAME = "skdec.DECClusterer"  # format version 1, a .npz archive
_HEADER = "skdec.json"
_PAYLOAD = "model.skops"
_MAX_HEADER_BYTES = 1 << 20
_MAX_SCHEMA_BYTES = 1 << 26
#: The most bytes the members of a model file may hold once decompressed
#: (1 GiB): a small file cannot make loading read more than this. A DEC of
#: the default size on 784 features holds about 13 MB of weights.
MAX_MODEL_BYTES = 1 << 30
_MAX_MEMBERS = 100_000

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
        "n_clusters_",
        "n_clusters_scores_",
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


class _Refused(ValueError):
    """What the checks of this module refuse, in their own words."""


class InvalidModelFile(ValueError):
    """A file that is not a valid skdec model file."""

    def __init__(self, path, reason):
        if not reason.endswith("."):
            reason += "."
        self.reason = reason
        super().__init__(
            f"{os.fspath(path)!r} is not a valid skdec model file: {reason}"
        )


# ------------------------------------------------------- what a file holds

# The conversions of skdec.tables.make_tabular_pipeline: the only functions a
# model file may name, and only as a FunctionTransformer's ``func``.
_CONVERSIONS = frozenset({"skdec.tables._as_numbers", "skdec.tables._as_categories"})
_ESTIMATOR = "skdec._estimator.DECClusterer"
_FROM_FILE = contextvars.ContextVar("skdec_restoring_from_file", default=False)


def _name(kind):
    return f"{kind.__module__}.{kind.__qualname__}"


@functools.cache
def allowed_types():
    """What a model file may hold: ``{skops loader: type names}``.

    Built-in containers, NumPy arrays, scalars and dtypes, the scikit-learn
    estimators that :func:`skdec.tables.make_tabular_pipeline` and a plain
    pipeline of a scaler and DEC use, the two conversion functions of the
    tabular pipeline, and :class:`~skdec.DECClusterer`. Nothing else, even if
    skops itself trusts it. JSON values (skops' ``JsonNode``) import nothing
    and are allowed whatever type they name.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        RobustScaler,
        StandardScaler,
    )

    scalars = {
        _name(kind)
        for kind in (
            np.bool_,
            np.int8,
            np.int16,
            np.int32,
            np.int64,
            np.uint8,
            np.uint16,
            np.uint32,
            np.uint64,
            np.float16,
            np.float32,
            np.float64,
            np.str_,
        )
    }
    estimators = {
        _name(kind)
        for kind in (
            Pipeline,
            ColumnTransformer,
            SimpleImputer,
            OneHotEncoder,
            FunctionTransformer,
            StandardScaler,
            MinMaxScaler,
            MaxAbsScaler,
            RobustScaler,
        )
    }
    try:  # scikit-learn 1.5 and 1.6: the columns of a ColumnTransformer's
        # remainder, named by strings, in a list that warns when read
        from sklearn.compose._column_transformer import _RemainderColsList
    except ImportError:
        remainder_columns = set()
    else:
        remainder_columns = {_name(_RemainderColsList)}
    return {
        "DictNode": frozenset({"builtins.dict"}),
        "ListNode": frozenset({"builtins.list"}),
        "TupleNode": frozenset({"builtins.tuple"}),
        "SliceNode": frozenset({"builtins.slice"}),
        "NdArrayNode": frozenset({"numpy.ndarray", *scalars}),
        "DTypeNode": frozenset({"numpy.dtype"}),
        "TypeNode": frozenset(
            {"builtins.str", "builtins.int", "builtins.float", "builtins.bool"}
            | {"builtins.object"}
            | scalars
        ),
        "RandomStateNode": frozenset({_name(np.random.RandomState)}),
        "ObjectNode": frozenset(estimators | {_ESTIMATOR} | remainder_columns),
        "FunctionNode": _CONVERSIONS,
    }


def _refused_types(schema):
    """The types that a skops schema names outside :func:`allowed_types`."""
    allowed = allowed_types()
    every = frozenset().union(*allowed.values())
    refused, pending = set(), [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        pending.extend(node.values())
        if not {"__class__", "__module__", "__loader__"} & set(node):
            continue
        loader = node.get("__loader__")
        name = f"{node.get('__module__')}.{node.get('__class__')}"
        if loader == "JsonNode" or (loader == "CachedNode" and name in every):
            continue
        if name not in allowed.get(loader, ()):
            refused.add(name if name not in every else f"{name} (as {loader})")
    return sorted(refused)


def _read_members(archive, what):
    """``{name: bytes}`` of a ZIP archive, read safely.

    The sizes that the members declare are checked first, and each member is
    read no further than its declared size (which bounds what a crafted
    archive can make decompression produce); every ``.npy`` member must hold
    the bytes its header promises, so that loading it allocates no more.
    ``what`` starts the error message.
    """
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if len(infos) > _MAX_MEMBERS or total > MAX_MODEL_BYTES:
        raise _Refused(
            f"{what} holds {total} bytes in {len(infos)} members once "
            f"decompressed, more than skdec reads ({MAX_MODEL_BYTES} bytes, "
            f"{_MAX_MEMBERS} members)."
        )
    members = {}
    for info in infos:
        with archive.open(info) as f:
            data = f.read(info.file_size)
        if info.filename.endswith(".npy"):
            _check_array(info.filename, data, what)
        members[info.filename] = data
    return members


def _check_array(name, data, what):
    from numpy.lib import format as npy

    buffer = io.BytesIO(data)
    try:
        version = npy.read_magic(buffer)
        read_header = {
            (1, 0): npy.read_array_header_1_0,
            (2, 0): npy.read_array_header_2_0,
        }[version]
        shape, _, dtype = read_header(buffer)
    except (ValueError, KeyError) as exc:
        raise _Refused(f"{what} holds an invalid array {name} ({exc!r}).") from exc
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if dtype.hasobject or size > len(data) - buffer.tell():
        raise _Refused(f"{what} holds an array {name} larger than its data.")


def _stored(members):
    """A ZIP archive of ``members``, uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _checked_payload(payload, what):
    """``(payload, refused)``: a skops payload rewritten from its checked
    members, and the types it names outside :func:`allowed_types`.

    Raises ValueError if it is too large or malformed.
    """
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        members = _read_members(archive, what)
    schema = members.get("schema.json")
    if schema is None or len(schema) > _MAX_SCHEMA_BYTES:
        raise _Refused(f"{what} has no schema, or one of over {_MAX_SCHEMA_BYTES}.")
    return _stored(members), _refused_types(json.loads(schema))


def _check_notes(notes):
    if not (
        isinstance(notes, dict)
        and all(
            isinstance(key, str) and (value is None or isinstance(value, str))
            for key, value in notes.items()
        )
    ):
        raise ValueError(
            f"notes must map names to text or None, got {reprlib.repr(notes)}."
        )


@contextlib.contextmanager
def restoring_from_file():
    """Within it, :func:`check_state` and :func:`with_default_params` treat
    the state restored as read from a model file: an ``autoencoder``
    callable is refused, and ``memory`` is reset to None."""
    token = _FROM_FILE.set(True)
    try:
        yield
    finally:
        _FROM_FILE.reset(token)


def _reachable(obj):
    """Every value reachable from ``obj`` through containers and the
    attributes of scikit-learn estimators, DECClusterer's excepted (its own
    ``__setstate__`` checks it), and a FunctionTransformer's ``func``
    (checked by :func:`check_restored`)."""
    from sklearn.base import BaseEstimator
    from sklearn.preprocessing import FunctionTransformer

    pending, seen = [obj], set()
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        yield value
        if isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, BaseEstimator) and _name(type(value)) != _ESTIMATOR:
            attributes = dict(vars(value))
            if isinstance(value, FunctionTransformer):
                attributes.pop("func", None)
            pending.extend(attributes.values())


def check_restored(obj):
    """Check the estimators a file holds, beyond the types it names.

    Every scikit-learn estimator's parameters must satisfy its
    ``_parameter_constraints``. The only functions allowed are the
    conversions of :func:`skdec.tables.make_tabular_pipeline`, and only as
    the ``func`` of a ``FunctionTransformer`` whose only keyword argument is
    ``missing``. A DECClusterer is checked by its own ``__setstate__``
    (:func:`check_state`).

    Raises
    ------
    ValueError
        Naming what is wrong.
    """
    from sklearn.base import BaseEstimator
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.utils._param_validation import validate_parameter_constraints

    for value in _reachable(obj):
        if isinstance(value, types.FunctionType):
            raise ValueError(
                f"it holds the function {_name(value)} where skdec calls none."
            )
        if not isinstance(value, BaseEstimator) or _name(type(value)) == _ESTIMATOR:
            continue
        kind = type(value)
        try:
            validate_parameter_constraints(
                kind._parameter_constraints,
                value.get_params(deep=False),
                caller_name=kind.__name__,
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid parameters ({exc}).") from exc
        if isinstance(value, FunctionTransformer):
            func, kw_args = value.func, value.kw_args
            if not (
                isinstance(func, types.FunctionType)
                and _name(func) in _CONVERSIONS
                and (kw_args is None or set(kw_args) <= {"missing"})
                and (kw_args or {}).get("missing", "impute") in ("impute", "error")
            ):
                raise ValueError(
                    "it holds a FunctionTransformer that is not one of "
                    "skdec.tables' conversions."
                )


def _forget_paths(obj):
    """Set the ``memory`` (cache folder) of every pipeline in ``obj`` to
    None: a file does not choose where fitting writes."""
    from sklearn.pipeline import Pipeline

    for value in _reachable(obj):
        if isinstance(value, Pipeline):
            value.memory = None


# ------------------------------------------------------------------ writing


@contextlib.contextmanager
def _caches_left_out(obj):
    """Within it, the ``memory`` of every estimator in ``obj`` that has one
    (a DECClusterer, a Pipeline) is None: a file keeps no cache, whether a
    folder or a :class:`joblib.Memory` (loading sets ``memory`` to None)."""
    from sklearn.base import BaseEstimator

    cached = [
        (value, value.memory)
        for value in _reachable(obj)
        if isinstance(value, BaseEstimator)
        and "memory" in value.get_params(deep=False)
        and value.memory is not None
    ]
    try:
        for value, _ in cached:
            value.memory = None
        yield
    finally:
        for value, memory in cached:
            value.memory = memory


def write(obj, path, *, notes=None):
    """Write ``obj`` to ``path`` atomically in format version 2.

    Parameters
    ----------
    obj : estimator
        A fitted scikit-learn estimator or pipeline.
    path : str or path-like
        The file to write. A new file gets the permissions that the umask
        allows, as :func:`open` gives; an existing one keeps its own.
    notes : dict, default=None
        Names mapped to text or None, stored beside the model (see
        :func:`read`).

    Raises
    ------
    ValueError
        If ``obj`` holds what :func:`read` would refuse (a type outside
        :func:`allowed_types`, a function, too many bytes), so that no file
        is written that would not load.
    """
    import skops.io

    from skdec import __version__

    notes = dict(notes or {})
    _check_notes(notes)
    with _caches_left_out(obj):
        payload = skops.io.dumps(obj, compression=zipfile.ZIP_DEFLATED)
    cannot = f"{type(obj).__name__} cannot be saved to a skdec model file:"
    try:
        _, untrusted = _checked_payload(payload, cannot + " it")
    except _Refused as exc:
        if "bytes" not in str(exc):
            raise
        # Too large: the networks are small, but labels_ grows with the rows.
        raise _Refused(
            f"{exc} A fitted estimator keeps one label per training row "
            "(labels_, 8 bytes each). Use pickle or joblib for such models."
        ) from None
    if untrusted:
        raise ValueError(
            f"{cannot} it holds {', '.join(untrusted)}, which loading a file "
            "never imports, so as to run no code from it. Use pickle or joblib "
            "for such models; they store these by reference."
        )
    try:
        check_restored(obj)
    except ValueError as exc:
        raise ValueError(
            f"{cannot} {exc} Use pickle or joblib for such models."
        ) from exc
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skdec_version": __version__,
        "object": type(obj).__name__,
        "notes": notes,
    }
    path = Path(path)
    if path.is_dir():  # else os.replace would name the temporary file
        raise IsADirectoryError(
            errno.EISDIR, "Is a directory: give the path of a file", str(path)
        )
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        # A short name of its own: one built on path's could be too long
        # where path's is not.
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".skdec-save-")
    except OSError as exc:
        # Name what the user gave, not the temporary file: the path, as
        # open() would, when its folder is missing; else the folder, in
        # which no file could be made (read-only, say), even where open()
        # could have rewritten an existing file.
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        where = path if missing else path.parent
        raise type(exc)(exc.errno, exc.strerror, str(where)) from None
    try:
        with os.fdopen(handle, "wb") as f, zipfile.ZipFile(f, "w") as archive:
            archive.writestr(_HEADER, json.dumps(header, indent=1))
            archive.writestr(_PAYLOAD, payload)
        os.chmod(tmp, mode)  # mkstemp makes it 0o600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ reading


def read(path):
    """Read a skdec model file.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    content : object or dict
        The estimator (format 2), or the state of a DECClusterer (format 1)
        to restore with ``__setstate__`` within :func:`restoring_from_file`.
    notes : dict
        The notes stored with the model (empty for format 1).
    version : int
        The format version of the file.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    InvalidModelFile
        If the file is not a skdec model, names a type outside
        :func:`allowed_types`, is too large once decompressed, or holds an
        inconsistent model.
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
            header = archive.NameToInfo.get(_HEADER)
            if header is not None and header.file_size > _MAX_HEADER_BYTES:
                raise InvalidModelFile(path, f"its {_HEADER} is too large.")
            members = _read_members(archive, "it")
            # zipfile finds an archive by its last end record: in a file cut
            # short, that of the model archive stored inside, which lies
            # after the file's first bytes.
            inner_found = min(
                (info.header_offset for info in archive.infolist()), default=0
            )
    except (OSError, ValueError, *_DAMAGED) as exc:
        if isinstance(exc, (FileNotFoundError, InvalidModelFile)):
            raise
        if isinstance(exc, _DAMAGED):
            raise InvalidModelFile(path, f"it is damaged or cut short ({exc})") from exc
        raise InvalidModelFile(path, str(exc)) from exc
    if _HEADER in members:
        return _read_skops(path, members[_HEADER], members.get(_PAYLOAD))
    if "metadata.npy" in members:
        return _read_version_1(path, members), {}, 1
    if inner_found:
        raise InvalidModelFile(path, "it is damaged or cut short.")
    raise InvalidModelFile(path, "it has no skdec metadata.")


# What zipfile raises on a damaged archive: a bad structure, bytes missing, a
# compressed stream that does not decompress, or flags and methods that no
# file skdec writes has (encryption: RuntimeError; an unknown compression
# method: NotImplementedError).
_DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError)


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


def _read_skops(path, header, payload):
    try:
        header = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelFile(path, f"its {_HEADER} is not JSON ({exc}).") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise InvalidModelFile(path, "its metadata does not name the skdec format.")
    _check_version(path, header.get("format_version"), FORMAT_NAME)
    try:
        return _read_skops_model(path, header, payload)
    except InvalidModelFile as exc:
        written_by = header.get("skdec_version")
        if not _is_newer(written_by):
            raise
        from skdec import __version__

        raise InvalidModelFile(
            path,
            f"{exc.reason} It was written by skdec {written_by}, newer than "
            f"this skdec {__version__}: upgrade skdec to load it.",
        ) from exc


def _is_newer(version):
    """Whether the version text ``version`` (``"0.2.0"``, ``"0.2.0.dev0"``)
    is newer than this skdec's; False for anything that is not a version."""
    from sklearn.utils.fixes import parse_version

    from skdec import __version__

    if not isinstance(version, str):
        return False
    try:
        return bool(parse_version(version) > parse_version(__version__))
    except (TypeError, ValueError):  # not a version
        return False


def _read_skops_model(path, header, payload):
    import skops.io

    notes = header.get("notes", {})
    if not isinstance(notes, dict) or payload is None:
        raise InvalidModelFile(path, "its metadata or its model is missing.")
    try:
        _check_notes(notes)
    except ValueError as exc:
        raise InvalidModelFile(path, f"its metadata is invalid: {exc}") from exc
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
        payload, untrusted = _checked_payload(payload, "its model")
    except _Refused as exc:
        raise InvalidModelFile(path, str(exc)) from exc
    except (*errors, *_DAMAGED) as exc:
        # Reading the members decompresses them; skops then reads them
        # stored, so a damaged stream fails here, and a backend's own
        # RuntimeError while building the networks is not taken for one.
        raise InvalidModelFile(path, f"its model cannot be read ({exc}).") from exc
    if untrusted:
        raise InvalidModelFile(
            path,
            f"it names {', '.join(untrusted)}, which skdec does not load "
            "(loading never imports or runs code that a file names).",
        )
    trusted = sorted(frozenset().union(*allowed_types().values()))
    try:
        with restoring_from_file():
            obj = skops.io.loads(payload, trusted=trusted)
        check_restored(obj)
    except errors as exc:
        raise InvalidModelFile(path, str(exc)) from exc
    if type(obj).__name__ != header.get("object"):
        raise InvalidModelFile(path, "its metadata and its model disagree.")
    _forget_paths(obj)
    return obj, notes, header["format_version"]


def _read_version_1(path, members):
    """The state of the DECClusterer in a format version 1 (``.npz``) file,
    from its members."""
    try:
        arrays = {
            name.removesuffix(".npy"): np.load(io.BytesIO(data), allow_pickle=False)
            for name, data in members.items()
            if name.endswith(".npy")
        }
    except (OSError, ValueError, EOFError) as exc:
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
    # Bounded by the arrays present, before any name is made.
    if not (_is_int(n_weights) and 0 <= n_weights <= len(arrays)):
        raise InvalidModelFile(path, "weights are missing.")
    names = [f"weight_{i:03d}" for i in range(n_weights)]
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


def _refuse_callable_from_file(kind):
    if callable(kind) and _FROM_FILE.get():
        raise ValueError(
            "it names a function as the autoencoder; a model file holds the "
            "built-in architectures only, so that loading it calls nothing it "
            "names."
        )


def check_recipe(recipe, estimator_class):
    """Check an architecture recipe against the estimator's constraints.

    The recipe is what the networks are built from; it must describe a
    built-in architecture (or, from a pickle only, an ``autoencoder``
    callable, the one the estimator was fitted with) whose values the class's
    parameter constraints
    allow, so that a file cannot describe layers or activations the
    parameters do not allow. Within :func:`restoring_from_file`, a callable
    is refused before anything else.

    The recipe is not compared with the current parameters: as in
    scikit-learn, ``set_params`` after ``fit`` changes the next fit only, so
    a fitted estimator whose parameters changed since is saved, pickled and
    restored with the networks it fitted.

    Parameters
    ----------
    recipe : dict
        The ``_network_recipe`` of a fitted DECClusterer.
    estimator_class : type
        The class restored; its ``_parameter_constraints`` are used.

    Raises
    ------
    ValueError
        Naming what is wrong.
    """
    from sklearn.utils._param_validation import validate_parameter_constraints

    if not isinstance(recipe, dict) or set(recipe) != RECIPE_KEYS:
        raise ValueError(f"unexpected architecture description {recipe!r}.")
    kind = recipe["autoencoder"]
    _refuse_callable_from_file(kind)
    common = (
        _is_int(recipe["n_features"])
        and recipe["n_features"] > 0
        and _is_int(recipe["n_components"])
        and _is_int(recipe["n_clusters"])
        and isinstance(recipe["alpha"], Real)
        and not isinstance(recipe["alpha"], bool)
        and (recipe["input_shape"] is None or _positive_ints(recipe["input_shape"], 3))
    )
    # The values a parameter gave the recipe, under that parameter's
    # constraints (the number of clusters as a number, not "auto").
    constrained = ["n_components", "alpha", "n_clusters"]
    if kind == "dense":
        specific = (
            _positive_ints(recipe["hidden_layer_sizes"])
            and recipe["conv_filters"] is None
            and recipe["decoder"] is None
        )
        constrained.append("activation")
    elif kind == "conv":
        specific = (
            recipe["input_shape"] is not None
            and _positive_ints(recipe["conv_filters"])
            and len(recipe["conv_filters"]) > 0
            and recipe["hidden_layer_sizes"] is None
            and recipe["activation"] is None
        )
        constrained.append("decoder")
    else:  # the estimator's own builder, as pickle restores it
        specific = callable(kind) and all(
            recipe[key] is None
            for key in ("hidden_layer_sizes", "activation", "conv_filters", "decoder")
        )
    if common and specific:
        constraints = estimator_class._parameter_constraints
        try:
            validate_parameter_constraints(
                {name: constraints[name] for name in constrained},
                {name: recipe[name] for name in constrained},
                caller_name="the architecture",
            )
        except (ValueError, TypeError):
            specific = False
    if not (common and specific):
        raise ValueError(f"invalid architecture {reprlib.repr(recipe)}.")
    if recipe["input_shape"] is not None and (
        int(np.prod(recipe["input_shape"], dtype=object)) != recipe["n_features"]
    ):
        raise ValueError("input_shape does not hold n_features values.")


def weight_shapes(recipe):
    """The shapes of the networks' weights that a built-in recipe describes.

    Computed from the numbers alone, in the order of
    ``build_networks(**recipe).model.get_weights()`` (encoder, clustering
    layer, decoder), so that weights can be compared with the recipe before
    anything is built. ``tests/test_persistence.py`` checks it against the
    networks.

    Parameters
    ----------
    recipe : dict
        A recipe that :func:`check_recipe` accepted, with ``autoencoder``
        ``"dense"`` or ``"conv"``.

    Returns
    -------
    shapes : list of tuple of int
    """
    n_features, n_components = recipe["n_features"], recipe["n_components"]

    def layer(*kernel):  # a kernel and the bias of its last axis
        return [tuple(kernel), (kernel[-1],)]

    clustering = [(recipe["n_clusters"], n_components)]
    if recipe["autoencoder"] == "dense":
        widths = [n_features, *recipe["hidden_layer_sizes"], n_components]
        encoder = [s for a, b in itertools.pairwise(widths) for s in layer(a, b)]
        widths.reverse()
        decoder = [s for a, b in itertools.pairwise(widths) for s in layer(a, b)]
        return encoder + clustering + decoder
    height, width, channels = recipe["input_shape"]
    filters = list(recipe["conv_filters"])
    kernels = [5 if i < 2 else 3 for i in range(len(filters))]
    for _ in filters:
        height, width = (height + 1) // 2, (width + 1) // 2
    flat = height * width * filters[-1]
    encoder, decoder = [], layer(n_components, flat)
    for f_in, f_out, k in zip([channels, *filters[:-1]], filters, kernels, strict=True):
        encoder += layer(k, k, f_in, f_out)
    encoder += layer(flat, n_components)
    outputs = [*reversed(filters[:-1]), channels]
    inputs = [filters[-1], *outputs[:-1]]
    for f_in, f_out, k in zip(inputs, outputs, reversed(kernels), strict=True):
        if recipe["decoder"] == "transpose":  # kernels of (.., out, in), bias out
            decoder += [(k, k, f_out, f_in), (f_out,)]
        else:
            decoder += layer(k, k, f_in, f_out)
    return encoder + clustering + decoder


def with_default_params(estimator_class, state):
    """``state`` as it is restored: the parameters it lacks set to their
    defaults, and, from a file, no cache folder.

    A pickle or file written before a parameter existed is restored with the
    parameter's default, the behaviour the parameter was introduced with.
    Within :func:`restoring_from_file`, ``memory`` is None: a file does not
    choose where fitting writes.
    """
    import inspect

    if not isinstance(state, dict):
        return state
    signature = inspect.signature(estimator_class.__init__).parameters
    missing = set(estimator_class._get_param_names()) - set(state)
    state = {**{name: signature[name].default for name in missing}, **state}
    if _FROM_FILE.get():
        state["memory"] = None
    if "labels_" in state and "init_" not in state:
        # Fitted before init, batch_size and pretrain_epochs could be "auto":
        # the parameters were the values used.
        state = {
            **{name: state.get(param) for name, param in _DERIVED_ATTRIBUTES.items()},
            "init_scores_": None,
            "self_training_kept_": True,
            **state,
        }
    if "labels_" in state and "n_clusters_" not in state:
        # Fitted before n_clusters could be "auto".
        state = {
            "n_clusters_": state.get("n_clusters"),
            "n_clusters_scores_": None,
            **state,
        }
    return state


def _check_sklearn_attributes(state):
    """scikit-learn's own attributes: its version, set_output's configuration
    and metadata routing requests."""
    from sklearn.utils._metadata_requests import MetadataRequest

    version = state.get("_sklearn_version", "")
    config = state.get("_sklearn_output_config", {})
    request = state.get("_metadata_request")
    valid = (
        isinstance(version, str)
        and isinstance(config, dict)
        and all(
            isinstance(k, str) and v in ("default", "pandas", "polars")
            for k, v in config.items()
        )
        and (request is None or isinstance(request, MetadataRequest))
    )
    if not valid:
        raise ValueError("its scikit-learn attributes are invalid.")


def check_state(estimator_class, state):
    """Check the state of a DECClusterer before it is restored.

    Parameters
    ----------
    estimator_class : type
        The class restored; its parameter names and ``_parameter_constraints``
        are used.
    state : dict
        What ``__getstate__`` returned, with the network weights under
        ``"_network_weights"``, and every parameter
        (:func:`with_default_params`).

    Raises
    ------
    ValueError
        Naming what is wrong: within :func:`restoring_from_file` only,
        unknown attributes and invalid parameters (any callable among them);
        always, an invalid architecture,
        weights of other shapes than the architecture's (found from the
        numbers, before any network is built), or fitted attributes that do
        not fit together.
    """
    from sklearn.utils._param_validation import validate_parameter_constraints

    if not isinstance(state, dict):
        raise ValueError(f"the state is not a dict but {type(state).__name__}.")
    if _FROM_FILE.get():
        # A pickle is not checked here: scikit-learn validates parameters in
        # fit, not when an estimator is built or copied (a search sends its
        # unfitted estimator to other processes before setting them), and a
        # subclass may add attributes of its own.
        param_names = set(estimator_class._get_param_names())
        allowed = (
            param_names | FITTED_ATTRIBUTES | _SKLEARN_ATTRIBUTES | {"_network_weights"}
        )
        unknown = sorted(map(str, set(state) - allowed))
        if unknown:
            raise ValueError(f"unexpected attributes {unknown}.")
        params = {name: state[name] for name in param_names}
        _refuse_callable_from_file(params["autoencoder"])
        try:
            validate_parameter_constraints(
                estimator_class._parameter_constraints,
                params,
                caller_name=estimator_class.__name__,
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid parameters ({exc}).") from exc
    _check_sklearn_attributes(state)

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
    check_recipe(recipe, estimator_class)
    weights = state["_network_weights"]
    if not (
        isinstance(weights, list)
        and all(isinstance(w, np.ndarray) and w.dtype.kind == "f" for w in weights)
    ):
        raise ValueError("its fitted attributes are inconsistent.")
    if isinstance(recipe["autoencoder"], str):
        expected, got = weight_shapes(recipe), [w.shape for w in weights]
        if got != expected:
            raise ValueError(
                "The weights do not fit the architecture: expected shapes "
                f"{reprlib.repr(expected)}, got {reprlib.repr(got)}."
            )
    labels = state["labels_"]
    centers = state["cluster_centers_"]
    history = state["history_"]
    feature_names = state.get("feature_names_in_")
    consistent = (
        isinstance(labels, np.ndarray)
        and labels.ndim == 1
        and labels.dtype.kind in "iu"
        and isinstance(centers, np.ndarray)
        and centers.dtype.kind == "f"
        and centers.shape == (recipe["n_clusters"], recipe["n_components"])
        and _is_int(state["n_clusters_"])
        and state["n_clusters_"] == recipe["n_clusters"]
        and (
            state["n_clusters_scores_"] is None
            or (
                isinstance(state["n_clusters_scores_"], dict)
                and all(
                    _is_int(k) and isinstance(v, Real) and not isinstance(v, bool)
                    for k, v in state["n_clusters_scores_"].items()
                )
            )
        )
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
