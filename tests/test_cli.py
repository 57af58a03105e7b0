"""The ``skdec`` command: fit, predict, evaluate, profile, and its messages."""

import gzip
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.datasets import load_breast_cancer, make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.pipeline import Pipeline

import skdec
from skdec import cli
from skdec._estimator import DECClusterer
from skdec.cli import main, sidecar_path
from skdec.metrics import cluster_accuracy
from skdec.tables import cluster_profile

from _helpers import small_dec

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
TINY = [
    "--hidden-layer-sizes", "16",
    "--n-components", "2",
    "--pretrain-epochs", "5",
    "--max-iter", "20",
    "--update-interval", "10",
    "--n-init", "2",
    "--random-state", "0",
]  # fmt: skip


def _table(n_samples=120, random_state=0):
    """Blobs in three numeric columns, a category that follows the blobs,
    gaps in both, a text identifier, a label and an id."""
    X, y = make_blobs(n_samples, n_features=3, centers=3, random_state=random_state)
    frame = pd.DataFrame(X * [1.0, 10.0, 100.0], columns=["a", "b", "c"])
    frame["ward"] = np.array(["north", "south", "east"])[y]
    frame.loc[[3, 7, 11], "a"] = np.nan
    frame.loc[[4, 8], "ward"] = np.nan
    frame["label"] = y
    frame["name"] = [f"r{i}" for i in range(n_samples)]
    frame.insert(0, "id", range(1000, 1000 + n_samples))
    return frame


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A CSV of the table, and a model fitted on it by ``skdec fit``."""
    folder = tmp_path_factory.mktemp("cli")
    frame = _table()
    data = folder / "table.csv"
    frame.to_csv(data, index=False)
    model = folder / "table.skdec"
    argv = ["fit", str(data), "--n-clusters", "3", "--out", str(model)]
    assert main(argv + ["--label-column", "label", "--id-column", "id", *TINY]) == 0
    return folder, data, model, frame


def _run(argv, capsys):
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def _error(argv, capsys):
    """The error message of ``argv``: one line, after any warnings."""
    status, _, err = _run(argv, capsys)
    assert status == 2
    lines = err.splitlines()
    assert lines[-1].startswith("skdec: error: "), err
    assert all(line.startswith("skdec: warning: ") for line in lines[:-1]), err
    return lines[-1]


# ------------------------------------------------------------------- fit


def test_fit_writes_one_model_file_holding_the_preprocessing(fitted):
    _, _, model_path, frame = fitted
    assert not sidecar_path(model_path).exists()
    model = skdec.load(model_path)
    # Fitted without --quiet, with progress bars; the model keeps none
    # (before, verbose=1, and its refits in Python printed them).
    assert model[-1].verbose == 0
    assert isinstance(model, Pipeline)
    columns = {name: cols for name, _, cols in model[0].transformers}
    # The label and id columns are not features; nor is the identifier text.
    assert columns == {"numeric": ["a", "b", "c"], "categorical": ["ward"]}
    dec = model[-1]
    assert dec.get_params()["hidden_layer_sizes"] == (16,)
    assert dec.n_clusters == 3 and dec.max_iter == 20
    assert list(dec.feature_names_in_) == [
        "a", "b", "c", "ward_east", "ward_missing", "ward_north", "ward_south",
    ]  # fmt: skip
    np.testing.assert_array_equal(model.predict(frame), dec.labels_)


def test_fit_prints_what_it_used_once(tmp_path, capsys):
    frame = _table(60)
    frame.to_csv(tmp_path / "d.csv", index=False)
    argv = ["fit", str(tmp_path / "d.csv"), "--n-clusters", "2"]
    argv += ["--out", str(tmp_path / "m"), "--label-column", "label", *TINY]
    status, out, err = _run(argv, capsys)
    assert status == 0
    lines = err.splitlines()
    summary = "skdec: 4 numeric, 1 categorical -> 8 features; 5 values imputed"
    assert lines.count(summary) == 1
    # id is numeric here (no --id-column); name is an identifier, left out.
    assert (
        "skdec: warning: column 'name' is left out of the features: it has a "
        "different value in each of its 60 rows (an identifier?)." in lines
    )
    assert "━" in out  # Keras progress bars, on stdout
    assert lines[-1] == f"skdec: wrote {tmp_path / 'm'}"
    status, out, err = _run([*argv, "--quiet"], capsys)
    assert status == 0 and out == ""
    assert summary not in err and "wrote" not in err


def test_fit_options_choose_columns_categories_and_scaling(tmp_path):
    frame = _table(60).assign(stage=np.arange(60) % 3 + 1)
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "m.skdec"
    argv = ["fit", str(tmp_path / "d.csv"), "--n-clusters", "2", "--out", str(out)]
    argv += ["--columns", "c", "a", "stage", "--categorical", "stage"]
    argv += ["--scale", "minmax", "--quiet", *TINY]
    assert main(argv) == 0
    model = skdec.load(out)
    columns = {name: cols for name, _, cols in model[0].transformers}
    assert columns == {"numeric": ["c", "a"], "categorical": ["stage"]}
    scale = model[0].named_transformers_["numeric"].named_steps["scale"]
    a = frame["a"].fillna(frame["a"].median())
    np.testing.assert_allclose(scale.data_min_, [frame["c"].min(), a.min()])
    assert list(model[-1].feature_names_in_) == [
        "c", "a", "stage_1", "stage_2", "stage_3",
    ]  # fmt: skip


def test_a_fit_that_diverges_is_a_data_error_without_traceback(tmp_path, capsys):
    # Values on a scale of 1e30, not scaled: the loss overflows. Before, the
    # FloatingPointError left as a traceback, with exit status 1.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)) * 1e30, columns=list("abc"))
    frame.to_csv(tmp_path / "huge.csv", index=False)
    argv = ["fit", str(tmp_path / "huge.csv"), "--n-clusters", "2", "--quiet"]
    argv += ["--out", str(tmp_path / "m"), "--scale", "none", *TINY]
    status, out, err = _run(argv, capsys)
    assert status == 2
    assert err.startswith("skdec: error: The reconstruction loss became ")
    assert "Scale the input" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_fit_no_impute_refuses_missing_values(fitted, capsys, tmp_path):
    _, data, _, _ = fitted
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(tmp_path / "m")]
    err = _error([*argv, "--no-impute", "--quiet", *TINY], capsys)
    # Every column with gaps, numeric or not, in one message.
    assert (
        "Missing values in column(s) 'a' (3), 'ward' (2). Drop those rows, or "
        "leave out --no-impute." in err
    )
    assert not (tmp_path / "m").exists()


def test_a_no_impute_model_refuses_new_rows_with_gaps_plainly(fitted, capsys, tmp_path):
    # Before, the check of unseen categories met the gap first and let its
    # ValueError out as a traceback.
    _, _, _, frame = fitted
    full = frame.dropna()
    full.to_csv(tmp_path / "full.csv", index=False)
    model = str(tmp_path / "m.skdec")
    argv = ["fit", str(tmp_path / "full.csv"), "--n-clusters", "2", "--out", model]
    assert main([*argv, "--no-impute", "--quiet", "--id-column", "id", *TINY]) == 0
    gap = full.copy()
    gap.iloc[0, gap.columns.get_loc("ward")] = None
    gap.iloc[[1, 2], gap.columns.get_loc("a")] = None
    gap.to_csv(tmp_path / "gap.csv", index=False)
    for command in ("predict", "profile"):
        argv = [command, model, str(tmp_path / "gap.csv")]
        err = _error([*argv, "--out", str(tmp_path / "out.csv")], capsys)
        # Every column at once, as fit names them, with the command's remedy
        # (before: 'ward' alone, and "missing='impute'", a Python argument).
        assert (
            "Missing values in column(s) 'a' (2), 'ward' (1). Drop those rows, "
            "or fit without --no-impute." in err
        )


def test_a_label_or_ignored_column_that_the_model_takes_is_warned_of(
    fitted, capsys, tmp_path
):
    # Fitted without --label-column, the model takes the labels as a
    # feature: scores against them were high, silently (before).
    _, _, _, frame = fitted
    frame = frame.drop(columns="name")
    frame.to_csv(tmp_path / "t.csv", index=False)
    model = str(tmp_path / "m.skdec")
    argv = ["fit", str(tmp_path / "t.csv"), "--n-clusters", "3", "--out", model]
    assert (
        main([*argv, "--id-column", "id", "--categorical", "label", "--quiet", *TINY])
        == 0
    )
    data = str(tmp_path / "t.csv")
    said = "the label column 'label' is one of the model's features"
    for command in ("evaluate", "profile"):
        status, _, err = _run([command, model, data, "--label-column", "label"], capsys)
        assert status == 0 and said in err
    # --ignore cannot leave out a column that such a model takes.
    out = str(tmp_path / "p.csv")
    status, _, err = _run(
        ["predict", model, data, "--out", out, "--ignore", "b"], capsys
    )
    assert status == 0 and "--ignore has no effect on 'b'" in err
    # A model fitted with --label-column: neither warning.
    _, data, model, _ = fitted
    for command in ("evaluate", "profile"):
        status, _, err = _run([command, str(model), str(data)], capsys)
        assert status == 0 and "warning" not in err, err


def test_fit_passes_the_options_it_is_given(tmp_path):
    # What reaches the estimator, not what it makes of it: a fit of no
    # self-training and one pretraining epoch.
    frame = pd.DataFrame(
        np.random.default_rng(0).normal(size=(40, 4)), columns=list("abcd")
    )
    data, model = tmp_path / "d.csv", tmp_path / "m.skdec"
    frame.to_csv(data, index=False)
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(model), "--quiet"]
    argv += ["--max-iter", "0", "--pretrain-epochs", "1", "--hidden-layer-sizes", "4"]
    options = ["--reconstruction-weight", "2.5", "--init", "kmeans_input"]
    options += ["--umap-metric", "cosine", "--umap-merge", "--ignore", "b", "d"]
    assert main([*argv, *options]) == 0
    pipe = skdec.load(model)
    dec = pipe[-1]
    assert dec.reconstruction_weight == 2.5
    assert (dec.init, dec.umap_metric, dec.umap_merge) == (
        "kmeans_input",
        "cosine",
        True,
    )
    assert list(dec.feature_names_in_) == ["a", "c"]  # b and d ignored
    assert main([*argv, "--no-umap-merge"]) == 0
    assert skdec.load(model)[-1].umap_merge is False
    # None, where the parameter takes it: patience=None never stops early.
    assert main([*argv, "--patience", "none"]) == 0
    assert skdec.load(model)[-1].patience is None
    assert main([*argv, "--patience", "3"]) == 0
    assert skdec.load(model)[-1].patience == 3


# --------------------------------------------------- predict, evaluate


def test_predict_writes_every_row_in_order_with_its_id(fitted, tmp_path, capsys):
    _, data, model_path, frame = fitted
    out = tmp_path / "labels.csv"
    status, _, err = _run(
        ["predict", str(model_path), str(data), "--out", str(out)], capsys
    )
    assert status == 0
    assert "skdec: 3 numeric, 1 categorical -> 7 features; 5 values imputed" in err
    labels = pd.read_csv(out)
    # The id column given to fit is used by default.
    assert list(labels.columns) == ["id", "cluster", "probability"]
    np.testing.assert_array_equal(labels["id"], frame["id"])
    q = skdec.load(model_path).predict_proba(frame)
    np.testing.assert_array_equal(labels["cluster"], q.argmax(axis=1))
    np.testing.assert_allclose(labels["probability"], q.max(axis=1), rtol=1e-6)

    # New rows, shuffled, without the label, with gaps and an unseen category.
    new = frame.drop(columns="label").sample(frac=1.0, random_state=1)
    new.loc[new.index[0], ["a", "b", "c", "ward"]] = np.nan
    new.loc[new.index[1], "ward"] = "west"
    new.to_csv(tmp_path / "new.csv", index=False)
    argv = ["predict", str(model_path), str(tmp_path / "new.csv"), "--out", str(out)]
    assert main(argv + ["--id-column", "name", "--quiet"]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["name", "cluster", "probability"]
    np.testing.assert_array_equal(written["name"], new["name"])
    expected = skdec.load(model_path).predict(new)
    np.testing.assert_array_equal(written["cluster"], expected)
    unchanged = written.set_index("name").drop(index=new["name"].iloc[:2])
    np.testing.assert_array_equal(
        unchanged.loc[
            frame["name"][~frame["name"].isin(new["name"].iloc[:2])], "cluster"
        ],
        labels["cluster"][~frame["name"].isin(new["name"].iloc[:2])],
    )


def test_evaluate_prints_acc_nmi_ari(fitted, capsys):
    _, data, model_path, frame = fitted
    # --label-column defaults to the one given to fit.
    status, out, _ = _run(["evaluate", str(model_path), str(data)], capsys)
    assert status == 0
    printed = dict(line.split() for line in out.splitlines())
    assert list(printed) == ["ACC", "NMI", "ARI"]
    labels = skdec.load(model_path).predict(frame)
    y = frame["label"]
    assert float(printed["ACC"]) == pytest.approx(cluster_accuracy(y, labels), 1e-3)
    assert float(printed["NMI"]) == pytest.approx(
        normalized_mutual_info_score(y, labels), abs=1e-4
    )
    assert float(printed["ARI"]) == pytest.approx(
        adjusted_rand_score(y, labels), abs=1e-4
    )


def test_rows_without_a_label_are_left_out_of_evaluate_and_profile(
    fitted, tmp_path, capsys
):
    _, _, model_path, frame = fitted
    gaps = frame.copy()
    gaps.loc[[0, 3, 7], "label"] = np.nan
    gaps.to_csv(tmp_path / "gaps.csv", index=False)
    labels = skdec.load(model_path).predict(frame)
    known = gaps["label"].notna().to_numpy()
    status, out, err = _run(
        ["evaluate", str(model_path), str(tmp_path / "gaps.csv")], capsys
    )
    assert status == 0
    assert "3 row(s) without a value in the label column 'label'" in err
    acc = cluster_accuracy(gaps["label"][known], labels[known])
    assert float(dict(line.split() for line in out.splitlines())["ACC"]) == (
        pytest.approx(acc, abs=1e-4)
    )
    # The profile is of every row; the table against the labels of those known.
    status, out, err = _run(
        ["profile", str(model_path), str(tmp_path / "gaps.csv")], capsys
    )
    assert status == 0 and "3 row(s) without a value" in err
    lines = out.splitlines()
    start = lines.index("clusters against 'label':")
    counts = [list(map(int, line.split()[1:])) for line in lines[start + 3 : start + 6]]
    assert np.sum(counts) == known.sum()
    np.testing.assert_array_equal(
        counts, pd.crosstab(labels[known], gaps["label"][known]).to_numpy()
    )
    for cluster in range(3):
        size = int((labels == cluster).sum())
        assert (
            f"cluster {cluster}: {size} rows ({100 * size / len(frame):.1f}%)" in lines
        )
    # Integer labels with a gap are read as floats: shown as the integers.
    header = lines[start + 1].split()[1:]
    assert header == [str(v) for v in sorted(set(frame["label"]))]
    # A cluster whose rows all lack a label is still a row of the table.
    unlabelled = gaps.copy()
    unlabelled.loc[labels == 2, "label"] = np.nan
    unlabelled.to_csv(tmp_path / "unlabelled.csv", index=False)
    status, out, _ = _run(
        ["profile", str(model_path), str(tmp_path / "unlabelled.csv")], capsys
    )
    lines = out.splitlines()
    start = lines.index("clusters against 'label':")
    assert [line.split()[0] for line in lines[start + 3 : start + 6]] == [
        "0",
        "1",
        "2",
    ]
    n_known = unlabelled["label"].nunique()
    assert lines[start + 5].split()[1:] == ["0"] * n_known
    # No label at all: an error for evaluate; the profile goes without a table.
    gaps["label"] = np.nan
    gaps.to_csv(tmp_path / "none.csv", index=False)
    none = str(tmp_path / "none.csv")
    status, _, err = _run(["evaluate", str(model_path), none], capsys)
    assert status == 2 and "label column 'label' of" in err and "has no value" in err
    status, out, err = _run(["profile", str(model_path), none], capsys)
    assert status == 0 and "clusters against" not in out and "cluster 0:" in out
    assert "the label column 'label' has no value" in err
    # --quiet says nothing, and scores the same rows.
    quiet = ["evaluate", str(model_path), str(tmp_path / "gaps.csv"), "--quiet"]
    status, out, err = _run(quiet, capsys)
    assert status == 0 and err == ""
    assert float(dict(line.split() for line in out.splitlines())["ACC"]) == (
        pytest.approx(acc, abs=1e-4)
    )


def test_breast_cancer_with_parquet(tmp_path, capsys):
    data = load_breast_cancer(as_frame=True).frame
    data.to_parquet(tmp_path / "cancer.parquet")
    model = tmp_path / "cancer.skdec"
    argv = ["fit", str(tmp_path / "cancer.parquet"), "--n-clusters", "2"]
    argv += ["--out", str(model), "--label-column", "target", "--quiet", *TINY]
    assert main(argv) == 0
    assert skdec.load(model)[-1].n_features_in_ == 30
    argv = ["evaluate", str(model), str(tmp_path / "cancer.parquet"), "--quiet"]
    status, out, _ = _run(argv, capsys)
    assert status == 0
    # Two blobs of standardised tumour measurements: k-means finds the
    # diagnosis at about 0.91; the tiny network must be well above chance.
    assert float(out.split()[1]) > 0.8


# --------------------------------------------------------------- profile


def test_profile_prints_each_cluster_and_writes_the_whole_profile(
    fitted, tmp_path, capsys
):
    _, data, model_path, frame = fitted
    out = tmp_path / "profile.csv"
    argv = ["profile", str(model_path), str(data), "--out", str(out), "--top", "2"]
    status, printed, err = _run(argv, capsys)
    assert status == 0
    labels = skdec.load(model_path).predict(frame)
    expected = cluster_profile(
        frame, labels, numeric=["a", "b", "c"], categorical=["ward"]
    )
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert len(written) == len(expected)
    np.testing.assert_allclose(written["std_difference"], expected["std_difference"])
    assert list(written["feature"]) == list(expected["feature"])
    assert f"wrote the profile of 3 clusters to {out}" in err

    lines = printed.splitlines()
    for cluster in range(3):
        size = int((labels == cluster).sum())
        header = f"cluster {cluster}: {size} rows ({100 * size / len(frame):.1f}%)"
        start = lines.index(header)
        # Numbers, and only the categories over-represented in the cluster
        # (of ward=north and ward=south, one is below the others' share).
        rows = expected[expected.cluster == cluster]
        top = rows[(rows.kind == "numeric") | (rows.std_difference > 0)].head(2)
        for line, (_, row) in zip(
            lines[start + 2 : start + 4], top.iterrows(), strict=True
        ):
            assert line.split()[0] == row.feature
            assert line.split()[-1] == f"{row.std_difference:+.2f}"
    printed_categories = [line.split() for line in lines if line.startswith("  ward=")]
    assert printed_categories
    assert all(float(words[-1]) > 0 for words in printed_categories)
    # The label column given to fit: clusters against labels.
    table = pd.crosstab(labels, frame["label"]).to_numpy()
    start = lines.index("clusters against 'label':")
    counts = [list(map(int, line.split()[1:])) for line in lines[start + 3 : start + 6]]
    np.testing.assert_array_equal(counts, table)


def test_profile_reads_the_columns_as_the_model_does(fitted, tmp_path, capsys):
    _, _, model_path, frame = fitted
    # New rows where a numeric column holds a text value (read as a gap, as
    # the model reads it) and another has no value at all.
    new = frame.astype({"a": object})
    new.loc[0, "a"] = "<0.5"
    new["c"] = np.nan
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "profile.csv"
    argv = ["profile", str(model_path), str(tmp_path / "new.csv"), "--out", str(out)]
    status, _, _ = _run([*argv, "--quiet"], capsys)
    assert status == 0
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert set(written["column"]) == {"a", "b", "c", "ward"}
    assert set(written.loc[written.kind == "numeric", "feature"]) == {"a", "b", "c"}
    assert written.loc[written.feature == "c", "std_difference"].isna().all()
    labels = skdec.load(model_path).predict(new)
    a = pd.to_numeric(new["a"], errors="coerce")
    a_rows = written[written.feature == "a"].set_index("cluster")
    for cluster in range(3):
        inside = a[labels == cluster]
        assert a_rows.loc[cluster, "cluster_mean"] == pytest.approx(inside.mean())
    # The text value is a gap, and the profile says in which cluster.
    gaps = written[written.feature == "a=missing"].set_index("cluster")
    assert (gaps["kind"] == "missing").all()
    shares = a.isna().groupby(labels).mean()
    np.testing.assert_allclose(gaps["cluster_mean"], shares)
    # Printed as shares, in the clusters where gaps are over-represented.
    status, printed, _ = _run([*argv[:3], "--top", "10", "--quiet"], capsys)
    assert status == 0
    printed_shares = {}
    for line in printed.splitlines():
        if header := re.match(r"cluster (\d+): ", line):
            cluster = int(header[1])
        elif line.startswith("  a=missing "):
            printed_shares[cluster] = line.split()[1:3]
    over = gaps[gaps.std_difference > 0]
    assert set(printed_shares) == set(over.index) and len(over)
    for cluster, row in over.iterrows():
        expected = [f"{100 * row.cluster_mean:.1f}%", f"{100 * row.other_mean:.1f}%"]
        assert printed_shares[cluster] == expected


# ---------------------------------------------------------- old models


def test_models_of_skdec_0_1_still_predict_as_before(tmp_path, capsys):
    out = tmp_path / "p.csv"
    argv = ["predict", str(DATA / "v1_cli.skdec"), str(DATA / "v1_cli_blobs.csv")]
    assert main([*argv, "--out", str(out), "--id-column", "id", "--quiet"]) == 0
    before = pd.read_csv(DATA / "v1_cli_predictions.csv")
    now = pd.read_csv(out)
    np.testing.assert_array_equal(now["id"], before["id"])
    np.testing.assert_array_equal(now["cluster"], before["cluster"])
    np.testing.assert_allclose(now["probability"], before["probability"], rtol=1e-5)
    # The label column saved in its MODEL.json is still the default.
    argv = ["evaluate", str(DATA / "v1_cli.skdec"), str(DATA / "v1_cli_blobs.csv")]
    status, printed, _ = _run(argv, capsys)
    assert status == 0 and printed.startswith("ACC ")


def test_a_preprocessing_file_of_skdec_0_1_without_label_column(tmp_path, capsys):
    # Written before the label column was kept: it had none.
    copy = tmp_path / "m.skdec"
    copy.write_bytes((DATA / "v1_cli.skdec").read_bytes())
    prep = json.loads(sidecar_path(DATA / "v1_cli.skdec").read_text())
    del prep["label_column"]
    sidecar_path(copy).write_text(json.dumps(prep))
    argv = ["evaluate", str(copy), str(DATA / "v1_cli_blobs.csv")]
    assert "give the column of true labels with --label-column" in _error(argv, capsys)
    status, printed, _ = _run([*argv, "--label-column", "label"], capsys)
    assert status == 0 and printed.startswith("ACC ")


def test_an_edited_preprocessing_file_of_skdec_0_1_is_refused(tmp_path, capsys):
    copy = tmp_path / "m.skdec"
    copy.write_bytes((DATA / "v1_cli.skdec").read_bytes())
    sidecar_path(copy).write_text('{"format": "something else"}')
    argv = ["evaluate", str(copy), str(DATA / "v1_cli_blobs.csv")]
    err = _error([*argv, "--label-column", "label"], capsys)
    assert "is not a valid skdec preprocessing file" in err
    assert "Fit the model again with 'skdec fit'." in err


def test_models_saved_from_python_take_their_columns(fitted, capsys, tmp_path):
    _, data, _, frame = fitted
    # Fitted on an array of five columns: no names, no preprocessing.
    model = tmp_path / "five.skdec"
    small_dec(pretrain_epochs=1, max_iter=0).fit(np.random.rand(30, 5)).save(model)
    argv = ["predict", str(model), str(data), "--out", str(tmp_path / "x.csv")]
    err = _error([*argv, "--id-column", "id"], capsys)
    assert "has 4 numeric feature columns (a, b, c, label) but the model" in err
    assert "expects 5. Give a data file with the model's columns, or leave" in err
    # Every numeric column but the id: five, but with gaps.
    err = _error(argv, capsys)
    assert "column 'a' of" in err and "has 3 missing value(s)" in err
    assert "saved from Python without preprocessing" in err
    # Fitted on named columns: those, without missing values.
    named = tmp_path / "named.skdec"
    small_dec(pretrain_epochs=1, max_iter=0).fit(frame[["b", "c"]]).save(named)
    argv = ["predict", str(named), str(data), "--out", str(tmp_path / "x.csv")]
    assert main([*argv, "--quiet"]) == 0
    np.testing.assert_array_equal(
        pd.read_csv(tmp_path / "x.csv")["cluster"],
        skdec.load(named).predict(frame[["b", "c"]]),
    )
    small_dec(pretrain_epochs=1, max_iter=0).fit(frame[["b", "a"]].fillna(0)).save(
        named
    )
    err = _error(argv, capsys)
    assert "column 'a' of" in err and "has 3 missing value(s)" in err


def test_models_saved_from_python_leave_out_the_ignored_columns(
    fitted, capsys, tmp_path
):
    _, _, _, frame = fitted
    # Fitted on an array of two columns, then given a table with an id and
    # a label beside them: each command is told which columns are not
    # features.
    model = tmp_path / "two.skdec"
    X = frame[["b", "c"]].to_numpy(dtype=float)
    small_dec(pretrain_epochs=1, max_iter=0).fit(X).save(model)
    data = tmp_path / "two.csv"
    frame[["id", "b", "c", "label"]].to_csv(data, index=False)
    expected = skdec.load(model).predict(X)
    out = tmp_path / "x.csv"
    argv = ["predict", str(model), str(data), "--out", str(out), "--quiet"]
    assert main([*argv, "--ignore", "id", "label"]) == 0
    np.testing.assert_array_equal(pd.read_csv(out)["cluster"], expected)
    err = _error(argv[:-1], capsys)
    assert "has 4 numeric feature columns (id, b, c, label)" in err
    assert "leave the others out with --ignore" in err
    err = _error([*argv, "--ignore", "id", "nothing"], capsys)
    assert "column 'nothing' not found" in err
    # evaluate and profile leave out the label column, and the id ignored.
    evaluate = ["evaluate", str(model), str(data), "--label-column", "label"]
    status, out_text, _ = _run([*evaluate, "--ignore", "id"], capsys)
    assert status == 0
    accuracy = skdec.cluster_accuracy(frame["label"], expected)
    assert f"ACC {accuracy:.4f}" in out_text
    err = _error(evaluate, capsys)
    assert "has 3 numeric feature columns (id, b, c)" in err
    profile = ["profile", str(model), str(data), "--label-column", "label"]
    status, out_text, _ = _run([*profile, "--ignore", "id"], capsys)
    assert status == 0
    sizes = np.bincount(expected, minlength=int(expected.max()) + 1)
    for cluster, size in enumerate(sizes):
        if size:
            assert f"cluster {cluster}: {size} rows" in out_text


def test_a_model_of_another_scikit_learn_warns_once(
    fitted, tmp_path, capsys, monkeypatch
):
    # scikit-learn warns once per estimator restored from a file saved with
    # another version of it; before, each warning came out raw on stderr.
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    from skdec import _persistence

    _, data, model_path, _ = fitted
    load = _persistence._load

    def load_saved_with_1_0_2(path):
        for name in ("StandardScaler", "OneHotEncoder"):
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=name,
                    current_sklearn_version=sklearn.__version__,
                    original_sklearn_version="1.0.2",
                ),
                stacklevel=2,
            )
        return load(path)

    monkeypatch.setattr(_persistence, "_load", load_saved_with_1_0_2)
    out = tmp_path / "labels.csv"
    argv = ["predict", str(model_path), str(data), "--out", str(out), "--quiet"]
    status, _, err = _run(argv, capsys)
    assert status == 0
    assert err.splitlines() == [
        "skdec: warning: the model was saved with scikit-learn 1.0.2, and this is "
        f"scikit-learn {sklearn.__version__}: its results may differ. Fit it again "
        "with 'skdec fit' to be sure."
    ]


def test_predict_writes_the_ids_as_they_are(fitted, tmp_path, capsys):
    _, _, model_path, frame = fitted
    new = frame.drop(columns="label")
    # Identifiers with leading zeros, and one row without one; some that
    # pandas reads as gaps by default (before: written as empty cells).
    new["id"] = [f"{i:05d}" for i in range(len(new))]
    new.loc[5, "id"] = np.nan
    new.loc[7:10, "id"] = ["NA", "null", "None", "#N/A"]
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "labels.csv"
    argv = ["predict", str(model_path), str(tmp_path / "new.csv"), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    written = pd.read_csv(out, dtype={"id": str})
    np.testing.assert_array_equal(
        written["id"].iloc[:5], ["00000", "00001", "00002", "00003", "00004"]
    )
    assert pd.isna(written["id"].iloc[5]) and written["id"].iloc[6] == "00006"
    with open(out) as file:
        ids = [line.split(",")[0] for line in file.read().splitlines()[1:]]
    assert ids[5] == "" and ids[7:11] == ["NA", "null", "None", "#N/A"]
    clusters = written["cluster"]
    # A Parquet file keeps its types: the ids come back as they are.
    new.to_parquet(tmp_path / "new.parquet")
    parquet = ["predict", str(model_path), str(tmp_path / "new.parquet")]
    assert main([*parquet, "--out", str(out), "--quiet"]) == 0
    from_parquet = pd.read_csv(out, dtype={"id": str})
    pd.testing.assert_frame_equal(from_parquet, written)
    # A column of numbers as the identifier, written as in DATA; the model
    # still reads it as numbers.
    assert main([*argv, "--quiet", "--id-column", "a"]) == 0
    written = pd.read_csv(out, dtype={"a": str})
    np.testing.assert_array_equal(written["cluster"], clusters)
    text = pd.read_csv(tmp_path / "new.csv", dtype={"a": str})["a"]
    np.testing.assert_array_equal(written["a"].fillna(""), text.fillna(""))
    # Whole numbers with a gap in a Parquet file (pandas' Int64): before,
    # written 100.0, 101.0, ...
    new["id"] = pd.array([100 + i for i in range(len(new))], dtype="Int64")
    new.loc[5, "id"] = pd.NA
    new.to_parquet(tmp_path / "new.parquet")
    assert main([*parquet, "--out", str(out), "--quiet"]) == 0
    with open(out) as file:
        ids = [line.split(",")[0] for line in file.read().splitlines()[1:]]
    assert ids[:7] == ["100", "101", "102", "103", "104", "", "106"]


def test_categories_that_fitting_never_saw_are_warned_of(fitted, tmp_path, capsys):
    # Encoded as none of the column's categories, silently before: a column
    # written otherwise in new rows (1/0 for True/False, say) lost its meaning.
    _, data, model, frame = fitted
    out = str(tmp_path / "labels.csv")
    _, _, err = _run(["predict", str(model), str(data), "--out", out], capsys)
    assert "never saw" not in err
    new = frame.copy()
    new.loc[[0, 1], "ward"] = "west"
    new.loc[2, "ward"] = "North"
    new.to_csv(tmp_path / "new.csv", index=False)
    for command in ("predict", "profile"):
        argv = [command, str(model), str(tmp_path / "new.csv"), "--out", out]
        status, _, err = _run(argv, capsys)
        assert status == 0
        assert (
            "skdec: warning: column 'ward' has 2 value(s) that fitting never saw "
            "('North', 'west'), in 3 row(s): they are encoded as none of its "
            "categories." in err
        )


def test_csv_files_separated_by_semicolons_or_tabs(fitted, tmp_path, capsys):
    _, data, model_path, frame = fitted
    out = tmp_path / "labels.csv"
    argv = ["predict", str(model_path), str(data), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    expected = pd.read_csv(out)
    for sep, suffix in ((";", "csv"), ("\t", "tsv")):
        other = tmp_path / f"table.{suffix}"
        frame.to_csv(other, sep=sep, index=False)
        argv[2] = str(other)
        assert main(argv) == 0
        pd.testing.assert_frame_equal(pd.read_csv(out), expected)
    # As spreadsheets write them where the comma is the decimal mark.
    assert (frame["a"].dropna() % 1 != 0).any()
    for sep in (";", "\t"):
        frame.to_csv(tmp_path / "comma.csv", sep=sep, decimal=",", index=False)
        argv[2] = str(tmp_path / "comma.csv")
        assert main(argv) == 0
        pd.testing.assert_frame_equal(pd.read_csv(out), expected)
    # Column by column: a column of points stays as it is beside one of
    # commas, and a quoted separator is no field of its own.
    (tmp_path / "mixed.csv").write_text(
        'a;b;c;name\n0,5;1.25;2;"x; 2.5"\n-1,75;2.5;3;"1,5"\n2;3.0;4;y\n'
    )
    table = cli._read_table(tmp_path / "mixed.csv")
    assert table["a"].tolist() == [0.5, -1.75, 2.0]
    assert table["b"].tolist() == [1.25, 2.5, 3.0]
    assert table["c"].tolist() == [2, 3, 4]
    assert table["name"].tolist() == ["x; 2.5", "1,5", "y"]
    # A comma-separated file keeps quoted commas as text.
    (tmp_path / "plain.csv").write_text('a,b\n"0,5",1\n"1,5",2\n')
    assert cli._read_table(tmp_path / "plain.csv")["a"].tolist() == ["0,5", "1,5"]
    # A compressed file, which pandas opens itself, whatever its bytes hold
    # (here a name with a semicolon in its gzip header).
    with open(tmp_path / "table.csv.gz", "wb") as raw:
        with gzip.GzipFile("a;b.csv", mode="wb", fileobj=raw, mtime=0) as file:
            file.write(frame.to_csv(index=False).encode())
    argv[2] = str(tmp_path / "table.csv.gz")
    assert main(argv) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), expected)
    # Compressed files separated by semicolons (with decimal commas) or by
    # tabs: their first lines decide, as a plain file's (before: a comma was
    # taken, and the file refused or read as one column).
    for suffix, sep in ((".gz", ";"), (".bz2", "\t"), (".xz", ";")):
        packed = tmp_path / f"packed.csv{suffix}"
        frame.to_csv(packed, sep=sep, decimal=",", index=False)
        argv[2] = str(packed)
        assert main(argv) == 0, suffix
        pd.testing.assert_frame_equal(pd.read_csv(out), expected)
    # A comma in the first line decides, even beside semicolons.
    frame.rename(columns={"name": "name;text"}).to_csv(tmp_path / "c.csv", index=False)
    argv[2] = str(tmp_path / "c.csv")
    assert main(argv) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), expected)


def test_a_comma_that_may_separate_thousands_is_warned_of(tmp_path, capsys):
    # In a file separated by tabs, '2,750' is read with a decimal comma
    # (2.75), as '64,2' is; where every comma of a column is followed by
    # three digits, it may as well separate thousands: say so.
    (tmp_path / "t.tsv").write_text(
        "age\tincome\tscore\n64,2\t500\t1,5\n70,1\t2,750\t2,25\n58,0\t1,250\t3\n"
    )
    capsys.readouterr()
    table = cli._read_table(tmp_path / "t.tsv")
    assert table["income"].tolist() == [500, 2.75, 1.25]
    assert table["age"].tolist() == [64.2, 70.1, 58.0]
    err = capsys.readouterr().err
    assert (
        "skdec: warning: column 'income' has numbers such as '2,750', read "
        "with a decimal comma (2.75); if its comma separates thousands, write "
        "the numbers without it." in err
    )
    assert "'age'" not in err and "'score'" not in err
    # A fraction of three decimals (0,125) separates no thousands.
    (tmp_path / "f.tsv").write_text("p\tq\n0,125\t1\n0,250\t2\n0,500\t3\n")
    assert cli._read_table(tmp_path / "f.tsv")["p"].tolist() == [0.125, 0.25, 0.5]
    assert "warning" not in capsys.readouterr().err


# ----------------------------------------------------------------- errors


def _two_groups(n=40, seed=0):
    """A numeric column of two far-apart groups and a column of noise."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0, 0.3, n // 2), rng.normal(5, 0.3, n // 2)].round(2)
    return x, rng.normal(size=n).round(2)


