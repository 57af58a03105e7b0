"""Convolutional autoencoder, the joint (IDEC) loss and custom networks."""

import pickle

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

import skdec
from skdec import cluster_accuracy, cluster_accuracy_scorer
from skdec._trainers import Predictor

from _helpers import small_dec

# Short fits stop at max_iter on purpose; their ConvergenceWarning is noise.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def synthetic_images(n_per_class=40, size=12, seed=0):
    """Noisy colour images of three classes: a red vertical bar, a green
    horizontal bar, a blue square, of random brightness."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    middle = size // 2 - 1
    for label in range(3):
        for _ in range(n_per_class):
            image = rng.normal(0.0, 0.1, size=(size, size, 3))
            at, brightness = middle, rng.uniform(0.5, 1.5)
            if label == 0:
                image[:, at : at + 2, 0] += brightness
            elif label == 1:
                image[at : at + 2, :, 1] += brightness
            else:
                image[at : at + 4, at : at + 4, 2] += brightness
            images.append(image.reshape(-1))
            labels.append(label)
    return np.array(images, dtype=np.float32), np.array(labels)


def conv_dec(**params):
    defaults = dict(
        autoencoder="conv",
        conv_filters=(8, 16),
        n_components=6,
        pretrain_epochs=15,
        max_iter=100,
        update_interval=20,
        batch_size=32,
    )
    defaults.update(params)
    return small_dec(**defaults)


@pytest.mark.parametrize("decoder", ["transpose", "upsample"])
def test_conv_autoencoder_on_digit_images(digits, decoder):
    X, y = digits
    X, y = X[:600], y[:600]
    dec = conv_dec(
        n_clusters=10, input_shape=(8, 8, 1), decoder=decoder, n_components=10
    ).fit(X)
    assert dec.transform(X).shape == (600, 10)
    assert dec.autoencoder_.predict(X, verbose=0).shape == X.shape
    q = dec.predict_proba(X)
    assert q.shape == (600, 10)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    # Chance level for ten balanced classes is about 0.1 to 0.2.
    assert cluster_accuracy(y, dec.labels_) > 0.5
    restored = pickle.loads(pickle.dumps(dec))
    np.testing.assert_array_equal(restored.predict_proba(X), q)
    # The pretraining reduced the reconstruction loss.
    losses = dec.history_["pretrain_loss"]
    assert losses[-1] < 0.7 * losses[0]


def test_conv_autoencoder_finds_synthetic_colour_shapes(tmp_path):
    X, y = synthetic_images()
    dec = conv_dec(input_shape=(12, 12, 3)).fit(X)
    assert cluster_accuracy(y, dec.labels_) >= 0.9
    dec.save(tmp_path / "conv.skdec")
    loaded = skdec.load(tmp_path / "conv.skdec")
    np.testing.assert_array_equal(loaded.predict_proba(X), dec.predict_proba(X))


def test_conv_infers_square_grey_images(digits):
    X, _ = digits
    dec = conv_dec(max_iter=0, pretrain_epochs=1).fit(X[:50])
    assert dec._network_recipe["input_shape"] == (8, 8, 1)


@pytest.mark.parametrize("size", [(28, 28, 1), (16, 16, 1), (32, 32, 3), (7, 9, 2)])
def test_conv_reconstructs_any_reasonable_size(size):
    n_features = int(np.prod(size))
    X = np.random.default_rng(0).random((12, n_features), dtype=np.float32)
    dec = conv_dec(input_shape=size, pretrain_epochs=1, max_iter=0).fit(X)
    assert dec.autoencoder_.predict(X, verbose=0).shape == X.shape
    assert dec.decoder_.predict(dec.cluster_centers_, verbose=0).shape == (
        3,
        n_features,
    )


@pytest.mark.parametrize(
    "params, n_features, match",
    [
        (
            {"input_shape": (8, 8, 1)},
            60,
            r"input_shape=\(8, 8, 1\) holds 64 values, "
            r"but X has n_features=60",
        ),
        ({}, 60, "needs input_shape=\\(height, width, channels\\); n_features=60"),
        ({"input_shape": (2, 2, 3, 5)}, 60, "must be \\(height, width, channels\\)"),
        ({"input_shape": (8, 0, 1)}, 64, "input_shape must be a sequence of positive"),
        ({"conv_filters": (8, -1)}, 64, "conv_filters must be a non-empty sequence"),
        # Before: an IndexError while building the networks.
        ({"conv_filters": ()}, 64, "conv_filters must be a non-empty sequence"),
        # Before: fitted as (8, 16), then neither unpickled nor loaded.
        ({"conv_filters": ((8, 16),)}, 64, "conv_filters must be a non-empty"),
        # Before: the product wrapped around to 64 in int64.
        (
            {"input_shape": (3689348814741910336, 5, 1)},
            64,
            "holds 18446744073709551680 values",
        ),
    ],
)
def test_conv_shape_errors(params, n_features, match):
    X = np.zeros((10, n_features))
    with pytest.raises(ValueError, match=match):
        conv_dec(**params).fit(X)


def test_joint_loss_preserves_the_reconstruction(digits):
    X, _ = digits
    X = X[:400]
    common = dict(
        n_clusters=10,
        hidden_layer_sizes=(64,),
        n_components=10,
        pretrain_epochs=20,
        max_iter=400,
        tol=0.0,
        learning_rate=0.05,
        random_state=0,
    )

    def reconstruction_error(dec):
        return float(np.mean((dec.autoencoder_.predict(X, verbose=0) - X) ** 2))

    dec = small_dec(**common).fit(X)
    idec = small_dec(reconstruction_weight=10.0, **common).fit(X)
    # Same pretraining; only the self-training loss differs.
    assert idec.history_["pretrain_loss"] == dec.history_["pretrain_loss"]
    assert reconstruction_error(idec) < 0.8 * reconstruction_error(dec)
    assert not np.array_equal(idec.transform(X), dec.transform(X))


def test_joint_loss_weight_zero_is_plain_dec(digits):
    # Weight 0 trains DEC's networks alone on KL(P || Q); a weight too small
    # to move the encoder trains the joint networks, whose KL term is the
    # same: the two embeddings agree. (Before, the test compared two fits of
    # weight 0, the default, which no loss of the DEC trainer could tell
    # apart.)
    X, _ = digits
    plain = small_dec(max_iter=30, reconstruction_weight=0.0).fit(X[:200])
    joint = small_dec(max_iter=30, reconstruction_weight=1e-9).fit(X[:200])
    np.testing.assert_allclose(
        plain.transform(X[:200]), joint.transform(X[:200]), atol=1e-5
    )
    np.testing.assert_allclose(
        plain.history_["kl_loss"], joint.history_["kl_loss"], rtol=1e-5
    )
    assert plain.history_["reconstruction_loss"] == []
    assert len(joint.history_["reconstruction_loss"]) > 0


def test_idec_records_its_reconstruction_loss_at_each_target_update(digits):
    X, _ = digits
    X = X[:300]

    def reconstruction_error(dec):
        return np.mean((dec.autoencoder_.predict(X, verbose=0) - X) ** 2)

    common = dict(n_clusters=10, reconstruction_weight=1.0, update_interval=20)
    pretrained = small_dec(max_iter=0, **common).fit(X)
    # tol=1: the second target update stops the fit, with the weights it
    # scored.
    idec = small_dec(max_iter=100, tol=1.0, **common).fit(X)
    losses = idec.history_["reconstruction_loss"]
    assert len(losses) == len(idec.history_["kl_loss"]) == 2
    # The first update comes before any self-training step.
    assert losses[0] == pytest.approx(reconstruction_error(pretrained), rel=1e-5)
    assert losses[1] == pytest.approx(reconstruction_error(idec), rel=1e-5)
    assert losses[1] != losses[0]
    idec.set_params(warm_start=True).fit(X)
    assert len(idec.history_["reconstruction_loss"]) == len(idec.history_["kl_loss"])
    assert idec.history_["reconstruction_loss"][:2] == losses


def test_a_warm_start_from_a_history_without_the_newer_keys(digits):
    # Models saved before skdec recorded the criterion and IDEC's
    # reconstruction loss have neither list; continuing one starts them.
    X, _ = digits
    idec = small_dec(reconstruction_weight=1.0, max_iter=20).fit(X[:200])
    old_keys = ("pretrain_loss", "kl_loss", "delta_label")
    idec.history_ = {key: idec.history_[key] for key in old_keys}
    n_updates = len(idec.history_["kl_loss"])
    idec.set_params(warm_start=True).fit(X[:200])
    added = len(idec.history_["kl_loss"]) - n_updates
    assert added >= 1
    assert len(idec.history_["reconstruction_loss"]) == added
    assert idec.history_["criterion"] == []


def test_the_reconstruction_loss_comes_with_the_same_assignment(digits):
    # IDEC's target updates decode the embedding that Q is computed from, in
    # one pass: Q must be what the pass without the decoder gives, to the
    # bit, over more rows than one prediction batch.
    X, _ = digits
    X = X[:700]
    idec = small_dec(n_clusters=10, reconstruction_weight=1.0).fit(X)
    inference = Predictor(recipe=idec._network_recipe, networks=idec._networks)
    q, error = inference.assign(X, reconstruction_error=True)
    np.testing.assert_array_equal(q, inference.assign(X))
    expected = np.mean((idec.autoencoder_.predict(X, verbose=0) - X) ** 2)
    assert error == pytest.approx(expected, rel=1e-5)
    labels, _ = inference.assign(X, labels_only=True, reconstruction_error=True)
    np.testing.assert_array_equal(labels, q.argmax(axis=1))


def tiny_builder(input_shape, n_components, seed=0):
    """A custom encoder/decoder pair, seeded for reproducible fits."""
    init = keras.initializers.HeNormal
    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Dense(24, activation="tanh", kernel_initializer=init(seed))(inputs)
    encoder = keras.Model(
        inputs, keras.layers.Dense(n_components, kernel_initializer=init(seed + 1))(h)
    )
    z = keras.Input(shape=(n_components,))
    h = keras.layers.Dense(24, activation="tanh", kernel_initializer=init(seed + 2))(z)
    decoder = keras.Model(
        z, keras.layers.Dense(input_shape[0], kernel_initializer=init(seed + 3))(h)
    )
    return encoder, decoder


def test_custom_networks_fit_clone_pickle_and_grid_search(digits, tmp_path):
    X, y = digits
    X, y = X[:300], y[:300]
    dec = small_dec(
        autoencoder=tiny_builder, n_clusters=10, n_components=5, pretrain_epochs=40
    )
    dec.fit(X)
    assert cluster_accuracy(y, dec.labels_) > 0.4
    again = clone(dec).fit(X)
    np.testing.assert_array_equal(again.transform(X), dec.transform(X))
    restored = pickle.loads(pickle.dumps(dec))
    np.testing.assert_array_equal(restored.predict_proba(X), dec.predict_proba(X))
    search = GridSearchCV(
        dec, {"n_clusters": [5, 10]}, scoring=cluster_accuracy_scorer, cv=2
    ).fit(X, y)
    # Digits have ten classes: ten clusters score above five on both folds
    # (0.37 against 0.31 here), which they would not if the candidates were
    # not fitted with their own n_clusters.
    five, ten = search.cv_results_["mean_test_score"]
    assert ten > five + 0.03
    assert search.best_params_ == {"n_clusters": 10}
    assert search.best_estimator_.autoencoder is tiny_builder
    assert np.unique(search.predict(X)).size == 10
    with pytest.raises(ValueError, match="custom autoencoder callable cannot be saved"):
        dec.save(tmp_path / "custom.skdec")


def dropout_builder(input_shape, n_components, seed=0):
    """A custom encoder with a Dropout and a GaussianNoise layer."""
    init = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Dense(16, activation="relu", kernel_initializer=init(seed))(inputs)
    h = keras.layers.GaussianNoise(0.1, seed=seed)(keras.layers.Dropout(0.5)(h))
    encoder = keras.Model(
        inputs, keras.layers.Dense(n_components, kernel_initializer=init(seed))(h)
    )
    z = keras.Input(shape=(n_components,))
    out = keras.layers.Dense(input_shape[0], kernel_initializer=init(seed))(z)
    return encoder, keras.Model(z, out)


def test_random_layers_of_a_custom_encoder_follow_random_state(digits):
    # The pool keeps one model per architecture; get_weights leaves out the
    # seed generators of Dropout and GaussianNoise, so before, each fit drew
    # its masks on from where the last left them: three fits with one
    # random_state gave three models.
    X = digits[0][:150]
    params = dict(autoencoder=dropout_builder, n_clusters=3, max_iter=20)
    fits = [small_dec(**params).fit(X) for _ in range(3)]
    for fit in fits[1:]:
        assert fit.history_ == fits[0].history_
        np.testing.assert_array_equal(fit.cluster_centers_, fits[0].cluster_centers_)
    other = small_dec(**params, random_state=1).fit(X)
    assert other.history_["pretrain_loss"] != fits[0].history_["pretrain_loss"]


def test_custom_builder_must_return_two_models():
    def broken(input_shape, n_components):
        return "not models"

    with pytest.raises(TypeError, match="must return \\(encoder, decoder\\)"):
        small_dec(autoencoder=broken).fit(np.zeros((10, 3)))


def test_wrong_returns_of_a_custom_builder_are_named():
    def three(input_shape, n_components):
        return (*tiny_builder(input_shape, n_components), keras.Sequential())

    def layers(input_shape, n_components):
        return keras.layers.Dense(2), keras.layers.Dense(3)

    with pytest.raises(TypeError, match="got a tuple of 3: Functional, Functional"):
        small_dec(autoencoder=three).fit(np.zeros((10, 3)))
    with pytest.raises(TypeError, match="got a tuple of 2: Dense, Dense"):
        small_dec(autoencoder=layers).fit(np.zeros((10, 3)))


def test_a_custom_part_with_one_output_in_a_list_is_accepted():
    def listed(input_shape, n_components):
        encoder, decoder = tiny_builder(input_shape, n_components)
        inputs = keras.Input(shape=input_shape)
        return keras.Model(inputs, [encoder(inputs)]), decoder

    X = np.random.default_rng(0).normal(size=(40, 3))
    assert small_dec(autoencoder=listed).fit(X).transform(X).shape == (40, 2)


def test_a_custom_encoder_must_have_one_output():
    def two_outputs(input_shape, n_components):
        encoder, decoder = tiny_builder(input_shape, n_components)
        inputs = keras.Input(shape=input_shape)
        z = encoder(inputs)
        return keras.Model(inputs, [z, z]), decoder

    with pytest.raises(ValueError, match="encoder must have one output.*it has 2"):
        small_dec(autoencoder=two_outputs).fit(np.zeros((10, 3)))


def test_a_custom_part_of_the_wrong_input_shape_is_named():
    def swapped(input_shape, n_components):
        encoder, decoder = tiny_builder(input_shape, n_components)
        return decoder, encoder

    with pytest.raises(
        ValueError, match=r"Calling the custom encoder on inputs of shape \(3,\)"
    ):
        small_dec(autoencoder=swapped).fit(np.zeros((10, 3)))


def test_a_builder_with_keyword_arguments_is_given_no_seed():
    """Only a parameter named seed gets the seed: a builder that passes
    ``**kwargs`` on to its layers would hand them an argument they refuse."""

    def builder(input_shape, n_components, **options):
        assert options == {}
        encoder, decoder = tiny_builder(input_shape, n_components)
        return encoder, decoder

    small_dec(autoencoder=builder).fit(np.random.default_rng(0).normal(size=(40, 3)))


def test_custom_encoder_must_output_n_components():
    def wrong_width(input_shape, n_components):
        return tiny_builder(input_shape, n_components + 1)

    with pytest.raises(ValueError, match="expected \\(2,\\) for n_components=2"):
        small_dec(autoencoder=wrong_width).fit(np.zeros((10, 3)))


def test_save_and_load_dense_idec(digits, tmp_path):
    X, _ = digits
    dec = small_dec(reconstruction_weight=1.0).fit(X[:100])
    dec.save(tmp_path / "idec.skdec")
    loaded = skdec.load(tmp_path / "idec.skdec")
    assert loaded.reconstruction_weight == 1.0
    np.testing.assert_array_equal(loaded.transform(X[:100]), dec.transform(X[:100]))
    assert loaded.history_ == dec.history_
    assert len(loaded.history_["reconstruction_loss"]) >= 1
