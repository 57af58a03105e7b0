"""Keras networks for DEC: the autoencoder and the clustering layer.

Everything here is written with ``keras`` and ``keras.ops`` only, so it runs on
any Keras 3 backend. Builders take plain values and an integer seed and return
Keras objects; they know nothing about scikit-learn.
"""

from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

__all__ = [
    "ClusteringLayer",
    "DECNetworks",
    "build_dense_networks",
    "initialize_weights",
    "networks_from_weights",
]


@keras.saving.register_keras_serializable(package="skdec")
class ClusteringLayer(keras.layers.Layer):
    """Soft assignment of embedded points to cluster centres.

    Computes the Student's t kernel of DEC,
    ``q_ij = (1 + |z_i - mu_j|^2 / alpha) ** (-(alpha + 1) / 2)``, normalised
    over the clusters ``j``. It is evaluated as a softmax of the log-kernel, so
    that points far from every centre still get finite probabilities.

    Parameters
    ----------
    n_clusters : int
        Number of centres ``mu_j``.
    alpha : float, default=1.0
        Degrees of freedom of the Student's t distribution.
    **kwargs : dict
        Passed to :class:`keras.layers.Layer`.
    """

    def __init__(self, n_clusters, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)

    def build(self, input_shape):
        self.clusters = self.add_weight(
            shape=(self.n_clusters, input_shape[-1]),
            initializer="zeros",
            name="clusters",
        )

    def call(self, z):
        diff = ops.expand_dims(z, 1) - ops.expand_dims(self.clusters, 0)
        sq_dist = ops.sum(ops.square(diff), axis=-1)
        log_kernel = -0.5 * (self.alpha + 1.0) * ops.log1p(sq_dist / self.alpha)
        return ops.softmax(log_kernel, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        config = super().get_config()
        config.update({"n_clusters": self.n_clusters, "alpha": self.alpha})
        return config


@dataclass
class DECNetworks:
    """The Keras models of one DEC fit, all views over the same layers.

    Attributes
    ----------
    model : keras.Model
        Input to ``[q, reconstruction]``; owns every weight.
    autoencoder : keras.Model
        Input to reconstruction.
    encoder : keras.Model
        Input to embedding ``z``.
    clusterer : keras.Model
        Input to soft assignment ``q``.
    clustering_layer : ClusteringLayer
        The layer holding the cluster centres.
    """

    model: keras.Model
    autoencoder: keras.Model
    encoder: keras.Model
    clusterer: keras.Model
    clustering_layer: ClusteringLayer


def initialize_weights(networks, seed):
    """Set every weight of ``networks`` to its seeded initial value.

    Dense kernels are Glorot-uniform with seed ``seed + i`` for the ``i``-th
    dense layer, biases and cluster centres zero. The same seed always gives
    the same weights, whether the networks are new or reused.

    Parameters
    ----------
    networks : DECNetworks
        Networks to initialise in place.
    seed : int
        Base seed of the initialisers.
    """
    dense_layers = [
        layer
        for layer in networks.model.layers
        if isinstance(layer, keras.layers.Dense)
    ]
    for i, layer in enumerate(dense_layers):
        initializer = keras.initializers.GlorotUniform(seed=seed + i)
        layer.kernel.assign(initializer(layer.kernel.shape))
        layer.bias.assign(keras.ops.zeros(layer.bias.shape))
    centers = networks.clustering_layer.clusters
    centers.assign(keras.ops.zeros(centers.shape))


def build_dense_networks(
    n_features, hidden_layer_sizes, n_components, n_clusters, alpha, activation
):
    """Build the dense autoencoder and clustering layer of DEC.

    The encoder is ``n_features -> hidden_layer_sizes -> n_components`` with
    ``activation`` on the hidden layers and a linear embedding; the decoder
    mirrors it and ends in a linear layer of ``n_features`` units.

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    hidden_layer_sizes : tuple of int
        Encoder hidden layer widths; the decoder uses them reversed.
    n_components : int
        Width of the embedding.
    n_clusters : int
        Number of cluster centres.
    alpha : float
        Degrees of freedom of the Student's t kernel.
    activation : str
        Keras activation of the hidden layers.

    Returns
    -------
    networks : DECNetworks
        New networks; set their weights with :func:`initialize_weights` or
        ``networks.model.set_weights``.
    """

    def dense(units, activation, name):
        # Zeros here: initialize_weights or set_weights gives the real values,
        # and no draw is taken from Keras' global seed generator.
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer="zeros",
            name=name,
        )

    hidden = [int(h) for h in hidden_layer_sizes]
    inputs = keras.Input(shape=(int(n_features),), name="input")
    h = inputs
    for i, units in enumerate(hidden):
        h = dense(units, activation, f"encoder_{i}")(h)
    z = dense(int(n_components), None, "embedding")(h)
    h = z
    for i, units in enumerate(reversed(hidden)):
        h = dense(units, activation, f"decoder_{i}")(h)
    reconstruction = dense(int(n_features), None, "reconstruction")(h)
    clustering_layer = ClusteringLayer(n_clusters, alpha=alpha, name="clustering")
    q = clustering_layer(z)
    return DECNetworks(
        model=keras.Model(inputs, [q, reconstruction], name="dec"),
        autoencoder=keras.Model(inputs, reconstruction, name="autoencoder"),
        encoder=keras.Model(inputs, z, name="encoder"),
        clusterer=keras.Model(inputs, q, name="clusterer"),
        clustering_layer=clustering_layer,
    )


def networks_from_weights(recipe, weights):
    """Build networks from ``recipe`` and load ``weights`` into them.

    Parameters
    ----------
    recipe : dict
        Keyword arguments of :func:`build_dense_networks`.
    weights : list of ndarray
        ``networks.model.get_weights()`` of networks built from the same
        recipe.

    Returns
    -------
    networks : DECNetworks

    Raises
    ------
    ValueError
        If the number or the shapes of ``weights`` do not fit the recipe.
    """
    networks = build_dense_networks(**recipe)
    expected = [tuple(w.shape) for w in networks.model.weights]
    got = [tuple(np.shape(w)) for w in weights]
    if got != expected:
        raise ValueError(
            f"The weights do not fit the architecture: expected shapes {expected}, "
            f"got {got}."
        )
    networks.model.set_weights(weights)
    return networks