def test_new_rows_with_a_decimal_comma_and_one_text_value(tmp_path, capsys):
    # Fitted on numbers with decimal commas, new rows whose column holds one
    # text value: only that value is a gap (before, the column stayed text
    # and every number of it was a gap).
    x, y = _two_groups()
    comma = [f"{v}".replace(".", ",") for v in x]
    lines = [f"{a};{str(b).replace('.', ',')}" for a, b in zip(comma, y, strict=True)]
    (tmp_path / "fit.csv").write_text("x;y\n" + "\n".join(lines) + "\n")
    lines[0] = "<0,5;" + lines[0].split(";")[1]
    (tmp_path / "new.csv").write_text("x;y\n" + "\n".join(lines) + "\n")
    model = str(tmp_path / "m.skdec")
    fit = ["fit", str(tmp_path / "fit.csv"), "--n-clusters", "2", "--out", model]
    assert main([*fit, *TINY, "--quiet"]) == 0
    out = str(tmp_path / "p.csv")
    predict = ["predict", model, str(tmp_path / "new.csv"), "--out", out]
    status, _, err = _run(predict, capsys)
    assert status == 0 and "; 1 values imputed" in err
    new = pd.read_csv(out)["cluster"].to_numpy()
    assert main(["predict", model, str(tmp_path / "fit.csv"), "--out", out]) == 0
    np.testing.assert_array_equal(new[1:], pd.read_csv(out)["cluster"][1:])


