"""Warnings attributed to the user's line, wherever skdec raises them."""

import sys
import warnings

# Packages whose frames a warning passes over: skdec's own, and
# scikit-learn's, whose fit wrappers, pipelines and searches call skdec.
_INSIDE = frozenset({"skdec", "sklearn"})


def warn(message, category=UserWarning):
    """:func:`warnings.warn`, attributed to the first caller outside skdec and
    scikit-learn: the user's line that called ``fit``, a pipeline or a
    plotting function, however deep inside the warning is raised, so that
    filters by module and the once-per-location rule apply to the user's
    code (a fixed ``stacklevel`` named skdec's or scikit-learn's code where
    one more frame lay between)."""
    frame = sys._getframe(1)
    level = 2  # the caller of this function
    while frame is not None and _package(frame) in _INSIDE:
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def _package(frame):
    return frame.f_globals.get("__name__", "").partition(".")[0]
