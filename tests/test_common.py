"""scikit-learn's estimator checks on a small, fast configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from _helpers import small_dec

# Checks that cannot pass, with the reason; the goal is an empty table.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [small_dec(), small_dec(n_clusters="auto", n_clusters_range=(2, 3))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
