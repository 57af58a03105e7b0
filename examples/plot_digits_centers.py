"""
Looking inside a fit: cluster images, embedding and history
===========================================================

Fit a small DEC network to scikit-learn's 8x8 digits and look at what it
learned with :mod:`skdec.plotting`: the mean image of each cluster, the
embedding of the rows, the clusters against the digits, and the training
history.
"""

# %%
# A small network (one hidden layer of 128 units) trains in seconds. It
# clusters less accurately than the defaults of the quick-start example
# (widths 105-105-420 on these digits), but shows the same figures.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdec import DECClusterer, cluster_accuracy
from skdec.plotting import (
    plot_cluster_centers,
    plot_confusion_matrix,
    plot_embedding,
    plot_history,
)

X, y = load_digits(return_X_y=True)
dec = make_pipeline(
    MinMaxScaler(),
    DECClusterer(
        n_clusters=10,
        hidden_layer_sizes=(128,),
        n_components=10,
        pretrain_epochs=40,
        batch_size=64,
        max_iter=1000,
        n_init=10,
        random_state=0,
    ),
)
labels = dec.fit_predict(X)
print(f"cluster accuracy {cluster_accuracy(y, labels):.3f}")

# %%
# Each cluster as the mean of its images. Without ``X``, the function decodes
# the centres, which live in the 10-dimensional embedding, with the layers of
# the autoencoder after it; those layers learn only in pretraining unless the
# reconstruction stays in the loss (``reconstruction_weight > 0``, IDEC), so
# after DEC's self-training the mean images are the true picture.
plot_cluster_centers(dec, image_shape=(8, 8), X=X)
plt.show()

# %%
# Digits against clusters, each cluster in the column of the digit it is
# matched to; the diagonal counts the correctly clustered images.
plot_confusion_matrix(y, labels)
plt.show()

# %%
# The embedding, projected on its first two principal components; the crosses
# are the centres.
plot_embedding(dec, X)
plt.show()

# %%
# The reconstruction loss per pretraining epoch, then the KL loss and the
# fraction of changed labels at each target update.
plot_history(dec)
plt.show()