def test_a_column_of_decimal_commas_under_a_header_of_one_name_is_refused(
    tmp_path, capsys
):
    # '1,5' under a header of one name reads as well as a row name and a
    # value (R's write.table): before, the file was read as row names 1, 2,
    # ... and values 5, 25, ..., with a warning of row names only.
    (tmp_path / "w.csv").write_text("weight\n1,5\n2,25\n3,5\n4,75\n")
    fit = ["fit", str(tmp_path / "w.csv"), "--n-clusters", "2"]
    message = _error([*fit, "--out", str(tmp_path / "m.skdec")], capsys)
    assert message == (
        f"skdec: error: cannot read '{tmp_path / 'w.csv'}': its header line names "
        "one column, and every row holds two numbers split by a comma (such as "
        "'1,5'). If the comma is a decimal mark, write it as a point; if the "
        "first number names the row (R's write.table), name its column in the "
        "header."
    )
    # R's own file, its row names quoted, and a named first column read.
    (tmp_path / "r.csv").write_text('"weight"\n"1",1.5\n"2",2.25\n"3",3.5\n')
    assert cli._read_table(tmp_path / "r.csv")["weight"].tolist() == [1.5, 2.25, 3.5]
    (tmp_path / "n.csv").write_text("row,weight\n1,5\n2,25\n")
    assert cli._read_table(tmp_path / "n.csv")["weight"].tolist() == [5, 25]


