"""The ``skdec`` command: fit, predict and evaluate DEC on CSV or Parquet tables.

``skdec fit`` writes two files: the model, saved with
:meth:`skdec.DECClusterer.save` (load it with :func:`skdec.load`), and beside
it ``MODEL.json``, the preprocessing: the feature columns in order, the
scaling kind and its fitted offsets and scales. ``skdec predict`` and
``skdec evaluate`` read both and apply the same preprocessing to new data.
Neither file is ever unpickled.

User errors (a missing or non-numeric column, a file that is not a model, data
that does not fit the model) print ``skdec: error: ...`` and exit with status
2; success exits with 0.
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

__all__ = ["main"]

SIDECAR_FORMAT = "skdec.cli.preprocessing"
SIDECAR_VERSION = 1
_SCALINGS = ("standard", "minmax", "none")

# Estimator options of ``skdec fit``: (name, type, help). ``None`` defaults
# leave the estimator's own default in force.
_ESTIMATOR_OPTIONS = [
    ("n_components", int, "dimension of the embedding"),
    ("alpha", float, "degrees of freedom of the Student's t kernel"),
    ("activation", str, "activation of the hidden layers"),
    ("pretrain_epochs", int, "passes over the data when pretraining"),
    ("pretrain_optimizer", str, "optimizer of the pretraining (adam or sgd)"),
    ("pretrain_learning_rate", float, "learning rate of the pretraining"),
    ("optimizer", str, "optimizer of the self-training (sgd or adam)"),
    ("learning_rate", float, "learning rate of the self-training"),
    ("momentum", float, "momentum of SGD"),
    (
        "reconstruction_weight",
        float,
        "weight of the reconstruction loss in self-training (0 is DEC, >0 IDEC)",
    ),
    ("batch_size", int, "rows per gradient step"),
    ("max_iter", int, "maximum number of self-training iterations"),
    ("update_interval", int, "iterations between target updates"),
    ("tol", float, "stop when fewer labels than this fraction change"),
    (
        "init",
        str,
        "initial clustering: kmeans (default, in the embedding), kmeans_input "
        "(on the input rows) or umap (needs skdec[umap])",
    ),
    (
        "umap_metric",
        str,
        "distance of UMAP's neighbours with --init umap: euclidean or cosine",
    ),
    ("n_init", int, "k-means restarts in the embedding"),
    ("random_state", int, "seed, for reproducible fits"),
]


class UsageError(Exception):
    """A mistake in the command line or the data; reported without traceback."""


# ------------------------------------------------------------------ reading


def _read_table(path):
    """Read a CSV or Parquet file into a DataFrame."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"data file '{path}' not found.")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError(
                f"reading the Parquet file '{path}' needs pyarrow: "
                "pip install 'skdec[parquet]'."
            ) from None
        reader = pd.read_parquet
    else:
        reader = pd.read_csv
    try:
        return reader(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # ParserError too
        raise UsageError(f"cannot read '{path}': {exc}") from exc


def _check_columns_exist(frame, columns, path):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = ", ".join(map(str, frame.columns))
        raise UsageError(
            f"column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} not found in '{path}'. Available "
            f"columns: {available}."
        )


def _feature_matrix(frame, columns, path):
    """The named columns as a float64 array, refusing text and missing values."""
    import pandas as pd

    _check_columns_exist(frame, columns, path)
    for column in columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_complex_dtype(
            values
        ):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise UsageError(
                f"column '{column}' of '{path}' is not numeric (dtype "
                f"{values.dtype}, for example {example!r}). Leave it out with "
                "--columns, or encode it as numbers first."
            )
        n_missing = int(values.isna().sum())
        if n_missing:
            raise UsageError(
                f"column '{column}' of '{path}' has {n_missing} missing "
                "value(s). Drop or impute those rows first."
            )
    X = frame[list(columns)].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        bad = [
            c
            for c, ok in zip(columns, np.isfinite(X).all(axis=0), strict=True)
            if not ok
        ]
        raise UsageError(
            f"column(s) {', '.join(map(repr, bad))} of '{path}' hold infinite values."
        )
    return X


def _default_columns(frame, exclude):
    """Every numeric column of ``frame`` except ``exclude``, and the rest."""
    import pandas as pd

    numeric, other = [], []
    for column in frame.columns:
        if column in exclude:
            continue
        is_numeric = pd.api.types.is_numeric_dtype(
            frame[column]
        ) and not pd.api.types.is_complex_dtype(frame[column])
        (numeric if is_numeric else other).append(column)
    return numeric, other


# ------------------------------------------------------------ preprocessing


def _fit_scaling(X, kind):
    """Offsets and scales such that ``(X - offset) / scale`` is scaled."""
    if kind == "standard":
        offset, scale = X.mean(axis=0), X.std(axis=0)
    elif kind == "minmax":
        offset, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    else:
        offset, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    # Constant columns are shifted but not divided, as scikit-learn's scalers do.
    scale = np.where(scale > 10 * np.finfo(np.float64).eps, scale, 1.0)
    return offset, scale


def sidecar_path(model_path):
    """Where ``skdec fit`` writes the preprocessing of ``model_path``."""
    return Path(f"{os.fspath(model_path)}.json")


def _write_sidecar(path, columns, kind, offset, scale, label_column):
    content = {
        "format": SIDECAR_FORMAT,
        "format_version": SIDECAR_VERSION,
        "columns": [str(c) for c in columns],
        "scale": kind,
        "offset": [float(v) for v in offset],
        "scale_factor": [float(v) for v in scale],
        "label_column": label_column,
    }
    path.write_text(json.dumps(content, indent=2) + "\n")


def _read_sidecar(path):
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"'{path}' is not a valid skdec preprocessing file: {exc}"
        ) from exc
    valid = (
        isinstance(content, dict)
        and content.get("format") == SIDECAR_FORMAT
        and content.get("format_version") == SIDECAR_VERSION
        and isinstance(content.get("columns"), list)
        and all(isinstance(c, str) for c in content["columns"])
        and content.get("scale") in _SCALINGS
    )
    if valid:
        n = len(content["columns"])
        for key in ("offset", "scale_factor"):
            values = content.get(key)
            valid = valid and (
                isinstance(values, list)
                and len(values) == n
                and all(isinstance(v, (int, float)) and np.isfinite(v) for v in values)
            )
    if not valid:
        raise UsageError(
            f"'{path}' is not a valid skdec preprocessing file: it was not "
            "written by 'skdec fit' (or was edited)."
        )
    return content


