"""The ``skdec`` command: fit, predict, evaluate and profile DEC on tables.

``skdec fit`` builds the pipeline of :func:`skdec.tables.make_tabular_pipeline`
for the table (numeric columns imputed and scaled, categorical ones imputed
and one-hot encoded, then :class:`~skdec.DECClusterer`), fits it and writes it
to one model file with :func:`skdec.save`; ``skdec predict``, ``skdec
evaluate`` and ``skdec profile`` read it with :func:`skdec.load`, which never
unpickles. Models written by skdec 0.1's ``skdec fit`` (a model plus
``MODEL.json``) are still read.

The estimator options of ``skdec fit`` are generated from DECClusterer's own
signature, ``_parameter_constraints`` and docstring. They are read from its
source file rather than by importing it, so that ``--help`` and argument
errors answer at once: importing scikit-learn alone takes a second or two.
Commands that fit or load a model import Keras first with TensorFlow's
start-up messages filtered out, so that standard error carries only skdec's
own messages.

User errors (a missing column, a file that is not a model, data that does
not fit the model) print ``skdec: error: ...`` and exit with status 2;
success exits with 0.
"""

import argparse
import ast
import bz2
import collections
import csv
import functools
import gzip
import importlib
import itertools
import json
import logging
import lzma
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

__all__ = ["main"]

SIDECAR_FORMAT = "skdec.cli.preprocessing"  # skdec 0.1's MODEL.json
SIDECAR_VERSION = 1
_SCALINGS = ("standard", "minmax", "none")

# DECClusterer parameters without a ``skdec fit`` option, and why.
NOT_OPTIONS = {
    "autoencoder": "tables use the dense autoencoder; the others are for images "
    "or your own Keras code, from Python",
    "input_shape": "for autoencoder='conv' only",
    "conv_filters": "for autoencoder='conv' only",
    "decoder": "for autoencoder='conv' only",
    "verbose": "progress bars are on unless --quiet",
    "warm_start": "each 'skdec fit' starts afresh",
}


class UsageError(Exception):
    """A mistake in the command line or the data; reported without traceback."""


# ------------------------------------------------ the estimator's parameters


def _constraint_token(node, constants):
    """A scikit-learn constraint, from its source, as a hashable token."""
    if isinstance(node, ast.Constant):
        return ("none",) if node.value is None else (node.value,)
    if isinstance(node, ast.Name):
        if node.id == "callable":
            return ("callable",)
        if node.id in ("str", "int", "float", "bool"):
            return ("type", node.id)
        return ("other",)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "Interval" and isinstance(node.args[0], ast.Name):
            return ("interval", node.args[0].id)
        if node.func.id == "StrOptions":
            argument = node.args[0]
            if isinstance(argument, ast.Name):
                options = constants.get(argument.id)
            else:
                options = ast.literal_eval(argument)
            if options is not None:
                return ("options", frozenset(options))
    return ("other",)


def _live_token(constraint):
    """The token of :func:`_constraint_token` for a live constraint object."""
    from sklearn.utils._param_validation import Interval, StrOptions

    if constraint is None:
        return ("none",)
    if isinstance(constraint, str):
        return (constraint,)
    if constraint is callable:
        return ("callable",)
    if isinstance(constraint, type):
        return ("type", constraint.__name__)
    if isinstance(constraint, Interval):
        return ("interval", constraint.type.__name__)
    if isinstance(constraint, StrOptions):
        return ("options", frozenset(constraint.options))
    return ("other",)


def _parameter_help(docstring):
    """``{name: first sentence}`` of the numpydoc Parameters section."""
    lines = docstring.splitlines()
    underlined = [
        i
        for i in range(1, len(lines))
        if lines[i].strip() and not set(lines[i].strip()) - {"-"}
    ]
    starts = [i for i in underlined if lines[i - 1].strip() == "Parameters"]
    if not starts:
        return {}
    end = next((i - 1 for i in underlined if i > starts[0]), len(lines))
    paragraphs, name = {}, None
    for line in lines[starts[0] + 1 : end]:
        entry = re.match(r"^(\w+) : ", line)
        if entry:
            name = entry.group(1)
            paragraphs[name] = []
        elif name is None or not line.strip():
            name = None if name and paragraphs[name] else name
        else:
            paragraphs[name].append(line.strip())
    return {name: _first_sentence(" ".join(text)) for name, text in paragraphs.items()}


def _first_sentence(text):
    text = re.sub(r":\w+:`(?:[^`<]*<)?([^`>]+)>?`", r"\1", text)  # roles
    text = text.replace("``", "")
    return re.split(r'(?<!al\.)(?<=\.)\s+(?=[A-Z0-9`("])', text, maxsplit=1)[0]


def _source_parameters():
    """DECClusterer's parameters, read from its source without importing it.

    Returns a list of ``(name, default, constraint tokens, help)``, or None
    when the source cannot be read or parsed as expected.
    """
    path = Path(__file__).with_name("_estimator.py")
    try:
        module = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    constants = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    classes = [
        n
        for n in module.body
        if isinstance(n, ast.ClassDef) and n.name == "DECClusterer"
    ]
    if not classes:
        return None
    constraints, init = None, None
    for node in classes[0].body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", None) == "_parameter_constraints" for t in targets):
                constraints = node.value
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
            init = node
    if not isinstance(constraints, ast.Dict) or init is None:
        return None
    tokens = {}
    for key, value in zip(constraints.keys, constraints.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(value, ast.List)):
            return None
        tokens[key.value] = frozenset(
            _constraint_token(v, constants) for v in value.elts
        )
    arguments = init.args
    positional = arguments.args[1:]  # without self
    defaults = dict(
        zip(
            [a.arg for a in positional][len(positional) - len(arguments.defaults) :],
            arguments.defaults,
            strict=True,
        )
    )
    defaults.update(
        (a.arg, d)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
        if d is not None
    )
    helps = _parameter_help(ast.get_docstring(classes[0]) or "")
    parameters = []
    for a in [*positional, *arguments.kwonlyargs]:
        try:
            default = ast.literal_eval(defaults[a.arg])
        except (KeyError, ValueError):
            return None
        parameters.append(
            (a.arg, default, tokens.get(a.arg, frozenset()), helps.get(a.arg, ""))
        )
    return parameters


def _live_parameters():
    """The same list as :func:`_source_parameters`, from the imported class."""
    import inspect

    from skdec._estimator import DECClusterer

    helps = _parameter_help(inspect.getdoc(DECClusterer) or "")
    constraints = DECClusterer._parameter_constraints
    return [
        (
            name,
            parameter.default,
            frozenset(_live_token(c) for c in constraints.get(name, [])),
            helps.get(name, ""),
        )
        for name, parameter in inspect.signature(DECClusterer).parameters.items()
    ]


def estimator_parameters():
    """DECClusterer's parameters: ``(name, default, constraints, help)``."""
    return _source_parameters() or _live_parameters()


# What an option of a parameter that may be None takes for None, and what
# argparse stores for it (None itself would mean "not given").
NONE = "none"
NONE_GIVEN = object()