def test_codes_with_a_comma_stay_apart_in_a_file_of_decimal_commas(tmp_path, capsys):
    # Codes of a file separated by semicolons, named in --categorical: before,
    # '1,1' and '1,10' were both read as the number 1.1, one category, as
    # '2,5' and '2,50' were; new rows too, so that one text value among
    # them (no longer all numbers) made every code unseen.
    x, _ = _two_groups()
    codes = np.array(["1,1", "1,10", "2,5", "2,50", "3"])[np.arange(40) % 5]
    lines = [f"{c};{str(v).replace('.', ',')}" for c, v in zip(codes, x, strict=True)]
    (tmp_path / "fit.csv").write_text("code;x\n" + "\n".join(lines) + "\n")
    model = str(tmp_path / "m.skdec")
    fit = ["fit", str(tmp_path / "fit.csv"), "--n-clusters", "2", "--out", model]
    assert main([*fit, "--categorical", "code", *TINY, "--quiet"]) == 0
    loaded = skdec.load(model)
    encoder = loaded[0].named_transformers_["categorical"][-1]
    assert encoder.categories_[0].tolist() == ["1,1", "1,10", "2,5", "2,50", "3"]
    out = str(tmp_path / "p.csv")
    status, _, err = _run(
        ["predict", model, str(tmp_path / "fit.csv"), "--out", out], capsys
    )
    assert status == 0 and "never saw" not in err
    expected = pd.read_csv(out)
    lines[0] = "9x;" + lines[0].split(";")[1]
    (tmp_path / "new.csv").write_text("code;x\n" + "\n".join(lines) + "\n")
    status, _, err = _run(
        ["predict", model, str(tmp_path / "new.csv"), "--out", out], capsys
    )
    assert status == 0
    unseen = "column 'code' has 1 value(s) that fitting never saw ('9x'), in 1 row"
    assert unseen in err
    pd.testing.assert_frame_equal(pd.read_csv(out)[1:], expected[1:])


