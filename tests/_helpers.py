"""Shared test configuration."""

from skdec import DECClusterer


def small_dec(**params):
    """A DEC configuration small enough for unit tests (well under a second)."""
    defaults = dict(
        n_clusters=3,
        hidden_layer_sizes=(16,),
        n_components=2,
        pretrain_epochs=10,
        max_iter=40,
        update_interval=10,
        batch_size=32,
        n_init=3,
        random_state=0,
    )
    defaults.update(params)
    return DECClusterer(**defaults)
