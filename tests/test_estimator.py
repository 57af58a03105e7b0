"""Behaviour of DECClusterer: learning, determinism, round trips, API."""

import gc
import logging
import math
import os
import pickle
import random
import re
import warnings

import joblib
import keras
import numpy as np
import psutil
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdec import DECClusterer, _training, cluster_accuracy, cluster_accuracy_scorer
from skdec._trainers import TRAINER_POOL, TrainerPool

from _helpers import record_calls, run_json_script, small_dec


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(
        n_samples=300, centers=4, n_features=8, cluster_std=1.0, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small_dec(n_clusters=4, hidden_layer_sizes=(32,), n_components=4).fit(X)


def test_well_separated_blobs_are_found(blobs):
    X, y = blobs
    dec = small_dec(
        n_clusters=4,
        hidden_layer_sizes=(32,),
        n_components=4,
        pretrain_epochs=30,
        max_iter=300,
        update_interval=20,
    )
    labels = dec.fit_predict(X)
    assert cluster_accuracy(y, labels) >= 0.95


def test_fitted_attributes(fitted, blobs):
    X, _ = blobs
    assert fitted.cluster_centers_.shape == (4, 4)
    assert fitted.labels_.shape == (300,)
    assert fitted.n_features_in_ == 8
    assert isinstance(fitted.n_iter_, int) and 1 <= fitted.n_iter_ <= 40
    history = fitted.history_
    assert set(history) == {
        "pretrain_loss",
        "kl_loss",
        "delta_label",
        "reconstruction_loss",
        "criterion",
    }
    assert history["criterion"] == []  # init="kmeans" has no criterion
    assert history["reconstruction_loss"] == []  # DEC, not IDEC
    assert len(history["pretrain_loss"]) == fitted.pretrain_epochs
    assert history["pretrain_loss"][-1] < history["pretrain_loss"][0]
    assert len(history["kl_loss"]) == len(history["delta_label"]) >= 1
    for values in history.values():
        assert isinstance(values, list)
        assert all(isinstance(v, float) and np.isfinite(v) for v in values)
    assert all(0.0 <= d <= 1.0 for d in history["delta_label"])


def test_labels_equal_predict_on_training_data(fitted, blobs):
    X, _ = blobs
    np.testing.assert_array_equal(fitted.labels_, fitted.predict(X))


def test_predict_proba_is_a_distribution_whose_argmax_is_predict(fitted, blobs):
    X, _ = blobs
    q = fitted.predict_proba(X)
    assert q.shape == (300, 4)
    assert q.dtype == np.float64
    assert np.all(q >= 0)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(q.argmax(axis=1), fitted.predict(X))


def test_transform_is_the_encoders_embedding(fitted, blobs):
    X, _ = blobs
    Z = fitted.transform(X)
    assert Z.shape == (300, 4) and Z.dtype == np.float32
    np.testing.assert_allclose(Z, fitted.encoder_.predict(X, verbose=0), rtol=1e-5)
    recon = fitted.autoencoder_.predict(X, verbose=0)
    assert recon.shape == X.shape


def test_feature_names_out():
    X = np.random.default_rng(0).normal(size=(20, 3))
    dec = small_dec(n_components=3, max_iter=0).fit(X)
    np.testing.assert_array_equal(
        dec.get_feature_names_out(),
        ["decclusterer0", "decclusterer1", "decclusterer2"],
    )


def test_fit_predict_and_fit_transform_match_the_fitted_model(blobs):
    X, _ = blobs
    dec = small_dec(n_clusters=4)
    np.testing.assert_array_equal(dec.fit_predict(X), dec.labels_)
    dec2 = small_dec(n_clusters=4)
    np.testing.assert_array_equal(dec2.fit_transform(X), dec2.transform(X))


def test_score_is_the_opposite_of_the_dec_objective(fitted, blobs):
    X, _ = blobs
    score = fitted.score(X)
    assert np.isfinite(score) and score <= 0.0
    q = fitted.predict_proba(X)
    p = q**2 / q.sum(axis=0)
    p /= p.sum(axis=1, keepdims=True)
    expected = -np.mean(np.sum(p * np.log(p / q), axis=1))
    assert score == pytest.approx(expected, rel=1e-9)
    # One row: P is Q, and the score 0, not a rounding error above it.
    assert all(fitted.score(X[i : i + 1]) <= 0.0 for i in range(50))


def test_score_is_highest_where_nothing_is_left_to_sharpen_not_for_good_clusters(
    fitted, blobs
):
    # The docstring once said "higher when the assignments are confident":
    # every row assigned uniformly (all centres at one point) scores the
    # maximum, 0, above the fitted model's clusters of the four blobs.
    X, _ = blobs
    blurred = pickle.loads(pickle.dumps(fitted))
    centres = fitted.cluster_centers_
    blurred.cluster_centers_ = np.repeat(centres.mean(0, keepdims=True), 4, axis=0)
    np.testing.assert_allclose(blurred.predict_proba(X), 0.25, rtol=1e-5)
    assert blurred.score(X) == pytest.approx(0.0, abs=1e-6)
    assert blurred.score(X) > fitted.score(X) + 0.01


def test_same_random_state_gives_identical_fits(blobs):
    X, _ = blobs
    a = small_dec(n_clusters=4).fit(X)
    b = small_dec(n_clusters=4).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.history_ == b.history_


def test_different_random_states_give_different_networks(blobs):
    X, _ = blobs
    a = small_dec(n_clusters=4, max_iter=0, random_state=0).fit(X)
    b = small_dec(n_clusters=4, max_iter=0, random_state=1).fit(X)
    assert not np.array_equal(a.transform(X), b.transform(X))


def test_fit_leaves_global_random_state_untouched(blobs):
    X, _ = blobs

    def draws():
        return (
            np.random.random(3),
            random.random(),
            keras.ops.convert_to_numpy(keras.random.uniform((3,))),
        )

    keras.utils.set_random_seed(123)
    expected = draws()
    keras.utils.set_random_seed(123)
    # Older Keras (3.7, the lowest skdec takes) does not restart its own
    # stream at set_random_seed once drawn from, so only NumPy's and
    # Python's can be compared there.
    keras_restarts = np.array_equal(draws()[2], expected[2])
    keras.utils.set_random_seed(123)
    small_dec(n_clusters=4).fit(X)
    got = draws()
    for e, g in zip(expected[: 3 if keras_restarts else 2], got, strict=False):
        np.testing.assert_array_equal(e, g)


def test_clone_gives_an_unfitted_copy_with_the_same_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "labels_")