def test_codes_with_leading_zeros_stay_codes_in_files_of_new_rows(tmp_path, capsys):
    # Fit read the codes as text (A05 among them); new rows holding only
    # 007 and 012 were read as the numbers 7 and 12, levels the model never
    # saw, and some rows changed cluster.
    x, _ = _two_groups()
    codes = np.array(["007", "012", "A05"])[np.arange(40) % 3]
    lines = [f"{c},{v}" for c, v in zip(codes, x, strict=True)]
    (tmp_path / "fit.csv").write_text("code,x\n" + "\n".join(lines) + "\n")
    model = str(tmp_path / "m.skdec")
    fit = ["fit", str(tmp_path / "fit.csv"), "--n-clusters", "2", "--out", model]
    assert main([*fit, *TINY, "--quiet"]) == 0
    encoder = skdec.load(model)[0].named_transformers_["categorical"][-1]
    assert encoder.categories_[0].tolist() == ["007", "012", "A05"]
    assert cli._model_texts(skdec.load(model)) == ["code"]
    out = str(tmp_path / "p.csv")
    assert (
        _run(["predict", model, str(tmp_path / "fit.csv"), "--out", out], capsys)[0]
        == 0
    )
    expected = pd.read_csv(out)
    kept = codes != "A05"
    new = [line for line, keep in zip(lines, kept, strict=True) if keep]
    (tmp_path / "new.csv").write_text("code,x\n" + "\n".join(new) + "\n")
    status, _, err = _run(
        ["predict", model, str(tmp_path / "new.csv"), "--out", out], capsys
    )
    assert status == 0 and "never saw" not in err
    predicted = pd.read_csv(out)
    np.testing.assert_array_equal(predicted["cluster"], expected["cluster"][kept])
    np.testing.assert_allclose(predicted["probability"], expected["probability"][kept])


def test_a_quoted_separator_in_the_header_does_not_choose(tmp_path):
    # A comma between quotes is text: the semicolons separate (before: the
    # comma in '"weight, kg"' chose commas, and the file was one column).
    (tmp_path / "q.csv").write_text('"weight, kg";"height"\n70;180\n80;175\n')
    table = cli._read_table(tmp_path / "q.csv")
    assert table.columns.tolist() == ["weight, kg", "height"]
    assert table["height"].tolist() == [180, 175]
    # Ties go to the comma; one column is one column.
    (tmp_path / "t.csv").write_text("a;b,c\n1;2,3\n")
    assert cli._read_table(tmp_path / "t.csv").columns.tolist() == ["a;b", "c"]
    (tmp_path / "one.csv").write_text("a\n1\n2\n")
    assert cli._read_table(tmp_path / "one.csv").columns.tolist() == ["a"]
    # The separator that splits every line alike wins: unquoted commas in a
    # spreadsheet's names, or bars in a comma file's names.
    for text, columns in [
        ("Gewicht, kg;Alter\n70,5;30\n80;40\n", ["Gewicht, kg", "Alter"]),
        ("lab|Na|mmol,lab|K|mmol\n140,4.1\n141,3.9\n", ["lab|Na|mmol", "lab|K|mmol"]),
    ]:
        (tmp_path / "s.csv").write_text(text)
        assert cli._read_table(tmp_path / "s.csv").columns.tolist() == columns
    # A ragged file (a row short of fields) falls back to its first line:
    # one field per line alike is no separator.
    for text, width in [("a,b,c\r\n1,2,3\r\n4,5\r\n", 3), ("a;b;c\n1;2;3\n4;5\n", 3)]:
        (tmp_path / "r.csv").write_text(text, newline="")
        assert cli._read_table(tmp_path / "r.csv").shape == (2, width)
    # A column of text, with a comma in a few of its lines, is one column.
    for text in ("note\nhello\ngood, thanks\nfine\n", "weight, kg\n70\n80\n"):
        (tmp_path / "n.csv").write_text(text)
        assert cli._read_table(tmp_path / "n.csv").shape[1] == 1
    # Of those, the one that splits them most: a price with a decimal comma
    # in each row splits every line in two by the comma, in three by ";".
    (tmp_path / "p.csv").write_text("Artikel;Preis, EUR;Menge\nApfel;1,20;3\n")
    assert cli._read_table(tmp_path / "p.csv")["Preis, EUR"].tolist() == [1.2]
    # A first line longer than the csv module's field limit (131,072
    # characters; 20,000 columns).
    wide = ",".join(f"c{i:05d}" for i in range(20_000))
    assert len(wide) > 131_072
    (tmp_path / "w.csv").write_text(f"{wide}\n{','.join(['1'] * 20_000)}\n")
    assert cli._read_table(tmp_path / "w.csv").shape == (1, 20_000)


