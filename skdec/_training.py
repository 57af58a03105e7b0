"""DEC's training loops: pretraining, then self-training.

Functions here take NumPy arrays (any numeric dtype: each batch is cast to
float32 when it is taken, so large integer or memory-mapped inputs are never
copied as a whole), trainers from :mod:`skdec._trainers`, plain
hyperparameters and NumPy random generators. They return arrays and plain
Python histories and never see the estimator.

Self-training runs in up to two phases (:func:`train_clusters`):
:func:`learn_initial_target` first teaches the encoder a clustering found
outside the embedding, then :func:`self_train` runs DEC's own loop.
"""

import importlib.metadata
import logging
import platform
import sys
from typing import NamedTuple

import keras
import numpy as np

from skdec._assignment import kl_divergence, target_distribution
from skdec._batches import predict_batches, take_rows
from skdec._trainers import TRAINER_POOL

logger = logging.getLogger("skdec")

# Keras resets a model's metrics in ``train_on_batch`` since 3.15.0. Before, the
# loss it returned was the running mean over every step since the model was
# compiled, across the fits of a pooled model too (a NaN once seen stayed).
_KERAS_RESETS_METRICS = tuple(
    int(part) for part in keras.version().split(".")[:2] if part.isdigit()
) >= (3, 15)


def train_step(model, x, y):
    """One gradient step of ``model`` on a batch; the loss of that batch."""
    if not _KERAS_RESETS_METRICS:
        model.reset_metrics()
    return float(model.train_on_batch(x, y, return_dict=True)["loss"])


def pretrain_autoencoder(autoencoder, X, *, epochs, batch_size, rng, verbose):
    """Train ``autoencoder`` to reconstruct ``X`` with the mean squared error.

    Parameters
    ----------
    autoencoder : keras.Model
        Input to reconstruction, compiled with the mean squared error.
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    epochs : int
        Passes over ``X``.
    batch_size : int
        Rows per gradient step.
    rng : numpy.random.Generator
        Draws the order of the rows in each epoch.
    verbose : int
        Show a progress bar when positive.

    Returns
    -------
    losses : list of float
        Mean reconstruction loss of each epoch.
    """
    n_samples = X.shape[0]
    progbar = None
    if verbose and epochs:
        progbar = keras.utils.Progbar(epochs, verbose=1, stateful_metrics=["loss"])
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(n_samples)
        total = 0.0
        for start in range(0, n_samples, batch_size):
            index = np.sort(order[start : start + batch_size])
            batch = take_rows(X, index)
            total += train_step(autoencoder, batch, batch) * len(index)
        losses.append(total / n_samples)
        if not np.isfinite(losses[-1]):
            raise FloatingPointError(
                f"The reconstruction loss became {losses[-1]} in pretraining epoch "
                f"{epoch + 1}. Scale the input (for example with StandardScaler) "
                "or lower pretrain_learning_rate."
            )
        logger.debug("pretraining epoch %d: loss %.6g", epoch + 1, losses[-1])
        if progbar is not None:
            progbar.update(epoch + 1, values=[("loss", losses[-1])])
    return losses


