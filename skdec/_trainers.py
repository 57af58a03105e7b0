"""Compiled Keras models kept from fit to fit: the trainer pool.

TensorFlow keeps each traced training function alive until the process ends
(about 5 MB or more per compiled model), so compiling fresh models in every fit
makes a grid search grow without bound. A fit instead checks out a trainer of
its architecture from :data:`TRAINER_POOL`, resets it (which gives exactly the
weights and optimizer state of a new one) and returns it afterwards.

Two kinds of trainer exist: an :class:`AutoencoderTrainer` pretrains the
autoencoder on the reconstruction loss, and a :class:`ClusteringTrainer`
self-trains the encoder and the cluster centres on ``KL(P || Q)`` (plus the
weighted reconstruction loss for IDEC).
"""

import collections
import contextlib
import threading
from dataclasses import dataclass

import keras
import numpy as np

from skdec._assignment import soft_assignment
from skdec._batches import map_batches, predict_batches
from skdec._networks import DECNetworks, build_autoencoder, build_networks


def make_optimizer(name, learning_rate, momentum=0.0):
    """Return a fresh Keras optimizer from plain values.

    Parameters
    ----------
    name : {"adam", "sgd"}
        Optimizer family.
    learning_rate : float
        Step size.
    momentum : float, default=0.0
        Momentum of SGD; ignored by Adam.

    Returns
    -------
    optimizer : keras.optimizers.Optimizer
    """
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    raise ValueError(f"Unknown optimizer {name!r}.")


def reseed_random_layers(model, seed):
    """Put the seed generators of ``model``'s random layers (``Dropout``,
    ``GaussianNoise`` of a custom autoencoder) at states drawn from ``seed``.

    ``get_weights`` leaves them out, so a pooled model would otherwise draw
    its masks on from where the fits before it left them: the same
    ``random_state`` would fit differently after other fits. The built-in
    networks have none.
    """
    states = [v for v in model.variables if v.name == "seed_generator_state"]
    draws = np.random.default_rng([seed, 41]).integers(1, 2**31 - 1, len(states))
    for state, draw in zip(states, draws, strict=True):
        state.assign(np.array([draw, 0], dtype=state.dtype))


def _build_training_state(model):
    """Create now the variables that Keras' TensorFlow trainer would create
    while it first traces the compiled ``model``'s train step: the
    optimizer's, and the compiled loss's tracker of each output when there
    are several (IDEC's joint model). A tf.function that creates variables
    is traced a second time before it runs; building them here saves that
    trace, about a third of the time of a small fit of a new network.
    Under a ``tf.distribute`` strategy Keras builds them itself, before it
    traces."""
    model.optimizer.build(model.trainable_variables)
    if len(model.outputs) > 1 and _distribution_strategy() is None:
        x = np.zeros((1, *model.input_shape[1:]), dtype=np.float32)
        y_pred = model(x)
        model.compute_loss(x=x, y=y_pred, y_pred=y_pred, training=False)
        model.reset_metrics()


def _reset_optimizer(optimizer, learning_rate):
    """Zero the optimizer's state (moments, step count) and set its rate."""
    for variable in optimizer.variables:
        variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
    optimizer.learning_rate = learning_rate


@dataclass
class AutoencoderTrainer:
    """An autoencoder compiled with the mean squared error.

    ``recipe`` holds the keyword arguments of
    :func:`~skdec._networks.build_autoencoder` but ``seed``.
    """

    recipe: dict
    encoder: keras.Model
    decoder: keras.Model
    autoencoder: keras.Model
    optimizer: keras.optimizers.Optimizer

    @classmethod
    def build(cls, recipe, *, optimizer, momentum):
        encoder, decoder = build_autoencoder(**recipe)
        x = keras.Input(shape=(int(recipe["n_features"]),), name="input")
        autoencoder = keras.Model(x, decoder(encoder(x)), name="autoencoder")
        trainer = cls(
            recipe=recipe,
            encoder=encoder,
            decoder=decoder,
            autoencoder=autoencoder,
            optimizer=make_optimizer(optimizer, 1e-3, momentum),
        )
        autoencoder.compile(optimizer=trainer.optimizer, loss="mean_squared_error")
        _build_training_state(autoencoder)
        return trainer

    def reset(self, seed, learning_rate):
        """Give the weights of a new autoencoder from ``seed``, fresh optimizer
        state and ``learning_rate``."""
        encoder, decoder = build_autoencoder(**self.recipe, seed=seed)
        self.encoder.set_weights(encoder.get_weights())
        self.decoder.set_weights(decoder.get_weights())
        reseed_random_layers(self.autoencoder, seed)
        _reset_optimizer(self.optimizer, learning_rate)


