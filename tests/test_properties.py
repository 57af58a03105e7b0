"""Property-based tests: cluster_accuracy's invariants and input validation."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array

from skdec import cluster_accuracy

from _helpers import small_dec

labels = st.lists(st.integers(0, 5), min_size=1, max_size=60)


@st.composite
def label_pairs(draw):
    y_true = draw(labels)
    y_pred = draw(
        st.lists(st.integers(0, 5), min_size=len(y_true), max_size=len(y_true))
    )
    return np.array(y_true), np.array(y_pred)


def relabel(y, data):
    values = np.unique(y)
    targets = data.draw(st.permutations([f"c{v}" for v in range(10)]))[: values.size]
    mapping = dict(zip(values.tolist(), targets, strict=True))
    return np.array([mapping[v] for v in y.tolist()])


@given(pair=label_pairs(), data=st.data())
def test_accuracy_is_invariant_under_relabelling_either_side(pair, data):
    y_true, y_pred = pair
    acc = cluster_accuracy(y_true, y_pred)
    assert cluster_accuracy(relabel(y_true, data), y_pred) == pytest.approx(acc)
    assert cluster_accuracy(y_true, relabel(y_pred, data)) == pytest.approx(acc)


@given(pair=label_pairs())
def test_accuracy_is_between_zero_and_one(pair):
    acc = cluster_accuracy(*pair)
    assert 1 / len(pair[0]) <= acc <= 1.0


@given(pair=label_pairs())
def test_accuracy_is_one_exactly_when_the_partitions_match(pair):
    y_true, y_pred = pair
    n_pairs = len(set(zip(y_true.tolist(), y_pred.tolist(), strict=True)))
    same_partition = n_pairs == np.unique(y_true).size == np.unique(y_pred).size
    assert (cluster_accuracy(y_true, y_pred) == 1.0) == same_partition


@given(y=labels, data=st.data())
def test_a_relabelled_copy_scores_one(y, data):
    y = np.array(y)
    assert cluster_accuracy(y, relabel(y, data)) == 1.0


# ---------------------------------------------------------------- inputs

dtypes = st.sampled_from(["float64", "float32", "int64", "uint8", "bool", "complex128"])


@st.composite
def arrays(draw):
    ndim = draw(st.sampled_from([1, 2, 2, 2, 3]))
    # Mostly sizes that can fit, sometimes empty or a single row or column.
    shape = tuple(draw(st.sampled_from([0, 1, 3, 5, 7, 7])) for _ in range(ndim))
    dtype = draw(dtypes)
    values = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-100, 100, width=32))
    )
    X = values.astype(dtype) if dtype != "complex128" else values + 1j
    if dtype.startswith("float") and X.size and draw(st.integers(0, 3)) == 0:
        flat = X.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
    container = draw(st.sampled_from(["array", "list", "sparse", "frame", "object"]))
    if container == "list":
        return X.tolist()
    if container == "sparse" and X.ndim == 2:
        return scipy.sparse.csr_matrix(X)
    if container == "frame" and X.ndim == 2:
        return pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    if container == "object":
        obj = X.astype(object)
        if obj.size and draw(st.booleans()):
            obj.reshape(-1)[0] = draw(st.sampled_from(["text", None, b"bytes"]))
        return obj
    return X


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(X=arrays())
def test_any_input_fits_or_gets_scikit_learns_own_error(X):
    """DEC refuses exactly the inputs that scikit-learn's validation refuses,
    with the same error and message; everything else fits and predicts."""
    dec = small_dec(n_clusters=2, pretrain_epochs=1, max_iter=2, n_init=1)
    try:
        check_array(
            X,
            dtype="numeric",
            ensure_min_samples=2,
            estimator=dec,
            input_name="X",
        )
    except (ValueError, TypeError) as exc:
        expected = exc
    else:
        expected = None
    if expected is not None:
        event(f"refused with {type(expected).__name__}")
        with pytest.raises(type(expected), match=re.escape(str(expected))):
            dec.fit(X)
        assert not hasattr(dec, "labels_")
        return
    event("fitted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec.fit(X)
    labels = dec.predict(X)
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    assert labels.shape == (n_rows,)
    np.testing.assert_array_equal(labels, dec.labels_)
    q = dec.predict_proba(X)
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)
