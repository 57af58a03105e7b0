"""Tables as they come: mixed columns, missing values, and what each cluster is.

:func:`make_tabular_pipeline` builds, for a :class:`pandas.DataFrame`, the
scikit-learn pipeline that the ``skdec fit`` command fits: numeric columns
imputed with their median and scaled, text, boolean and category columns
imputed with a ``"missing"`` category and one-hot encoded, then the
clusterer. :func:`cluster_profile` describes the clusters in the table's own
columns.
"""

import collections
import re
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from skdec import _warnings
from skdec.metrics import (
    _label_values,
    _missing_mask,
    _python_value,
    _unique_labels,
)

__all__ = ["cluster_profile", "make_tabular_pipeline"]

MISSING = "missing"
# A value that reads as the gaps' category, bare or in any number of pairs of
# quotes (missing, "missing", ...): quoted once more, it stays apart from the
# gaps (see _apart_from_gaps).
_LIKE_GAPS = re.compile(f'("*){re.escape(MISSING)}\\1')
# A date or timestamp as text has a year of four digits and a month: a name,
# or the middle one of three numbers (2021-03-01, 01/03/2021, 1.3.2021).
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_MONTH = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
    r"|(?<!\d)\d{1,4}([-/.])\d{1,2}\1\d{1,4}(?!\d)",
    re.IGNORECASE,
)
_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


# ---------------------------------------------------------------- columns


def _as_numbers(X, missing="impute"):
    """The columns of ``X`` as float64; text that is not a number is missing,
    and infinite values are refused, naming their columns.

    Used inside the pipeline (and so named in model files): keep its name.
    """
    frame = pd.DataFrame(X)
    values = _numbers(frame)
    infinite = np.isinf(values)
    if infinite.any():
        gaps = "" if missing == "error" else ", or with missing values (NaN)"
        raise ValueError(
            f"Infinite values in column(s) {_counted(frame, infinite)}. "
            f"Replace them with numbers{gaps}."
        )
    if missing == "error":
        _refuse_missing(frame, np.isnan(values))
    return values


def _numbers(frame):
    """The columns of the DataFrame ``frame`` as float64, as they are: text
    that is not a number is NaN, and infinite values stay."""
    numbers = frame.apply(_number_column)
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _number_column(values):
    """One column as numbers; dates and durations as the whole numbers that
    pandas holds them as (in their unit, dates since 1970), a missing one
    (NaT) as NaN, where ``pd.to_numeric`` gives -2**63."""
    if values.dtype.kind in "mM":
        return pd.to_numeric(values).where(values.notna())
    return pd.to_numeric(values, errors="coerce")


def _category(value):
    """One value as a text category (NaN if missing); the rule that
    :func:`_as_categories` applies to whole columns."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return np.nan
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        # An integer code read as a float (a column with gaps): 2.0 is "2".
        return str(int(value))
    return _apart(str(value))


def _apart(text):
    """``text``, quoted once more if it reads as the gaps' category:
    ``"missing"`` as ``'"missing"'``, which as ``'""missing""'``, so that no
    value is read as a gap and no two values are read as one."""
    return f'"{text}"' if _LIKE_GAPS.fullmatch(text) else text


def _apart_from_gaps(texts):
    """:func:`_apart` over an object array of str, once per distinct value
    that holds the gaps' name."""
    like = [t for t in pd.unique(texts) if MISSING in t and _apart(t) != t]
    if not like:
        return texts
    quoted = texts.copy()
    for text in like:
        quoted[texts == text] = _apart(text)
    return quoted


def _category_column(column):
    """A column's values as text categories, missing values as NaN."""
    missing = column.isna().to_numpy()
    result = np.full(len(column), np.nan, dtype=object)
    present = column[~missing]
    if column.dtype.kind == "f":  # as Python floats, whatever the width
        numbers = present.to_numpy(dtype=np.float64)
    else:
        numbers = None
        values = present.to_numpy(dtype=object)
        kind = pd.api.types.infer_dtype(values, skipna=False)
        if kind in ("floating", "mixed-integer-float"):
            numbers = values.astype(np.float64)
        elif kind not in ("string", "integer", "boolean"):  # mixed: one by one
            result[~missing] = [_category(v) for v in values]
            return result
    if numbers is None:
        result[~missing] = _apart_from_gaps(values.astype(str).astype(object))
        return result
    # An integer code read as a float (a column with gaps): 2.0 is "2".
    whole = np.isfinite(numbers) & (numbers == np.round(numbers))
    text = numbers.astype(str).astype(object)
    small = whole & (np.abs(numbers) < 2**63)
    text[small] = numbers[small].astype(np.int64).astype(str)
    text[whole & ~small] = [str(int(v)) for v in numbers[whole & ~small]]
    result[~missing] = text
    return result


def _as_categories(X, missing="impute"):
    """The columns of ``X`` as text categories, missing values as NaN.

    Used inside the pipeline (and so named in model files): keep its name.
    """
    frame = pd.DataFrame(X)
    values = np.empty(frame.shape, dtype=object)
    for j in range(frame.shape[1]):
        values[:, j] = _category_column(frame.iloc[:, j])
    if missing == "error":
        _refuse_missing(frame, pd.isna(values))
    return values