class _Inference:
    """Inference through ``self.networks``, batch by batch."""

    def embed(self, X):
        """The embedding of the rows of X, batch by batch."""
        return predict_batches(self.networks.encoder, X)

    def assign(self, X, labels_only=False, reconstruction_error=False):
        """The soft assignment ``Q`` of the rows of X, or only their labels
        (the argmax of each row), computed batch by batch.

        With ``reconstruction_error``, returns ``(Q or labels, error)``:
        ``error`` is the mean squared error of the autoencoder's
        reconstruction of the rows (the loss of pretraining and IDEC, over
        all rows), found by decoding the same embedding, batch by batch.
        """
        layer = self.networks.clustering_layer
        centers = layer.get_weights()[0]

        def assign(Z):
            q = soft_assignment(Z, centers, layer.alpha)
            return q.argmax(axis=1) if labels_only else q

        if not reconstruction_error:
            return predict_batches(self.networks.encoder, X, then=assign)
        errors = []

        def assign_and_decode(batch):
            embedded = []

            def keep(Z):
                embedded.append(Z)
                return assign(Z)

            # The same padded batches as above: Q is the same to the bit.
            assigned = predict_batches(self.networks.encoder, batch, then=keep)
            reconstruction = predict_batches(
                self.networks.decoder, embedded[0][: batch.shape[0]]
            )
            errors.append(
                np.mean((batch - reconstruction) ** 2, axis=1, dtype=np.float64)
            )
            return assigned

        assigned = map_batches(assign_and_decode, X)
        return assigned, float(np.mean(np.concatenate(errors)))


@dataclass
class Predictor(_Inference):
    """DEC's networks for inference only, loaded with a fitted model's weights.

    Fitted estimators predict through pooled predictors rather than through
    networks of their own, so that a prediction function is traced once per
    architecture, not once per fitted model.
    """

    recipe: dict
    networks: DECNetworks

    @classmethod
    def build(cls, recipe):
        return cls(recipe=recipe, networks=build_networks(**recipe))

    def load(self, weights):
        """Set all weights, ``networks.model.get_weights()`` of a fitted model."""
        self.networks.model.set_weights(weights)
        return self