def _int_or_none(text):
    """An argparse type: an integer, or :data:`NONE` (stored as NONE_GIVEN)."""
    return NONE_GIVEN if text == NONE else _choice_or_number([NONE])(text)


def _option_kind(tokens):
    """How a parameter with these constraints is given on the command line."""
    options = [t[1] for t in tokens if t[0] == "options"]
    if options and ("array-like",) in tokens:
        return "layers"
    if ("array-like",) in tokens:
        return "ints"
    if options and ("interval", "Integral") in tokens:
        return "choice_or_int"
    if options and ("interval", "Real") in tokens:
        return "choice_or_float"
    if options:
        return "choice"
    if ("interval", "Integral") in tokens or ("random_state",) in tokens:
        return "int"
    if ("interval", "Real") in tokens:
        return "float"
    if ("boolean",) in tokens:
        return "bool"
    if ("type", "str") in tokens:
        return "str"
    return None


class _LayersAction(argparse.Action):
    """``auto``, or widths of hidden layers (none for a linear network)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values == ["auto"]:
            setattr(namespace, self.dest, "auto")
            return
        try:
            widths = tuple(int(v) for v in values)
        except ValueError:
            widths = None
        if widths is None or any(w < 1 for w in widths):
            hint = ""
            if widths is None and len(values) > 1 and not values[-1].isdigit():
                # The widths take every value after the option: DATA given
                # after it is taken for one.
                hint = f" (if {values[-1]!r} is DATA, give it before {option_string})"
            parser.error(
                f"argument {option_string}: give 'auto' or positive integer widths, "
                f"got {' '.join(values)!r}{hint}"
            )
        setattr(namespace, self.dest, widths)


def _choice_or_number(choices, number=int):
    """An argparse type: one of ``choices``, or a ``number`` (int or float)."""
    kind = "an integer" if number is int else "a number"

    def convert(text):
        if text in choices:
            return text
        try:
            return number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"give {' or '.join(map(repr, choices))} or {kind}, got {text!r}"
            ) from None

    return convert


def _positive_int(text):
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"give an integer of at least 1, got {text!r}")
    return value


def _show_default(value):
    if isinstance(value, tuple):
        return " ".join(map(str, value)) or "(none)"
    return str(value)


def _add_estimator_options(parser):
    """Add one option per DECClusterer parameter; return their names."""
    group = parser.add_argument_group(
        "DEC options",
        "DECClusterer's parameters of the same names (see its documentation); "
        "an option not given keeps the estimator's default.",
    )
    names = []
    for name, default, tokens, text in estimator_parameters():
        kind = _option_kind(tokens)
        if name in NOT_OPTIONS or kind is None:
            continue
        flag = "--" + name.replace("_", "-")
        help_text = f"{text.rstrip('.')} (default: {_show_default(default)})"
        if name == "n_clusters":
            group.add_argument(
                flag,
                type=_choice_or_number(["auto"]),
                required=True,
                metavar="{auto}|K",
                help=text,
            )
        elif kind == "layers":
            group.add_argument(
                flag, nargs="*", action=_LayersAction, metavar="N", help=help_text
            )
        elif kind == "choice":
            choices = sorted(next(t[1] for t in tokens if t[0] == "options"))
            group.add_argument(flag, choices=choices, help=help_text)
        elif kind in ("choice_or_int", "choice_or_float"):
            choices = sorted(next(t[1] for t in tokens if t[0] == "options"))
            number, metavar = (int, "N") if kind == "choice_or_int" else (float, "X")
            group.add_argument(
                flag,
                type=_choice_or_number(choices, number),
                metavar="{" + ",".join(choices) + "}|" + metavar,
                help=help_text,
            )
        elif kind == "ints":  # n_clusters_range, the one such option
            group.add_argument(
                flag, nargs=2, type=int, metavar=("MIN", "MAX"), help=help_text
            )
        elif kind == "bool":
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif kind == "int" and ("none",) in tokens:  # patience
            group.add_argument(
                flag,
                type=_int_or_none,
                metavar="{" + NONE + "}|N",
                help=help_text,
            )
        else:
            kinds = {"int": (int, "N"), "float": (float, "X"), "str": (str, "PATH")}
            kind_type, metavar = kinds[kind]
            group.add_argument(flag, type=kind_type, metavar=metavar, help=help_text)
        names.append(name)
    return names


# ---------------------------------------------------------- quiet TensorFlow

_START_UP_LINE = re.compile(
    r"^[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\] "  # absl's INFO and WARNING lines
    # ERROR lines of the CUDA platform's start-up on a machine without a GPU
    # ("failed call to cuInit", "Unable to register cuDNN factory").
    r"|^E\d{4} [\d:.]+\s+\d+ cuda_\w+\.cc:\d+\] "
    r"|^WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^To enable the following instructions:"
)


def _quiet_keras(*also):
    """Import Keras (and TensorFlow) without their start-up lines on stderr;
    the modules named in ``also`` too (umap-learn imports TensorFlow when it
    is installed, whatever Keras' backend).

    The command owns its process, so it sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless
    the user set it, and catches what TensorFlow's C++ code writes to the
    stderr file descriptor while it loads (before its logging honours that
    setting): informational and warning lines, the CUDA platform's errors
    of start-up ("failed call to cuInit" where there is no GPU) and absl's
    "All log messages before absl::InitializeLog()" are dropped, anything
    else (another error) is passed on. Python's ``tensorflow`` logger
    (tf.function retracing warnings) is set to ERROR.
    """
    modules = [name for name in ("keras", *also) if name not in sys.modules]
    if not modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            for name in modules:
                importlib.import_module(name)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        lines = captured.read().decode(errors="replace").splitlines()
    for line in lines:
        if line.strip() and not _START_UP_LINE.match(line):
            print(line, file=sys.stderr)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


# ------------------------------------------------------------------ reading


def _one_column(path, sep):
    """Whether the header line of the CSV file ``path`` names one column."""
    import pandas as pd

    return pd.read_csv(path, sep=sep, nrows=0, index_col=False).shape[1] == 1


def _read_table(path, text_columns=(), codes=(), as_text=()):
    """Read a CSV or Parquet file into a DataFrame; with ``text_columns``,
    only those, a CSV's as text, as written (identifiers such as ``007``).
    The columns in ``codes`` are categories: their decimal commas are not
    read as such (``1,1`` and ``1,10`` are two codes). A CSV's columns in
    ``as_text`` are read as text, as written, with their gaps."""
    import numpy as np
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"data file '{path}' is a folder: give a CSV or Parquet file.")
    if path.exists() and not path.is_file():
        raise UsageError(
            f"data file '{path}' is not a regular file (a pipe, say), which "
            "skdec reads more than once: save the data to a file and give that."
        )
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
        reader = functools.partial(pd.read_parquet, columns=list(text_columns) or None)
        sep = None
    else:
        sep = _separator(path)
        row_names = _row_names_first(path, sep)
        example = row_names and _one_column_of_decimal_commas(path, sep)
        if example:
            raise UsageError(
                f"cannot read '{path}': its header line names one column, and "
                f"every row holds two numbers split by a comma (such as "
                f"'{example}'). If the comma is a decimal mark, write it as a "
                "point; if the first number names the row (R's write.table), "
                "name its column in the header."
            )
        reader = functools.partial(
            pd.read_csv,
            sep=sep,
            usecols=list(text_columns) or None,
            dtype=dict.fromkeys([*text_columns, *as_text], str) or None,
            # Text as written: "NA", "null" or "None" are not gaps there.
            keep_default_na=not text_columns,
            # Rows that end in a separator the header lacks (as spreadsheets
            # write them): without index_col=False, pandas takes their first
            # field for the index and shifts every column name by one. Rows
            # that start with a name the header lacks (R's write.table) are
            # what pandas' index is for.
            index_col=None if row_names else False,
        )
    try:
        with warnings.catch_warnings():
            # A field beyond the header's that is not empty: pandas would
            # drop it (index_col=False); refuse instead.
            warnings.filterwarnings(
                "error", "Length of header", pd.errors.ParserWarning
            )
            frame = reader(path)
        if sep is not None and frame.shape[1] == 1 and _one_column(path, sep):
            # One column: a gap is an empty line, which pandas skips by
            # default; the empty lines at the end are not rows. The same
            # rows whether the column is read as numbers or as text (ids).
            frame = reader(path, skip_blank_lines=False)
            values = frame.iloc[:, 0]
            present = np.flatnonzero((values.notna() & (values != "")).to_numpy())
            frame = frame.iloc[: present[-1] + 1 if present.size else 0]
    except pd.errors.ParserWarning:
        raise UsageError(
            f"cannot read '{path}': some of its rows have more fields than its "
            "header line names; give every column a name in the header."
        ) from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise UsageError(
            f"cannot read '{path}': it is not UTF-8 text (byte 0x{byte:02x} is "
            'not valid UTF-8 there); save it as UTF-8 ("CSV UTF-8" in '
            "spreadsheets)."
        ) from exc
    except (ValueError, OSError) as exc:  # ParserError too
        raise UsageError(f"cannot read '{path}': {exc}") from exc
    if len(frame) == 0:
        raise UsageError(f"'{path}' has no rows.")
    if sep is not None and row_names:
        frame = frame.reset_index(drop=True)
        if not text_columns:
            print(
                f"skdec: warning: every row of '{path}' has one field more than "
                "its header line names, as R's write.table writes row names: "
                "the first field of each row was taken for its name and left "
                "out.",
                file=sys.stderr,
            )
    if sep is not None:
        names = _header(path, sep)
        if (
            not text_columns
            and len(names) == frame.shape[1] > 1
            and not names[-1].strip()
            and frame.iloc[:, -1].isna().all()
        ):
            # A separator at the end of the header line too, as spreadsheets
            # write it: pandas names the empty field's column 'Unnamed: N'.
            frame = frame.iloc[:, :-1]
        repeated = _repeated_names(names)
        if repeated:
            # pandas would rename the second "age" to "age.1", silently.
            raise UsageError(
                f"the header line of '{path}' gives more than one column the "
                f"name {', '.join(map(repr, repeated))}: give each column its "
                "own name."
            )
    if not text_columns and sep is not None:
        if all(_is_number(column) for column in frame.columns) and not (
            _numbered_columns(frame.columns)
        ):
            print(
                f"skdec: warning: every column name of '{path}' is a number "
                f"({', '.join(map(repr, frame.columns[:3]))}"
                f"{', ...' if len(frame.columns) > 3 else ''}): if the file "
                "has no header line, its first row was taken as the names; "
                "add one.",
                file=sys.stderr,
            )
    if not text_columns and sep in (";", "\t"):
        frame = _read_decimal_commas(frame, keep=[*codes, *as_text])
        # Where the comma may be the decimal mark (see _model_columns).
        frame.attrs["decimal_commas"] = True
    return frame


def _row_names_first(path, sep):
    """Whether the first lines of the CSV file ``path`` are those of a table
    with row names and no name for their column (R's ``write.table``): every
    data row has one field more than the header, none of them an empty one
    at its end (a separator that ends each row, which spreadsheets write; a
    mixture of both is refused when read)."""
    if not _sniffable(path):
        return False
    try:
        with _open_text(path, newline="") as file:
            records = [
                r
                for r in csv.reader(
                    itertools.islice(file, _SNIFFED_LINES), delimiter=sep
                )
                if r
            ]
    except (OSError, EOFError, lzma.LZMAError, csv.Error):
        return False
    if len(records) < 2:
        return False
    header, rows = records[0], records[1:]
    return all(len(row) == len(header) + 1 and row[-1] != "" for row in rows)


def _one_column_of_decimal_commas(path, sep):
    """The first data line of the CSV file ``path`` if its header names one
    column and each of its first data lines, separated by ``sep``, a comma,
    is a number with a decimal comma (``1,5``), which reads as well as a
    row name and a value; else None."""
    from skdec.tables import COMMA_DECIMAL

    if sep != ",":
        return None
    with _open_text(path, newline="") as file:
        lines = [line.strip() for line in itertools.islice(file, _SNIFFED_LINES)]
    header, rows = lines[0], [line for line in lines[1:] if line]
    if "," in header or not rows:
        return None
    if all(re.fullmatch(COMMA_DECIMAL, line) for line in rows):
        return rows[0]
    return None


def _header(path, sep):
    """The names of the header line of the CSV file ``path``, as written."""
    import pandas as pd

    return pd.read_csv(
        path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False
    ).iloc[0].tolist()


def _repeated_names(names):
    """The names that a header line gives to more than one column, as written
    (empty names aside)."""
    counts = collections.Counter(name for name in names if name.strip())
    return [name for name, count in counts.items() if count > 1]


def _separator(path):
    """The separator of a CSV file, among a comma, a semicolon, a tab and a
    bar (the first in this order on ties), from its first lines read as CSV
    with their quotes: of those that split each line into the same number of
    fields, more than one, the one that splits them into the most; else the
    one that splits the most lines into several fields, if more than half;
    else one that splits no line (a file of one column). A header alone is
    split by the one that gives it the most fields. A
    compressed file (``.gz``, ``.zip`` ...), which pandas opens itself, is
    taken as separated by commas, but for those that the standard library
    opens (``.gz``, ``.bz2``, ``.xz``), whose first lines are read so."""
    if not _sniffable(path):
        return ","
    try:
        with _open_text(path) as file:
            lines = [line for line in itertools.islice(file, _SNIFFED_LINES)]
    except (OSError, EOFError, lzma.LZMAError):
        return ","  # pandas says why
    candidates = (",", ";", "\t", "|")
    counts = {sep: _field_counts(lines, sep) for sep in candidates}
    if len(counts[","]) <= 1:  # a header alone: its most fields
        return max(candidates, key=lambda sep: counts[sep][:1])
    alike = [
        sep for sep in candidates if len(set(counts[sep])) == 1 and counts[sep][0] > 1
    ]
    if alike:  # the first of the most
        return max(alike, key=lambda sep: counts[sep][0])
    # Ragged: the one that splits most lines, if it splits more than half.
    split = {sep: sum(count > 1 for count in counts[sep]) for sep in candidates}
    best = max(candidates, key=lambda sep: (split[sep], counts[sep][:1]))
    if 2 * split[best] > len(counts[best]):
        return best
    # One column, with a comma or so in some of its text: read it with a
    # separator that splits no line.
    return next((sep for sep in candidates if split[sep] == 0), best)


# Lines of a CSV file read to find its separator.
_SNIFFED_LINES = 20
# Files that pandas decompresses itself, as it reads them.
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
# Those of them whose first lines the standard library reads.
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _sniffable(path):
    """Whether the first lines of ``path`` can be read here: a plain file,
    or one compressed in a way that :data:`_OPENERS` opens."""
    suffix = Path(path).suffix.lower()
    return suffix not in _COMPRESSED or suffix in _OPENERS


def _open_text(path, **kwargs):
    """``path`` opened as UTF-8 text (undecodable bytes replaced),
    decompressed where its suffix says so (:data:`_OPENERS`)."""
    opener = _OPENERS.get(Path(path).suffix.lower(), open)
    return opener(path, "rt", encoding="utf-8", errors="replace", **kwargs)


def _field_counts(lines, separator):
    """The number of fields of each record of ``lines`` (empty ones left
    out), split by ``separator`` outside quotes: a separator between quotes,
    as in ``"weight, kg"``, is text."""
    try:
        records = csv.reader(lines, delimiter=separator)
        return [len(record) for record in records if record]
    except csv.Error:  # a field longer than the csv module reads
        return [line.count(separator) + 1 for line in lines if line.strip()]


# What pandas reads as a boolean in a CSV file, and the category it makes.
_BOOLEAN_TEXT = dict.fromkeys(["True", "TRUE", "true"], "True") | dict.fromkeys(
    ["False", "FALSE", "false"], "False"
)


def _numbered_columns(names):
    """Whether ``names`` are the years of a table by year: three or more
    four-digit numbers that rise by the same step (``2019, 2020, 2021``). A
    header, not a row of measurements, which seldom does that. (``0, 1, 2``,
    as pandas names columns without a name, may as well be a first row of
    codes, and is warned of.)"""
    if len(names) < 3 or not all(re.fullmatch(r"[12]\d{3}", str(n)) for n in names):
        return False
    numbers = [int(n) for n in names]
    steps = {after - before for before, after in itertools.pairwise(numbers)}
    return len(steps) == 1 and steps.pop() > 0


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _same_booleans(frame, columns=None, rewrite=None):
    """Write ``TRUE`` or ``false`` in the text columns of ``frame`` (or of
    ``columns``) as the categories that pandas' booleans make, ``"True"`` and
    ``"False"`` (or as ``rewrite`` maps them), in place: pandas reads a column
    of them alone as booleans, but leaves them as written beside any other
    value, so one such value in new rows would make them categories the
    model never saw."""
    import pandas as pd

    rewrite = _BOOLEAN_TEXT if rewrite is None else rewrite
    for column in frame.columns if columns is None else columns:
        values = frame[column]
        if rewrite and (
            values.dtype == object or isinstance(values.dtype, pd.StringDtype)
        ):
            frame[column] = values.replace(rewrite)


# A whole number, beside those with a decimal comma (tables.COMMA_DECIMAL).
_WHOLE_NUMBER = r"\s*[+-]?\d+\s*"


def _decimal_comma_numbers(text):
    """``comma, number``: which of the strings ``text`` are numbers with a
    decimal comma, and which are those or whole numbers."""
    from skdec.tables import COMMA_DECIMAL

    comma = text.str.fullmatch(COMMA_DECIMAL)
    return comma, comma | text.str.fullmatch(_WHOLE_NUMBER)


def _read_decimal_commas(frame, keep=()):
    """``frame`` with each text column whose values are all numbers, some of
    them written with a decimal comma (``1,5``) and the others whole, read
    as numbers: how spreadsheets save CSV files separated by semicolons or
    tabs where the comma is the decimal mark. Columns in ``keep`` stay as
    written."""
    import pandas as pd

    from skdec.tables import _present_text

    for column in frame.columns:
        if column in keep:
            continue
        values = frame[column]
        present = _present_text(values)
        if present is None:
            continue
        comma, number = _decimal_comma_numbers(present)
        if comma.any() and number.all():
            frame[column] = pd.to_numeric(values.str.replace(",", ".", regex=False))
            with_comma = pd.unique(present[comma])
            if all(re.fullmatch(_THOUSANDS, text) for text in with_comma):
                example = with_comma[0].strip()
                print(
                    f"skdec: warning: column '{column}' has numbers such as "
                    f"'{example}', read with a decimal comma "
                    f"({float(example.replace(',', '.'))!r}); if its comma "
                    "separates thousands, write the numbers without it.",
                    file=sys.stderr,
                )
    return frame


# A number whose comma could as well separate thousands: 1 to 3 digits, not
# starting with 0, a comma, 3 digits (0,125 is a fraction).
_THOUSANDS = r"\s*[+-]?[1-9]\d{0,2},\d{3}\s*"


def _model_decimal_commas(frame, numeric):
    """Read the numbers with a decimal comma of the text columns of
    ``frame`` that a model takes as numbers, in place; the other values stay
    text, which the model reads as gaps (as it reads ``<0.5`` in a file with
    decimal points). New rows with one such value would otherwise leave the
    whole column text, every number of it then a gap."""
    import pandas as pd

    from skdec.tables import _present_text

    for column in numeric:
        values = frame[column]
        if _present_text(values) is None:
            continue
        text = values.astype(str)
        number = _decimal_comma_numbers(text)[1]
        converted = pd.to_numeric(
            text[number].str.replace(",", ".", regex=False), errors="coerce"
        )
        frame[column] = values.astype(object).where(~number, converted)


def _read_model_table(path, model):
    """:func:`_read_table` of new rows for ``model`` (a pipeline of ``skdec
    fit``), its categorical columns read as it knows their levels."""
    return _read_table(path, codes=_model_codes(model), as_text=_model_texts(model))


def _model_levels(model):
    """``(column, levels)`` of each categorical column of ``model`` (a
    pipeline of ``skdec fit``); none for a model without such columns."""
    from skdec.tables import _pipeline_columns

    columns = _pipeline_columns(model)
    if columns is None or not columns[1]:
        return []
    encoder = model[0].named_transformers_["categorical"][-1]
    return list(zip(columns[1], encoder.categories_, strict=True))


def _model_codes(model):
    """The categorical columns of ``model`` (a pipeline of ``skdec fit``)
    that know a level written with a comma (``1,5``): new rows give them
    as written, not as numbers with a decimal comma. A model fitted before
    such codes were kept as written knows them as numbers (``1.5``) and
    reads them so still."""
    return [
        column
        for column, levels in _model_levels(model)
        if any("," in str(level) for level in levels)
    ]


def _model_texts(model):
    """The categorical columns of ``model`` (a pipeline of ``skdec fit``)
    that know a level written as a number that does not read back as
    written (``007``, ``1.50``): fit read them as text (a level such as
    ``A05`` beside them), and new rows without such a level would be read
    as numbers, ``7`` and ``1.5``, levels the model never saw."""
    import pandas as pd

    from skdec.tables import MISSING, _category

    def changed_as_number(level):
        number = pd.to_numeric(str(level), errors="coerce")
        return not pd.isna(number) and _category(float(number)) != str(level)

    return [
        column
        for column, levels in _model_levels(model)
        if any(changed_as_number(level) for level in levels if level != MISSING)
    ]


def _model_booleans(model, frame, categorical):
    """:func:`_same_booleans` on the categorical columns of ``frame``, for
    ``model`` (a pipeline of ``skdec fit``): ``TRUE`` or ``false`` become the
    model's category ``"True"`` or ``"False"`` where it has that category
    and not the text as written (a model fitted before fit wrote them so
    keeps reading them as written)."""
    if not categorical:
        return
    import pandas as pd

    encoder = model[0].named_transformers_["categorical"][-1]
    for column, levels in zip(categorical, encoder.categories_, strict=True):
        levels = {str(level) for level in levels}
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or (
            values.dtype == object
            and pd.api.types.infer_dtype(values.dropna()) == "boolean"
        ):
            # Read as booleans (a column of them alone): the model's levels
            # as it wrote them, "FALSE" say, where it has no "False".
            written = {
                value: next(
                    (
                        text
                        for text, level in _BOOLEAN_TEXT.items()
                        if level == str(value) and text in levels
                    ),
                    str(value),
                )
                for value in (True, False)
            }
            if any(written[value] != str(value) for value in written):
                frame[column] = frame[column].map(written)
            continue
        # A value the model knows as it is stays so: rewritten only to a
        # level the model knows.
        rewrite = {
            text: level
            for text, level in _BOOLEAN_TEXT.items()
            if text not in levels and level in levels
        }
        _same_booleans(frame, [column], rewrite)


def _check_columns_exist(frame, columns, path):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        # Quoted where spaces at either end would not show (" a" of "id, a").
        available = ", ".join(
            repr(c) if isinstance(c, str) and c != c.strip() else str(c)
            for c in frame.columns
        )
        raise UsageError(
            f"column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} not found in '{path}'. Available "
            f"columns: {available}."
        )


# ------------------------------------------------------------------- models


def sidecar_path(model_path):
    """Where skdec 0.1's ``skdec fit`` wrote the preprocessing of a model."""
    return Path(f"{os.fspath(model_path)}.json")


def _read_sidecar(path):
    import numpy as np

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
        and isinstance(content.get("label_column"), (str, type(None)))
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
            "written by 'skdec fit' (or was edited). Fit the model again with "
            "'skdec fit'."
        )
    return content


def _legacy_pipeline(dec, prep, side, model_path):
    """skdec 0.1's model and MODEL.json as one pipeline: its scaling, then DEC.

    The scaling ``(value - offset) / scale_factor`` is a StandardScaler with
    these as ``mean_`` and ``scale_``.
    """
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    columns = prep["columns"]
    if len(columns) != dec.n_features_in_:
        raise UsageError(
            f"'{side}' lists {len(columns)} columns but the model '{model_path}' "
            f"expects {dec.n_features_in_} features: the two files do not belong "
            "together. Fit again with 'skdec fit'."
        )
    scaler = StandardScaler().set_output(transform="pandas")
    scaler.mean_ = np.asarray(prep["offset"], dtype=np.float64)
    scaler.scale_ = np.asarray(prep["scale_factor"], dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    scaler.n_samples_seen_ = 0
    scaler.n_features_in_ = len(columns)
    scaler.feature_names_in_ = np.asarray(columns, dtype=object)
    return Pipeline([("scale", scaler), ("cluster", dec)])


def _load_model(path):
    """``(model, notes)``: the model file's estimator or pipeline, and notes."""
    from skdec import _persistence
    from skdec._estimator import DECClusterer

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"model file '{path}' is a folder: give a model file.")
    if not path.is_file():
        raise UsageError(f"model file '{path}' not found.")
    hint = " Give a model file written by 'skdec fit'."
    if path.suffix.lower() in (".csv", ".parquet", ".pq", ".json"):
        hint += " The model comes first: skdec COMMAND MODEL DATA."
    _quiet_keras()
    model, notes = _run(lambda: _persistence._load(path), hint=hint)
    side = sidecar_path(path)
    if isinstance(model, DECClusterer) and side.exists():  # skdec 0.1's fit
        prep = _read_sidecar(side)
        model = _legacy_pipeline(model, prep, side, path)
        notes = {"label_column": prep.get("label_column")}
    return model, notes


def _say_features_named(args, numeric, categorical, label_column=None):
    """Warn, on standard error, where the label column is one of the model's
    features (scores against it, or a table of the clusters against it,
    test nothing: the clusters were found with it), and where columns of
    ``--ignore`` are (a model that names its columns takes them whatever
    ``--ignore`` says)."""
    features = {*numeric, *categorical}
    if label_column is not None and label_column in features:
        print(
            f"skdec: warning: the label column '{label_column}' is one of the "
            "model's features (it was fitted with it; 'skdec fit "
            "--label-column' leaves it out): the clusters were found with the "
            "labels, so setting them against the labels proves nothing.",
            file=sys.stderr,
        )
    used = [column for column in args.ignore or () if column in features]
    if used:
        print(
            f"skdec: warning: --ignore has no effect on {', '.join(map(repr, used))}: "
            "the model names its columns and takes those; --ignore only "
            "leaves columns out for a model saved without column names.",
            file=sys.stderr,
        )


def _not_features(args, frame, *columns):
    """The columns of ``frame`` that a model without feature names must not
    take: ``columns`` (the label or id column, None for none) and those of
    ``--ignore``, which must exist."""
    ignored = list(args.ignore or ())
    _check_columns_exist(frame, ignored, args.data)
    return {*columns, *ignored} - {None}


def _model_columns(model, frame, data_path, exclude):
    """``numeric, categorical, X``: the columns the model uses, and its input.

    A pipeline of ``skdec fit`` takes the table itself. Any other model (one
    saved from Python) takes the columns it was fitted on, or, without
    feature names, every numeric column but ``exclude``, as numbers without
    missing values.
    """
    import pandas as pd

    from skdec.tables import _pipeline_columns

    columns = _pipeline_columns(model)
    if columns is not None:
        numeric, categorical = columns
        _check_columns_exist(frame, numeric + categorical, data_path)
        if frame.attrs.get("decimal_commas"):
            _model_decimal_commas(frame, numeric)
        _model_booleans(model, frame, categorical)
        return numeric, categorical, frame
    names = getattr(model, "feature_names_in_", None)
    n_expected = int(model.n_features_in_)
    if names is not None:
        numeric = [str(c) for c in names]
        _check_columns_exist(frame, numeric, data_path)
    else:
        numeric = [
            c
            for c in frame.columns
            if c not in exclude
            and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
        ]
        if len(numeric) != n_expected:
            raise UsageError(
                f"'{data_path}' has {len(numeric)} numeric feature columns "
                f"({', '.join(map(str, numeric))}) but the model expects "
                f"{n_expected}. Give a data file with the model's columns, or "
                "leave the others out with --ignore."
            )
    for column in numeric:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise UsageError(
                f"column '{column}' of '{data_path}' is not numeric (dtype "
                f"{values.dtype}, for example {example!r}), and the model was "
                "saved from Python without preprocessing. Fit it with 'skdec "
                "fit', which encodes such columns."
            )
        if values.isna().any():
            raise UsageError(
                f"column '{column}' of '{data_path}' has {int(values.isna().sum())} "
                "missing value(s), and the model was saved from Python without "
                "preprocessing. Fit it with 'skdec fit', which imputes them."
            )
    X = frame[numeric]
    return numeric, [], (X if names is not None else X.to_numpy(dtype=float))


# ----------------------------------------------------------------- commands


def _estimator_params(args):
    params = {
        name: getattr(args, name)
        for name in args.estimator_options
        if getattr(args, name) is not None
    }
    return {
        k: tuple(v) if isinstance(v, list) else (None if v is NONE_GIVEN else v)
        for k, v in params.items()
    }


def _cmd_fit(args, info):
    frame = _read_table(args.data, codes=args.categorical or ())
    _same_booleans(frame)
    exclude = [c for c in (args.label_column, args.id_column) if c is not None]
    ignore = args.ignore or []
    _check_columns_exist(frame, exclude + ignore, args.data)
    exclude += [c for c in ignore if c not in exclude]
    if args.columns:
        both = set(exclude).intersection(args.columns)
        if both:
            raise UsageError(
                f"column(s) {', '.join(map(repr, sorted(both)))} cannot be both "
                "a feature (--columns) and the label or id column or ignored."
            )
        repeated = sorted({c for c in args.columns if args.columns.count(c) > 1})
        if repeated:
            raise UsageError(
                f"column(s) {', '.join(map(repr, repeated))} given more than once "
                "in --columns."
            )
        _check_columns_exist(frame, args.columns, args.data)
        features = frame[args.columns]
    else:
        features = frame.drop(columns=exclude)
    categorical = args.categorical or []
    _check_columns_exist(frame, categorical, args.data)
    outside = [c for c in categorical if c not in features.columns]
    if outside:
        raise UsageError(
            f"--categorical column(s) {', '.join(map(repr, outside))} are not "
            "features (they are the label or id column, ignored, or not in "
            "--columns)."
        )
    _quiet_keras("umap")  # the start of init="auto" maps with UMAP
    from skdec._estimator import DECClusterer
    from skdec.tables import _refuse_gaps, _summary, make_tabular_pipeline

    if args.n_clusters_range is not None and args.n_clusters != "auto":
        raise UsageError(
            "--n-clusters-range bounds the choice of --n-clusters auto; with "
            f"--n-clusters {args.n_clusters} it would be ignored."
        )
    params = _estimator_params(args)
    params.setdefault("verbose", 0 if args.quiet else 1)
    pipeline = _run(
        lambda: make_tabular_pipeline(
            features,
            DECClusterer(**params),
            categorical=categorical,
            missing="error" if args.no_impute else "impute",
            scale=args.scale,
            max_categories=args.max_categories,
        )
    )
    if args.no_impute:
        # Every column with gaps in one message, not one kind at a time.
        _run(lambda: _refuse_gaps(pipeline, features, "leave out --no-impute"))
    try:
        _run(lambda: pipeline.fit(features))
    except OSError as exc:
        memory = args.memory
        # A --memory that is a file, or a folder that cannot be written.
        inside = memory is not None and exc.filename is not None
        if not (
            inside
            and Path(exc.filename).resolve().is_relative_to(Path(memory).resolve())
        ):
            raise
        raise UsageError(
            f"cannot use --memory '{memory}' as a cache folder: {exc.strerror} "
            f"('{exc.filename}')."
        ) from exc
    info(_summary(pipeline, features))
    dec = pipeline[-1]
    # Progress bars are the command's, not the model's: loaded in Python, it
    # is as quiet as DECClusterer's default.
    dec.verbose = 0
    model_path = Path(args.out)
    notes = {"label_column": args.label_column, "id_column": args.id_column}
    from skdec import _persistence

    try:
        _persistence._save(pipeline, model_path, notes=notes)
    except OSError as exc:
        raise UsageError(f"cannot write the model: {exc}") from exc
    import numpy as np

    if dec.n_clusters_scores_ is not None:
        from skdec._n_clusters import runner_up as second_best

        scores = dec.n_clusters_scores_
        runner_up = second_best(scores, dec.n_clusters_)
        second = (
            ""
            if runner_up is None
            else f"; runner-up {runner_up} (score {scores[runner_up]:.4f})"
        )
        info(
            f"--n-clusters auto chose {dec.n_clusters_} (score "
            f"{scores[dec.n_clusters_]:.4f}){second}"
        )
    sizes = np.bincount(dec.labels_, minlength=dec.n_clusters_)
    info(f"{dec.n_iter_} self-training iterations; cluster sizes {sizes.tolist()}")
    info(f"wrote {model_path}")
    return 0


def _predict(model, X, kind="predict_proba"):
    """``model.kind(X)`` of new rows. For a pipeline of ``skdec fit``,
    first the gaps of every column are refused in one message where it was
    fitted with ``--no-impute``, and the categories it never saw warned of."""
    from skdec.tables import _imputes, _pipeline_columns, _refuse_gaps

    if _pipeline_columns(model) is not None:
        if not _imputes(model):
            # Every column with gaps in one message, as fit names them; the
            # pipeline's parts would each refuse their own, one at a time.
            _run(lambda: _refuse_gaps(model, X, "fit without --no-impute"))
        _run(lambda: _say_unseen_categories(model, X))
    return _run(lambda: getattr(model, kind)(X))


# The columns that predict writes beside the rows' ids.
_PREDICTED = ("cluster", "probability")


def _cmd_predict(args, info):
    import numpy as np
    import pandas as pd

    from skdec.tables import _summary

    model, notes = _load_model(args.model)
    frame = _read_model_table(args.data, model)
    id_column = args.id_column
    if id_column is None and notes.get("id_column") in frame.columns:
        id_column = notes["id_column"]
    if id_column is not None:
        _check_columns_exist(frame, [id_column], args.data)
        if id_column in _PREDICTED:
            raise UsageError(
                f"the id column '{id_column}' has the name of a column that "
                f"predict writes ({', '.join(_PREDICTED)}): rename it in "
                f"'{args.data}'."
            )
    exclude = _not_features(args, frame, id_column, notes.get("label_column"))
    numeric, categorical, X = _model_columns(model, frame, args.data, exclude)
    _say_features_named(args, numeric, categorical)
    proba = _predict(model, X)
    if id_column is not None:
        # As written in DATA (007 stays 007, 12 does not become 12.0).
        # pandas' own array: Int64 with gaps stays whole (to_numpy: 100.0).
        ids = _read_table(args.data, [id_column])[id_column].array
        id_name = id_column
    else:
        ids, id_name = np.arange(len(frame)), "row"
    cluster, probability = _PREDICTED
    out = pd.DataFrame(
        {id_name: ids, cluster: proba.argmax(axis=1), probability: proba.max(1)}
    )
    try:
        out.to_csv(args.out, index=False)
    except OSError as exc:
        raise UsageError(f"cannot write '{args.out}': {exc}") from exc
    if X is frame:
        info(_summary(model, frame))
    info(f"wrote {len(out)} predictions to {args.out}")
    return 0


def _say_unseen_categories(model, frame):
    """Warn, on standard error, of the values of categorical columns in the
    rows ``frame`` that the model (a pipeline of ``skdec fit``) never saw:
    they are encoded as the column's rarer levels grouped, or as none of its
    categories, which may not be what they mean (``1`` where fitting saw
    ``True``)."""
    from skdec.tables import MISSING, _unseen_categories

    for column, (values, n_rows, grouped) in _unseen_categories(model, frame).items():
        shown = ["a gap" if value == MISSING else repr(value) for value in values]
        listed = ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else "")
        encoded = (
            "with its rarer categories" if grouped else "as none of its categories"
        )
        print(
            f"skdec: warning: column '{column}' has {len(values)} value(s) that "
            f"fitting never saw ({listed}), in {n_rows} row(s): they are encoded "
            f"{encoded}.",
            file=sys.stderr,
        )