def _load_model(path):
    import skdec

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"model file '{path}' not found.")
    hint = " Give a model file written by 'skdec fit'."
    if path.suffix.lower() in (".csv", ".parquet", ".pq", ".json"):
        hint += " The model comes first: skdec COMMAND MODEL DATA."
    with path.open("rb") as f:
        is_archive = f.read(4) == b"PK\x03\x04"
    if not is_archive:
        raise UsageError(
            f"'{path}' is not a valid skdec model file: it is not a model "
            f"archive.{hint}"
        )
    try:
        return skdec.load(path)
    except ValueError as exc:
        raise UsageError(f"{exc}{hint}") from exc


def _model_inputs(model, model_path, frame, data_path, exclude, info):
    """The preprocessed feature matrix of ``frame`` for ``model``.

    Uses ``MODEL.json`` when it exists. Without it (a model saved from Python
    with ``save``), takes the model's feature names if it has them, else every
    numeric column but ``exclude``, unscaled.
    """
    side = sidecar_path(model_path)
    n_expected = int(model.n_features_in_)
    if side.exists():
        prep = _read_sidecar(side)
        columns = prep["columns"]
        if len(columns) != n_expected:
            raise UsageError(
                f"'{side}' lists {len(columns)} columns but the model '{model_path}' "
                f"expects {n_expected} features: the two files do not belong "
                "together. Fit again with 'skdec fit'."
            )
        X = _feature_matrix(frame, columns, data_path)
        X = (X - np.asarray(prep["offset"])) / np.asarray(prep["scale_factor"])
        return X, columns, prep
    info(
        f"no preprocessing file '{side}': using the data unscaled, as a model "
        "saved from Python expects."
    )
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        columns = [str(c) for c in names]
    else:
        columns, _ = _default_columns(frame, exclude)
    if len(columns) != n_expected:
        raise UsageError(
            f"'{data_path}' has {len(columns)} numeric feature columns "
            f"({', '.join(map(str, columns))}) but the model '{model_path}' expects "
            f"{n_expected}. Give a data file with the model's columns."
        )
    return _feature_matrix(frame, columns, data_path), columns, None


def _as_frame(X, columns):
    """Rows as a DataFrame with the feature names the model was fitted on."""
    import pandas as pd

    return pd.DataFrame(X, columns=[str(c) for c in columns])