def test_boolean_text_is_one_category_whatever_else_the_column_holds(tmp_path, capsys):
    # pandas reads TRUE/FALSE alone as booleans, and as text beside any
    # other value: new rows with one other value keep the categories True
    # and False (before, every TRUE and FALSE became a category never seen).
    x, _ = _two_groups()
    flag = np.where(np.arange(len(x)) % 3 == 0, "TRUE", "FALSE")
    frame = pd.DataFrame({"x": x, "flag": flag})
    frame.to_csv(tmp_path / "fit.csv", index=False)
    frame.assign(flag=["unknown", *flag[1:]]).to_csv(tmp_path / "new.csv", index=False)
    model = str(tmp_path / "m.skdec")
    fit = ["fit", str(tmp_path / "fit.csv"), "--n-clusters", "2", "--out", model]
    assert main([*fit, *TINY, "--quiet"]) == 0
    out = tmp_path / "p.csv"
    predicted = []
    for data in ("fit.csv", "new.csv"):
        assert main(["predict", model, str(tmp_path / data), "--out", str(out)]) == 0
        predicted.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(predicted[0][1:], predicted[1][1:])
    # A model fitted in Python on such text, whose categories are TRUE and
    # FALSE as written, keeps reading them so.
    text = frame.assign(flag=["unknown", *flag[1:]])
    pipe = skdec.tables.make_tabular_pipeline(text, small_dec(n_clusters=2))
    skdec.save(pipe.fit(text), tmp_path / "py.skdec")
    predict = ["predict", str(tmp_path / "py.skdec"), str(tmp_path / "new.csv")]
    assert main([*predict, "--out", str(out)]) == 0
    proba = pipe.predict_proba(text)
    np.testing.assert_array_equal(pd.read_csv(out)["cluster"], proba.argmax(1))
    np.testing.assert_allclose(pd.read_csv(out)["probability"], proba.max(1))
    # So does one that knows "True" and "FALSE" as written: FALSE is not
    # rewritten to a False it never saw.
    mixed = frame.assign(flag=["True" if f == "TRUE" else f for f in flag])
    mixed.loc[0, "flag"] = "maybe"
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    pipe = skdec.tables.make_tabular_pipeline(mixed, small_dec(n_clusters=2))
    skdec.save(pipe.fit(mixed), tmp_path / "py.skdec")
    assert main([*predict[:2], str(tmp_path / "mixed.csv"), "--out", str(out)]) == 0
    np.testing.assert_allclose(
        pd.read_csv(out)["probability"], pipe.predict_proba(mixed).max(1)
    )
    # Even where new rows hold only True and FALSE, which pandas reads as
    # booleans, with a gap or without.
    plain = mixed.loc[1:]
    gap = plain.assign(flag=[None, *plain["flag"][1:]])
    for rows in (plain, gap):
        rows.to_csv(tmp_path / "plain.csv", index=False)
        assert main([*predict[:2], str(tmp_path / "plain.csv"), "--out", str(out)]) == 0
        np.testing.assert_allclose(
            pd.read_csv(out)["probability"], pipe.predict_proba(rows).max(1)
        )


def test_rows_that_end_in_a_separator_keep_their_columns(tmp_path):
    # As spreadsheets export: a separator at the end of every row but not of
    # the header. Before, pandas took the ids for the index and shifted every
    # name by one: 'age' held the weights, and 'sex' was empty.
    (tmp_path / "t.csv").write_text(
        "id,age,weight,sex\nP0,60.5,73.4,F,\nP1,61.0,70.0,M,\n"
    )
    frame = cli._read_table(tmp_path / "t.csv")
    assert frame.to_dict("list") == {
        "id": ["P0", "P1"],
        "age": [60.5, 61.0],
        "weight": [73.4, 70.0],
        "sex": ["F", "M"],
    }
    assert cli._read_table(tmp_path / "t.csv", ["id"])["id"].tolist() == ["P0", "P1"]
    # With one at the end of the header line too: no column 'Unnamed: 4',
    # which fit warned of as a column without values (review).
    (tmp_path / "h.csv").write_text(
        "id,age,weight,sex,\nP0,60.5,73.4,F,\nP1,61.0,70.0,M,\n"
    )
    assert cli._read_table(tmp_path / "h.csv").equals(frame)
    # An unnamed last column that holds values stays.
    (tmp_path / "v.csv").write_text("id,age,\nP0,60.5,1\nP1,61.0,2\n")
    assert cli._read_table(tmp_path / "v.csv").shape == (2, 3)
    # A value beyond the header's columns is refused, not dropped.
    (tmp_path / "x.csv").write_text("id,age\nP0,60.5,X\nP1,61.0,\n")
    with pytest.raises(cli.UsageError, match="more fields than its header"):
        cli._read_table(tmp_path / "x.csv")


def test_rows_that_start_with_a_name_the_header_lacks(tmp_path, capsys):
    # R's write.table(sep=";"): row names first, no name for them in the
    # header. pandas reads them as its index; index_col=False refused them.
    (tmp_path / "r.csv").write_text('"id";"x"\n"r1";"P0";1,5\n"r2";"P1";2,5\n')
    capsys.readouterr()
    frame = cli._read_table(tmp_path / "r.csv")
    assert frame.to_dict("list") == {"id": ["P0", "P1"], "x": [1.5, 2.5]}
    assert frame.index.tolist() == [0, 1]
    assert "taken for its name and left out" in capsys.readouterr().err
    assert cli._read_table(tmp_path / "r.csv", ["id"])["id"].tolist() == ["P0", "P1"]


def test_a_header_that_repeats_a_name_is_refused(tmp_path):
    # pandas renames the second 'age' to 'age.1', silently.
    (tmp_path / "r.csv").write_text("id,age,w,age,,\nP0,1,2,3,,\nP1,4,5,6,,\n")
    with pytest.raises(cli.UsageError, match="more than one column the name 'age'"):
        cli._read_table(tmp_path / "r.csv")


def test_a_file_not_in_utf8_says_so(tmp_path):
    (tmp_path / "l.csv").write_bytes("name,x\nJosé,1\nRenée,2\n".encode("latin-1"))
    with pytest.raises(cli.UsageError, match="not UTF-8 text.*save it as UTF-8"):
        cli._read_table(tmp_path / "l.csv")


def test_a_file_without_a_header_line_is_warned_of(tmp_path, capsys):
    (tmp_path / "n.csv").write_text("0.5,1.25\n0.75,2.5\n1.0,3.5\n")
    capsys.readouterr()
    cli._read_table(tmp_path / "n.csv")
    err = capsys.readouterr().err
    assert "every column name of" in err and "'0.5', '1.25'" in err
    assert "no header line" in err
    (tmp_path / "h.csv").write_text("a,2020\n0.5,1.25\n")
    cli._read_table(tmp_path / "h.csv")
    assert capsys.readouterr().err == ""
    # Names that number the columns as years are a header.
    for header in ("2019,2020,2021", "1990,2000,2010,2020"):
        (tmp_path / "y.csv").write_text(f"{header}\n0.5,1.25,3\n0.7,1.5,2\n")
        cli._read_table(tmp_path / "y.csv")
        assert capsys.readouterr().err == "", header
    # Not numbers that merely rise, nor a row of two, nor small whole numbers
    # rising by one (a first row of codes as well as pandas' names).
    for header in ("1,2,4", "0.5,1.5,2.5", "3,2,1", "0,1", "0,1,2", "1,2,3"):
        rows = "\n".join(",".join(["0.5"] * (header.count(",") + 1)) for _ in "ab")
        (tmp_path / "r.csv").write_text(f"{header}\n{rows}\n")
        cli._read_table(tmp_path / "r.csv")
        assert "no header line" in capsys.readouterr().err, header


def test_a_one_column_file_keeps_its_empty_lines_as_gaps(tmp_path):
    # As spreadsheets write a gap of a one-column table: an empty line
    # (before, pandas skipped them, and predict wrote fewer rows).
    (tmp_path / "one.csv").write_text("x\n1.5\n\n2.5\n\n3.5\n\n\n")
    column = cli._read_table(tmp_path / "one.csv")["x"]
    assert column.tolist()[::2] == [1.5, 2.5, 3.5]
    assert column.isna().tolist() == [False, True, False, True, False]
    # Not so for a file of several columns, whose ids are read alone, as
    # one column, the same way as the whole table (before: one row more).
    (tmp_path / "two.csv").write_text("id,x\n7,1.5\n\n8,2.5\n")
    assert len(cli._read_table(tmp_path / "two.csv")) == 2
    assert cli._read_table(tmp_path / "two.csv", ["id"])["id"].tolist() == ["7", "8"]
    # A one-column file's ids, read as text, keep its gaps too, so that
    # they are as many as its rows (before: fewer, and predict failed).
    ids = cli._read_table(tmp_path / "one.csv", ["x"])["x"]
    assert ids.tolist()[::2] == ["1.5", "2.5", "3.5"] and len(ids) == len(column)


def test_error_memory_that_is_not_a_folder(fitted, capsys, tmp_path, monkeypatch):
    # Before: a traceback of joblib's NotADirectoryError, exit status 1.
    _, data, _, _ = fitted
    (tmp_path / "afile").write_text("not a folder")
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(tmp_path / "m")]
    argv += ["--id-column", "id", "--label-column", "label"]
    err = _error([*argv, "--memory", str(tmp_path / "afile")], capsys)
    assert f"cannot use --memory '{tmp_path / 'afile'}' as a cache folder" in err
    assert "Not a directory" in err
    monkeypatch.chdir(tmp_path)  # joblib names the file by its absolute path
    err = _error([*argv, "--memory", "afile"], capsys)
    assert "cannot use --memory 'afile' as a cache folder" in err