def _refuse_missing(frame, is_missing, remedy="let them be imputed (missing='impute')"):
    if is_missing.any():
        raise ValueError(
            f"Missing values in column(s) {_counted(frame, is_missing)}. Drop "
            f"those rows, or {remedy}."
        )


def _counted(frame, mask):
    """The columns of ``frame`` where the boolean array ``mask`` has a True,
    each with how many: ``"'age' (2), 'sex' (1)"``."""
    return ", ".join(
        f"'{column}' ({int(n)})"
        for column, n in zip(frame.columns, mask.sum(axis=0), strict=True)
        if n
    )


def _refuse_gaps(pipeline, X, remedy):
    """Refuse the gaps of every column that a :func:`make_tabular_pipeline`
    pipeline takes from ``X``, in one error: the pipeline's own parts each
    refuse their own columns, the numeric ones first."""
    numeric, categorical = _pipeline_columns(pipeline)
    columns = [*numeric, *categorical]
    gaps = np.hstack(
        [
            np.isnan(_as_numbers(X[numeric])),
            pd.isna(_as_categories(X[categorical])),
        ]
    )
    _refuse_missing(X[columns], gaps, remedy)


def _holds_numbers(values):
    """Whether the values present in an object column are all numbers (not
    text, not booleans): Python or NumPy integers and floats, or decimals,
    as an object array, ``DataFrame.astype(object)`` or a database's
    ``NUMERIC`` column give them."""
    present = values.dropna()
    return len(present) > 0 and pd.api.types.infer_dtype(present) in {
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
    }


def _present_text(values):
    """The values of a column that are there, if they are all text; else
    None."""
    present = values.dropna()
    if len(present) == 0 or pd.api.types.infer_dtype(present) != "string":
        return None
    return present


def _read_as_numbers(texts):
    """Which of the strings ``texts`` (a Series without gaps) are numbers, as
    a boolean Series, read as the pipeline reads them (:func:`_as_numbers`).
    ``pd.to_numeric`` of pyarrow strings gives a pyarrow float column that
    writes text that is not a number as NaN, not as a gap; a NumPy float
    array makes it a gap either way."""
    return pd.Series(~np.isnan(_numbers(texts.to_frame())[:, 0]), index=texts.index)


def _is_number_text(values):
    present = _present_text(values)
    return present is not None and bool(_read_as_numbers(present).all())


#: A number written with a decimal comma (``1,5`` or ``-0,25``), as a pattern
#: for ``Series.str.fullmatch``.
COMMA_DECIMAL = r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*"
# A number with commas between groups of three digits (1,234,567.5), which
# COMMA_DECIMAL does not match from the second comma on.
_COMMA_THOUSANDS = r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*"


def _numbers_in_text(values):
    """Of a text column whose values are all numbers, some written with a
    comma (``1,5``, ``2,750``), or mostly numbers but not all (``<0.5``,
    ``n/a``): ``(what it holds, how to make it numbers, whether every value
    is a number)``; else None."""
    present = _present_text(values)
    if present is None:
        return None
    # A number with a decimal comma (1,5) counts as one, but only the command
    # line reads it so, from a file separated by semicolons or tabs.
    comma = present.str.fullmatch(COMMA_DECIMAL).astype(bool) | present.str.fullmatch(
        _COMMA_THOUSANDS
    ).astype(bool)
    numbers = _read_as_numbers(present) | comma
    if numbers.all() and comma.any():
        examples = _examples(pd.unique(present[comma]))
        return f"numbers written with a comma ({examples})", _COMMA_ADVICE, True
    if numbers.all() or numbers.mean() < 0.5:
        return None
    others = pd.unique(present[~numbers])
    advice = "write those as numbers or leave them empty"
    if comma.any():
        advice += ", and " + _COMMA_ADVICE
    holds = (
        f"numbers stored as text, and {len(others)} other value(s) "
        f"({_examples(others)})"
    )
    return holds, advice, False


def _numbers_among_text(values):
    """What to say of a text column of :func:`_numbers_in_text`, which is
    read as categories; else None."""
    found = _numbers_in_text(values)
    if found is None:
        return None
    holds, advice, _ = found
    return f"holds {holds}: it is read as categories. To read it as numbers, {advice}."


_COMMA_ADVICE = (
    "write a decimal comma as a point and leave out a comma between thousands "
    "(the command line reads decimal commas from a file separated by "
    "semicolons or tabs)"
)


def _examples(values):
    """The first three of ``values`` as text, ``...`` if there are more."""
    return ", ".join(map(repr, values[:3])) + (", ..." if len(values) > 3 else "")