# ----------------------------------------------------------------- commands


def _cmd_fit(args, info):
    from skdec import DECClusterer

    frame = _read_table(args.data)
    if len(frame) == 0:
        raise UsageError(f"'{args.data}' has no rows.")
    exclude = {c for c in (args.label_column, args.id_column) if c is not None}
    _check_columns_exist(frame, sorted(exclude), args.data)
    if args.columns:
        both = exclude.intersection(args.columns)
        if both:
            raise UsageError(
                f"column(s) {', '.join(map(repr, sorted(both)))} cannot be both "
                "a feature (--columns) and the label or id column."
            )
        repeated = sorted({c for c in args.columns if args.columns.count(c) > 1})
        if repeated:
            raise UsageError(
                f"column(s) {', '.join(map(repr, repeated))} given more than once "
                "in --columns."
            )
        columns = list(args.columns)
    else:
        columns, other = _default_columns(frame, exclude)
        if not columns:
            raise UsageError(
                f"'{args.data}' has no numeric columns to cluster"
                + (f" (non-numeric: {', '.join(map(str, other))})." if other else ".")
            )
        if other:
            info(f"ignoring non-numeric columns: {', '.join(map(str, other))}")
    X = _feature_matrix(frame, columns, args.data)
    offset, scale = _fit_scaling(X, args.scale)
    X = (X - offset) / scale

    params = {
        name: getattr(args, name)
        for name, _, _ in _ESTIMATOR_OPTIONS
        if getattr(args, name) is not None
    }
    if args.hidden_layer_sizes is not None:
        params["hidden_layer_sizes"] = tuple(args.hidden_layer_sizes)
    if args.umap_merge:
        params["umap_merge"] = True
    estimator = DECClusterer(
        n_clusters=args.n_clusters, verbose=0 if args.quiet else 1, **params
    )
    info(
        f"fitting DEC with {args.n_clusters} clusters on {X.shape[0]} rows and "
        f"{X.shape[1]} columns ({args.scale} scaling)"
    )
    _run_estimator(lambda: estimator.fit(_as_frame(X, columns)))

    model_path = Path(args.out)
    try:
        estimator.save(model_path)
        _write_sidecar(
            sidecar_path(model_path),
            columns,
            args.scale,
            offset,
            scale,
            args.label_column,
        )
    except OSError as exc:
        raise UsageError(f"cannot write the model: {exc}") from exc
    sizes = np.bincount(estimator.labels_, minlength=args.n_clusters)
    info(
        f"{estimator.n_iter_} self-training iterations; cluster sizes {sizes.tolist()}"
    )
    info(f"wrote {model_path} and {sidecar_path(model_path)}")
    return 0


def _cmd_predict(args, info):
    import pandas as pd

    model = _load_model(args.model)
    frame = _read_table(args.data)
    if args.id_column is not None:
        _check_columns_exist(frame, [args.id_column], args.data)
    exclude = {args.id_column} - {None}
    X, columns, _ = _model_inputs(model, args.model, frame, args.data, exclude, info)
    proba = _run_estimator(lambda: model.predict_proba(_as_frame(X, columns)))
    if args.id_column is not None:
        ids = frame[args.id_column].to_numpy()
        id_name = args.id_column
    else:
        ids, id_name = np.arange(len(frame)), "row"
    out = pd.DataFrame(
        {id_name: ids, "cluster": proba.argmax(axis=1), "probability": proba.max(1)}
    )
    try:
        out.to_csv(args.out, index=False)
    except OSError as exc:
        raise UsageError(f"cannot write '{args.out}': {exc}") from exc
    info(f"wrote {len(out)} predictions to {args.out}")
    return 0


def _cmd_evaluate(args, info):
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from skdec.metrics import cluster_accuracy

    model = _load_model(args.model)
    frame = _read_table(args.data)
    label_column = args.label_column
    side = sidecar_path(args.model)
    if label_column is None and side.exists():
        label_column = _read_sidecar(side).get("label_column")
    if label_column is None:
        raise UsageError(
            "give the column of true labels with --label-column (the model was "
            "fitted without one)."
        )
    _check_columns_exist(frame, [label_column], args.data)
    y = frame[label_column]
    if y.isna().any():
        raise UsageError(
            f"label column '{label_column}' of '{args.data}' has "
            f"{int(y.isna().sum())} missing value(s)."
        )
    X, columns, _ = _model_inputs(
        model, args.model, frame, args.data, {label_column}, info
    )
    labels = _run_estimator(lambda: model.predict(_as_frame(X, columns)))
    y = y.to_numpy()
    if not pd.api.types.is_numeric_dtype(frame[label_column]):
        y = y.astype(str)
    print(f"ACC {cluster_accuracy(y, labels):.4f}")
    print(f"NMI {normalized_mutual_info_score(y, labels):.4f}")
    print(f"ARI {adjusted_rand_score(y, labels):.4f}")
    return 0