def environment():
    """``(skdec version, Keras version, Keras backend, backend version,
    devices)``: what, beside :func:`pretrain`'s arguments, decides its result
    (see :func:`devices`)."""
    import skdec

    backend = keras.backend.backend()
    version = getattr(sys.modules.get(backend), "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version(backend)
        except importlib.metadata.PackageNotFoundError:
            pass
    return (skdec.__version__, keras.__version__, backend, version, devices())


def devices():
    """The accelerators the Keras backend computes on, by model name (sorted,
    without repeats), or ``("cpu <machine>",)`` without one, for example
    ``("cpu x86_64",)``.

    A GPU rounds differently from a CPU and one GPU model from another, so a
    pretraining cached on one must not serve a fit on another. CPUs of one
    architecture are not told apart.
    """
    backend = keras.backend.backend()
    names = []
    if backend == "tensorflow":
        import tensorflow as tf

        names = [
            tf.config.experimental.get_device_details(device).get(
                "device_name", device.device_type
            )
            for device in tf.config.get_visible_devices()
            if device.device_type != "CPU"
        ]
    elif backend == "jax":
        import jax

        names = [
            device.device_kind for device in jax.devices() if device.platform != "cpu"
        ]
    elif backend == "torch":
        import torch

        device = keras.ops.zeros(()).device  # where Keras puts new tensors
        if device.type == "cuda":
            names = [torch.cuda.get_device_name(device)]
        elif device.type != "cpu":
            names = [device.type]
    return tuple(sorted(set(names))) or (f"cpu {platform.machine()}",)


def pretrain(
    X,
    autoencoder_recipe,
    *,
    epochs,
    batch_size,
    optimizer,
    learning_rate,
    momentum,
    seed,
    verbose,
    environment=None,
    architecture=None,
):
    """Pretrain a new autoencoder from ``seed``; return its weights and losses.

    This is the unit that ``DECClusterer(memory=...)`` caches: its arguments
    (the data, the architecture without the clustering layer, the pretraining
    schedule and the seed) determine its result exactly on one installation;
    ``environment`` (:func:`environment`, not used here) keys the cache to
    the versions, the backend and the devices, so that another Keras backend,
    another version of skdec or Keras, or another device pretrains anew.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    autoencoder_recipe : dict
        Keyword arguments of :func:`~skdec._networks.build_autoencoder`
        without ``seed``.
    epochs, batch_size : int
        Pretraining schedule.
    optimizer : {"adam", "sgd"}
        Optimizer family.
    learning_rate, momentum : float
        Optimizer settings.
    seed : int
        Seed of the initial weights and of the order of the rows.
    verbose : int
        Show a progress bar when positive.
    environment : tuple, default=None
        Not used: part of the cache key only.
    architecture : list, default=None
        Not used: part of the cache key only. For a custom ``autoencoder``
        callable, :func:`~skdec._networks.architecture`, so that a callable
        edited between two fits pretrains anew.

    Returns
    -------
    encoder_weights, decoder_weights : list of ndarray
        Weights of ``networks.encoder`` and ``networks.decoder``.
    losses : list of float
        Mean reconstruction loss of each epoch.
    """
    with TRAINER_POOL.autoencoder(
        autoencoder_recipe, optimizer=optimizer, momentum=momentum
    ) as trainer:
        trainer.reset(seed, learning_rate)
        losses = pretrain_autoencoder(
            trainer.autoencoder,
            X,
            epochs=epochs,
            batch_size=batch_size,
            rng=np.random.default_rng([seed, 1]),
            verbose=verbose,
        )
        return trainer.encoder.get_weights(), trainer.decoder.get_weights(), losses


def embed(X, autoencoder_recipe, encoder_weights, *, optimizer, momentum):
    """The embedding of the rows of X by an encoder of ``encoder_weights``.

    Runs on the pooled autoencoder trainer of the same ``optimizer`` and
    ``momentum`` as :func:`pretrain`, so no network is built or traced anew.
    """
    with TRAINER_POOL.autoencoder(
        autoencoder_recipe, optimizer=optimizer, momentum=momentum
    ) as trainer:
        trainer.encoder.set_weights(encoder_weights)
        return predict_batches(trainer.encoder, X)


class _Minibatches:
    """Sorted row indices of consecutive minibatches, reshuffled each epoch."""

    def __init__(self, n_samples, batch_size, rng):
        self.n_samples, self.batch_size, self.rng = n_samples, batch_size, rng
        self.order, self.position = rng.permutation(n_samples), 0

    def next(self):
        if self.position >= self.n_samples:
            self.order, self.position = self.rng.permutation(self.n_samples), 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return np.sort(index)


class _SelfTraining:
    """The state that the phases of self-training share: the iteration count
    and budget, the minibatches, the history and the last labels."""

    def __init__(
        self,
        trainer,
        X,
        initial_labels,
        *,
        max_iter,
        update_interval,
        batch_size,
        rng,
        verbose,
    ):
        self.trainer, self.X = trainer, X
        self.max_iter, self.update_interval = max_iter, update_interval
        self.batches = _Minibatches(X.shape[0], batch_size, rng)
        self.n_iter = 0
        self.kl_loss, self.delta_label = [], []
        # IDEC's reconstruction loss over all rows at each target update.
        self.reconstruction_loss = []
        self.reconstruction_now = None
        self.labels = np.asarray(initial_labels)
        # The parameter whose rate the current phase runs at, for the advice
        # of a diverging loss.
        self.rate_name = "learning_rate"
        # The fraction of rows off the initial target at its last update
        # (learn_initial_target); None while there is none.
        self.target_apart = None
        self.progbar = None
        if verbose and max_iter:
            self.progbar = keras.utils.Progbar(
                max_iter,
                verbose=1,
                stateful_metrics=["kl", "reconstruction", "delta_label"],
            )

    @property
    def budget_left(self):
        return self.n_iter < self.max_iter

    def assign(self):
        """``Q`` of every row, its labels and the fraction of labels changed
        since the last update. A joint trainer's reconstruction loss, found
        in the same pass, waits in ``reconstruction_now`` for :meth:`record`."""
        joint = self.trainer.joint
        q = trained_assign(
            self.trainer,
            self.X,
            self.n_iter,
            self.rate_name,
            reconstruction_error=joint,
        )
        if joint:
            q, self.reconstruction_now = q
        labels = q.argmax(axis=1)
        return q, labels, float(np.mean(labels != self.labels))

    def record(self, p, q, labels, delta):
        """Log a target update: ``KL(P || Q)``, the reconstruction loss
        (IDEC) and the labels changed."""
        self.kl_loss.append(kl_divergence(p, q))
        if self.trainer.joint:
            self.reconstruction_loss.append(self.reconstruction_now)
        self.delta_label.append(delta)
        self.labels = labels
        logger.debug(
            "self-training iteration %d: KL %.6g, labels changed %.4f%s",
            self.n_iter,
            self.kl_loss[-1],
            delta,
            f", reconstruction loss {self.reconstruction_loss[-1]:.6g}"
            if self.trainer.joint
            else "",
        )

    def progress(self):
        """The values the progress bar shows: those of the last update."""
        values = [("kl", self.kl_loss[-1])]
        if self.trainer.joint:
            values.append(("reconstruction", self.reconstruction_loss[-1]))
        return [*values, ("delta_label", self.delta_label[-1])]

    def finish(self):
        """End the progress bar on its line when training stopped before
        ``max_iter`` (by ``tol``, or by the criterion)."""
        if self.progbar is not None and self.n_iter < self.max_iter:
            self.progbar.update(self.n_iter, finalize=True)

    def train(self, target):
        """Gradient steps towards ``target`` until the next target update."""
        model = self.trainer.model
        n_steps = min(self.update_interval, self.max_iter - self.n_iter)
        for _ in range(n_steps):
            index = self.batches.next()
            batch = take_rows(self.X, index)
            targets = [target[index], batch] if self.trainer.joint else target[index]
            loss = train_step(model, batch, targets)
            self.n_iter += 1
            if not np.isfinite(loss):
                self._diverged(f"The clustering loss became {loss}")
            if self.progbar is not None:
                self.progbar.update(self.n_iter, values=self.progress())

    def _diverged(self, what, cause=None):
        _diverged(what, self.n_iter, self.rate_name, self.trainer.joint, cause)

    def labels_now(self):
        """The labels of every row under the current weights."""
        return trained_assign(
            self.trainer, self.X, self.n_iter, self.rate_name, labels_only=True
        )


def _diverged(what, iteration, rate_name, joint, cause=None):
    """Raise the FloatingPointError of a self-training that diverged."""
    advice = f"Scale the input or lower {rate_name}"
    if joint:  # IDEC: the reconstruction term can diverge
        advice += " or reconstruction_weight"
    raise FloatingPointError(
        f"{what} at self-training iteration {iteration}. {advice}."
    ) from cause


def trained_assign(trainer, X, n_iter, rate_name="learning_rate", **options):
    """``trainer.assign(X, **options)`` after ``n_iter`` self-training
    iterations. The loss is computed before each step, so a step (the last
    before a target update, or the last of all) can overflow the network with
    a finite loss: that raises the FloatingPointError of a diverged
    self-training here."""
    try:
        return trainer.assign(X, **options)
    except FloatingPointError as error:
        _diverged(str(error).rstrip("."), n_iter, rate_name, trainer.joint, error)


def target_learned(apart, first_apart, last_apart, tol):
    """Whether a fixed target counts as learned (see
    :func:`learn_initial_target`): the fraction ``apart`` of rows off it is
    at most ``tol``, or at most half of ``first_apart`` (at the first
    update) and less than ``tol`` below ``last_apart`` (at the last one)."""
    return apart <= tol or (apart <= first_apart / 2 and last_apart - apart < tol)


def learn_initial_target(run, target, tol, best=None):
    """Train the encoder and centres towards a fixed hard ``target``.

    For a clustering found outside the embedding (on the input, or in a UMAP
    map), which the embedding does not yet show: DEC's own targets, derived
    from ``Q``, would drift back to the clusters the embedding shows. At each
    target update the fraction of rows whose ``Q`` label is not the
    target's is measured; the target is learned, and the phase ends, when
    that fraction is at most ``tol``, or at most half of what it was at the
    start and no longer falling by ``tol`` or more between updates.

    Parameters
    ----------
    run : _SelfTraining
        The state shared with :func:`self_train`.
    target : ndarray of shape (n_samples, n_clusters)
        One-hot target.
    tol : float
        Threshold of the learned fraction and of its progress.
    best : _BestWeights, default=None
        Shown the labels of every update before the target is learned, for
        :func:`train_clusters` to keep the best weights of this phase if the
        budget runs out first.

    Returns
    -------
    update : tuple or None
        ``(q, labels, delta)`` of the update at which the target was learned,
        for :func:`self_train` to start from; None if the budget ran out.
    """
    target = np.asarray(target, dtype=np.float32)
    target_labels = target.argmax(axis=1)
    first_apart = last_apart = None
    while run.budget_left:
        q, labels, delta = run.assign()
        apart = run.target_apart = float(np.mean(labels != target_labels))
        if first_apart is not None and target_learned(
            apart, first_apart, last_apart, tol
        ):
            logger.debug(
                "initial target learned after %d iterations (%.4f of the labels "
                "differ from it)",
                run.n_iter,
                apart,
            )
            return q, labels, delta
        if first_apart is None:
            first_apart = apart
        last_apart = apart
        # Only updates that train on are shown: the one that learned the
        # target is DEC's phase's first, judged there.
        if best is not None:
            best.observe(labels)
        run.record(target, q, labels, delta)
        run.train(target)
    return None


def _agreement_with(target):
    """A criterion of labels: the share of rows labelled as the one-hot
    ``target`` labels them."""
    target_labels = np.asarray(target).argmax(axis=1)
    return lambda labels: float(np.mean(labels == target_labels))


class _BestWeights:
    """The weights of a phase of self-training that a label-free criterion
    scores highest.

    :func:`self_train` (DEC's phase) and :func:`learn_initial_target` (the
    phase that learns the start) show it the labels of every target update,
    and :func:`train_clusters` those of the last weights when ``max_iter``
    ends the phase; it keeps a copy of the weights whenever the criterion
    rises above the best so far (ties keep the earlier weights) and says when
    ``patience`` updates in a row have not raised it, or at once when the
    best score is ``inf``, which nothing can raise.
    """

    def __init__(self, model, judge, patience):
        self.model, self.judge, self.patience = model, judge, patience
        self.scores = []
        self.best_update, self.weights = None, None

    def observe(self, labels):
        """Score ``labels``; whether ``patience`` updates in a row did not
        raise the criterion, or (with a ``patience``) the best is ``inf``:
        the updates left would be undone."""
        score = float(self.judge(labels))
        if self.best_update is None or score > self.scores[self.best_update]:
            self.best_update = len(self.scores)
            self.weights = self.model.get_weights()
        self.scores.append(score)
        logger.debug("criterion %.6g (best %.6g)", score, self.scores[self.best_update])
        stale = len(self.scores) - 1 - self.best_update
        if self.patience is None:
            return False
        return stale >= self.patience or self.scores[self.best_update] == np.inf

    def restore(self):
        """Put back the best weights; whether they are not the first ones."""
        if self.best_update != len(self.scores) - 1:
            self.model.set_weights(self.weights)
        return self.best_update > 0


def self_train(run, tol, first_update=None, best=None):
    """DEC's self-training: minimise ``KL(P || Q)`` over the encoder and centres.

    Every ``update_interval`` iterations the soft assignment ``Q`` of all rows
    is recomputed, the target ``P`` derived from it, and the fraction of rows
    whose hard label changed since the previous update compared with ``tol``.
    Training stops when that fraction is below ``tol`` (never at the first
    update), when ``best`` has seen its ``patience`` updates in a row
    without a rise of its criterion or (with a ``patience``) an update
    scoring ``inf``, which none can beat, or when the iteration budget is
    spent.

    Parameters
    ----------
    run : _SelfTraining
        The state shared with :func:`learn_initial_target`.
    tol : float
        Stopping threshold on the fraction of changed labels.
    first_update : tuple, default=None
        ``(q, labels, delta)`` already computed at the current iteration.
    best : _BestWeights, default=None
        Shown the labels of every update, and of the last weights when the
        budget ends the loop.

    Returns
    -------
    stopped_by : {"tol", "criterion"} or None
        What stopped the phase: the label-change fraction fell below
        ``tol``, or the criterion stopped rising (or scored ``inf``); None
        when the budget ran out.
    """
    start = run.n_iter
    while run.budget_left:
        q, labels, delta = first_update if first_update is not None else run.assign()
        first_update = None
        p = target_distribution(q)
        run.record(p, q, labels, delta)
        stalled = best is not None and best.observe(labels)
        if run.n_iter > start and delta < tol:
            return "tol"
        if stalled:
            logger.debug(
                "self-training stopped at iteration %d: the criterion (best "
                "%.6g) did not rise for %d target updates, or cannot rise",
                run.n_iter,
                best.scores[best.best_update],
                len(best.scores) - 1 - best.best_update,
            )
            return "criterion"
        run.train(p.astype(np.float32))
    if best is not None and run.n_iter > start:
        best.observe(run.labels_now())
    return None


class SelfTrainingResult(NamedTuple):
    """What :func:`train_clusters` returns.

    Attributes
    ----------
    n_iter : int
        Gradient steps taken.
    converged : bool
        Whether the label-change fraction fell below ``tol``, or DEC's phase
        stopped after ``patience`` updates without a rise of ``judge``, or at
        an update that ``judge`` scored ``inf``.
    kl_loss, delta_label : list of float
        ``KL(P || Q)`` and the label-change fraction at each target update.
    reconstruction_loss : list of float
        A joint trainer's (IDEC's) reconstruction loss over all rows at each
        target update; empty for DEC.
    kept : bool
        False when no update of DEC's phase raised ``judge`` above its
        start, and the phase was undone; when ``max_iter`` ran out before
        ``initial_target`` was learned, False when the weights it started
        from scored highest (see ``initial_target``), and were put back.
    criterion : list of float
        ``judge`` at each target update of DEC's phase, and of the last
        weights when ``max_iter`` ended it; empty without ``judge``.
    unlearned : float or None
        When ``max_iter`` ran out before ``initial_target`` was learned, the
        fraction of rows whose label was not the target's at the last
        update; None otherwise.
    stopped_by : {"tol", "criterion"} or None
        What stopped DEC's phase when it converged: the label-change
        fraction fell below ``tol``, or ``judge`` stopped rising (or scored
        ``inf``); None when ``max_iter`` ended the fit.
    """

    n_iter: int
    converged: bool
    kl_loss: list
    delta_label: list
    reconstruction_loss: list
    kept: bool
    criterion: list
    unlearned: float | None = None
    stopped_by: str | None = None


def train_clusters(
    trainer,
    X,
    initial_labels,
    *,
    max_iter,
    update_interval,
    tol,
    batch_size,
    rng,
    verbose,
    initial_target=None,
    start_learning_rate=None,
    judge=None,
    patience=None,
):
    """Self-train ``trainer``'s networks from their current centres.

    A joint trainer (``reconstruction_weight > 0``) adds the weighted
    reconstruction loss, as IDEC does.

    Parameters
    ----------
    trainer : ClusteringTrainer
        Trainer whose clustering layer holds the initial centres.
    X : ndarray of shape (n_samples, n_features)
        Training rows, any numeric dtype.
    initial_labels : ndarray of shape (n_samples,)
        Hard labels of the initialisation, for the first label-change count.
    max_iter, update_interval : int
        Iteration budget and target-update period, in gradient steps.
    tol : float
        Stopping threshold on the fraction of changed labels.
    batch_size : int
        Rows per gradient step.
    rng : numpy.random.Generator
        Draws the order of the rows.
    verbose : int
        Show a progress bar when positive.
    initial_target : ndarray of shape (n_samples, n_clusters), default=None
        A target to learn first (:func:`learn_initial_target`), before DEC's
        own (:func:`self_train`). If ``max_iter`` runs out before it is
        learned, the weights that scored highest among that phase's target
        updates and its last weights are restored: by ``judge`` when given,
        else by the share of rows labelled as the target labels them.
    start_learning_rate : float, default=None
        With ``initial_target``, the optimizer's learning rate while it is
        learned; DEC's phase then starts from fresh optimizer state at the
        rate the optimizer had. None: one rate and one optimizer state for
        both phases.
    judge : callable, default=None
        A label-free criterion of the labels of all rows, higher is better.
        When given, it scores the labels at every target update of DEC's own
        phase (the first being the learned start), and the weights that
        scored highest are restored at the end (ties keep the earlier ones).
        It also judges the phase that learns ``initial_target``, if
        ``max_iter`` ends it.
    patience : int, default=None
        With ``judge``, DEC's phase stops once this many target updates in a
        row have not raised the criterion, or at an update scored ``inf``
        (kept: nothing can beat it). None: it runs until ``tol`` or
        ``max_iter``.

    Returns
    -------
    result : SelfTrainingResult
    """
    run = _SelfTraining(
        trainer,
        X,
        initial_labels,
        max_iter=max_iter,
        update_interval=update_interval,
        batch_size=batch_size,
        rng=rng,
        verbose=verbose,
    )
    first_update = None
    if initial_target is not None:
        own_rate = None
        if start_learning_rate is not None:
            own_rate = trainer.learning_rate
            trainer.restart_optimizer(start_learning_rate)
            run.rate_name = "start_learning_rate"
        # Without a criterion, the phase is judged by its own aim: the share
        # of rows whose label is the target's.
        start_judge = judge if judge is not None else _agreement_with(initial_target)
        start_best = _BestWeights(trainer.networks.model, start_judge, None)
        first_update = learn_initial_target(run, initial_target, tol, best=start_best)
        if own_rate is not None:
            trainer.restart_optimizer(own_rate)
            run.rate_name = "learning_rate"
        if first_update is None:  # the budget ran out first
            kept = True
            if run.n_iter > 0:
                # As for DEC's phase: the weights the criterion scored
                # highest, the last ones included, which may have lost the
                # clusters they were learning.
                start_best.observe(run.labels_now())
                kept = start_best.restore()
            return SelfTrainingResult(
                run.n_iter,
                False,
                run.kl_loss,
                run.delta_label,
                run.reconstruction_loss,
                kept,
                [],
                run.target_apart,
            )
    best = None
    if judge is not None and run.budget_left:
        best = _BestWeights(trainer.networks.model, judge, patience)
    stopped_by = self_train(run, tol, first_update, best)
    run.finish()
    kept = True
    if best is not None:
        kept = best.restore()  # the estimator reports which update
    criterion = [] if best is None else best.scores
    return SelfTrainingResult(
        run.n_iter,
        stopped_by is not None,
        run.kl_loss,
        run.delta_label,
        run.reconstruction_loss,
        kept,
        criterion,
        stopped_by=stopped_by,
    )