def _is_date_text(values):
    """Whether every value of a text column is a date or a timestamp.

    A value is one when it has a year of four digits and a month (a name,
    or the middle one of three numbers) and pandas parses all of it as a
    date: ``"2021-03-01"``, ``"2021-03-01 10:00:00"``, ``"01/03/2021"``,
    ``"1 March 2021"``, ``"May 2021"``. Numbers (``"20210301"``, ``"2021"``),
    words pandas also reads as dates (``"May"``, ``"today"``) and text that
    merely holds a year (``"2021 T"``, ``"Q1 2021"``) are not.
    """
    present = _present_text(values)
    if present is None:
        return False
    texts = pd.Series(pd.unique(present.to_numpy(dtype=object)), dtype=object)
    if not all(_YEAR.search(text) and _MONTH.search(text) for text in texts):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' advice on formats
        try:
            # ISO 8601 first (fast), then the other forms value by value.
            parsed = pd.to_datetime(texts, errors="coerce", format="ISO8601", utc=True)
            if parsed.isna().any():
                parsed = pd.to_datetime(
                    texts[parsed.isna()], errors="coerce", format="mixed", utc=True
                )
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().all())


def _names(columns):
    """Column names given as a list, a pandas Index, an array or None, as a
    list."""
    return [] if columns is None else list(columns)


def _check_column_lists(X, first, second, both_kinds):
    """Refuse names in ``first`` or ``second`` that are not columns of X, and
    names in both lists (which are ``both_kinds``, as the message says)."""
    unknown = [c for c in first + second if c not in X.columns]
    if unknown:
        raise ValueError(
            f"Column(s) {', '.join(map(repr, unknown))} not in X. Columns: "
            f"{', '.join(map(str, X.columns))}."
        )
    both = sorted(set(first) & set(second), key=str)
    if both:
        raise ValueError(
            f"Column(s) {', '.join(map(repr, both))} are both {both_kinds}."
        )


def _check_column_names(X, text):
    """Refuse column names that ``X`` repeats and, if ``text``, names that are
    not text (which scikit-learn's column selection reads as positions)."""
    repeated = X.columns[X.columns.duplicated()].unique()
    if len(repeated):
        named = ", ".join(
            f"{column!r} ({int((X.columns == column).sum())} columns)"
            for column in repeated
        )
        raise ValueError(
            f"Column name(s) {named} repeated in X. Give each column a name of "
            "its own, or drop the copies."
        )
    if text:
        other = [c for c in X.columns if not isinstance(c, str)]
        if other:
            named = ", ".join(f"{c!r} ({type(c).__name__})" for c in other[:5])
            more = f" and {len(other) - 5} more" if len(other) > 5 else ""
            raise ValueError(
                f"Column names must be text; X has {named}{more}. Name the "
                "columns, for example X.columns = X.columns.astype(str), and "
                "give the same names to the rows to cluster later."
            )


def _is_written_index(column, values):
    """Whether a numeric column is the index of a table that pandas wrote
    with ``to_csv`` and read back without ``index_col``: named as pandas
    names a column without a name (``"Unnamed: 0"``), with a different
    whole number in every row."""
    if not (isinstance(column, str) and re.fullmatch(r"Unnamed: \d+", column)):
        return False
    return _distinct_whole(values.to_numpy(dtype=np.float64, na_value=np.nan))


def _distinct_whole(numbers):
    """Whether the float64 array ``numbers`` holds a different whole number
    in each place (none missing, none infinite)."""
    return bool(
        np.isfinite(numbers).all()
        and (numbers == np.round(numbers)).all()
        and np.unique(numbers).size == numbers.size
    )


# From this many rows on, a column of different whole numbers that run
# without a gap is taken for a row number or an identifier (warned of, not
# left out): a run of 20 is rare among measurements (counts, sizes, sums).
_RUNNING_ROWS = 20


def _numbers_the_rows(values):
    """Whether the numeric column ``values`` holds a different whole number
    in each row, together a run without a gap (1 to n in any order, say),
    from :data:`_RUNNING_ROWS` rows on; ``(first, last)`` if so, else None."""
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if numbers.size < _RUNNING_ROWS:
        return None
    low, high = numbers.min(), numbers.max()  # NaN where a value is missing
    if high - low == numbers.size - 1 and _distinct_whole(numbers):
        return int(low), int(high)
    return None


