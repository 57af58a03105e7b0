"""skdec: Deep Embedded Clustering as a scikit-learn estimator on Keras 3."""

from skdec._estimator import DECClusterer
from skdec._persistence import load
from skdec.metrics import align_clusters, cluster_accuracy, cluster_accuracy_scorer

__version__ = "0.1.0"

__all__ = [
    "DECClusterer",
    "align_clusters",
    "cluster_accuracy",
    "cluster_accuracy_scorer",
    "load",
    "__version__",
]
