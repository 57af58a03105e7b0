"""Tables as they come: make_tabular_pipeline and cluster_profile."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sksurv.datasets import load_flchain

import skdec
from skdec.tables import (
    _as_categories,
    _category,
    _summary,
    cluster_profile,
    make_tabular_pipeline,
)

from _helpers import small_dec

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def mixed_frame(n=60, seed=0):
    """Two groups of rows in numbers and categories, with the edge cases."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 2
    frame = pd.DataFrame(
        {
            "id": [f"p{i:03d}" for i in range(n)],  # an identifier
            "age": np.where(group, 70.0, 40.0) + rng.normal(0, 3, n),
            "dose": pd.Series(rng.normal(5, 1, n).round(2)).astype(str),  # as text
            "sex": np.where(group, "M", "F"),
            "smoker": group.astype(bool),
            "stage": rng.integers(1, 4, n),  # integer-coded category
            "empty": np.full(n, np.nan),  # entirely missing
            "ward": [f"w{i % 150}" for i in range(n)],
            "label": group,
        }
    )
    frame.loc[[0, 5, 9], "age"] = np.nan
    frame.loc[[1, 2], "sex"] = None
    frame.loc[n - 1, "sex"] = "X"  # a category with one row
    return frame


def fit(pipeline, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipeline.fit(X)


def test_columns_are_sorted_by_kind_with_a_warning_for_each_edge_case():
    frame = mixed_frame(200)
    with pytest.warns(UserWarning) as caught:
        pipe = make_tabular_pipeline(
            frame, small_dec(), categorical=["stage"], ignore=["label"]
        )
    messages = [str(w.message) for w in caught]
    assert messages == [
        "column 'dose' holds numbers stored as text; they are read as numbers.",
        "column 'ward' has 150 categories: the 20 most frequent are kept and the "
        "others grouped as one (max_categories=20).",
        "column 'id' is left out of the features: it has a different value in "
        "each of its 200 rows (an identifier?).",
        "column 'empty' is left out of the features: it has no values.",
    ]
    preprocess = pipe.named_steps["preprocess"]
    assert isinstance(preprocess, ColumnTransformer)
    columns = {name: cols for name, _, cols in preprocess.transformers}
    assert columns == {
        "numeric": ["age", "dose"],
        "categorical": ["sex", "smoker", "stage", "ward"],
    }
    assert pipe.named_steps["cluster"].n_clusters == 3


def csv_like_frame(n=12):
    """A table as a CSV file gives it: repeated ids, gaps in numbers, text,
    booleans and dates as text, a column of no value."""
    return pd.DataFrame(
        {
            "id": [f"p{i % 6}" for i in range(n)],  # duplicate ids
            "age years": np.where(np.arange(n) % 3 == 0, np.nan, 30.0 + np.arange(n)),
            "größe": np.linspace(150.0, 190.0, n),
            "1": np.arange(n),
            "sex": pd.Series((["F", "M", None, "M"] * n)[:n], dtype=object),
            "grp": ["a", "b", "c"] * (n // 3),
            "flag": pd.Series([True, False, None] * (n // 3), dtype=object),
            "when": [f"2021-01-{i + 1:02d}" for i in range(n)],  # all distinct
            "empty": np.full(n, np.nan),
            "label": np.arange(n) % 2,
        }
    )


def _kinds_and_warnings(frame, **kwargs):
    """The columns of each part of the pipeline for ``frame``, and the
    messages of the warnings its building gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = make_tabular_pipeline(frame, small_dec(n_clusters=2), **kwargs)
    kinds = {name: columns for name, _, columns in pipe[0].transformers}
    return kinds, [str(w.message) for w in caught]


def test_dates_written_as_text_are_left_out_like_datetimes():
    # As pandas reads a CSV file without parse_dates: dates are text.
    n = 12
    frame = pd.DataFrame(
        {
            "x": np.arange(n, dtype=float),
            "day": ["2021-01-01", "2021-02-01", None, "2021-03-15"] * 3,  # repeated
            "stamp": [f"2021-01-01 10:{i:02d}:00" for i in range(n)],
            "written": ["01/03/2021", "1 March 2021", "May 2021", "2021-03-01"] * 3,
            "zoned": ["2021-01-01T10:00:00Z", "2021-01-01T10:00:00+02:00"] * 6,
            "typed": pd.date_range("2021-01-01", periods=n),
        }
    )
    kinds, messages = _kinds_and_warnings(frame)
    assert kinds == {"numeric": ["x"]}
    assert messages == [
        f"column '{column}' is left out of the features: it holds dates (as text)."
        for column in ("day", "stamp", "written", "zoned")
    ] + [
        "column 'typed' is left out of the features: it holds dates (dtype "
        f"{frame['typed'].dtype})."
    ]
    # The same sorting in the profile.
    profile = cluster_profile(frame, np.arange(n) % 2)
    assert set(profile["column"]) == {"x"}
    # As pandas 2 reads text (object dtype), gaps included: the same kinds,
    # and numbers stored as text with a gap are numbers (before: an object
    # column with a gap became one-hot categories).
    as_objects = frame.astype({c: object for c in ("day", "stamp", "written", "zoned")})
    as_objects["dose"] = pd.Series(["1.5", None, "2", "3"] * 3, dtype=object)
    kinds, objects_messages = _kinds_and_warnings(as_objects)
    assert kinds == {"numeric": ["x", "dose"]}
    assert objects_messages == [
        "column 'dose' holds numbers stored as text; they are read as numbers.",
        *messages,
    ]
    # The tester's table: 'when', all distinct, is dates, not an identifier.
    kinds, messages = _kinds_and_warnings(csv_like_frame(), ignore=["label"])
    assert "column 'when' is left out of the features: it holds dates (as text)." in (
        messages
    )
    assert kinds == {
        "numeric": ["age years", "größe", "1"],
        "categorical": ["id", "sex", "grp", "flag"],
    }


@pytest.mark.parametrize(
    "values, kind",
    [
        (["May", "June", "May", "July"], "categorical"),  # pandas: dates this year
        (["today", "now", "today", "now"], "categorical"),  # pandas: dates
        (["a", "b", "a", "t"], "categorical"),
        (["Q1 2021", "Q2 2021", "Q1 2021", "Q2 2021"], "categorical"),
        (["2021 T", "2022 T", "2021 T", "2022 T"], "categorical"),
        (["2021-01-01", "unknown", "2021-01-01", "unknown"], "categorical"),
        (["2021-13-45", "2021-01-01", "2021-13-45", "2021-01-01"], "categorical"),
        (["1", "2", "1", "2"], "numeric"),
        (["2021", "2022", "2021", "2022"], "numeric"),  # years are numbers
        (["20210101", "20210102", "20210101", None], "numeric"),
        (["3.5", "1", "3.5", "1"], "numeric"),
    ],
)
def test_text_that_is_not_a_date_keeps_its_kind(values, kind):
    frame = pd.DataFrame({"x": np.arange(8.0), "v": values * 2})
    kinds, messages = _kinds_and_warnings(frame)
    assert "v" in kinds[kind]
    # No other warning, pandas' about formats included (the messages are
    # recorded, which an outer filter of errors did not see).
    assert [
        m for m in messages if "column 'v' holds numbers stored as text" not in m
    ] == []


def test_an_identifier_is_left_out_however_few_rows_the_table_has():
    frame = pd.DataFrame(
        {
            "x": np.arange(8.0),
            "name": [f"person {i}" for i in range(8)],
            "sex": list("FMFMFMFM"),
            "flag": [True, False] * 4,
        }
    )
    kinds, messages = _kinds_and_warnings(frame)
    assert kinds == {"numeric": ["x"], "categorical": ["sex", "flag"]}
    assert messages == [
        "column 'name' is left out of the features: it has a different value in "
        "each of its 8 rows (an identifier?)."
    ]
    # Gaps aside: a different value in every row that has one.
    frame.loc[[1, 4], "name"] = None
    kinds, messages = _kinds_and_warnings(frame)
    assert "name" not in kinds["categorical"]
    assert messages == [
        "column 'name' is left out of the features: it has a different value in "
        "each of its 6 rows with a value (an identifier?)."
    ]
    # From three rows with a value on; of two rows every column differs in
    # each, and booleans have two values: kept.
    three = pd.DataFrame({"x": [1.0, 2.0, 3.0], "grp": ["a", "b", "c"]})
    assert _kinds_and_warnings(three)[0] == {"numeric": ["x"]}
    two = pd.DataFrame({"x": [1.0, 2.0], "sex": ["F", "M"], "flag": [True, False]})
    kinds, messages = _kinds_and_warnings(two)
    assert kinds == {"numeric": ["x"], "categorical": ["sex", "flag"]}
    assert messages == []
    # The profile leaves the identifier out too.
    profile = cluster_profile(frame, np.arange(8) % 2)
    assert set(profile["column"]) == {"x", "sex", "flag"}


def test_preprocessing_is_scikit_learns_imputers_encoder_and_scaler():
    frame = mixed_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe = make_tabular_pipeline(frame, small_dec(), ignore=["label"])
    fit(pipe, frame)
    numeric = pipe[0].named_transformers_["numeric"].named_steps
    categorical = pipe[0].named_transformers_["categorical"].named_steps
    assert isinstance(numeric["impute"], SimpleImputer)
    assert numeric["impute"].strategy == "median"
    assert isinstance(numeric["scale"], StandardScaler)
    assert isinstance(categorical["impute"], SimpleImputer)
    assert categorical["impute"].fill_value == "missing"
    assert isinstance(categorical["one_hot"], OneHotEncoder)
    assert categorical["one_hot"].handle_unknown == "infrequent_if_exist"

    # Numbers: median-imputed, then standardised; "dose" parsed from text.
    Xt = pipe[0].transform(frame)
    age = frame["age"].fillna(frame["age"].median())
    np.testing.assert_allclose(Xt["age"], (age - age.mean()) / age.std(ddof=0))
    dose = frame["dose"].astype(float)
    np.testing.assert_allclose(Xt["dose"], (dose - dose.mean()) / dose.std(ddof=0))
    # Categories: missing values are a category of their own; the one-row
    # category has its own column.
    np.testing.assert_array_equal(Xt["sex_missing"], frame["sex"].isna())
    assert Xt["sex_X"].sum() == 1 and Xt["sex_X"].iloc[-1] == 1
    np.testing.assert_array_equal(Xt["smoker_True"], frame["smoker"])
    # The clusterer sees exactly these features.
    np.testing.assert_array_equal(
        pipe[-1].feature_names_in_, pipe[0].get_feature_names_out()
    )


def test_many_categories_are_capped_with_the_rest_grouped():
    frame = mixed_frame(300)[["age", "ward"]]
    with pytest.warns(UserWarning, match="'ward' has 150 categories: the 5 most"):
        pipe = make_tabular_pipeline(frame, small_dec(), max_categories=np.int64(5))
    fit(pipe, frame)
    names = [n for n in pipe[0].get_feature_names_out() if n.startswith("ward")]
    assert len(names) == 6 and names[-1] == "ward_infrequent_sklearn"


def _encoded_names(frame, **kwargs):
    pipe = make_tabular_pipeline(frame, small_dec(n_clusters=2), **kwargs)
    return list(pipe[0].fit(frame).get_feature_names_out())


def test_the_missing_category_counts_towards_the_cap():
    # 20 levels and gaps: 21 categories once imputed, one of them grouped.
    levels = pd.Series([f"c{i:02d}" for i in range(20)] * 3 + [None] * 2)
    frame = pd.DataFrame({"x": np.arange(62.0) / 2, "c": levels})
    with pytest.warns(
        UserWarning, match=r"'c' has 21 categories \(with 'missing'\): the 20 most"
    ):
        names = _encoded_names(frame)
    assert "c_infrequent_sklearn" in names
    # Without gaps, or refusing them, 20 categories are kept as they are.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = _encoded_names(frame.dropna())
        assert len(names) == 21 and "c_infrequent_sklearn" not in names
        make_tabular_pipeline(frame, small_dec(), missing="error")


def test_new_rows_with_gaps_and_unseen_categories_get_a_cluster():
    frame = mixed_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe = make_tabular_pipeline(
            frame, small_dec(), categorical=["stage"], ignore=["label"]
        )
    fit(pipe, frame)
    new = frame.drop(columns=["label", "id", "empty"]).head(4).astype(object)
    new.loc[0, "age"] = np.nan
    new.loc[1, "sex"] = "unseen"
    new.loc[2, :] = np.nan  # nothing known at all
    new.loc[3, "stage"] = np.nan
    new["stage"] = new["stage"].astype(float)  # integer codes as floats: 2.0 is "2"
    labels = pipe.predict(new)
    assert labels.shape == (4,) and set(labels) <= set(range(3))
    Xt = pipe[0].transform(new)
    assert Xt.filter(like="sex_").iloc[1].sum() == 0  # unseen: no category
    stage = frame["stage"].iloc[:4]
    one_hot = Xt.filter(like="stage_")
    np.testing.assert_array_equal(
        one_hot.iloc[:2].idxmax(axis=1), "stage_" + stage[:2].astype(str)
    )
    # The row with nothing known: each number its column's median, scaled;
    # each category "missing" where fitting saw gaps, else no category.
    nothing = Xt.iloc[2]
    for column in ("age", "dose"):
        values = pd.to_numeric(frame[column])
        filled = values.fillna(values.median())
        expected = (values.median() - filled.mean()) / filled.std(ddof=0)
        assert nothing[column] == pytest.approx(expected)
    assert nothing["sex_missing"] == 1
    assert nothing.filter(like="sex_").sum() == 1
    assert nothing.filter(like="stage_").sum() == 0  # no gaps in fitting
    assert nothing.filter(like="smoker_").sum() == 0


def test_an_unseen_category_is_encoded_as_the_grouped_rare_ones():
    frame = mixed_frame(300)[["age", "ward"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe = make_tabular_pipeline(frame, small_dec(), max_categories=5)
    fit(pipe, frame)
    new = frame.head(2).copy()
    new["ward"] = ["w149", "never seen"]  # a rare one and an unseen one
    wards = pipe[0].transform(new).filter(like="ward_")
    np.testing.assert_array_equal(wards["ward_infrequent_sklearn"], [1, 1])
    np.testing.assert_array_equal(wards.sum(axis=1), [1, 1])


def test_a_boolean_column_with_gaps_is_a_category_with_missing():
    # As pandas reads True/False with blanks from a CSV file: objects.
    flag = pd.Series([True, False, None, True, np.nan, False] * 3, dtype=object)
    frame = pd.DataFrame({"x": np.arange(18.0), "flag": flag})
    pipe = make_tabular_pipeline(frame, small_dec(n_clusters=2))
    assert {n: c for n, _, c in pipe[0].transformers} == {
        "numeric": ["x"],
        "categorical": ["flag"],
    }
    Xt = fit(pipe, frame)[0].transform(frame)
    assert list(Xt.columns) == ["x", "flag_False", "flag_True", "flag_missing"]
    np.testing.assert_array_equal(Xt["flag_True"], flag.eq(True))
    np.testing.assert_array_equal(Xt["flag_missing"], flag.isna())
    assert Xt.filter(like="flag_").sum(axis=1).eq(1).all()


def test_a_value_missing_stays_apart_from_the_gaps():
    s = pd.Series(["missing", "x", None] * 4, dtype=object)
    frame = pd.DataFrame({"n": np.arange(12.0), "s": s})
    pipe = fit(make_tabular_pipeline(frame, small_dec(n_clusters=2)), frame)
    Xt = pipe[0].transform(frame)
    # The gaps are still "missing"; the value is quoted.
    assert list(Xt.columns) == ["n", 's_"missing"', "s_missing", "s_x"]
    np.testing.assert_array_equal(Xt["s_missing"], s.isna())
    np.testing.assert_array_equal(Xt['s_"missing"'], s.eq("missing"))
    # In the profile too, and both are counted apart.
    profile = cluster_profile(frame, [0] * 6 + [1] * 6)
    zero = profile[profile.cluster == 0].set_index("feature")
    assert zero.loc["s=missing", "category"] == "missing"
    assert zero.loc['s="missing"', "category"] == '"missing"'
    assert zero.loc["s=missing", "cluster_mean"] == pytest.approx(1 / 3)
    assert zero.loc['s="missing"', "cluster_mean"] == pytest.approx(1 / 3)
    # A value written '"missing"' stays apart from the value missing.
    quoted = s.replace("x", '"missing"')
    got = _as_categories(quoted.to_frame())[:4, 0]
    assert pd.isna(got).tolist() == [False, False, True, False]
    assert list(got[[0, 1, 3]]) == ['"missing"', '""missing""', '"missing"']


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1.0, 2.5, np.nan, -3.0, 1e20, 0.1]),
        pd.Series([1.0, 2.5, np.nan, 7.0, 0.1, 2.0], dtype=np.float32),
        pd.Series([3, 1, 2, 1, 2, 3]),
        pd.Series([True, False, None, True, False, None], dtype=object),
        pd.Series(["a", None, "b", np.nan, "2", "2.0"]),
        pd.Series([1, "a", 2.0, None, 2.5, True], dtype=object),  # mixed
        pd.Series([2.0, 1, None, 3.0, 4, 5], dtype=object),
        pd.Series(pd.Categorical(["x", "y", None, "x", "y", "x"])),
        pd.Series([1, None, 3, 4, None, 6], dtype="Int64"),
        pd.Series(["u", None, "v", "u", "v", "w"], dtype="string"),
        pd.Series(["missing", '"missing"', None, "x", "missing", "Missing"]),
        pd.Series(["missing", 1, None, "x", 2.0, '"missing"'], dtype=object),
    ],
    ids=lambda c: str(c.dtype),
)
def test_categories_of_whole_columns_follow_the_rule_for_one_value(column):
    expected = [_category(v) for v in column]  # as skdec 0.2.0 did, cell by cell
    got = _as_categories(column.to_frame())[:, 0]
    assert [None if pd.isna(v) else v for v in got] == [
        None if pd.isna(v) else v for v in expected
    ]


def test_integer_codes_stay_the_same_category_when_read_as_floats():
    frame = pd.DataFrame({"x": np.arange(8.0), "code": [1, 2, 3, 1, 2, 3, 1, 2]})
    pipe = fit(
        make_tabular_pipeline(frame, small_dec(n_clusters=2), categorical=["code"]),
        frame,
    )
    as_floats = frame.astype({"code": float})
    np.testing.assert_array_equal(
        pipe[0].transform(as_floats), pipe[0].transform(frame)
    )
    assert list(pipe[0].get_feature_names_out()) == ["x", "code_1", "code_2", "code_3"]


def test_missing_error_refuses_rows_with_gaps_naming_the_columns():
    frame = mixed_frame()[["age", "sex"]]
    pipe = make_tabular_pipeline(frame, small_dec(), missing="error")
    with pytest.raises(ValueError, match=r"Missing values in column\(s\) 'age' \(3\)"):
        pipe.fit(frame)
    with pytest.raises(ValueError, match=r"column\(s\) 'sex' \(2\)"):
        pipe.fit(frame.dropna(subset=["age"]))
    fit(pipe, frame.dropna())


def test_column_names_that_are_not_text_are_refused():
    # As pd.read_csv(..., header=None) or pd.DataFrame(array) name them.
    frame = pd.DataFrame([[1.0, "a"], [2.0, "b"], [3.0, "a"], [4.0, "b"]])
    with pytest.raises(
        ValueError,
        match=r"Column names must be text; X has 0 \(int\), 1 \(int\)\. Name the "
        r"columns, for example X.columns = X.columns.astype\(str\)",
    ):
        make_tabular_pipeline(frame, small_dec(n_clusters=2))
    with pytest.raises(ValueError, match=r"X has 0 \(int\)\. Name"):
        make_tabular_pipeline(frame[[0]], small_dec(n_clusters=2))  # numbers only
    with pytest.raises(ValueError, match=r"X has 2 \(int\)\."):
        make_tabular_pipeline(frame.set_axis(["a", 2], axis=1), small_dec())
    # As the message says; new rows with the same names then get clusters.
    frame.columns = frame.columns.astype(str)
    pipe = fit(make_tabular_pipeline(frame, small_dec(n_clusters=2)), frame)
    assert list(pipe[0].get_feature_names_out()) == ["0", "1_a", "1_b"]
    np.testing.assert_array_equal(
        pipe.predict(frame.iloc[::-1]), pipe.predict(frame)[::-1]
    )
    # The profile needs no scikit-learn names: it takes them as they are.
    profile = cluster_profile(frame.set_axis([0, 1], axis=1), [0, 0, 1, 1])
    assert set(profile["feature"]) == {"0", "1=a", "1=b"}
    assert set(profile["column"]) == {0, 1}


def test_repeated_column_names_are_refused():
    frame = pd.DataFrame(
        [[1.0, "a", 2.0, 5], [2.0, "b", 3.0, 6], [3.0, "a", 4.0, 7]],
        columns=["x", "s", "x", "s"],
    )
    match = (
        r"Column name\(s\) 'x' \(2 columns\), 's' \(2 columns\) repeated in X\. "
        "Give each column a name of its own, or drop the copies."
    )
    with pytest.raises(ValueError, match=match):
        make_tabular_pipeline(frame, small_dec(n_clusters=2))
    with pytest.raises(ValueError, match=match):
        cluster_profile(frame, [0, 1, 1])
    with pytest.raises(ValueError, match=match):
        cluster_profile(frame, [0, 1, 1], numeric=["x"], categorical=["s"])


PARAMETER = "The '{}' parameter of make_tabular_pipeline must be "


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(categorical=["nope"]), r"Column\(s\) 'nope' not in X"),
        (dict(ignore=["age"], categorical=["age"]), "both categorical and ignored"),
        (dict(missing="drop"), PARAMETER.format("missing") + "a str among"),
        (dict(scale="robust"), PARAMETER.format("scale") + "a str among"),
        (
            dict(max_categories=0),
            PARAMETER.format("max_categories") + r"an int in the range \[1, inf\)",
        ),
        (dict(categorical="age"), PARAMETER.format("categorical") + "an array-like"),
        (dict(ignore=["age", "sex"]), "X has no column left to cluster"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    frame = mixed_frame()[["age", "sex"]]
    with pytest.raises(ValueError, match=match):
        make_tabular_pipeline(frame, small_dec(), **kwargs)


def test_an_array_is_refused():
    with pytest.raises(
        ValueError, match=PARAMETER.format("X") + "an instance of 'pandas"
    ):
        make_tabular_pipeline(np.zeros((3, 2)), small_dec())
    with pytest.raises(ValueError, match="The 'X' parameter of cluster_profile"):
        cluster_profile(np.zeros((3, 2)), [0, 1, 1])


def test_other_scalings():
    frame = mixed_frame()[["age"]]
    filled = frame["age"].fillna(frame["age"].median()).to_numpy()
    minmax = make_tabular_pipeline(frame, small_dec(), scale="minmax")[0]
    scaled = minmax.fit_transform(frame)["age"].to_numpy()
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    np.testing.assert_allclose(
        scaled, (filled - filled.min()) / (filled.max() - filled.min())
    )
    none = make_tabular_pipeline(frame, small_dec(), scale="none")[0]
    np.testing.assert_array_equal(none.fit_transform(frame)["age"], filled)


def test_summary_counts_columns_features_and_imputed_values():
    frame = mixed_frame(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe = make_tabular_pipeline(
            frame, small_dec(), categorical=["stage"], ignore=["label"]
        )
    fit(pipe, frame)
    # age, dose; sex (F, M, X, missing), smoker (2), stage (3), ward (20 + 1).
    assert _summary(pipe, frame) == (
        "2 numeric, 4 categorical -> 32 features; 5 values imputed"
    )


# ------------------------------------------------------------- real table


@pytest.fixture(scope="module")
def flchain():
    """400 rows of scikit-survival's flchain (serum free light chains)."""
    X, y = load_flchain()
    frame = X.assign(death=y["death"].astype(int))
    return frame.sample(400, random_state=0).reset_index(drop=True)


def test_flchain_fits_and_saves_with_its_categories_and_gaps(flchain, tmp_path):
    assert flchain["creatinine"].isna().sum() > 0
    assert flchain["chapter"].isna().sum() > 0
    pipe = make_tabular_pipeline(flchain, small_dec(n_clusters=2), ignore=["death"])
    fit(pipe, flchain)
    columns = {name: cols for name, _, cols in pipe[0].transformers}
    assert columns == {
        "numeric": ["age", "creatinine", "kappa", "lambda"],
        "categorical": ["chapter", "flc.grp", "mgus", "sample.yr", "sex"],
    }
    assert "chapter_missing" in pipe[0].get_feature_names_out()
    n_missing = int(
        flchain["creatinine"].isna().sum() + flchain["chapter"].isna().sum()
    )
    assert _summary(pipe, flchain).endswith(f"; {n_missing} values imputed")

    skdec.save(pipe, tmp_path / "flchain.skdec")
    loaded = skdec.load(tmp_path / "flchain.skdec")
    np.testing.assert_array_equal(
        loaded.predict_proba(flchain), pipe.predict_proba(flchain)
    )


# ---------------------------------------------------------------- profile


def test_profile_values_ranks_and_categories():
    X = pd.DataFrame(
        {
            "age": [30.0, 32.0, np.nan, 70.0, 74.0, 72.0],
            "sex": ["F", "F", None, "M", "M", "F"],
            "code": [1, 1, 2, 2, 2, 2],
        }
    )
    labels = np.array([0, 0, 0, 1, 1, 1])
    profile = cluster_profile(X, labels, categorical=["code"])
    assert list(profile.columns) == [
        "cluster", "size", "share", "feature", "column", "category", "kind",
        "cluster_mean", "cluster_median", "other_mean", "std_difference", "rank",
    ]  # fmt: skip
    one = profile[profile.cluster == 1].set_index("feature")
    assert (one["size"] == 3).all() and (one["share"] == 0.5).all()
    # Numeric: over the observed values; divided by the pooled standard
    # deviation within the two groups (Austin 2009), not the one over all rows.
    assert one.loc["age", "cluster_mean"] == 72.0
    assert one.loc["age", "cluster_median"] == 72.0
    assert one.loc["age", "other_mean"] == 31.0
    pooled = np.sqrt((np.var([70.0, 74.0, 72.0]) + np.var([30.0, 32.0])) / 2)
    assert one.loc["age", "std_difference"] == pytest.approx(41.0 / pooled)
    # Categories: shares, with the missing value as its own category, and
    # p (1 - p) as the variance of each group.
    assert one.loc["sex=M", "cluster_mean"] == pytest.approx(2 / 3)
    assert one.loc["sex=M", "other_mean"] == 0.0
    p_in, p_out = 2 / 3, 0.0
    assert one.loc["sex=M", "std_difference"] == pytest.approx(
        (p_in - p_out) / np.sqrt((p_in * (1 - p_in) + p_out * (1 - p_out)) / 2)
    )
    assert one.loc["sex=missing", "std_difference"] < 0
    assert np.isnan(one.loc["sex=M", "cluster_median"])
    # The gaps of a numeric column: the share of rows without a value.
    assert one.loc["age=missing", "kind"] == "missing"
    assert one.loc["age=missing", "cluster_mean"] == 0.0
    assert one.loc["age=missing", "other_mean"] == pytest.approx(1 / 3)
    assert set(one.index) == {
        "age", "age=missing", "sex=F", "sex=M", "sex=missing", "code=1", "code=2",
    }  # fmt: skip
    # Ranked by the absolute standardised difference, 1 the strongest.
    ranked = one.sort_values("rank")
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5, 6, 7]
    strengths = ranked["std_difference"].abs().to_numpy()
    assert (np.diff(strengths) <= 1e-12).all()
    assert ranked.index[0] == "age"


def test_profile_of_a_column_of_many_levels_takes_no_column_per_level():
    # A column of 1,000 codes over 10,000 rows: before, a float column of
    # 0 and 1 per level, 80 MB here (8 GB for 100,000 rows and 10,000
    # levels), to describe 3 clusters.
    import tracemalloc

    rng = np.random.default_rng(0)
    n, n_levels = 10_000, 1_000
    codes = rng.integers(0, n_levels, n)
    X = pd.DataFrame({"code": [f"z{c:04d}" for c in codes]})
    labels = codes % 3  # each level in one cluster
    tracemalloc.start()
    try:
        profile = cluster_profile(X, labels, categorical=["code"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert len(profile) == 3 * n_levels
    # The shares are those of the level's rows in and out of the cluster.
    row = profile[(profile.cluster == 1) & (profile.category == "z0004")].iloc[0]
    inside = labels == 1
    assert row["cluster_mean"] == np.mean(codes[inside] == 4)
    assert row["other_mean"] == 0.0


def test_profile_says_where_a_numeric_column_has_gaps():
    # A laboratory value missing for most of one cluster: its mean over the
    # observed values alone would look like any other cluster's.
    rng = np.random.default_rng(0)
    value = rng.normal(5.0, 1.0, 60)
    labels = np.repeat([0, 1, 2], 20)
    value[20:38] = np.nan  # 18 of cluster 1's 20 rows
    value[45] = np.nan  # and one of cluster 2's
    X = pd.DataFrame({"value": value, "full": rng.normal(size=60)})
    profile = cluster_profile(X, labels).set_index(["cluster", "feature"])
    gaps = profile.xs("value=missing", level="feature")
    assert (gaps["kind"] == "missing").all() and gaps["category"].isna().all()
    assert (gaps["column"] == "value").all()
    np.testing.assert_allclose(gaps["cluster_mean"], [0.0, 0.9, 0.05])
    np.testing.assert_allclose(gaps["other_mean"], [19 / 40, 1 / 40, 18 / 40])
    p, q = 0.9, 1 / 40
    assert gaps.loc[1, "std_difference"] == pytest.approx(
        (p - q) / np.sqrt((p * (1 - p) + q * (1 - q)) / 2)
    )
    assert gaps["cluster_median"].isna().all()
    # What sets cluster 1 apart is its gaps.
    assert profile.loc[(1, "value=missing"), "rank"] == 1
    # No row for a column without gaps, nor for one without any value.
    X["empty"] = np.nan
    profile = cluster_profile(X, labels, numeric=["value", "full", "empty"])
    assert set(profile["feature"]) == {"value", "value=missing", "full", "empty"}


def test_profile_of_dates_named_as_numbers_counts_their_gaps_as_gaps():
    # Before, a missing date was the number -2**63, averaged with the rest.
    X = pd.DataFrame(
        {
            "when": pd.to_datetime(["2020-01-01", "2020-01-03", None, "2020-01-05"]),
            "took": pd.to_timedelta(["1h", None, "2h", "3h"]),
        }
    )
    profile = cluster_profile(X, [0, 0, 1, 1], numeric=["when", "took"])
    one = profile[profile.cluster == 1].set_index("feature")
    assert one.loc["when=missing", "cluster_mean"] == 0.5
    assert one.loc["took=missing", "other_mean"] == 0.5
    # The means are of the observed values, in pandas' own unit.
    when = X["when"].astype("int64")
    assert one.loc["when", "cluster_mean"] == when[3]
    assert one.loc["when", "other_mean"] == when[[0, 1]].mean()
    took = X["took"].astype("int64")
    assert one.loc["took", "cluster_mean"] == took[[2, 3]].mean()


def test_profile_of_values_near_the_float64_limit_is_that_of_their_scale():
    # Their squares overflow: the standardised difference of values near
    # 1e200 used to come out 0, as if the clusters did not differ.
    values = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 2.0, 4.0])
    labels = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    small = cluster_profile(pd.DataFrame({"v": values}), labels)
    for scale in [1e200, 1e305, -1e300]:
        large = cluster_profile(pd.DataFrame({"v": values * scale}), labels)
        np.testing.assert_allclose(
            large["std_difference"], small["std_difference"] * np.sign(scale)
        )
        np.testing.assert_allclose(large["cluster_mean"], small["cluster_mean"] * scale)
        np.testing.assert_allclose(large["other_mean"], small["other_mean"] * scale)


def test_profile_of_a_fitted_pipeline_on_flchain(flchain):
    pipe = make_tabular_pipeline(flchain, small_dec(n_clusters=2), ignore=["death"])
    labels = fit(pipe, flchain).predict(flchain)
    profile = cluster_profile(flchain, labels, ignore=["death"])
    sizes = profile.groupby("cluster")["size"].first()
    np.testing.assert_array_equal(sizes, np.bincount(labels))
    assert set(profile["column"]) == set(flchain.columns) - {"death"}
    age = profile[profile.feature == "age"].set_index("cluster")
    for cluster in (0, 1):
        inside = flchain["age"][labels == cluster]
        assert age.loc[cluster, "cluster_mean"] == pytest.approx(inside.mean())
        assert age.loc[cluster, "cluster_median"] == pytest.approx(inside.median())


def test_profile_by_a_text_column_of_groups():
    X = pd.DataFrame({"age": [30.0, 32, 70, 74, 72]})
    groups = pd.Series(["young", "young", "old", "old", "old"], dtype=object)
    profile = cluster_profile(X, groups).set_index("cluster")
    assert list(profile.index) == ["old", "young"]
    assert profile.loc["old", "cluster_mean"] == 72.0
    codes = pd.Series([1, 1, 2, 2, 2], dtype="Int64")
    assert list(cluster_profile(X, codes)["cluster"]) == [1, 2]  # not 1.0, 2.0


def test_profile_refuses_two_features_of_one_name():
    # The gaps of "x" and a column named "x=missing" would be one row of a
    # heatmap and two of the profile.
    X = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "x=missing": [1.0, 0, 1, 0]})
    with pytest.raises(ValueError, match="Feature name\\(s\\) 'x=missing' would"):
        cluster_profile(X, [0, 0, 1, 1])


def test_profile_of_no_column_is_empty_with_its_columns():
    profile = cluster_profile(pd.DataFrame(index=range(4)), [0, 0, 1, 1])
    assert profile.empty and "rank" in profile.columns


def test_profile_refuses_labels_of_another_length():
    with pytest.raises(ValueError, match=r"labels has shape \(2,\), but X has 3 rows"):
        cluster_profile(pd.DataFrame({"a": [1, 2, 3]}), [0, 1])


@pytest.mark.parametrize(
    "labels",
    [
        [0, 1, np.nan] * 4,
        pd.Series([0, 1, None] * 4, dtype="Int64"),
        np.array([0, 1, None] * 4, dtype=object),
    ],
    ids=["float", "Int64", "object"],
)
def test_profile_refuses_missing_labels(labels):
    X = pd.DataFrame({"a": np.arange(12.0)})
    with pytest.raises(
        ValueError,
        match=r"labels has 4 missing value\(s\) \(rows 2, 5, 8, 11\): give every "
        "row a cluster, or leave the rows without one out of X and labels.",
    ):
        cluster_profile(X, labels)
    many = np.r_[np.full(7, np.nan), np.zeros(5)]
    with pytest.raises(ValueError, match=r"\(rows 0, 1, 2, 3, 4, \.\.\.\)"):
        cluster_profile(X, many)


def test_profile_takes_the_kinds_it_is_given():
    # New rows where a numeric column holds a text value and another has no
    # value at all: described as the model's numbers, not re-sorted.
    X = pd.DataFrame(
        {
            "creatinine": ["1.2", "<0.5", "0.9", "3.1", "2.9", "3.3"],
            "kappa": np.full(6, np.nan),
            "sex": ["F", "F", "M", "M", "F", "M"],
        }
    )
    labels = [0, 0, 0, 1, 1, 1]
    inferred = cluster_profile(X, labels)
    # By the dtypes: text that differs in every row is an identifier.
    assert set(inferred["column"]) == {"sex"}
    profile = cluster_profile(
        X, labels, numeric=["creatinine", "kappa"], categorical=["sex"]
    )
    one = profile[profile.cluster == 1].set_index("feature")
    assert list(one.sort_index().index) == [
        "creatinine", "creatinine=missing", "kappa", "sex=F", "sex=M",
    ]  # fmt: skip
    assert one.loc["creatinine", "other_mean"] == pytest.approx(1.05)  # "<0.5": NaN
    assert one.loc["creatinine=missing", "other_mean"] == pytest.approx(1 / 3)
    assert one.loc["creatinine", "cluster_median"] == pytest.approx(3.1)
    # No observed value: NaN, ranked last, not a difference of 0.
    assert np.isnan(one.loc["kappa", "cluster_mean"])
    assert np.isnan(one.loc["kappa", "std_difference"])
    assert one.loc["kappa", "rank"] == 5
    with pytest.raises(ValueError, match="'sex' are both numeric and categorical"):
        cluster_profile(X, labels, numeric=["sex"], categorical=["sex"])
    with pytest.raises(ValueError, match=r"Column\(s\) 'age' not in X"):
        cluster_profile(X, labels, numeric=["age"])


def test_a_perfect_separation_has_an_infinite_difference():
    X = pd.DataFrame({"sex": list("FFFMMM"), "age": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    profile = cluster_profile(X, [0, 0, 0, 1, 1, 1]).set_index(["cluster", "feature"])
    assert profile.loc[(0, "sex=F"), "std_difference"] == np.inf
    assert profile.loc[(0, "sex=M"), "std_difference"] == -np.inf
    assert profile.loc[(0, "age"), "std_difference"] == 0.0  # equal constants


@pytest.mark.parametrize(
    "table, name",
    [
        (pd.DataFrame({"sex": list("FMFM"), "sex_F": [1.0, 0, 1, 0]}), "sex_F"),
        (
            pd.DataFrame({"s": ["F", None, "M", "F"], "s_missing": [1.0, 2, 3, 4]}),
            "s_missing",
        ),
        (pd.DataFrame({"a": ["b_c", "x"] * 2, "a_b": ["c", "y"] * 2}), "a_b_c"),
    ],
    ids=["level", "gaps", "two-levels"],
)
def test_one_hot_names_that_clash_are_refused_when_built(table, name):
    # Before: at fit, scikit-learn's "not unique. Please set
    # verbose_feature_names_out=True", a setting inside the pipeline.
    with pytest.raises(ValueError, match=f"would be named '{name}'.*rename one"):
        make_tabular_pipeline(table, KMeans(2, n_init=1))


def test_rare_levels_grouped_as_one_clash_only_by_the_groups_name():
    # A rare level grouped with the others has no feature of its own: its
    # name may be a column's (it fitted before the check, and still does).
    levels = [f"L{i}" for i in range(5)] * 20
    levels[0] = "x"
    noise = np.random.default_rng(0).normal(size=100)
    table = pd.DataFrame({"c": levels, "c_x": noise})
    pipe = make_tabular_pipeline(table, KMeans(2, n_init=1), max_categories=3)
    names = pipe.fit(table)[0].get_feature_names_out().tolist()
    assert "c_x" in names and "c_infrequent_sklearn" in names
    # Of levels tied in frequency, the encoder keeps the first by name: a
    # kept one is checked (b and x tie; x is kept, not b).
    tied = pd.DataFrame(
        {"c": ["a"] * 5 + ["b"] * 3 + ["x"] * 3 + ["y"], "c_x": np.arange(12.0)}
    )
    with pytest.raises(ValueError, match="level 'x' of column 'c'"):
        make_tabular_pipeline(tied, KMeans(2, n_init=1), max_categories=2)
    # The group's own name is checked.
    table = table.rename(columns={"c_x": "c_infrequent_sklearn"})
    with pytest.raises(ValueError, match="rarer levels grouped of column 'c'"):
        make_tabular_pipeline(table, KMeans(2, n_init=1), max_categories=3)


def test_a_column_of_numbers_with_some_text_says_why_it_is_categories():
    # Before, the only word was of too many categories, if any.
    values = ["1.5", "2.5", "<0.5", "3.5", "n/a", "1.5"] * 5
    table = pd.DataFrame({"x": values, "y": list("ab") * 15})
    with pytest.warns(
        UserWarning,
        match=r"column 'x' holds numbers stored as text, "
        r"and 2 other value\(s\) \('<0.5', 'n/a'\): it is read as "
        "categories",
    ):
        pipe = make_tabular_pipeline(table, KMeans(2, n_init=1))
    kinds = {name: columns for name, _, columns in pipe[0].transformers}
    assert kinds == {"categorical": ["x", "y"]}  # categories, as before
    # An identifier of mostly numbers is left out as one, with no word of
    # categories; decimal commas count as numbers.
    ids = pd.DataFrame({"id": [f"{i:04d}" for i in range(19)] + ["A-17"], "y": 1.0})
    with pytest.warns(UserWarning) as caught:
        make_tabular_pipeline(ids, KMeans(2, n_init=1))
    assert not any("read as categories" in str(w.message) for w in caught)
    commas = pd.DataFrame({"x": ["1,5", "2,5", "<0,5"] * 10, "y": 1.0})
    with pytest.warns(UserWarning, match=r"1 other value\(s\) \('<0,5'\).*decimal"):
        make_tabular_pipeline(commas, KMeans(2, n_init=1))
    # Mostly text with a number or two: no such word.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_tabular_pipeline(
            pd.DataFrame({"c": ["a", "b", "1"] * 10}), KMeans(2, n_init=1)
        )


@pytest.mark.parametrize(
    "frame",
    [
        mixed_frame(200),
        csv_like_frame(),
        pd.DataFrame({"x": ["1.5", "2.5", "<0.5", "3.5", "n/a", "1.5"] * 5}),
    ],
    ids=["mixed", "csv-like", "numbers-and-text"],
)
def test_pyarrow_backed_columns_get_the_kinds_of_numpy_backed_ones(frame):
    # pd.to_numeric of pyarrow strings writes text that is not a number as
    # NaN, not as a gap: before, every text column of such a frame (as
    # read_csv(dtype_backend="pyarrow") gives it) was taken for numbers
    # stored as text, and the imputer dropped it as all missing.
    pytest.importorskip("pyarrow")
    arrow = frame.convert_dtypes(dtype_backend="pyarrow")
    assert any(isinstance(t, pd.ArrowDtype) for t in arrow.dtypes)
    assert _kinds_and_warnings(arrow) == _kinds_and_warnings(frame)
    # And the features are the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = [
            make_tabular_pipeline(table, small_dec(n_clusters=2))[0].fit_transform(
                table
            )
            for table in (frame, arrow)
        ]
    np.testing.assert_array_equal(*features)


def test_the_index_that_to_csv_writes_is_left_out(tmp_path):
    # Read back without index_col=0, the index is a numeric column named
    # 'Unnamed: 0'; before, it was a feature, so that a row's cluster
    # depended on its place in the file.
    frame = mixed_frame(60).drop(columns=["id"]).iloc[7:]  # index 7, 8, ...
    frame.to_csv(tmp_path / "t.csv")
    read = pd.read_csv(tmp_path / "t.csv")
    assert read.columns[0] == "Unnamed: 0"
    kinds, messages = _kinds_and_warnings(read)
    assert kinds == _kinds_and_warnings(frame)[0]
    assert (
        "column 'Unnamed: 0' is left out of the features: it is unnamed and "
        "numbers the rows, as the index that DataFrame.to_csv writes (read the "
        "file with index_col=0)." in messages
    )
    # A named column of row numbers, or an unnamed one with repeated or
    # fractional values, stays a feature.
    for other in (
        read.rename(columns={"Unnamed: 0": "visit"}),
        read.assign(**{"Unnamed: 0": np.arange(len(read)) // 2}),
        read.assign(**{"Unnamed: 0": np.arange(len(read)) + 0.5}),
    ):
        assert other.columns[0] in _kinds_and_warnings(other)[0]["numeric"]


def test_a_column_of_running_numbers_is_warned_of_as_a_possible_identifier():
    # A patient number of 1 to 30, shuffled: before, a feature without a
    # word, so that the clusters could follow the order of admission.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"patient": rng.permutation(30) + 1, "age": rng.normal(50, 10, 30).round()}
    )
    kinds, messages = _kinds_and_warnings(frame)
    assert kinds == {"numeric": ["patient", "age"]}  # still used: a warning only
    assert messages == [
        "column 'patient' holds a different whole number in each of its 30 rows, "
        "1 to 30 without a gap, as a row number or an identifier does: it is "
        "used as a number. If it identifies the rows, leave it out (ignore of "
        "make_tabular_pipeline, --ignore or --id-column of the command line)."
    ]
    assert _kinds_and_warnings(frame, ignore=["patient"]) == ({"numeric": ["age"]}, [])
    # Not: counts all different but with gaps between them, a run with a
    # repeat or a gap, fractions, or fewer than 20 rows.
    for patient in (
        rng.permutation(30) * 3,
        np.r_[1, np.arange(1, 30)],
        np.r_[np.arange(1, 30), 31],
        np.arange(30) + 0.5,
    ):
        assert _kinds_and_warnings(frame.assign(patient=patient))[1] == []
    assert _kinds_and_warnings(frame.iloc[:19])[1] == []


def test_numbers_written_with_a_comma_say_why_they_are_not_numbers():
    # As a CSV file separated by commas gives them, quoted: before, such a
    # column became categories without a word (a comma-number counted as a
    # number, so it was not "mostly numbers"), or was left out as "an
    # identifier?" when every row had its own.
    table = pd.DataFrame(
        {
            "x": ["1,5", "2,25", "3"] * 10,
            "y": [f"{i},{i * 7 % 1000:03d}" for i in range(30)],
        }
    )
    kinds, messages = _kinds_and_warnings(table)
    assert kinds == {"categorical": ["x"]}
    assert messages == [
        "column 'x' holds numbers written with a comma ('1,5', '2,25'): it is "
        "read as categories. To read it as numbers, write a decimal comma as a "
        "point and leave out a comma between thousands (the command line reads "
        "decimal commas from a file separated by semicolons or tabs).",
        "column 'y' is left out of the features: it holds numbers written with "
        "a comma ('0,000', '1,007', '2,014', ...), a different one in each row; "
        "to use it, write a decimal comma as a point and leave out a comma "
        "between thousands (the command line reads decimal commas from a file "
        "separated by semicolons or tabs).",
    ]


def test_numbers_with_a_few_other_values_each_in_its_own_row_say_what_they_are():
    # A lab value with one "<0.5", a different value in every row: before,
    # it was left out as "an identifier?" without naming "<0.5"; an
    # identifier such as "1008-B" among numbers reads alike, so both are
    # said. With one value repeated, it is read as categories, as the docs
    # say.
    values = [f"{v:.3f}" for v in np.linspace(0.6, 2.5, 40)]
    values[5] = "<0.5"
    age = np.arange(40.0) % 30 + 20  # ages, some repeated
    kinds, messages = _kinds_and_warnings(pd.DataFrame({"age": age, "creat": values}))
    assert kinds == {"numeric": ["age"]}
    assert messages == [
        "column 'creat' is left out of the features: it has a different value "
        "in each of its 40 rows (an identifier?); if it is a measurement, it "
        "holds numbers stored as text, and 1 other value(s) ('<0.5'): to use "
        "it, write those as numbers or leave them empty."
    ]
    values[6] = values[7]
    kinds, messages = _kinds_and_warnings(pd.DataFrame({"age": age, "creat": values}))
    assert kinds == {"numeric": ["age"], "categorical": ["creat"]}
    assert messages[0] == (
        "column 'creat' holds numbers stored as text, and 1 other value(s) "
        "('<0.5'): it is read as categories. To read it as numbers, write "
        "those as numbers or leave them empty."
    )


def test_unseen_categories_skip_a_categorical_part_of_another_layout():
    # A hand-built pipeline whose categorical part is a bare encoder: not
    # make_tabular_pipeline's layout, so not checked (before, indexing the
    # part as a Pipeline failed).
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skdec.tables import _unseen_categories

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": list("abab")})
    parts = [
        ("numeric", StandardScaler(), ["x"]),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), ["c"]),
    ]
    pipe = Pipeline(
        [("preprocess", ColumnTransformer(parts)), ("cluster", KMeans(2, n_init=1))]
    )
    pipe.fit(frame)
    assert _unseen_categories(pipe, frame.assign(c=list("zzab"))) == {}