def _column_kinds(
    X, categorical=(), ignore=(), max_categories=20, missing="impute", warn=True
):
    """Split the columns of ``X`` into numeric and categorical ones.

    Returns ``numeric, categorical, left_out``; ``left_out`` maps each column
    that is not used to the reason. Warns about columns left out, numbers
    stored as text, text columns of mostly numbers read as categories, and
    categorical columns of more than ``max_categories`` categories, the
    ``"missing"`` one included when ``missing="impute"``.
    """
    categorical, ignore = _names(categorical), _names(ignore)
    _check_column_lists(X, categorical, ignore, "categorical and ignored")
    messages = []
    numeric_columns, categorical_columns, left_out = [], [], {}
    for column in X.columns:
        if column in ignore:
            continue
        values = X[column]
        if values.isna().all():
            left_out[column] = "it has no values"
            continue
        kind = values.dtype.kind
        declared = isinstance(values.dtype, pd.CategoricalDtype)
        # An object column of text with gaps is not a string dtype to pandas;
        # _is_number_text and _is_date_text look at the values present.
        is_text = not declared and (
            pd.api.types.is_string_dtype(values) or values.dtype == object
        )
        if column in categorical:
            categorical_columns.append(column)
        elif kind in "iuf" and _is_written_index(column, values):
            left_out[column] = (
                "it is unnamed and numbers the rows, as the index that "
                "DataFrame.to_csv writes (read the file with index_col=0)"
            )
        elif kind in "iuf" and not pd.api.types.is_bool_dtype(values):
            numeric_columns.append(column)
            run = _numbers_the_rows(values)
            if run:
                messages.append(
                    f"column '{column}' holds a different whole number in each "
                    f"of its {len(values)} rows, {run[0]} to {run[1]} without a "
                    "gap, as a row number or an identifier does: it is used as "
                    "a number. If it identifies the rows, leave it out (ignore "
                    "of make_tabular_pipeline, --ignore or --id-column of the "
                    "command line)."
                )
        elif kind == "O" and _holds_numbers(values):
            numeric_columns.append(column)
        elif kind == "M":
            left_out[column] = f"it holds dates (dtype {values.dtype})"
        elif kind in "mc":
            left_out[column] = f"its dtype {values.dtype} is neither numbers nor text"
        elif is_text and _is_number_text(values):
            numeric_columns.append(column)
            messages.append(
                f"column '{column}' holds numbers stored as text; they are read "
                "as numbers."
            )
        elif is_text and _is_date_text(values):
            left_out[column] = "it holds dates (as text)"
        else:  # text, boolean, category
            n_levels = values.nunique()
            # Of one or two rows every column has a different value in each;
            # from three values on, all different is an identifier.
            if n_levels == values.notna().sum() and n_levels > 2:
                with_value = " with a value" if values.isna().any() else ""
                left_out[column] = (
                    f"it has a different value in each of its {n_levels} "
                    f"rows{with_value} (an identifier?)"
                )
                found = _numbers_in_text(values) if is_text else None
                if found:
                    holds, advice, all_numbers = found
                    if all_numbers:  # not an identifier: numbers unread
                        left_out[column] = (
                            f"it holds {holds}, a different one in each row; "
                            f"to use it, {advice}"
                        )
                    else:  # an identifier, or a measurement with a '<0.5'
                        left_out[column] += (
                            f"; if it is a measurement, it holds {holds}: to "
                            f"use it, {advice}"
                        )
                continue
            categorical_columns.append(column)
            among = _numbers_among_text(values) if is_text else None
            if among:
                messages.append(f"column '{column}' {among}")
        if column not in categorical_columns:
            continue
        imputed = missing == "impute" and bool(values.isna().any())
        n_categories = values.nunique() + imputed
        if n_categories > max_categories:
            with_missing = f" (with '{MISSING}')" if imputed else ""
            messages.append(
                f"column '{column}' has {n_categories} categories{with_missing}: "
                f"the {max_categories} most frequent are kept and the others "
                f"grouped as one (max_categories={max_categories})."
            )
    for column, reason in left_out.items():
        messages.append(f"column '{column}' is left out of the features: {reason}.")
    if warn:
        for message in messages:
            _warnings.warn(message, UserWarning)
    return numeric_columns, categorical_columns, left_out


