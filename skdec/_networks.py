"""Keras networks for DEC: the autoencoder and the clustering layer.

Everything here is written with ``keras`` and ``keras.ops`` only, so it runs on
any Keras 3 backend. Builders take plain values and an integer seed and return
Keras models that take and give flat rows; they know nothing about
scikit-learn.
"""

import inspect
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

__all__ = [
    "ClusteringLayer",
    "DECNetworks",
    "autoencoder_recipe",
    "build_autoencoder",
    "build_networks",
    "conv_parts",
    "dense_parts",
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
        if self.n_clusters == 1:
            # The same ones as the softmax, of which Keras warns over an axis
            # of size 1, still joined to the weights (the optimizer refuses a
            # loss that none of them reaches).
            norm = ops.logsumexp(log_kernel, axis=-1, keepdims=True)
            return ops.exp(log_kernel - norm)
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
        Flat input rows to ``[q, reconstruction]``; owns every weight.
    autoencoder : keras.Model
        Input to reconstruction.
    encoder : keras.Model
        Input to embedding ``z``.
    decoder : keras.Model
        Embedding to reconstruction (flat rows).
    clusterer : keras.Model
        Input to soft assignment ``q``.
    clustering_layer : ClusteringLayer
        The layer holding the cluster centres.
    """

    model: keras.Model
    autoencoder: keras.Model
    encoder: keras.Model
    decoder: keras.Model
    clusterer: keras.Model
    clustering_layer: ClusteringLayer


class _Seeds:
    """Hands out consecutive seeds, one per initializer."""

    def __init__(self, seed):
        self.next = int(seed)

    def glorot(self):
        self.next += 1
        return keras.initializers.GlorotUniform(seed=self.next)


def dense_parts(n_features, n_components, *, hidden_layer_sizes, activation, seed):
    """Encoder and decoder of the dense autoencoder.

    The encoder is ``n_features -> hidden_layer_sizes -> n_components`` with
    ``activation`` on the hidden layers and a linear embedding; the decoder
    mirrors it and ends in a linear layer of ``n_features`` units. Kernels are
    Glorot-uniform seeded from ``seed``, biases zero.
    """
    seeds = _Seeds(seed)

    def dense(units, activation, name):
        return keras.layers.Dense(
            int(units),
            activation=activation,
            kernel_initializer=seeds.glorot(),
            name=name,
        )

    x = keras.Input(shape=(n_features,), name="input")
    h = x
    for i, units in enumerate(hidden_layer_sizes):
        h = dense(units, activation, f"encoder_{i}")(h)
    encoder = keras.Model(x, dense(n_components, None, "embedding")(h), name="encoder")
    z = keras.Input(shape=(n_components,), name="embedding_input")
    h = z
    for i, units in enumerate(reversed(hidden_layer_sizes)):
        h = dense(units, activation, f"decoder_{i}")(h)
    decoder = keras.Model(
        z, dense(n_features, None, "reconstruction")(h), name="decoder"
    )
    return encoder, decoder


def conv_parts(n_features, n_components, *, input_shape, filters, decoder_kind, seed):
    """Encoder and decoder of the convolutional autoencoder (as in DCEC).

    Flat rows are reshaped to ``input_shape`` (height, width, channels; channels
    last). The encoder applies one strided (stride 2, ``same`` padding)
    convolution per entry of ``filters`` with kernels 5, 5, 3, ..., ReLU, then a
    linear dense embedding. The decoder mirrors it: a dense layer back to the
    smallest feature map, then per level a stride-2 transposed convolution
    (``decoder_kind="transpose"``) or a 2x upsampling and a convolution
    (``"upsample"``), cropped to the encoder's size at that level; the last
    level is linear with the input's channels, flattened back to rows.
    """
    seeds = _Seeds(seed)
    height, width, channels = input_shape
    kernels = [5 if i < 2 else 3 for i in range(len(filters))]
    sizes = [(height, width)]
    for _ in filters:
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))

    x = keras.Input(shape=(n_features,), name="input")
    h = keras.layers.Reshape(input_shape, name="to_image")(x)
    for i, (f, k) in enumerate(zip(filters, kernels, strict=True)):
        h = keras.layers.Conv2D(
            int(f),
            k,
            strides=2,
            padding="same",
            activation="relu",
            kernel_initializer=seeds.glorot(),
            name=f"encoder_{i}",
        )(h)
    h = keras.layers.Flatten(name="flatten")(h)
    embedding = keras.layers.Dense(
        n_components, kernel_initializer=seeds.glorot(), name="embedding"
    )(h)
    encoder = keras.Model(x, embedding, name="encoder")

    z = keras.Input(shape=(n_components,), name="embedding_input")
    smallest_h, smallest_w = sizes[-1]
    h = keras.layers.Dense(
        smallest_h * smallest_w * int(filters[-1]),
        activation="relu",
        kernel_initializer=seeds.glorot(),
        name="decoder_dense",
    )(z)
    h = keras.layers.Reshape((smallest_h, smallest_w, int(filters[-1])))(h)
    out_filters = [int(f) for f in reversed(filters[:-1])] + [channels]
    for level, (f, k) in enumerate(zip(out_filters, reversed(kernels), strict=True)):
        last = level == len(out_filters) - 1
        activation = None if last else "relu"
        name = "reconstruction_image" if last else f"decoder_{level}"
        if decoder_kind == "transpose":
            h = keras.layers.Conv2DTranspose(
                f,
                k,
                strides=2,
                padding="same",
                activation=activation,
                kernel_initializer=seeds.glorot(),
                name=name,
            )(h)
        else:
            h = keras.layers.UpSampling2D(2, name=f"upsample_{level}")(h)
            h = keras.layers.Conv2D(
                f,
                k,
                padding="same",
                activation=activation,
                kernel_initializer=seeds.glorot(),
                name=name,
            )(h)
        target_h, target_w = sizes[-2 - level]
        crop = (
            2 * sizes[-1 - level][0] - target_h,
            2 * sizes[-1 - level][1] - target_w,
        )
        if crop != (0, 0):
            h = keras.layers.Cropping2D(((0, crop[0]), (0, crop[1])))(h)
    reconstruction = keras.layers.Reshape((n_features,), name="reconstruction")(h)
    decoder = keras.Model(z, reconstruction, name="decoder")
    return encoder, decoder


def _custom_parts(builder, n_features, n_components, *, input_shape, seed):
    shape = tuple(input_shape) if input_shape is not None else (n_features,)
    try:
        # Only a parameter named seed: a builder that passes **kwargs on to
        # Keras layers would hand them an argument they refuse.
        accepts_seed = "seed" in inspect.signature(builder).parameters
    except (TypeError, ValueError):
        accepts_seed = False
    parts = (
        builder(shape, n_components, seed=seed)
        if accepts_seed
        else builder(shape, n_components)
    )
    if not (
        isinstance(parts, tuple)
        and len(parts) == 2
        and all(isinstance(p, keras.Model) for p in parts)
    ):
        got = type(parts).__name__
        if isinstance(parts, (tuple, list)):
            got += f" of {len(parts)}: " + ", ".join(type(p).__name__ for p in parts)
        raise TypeError(
            "A custom autoencoder callable must return (encoder, decoder), two "
            f"keras.Model instances; got a {got}."
        )
    encoder, decoder = parts
    # Wrap both so that they take and give flat rows, whatever the builder uses.
    x = keras.Input(shape=(n_features,), name="input")
    h = x if shape == (n_features,) else keras.layers.Reshape(shape)(x)
    z = _call_part(encoder, h, "encoder", shape)
    if isinstance(z, (list, tuple)) and len(z) == 1:  # keras.Model(x, [z])
        (z,) = z
    if isinstance(z, (list, tuple, dict)):
        raise ValueError(
            f"The custom encoder must have one output, the embedding; it has {len(z)}."
        )
    if tuple(z.shape[1:]) != (n_components,):
        raise ValueError(
            f"The custom encoder outputs shape {tuple(z.shape[1:])}, expected "
            f"({n_components},) for n_components={n_components}."
        )
    z_in = keras.Input(shape=(n_components,), name="embedding_input")
    r = _call_part(decoder, z_in, "decoder", (n_components,))
    if isinstance(r, (list, tuple)) and len(r) == 1:
        (r,) = r
    if isinstance(r, (list, tuple, dict)):
        raise ValueError(
            f"The custom decoder must have one output, the reconstruction; it "
            f"has {len(r)}."
        )
    if int(np.prod(r.shape[1:])) != n_features:
        raise ValueError(
            f"The custom decoder outputs shape {tuple(r.shape[1:])}, which does "
            f"not hold the {n_features} input features."
        )
    r = keras.layers.Reshape((n_features,), name="reconstruction")(r)
    return keras.Model(x, z, name="encoder"), keras.Model(z_in, r, name="decoder")


def _call_part(model, inputs, name, shape):
    """``model(inputs)``, or an error that names the custom ``name`` (encoder
    or decoder) and the shape it was called on."""
    try:
        return model(inputs)
    except ValueError as error:
        raise ValueError(
            f"Calling the custom {name} on inputs of shape {shape} (without the "
            f"batch axis) failed: {error}"
        ) from error


def build_autoencoder(
    *,
    n_features,
    n_components,
    autoencoder="dense",
    hidden_layer_sizes=(500, 500, 2000),
    activation="relu",
    input_shape=None,
    conv_filters=(32, 64, 128),
    decoder="transpose",
    seed=0,
):
    """Build the encoder and the decoder of DEC's autoencoder.

    Parameters
    ----------
    n_features : int
        Width of the flat input rows.
    n_components : int
        Width of the embedding.
    autoencoder : {"dense", "conv"} or callable, default="dense"
        The architecture; a callable ``f(input_shape, n_components[, seed])``
        returns ``(encoder, decoder)`` Keras models.
    hidden_layer_sizes : tuple of int
        Dense encoder widths; the decoder uses them reversed.
    activation : str
        Activation of the dense hidden layers.
    input_shape : tuple of int or None
        ``(height, width, channels)`` of the images in each row (``"conv"``),
        or the shape handed to a custom builder.
    conv_filters : tuple of int
        Filters of the strided convolutions (``"conv"``).
    decoder : {"transpose", "upsample"}
        Upsampling of the convolutional decoder.
    seed : int
        Seed of the weight initialisers: the same seed gives the same weights.

    Returns
    -------
    encoder, decoder : keras.Model
        Flat input rows to the embedding, and the embedding back to flat rows.
    """
    n_features, n_components = int(n_features), int(n_components)
    if callable(autoencoder):
        return _custom_parts(
            autoencoder, n_features, n_components, input_shape=input_shape, seed=seed
        )
    if autoencoder == "conv":
        return conv_parts(
            n_features,
            n_components,
            input_shape=tuple(int(d) for d in input_shape),
            filters=tuple(int(f) for f in conv_filters),
            decoder_kind=decoder,
            seed=seed,
        )
    return dense_parts(
        n_features,
        n_components,
        hidden_layer_sizes=tuple(int(h) for h in hidden_layer_sizes),
        activation=activation,
        seed=seed,
    )


def build_networks(*, n_clusters, alpha, seed=0, **autoencoder_recipe):
    """Build the autoencoder and the clustering layer of DEC.

    Parameters
    ----------
    n_clusters : int
        Number of cluster centres (initialised to zero).
    alpha : float
        Degrees of freedom of the Student's t kernel.
    seed : int, default=0
        Seed of the weight initialisers.
    **autoencoder_recipe : dict
        The keyword arguments of :func:`build_autoencoder` but ``seed``.

    Returns
    -------
    networks : DECNetworks
    """
    encoder, decoder_model = build_autoencoder(**autoencoder_recipe, seed=seed)
    x = keras.Input(shape=(int(autoencoder_recipe["n_features"]),), name="input")
    z = encoder(x)
    reconstruction = decoder_model(z)
    clustering_layer = ClusteringLayer(n_clusters, alpha=alpha, name="clustering")
    q = clustering_layer(z)
    return DECNetworks(
        model=keras.Model(x, [q, reconstruction], name="dec"),
        autoencoder=keras.Model(x, reconstruction, name="autoencoder"),
        encoder=encoder,
        decoder=decoder_model,
        clusterer=keras.Model(x, q, name="clusterer"),
        clustering_layer=clustering_layer,
    )


def architecture(autoencoder_recipe, seed):
    """What the networks that ``autoencoder_recipe`` builds with ``seed`` are
    made of: for a custom ``autoencoder`` callable, which its name does not
    identify, the cache key of the pretraining (``DECClusterer(memory=...)``).

    Each layer is described by its class, its configuration without its
    name (Keras numbers the names of new layers in a process) and the shapes
    of its weights; a model, by the description of each of its layers. Not
    described: the code of a custom layer's ``call`` or of a subclassed
    model, and how a functional model wires its layers.
    """
    return [
        _layer_description(part)
        for part in build_autoencoder(**autoencoder_recipe, seed=seed)
    ]


def _layer_description(layer):
    if isinstance(layer, keras.Model):  # its config names its layers
        config = [_layer_description(inner) for inner in layer.layers]
    else:
        try:
            config = _nameless(layer.get_config())
        except NotImplementedError:  # a custom layer without get_config
            config = None
    return (
        f"{type(layer).__module__}.{type(layer).__qualname__}",
        config,
        [tuple(weight.shape) for weight in layer.weights],
    )


def _nameless(config, layer=True):
    """A layer's configuration without its name, nor those of the layers it
    wraps (``Bidirectional``, ``TimeDistributed``): the serialised objects in
    it (``{"class_name": ..., "config": ...}``) that are not dtype policies
    are layers, initialisers and the like, whose names go too."""
    if isinstance(config, dict):
        if "class_name" in config and "config" in config:
            named = "Policy" not in str(config["class_name"])
            return {
                key: _nameless(value, named and key == "config")
                for key, value in config.items()
            }
        return {
            key: _nameless(value, False)
            for key, value in config.items()
            if not (layer and key == "name")
        }
    if isinstance(config, (list, tuple)):
        return type(config)(_nameless(value, False) for value in config)
    return config


def autoencoder_recipe(recipe):
    """The entries of a DEC ``recipe`` that shape the autoencoder alone."""
    return {k: v for k, v in recipe.items() if k not in ("n_clusters", "alpha")}


def networks_from_weights(recipe, weights):
    """Build networks from ``recipe`` and load ``weights`` into them.

    Parameters
    ----------
    recipe : dict
        Keyword arguments of :func:`build_networks` (without ``seed``).
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
    networks = build_networks(**recipe)
    expected = [tuple(w.shape) for w in networks.model.weights]
    got = [tuple(np.shape(w)) for w in weights]
    if got != expected:
        raise ValueError(
            f"The weights do not fit the architecture: expected shapes {expected}, "
            f"got {got}."
        )
    networks.model.set_weights(weights)
    return networks
