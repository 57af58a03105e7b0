"""DEC's soft assignment, target distribution and divergence."""

import keras
import numpy as np
import pytest
from scipy.stats import entropy

from skdec._assignment import kl_divergence, soft_assignment, target_distribution
from skdec._networks import ClusteringLayer


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_soft_assignment_is_the_student_t_kernel_normalised(alpha):
    rng = np.random.default_rng(0)
    Z, centers = rng.normal(size=(50, 4)), rng.normal(size=(3, 4))
    sq_dist = ((Z[:, None, :] - centers[None]) ** 2).sum(axis=2)
    kernel = (1 + sq_dist / alpha) ** (-(alpha + 1) / 2)
    expected = kernel / kernel.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(soft_assignment(Z, centers, alpha), expected, rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_clustering_layer_computes_the_same_assignment(alpha):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(40, 5)).astype(np.float32)
    centers = rng.normal(size=(4, 5)).astype(np.float32)
    layer = ClusteringLayer(4, alpha=alpha)
    layer.build((None, 5))
    layer.set_weights([centers])
    q = keras.ops.convert_to_numpy(layer(Z))
    np.testing.assert_allclose(q, soft_assignment(Z, centers, alpha), rtol=1e-5)


def test_soft_assignment_stays_finite_far_from_every_centre():
    centers = np.array([[0.0, 0.0], [1.0, 0.0]])
    # The kernel itself, (1 + 1e300) ** -1 and its square, underflows to zero.
    q = soft_assignment(np.array([[1e150, 0.0], [0.0, 3e150]]), centers, 3.0)
    assert np.isfinite(q).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0)


def test_target_distribution_squares_and_divides_by_cluster_frequency():
    q = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    frequency = q.sum(axis=0)  # 1.7 and 1.3
    weight = q**2 / frequency
    expected = weight / weight.sum(axis=1, keepdims=True)
    p = target_distribution(q)
    np.testing.assert_allclose(p, expected)
    # Confident rows get more confident.
    assert p[0, 0] > q[0, 0] and p[2, 1] > q[2, 1]


def test_kl_divergence_is_the_mean_relative_entropy_of_the_rows():
    rng = np.random.default_rng(2)
    p, q = rng.dirichlet(np.ones(4), size=10), rng.dirichlet(np.ones(4), size=10)
    expected = np.mean([entropy(pi, qi) for pi, qi in zip(p, q, strict=True)])
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)
    assert kl_divergence(q, q) == 0.0
    # A target where q underflowed to zero: large but finite.
    assert 700 < kl_divergence([[1.0, 0.0]], [[0.0, 1.0]]) < np.inf