def test_a_damaged_cache_entry_is_one_warning_line(fitted, capsys, tmp_path):
    # Before: joblib logged the call's arguments and a traceback of the
    # unpickling error, even with --quiet.
    _, data, _, _ = fitted
    cache = tmp_path / "cache"
    argv = ["fit", str(data), "--n-clusters", "3", "--out", str(tmp_path / "m")]
    argv += [*TINY, "--label-column", "label", "--random-state", "0"]
    argv += ["--memory", str(cache), "--quiet"]
    assert main(argv) == 0
    (stored,) = cache.rglob("output.pkl")
    stored.write_bytes(stored.read_bytes()[:100])  # cut short
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    warning = (
        "skdec: warning: a cached pretraining in the --memory folder could not "
        "be read (damaged or cut short): it was computed again and stored anew."
    )
    assert warning in err.splitlines()
    assert all(line.startswith("skdec: ") for line in err.splitlines()), err
    assert main(argv) == 0  # read from the cache again, silently
    assert warning not in capsys.readouterr().err


def test_an_id_column_named_as_a_column_of_predictions_is_refused(
    fitted, capsys, tmp_path
):
    # Before, the predictions overwrote the ids, and the file had no id.
    _, _, model, frame = fitted
    data = tmp_path / "t.csv"
    frame.rename(columns={"id": "cluster"}).to_csv(data, index=False)
    out = tmp_path / "p.csv"
    argv = ["predict", str(model), str(data), "--out", str(out), "--id-column"]
    assert _error([*argv, "cluster"], capsys) == (
        "skdec: error: the id column 'cluster' has the name of a column that "
        f"predict writes (cluster, probability): rename it in '{data}'."
    )
    assert not out.exists()


def test_a_reader_that_leaves_early_ends_the_command_quietly(fitted, tmp_path):
    # `skdec profile ... | head -1`: before, a BrokenPipeError traceback,
    # exit status 1, and --out not written, as the profile was printed first.
    _, data, model, _ = fitted
    out = tmp_path / "profile.csv"
    command = [sys.executable, "-m", "skdec", "profile", str(model), str(data)]
    done = subprocess.Popen(
        [*command, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    done.stdout.close()  # before the profile is printed
    _, err = done.communicate(timeout=600)
    assert "Traceback" not in err.decode(), err.decode()[-2000:]
    assert done.returncode == 1
    assert len(pd.read_csv(out)) > 0


def test_error_missing_column(fitted, capsys, tmp_path):
    _, data, model, frame = fitted
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(tmp_path / "m")]
    err = _error([*argv, "--columns", "a", "zz"], capsys)
    assert "column 'zz' not found in" in err and "Available columns: id, a, b" in err
    err = _error([*argv, "--label-column", "target"], capsys)
    assert "column 'target' not found" in err
    # Spaces around a name are shown (before: "id,  a" hid the name " a").
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("id, a, b\n1,2,3\n2,3,4\n")
    err = _error(
        ["fit", str(spaced), "--n-clusters", "2", "--out", "m", "--label-column", "a"],
        capsys,
    )
    assert "Available columns: id, ' a', ' b'." in err
    err = _error([*argv, "--categorical", "a", "--columns", "b"], capsys)
    assert "--categorical column(s) 'a' are not features" in err
    err = _error([*argv, "--ignore", "zz"], capsys)
    assert "column 'zz' not found in" in err
    err = _error([*argv, "--ignore", "a", "--columns", "a", "b"], capsys)
    assert "column(s) 'a' cannot be both a feature" in err
    # New data without one of the model's columns.
    frame.drop(columns="b").to_csv(tmp_path / "no_b.csv", index=False)
    argv = ["predict", str(model), str(tmp_path / "no_b.csv"), "--out", "x.csv"]
    assert "column 'b' not found" in _error(argv, capsys)


def test_error_not_a_model(fitted, capsys, tmp_path):
    _, data, _, _ = fitted
    argv = ["predict", str(data), str(data), "--out", str(tmp_path / "x.csv")]
    err = _error(argv, capsys)
    assert f"'{data}' is not a valid skdec model file" in err
    assert "The model comes first" in err
    np.savez(tmp_path / "foreign.npz", X=np.zeros(3))
    argv = ["evaluate", str(tmp_path / "foreign.npz"), str(data)]
    assert "is not a valid skdec model file: it has no skdec metadata" in _error(
        argv, capsys
    )
    argv = ["profile", str(tmp_path / "absent.skdec"), str(data)]
    assert f"model file '{tmp_path / 'absent.skdec'}' not found." in _error(
        argv, capsys
    )


def test_error_edited_notes(fitted, capsys, tmp_path):
    _, data, model, _ = fitted
    edited = tmp_path / "edited.skdec"
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(edited, "w") as target:
        header = json.loads(source.read("skdec.json"))
        header["notes"]["id_column"] = [1]
        target.writestr("skdec.json", json.dumps(header))
        target.writestr("model.skops", source.read("model.skops"))
    argv = ["predict", str(edited), str(data), "--out", str(tmp_path / "x.csv")]
    err = _error(argv, capsys)
    assert "is not a valid skdec model file: its metadata is invalid" in err


def test_error_parquet_without_pyarrow(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    argv = ["fit", str(tmp_path / "d.parquet"), "--n-clusters", "2", "--out", "m"]
    assert "needs pyarrow: pip install 'skdec[parquet]'" in _error(argv, capsys)


def test_error_bad_arguments_and_data(fitted, capsys, tmp_path):
    _, data, _, _ = fitted
    out = str(tmp_path / "m")
    err = _error(["fit", str(data), "--n-clusters", "0", "--out", out], capsys)
    assert "'n_clusters' parameter of DECClusterer must be an int in the range" in err
    err = _error(["fit", str(data), "--n-clusters", "500", "--out", out], capsys)
    assert "n_samples=120 should be >= n_clusters=500." in err
    absent = str(tmp_path / "absent.csv")
    fit = ["fit", str(data), "--n-clusters", "2", "--out", out]
    err = _error([*fit, "--columns", "label", "--label-column", "label"], capsys)
    assert "cannot be both a feature" in err
    err = _error([*fit, "--columns", "a", "b", "a"], capsys)
    assert "column(s) 'a' given more than once in --columns." in err
    err = _error(["fit", absent, "--n-clusters", "2", "--out", out], capsys)
    assert "data file" in err and "not found" in err
    (tmp_path / "empty.csv").write_text("")
    empty = str(tmp_path / "empty.csv")
    err = _error(["fit", empty, "--n-clusters", "2", "--out", out], capsys)
    assert "cannot read" in err and "empty.csv" in err


def test_error_out_is_the_input_or_in_no_folder(fitted, capsys, tmp_path):
    _, data, model, _ = fitted
    copy = tmp_path / "table.csv"
    copy.write_bytes(data.read_bytes())
    fit = ["fit", str(copy), "--n-clusters", "2", *TINY]
    err = _error([*fit, "--out", str(copy)], capsys)
    assert "--out '" in err and "is the DATA file itself" in err
    assert copy.read_bytes() == data.read_bytes()  # before: the model's bytes
    kept = tmp_path / "m.skdec"
    kept.write_bytes(model.read_bytes())
    err = _error(["predict", str(kept), str(copy), "--out", str(kept)], capsys)
    assert "is the MODEL file itself" in err
    assert kept.read_bytes() == model.read_bytes()
    # A folder that does not exist, or a folder as --out: said before
    # fitting (before: after).
    err = _error([*fit, "--out", str(tmp_path / "no" / "m.skdec")], capsys)
    assert f"no folder '{tmp_path / 'no'}'" in err
    err = _error([*fit, "--out", str(tmp_path)], capsys)
    assert "it is a folder; give a file" in err
    # A path that ends in a slash names a folder, existing or not (before: a
    # fit wrote a file of that name, and profile failed after its work).
    for folder in (f"{tmp_path}/", f"{tmp_path / 'new'}/"):
        err = _error([*fit, "--out", folder], capsys)
        assert (
            err
            == f"skdec: error: cannot write '{folder}': it names a folder; give a file."
        )
    assert not (tmp_path / "new").exists()
    # A folder given as DATA or MODEL is named as such.
    err = _error(["fit", str(tmp_path), "--n-clusters", "2", "--out", "m"], capsys)
    assert "is a folder: give a CSV or Parquet file" in err
    # A pipe (<(cat data.csv) in bash), read more than once, is named as
    # such (before: "not found").
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    err = _error(["fit", str(fifo), "--n-clusters", "2", "--out", "m"], capsys)
    assert err == (
        f"skdec: error: data file '{fifo}' is not a regular file (a pipe, say), "
        "which skdec reads more than once: save the data to a file and give that."
    )
    err = _error(["predict", str(tmp_path), str(copy), "--out", "p.csv"], capsys)
    assert "model file" in err and "is a folder" in err


FIT = ["fit", "d.csv", "--out", "m", "--n-clusters", "2"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (FIT[:2] + FIT[4:], "the following arguments are required: --out"),
        (FIT[:4], "the following arguments are required: --n-clusters"),
        (
            FIT[:5] + ["two"],
            "argument --n-clusters: give 'auto' or an integer, got 'two'",
        ),
        ([*FIT, "--scale", "x"], "argument --scale: invalid choice: 'x'"),
        ([*FIT, "--init", "pca"], "argument --init: invalid choice: 'pca'"),
        (
            [*FIT, "--hidden-layer-sizes", "8", "auto"],
            "give 'auto' or positive integer widths",
        ),
        (
            [*FIT, "--hidden-layer-sizes", "0"],
            "give 'auto' or positive integer widths, got '0'",
        ),
        (
            # DATA last, as users write it: the message shows the values
            # (before: "got '?'") and says where DATA goes.
            ["fit", "--out", "m", "--n-clusters", "2", "--hidden-layer-sizes"]
            + ["8", "d.csv"],
            "got '8 d.csv' (if 'd.csv' is DATA, give it before --hidden-layer-sizes)",
        ),
        (
            [*FIT, "--hidden-layer-sizes", "8", "x", "16"],
            "positive integer widths, got '8 x 16'\n",
        ),
        (["cluster"], "invalid choice: 'cluster'"),
        (
            [*FIT, "--batch-size", "many"],
            "argument --batch-size: give 'auto' or an integer, got 'many'",
        ),
        (
            [*FIT, "--start-learning-rate", "fast"],
            "argument --start-learning-rate: give 'auto' or a number, got 'fast'",
        ),
        (
            [*FIT, "--patience", "never"],
            "argument --patience: give 'none' or an integer, got 'never'",
        ),
        (
            ["profile", "m.skdec", "d.csv", "--top", "-2"],
            "argument --top: give an integer of at least 1, got '-2'",
        ),
        (
            ["profile", "m.skdec", "d.csv", "--top", "0"],
            "argument --top: give an integer of at least 1, got '0'",
        ),
        (
            ["profile", "m.skdec", "d.csv", "--top", "all"],
            "argument --top: give an integer of at least 1, got 'all'",
        ),
    ],
)
def test_argument_errors(argv, message, capsys):
    status, _, err = _run(argv, capsys)
    assert status == 2
    assert message in err and err.startswith("usage: skdec")


# ------------------------------------------------ options from the estimator


def _fit_options():
    parser = cli._build_parser()
    fit = parser._subparsers._group_actions[0].choices["fit"]
    return {a.dest: a for a in fit._actions}


def test_every_estimator_parameter_has_an_option_or_a_reason():
    options = _fit_options()
    parameters = inspect.signature(DECClusterer).parameters
    for name in parameters:
        assert (name in options) != (name in cli.NOT_OPTIONS), name
    assert set(cli.NOT_OPTIONS) < set(parameters)


def test_option_types_choices_and_help_come_from_the_estimator():
    options = _fit_options()
    constraints = DECClusterer._parameter_constraints
    activation = next(c for c in constraints["activation"] if hasattr(c, "options"))
    assert options["activation"].choices == sorted(activation.options)
    assert options["n_components"].type is int
    assert options["alpha"].type is float
    assert options["random_state"].type is int
    assert options["n_clusters"].required
    # The help is the first sentence of each numpydoc Parameters entry.
    doc = {p.name: " ".join(p.desc) for p in ClassDoc(DECClusterer)["Parameters"]}
    for name, action in options.items():
        if name not in doc:
            continue
        sentence = re.sub(r":\w+:`(?:[^`<]*<)?([^`>]+)>?`", r"\1", doc[name])
        sentence = sentence.replace("``", "")
        assert action.help.split(" (default: ")[0].rstrip(".") in sentence, name
        assert len(action.help) > 20, name
    assert options["n_components"].help.startswith(
        "Dimension of the embedding in which the data are clustered"
    )
    assert options["n_components"].help.endswith("(default: 10)")
    # None of them overrides the estimator's default when not given.
    args = cli._build_parser().parse_args(
        ["fit", "d.csv", "--n-clusters", "3", "--out", "m"]
    )
    assert cli._estimator_params(args) == {"n_clusters": 3}


def test_options_read_from_the_source_equal_those_of_the_class():
    # --help reads the class from its source file, without importing it; the
    # imported class must say the same.
    assert cli._source_parameters() == cli._live_parameters()


@pytest.mark.parametrize(
    "given, expected",
    [(["auto"], "auto"), ([], ()), (["32", "8"], (32, 8))],
)
def test_hidden_layer_sizes_option(given, expected):
    args = cli._build_parser().parse_args(
        ["fit", "d", "--out", "m", "--n-clusters", "2", "--hidden-layer-sizes", *given]
    )
    assert cli._estimator_params(args)["hidden_layer_sizes"] == expected


@pytest.mark.parametrize(
    "option, given, expected",
    [
        ("--batch-size", "auto", "auto"),
        ("--batch-size", "64", 64),
        ("--pretrain-epochs", "auto", "auto"),
        ("--pretrain-epochs", "0", 0),
        ("--start-learning-rate", "auto", "auto"),
        ("--start-learning-rate", "0.05", 0.05),
    ],
)
def test_options_taking_auto_or_a_number(option, given, expected):
    args = cli._build_parser().parse_args(
        ["fit", "d", "--out", "m", "--n-clusters", "2", option, given]
    )
    name = option[2:].replace("-", "_")
    assert cli._estimator_params(args)[name] == expected


# -------------------------------------------------- quick and quiet


def _python(code, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *code], capture_output=True, text=True, env=env, timeout=600
    )
    return done, time.perf_counter() - start