def _run_estimator(work):
    """Run ``work``; report the estimator's data errors and warnings plainly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = work()
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    for warning in caught:
        if issubclass(
            warning.category, (DeprecationWarning, PendingDeprecationWarning)
        ):
            continue
        print(f"skdec: warning: {warning.message}", file=sys.stderr)
    return result


# ------------------------------------------------------------------ parsing


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skdec",
        description="Deep Embedded Clustering (DEC) of CSV or Parquet tables.",
        epilog="Run 'skdec COMMAND --help' for the options of each command.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        help="fit DEC to a table and save the model",
        description=(
            "Fit DEC to the numeric columns of DATA and write MODEL (load it in "
            "Python with skdec.load) and MODEL.json, the column names and "
            "scaling that predict and evaluate apply to new data."
        ),
    )
    fit.add_argument("data", metavar="DATA", help="CSV or Parquet (.parquet) file")
    fit.add_argument("--n-clusters", type=int, required=True, metavar="K")
    fit.add_argument("--out", required=True, metavar="MODEL", help="model file")
    fit.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="feature columns (default: every numeric column)",
    )
    fit.add_argument(
        "--scale",
        choices=_SCALINGS,
        default="standard",
        help="scaling of each column before fitting (default: standard)",
    )
    fit.add_argument(
        "--label-column",
        metavar="C",
        help="column of true labels, left out of the features; "
        "'skdec evaluate' uses it by default",
    )
    fit.add_argument(
        "--id-column", metavar="C", help="row identifier, left out of the features"
    )
    fit.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="*",
        metavar="N",
        help="widths of the encoder's hidden layers (default: 500 500 2000 from "
        "1,000 rows on, 64 64 below)",
    )
    for name, kind, text in _ESTIMATOR_OPTIONS:
        fit.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            metavar=name.split("_")[-1].upper() if kind is not str else "NAME",
            help=f"{text} (default: DECClusterer's)",
        )
    fit.add_argument(
        "--umap-merge",
        action="store_true",
        help="with --init umap, also merge over-clusterings of UMAP's map by "
        "modularity (DECClusterer's umap_merge=True)",
    )
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    fit.set_defaults(handler=_cmd_fit)

    predict = commands.add_parser(
        "predict",
        help="write the cluster of each row",
        description=(
            "Write a CSV with the row identifier, the cluster and its probability "
            "(the largest soft assignment) of each row of DATA."
        ),
    )
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("data", metavar="DATA")
    predict.add_argument("--out", required=True, metavar="LABELS", help="CSV file")
    predict.add_argument(
        "--id-column",
        metavar="C",
        help="column that identifies the rows (default: the row number from 0)",
    )
    predict.add_argument("--quiet", action="store_true", help="no messages")
    predict.set_defaults(handler=_cmd_predict)

    evaluate = commands.add_parser(
        "evaluate",
        help="print ACC, NMI and ARI against true labels",
        description=(
            "Print the cluster accuracy (Hungarian matching), normalized mutual "
            "information and adjusted Rand index of the model's clusters of DATA "
            "against its label column."
        ),
    )
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA")
    evaluate.add_argument(
        "--label-column",
        metavar="C",
        help="column of true labels (default: the one given to 'skdec fit')",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no messages")
    evaluate.set_defaults(handler=_cmd_evaluate)
    return parser


def main(argv=None):
    """Run the ``skdec`` command with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name.

    Returns
    -------
    status : int
        ``0`` on success, ``2`` on a usage or data error (with a message on
        standard error and no traceback).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or argparse's own usage errors
        return exc.code if isinstance(exc.code, int) else 2

    def info(message):
        if not args.quiet:
            print(f"skdec: {message}", file=sys.stderr)

    try:
        return args.handler(args, info)
    except UsageError as exc:
        print(f"skdec: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
