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
``rng``, both do nothing.
"""

import contextlib
import functools
import inspect
import threading

import numpy as np
import scipy.sparse.linalg

# The stream of ARPACK's restarts, apart from the other uses of a seed.
_STREAM = 31
# One replacement of scipy's function at a time (fits in threads).
_LOCK = threading.RLock()


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


@contextlib.contextmanager
def seeded_eigsh(seed):
    """Within, ``scipy.sparse.linalg.eigsh`` seeds ARPACK's restarts with
    ``seed`` when its caller gives no ``rng``, one generator for every call
    (so a sequence of calls is repeated as a whole). For the calls that a
    library makes, which pass no ``rng`` (umap-learn's spectral layout);
    the function is put back on exit."""
    if not _takes_rng():
        yield
        return
    with _LOCK:
        original = scipy.sparse.linalg.eigsh
        rng = eigsh_seed(seed)["rng"]

        @functools.wraps(original)
        def eigsh(*args, **kwargs):
            kwargs.setdefault("rng", rng)
            return original(*args, **kwargs)

        scipy.sparse.linalg.eigsh = eigsh
        try:
            yield
        finally:
            scipy.sparse.linalg.eigsh = original