@pytest.mark.parametrize("module", ["skdec.cli", "skdec"])
@pytest.mark.parametrize(
    "argv", [["--help"], ["fit", "--help"], ["fit", "data.csv"], ["predict", "--help"]]
)
def test_help_and_argument_errors_answer_at_once_without_tensorflow(argv, module):
    done, seconds = _python(["-m", module, *argv])
    assert done.returncode == (0 if "--help" in argv else 2), done.stderr
    assert ("usage: skdec" in done.stdout) or ("usage: skdec" in done.stderr)
    assert "I0000" not in done.stderr and "absl" not in done.stderr
    # About 0.5 s on two busy CPU cores; importing TensorFlow takes 5-10 s,
    # scikit-learn alone about 2 s.
    assert seconds < 2.0, seconds
    script = (
        "import sys, skdec.cli as c\n"
        "c._build_parser().parse_args(['fit', 'd.csv', '--n-clusters', '2', "
        "'--out', 'm'])\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'pandas') "
        "if m in sys.modules))\n"
    )
    done, _ = _python(["-c", script])
    assert done.stdout.strip() == "[]", done.stderr


def test_the_command_prints_only_its_own_messages(fitted, tmp_path):
    # A fresh process runs `skdec fit` as the console script does (it calls
    # skdec.cli:main, as `python -m skdec.cli` does), then makes TensorFlow
    # retrace: real tf.function retracing warnings, as a grid search once
    # logged, are not shown either, and are shown again once the logger is
    # back at WARNING. One process for both: importing TensorFlow takes 10 s.
    _, data, _, _ = fitted
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'skdec = "skdec.cli:main"' in pyproject
    model = tmp_path / "m.skdec"
    argv = ["fit", str(data), "--n-clusters", "3", "--out", str(model), *TINY]
    script = textwrap.dedent(
        """
        import logging, sys, skdec.cli as c
        status = c.main(sys.argv[1:])
        import tensorflow as tf

        def retrace(g):  # a new function each time: TF warns per function
            f = tf.function(g)
            for n in range(1, 9):
                f(tf.zeros((n,)))

        retrace(lambda x: x + 1)
        sys.stdout.flush()
        sys.stderr.write("RETRACING SHOWN:\\n")
        logging.getLogger("tensorflow").setLevel(logging.WARNING)
        retrace(lambda x: x * 2)
        sys.exit(status)
        """
    )
    done, _ = _python(["-c", script, *argv, "--label-column", "label"])
    assert done.returncode == 0, done.stderr
    assert model.is_file()
    quiet, shown = done.stderr.split("RETRACING SHOWN:\n")
    lines = quiet.splitlines()
    assert lines and all(line.startswith("skdec: ") for line in lines), lines
    assert "━" in done.stdout  # progress bars go to stdout
    assert "triggered tf.function retracing" in shown


def test_the_command_prints_only_its_own_messages_on_jax(fitted, tmp_path):
    # umap-learn imports TensorFlow when it is installed: its start-up lines
    # came out during a fit on JAX (init="auto" maps with UMAP).
    pytest.importorskip("jax")
    _, data, _, _ = fitted
    argv = ["fit", str(data), "--n-clusters", "3", "--out", str(tmp_path / "m")]
    argv += [*TINY, "--label-column", "label", "--quiet"]
    done, _ = _python(["-m", "skdec.cli", *argv], env={"KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert all(line.startswith("skdec: ") for line in lines), lines


def test_start_up_lines_are_dropped_and_other_errors_kept(tmp_path):
    # A stand-in for Keras that writes what TensorFlow writes on a machine
    # without a GPU while it loads, and an error of another kind.
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text(
        textwrap.dedent(
            """
            import os
            os.write(2, (
                "WARNING: All log messages before absl::InitializeLog() is "
                "called are written to STDERR\\n"
                "I0000 00:00:1796192695.1   8207 cudart_stub.cc:31] Could not "
                "find cuda drivers on your machine, GPU will not be used.\\n"
                "E0000 00:00:1796192695.816354    8207 cuda_platform.cc:52] "
                "failed call to cuInit: INTERNAL: CUDA error: Failed call to "
                "cuInit: UNKNOWN ERROR (303)\\n"
                "E0000 00:00:1796192695.9   8207 cuda_dnn.cc:8310] Unable to "
                "register cuDNN factory\\n"
                "E0000 00:00:1796192696.0   8207 mlir_graph.cc:1] a real error\\n"
                "something else\\n"
            ).encode())
            """
        )
    )
    script = "import skdec.cli as c; c._quiet_keras()"
    done, _ = _python(["-c", script], env={"PYTHONPATH": f"{tmp_path}:{ROOT}"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "E0000 00:00:1796192696.0   8207 mlir_graph.cc:1] a real error",
        "something else",
    ]