@dataclass
class ClusteringTrainer(_Inference):
    """DEC's networks compiled for self-training.

    With ``reconstruction_weight == 0`` self-training minimises ``KL(P || Q)``
    through ``networks.clusterer`` (DEC); otherwise it minimises
    ``KL(P || Q) + reconstruction_weight * MSE(x, reconstruction)`` through
    ``networks.model`` (the joint loss of IDEC). ``recipe`` holds the keyword
    arguments of :func:`~skdec._networks.build_networks` but ``seed``.
    """

    recipe: dict
    networks: DECNetworks
    optimizer: keras.optimizers.Optimizer
    reconstruction_weight: float

    @classmethod
    def build(cls, recipe, *, optimizer, momentum, reconstruction_weight):
        networks = build_networks(**recipe)
        trainer = cls(
            recipe=recipe,
            networks=networks,
            optimizer=make_optimizer(optimizer, 1e-3, momentum),
            reconstruction_weight=reconstruction_weight,
        )
        if trainer.joint:
            networks.model.compile(
                optimizer=trainer.optimizer,
                loss=[keras.losses.KLDivergence(), "mean_squared_error"],
                loss_weights=[1.0, reconstruction_weight],
            )
        else:
            networks.clusterer.compile(
                optimizer=trainer.optimizer, loss=keras.losses.KLDivergence()
            )
        _build_training_state(trainer.model)
        return trainer

    @property
    def joint(self):
        """Whether the reconstruction loss is trained too (IDEC)."""
        return self.reconstruction_weight > 0

    @property
    def model(self):
        """The compiled model that self-training steps."""
        return self.networks.model if self.joint else self.networks.clusterer

    def start(self, learning_rate, *, weights=None, autoencoder=None, seed=0):
        """Set the weights self-training starts from and fresh optimizer state.

        Either ``weights``, all of ``networks.model.get_weights()`` (to continue
        a fitted model), or ``autoencoder``, the pretrained encoder's and
        decoder's weight lists (then set the centres with :meth:`set_centers`).
        ``seed`` seeds the random layers of a custom autoencoder
        (:func:`reseed_random_layers`).
        """
        reseed_random_layers(self.networks.model, seed)
        if weights is not None:
            self.networks.model.set_weights(weights)
        else:
            encoder_weights, decoder_weights = autoencoder
            self.networks.encoder.set_weights(encoder_weights)
            self.networks.decoder.set_weights(decoder_weights)
        self.restart_optimizer(learning_rate)

    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        return float(self.optimizer.learning_rate.numpy())

    def restart_optimizer(self, learning_rate):
        """Fresh optimizer state at ``learning_rate``, the weights unchanged."""
        _reset_optimizer(self.optimizer, learning_rate)

    def set_centers(self, centers):
        """Put ``centers`` in the clustering layer."""
        self.networks.clustering_layer.set_weights(
            [np.asarray(centers, dtype=np.float32)]
        )


def _distribution_strategy():
    """The ``tf.distribute`` strategy whose scope is active, or None.

    Models and optimizers belong to the strategy under which they were built
    (TensorFlow refuses to update variables of another one), so a trainer is
    only lent out again under the same strategy. Other backends have none.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


class TrainerPool:
    """Trainers kept across fits, one set per architecture and optimizer.

    Learning rates are variables and may differ between fits; everything that
    shapes the traced functions is in the key.

    Parameters
    ----------
    max_free : int, default=8
        Idle trainers kept; the least recently used are dropped beyond it.
    """

    def __init__(self, max_free=8):
        self.max_free = max_free
        self._lock = threading.Lock()
        self._free = collections.OrderedDict()

    @contextlib.contextmanager
    def _checkout(self, kind, recipe, options):
        key = (
            kind,
            tuple(sorted(recipe.items())),
            tuple(sorted(options.items())),
            _distribution_strategy(),
        )
        with self._lock:
            idle = self._free.get(key)
            trainer = idle.pop() if idle else None
            if idle is not None and not idle:
                # No empty lists stay behind: eviction below takes the
                # oldest list's first trainer.
                del self._free[key]
        if trainer is None:
            trainer = kind.build(recipe, **options)
        yield trainer
        # Only a trainer whose fit ended normally goes back to the pool.
        with self._lock:
            self._free.setdefault(key, []).append(trainer)
            self._free.move_to_end(key)
            while sum(map(len, self._free.values())) > self.max_free:
                oldest = next(iter(self._free))
                self._free[oldest].pop(0)
                if not self._free[oldest]:
                    del self._free[oldest]

    def autoencoder(self, recipe, *, optimizer, momentum):
        """Lend an :class:`AutoencoderTrainer` (not yet reset) for a ``with``
        block."""
        return self._checkout(
            AutoencoderTrainer, recipe, {"optimizer": optimizer, "momentum": momentum}
        )

    def clustering(self, recipe, *, optimizer, momentum, reconstruction_weight):
        """Lend a :class:`ClusteringTrainer` (not yet started) for a ``with``
        block."""
        return self._checkout(
            ClusteringTrainer,
            recipe,
            {
                "optimizer": optimizer,
                "momentum": momentum,
                "reconstruction_weight": reconstruction_weight,
            },
        )

    def predictor(self, recipe):
        """Lend a :class:`Predictor` (to be loaded) for a ``with`` block."""
        return self._checkout(Predictor, recipe, {})

    def clear(self):
        """Drop every idle trainer."""
        with self._lock:
            self._free.clear()


TRAINER_POOL = TrainerPool()
