"""skdec: Deep Embedded Clustering as a scikit-learn estimator on Keras 3.

The public names are imported when first used, so that ``import skdec`` (and
the ``skdec`` command's ``--help``) does not wait for scikit-learn or Keras.
"""

import importlib

__version__ = "0.2.0.dev0"

_EXPORTS = {
    "DECClusterer": "skdec._estimator",
    "align_clusters": "skdec.metrics",
    "cluster_accuracy": "skdec.metrics",
    "cluster_accuracy_scorer": "skdec.metrics",
    "graph_separation_score": "skdec.metrics",
    "graph_separation_scorer": "skdec.metrics",
    "load": "skdec._persistence",
    "save": "skdec._persistence",
}

__all__ = [
    "DECClusterer",
    "align_clusters",
    "cluster_accuracy",
    "cluster_accuracy_scorer",
    "graph_separation_score",
    "graph_separation_scorer",
    "load",
    "save",
    "__version__",
]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skdec' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