def _labels_of(frame, label_column, data_path, info, required=True):
    """``(y, known)``: the labels of the rows that have one, and which rows
    those are; rows without a label are said (through ``info``) and left to
    the caller to leave out. A column without any value is an error, or,
    when not ``required``, said and ``(None, None)``."""
    import numpy as np
    import pandas as pd

    _check_columns_exist(frame, [label_column], data_path)
    y = frame[label_column]
    known = y.notna().to_numpy()
    if not known.any():
        if not required:
            info(f"the label column '{label_column}' has no value: no table of labels.")
            return None, None
        raise UsageError(
            f"label column '{label_column}' of '{data_path}' has no value."
        )
    if not known.all():
        info(
            f"{int((~known).sum())} row(s) without a value in the label column "
            f"'{label_column}' are left out of the comparison with the labels."
        )
    # A gap turns a column of integers into floats, and of booleans into
    # objects: give the labels back their own type.
    y = y[known].infer_objects()
    if pd.api.types.is_float_dtype(y) and (y == y.round()).all():
        y = y.astype(np.int64)
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return y.to_numpy(), known
    return y.astype(str).to_numpy(), known


def _cmd_evaluate(args, info):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from skdec.metrics import cluster_accuracy

    model, notes = _load_model(args.model)
    frame = _read_model_table(args.data, model)
    label_column = args.label_column or notes.get("label_column")
    if label_column is None:
        raise UsageError(
            "give the column of true labels with --label-column (the model was "
            "fitted without one)."
        )
    y, known = _labels_of(frame, label_column, args.data, info)
    exclude = _not_features(args, frame, label_column, notes.get("id_column"))
    numeric, categorical, X = _model_columns(model, frame, args.data, exclude)
    _say_features_named(args, numeric, categorical, label_column)
    labels = _predict(model, X, "predict")[known]
    print(f"ACC {cluster_accuracy(y, labels):.4f}")
    print(f"NMI {normalized_mutual_info_score(y, labels):.4f}")
    print(f"ARI {adjusted_rand_score(y, labels):.4f}")
    return 0


