"""Warnings attributed to the user's line, wherever skdec raises them, and
TensorFlow's retracing warning kept out of skdec's own calls."""

import contextlib
import contextvars
import logging
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


# TensorFlow's warning that calls "triggered tf.function retracing", as
# its Python logger writes it.
_RETRACING = "triggered tf.function retracing"
_IN_SKDEC = contextvars.ContextVar("skdec_in_skdec", default=False)


class _RetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning within skdec's own fits and
    predictions. The networks of each architecture have functions of their
    own, each traced once; TensorFlow counts them as retracing one function
    (Keras' step, shared by every model's) and, after a few architectures
    in a process (a search over ``n_components``, say), warns that tracing
    is expensive and may come from functions made in a loop, which the
    user's code cannot change. Outside skdec's calls, and in other threads,
    the warning passes."""

    def filter(self, record):
        return not (_IN_SKDEC.get() and _RETRACING in record.getMessage())


RETRACING_FILTER = _RetracingFilter()


@contextlib.contextmanager
def retracing_unreported():
    """Within it, :data:`RETRACING_FILTER` drops TensorFlow's retracing
    warning (installed on the ``tensorflow`` logger at the first use)."""
    logging.getLogger("tensorflow").addFilter(RETRACING_FILTER)  # once only
    token = _IN_SKDEC.set(True)
    try:
        yield
    finally:
        _IN_SKDEC.reset(token)
