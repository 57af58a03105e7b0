"""ARPACK's random restarts, seeded.

``scipy.sparse.linalg.eigsh`` starts from ``v0`` when given one, but ARPACK
draws a new random vector whenever its Krylov space becomes invariant, as it
does on graphs whose spectrum repeats an eigenvalue (a table of a few
categories, whose rows have many exact copies). SciPy draws that vector from
the generator ``rng``, or from the operating system's entropy when none is
given (SciPy 1.17 on); older SciPy keeps ARPACK's own seed, which moves on
with every call in the process. Either way, the same call could return
different eigenvectors of a repeated eigenvalue, so that UMAP's spectral
layout, and with it ``init="umap"`` and ``init="auto"``, was not the same
from one fit to the next for one ``random_state``.

:func:`eigsh_seed` gives skdec's own calls a seeded ``rng``, and
:func:`seeded_eigsh` gives one to the calls that umap-learn makes inside it.
Where ARPACK draws nothing, as on the graphs of rows without exact copies,
the result is the same as without them. With a SciPy whose ``eigsh`` has no
``rng``, :func:`eigsh_seed` gives nothing, and within :func:`seeded_eigsh`
a matrix of up to 1,000 rows (a table of categories has few distinct rows)
is solved by a dense solver, which draws nothing; larger ones go to ARPACK
as they are.
"""

import contextlib
import contextvars
import functools
import inspect
import threading

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

# The stream of ARPACK's restarts, apart from the other uses of a seed.
_STREAM = 31
# The generator of the calls made within seeded_eigsh, in this thread (or
# context) only: other threads' calls pass through as they are.
_RNG = contextvars.ContextVar("skdec_eigsh_rng", default=None)
# Installing and removing the replacement, which the contexts of all threads
# share: the first to enter installs it, the last to leave removes it.
_LOCK = threading.Lock()
# Where eigsh takes no rng: the value of _RNG inside seeded_eigsh.
_NO_RNG = object()
#: The most rows of a matrix whose eigenproblem skdec solves densely: the
#: spectrum that chooses n_clusters, and the calls within seeded_eigsh where
#: eigsh takes no rng.
DENSE_ROWS = 1000
_DENSE_WHICH = {
    "SM": np.abs,
    "LM": lambda values: -np.abs(values),
    "SA": lambda values: values,
    "LA": lambda values: -values,
}


class _Replacement:
    original = None
    wrapper = None
    users = 0


@functools.cache
def _takes_rng():
    """Whether this SciPy's ``eigsh`` takes ``rng``."""
    return "rng" in inspect.signature(scipy.sparse.linalg.eigsh).parameters


def eigsh_seed(seed):
    """Keyword arguments of ``eigsh`` that seed ARPACK's restarts with
    ``seed``: ``{"rng": generator}``, or ``{}`` where ``eigsh`` takes none."""
    if not _takes_rng():
        return {}
    return {"rng": np.random.default_rng([seed, _STREAM])}


def _dense_eigsh(original, args, kwargs):
    """What ``original(*args, **kwargs)`` computes, by ``scipy.linalg.eigh``
    where it can: a matrix of up to ``DENSE_ROWS`` rows, no ``M`` or
    ``sigma``, and ``which`` one of ``"SM"``, ``"LM"``, ``"SA"``, ``"LA"``.
    The eigenvalues come in ascending order, as ``eigsh`` returns them."""
    call = inspect.signature(original).bind(*args, **kwargs)
    call.apply_defaults()
    A, k, which = call.arguments["A"], call.arguments["k"], call.arguments["which"]
    dense = (
        (scipy.sparse.issparse(A) or isinstance(A, np.ndarray))
        and A.ndim == 2
        and A.shape[0] == A.shape[1] <= DENSE_ROWS
        and call.arguments["M"] is None
        and call.arguments["sigma"] is None
        and which in _DENSE_WHICH
        and 0 < k < A.shape[0]
    )
    if not dense:
        return original(*args, **kwargs)
    A = A.toarray() if scipy.sparse.issparse(A) else A
    values, vectors = scipy.linalg.eigh(A)
    order = np.sort(np.argsort(_DENSE_WHICH[which](values), kind="stable")[:k])
    if not call.arguments["return_eigenvectors"]:
        return values[order]
    return values[order], vectors[:, order]


def _wrapper_of(original):
    """``original``, given the generator of the current context's
    :func:`seeded_eigsh` where its caller gives no ``rng`` (or, where
    ``eigsh`` takes none, solving small matrices densely)."""

    @functools.wraps(original)
    def eigsh(*args, **kwargs):
        rng = _RNG.get()
        if rng is _NO_RNG:
            return _dense_eigsh(original, args, kwargs)
        if rng is not None:
            kwargs.setdefault("rng", rng)
        return original(*args, **kwargs)

    return eigsh


@contextlib.contextmanager
def seeded_eigsh(seed):
    """Within, ``scipy.sparse.linalg.eigsh`` seeds ARPACK's restarts with
    ``seed`` when its caller gives no ``rng``, one generator for every call
    (so a sequence of calls is repeated as a whole). For the calls that a
    library makes, which pass no ``rng`` (umap-learn's spectral layout).

    Only the calls of the thread (or context) inside it are seeded; those
    of other threads pass through unchanged, and several threads may be
    inside at once. The replacement is removed when the last leaves, unless
    another has replaced the function since (it then passes every call
    through unchanged). Where ``eigsh`` takes no ``rng``, the calls of the
    thread inside solve matrices of up to 1,000 rows densely.
    """
    token = _RNG.set(eigsh_seed(seed).get("rng", _NO_RNG))
    with _LOCK:
        if _Replacement.users == 0:
            _Replacement.original = scipy.sparse.linalg.eigsh
            _Replacement.wrapper = _wrapper_of(_Replacement.original)
            scipy.sparse.linalg.eigsh = _Replacement.wrapper
        _Replacement.users += 1
    try:
        yield
    finally:
        with _LOCK:
            _Replacement.users -= 1
            if (
                _Replacement.users == 0
                and scipy.sparse.linalg.eigsh is _Replacement.wrapper
            ):
                scipy.sparse.linalg.eigsh = _Replacement.original
        _RNG.reset(token)