def _format_profile(profile, top):
    """The ``top`` features of each cluster, as lines of text: numeric
    columns, and the categories and gaps over-represented in the cluster."""
    lines = []
    for cluster, rows in profile.groupby("cluster", sort=True):
        first = rows.iloc[0]
        rows = rows[(rows["kind"] == "numeric") | (rows["std_difference"] > 0)]
        lines.append(
            f"cluster {cluster}: {first['size']} rows ({100 * first['share']:.1f}%)"
        )
        lines.append(
            f"  {'feature':<32} {'cluster':>10} {'others':>10} {'std diff':>9}"
        )
        for _, row in rows.head(top).iterrows():
            if row["kind"] == "numeric":
                inside, other = f"{row.cluster_mean:.4g}", f"{row.other_mean:.4g}"
            else:
                inside = f"{100 * row.cluster_mean:.1f}%"
                other = f"{100 * row.other_mean:.1f}%"
            lines.append(
                f"  {str(row.feature)[:32]:<32} {inside:>10} {other:>10} "
                f"{row.std_difference:>+9.2f}"
            )
    return lines


def _cmd_profile(args, info):
    import numpy as np
    import pandas as pd

    from skdec.tables import cluster_profile

    model, notes = _load_model(args.model)
    frame = _read_model_table(args.data, model)
    label_column = args.label_column
    if label_column is None and notes.get("label_column") in frame.columns:
        label_column = notes["label_column"]
    y, known = None, None
    if label_column:
        # New rows, say, exported with an empty label column: a profile
        # needs no labels.
        y, known = _labels_of(frame, label_column, args.data, info, required=False)
    exclude = _not_features(args, frame, label_column, notes.get("id_column"))
    numeric, categorical, X = _model_columns(model, frame, args.data, exclude)
    _say_features_named(args, numeric, categorical, label_column)
    labels = _predict(model, X, "predict")
    # The columns as the model sees them, whatever their dtypes in DATA.
    profile = _run(
        lambda: cluster_profile(frame, labels, numeric=numeric, categorical=categorical)
    )
    if args.out:  # first: printing can fail (a closed pipe)
        try:
            profile.to_csv(args.out, index=False)
        except OSError as exc:
            raise UsageError(f"cannot write '{args.out}': {exc}") from exc
        n_clusters = profile["cluster"].nunique()
        info(f"wrote the profile of {n_clusters} clusters to {args.out}")
    for line in _format_profile(profile, args.top):
        print(line)
    if y is not None:
        table = pd.crosstab(
            pd.Series(labels[known], name="cluster"), pd.Series(y, name=label_column)
        )
        # Every cluster, those whose rows all lack a label included.
        table = table.reindex(np.unique(labels), fill_value=0)
        table.index.name = "cluster"
        print(f"\nclusters against '{label_column}':")
        print(table.to_string())
    return 0


