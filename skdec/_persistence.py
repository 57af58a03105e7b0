"""Safe model files: :func:`save` and :func:`load`.

A model file (see :mod:`skdec._archive` for its layout) holds a fitted
:class:`~skdec.DECClusterer`, or a scikit-learn pipeline ending in one, such
as the one :func:`skdec.tables.make_tabular_pipeline` builds and ``skdec fit``
writes. It is written with skops, and loading accepts only skops' default
types (NumPy, built-in containers, scikit-learn's estimators) plus those in
:data:`TRUSTED`: nothing in the file is unpickled, and no code it names is
imported or run.
"""

import os

from sklearn.utils.validation import check_is_fitted

from skdec import _archive, tables
from skdec._estimator import DECClusterer

__all__ = ["TRUSTED", "load", "save"]

#: What a model file may hold besides skops' defaults: the estimator, the
#: conversions of :func:`skdec.tables.make_tabular_pipeline`, and NumPy dtypes
#: (which scikit-learn's SimpleImputer stores).
TRUSTED = (DECClusterer, tables._as_numbers, tables._as_categories, "numpy.dtype")


def save(estimator, path):
    """Save a fitted estimator or pipeline to one file, safe to load anywhere.

    Parameters
    ----------
    estimator : DECClusterer or Pipeline
        A fitted :class:`~skdec.DECClusterer`, or a fitted scikit-learn
        pipeline of scikit-learn's own transformers ending in one (for
        example from :func:`skdec.tables.make_tabular_pipeline`).
    path : str or path-like
        Where to write the file (``.skdec`` is a good suffix); written
        atomically.

    Raises
    ------
    ValueError
        If the estimator holds something :func:`load` would refuse to load,
        such as a custom ``autoencoder`` callable, a ``joblib.Memory`` or a
        transformer of your own; use pickle or joblib for such models.

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
    >>> path = getfixture("tmp_path") / "pipe.skdec"
    >>> skdec.save(pipe, path)
    >>> bool((skdec.load(path).predict(X) == pipe.predict(X)).all())
    True
    """
    _save(estimator, path)


def _save(estimator, path, notes=None):
    check_is_fitted(estimator)
    _archive.write(estimator, path, trusted=TRUSTED, notes=notes)


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
    the file are checked against a fixed list before anything is built, and
    a DECClusterer is rebuilt by its own ``__setstate__`` (as pickle rebuilds
    it) from a validated description of its networks and their weights.
    Files written by skdec 0.1 (format version 1, a NumPy ``.npz`` archive)
    still load.

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
    return _load(path)[0]


def _load(path):
    """``(estimator, notes)``: the model and the notes saved with it."""
    content, notes, version = _archive.read(path, trusted=TRUSTED)
    if version == 1:
        estimator = DECClusterer.__new__(DECClusterer)
        try:
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
