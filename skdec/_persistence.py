"""Safe model files: :func:`save` and :func:`load`.

A model file (see :mod:`skdec._archive` for its layout) holds a fitted
:class:`~skdec.DECClusterer`, or a scikit-learn pipeline ending in one, such
as the one :func:`skdec.tables.make_tabular_pipeline` builds and ``skdec fit``
writes. It is written with skops, and loading accepts only the types of one
exact list (``skdec._archive.allowed_types()``): nothing in the file is
unpickled, and no code it names is imported or run.
"""

import os

from sklearn.utils.validation import check_is_fitted

from skdec import _archive
from skdec._estimator import DECClusterer

__all__ = ["load", "save"]


def save(estimator, path):
    """Save a fitted estimator or pipeline to one file, safe to load anywhere.

    Parameters
    ----------
    estimator : DECClusterer or Pipeline
        A fitted :class:`~skdec.DECClusterer`, or a fitted pipeline ending in
        one: the pipeline of :func:`skdec.tables.make_tabular_pipeline`, or
        one of scikit-learn's scalers (``StandardScaler``, ``MinMaxScaler``,
        ``MaxAbsScaler``, ``RobustScaler``) and DEC.
    path : str or path-like
        Where to write the file (``.skdec`` is a good suffix); written
        atomically: to a new file beside it, which then replaces it (a
        symbolic link at ``path`` is replaced too, not its target). A new
        file gets the permissions the umask allows, an existing one keeps
        its own.

    Raises
    ------
    ValueError
        If the estimator is neither a DECClusterer nor a pipeline ending in
        one, or holds something else :func:`load` would refuse to load,
        such as a custom ``autoencoder`` callable, a transformer of your
        own or another of scikit-learn's; use pickle or joblib for such
        models. A ``memory`` (a folder or a ``joblib.Memory``) is not
        stored: it is None in the file.

    See Also
    --------
    load : Load the file.
    DECClusterer.save : The same, for a DECClusterer.

    Examples
    --------
    >>> import numpy as np, skdec
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.1], [5.1, 5.0]])
    >>> pipe = make_pipeline(
    ...     StandardScaler(),
    ...     skdec.DECClusterer(2, hidden_layer_sizes=(4,), n_components=2,
    ...                        pretrain_epochs=1, max_iter=0, random_state=0),
    ... ).fit(X)
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "pipe.skdec")
    ...     skdec.save(pipe, path)
    ...     loaded = skdec.load(path)
    >>> bool((loaded.predict(X) == pipe.predict(X)).all())
    True
    """
    _save(estimator, path)


def _save(estimator, path, notes=None):
    if not _holds_dec(estimator):
        raise ValueError(
            f"{type(estimator).__name__} cannot be saved to a skdec model file: "
            "it holds no DECClusterer at its end. Save a DECClusterer or a "
            "pipeline ending in one; use pickle or joblib for other models."
        )
    check_is_fitted(estimator)
    _archive.write(estimator, path, notes=notes)


def load(path):
    """Load a model written by :func:`save` or :meth:`DECClusterer.save`.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    estimator : DECClusterer or Pipeline
        The fitted estimator or pipeline, predicting exactly as the one that
        was saved.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a skdec model; names a type or function that is
        not trusted; describes an invalid architecture, invalid parameters or
        weights that do not fit them; or was written by a newer format
        version.

    Notes
    -----
    Loading never unpickles and never runs code from the file: the types in
    the file are checked against a fixed list, and its size once
    decompressed against a limit (1 GiB), before anything is built, and a
    DECClusterer is rebuilt by its own ``__setstate__`` (as pickle rebuilds
    it) from a validated description of its networks, whose weights must
    have the shapes the description implies. A file names no function for
    the estimator to call and no cache folder: ``memory`` is None after
    loading. Files written by skdec 0.1 (format version 1, a NumPy ``.npz``
    archive) still load.

    Examples
    --------
    >>> import numpy as np, skdec
    >>> X = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.1], [5.1, 5.0]])
    >>> dec = skdec.DECClusterer(2, hidden_layer_sizes=(4,), n_components=2,
    ...                          pretrain_epochs=1, max_iter=0, random_state=0)
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "dec.skdec")
    ...     dec.fit(X).save(path)
    ...     loaded = skdec.load(path)
    >>> bool((loaded.predict(X) == dec.predict(X)).all())
    True
    """
    return _load(path)[0]


def _load(path):
    """``(estimator, notes)``: the model and the notes saved with it."""
    content, notes, version = _archive.read(path)
    if version == 1:
        estimator = DECClusterer.__new__(DECClusterer)
        try:
            with _archive.restoring_from_file():
                estimator.__setstate__(content)
        except ValueError as exc:
            raise _archive.InvalidModelFile(path, str(exc)) from exc
        content = estimator
    if not _holds_dec(content):
        raise _archive.InvalidModelFile(os.fspath(path), "it holds no DECClusterer.")
    return content, notes


def _holds_dec(estimator):
    steps = getattr(estimator, "steps", None)
    return isinstance(steps[-1][1] if steps else estimator, DECClusterer)