def test_numbers_in_an_object_column_are_numeric():
    # As DataFrame(object_array), astype(object) or a database's NUMERIC
    # column (decimals) give them: before, such a column was one-hot encoded
    # as categories, or left out as an identifier when every row had its
    # own value.
    from decimal import Decimal

    rng = np.random.default_rng(0)
    floats = rng.normal(size=30)
    table = pd.DataFrame(
        {
            "x": pd.Series(floats, dtype=object),
            "k": pd.Series(rng.integers(0, 50, 30), dtype=object),
            "mixed": pd.Series([1, 2.5, None] * 10, dtype=object),
            "price": [Decimal(f"{v:.2f}") for v in floats],
            "flag": pd.Series([True, False, None] * 10, dtype=object),
            "word": ["a", "b", "c"] * 10,
        }
    )
    kinds, messages = _kinds_and_warnings(table)
    assert kinds == {
        "numeric": ["x", "k", "mixed", "price"],
        "categorical": ["flag", "word"],
    }
    assert messages == []
    # As the same columns with numeric dtypes: the same features.
    typed = table.assign(
        x=floats, k=table["k"].astype(np.int64), mixed=[1, 2.5, np.nan] * 10
    )
    typed["price"] = typed["price"].astype(float)
    assert _kinds_and_warnings(typed)[0] == kinds
    features = [
        make_tabular_pipeline(t, KMeans(2, n_init=1))[0].fit_transform(t)
        for t in (table, typed)
    ]
    np.testing.assert_array_equal(*features)
    profile = cluster_profile(table, [0, 1] * 15)
    assert set(profile.loc[profile.kind == "numeric", "feature"]) == {
        "x", "k", "mixed", "price",
    }  # fmt: skip