def _run(work, hint=""):
    """Run ``work``; report data errors (followed by ``hint``) and warnings,
    joblib's logged ones too, plainly."""
    import logging.handlers

    joblib_log = logging.handlers.BufferingHandler(capacity=sys.maxsize)
    joblib_log.setLevel(logging.WARNING)
    logger = logging.getLogger("joblib")
    propagate = logger.propagate
    logger.addHandler(joblib_log)
    logger.propagate = False  # not through the root logger's handlers
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = work()
            except (ValueError, FloatingPointError) as exc:
                # FloatingPointError: a fit that diverged, whose message
                # says what to change.
                raise UsageError(f"{exc}{hint}") from exc
    finally:
        logger.removeHandler(joblib_log)
        logger.propagate = propagate
    _print_warnings(caught)
    for record in joblib_log.buffer:
        print(f"skdec: warning: {_joblib_message(record)}", file=sys.stderr)
    return result


def _joblib_message(record):
    """One line for a record of joblib's log: a cached result that it could
    not read (with a traceback) is named as such."""
    message = record.getMessage()
    if "Exception while loading results" in message:
        return (
            "a cached pretraining in the --memory folder could not be read "
            "(damaged or cut short): it was computed again and stored anew."
        )
    return message.splitlines()[0]


def _print_warnings(caught):
    """Print the recorded warnings as ``skdec: warning:`` lines; scikit-learn's
    warnings of a model saved with another version of it, one per estimator,
    as one line."""
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    saved_with = set()
    for warning in caught:
        if issubclass(warning.category, InconsistentVersionWarning):
            saved_with.add(warning.message.original_sklearn_version)
        elif not issubclass(
            warning.category, (DeprecationWarning, PendingDeprecationWarning)
        ):
            print(f"skdec: warning: {warning.message}", file=sys.stderr)
    if saved_with:
        print(
            "skdec: warning: the model was saved with scikit-learn "
            f"{', '.join(sorted(saved_with))}, and this is scikit-learn "
            f"{sklearn.__version__}: its results may differ. Fit it again "
            "with 'skdec fit' to be sure.",
            file=sys.stderr,
        )


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
            "Fit DEC to the columns of DATA and write MODEL, one file holding "
            "the preprocessing and DEC (load it in Python with skdec.load). "
            "Numeric columns are imputed with their median and scaled; text, "
            "boolean and category columns are imputed with a 'missing' "
            "category and one-hot encoded."
        ),
    )
    fit.add_argument("data", metavar="DATA", help="CSV or Parquet (.parquet, .pq) file")
    fit.add_argument("--out", required=True, metavar="MODEL", help="model file")
    fit.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="feature columns (default: all but the label, id and ignored columns)",
    )
    fit.add_argument(
        "--ignore",
        nargs="+",
        metavar="COLUMN",
        help="columns left out of the features, besides the label and id columns "
        "(such as another outcome, or a column that encodes the label)",
    )
    fit.add_argument(
        "--categorical",
        nargs="+",
        metavar="COLUMN",
        help="integer-coded columns to treat as categories",
    )
    fit.add_argument(
        "--label-column",
        metavar="C",
        help="column of true labels, left out of the features; "
        "'skdec evaluate' and 'skdec profile' use it by default",
    )
    fit.add_argument(
        "--id-column", metavar="C", help="row identifier, left out of the features"
    )
    fit.add_argument(
        "--scale",
        choices=_SCALINGS,
        default="standard",
        help="scaling of the numeric columns (default: standard)",
    )
    fit.add_argument(
        "--no-impute",
        action="store_true",
        help="refuse missing values instead of imputing them",
    )
    fit.add_argument(
        "--max-categories",
        type=int,
        default=20,
        metavar="N",
        help="most categories kept per column; rarer ones are grouped (default: 20)",
    )
    fit.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars and no messages (warnings and errors are still printed)",
    )
    fit.set_defaults(handler=_cmd_fit, estimator_options=_add_estimator_options(fit))

    # What predict, evaluate and profile share.
    applying = argparse.ArgumentParser(add_help=False)
    applying.add_argument("model", metavar="MODEL", help="model file")
    applying.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    applying.add_argument(
        "--ignore",
        nargs="+",
        metavar="COLUMN",
        help="columns that are not features, for a model saved from Python "
        "without column names, which takes every numeric column else (the "
        "label and id columns given to 'skdec fit' are left out already)",
    )
    applying.add_argument("--quiet", action="store_true", help="no messages")

    predict = commands.add_parser(
        "predict",
        parents=[applying],
        help="write the cluster of each row",
        description=(
            "Write a CSV with the row identifier, the cluster and its probability "
            "(the largest soft assignment) of each row of DATA, in order; rows "
            "with missing values are imputed as in fitting."
        ),
    )
    predict.add_argument("--out", required=True, metavar="LABELS", help="CSV file")
    predict.add_argument(
        "--id-column",
        metavar="C",
        help="column that identifies the rows (default: the one given to fit "
        "if DATA has it, else the row number from 0)",
    )
    predict.set_defaults(handler=_cmd_predict)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[applying],
        help="print ACC, NMI and ARI against true labels",
        description=(
            "Print the cluster accuracy (Hungarian matching), normalized mutual "
            "information and adjusted Rand index of the model's clusters of DATA "
            "against its label column."
        ),
    )
    evaluate.add_argument(
        "--label-column",
        metavar="C",
        help="column of true labels (default: the one given to 'skdec fit')",
    )
    evaluate.set_defaults(handler=_cmd_evaluate)

    profile = commands.add_parser(
        "profile",
        parents=[applying],
        help="describe what distinguishes each cluster",
        description=(
            "Print, for each cluster of DATA, its size and the features that "
            "set it apart most: for numeric columns the mean in the cluster "
            "and over the other rows, for the categories over-represented in "
            "it the share of rows, and the standardised difference. Columns "
            "are read as the model reads them. With a label column, also "
            "print clusters against labels."
        ),
    )
    profile.add_argument(
        "--out", metavar="FILE", help="write the whole profile to this CSV file"
    )
    profile.add_argument(
        "--label-column",
        metavar="C",
        help="cross-tabulate the clusters against this column (default: the "
        "one given to 'skdec fit', if DATA has it)",
    )
    profile.add_argument(
        "--top",
        type=_positive_int,
        default=5,
        metavar="N",
        help="features printed per cluster (default: 5)",
    )
    profile.set_defaults(handler=_cmd_profile)
    return parser


def _check_out(args):
    """Refuse an ``--out`` that is the command's DATA or MODEL file, a
    folder, or in a folder that does not exist, before any work (a fit can
    take minutes)."""
    out = getattr(args, "out", None)
    if not out:
        return
    if out.endswith(("/", os.sep)):  # Path() would drop the slash
        raise UsageError(f"cannot write '{out}': it names a folder; give a file.")
    out = Path(out)
    for name in ("data", "model"):
        given = getattr(args, name, None)
        if given is not None and out.exists() and Path(given).exists():
            if os.path.samefile(out, given):
                raise UsageError(
                    f"--out '{out}' is the {name.upper()} file itself: give "
                    "another path."
                )
    if out.is_dir():
        raise UsageError(f"cannot write '{out}': it is a folder; give a file.")
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write '{out}': no folder '{folder}'.")


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
        _check_out(args)
        status = args.handler(args, info)
        sys.stdout.flush()  # a closed pipe shows here, not at the exit
        return status
    except UsageError as exc:
        print(f"skdec: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of standard output left (``| head``): as other commands
        # do, stop without a word, and let nothing flush to the closed pipe.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no file descriptor behind stdout
            pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
