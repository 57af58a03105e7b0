"""What the ``"auto"`` settings of DECClusterer decide, from the data's shape.

Each rule is a smooth function of the number of rows ``n_samples`` and of
features ``n_features`` (never of the values or of any label), so that a data
set slightly larger or smaller than another gets a slightly different
schedule, not a different regime:

- the network grows with the amount of data, about one weight per input
  value, up to the paper's 500-500-2000 (:func:`hidden_layer_sizes`);
- a minibatch is about a fortieth of the rows, between 32 and 256, rounded
  to a power of two (:func:`batch_size`);
- pretraining takes a budget of gradient steps that grows with the square
  root of the number of rows, from 2,000 to 4,000 (:func:`pretrain_epochs`).
"""

import math

# The paper's dense autoencoder, and the embedding width it was sized for.
PAPER_LAYERS = (500, 500, 2000)
PAPER_COMPONENTS = 10

# The smallest network "auto" gives: the paper's widths times this factor,
# (32, 32, 128).
MIN_WIDTH_FACTOR = 0.064

# Pretraining steps from 10,000 rows down, and the most (from 40,000 rows on).
MIN_PRETRAIN_STEPS = 2000
MAX_PRETRAIN_STEPS = 4000

# About this many minibatches per epoch, within these sizes.
BATCHES_PER_EPOCH = 40
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 32, 256


def n_weights(n_features, widths, n_components=PAPER_COMPONENTS):
    """Weights and biases of a dense autoencoder with hidden ``widths``."""
    sizes = [n_features, *widths, n_components]
    encoder = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    decoder = sum(
        a * b + b for a, b in zip(sizes[::-1][:-1], sizes[::-1][1:], strict=True)
    )
    return encoder + decoder


def hidden_layer_sizes(n_samples, n_features):
    """The paper's widths scaled so the network has about one weight per value.

    The factor is ``sqrt(n_samples * n_features / W)``, where ``W`` is the
    number of weights of the paper's network for ``n_features`` features
    (the weights grow about with the square of the widths), kept between
    :data:`MIN_WIDTH_FACTOR` and 1.
    """
    paper = n_weights(n_features, PAPER_LAYERS)
    factor = math.sqrt(n_samples * n_features / paper)
    factor = min(1.0, max(MIN_WIDTH_FACTOR, factor))
    return tuple(max(1, round(width * factor)) for width in PAPER_LAYERS)


def batch_size(n_samples):
    """About ``n_samples / 40`` rows, a power of two between 32 and 256."""
    size = 2 ** round(math.log2(max(n_samples / BATCHES_PER_EPOCH, 1.0)))
    return int(min(MAX_BATCH_SIZE, max(MIN_BATCH_SIZE, size)))


def pretrain_steps(n_samples):
    """2,000 steps times ``sqrt(n_samples / 10,000)``, kept within 2,000-4,000."""
    steps = MIN_PRETRAIN_STEPS * math.sqrt(n_samples / 10_000)
    return round(min(MAX_PRETRAIN_STEPS, max(MIN_PRETRAIN_STEPS, steps)))


def pretrain_epochs(n_samples, batch):
    """Epochs of ``batch`` rows that take at least :func:`pretrain_steps`."""
    steps_per_epoch = math.ceil(n_samples / batch)
    return math.ceil(pretrain_steps(n_samples) / steps_per_epoch)