@pytest.mark.parametrize("as_names", [pd.Index, np.array, pd.Series, tuple])
def test_column_names_are_taken_as_any_array_like(as_names):
    # Before, an Index, an array or a Series of more than one name raised
    # "The truth value of ... is ambiguous" (from `categorical or ()`).
    table = pd.DataFrame(
        {"code": [1, 2, 3] * 4, "size": [1, 2, 3, 4] * 3, "id": range(12)}
    )
    kinds, _ = _kinds_and_warnings(
        table, categorical=as_names(["code", "size"]), ignore=as_names(["id"])
    )
    assert kinds == {"categorical": ["code", "size"]}
    labels = [0, 1] * 6
    by_kind = cluster_profile(
        table, labels, numeric=as_names(["id"]), categorical=as_names(["code"])
    )
    assert set(by_kind["column"]) == {"id", "code"}
    inferred = cluster_profile(
        table, labels, categorical=as_names(["code"]), ignore=as_names(["id", "size"])
    )
    assert set(inferred["feature"]) == {"code=1", "code=2", "code=3"}


@pytest.mark.parametrize("missing", ["impute", "error"])
def test_infinite_values_are_refused_naming_their_columns(missing):
    # Before: the imputer's "Input X contains infinity" at fit, naming no
    # column, and a profile that ranked an infinite mean first with an
    # infinite difference, as if both groups were constant.
    table = pd.DataFrame(
        {
            "a": [1.0, 2, np.inf, 4, 5, -np.inf],
            "b": ["1", "inf", "3", "4", "5", "6"],  # numbers as text
            "c": [1.0, 2, 3, 4, 5, 6],
            "s": list("xyxyxy"),
        }
    )
    with pytest.warns(UserWarning, match="column 'b' holds numbers stored as text"):
        pipe = make_tabular_pipeline(table, KMeans(2, n_init=1), missing=missing)
    remedy = "" if missing == "error" else r", or with missing values \(NaN\)"
    match = (
        r"Infinite values in column\(s\) 'a' \(2\), 'b' \(1\)\. Replace them "
        rf"with numbers{remedy}\.$"
    )
    with pytest.raises(ValueError, match=match):
        pipe.fit(table)
    finite = table.replace([np.inf, -np.inf, "inf"], [7.0, 8.0, "2"])
    pipe.fit(finite)
    with pytest.raises(ValueError, match=r"column\(s\) 'a' \(2\), 'b' \(1\)"):
        pipe.predict(table)
    with pytest.raises(ValueError, match=r"Infinite values in column\(s\) 'a' \(2\)"):
        cluster_profile(table[["a", "c"]], [0, 1] * 3)


