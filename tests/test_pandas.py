"""pandas DataFrames in, and DataFrames out with ``set_output``."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _helpers import small_dec


@pytest.fixture(scope="module")
def frame():
    X, _ = make_blobs(60, n_features=3, centers=3, random_state=0)
    return pd.DataFrame(X, columns=["height", "weight", "age"], index=range(100, 160))


def _fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X)


def test_dataframe_feature_names_are_kept_and_checked(frame):
    dec = _fit(small_dec(), frame)
    np.testing.assert_array_equal(dec.feature_names_in_, ["height", "weight", "age"])
    np.testing.assert_array_equal(
        dec.get_feature_names_out(), ["decclusterer0", "decclusterer1"]
    )
    np.testing.assert_array_equal(dec.predict(frame), dec.labels_)
    with pytest.raises(ValueError, match="feature names should match"):
        dec.predict(frame[["age", "height", "weight"]])


def test_set_output_pandas_gives_a_dataframe(frame):
    dec = _fit(small_dec(), frame).set_output(transform="pandas")
    Z = dec.transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["decclusterer0", "decclusterer1"]
    pd.testing.assert_index_equal(Z.index, frame.index)
    np.testing.assert_array_equal(
        Z.to_numpy(), dec.set_output(transform="default").transform(frame)
    )


def test_set_output_pandas_through_a_pipeline(frame):
    pipe = make_pipeline(StandardScaler(), small_dec(n_components=3))
    pipe.set_output(transform="pandas")
    Z = _fit(pipe, frame).transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["decclusterer0", "decclusterer1", "decclusterer2"]
    np.testing.assert_array_equal(pipe[-1].feature_names_in_, frame.columns)
