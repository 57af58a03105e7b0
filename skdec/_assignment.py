"""DEC's soft assignment, its target distribution and their divergence.

:func:`soft_assignment` is the float64 NumPy twin of what
:class:`~skdec._networks.ClusteringLayer` computes in float32 inside the
networks, where it is differentiated: prediction and the target updates of
self-training use it, batch by batch.
"""

import numpy as np
from scipy.special import rel_entr, softmax
from sklearn.metrics.pairwise import euclidean_distances


def soft_assignment(Z, centers, alpha):
    """Soft assignment ``q`` of embedded rows to centres (rows sum to one).

    ``q_ij`` is proportional to ``(1 + |z_i - mu_j|^2 / alpha) ** (-(alpha+1)/2)``,
    the Student's t kernel of :class:`~skdec._networks.ClusteringLayer`; it is
    computed in float64 as a softmax of the log-kernel, which stays finite for
    rows far from every centre.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components)
        Embedded rows.
    centers : ndarray of shape (n_clusters, n_components)
        Cluster centres.
    alpha : float
        Degrees of freedom of the Student's t kernel.

    Returns
    -------
    q : ndarray of shape (n_samples, n_clusters), dtype float64

    Raises
    ------
    FloatingPointError
        Where ``Z`` or ``centers`` hold a value that is not finite: the
        network overflowed.
    """
    Z = np.asarray(Z, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    if not (np.isfinite(Z).all() and np.isfinite(centers).all()):
        raise FloatingPointError(
            "The embedding of some rows, or a cluster centre, is not finite: "
            "the network overflowed."
        )
    sq_dist = euclidean_distances(Z, centers, squared=True)
    return softmax(-0.5 * (alpha + 1.0) * np.log1p(sq_dist / alpha), axis=1)


def target_distribution(q):
    """DEC's auxiliary target ``p_ij = (q_ij^2 / f_j)``, normalised per row.

    ``f_j = sum_i q_ij`` is the soft frequency of cluster ``j``; squaring
    sharpens confident assignments and dividing by ``f_j`` keeps large
    clusters from absorbing the rest.
    """
    frequency = np.maximum(q.sum(axis=0), np.finfo(q.dtype).tiny)
    weight = q**2 / frequency
    return weight / weight.sum(axis=1, keepdims=True)


def kl_divergence(p, q):
    """Mean over rows of ``KL(p_i || q_i)``.

    ``q`` is kept at least the smallest positive float64, so that a target
    that puts weight where ``q`` underflowed to zero gives a large, finite
    divergence.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.maximum(np.asarray(q, dtype=np.float64), np.finfo(np.float64).tiny)
    return float(np.mean(np.sum(rel_entr(p, q), axis=1)))