def test_clone_refits_to_identical_predictions(fitted, blobs):
    X, _ = blobs
    refit = clone(fitted).fit(X)
    np.testing.assert_array_equal(refit.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(refit.predict_proba(X), fitted.predict_proba(X))


def test_pickle_round_trip_keeps_the_networks(fitted, blobs):
    X, _ = blobs
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.labels_, fitted.labels_)
    assert restored.history_ == fitted.history_
    # The original is still usable after being pickled.
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)


def test_joblib_round_trip(fitted, blobs, tmp_path):
    X, _ = blobs
    path = tmp_path / "dec.joblib"
    joblib.dump(fitted, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_convergence_warning_at_max_iter(blobs):
    X, _ = blobs
    with pytest.warns(ConvergenceWarning, match="max_iter=5 before the fraction"):
        small_dec(n_clusters=4, max_iter=5, tol=1e-9).fit(X)


def _convergence_message(caught):
    """The first ConvergenceWarning's text among the warnings caught (others,
    such as Keras' DeprecationWarnings under NumPy 2, may come first)."""
    return next(
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    )


def test_convergence_warning_while_learning_the_start(blobs, monkeypatch):
    X, _ = blobs
    # A start found on the input is taught to the encoder first; five
    # iterations end before its second target update can find it learned.
    match = r"max_iter=5 teaching the encoder its initial clustering \(init='kmeans_"
    with pytest.warns(ConvergenceWarning, match=match) as caught:
        dec = small_dec(n_clusters=4, init="kmeans_input", max_iter=5).fit(X)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert dec.n_iter_ == 5 and len(convergence) == 1
    # Nothing was measured after the first update: the message says so,
    # and not that a share of the rows was off the start.
    message = _convergence_message(caught)
    assert "before the second target update (every update_interval=10" in message
    assert "Give max_iter more than update_interval and fit again" in message
    assert "% of the rows" not in message
    # With updates after the first, the share of rows off the start (here
    # never found learned).
    monkeypatch.setattr(_training, "target_learned", lambda *args: False)
    with pytest.warns(ConvergenceWarning, match=match) as caught:
        small_dec(n_clusters=4, init="kmeans_input", max_iter=5, update_interval=2).fit(
            X
        )
    message = _convergence_message(caught)
    assert re.search(r"\d+\.\d\d% of the rows", message)
    assert "at the last of 3 target updates" in message


def test_the_warning_at_max_iter_never_reports_a_fraction_below_tol():
    # max_iter ended the fit at the first update of DEC's phase, after the
    # start was learned: its fraction (0 here) is not checked, and the
    # warning said "it was 0" beside "before it fell below tol".
    X, _ = make_blobs(200, centers=3, n_features=4, cluster_std=2.5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=300 before") as caught:
        dec = DECClusterer(3, random_state=0, pretrain_epochs=5, max_iter=300).fit(X)
    message = _convergence_message(caught)
    reported = re.search(r"it was (\S+) at the last", message)
    if reported:
        assert float(reported.group(1)) >= dec.tol
    else:
        assert "first target update of DEC's sharpening" in message
        assert dec.history_["delta_label"][-1] < dec.tol
        assert message.endswith("Give max_iter at least one more update_interval.")


def test_the_warning_at_max_iter_before_the_second_update_of_kmeans():
    # init="kmeans" learns no start: the one update is the first of DEC's
    # sharpening, which no tol can pass; before, the warning spoke of a start
    # learned and advised raising tol.
    X, _ = make_blobs(200, centers=3, n_features=4, random_state=0)
    dec = small_dec(init="kmeans", max_iter=8, update_interval=10)
    with pytest.warns(ConvergenceWarning, match="max_iter=8 before") as caught:
        dec.fit(X)
    message = _convergence_message(caught)
    assert "(the last of 1)" in message and "start was learned" not in message
    assert message.endswith("Give max_iter at least one more update_interval.")


def test_the_warning_of_a_warm_start_speaks_of_no_start_learned():
    # A warm start learns no start, whatever init_: before, the warning of a
    # warm start of a kmeans_input fit said "after the start was learned".
    X, _ = make_blobs(200, centers=3, n_features=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec(init="kmeans_input", max_iter=200).fit(X)
    dec.set_params(warm_start=True, max_iter=5)
    with pytest.warns(ConvergenceWarning, match="max_iter=5 before") as caught:
        dec.fit(X)
    message = _convergence_message(caught)
    assert "(the last of 1)" in message and "start was learned" not in message


def test_stops_at_the_first_update_after_start_when_tol_is_one(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dec = small_dec(n_clusters=4, max_iter=1000, update_interval=7, tol=1.0)
        dec.fit(X)
    assert dec.n_iter_ == 7
    assert len(dec.history_["delta_label"]) == 2


def test_max_iter_zero_keeps_the_kmeans_initialisation(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dec = small_dec(n_clusters=4, max_iter=0).fit(X)
    assert dec.n_iter_ == 0
    assert dec.history_["kl_loss"] == []
    from sklearn.cluster import KMeans

    km = KMeans(4, n_init=3, random_state=0).fit(dec.transform(X).astype(np.float64))
    assert cluster_accuracy(km.labels_, dec.labels_) > 0.98


def test_pretrain_epochs_zero_skips_pretraining(blobs):
    X, _ = blobs
    dec = small_dec(n_clusters=4, pretrain_epochs=0, max_iter=0).fit(X)
    assert dec.history_["pretrain_loss"] == []


def test_pipeline_grid_search_with_the_accuracy_scorer(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), small_dec(n_clusters=4, max_iter=20))
    search = GridSearchCV(
        pipe,
        {"decclusterer__n_clusters": [2, 4]},
        scoring=cluster_accuracy_scorer,
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_ == {"decclusterer__n_clusters": 4}
    assert search.best_score_ > 0.9


def test_cross_val_score_with_the_accuracy_scorer(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            small_dec(n_clusters=4), X, y, scoring=cluster_accuracy_scorer, cv=3
        )
    assert scores.shape == (3,)
    assert np.all(scores > 0.9)


def test_integer_and_float32_inputs_give_the_same_fit():
    rng = np.random.default_rng(0)
    X_int = rng.integers(0, 5, size=(40, 3))
    a = small_dec(max_iter=10).fit(X_int)
    b = small_dec(max_iter=10).fit(X_int.astype(np.float32))
    np.testing.assert_array_equal(a.transform(X_int), b.transform(X_int))


@pytest.mark.parametrize("method", ["transform", "predict_proba", "predict"])
def test_predictions_do_not_depend_on_batching(fitted, blobs, method):
    X, _ = blobs
    predict = getattr(fitted, method)
    full = predict(X)
    rows = np.concatenate([predict(X[i : i + 1]) for i in range(20)])
    np.testing.assert_array_equal(rows, full[:20])
    halves = np.concatenate([predict(X[:7]), predict(X[7:])])
    np.testing.assert_array_equal(halves, full)


def test_defaults_follow_the_paper():
    dec = DECClusterer()
    assert dec.n_clusters == 8
    assert dec.hidden_layer_sizes == "auto"
    assert dec._make_recipe(784, 70_000, 10)["hidden_layer_sizes"] == (500, 500, 2000)
    assert dec.n_components == 10
    assert dec.alpha == 1.0
    assert dec.n_init == 20
    assert dec.update_interval == 140


def test_reused_trainer_gives_the_same_fit_as_a_new_one(blobs):
    X, _ = blobs
    TRAINER_POOL.clear()
    fresh = small_dec(n_clusters=4).fit(X)
    reused = small_dec(n_clusters=4).fit(X)
    np.testing.assert_array_equal(fresh.transform(X), reused.transform(X))
    assert fresh.history_ == reused.history_


@pytest.mark.parametrize("reconstruction_weight", [0.0, 1.0])
def test_a_fit_traces_its_train_steps_as_often_however_many_steps_it_takes(
    blobs, monkeypatch, reconstruction_weight
):
    # A training function is traced (its Python train_step run) once per
    # network and input signature: a fit that rebuilt it, or fed it inputs
    # of a new signature, at each step would trace it at each step.
    X, _ = blobs
    traces = record_calls(monkeypatch, keras.Model, "train_step", lambda *a: None)
    counts = []
    for times in (1, 4):
        TRAINER_POOL.clear()  # fresh networks, whose functions are not traced
        traces.clear()
        small_dec(
            n_clusters=4,
            pretrain_epochs=2 * times,
            max_iter=20 * times,
            reconstruction_weight=reconstruction_weight,
            tol=0.0,
        ).fit(X)
        counts.append(len(traces))
    assert 0 < counts[0] == counts[1]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's tracing"
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "optimizer, reconstruction_weight, trained",
    [("sgd", 0.0, "clusterer"), ("adam", 0.0, "clusterer"), ("sgd", 1.0, "dec")],
)
def test_a_fit_on_whole_batches_traces_each_train_step_once(
    monkeypatch, optimizer, reconstruction_weight, trained
):
    # Keras' TensorFlow trainer creates the optimizer's variables (and the
    # joint loss's tracker of each output) while it first traces a train
    # step, unless they exist, and a tf.function that creates variables is
    # traced twice before it runs: each network's step was traced twice, a
    # third of a small fit's time.
    X, _ = make_blobs(96, n_features=5, centers=3, random_state=0)
    TRAINER_POOL.clear()  # fresh networks, whose functions are not traced
    traces = record_calls(
        monkeypatch, keras.Model, "train_step", lambda model, data: model.name
    )
    small_dec(
        batch_size=32, optimizer=optimizer, reconstruction_weight=reconstruction_weight
    ).fit(X)  # 3 batches of 32
    assert sorted(traces) == ["autoencoder", trained]


RETRACING_SCRIPT = """
import json, logging, sys, unittest.mock, warnings
sys.path.insert(0, sys.argv[1])  # the tests folder, for _helpers
from sklearn.datasets import make_blobs
from _helpers import small_dec
messages = []
handler = logging.Handler()
handler.emit = lambda record: messages.append(record.getMessage())
logging.getLogger("tensorflow").addHandler(handler)
X, _ = make_blobs(n_samples=300, centers=4, n_features=8, random_state=0)
warnings.simplefilter("ignore")
from skdec import _warnings
# First with skdec's filter of TensorFlow's warning off: a fit's own
# functions must not be retraced.
with unittest.mock.patch.object(_warnings.RETRACING_FILTER, "filter", lambda r: True):
    for weight in (0.0, 1.0):
        small_dec(n_clusters=4, pretrain_epochs=8, max_iter=80, tol=0.0,
                  reconstruction_weight=weight).fit(X)
fits = [message for message in messages if "retracing" in message]
# Then, in the same fresh process (the policy is global, and pooled
# networks outlive a test): under Keras' mixed precision the networks
# compute in float16; transform still gives float32, as documented.
import keras
keras.mixed_precision.set_global_policy("mixed_float16")
model = small_dec(pretrain_epochs=2, max_iter=10).fit(X[:100])
dtypes = [str(model.transform(X).dtype), str(model.predict_proba(X).dtype)]
print(json.dumps([fits, dtypes]))
"""


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's own warning"
)
def test_a_fit_does_not_retrace_its_functions_and_gives_float32_in_mixed_precision():
    # Keras 3.3 to 3.6 traced train_on_batch's function, around the traced
    # train step, again at every call. TensorFlow warns when calls keep
    # triggering retracing, but at most twice per function in a process: so
    # the fits (DEC and IDEC) run in a fresh one; skdec's filter of that
    # warning is off for them. The same process checks mixed precision.
    fits, dtypes = run_json_script(RETRACING_SCRIPT, os.path.dirname(__file__))
    assert fits == []
    assert dtypes == ["float32", "float64"]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's own warning"
)
def test_tensorflows_retracing_warning_is_dropped_only_within_skdec(monkeypatch):
    # TensorFlow warns (twice at most per function's code) when calls keep
    # tracing: here tf.functions made anew in a loop. Within skdec's context
    # the message is dropped; outside it, it passes. Before, after three or
    # four architectures in a process, fits printed it (review).
    import tensorflow as tf

    from skdec import _warnings

    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logging.getLogger("tensorflow").addHandler(handler)
    try:
        with _warnings.retracing_unreported():
            for _ in range(6):
                tf.function(lambda x: 2 * x)(tf.zeros(3))
        inside = list(messages)
        for _ in range(6):
            tf.function(lambda x: 3 * x)(tf.zeros(3))
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    assert inside == []
    assert any("triggered tf.function retracing" in m for m in messages)
    # skdec's fits and predictions run within that context.
    flags = {
        name: record_calls(
            monkeypatch, keras.Model, name, lambda *a, **k: _warnings._IN_SKDEC.get()
        )
        for name in ("train_on_batch", "predict_on_batch")
    }
    X, _ = make_blobs(60, centers=3, n_features=3, random_state=0)
    small_dec(pretrain_epochs=1, max_iter=10).fit(X).predict(X)
    assert all(calls and all(calls) for calls in flags.values())


def test_only_skdecs_own_calls_hide_tensorflows_retracing_warning():
    from skdec._warnings import RETRACING_FILTER, retracing_unreported

    def passes(message):
        record = logging.LogRecord(
            "tensorflow", logging.WARNING, "", 0, message, (), None
        )
        return RETRACING_FILTER.filter(record)

    retracing = (
        "5 out of the last 9 calls to <function f> triggered tf.function retracing."
    )
    assert passes(retracing)  # the user's own functions, outside skdec
    with retracing_unreported():
        assert not passes(retracing)
        assert passes("another warning of TensorFlow's")
    assert passes(retracing)


def test_trainer_pool_evicts_while_trainers_are_lent_out():
    """Nested checkouts (a model lent while another fits) with
    more architectures than the pool keeps."""
    pool = TrainerPool(max_free=1)
    options = dict(optimizer="sgd", momentum=0.9, reconstruction_weight=0.0)

    def recipe(width):
        return small_dec(hidden_layer_sizes=(width,))._make_recipe(3, 100, 3)

    with pool.clustering(recipe(4), **options):
        pass
    with pool.clustering(recipe(4), **options) as outer:
        for width in (5, 6, 7):
            with pool.clustering(recipe(width), **options):
                pass
    assert sum(map(len, pool._free.values())) == 1
    # The last one returned is the one kept, and it is lent out again.
    with pool.clustering(recipe(4), **options) as again:
        assert again is outer


def test_learning_rates_take_effect_on_a_reused_trainer(blobs):
    X, _ = blobs
    first = small_dec(n_clusters=4, max_iter=0).fit(X)
    faster = small_dec(n_clusters=4, max_iter=0, pretrain_learning_rate=0.05).fit(X)
    again = small_dec(n_clusters=4, max_iter=0).fit(X)
    assert faster.history_["pretrain_loss"] != first.history_["pretrain_loss"]
    assert again.history_["pretrain_loss"] == first.history_["pretrain_loss"]


def test_repeated_fits_do_not_pile_up_memory(blobs):
    X, _ = blobs
    process = psutil.Process()

    def fit_and_score(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            dec = small_dec(n_clusters=4, random_state=seed).fit(X)
        dec.predict(X)

    for seed in range(3):  # warm-up: first traces, allocator pools
        fit_and_score(seed)
    gc.collect()
    before = process.memory_info().rss
    for seed in range(3, 20):
        fit_and_score(seed)
    gc.collect()
    growth_mib = (process.memory_info().rss - before) / 2**20
    # A fresh compiled Keras model per fit costs 5 MiB or more that TensorFlow
    # never frees; 17 such fits would exceed this bound several times over.
    assert growth_mib < 20


def test_empty_clusters_are_reported():
    # Two distinct points for three clusters: two centres coincide, and one
    # cluster receives no row. The cause is said: before, the advice was to
    # scale the input, which cannot part copies of a row.
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0)
    with pytest.warns(
        ConvergenceWarning,
        match=r"some clusters are empty after fitting; their centres receive no "
        r"training row\. X has 2 distinct rows, fewer than n_clusters, and "
        r"copies of a row share their cluster\.$",
    ):
        dec = small_dec(n_clusters=3, max_iter=0).fit(X)
    assert np.unique(dec.labels_).size == 2
    # Enough distinct rows, but far from the unit scale (raw pixels, say): the
    # advice to scale.
    rng = np.random.default_rng(0)
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0) + rng.normal(0, 1e-9, (20, 2))
    with pytest.warns(
        ConvergenceWarning,
        match=r"some clusters are empty after fitting.*If the input is not "
        r"scaled, scale it first",
    ):
        small_dec(n_clusters=3, max_iter=0).fit(X)


@pytest.mark.parametrize("init", ["kmeans", "auto"])
def test_fewer_distinct_rows_than_clusters_are_reported_once(init):
    # Every k-means run of every candidate start finds 2 clusters of 3 (21
    # runs for "auto"); the fit says it once.
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_dec(n_clusters=3, init=init).fit(X)
    messages = [str(w.message) for w in caught]
    assert sum("distinct clusters" in m for m in messages) == 1, messages


def test_verbose_zero_is_silent_and_verbose_one_shows_progress(blobs, capsys):
    X, _ = blobs
    small_dec(n_clusters=4, verbose=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == ""
    small_dec(n_clusters=4, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "loss" in out and "delta_label" in out


def test_debug_logging_reports_epochs_and_updates(blobs, caplog):
    X, _ = blobs
    with caplog.at_level(logging.DEBUG, logger="skdec"):
        dec = small_dec(n_clusters=4, verbose=0).fit(X)
    messages = [r.getMessage() for r in caplog.records if r.name == "skdec"]
    epochs = [m for m in messages if m.startswith("pretraining epoch")]
    updates = [m for m in messages if m.startswith("self-training iteration")]
    assert len(epochs) == dec.pretrain_epochs
    assert len(updates) == len(dec.history_["kl_loss"])


def test_verbose_says_what_the_schedule_is_and_why_self_training_stopped(capsys):
    X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    dec = small_dec(
        hidden_layer_sizes="auto", batch_size="auto", max_iter=400, verbose=1
    ).fit(X)
    out = capsys.readouterr().out
    widths = "-".join(map(str, [2, *dec.hidden_layer_sizes_, 2]))
    steps = dec.pretrain_epochs_ * math.ceil(300 / dec.batch_size_)
    assert (
        f"Pretraining the dense autoencoder with encoder {widths} for "
        f"{dec.pretrain_epochs_} epochs of batches of {dec.batch_size_} rows, "
        f"{steps} gradient steps; hidden_layer_sizes and batch_size 'auto', "
        "from 300 rows of 2 features\n" in out
    )
    # Converged before max_iter, on its own line after the progress bar.
    assert dec.n_iter_ < 400 and dec.history_["delta_label"][-1] < dec.tol
    change = f"{dec.history_['delta_label'][-1]:.2%}"
    assert (
        f"\nSelf-training converged at iteration {dec.n_iter_}: {change} of "
        "the labels changed since the last target update, below tol=0.001\n" in out
    )
    # Given settings are not called "auto"; a warm start does not pretrain.
    digits = load_digits().data[:100] / 16
    conv = small_dec(autoencoder="conv", conv_filters=(4, 8), verbose=1).fit(digits)
    out = capsys.readouterr().out
    assert (
        "Pretraining the convolutional autoencoder with 4-8 filters on 8x8x1 "
        "inputs for 10 epochs of batches of 32 rows, 40 gradient steps\n" in out
    )
    conv.set_params(warm_start=True).fit(digits)
    assert "Pretraining" not in capsys.readouterr().out
    # One epoch of one batch, no larger than the rows; or none at all.
    small_dec(pretrain_epochs=1, batch_size=64, verbose=1).fit(X[:40])
    assert (
        "Pretraining the dense autoencoder with encoder 2-16-2 for 1 epoch of "
        "batches of 40 rows, 1 gradient step\n" in capsys.readouterr().out
    )
    small_dec(pretrain_epochs=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "No pretraining of the dense autoencoder with encoder 2-16-2 " in out
    assert "Pretraining" not in out


def test_tol_zero_runs_every_iteration_and_says_so():
    # Before, its warning advised "Increase max_iter or tol", which more
    # iterations cannot satisfy: no fraction of changed labels is below 0.
    X = StandardScaler().fit_transform(make_blobs(300, centers=3, random_state=0)[0])
    with pytest.warns(ConvergenceWarning) as caught:
        dec = small_dec(init="kmeans_input", tol=0, max_iter=400).fit(X)
    assert dec.n_iter_ == 400 and dec.history_["delta_label"][-1] == 0
    assert [str(w.message) for w in caught] == [
        "Self-training ran all max_iter=400 iterations, as tol=0 asks (no "
        "fraction of changed labels is below 0; it was 0 at the last of "
        f"{len(dec.history_['delta_label'])} target updates). Give tol > 0 to "
        "stop once the labels settle."
    ]


def test_batch_size_is_at_most_the_rows():
    X, _ = make_blobs(50, centers=3, random_state=0)
    assert small_dec(batch_size=1000, max_iter=0).fit(X).batch_size_ == 50
    assert small_dec(batch_size=16, max_iter=0).fit(X).batch_size_ == 16