def test_numbers_with_commas_between_thousands_are_named_as_such():
    # Before, "1,234,567" (two commas) was not read as a number written with
    # a comma: the column was said to hold numbers stored as text and other
    # values, with the advice to write its decimal commas as points.
    table = pd.DataFrame(
        {
            "pop": ["1,234,567", "2,500,000", "750", "3,100,200.5", "12,000"] * 4,
            "x": ["1,234,567", "12,000", "750", "n/a", "980"] * 4,
        }
    )
    kinds, messages = _kinds_and_warnings(table)
    assert kinds == {"categorical": ["pop", "x"]}
    assert messages == [
        "column 'pop' holds numbers written with a comma ('1,234,567', "
        "'2,500,000', '3,100,200.5', ...): it is read as categories. To read it "
        "as numbers, write a decimal comma as a point and leave out a comma "
        "between thousands (the command line reads decimal commas from a file "
        "separated by semicolons or tabs).",
        "column 'x' holds numbers stored as text, and 1 other value(s) ('n/a'): "
        "it is read as categories. To read it as numbers, write those as numbers "
        "or leave them empty, and write a decimal comma as a point and leave out "
        "a comma between thousands (the command line reads decimal commas from a "
        "file separated by semicolons or tabs).",
    ]


def test_profile_category_is_none_beside_the_categories():
    # As the docstring says: before, pandas 3 read the column as text, with
    # NaN for the numeric features, whenever a category was described.
    X = pd.DataFrame({"age": [30, 35, 70, 75, 72], "sex": list("FFMFM")})
    for table in (X, X[["age"]]):
        profile = cluster_profile(table, [0, 0, 1, 1, 1])
        assert profile["category"].dtype == object
        numeric = profile.loc[profile.kind == "numeric", "category"]
        assert all(value is None for value in numeric)
    categories = cluster_profile(X, [0, 0, 1, 1, 1]).query("kind == 'categorical'")
    assert sorted(set(categories["category"])) == ["F", "M"]
