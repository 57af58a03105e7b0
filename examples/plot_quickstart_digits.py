"""
Quick start: clustering handwritten digits
==========================================

Cluster the 1,797 8x8 digit images that ship with scikit-learn into ten
groups with :class:`skdec.DECClusterer`, and compare the cluster accuracy with
k-means on the same pixels. No download is needed.

Run it as a script: ``python examples/plot_quickstart_digits.py``.
"""

# %%
# Load the data and scale the pixels (0..16) to [0, 1].
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdec import DECClusterer, cluster_accuracy

X, y = load_digits(return_X_y=True)

# %%
# k-means on the pixels, with 20 restarts.
start = time.perf_counter()
kmeans = make_pipeline(MinMaxScaler(), KMeans(n_clusters=10, n_init=20, random_state=0))
kmeans_labels = kmeans.fit_predict(X)
kmeans_seconds = time.perf_counter() - start

# %%
# DEC with its defaults: ``DECClusterer(n_clusters=10)`` and nothing else.
# The fit decides from the data alone how large a network to pretrain, for
# how many steps, and which clustering to start self-training from; the
# fitted estimator says what it chose.
start = time.perf_counter()
dec = make_pipeline(MinMaxScaler(), DECClusterer(n_clusters=10, random_state=0))
dec_labels = dec.fit_predict(X)
dec_seconds = time.perf_counter() - start

# %%
# Cluster accuracy matches each cluster to one digit (Hungarian algorithm).
print(
    f"k-means accuracy: {cluster_accuracy(y, kmeans_labels):.3f} "
    f"({kmeans_seconds:.1f} s)"
)
print(
    f"DEC accuracy:     {cluster_accuracy(y, dec_labels):.3f} "
    f"({dec_seconds:.1f} s, {dec[-1].n_iter_} self-training iterations)"
)
fitted = dec[-1]
print(
    f"DEC started from {fitted.init_!r}; the criterion of each start:",
    {name: round(value, 3) for name, value in fitted.init_scores_.items()},
)
print(
    f"It pretrained {fitted.pretrain_epochs_} epochs of {fitted.batch_size_} rows;"
    f" self-training {'kept' if fitted.self_training_kept_ else 'undone'}."
)