@validate_params(
    {
        "X": [pd.DataFrame],
        "estimator": [HasMethods(["fit"])],
        "categorical": ["array-like", None],
        "ignore": ["array-like", None],
        "missing": [StrOptions({"impute", "error"})],
        "scale": [StrOptions({"standard", "minmax", "none"})],
        "max_categories": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_tabular_pipeline(
    X,
    estimator,
    *,
    categorical=None,
    ignore=None,
    missing="impute",
    scale="standard",
    max_categories=20,
):
    """Build the preprocessing of a table and the clusterer as one Pipeline.

    The columns of ``X`` are sorted by their dtype. Numeric columns (and text
    columns whose every value is a number, and object columns of numbers)
    have missing values replaced by the column's median and are scaled;
    infinite values are refused. Text, boolean and category columns,
    and the integer-coded ones named in ``categorical``, have missing values
    replaced by a ``"missing"`` category and are one-hot encoded (a value
    that is itself ``"missing"`` is read as ``'"missing"'``, quoted, to stay
    apart from the gaps); categories not seen in :term:`fit` are encoded as
    the grouped rare categories when the column has them, else as zeros, so
    every row gets a cluster (silently; ``skdec predict`` names them).
    Columns with no value, columns of dates
    (datetime dtypes, or text whose every value is a date or a timestamp
    with a four-digit year and a month, such as ``"2021-03-01"`` or
    ``"2021-03-01 10:00:00"``), and text, boolean or category columns with a
    different value in every row that has one (identifiers; from three such
    rows on, since in a table of one or two rows every column would be one)
    are left out, with a warning; so is the index that ``DataFrame.to_csv``
    writes, read back as a column (named ``"Unnamed: 0"`` by pandas, a
    different whole number in each row). A named numeric column that holds
    a different whole number in each of 20 rows or more, together a run
    without a gap (row numbers, many identifiers), stays a feature, with a
    warning to put it in ``ignore`` if it identifies the rows.

    Read more in the :ref:`User Guide <tables>`.

    Parameters
    ----------
    X : pandas.DataFrame
        The table to be fitted, whose dtypes and values decide the kind of
        each column (numbers or dates written as text, identifiers, columns
        without values): give the whole table, as rows of it may decide
        otherwise. Its column names must be text, each its own. The pipeline
        is returned unfitted.
    estimator : estimator
        The clusterer, for example a :class:`~skdec.DECClusterer`.
    categorical : array-like of str, default=None
        Numeric columns to treat as categories (integer codes).
    ignore : array-like of str, default=None
        Columns that are not features, such as an identifier or true labels.
    missing : {"impute", "error"}, default="impute"
        ``"impute"`` replaces missing values as above; ``"error"`` makes the
        pipeline refuse rows with missing values, naming the columns.
    scale : {"standard", "minmax", "none"}, default="standard"
        Scaling of the numeric columns: :class:`~sklearn.preprocessing.StandardScaler`,
        :class:`~sklearn.preprocessing.MinMaxScaler` or none. One-hot columns
        are not scaled.
    max_categories : int, default=20
        Most categories kept per categorical column; the rarer ones are
        grouped into one (with a warning).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``Pipeline([("preprocess", ColumnTransformer(...)), ("cluster",
        estimator)])``. The column transformer's ``"numeric"`` and
        ``"categorical"`` parts list the columns used.

    Raises
    ------
    ValueError
        If a parameter is invalid (``X`` not a DataFrame, for one), a column
        name of ``X`` is not text or is repeated, names in ``categorical`` or
        ``ignore`` are not columns of ``X``, no column is left to cluster, or
        a one-hot feature would have the name of a column (``sex_F`` beside
        ``sex``).

    See Also
    --------
    cluster_profile : What distinguishes each cluster.
    skdec.save : Save the fitted pipeline safely.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skdec import DECClusterer
    >>> from skdec.tables import make_tabular_pipeline
    >>> X = pd.DataFrame({"age": [61, 70, np.nan, 45, 52, 66],
    ...                   "sex": ["F", "M", "F", None, "M", "F"]})
    >>> dec = DECClusterer(2, hidden_layer_sizes=(4,), n_components=2,
    ...                    pretrain_epochs=1, max_iter=0, random_state=0)
    >>> pipe = make_tabular_pipeline(X, dec).fit(X)
    >>> pipe[0].get_feature_names_out().tolist()
    ['age', 'sex_F', 'sex_M', 'sex_missing']
    >>> pipe.predict(X).shape
    (6,)
    """
    _check_column_names(X, text=True)
    numeric, categories, _ = _column_kinds(
        X, categorical, ignore, max_categories, missing
    )
    _check_feature_names(X, numeric, categories, max_categories, missing)
    if not numeric and not categories:
        raise ValueError(
            "X has no column left to cluster: "
            f"{', '.join(map(str, X.columns)) or 'no columns'}."
        )
    parts = []
    if numeric:
        scale = _SCALERS[scale]() if scale in _SCALERS else "passthrough"
        steps = _converted(_as_numbers, missing, SimpleImputer(strategy="median"))
        parts.append(("numeric", Pipeline([*steps, ("scale", scale)]), numeric))
    if categories:
        imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
        one_hot = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=max_categories + 1,  # + the grouped one
            sparse_output=False,
        )
        steps = _converted(_as_categories, missing, imputer)
        parts.append(
            ("categorical", Pipeline([*steps, ("one_hot", one_hot)]), categories)
        )
    preprocess = ColumnTransformer(parts, verbose_feature_names_out=False)
    # The clusterer then knows its features by name (feature_names_in_).
    preprocess.set_output(transform="pandas")
    return Pipeline([("preprocess", preprocess), ("cluster", estimator)])


def _check_feature_names(X, numeric, categories, max_categories, missing):
    """Refuse a table where a one-hot feature, ``{column}_{level}`` (or
    ``{column}_infrequent_sklearn``, the rarer levels grouped), would have
    the name of a numeric column or of another such feature (a column
    ``sex_F`` beside a column ``sex`` of F and M): the features are known by
    these names, and scikit-learn's own error asks for a setting of the
    pipeline's inner ColumnTransformer. Only the levels the encoder keeps
    are checked: of a column of more than ``max_categories`` levels, the
    ``max_categories`` most frequent, ties as scikit-learn breaks them."""
    owners = {str(column): f"column '{column}'" for column in numeric}
    for column in categories:
        values = pd.Series(_category_column(X[column]), dtype=object)
        values = values.fillna(MISSING) if missing == "impute" else values.dropna()
        levels, counts = np.unique(values.astype(str), return_counts=True)
        kept = np.ones(len(levels), dtype=bool)
        if len(levels) > max_categories:
            # As OneHotEncoder(max_categories=max_categories + 1) groups them:
            # the least frequent by a stable sort of the sorted levels.
            kept[np.argsort(counts, kind="mergesort")[:-max_categories]] = False
        names = {str(level): f"level '{level}'" for level in levels[kept]}
        if not kept.all():
            names["infrequent_sklearn"] = "the rarer levels grouped"
        for suffix, what in names.items():
            name = f"{column}_{suffix}"
            if name in owners:
                raise ValueError(
                    f"The one-hot feature of {what} of column '{column}' would "
                    f"be named '{name}', as {owners[name]} is: rename one of "
                    "the columns."
                )
            owners[name] = f"{what} of column '{column}'"


def _converted(convert, missing, imputer):
    """The first steps of a part: ``convert`` (:func:`_as_numbers` or
    :func:`_as_categories`), then ``imputer`` if missing values are imputed."""
    steps = [
        (
            convert.__name__.removeprefix("_"),
            FunctionTransformer(
                convert, kw_args={"missing": missing}, feature_names_out="one-to-one"
            ),
        )
    ]
    return steps + ([("impute", imputer)] if missing == "impute" else [])


def _pipeline_columns(pipeline):
    """``numeric, categorical`` columns of a :func:`make_tabular_pipeline`
    pipeline, or None for any other model."""
    steps = getattr(pipeline, "steps", None)
    if not steps or not isinstance(steps[0][1], ColumnTransformer):
        return None
    parts = {name: list(columns) for name, _, columns in steps[0][1].transformers}
    if not set(parts) <= {"numeric", "categorical"}:
        return None
    return parts.get("numeric", []), parts.get("categorical", [])


def _imputing_parts(pipeline):
    """The parts (``"numeric"``, ``"categorical"``) of a
    :func:`make_tabular_pipeline` pipeline that take columns and impute their
    gaps (``missing="impute"``); the others refuse them."""
    numeric, categories = _pipeline_columns(pipeline)
    parts = pipeline[0].named_transformers_
    return {
        part
        for part, columns in (("numeric", numeric), ("categorical", categories))
        if columns and "impute" in parts[part].named_steps
    }


def _imputes(pipeline):
    """Whether a :func:`make_tabular_pipeline` pipeline imputes the gaps of
    its columns (``missing="impute"``) or refuses them."""
    return bool(_imputing_parts(pipeline))


def _summary(pipeline, X):
    """The line "k numeric, m categorical -> p features; q values imputed"."""
    numeric, categories = _pipeline_columns(pipeline)
    imputing = _imputing_parts(pipeline)
    imputed = 0
    if "numeric" in imputing:
        imputed += int(np.isnan(_as_numbers(X[numeric])).sum())
    if "categorical" in imputing:
        imputed += int(pd.isna(_as_categories(X[categories])).sum())
    n_features = len(pipeline[0].get_feature_names_out())
    return (
        f"{len(numeric)} numeric, {len(categories)} categorical -> "
        f"{n_features} features; {imputed} values imputed"
    )


def _unseen_categories(pipeline, X):
    """``{column: (values, n_rows, grouped)}`` for each categorical column of
    the fitted :func:`make_tabular_pipeline` pipeline whose values in the
    rows ``X`` include some that fitting never saw: those values as text
    (sorted; a gap where fitting had none is :data:`MISSING`), the number
    of rows that hold one, and whether the encoder puts them with the
    rarer levels grouped (True) or in no category (False)."""
    columns = _pipeline_columns(pipeline)
    if not columns or not columns[1]:
        return {}
    categorical = columns[1]
    part = pipeline[0].named_transformers_["categorical"]
    one_hot = part[-1] if hasattr(part, "steps") else None
    if not isinstance(one_hot, OneHotEncoder):
        return {}  # not the layout make_tabular_pipeline builds
    values = np.asarray(part[:-1].transform(X[categorical]), dtype=object)
    unseen = {}
    for j, column in enumerate(categorical):
        known = set(one_hot.categories_[j].tolist())
        new = np.array([value not in known for value in values[:, j]])
        if new.any():
            grouped = one_hot.infrequent_categories_[j] is not None
            found = sorted({str(value) for value in values[new, j]})
            unseen[column] = (found, int(new.sum()), grouped)
    return unseen


# ---------------------------------------------------------------- profile


@validate_params(
    {
        "X": [pd.DataFrame],
        "labels": ["array-like"],
        "numeric": ["array-like", None],
        "categorical": ["array-like", None],
        "ignore": ["array-like", None],
        "max_categories": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def cluster_profile(
    X, labels, *, numeric=None, categorical=None, ignore=None, max_categories=20
):
    """Describe each cluster by the columns of the table.

    For every cluster and feature: the cluster's mean (for a category, the
    share of the cluster's rows in it) and median, the mean over the other
    rows, and the standardised difference of the two means, divided by the
    pooled standard deviation within the two groups,
    ``sqrt((sd_cluster**2 + sd_others**2) / 2)`` (Austin, 2009). Features
    are numeric columns, and for categorical columns each category (missing
    values are the category ``"missing"``, and a value that is itself
    ``"missing"`` the category ``'"missing"'``). A numeric column with some
    values missing, but not all, has one more feature, its gaps
    (``"age=missing"``, of kind ``"missing"``), whose mean is the share of
    the rows without a value, which the column's own mean, over the observed
    values, does not show. Within each cluster, features are ranked by the
    absolute standardised difference: rank 1 separates the cluster most from
    the other rows (of two equally strong, the positive one first); a
    category, or the gaps of a column, with a positive difference is
    over-represented in the cluster.

    Read more in the :ref:`User Guide <tables>`.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, n_columns)
        The table, in its own units (not scaled), each column with a name of
        its own.
    labels : array-like of shape (n_samples,)
        The cluster of each row, for example ``pipeline.predict(X)``; no
        label may be missing.
    numeric : array-like of str, default=None
        The numeric columns, when the kinds of the columns are known, for
        example those of a fitted pipeline (see the example). Then the
        columns in ``numeric`` and ``categorical`` are described as such,
        whatever their dtypes in ``X`` (text that is not a number is missing,
        as the pipeline reads it), and no other column; ``ignore`` and
        ``max_categories`` are not used. When None, the columns are sorted by
        their dtypes as :func:`make_tabular_pipeline` sorts them.
    categorical : array-like of str, default=None
        With ``numeric``, the categorical columns; without it, the numeric
        columns to treat as categories.
    ignore : array-like of str, default=None
        Columns to leave out, such as an identifier.
    max_categories : int, default=20
        Not used: the profile describes every category of a column. Accepted
        so that the arguments of :func:`make_tabular_pipeline` can be passed.

    Returns
    -------
    profile : pandas.DataFrame
        One row per cluster and feature, sorted by cluster and rank, with the
        columns ``cluster``, ``size`` (rows in the cluster), ``share`` (of
        all rows), ``feature`` (``"age"``, or ``"sex=F"`` for a category),
        ``column``, ``category`` (None but for categories), ``kind``
        (``"numeric"``, ``"categorical"`` or ``"missing"``: the gaps of a
        numeric column; those of a categorical column are its category
        ``"missing"``, as the pipeline encodes them), ``cluster_mean``,
        ``cluster_median`` (NaN but for numeric columns), ``other_mean``,
        ``std_difference`` and ``rank``.

    Raises
    ------
    ValueError
        If a parameter is invalid, a column name of ``X`` is repeated, two
        features would have the same name (a column ``"x=missing"`` beside
        the gaps of a column ``"x"``), ``labels`` has a missing value, labels
        that cannot be sorted together or not one label per row, names in
        ``numeric``, ``categorical`` or ``ignore`` are not columns of ``X``,
        or a numeric column holds an infinite value.

    See Also
    --------
    skdec.plotting.plot_cluster_profile : The profile as a heatmap.

    Notes
    -----
    Numeric means, medians and standard deviations are over the observed
    values; the standard deviations divide by the number of values
    (``ddof=0``), which for a category's 0/1 indicator gives Austin's
    ``p (1 - p)``. Pooling the spread within the two groups, rather than
    taking it over all rows, keeps the spread between clusters out of the
    denominator. The difference is NaN where either group has no observed
    value, and infinite where both groups are constant but differ (a
    category found in every row of the cluster and in no other row).

    References
    ----------
    Austin, P. C. (2009). Balance diagnostics for comparing the distribution
    of baseline covariates between treatment groups in propensity-score
    matched samples. *Statistics in Medicine*, 28(25), 3083-3107.

    Examples
    --------
    >>> import pandas as pd
    >>> from skdec.tables import cluster_profile
    >>> X = pd.DataFrame({"age": [30, 35, 70, 75, 72], "sex": list("FFMFM")})
    >>> profile = cluster_profile(X, [0, 0, 1, 1, 1])
    >>> profile.loc[profile.cluster == 1, ["feature", "cluster_mean", "rank"]]
      feature  cluster_mean  rank
    3     age     72.333333     1
    4   sex=M      0.666667     2
    5   sex=F      0.333333     3

    The kinds of the columns as a fitted pipeline of
    :func:`make_tabular_pipeline` sees them, whatever the dtypes of new rows:

    >>> from skdec import DECClusterer
    >>> from skdec.tables import make_tabular_pipeline
    >>> dec = DECClusterer(2, hidden_layer_sizes=(4,), n_components=2,
    ...                    pretrain_epochs=1, max_iter=0, random_state=0)
    >>> pipe = make_tabular_pipeline(X, dec).fit(X)
    >>> kinds = {part: columns for part, _, columns in pipe[0].transformers}
    >>> kinds
    {'numeric': ['age'], 'categorical': ['sex']}
    >>> profile = cluster_profile(X, pipe.predict(X), **kinds)
    """
    _check_column_names(X, text=False)
    labels = _label_values(labels)
    if labels.shape != (len(X),):
        raise ValueError(
            f"labels has shape {labels.shape}, but X has {len(X)} rows: give one "
            "label per row."
        )
    gaps = np.flatnonzero(_missing_mask(labels))
    if gaps.size:
        rows = ", ".join(map(str, gaps[:5])) + (", ..." if gaps.size > 5 else "")
        raise ValueError(
            f"labels has {gaps.size} missing value(s) (rows {rows}): give every "
            "row a cluster, or leave the rows without one out of X and labels."
        )
    if numeric is None:
        numeric, categories, _ = _column_kinds(
            X, categorical, ignore, max_categories, warn=False
        )
    else:
        numeric, categories = _names(numeric), _names(categorical)
        _check_column_lists(X, numeric, categories, "numeric and categorical")
    features = []  # (feature, column, category, kind, values or level)
    for column in numeric:
        values = _as_numbers(X[[column]])[:, 0]
        features.append((str(column), column, None, "numeric", values))
        gaps = np.isnan(values)
        if gaps.any() and not gaps.all():
            # The column's mean is over its observed values only: say where
            # the gaps are, as the missing category of a categorical column does.
            features.append(
                (f"{column}={MISSING}", column, None, "missing", gaps.astype(float))
            )
    clusters, codes = _unique_labels(labels, "labels")
    # A category's rows per cluster, counted (not a column of 0 and 1 per
    # category: a column of thousands of levels would take rows x levels).
    level_counts = {}  # column: counts of shape (n_clusters, n_levels)
    for column in categories:
        values = _as_categories(X[[column]])[:, 0]
        values = np.where(pd.isna(values), MISSING, values)
        levels = sorted(set(values))
        level_codes = pd.Categorical(values, categories=levels).codes
        level_counts[column] = np.bincount(
            codes * len(levels) + level_codes, minlength=clusters.size * len(levels)
        ).reshape(clusters.size, len(levels))
        for j, level in enumerate(levels):
            features.append((f"{column}={level}", column, level, "categorical", j))

    counted = collections.Counter(feature for feature, *_ in features)
    repeated = sorted(name for name, count in counted.items() if count > 1)
    if repeated:
        raise ValueError(
            f"Feature name(s) {', '.join(map(repr, repeated))} would describe "
            "two things (a column named like a category or the gaps of another, "
            "'column=level'): rename the column(s)."
        )
    rows = []
    n_rows = len(X)
    sizes = np.bincount(codes, minlength=clusters.size)
    # Moments of each feature's values over a power of two near their
    # largest, so that squares of values near the float64 limit do not overflow.
    scales = [
        _magnitude(values) if kind != "categorical" else 1.0
        for *_, kind, values in features
    ]
    for number, cluster in enumerate(clusters):
        inside = codes == number
        size = int(sizes[number])
        for (feature, column, category, kind, values), scale in zip(
            features, scales, strict=True
        ):
            if kind == "categorical":
                counts = level_counts[column][:, values]
                cluster_mean, cluster_var = _share_moments(counts[number], size)
                other_mean, other_var = _share_moments(
                    counts.sum() - counts[number], n_rows - size
                )
            else:
                cluster_mean, cluster_var = _nanmoments(values[inside] / scale)
                other_mean, other_var = _nanmoments(values[~inside] / scale)
            rows.append(
                {
                    "cluster": _python_value(cluster),
                    "size": size,
                    "share": size / n_rows,
                    "feature": feature,
                    "column": column,
                    "category": category,
                    "kind": kind,
                    "cluster_mean": cluster_mean * scale,
                    "cluster_median": (
                        _nanmedian(values[inside]) if kind == "numeric" else np.nan
                    ),
                    "other_mean": other_mean * scale,
                    "std_difference": _standardised_difference(
                        cluster_mean - other_mean, (cluster_var + other_var) / 2
                    ),
                }
            )
    profile = pd.DataFrame(rows, columns=_PROFILE_COLUMNS)
    # None, not NaN, beside the categories: pandas 3 would infer a str column.
    profile["category"] = pd.Series([row["category"] for row in rows], dtype=object)
    if profile.empty:  # pandas before 3 cannot round its object columns
        return profile.assign(rank=pd.Series(dtype=np.int64))
    # By strength, NaN last; of equal strength (the two categories of a
    # binary column), the over-represented one first.
    order = pd.DataFrame(
        {
            "cluster": profile["cluster"],
            # Equal up to rounding: p - q and (1 - p) - (1 - q) differ in ulps.
            "strength": profile["std_difference"].abs().round(12).fillna(-1.0),
            "sign": profile["std_difference"].fillna(0.0),
        }
    ).sort_values(
        ["cluster", "strength", "sign"], ascending=[True, False, False], kind="stable"
    )
    profile = profile.loc[order.index].reset_index(drop=True)
    profile["rank"] = profile.groupby("cluster").cumcount() + 1
    return profile


_PROFILE_COLUMNS = [
    "cluster", "size", "share", "feature", "column", "category", "kind",
    "cluster_mean", "cluster_median", "other_mean", "std_difference",
]  # fmt: skip


def _standardised_difference(difference, pooled_variance):
    """``difference / sqrt(pooled_variance)``, guarded against zero."""
    if pooled_variance > 0:
        return float(difference / np.sqrt(pooled_variance))
    if np.isnan(difference) or difference == 0:
        return float(difference)  # NaN, or 0.0 for two equal constants
    return float(np.copysign(np.inf, difference))


def _magnitude(values):
    """A power of two within a factor 2 of the largest absolute observed
    value (1 where there is none, or it is 0). Dividing by it and
    multiplying back is exact but for values so small against the largest
    that they underflow."""
    observed = np.abs(values[~np.isnan(values)])
    largest = float(observed.max()) if observed.size else 0.0
    return float(np.ldexp(1.0, np.frexp(largest)[1] - 1)) if largest > 0 else 1.0


def _nanmoments(values):
    """Mean and variance (ddof=0) of the observed values, NaN if none."""
    values = values[~np.isnan(values)]
    if not values.size:
        return np.nan, np.nan
    return float(values.mean()), float(values.var())


def _share_moments(count, size):
    """Mean and variance of a column of ``size`` values, ``count`` of them 1
    and the others 0 (NaN if there are none)."""
    if not size:
        return np.nan, np.nan
    share = count / size
    return float(share), float(share * (1.0 - share))


def _nanmedian(values):
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else np.nan
