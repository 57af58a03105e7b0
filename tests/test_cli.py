"""The ``skdec`` command: fit, predict, evaluate, and its user-error messages."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import skdec
from skdec.cli import main, sidecar_path
from skdec.metrics import cluster_accuracy

from _helpers import small_dec

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--hidden-layer-sizes", "16",
    "--n-components", "2",
    "--pretrain-epochs", "5",
    "--max-iter", "20",
    "--update-interval", "10",
    "--n-init", "2",
    "--random-state", "0",
]  # fmt: skip


def _blobs_frame(n_samples=120, random_state=0):
    X, y = make_blobs(n_samples, n_features=3, centers=3, random_state=random_state)
    frame = pd.DataFrame(X * [1.0, 10.0, 100.0], columns=["a", "b", "c"])
    frame["label"] = y
    frame["name"] = [f"r{i}" for i in range(n_samples)]
    return frame


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A CSV of blobs with a label and a text column, and a model fitted on it."""
    folder = tmp_path_factory.mktemp("cli")
    frame = _blobs_frame()
    data = folder / "blobs.csv"
    frame.to_csv(data, index=False)
    model = folder / "blobs.skdec"
    status = main(
        ["fit", str(data), "--n-clusters", "3", "--out", str(model)]
        + ["--label-column", "label", "--quiet", *TINY]
    )
    assert status == 0
    return folder, data, model, frame


def _scaled(frame, columns=("a", "b", "c")):
    X = frame[list(columns)].to_numpy(float)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def test_fit_writes_a_model_and_its_preprocessing(fitted):
    _, _, model_path, frame = fitted
    model = skdec.load(model_path)
    # The label column and the text column are not features.
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert model.get_params()["hidden_layer_sizes"] == (16,)
    assert model.n_clusters == 3 and model.max_iter == 20
    prep = json.loads(sidecar_path(model_path).read_text())
    assert prep["columns"] == ["a", "b", "c"]
    assert prep["scale"] == "standard" and prep["label_column"] == "label"
    X = frame[["a", "b", "c"]].to_numpy(float)
    np.testing.assert_allclose(prep["offset"], X.mean(axis=0))
    np.testing.assert_allclose(prep["scale_factor"], X.std(axis=0))
    # The model was fitted on the standardised columns.
    scaled = pd.DataFrame(_scaled(frame), columns=["a", "b", "c"])
    np.testing.assert_array_equal(model.predict(scaled), model.labels_)


@pytest.mark.parametrize("scale", ["minmax", "none"])
def test_fit_scalings_and_chosen_columns(tmp_path, scale):
    frame = _blobs_frame(60)
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "m.skdec"
    argv = ["fit", str(tmp_path / "d.csv"), "--n-clusters", "2", "--out", str(out)]
    argv += ["--columns", "c", "a", "--scale", scale, "--quiet", *TINY]
    argv[argv.index("--pretrain-epochs") + 1] = "1"
    assert main(argv) == 0
    prep = json.loads(sidecar_path(out).read_text())
    X = frame[["c", "a"]].to_numpy(float)
    assert prep["columns"] == ["c", "a"]
    if scale == "minmax":
        np.testing.assert_allclose(prep["offset"], X.min(axis=0))
        np.testing.assert_allclose(prep["scale_factor"], np.ptp(X, axis=0))
    else:
        assert prep["offset"] == [0.0, 0.0] and prep["scale_factor"] == [1.0, 1.0]
    assert list(skdec.load(out).feature_names_in_) == ["c", "a"]


def test_predict_writes_id_cluster_and_probability(fitted, tmp_path):
    _, data, model_path, frame = fitted
    out = tmp_path / "labels.csv"
    assert main(["predict", str(model_path), str(data), "--out", str(out)]) == 0
    labels = pd.read_csv(out)
    assert list(labels.columns) == ["row", "cluster", "probability"]
    np.testing.assert_array_equal(labels["row"], np.arange(len(frame)))
    model = skdec.load(model_path)
    q = model.predict_proba(pd.DataFrame(_scaled(frame), columns=["a", "b", "c"]))
    np.testing.assert_array_equal(labels["cluster"], q.argmax(axis=1))
    np.testing.assert_allclose(labels["probability"], q.max(axis=1), rtol=1e-6)

    # Row order and the identifier column are kept on shuffled new data.
    shuffled = frame.sample(frac=1.0, random_state=1)
    shuffled.to_csv(tmp_path / "new.csv", index=False)
    argv = ["predict", str(model_path), str(tmp_path / "new.csv")]
    assert main(argv + ["--out", str(out), "--id-column", "name", "--quiet"]) == 0
    by_name = pd.read_csv(out).set_index("name")
    np.testing.assert_array_equal(
        by_name.loc[frame["name"], "cluster"], labels["cluster"]
    )


def test_evaluate_prints_acc_nmi_ari(fitted, capsys):
    _, data, model_path, frame = fitted
    capsys.readouterr()
    # --label-column defaults to the one given to fit.
    assert main(["evaluate", str(model_path), str(data)]) == 0
    printed = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert list(printed) == ["ACC", "NMI", "ARI"]
    scaled = pd.DataFrame(_scaled(frame), columns=["a", "b", "c"])
    labels = skdec.load(model_path).predict(scaled)
    y = frame["label"]
    assert float(printed["ACC"]) == pytest.approx(cluster_accuracy(y, labels), 1e-3)
    assert float(printed["NMI"]) == pytest.approx(
        normalized_mutual_info_score(y, labels), abs=1e-4
    )
    assert float(printed["ARI"]) == pytest.approx(
        adjusted_rand_score(y, labels), abs=1e-4
    )


def test_progress_bars_and_quiet(tmp_path, capsys):
    X, _ = make_blobs(40, n_features=2, centers=2, random_state=0)
    pd.DataFrame(X, columns=["x", "y"]).to_csv(tmp_path / "d.csv", index=False)
    argv = ["fit", str(tmp_path / "d.csv"), "--n-clusters", "2"]
    argv += ["--out", str(tmp_path / "m"), "--hidden-layer-sizes", "4"]
    argv += ["--pretrain-epochs", "1", "--max-iter", "1", "--n-init", "1"]
    capsys.readouterr()
    assert main(argv) == 0
    loud = capsys.readouterr()
    assert "━" in loud.out  # Keras progress bars
    assert "wrote" in loud.err
    assert main([*argv, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == ""
    assert "━" not in quiet.err and "wrote" not in quiet.err


def test_breast_cancer_with_parquet(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    data = load_breast_cancer(as_frame=True).frame
    data.to_parquet(tmp_path / "cancer.parquet")
    model = tmp_path / "cancer.skdec"
    argv = ["fit", str(tmp_path / "cancer.parquet"), "--n-clusters", "2"]
    argv += ["--out", str(model), "--label-column", "target", "--quiet", *TINY]
    assert main(argv) == 0
    assert skdec.load(model).n_features_in_ == 30
    capsys.readouterr()
    argv = ["evaluate", str(model), str(tmp_path / "cancer.parquet"), "--quiet"]
    assert main(argv + ["--label-column", "target"]) == 0
    acc = float(capsys.readouterr().out.split()[1])
    assert 0.5 <= acc <= 1.0


# ----------------------------------------------------------------- errors


def _error(argv, capsys):
    capsys.readouterr()
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    return err


def test_error_missing_column(fitted, capsys, tmp_path):
    _, data, model, frame = fitted
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(tmp_path / "m")]
    err = _error([*argv, "--columns", "a", "zz"], capsys)
    assert "column 'zz' not found in" in err and "Available columns: a, b, c" in err
    err = _error([*argv, "--label-column", "target"], capsys)
    assert "column 'target' not found" in err
    # New data without one of the model's columns.
    frame.drop(columns="b").to_csv(tmp_path / "no_b.csv", index=False)
    argv = ["predict", str(model), str(tmp_path / "no_b.csv"), "--out", "x.csv"]
    assert "column 'b' not found" in _error(argv, capsys)


def test_error_non_numeric_column(fitted, capsys, tmp_path):
    _, data, model, frame = fitted
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(tmp_path / "m")]
    err = _error([*argv, "--columns", "a", "name"], capsys)
    assert "column 'name' of" in err
    assert "is not numeric (dtype" in err and "for example 'r0'" in err
    frame.assign(b="text").to_csv(tmp_path / "text_b.csv", index=False)
    argv = ["evaluate", str(model), str(tmp_path / "text_b.csv")]
    assert "column 'b' of" in _error(argv, capsys)


def test_error_missing_values(fitted, capsys, tmp_path):
    _, _, model, frame = fitted
    frame.assign(a=np.where(np.arange(len(frame)) < 2, np.nan, frame["a"])).to_csv(
        tmp_path / "nan.csv", index=False
    )
    argv = ["predict", str(model), str(tmp_path / "nan.csv"), "--out", "x.csv"]
    assert "column 'a' of" in _error(argv, capsys)
    assert "has 2 missing value(s)" in _error(argv, capsys)


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
    argv = ["evaluate", str(tmp_path / "absent.skdec"), str(data)]
    assert "model file" in _error(argv, capsys)


def test_error_column_count_does_not_match_model(fitted, capsys, tmp_path):
    _, data, _, frame = fitted
    # A model saved from Python, without the preprocessing file: five features.
    model = tmp_path / "five.skdec"
    small_dec(pretrain_epochs=1, max_iter=0).fit(np.random.rand(30, 5)).save(model)
    argv = ["predict", str(model), str(data), "--out", str(tmp_path / "x.csv")]
    err = _error(argv, capsys)
    assert "has 4 numeric feature columns (a, b, c, label) but the model" in err
    assert "expects 5." in err
    err = _error([*argv, "--id-column", "label"], capsys)
    assert "has 3 numeric feature columns (a, b, c) but the model" in err
    assert "expects 5." in err
    # A preprocessing file that belongs to another model.
    sidecar_path(model).write_text(
        sidecar_path(fitted[2]).read_text()  # three columns
    )
    err = _error(argv, capsys)
    assert "lists 3 columns but the model" in err and "expects 5 features" in err


def test_error_preprocessing_file_edited(fitted, capsys, tmp_path):
    _, data, model, _ = fitted
    copy = tmp_path / "m.skdec"
    copy.write_bytes(model.read_bytes())
    sidecar_path(copy).write_text('{"format": "something else"}')
    argv = ["evaluate", str(copy), str(data), "--label-column", "label"]
    assert "is not a valid skdec preprocessing file" in _error(argv, capsys)


def test_error_parquet_without_pyarrow(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    argv = ["fit", str(tmp_path / "d.parquet"), "--n-clusters", "2", "--out", "m"]
    assert "needs pyarrow: pip install 'skdec[parquet]'" in _error(argv, capsys)


def test_error_bad_arguments_and_data(fitted, capsys, tmp_path):
    _, data, model, _ = fitted
    out = str(tmp_path / "m")
    err = _error(["fit", str(data), "--n-clusters", "0", "--out", out], capsys)
    assert "'n_clusters' parameter of DECClusterer must be an int in the range" in err
    err = _error(["fit", str(data), "--n-clusters", "500", "--out", out], capsys)
    assert "n_samples=120 should be >= n_clusters=500." in err
    absent = str(tmp_path / "absent.csv")
    err = _error(["fit", absent, "--n-clusters", "2"], capsys)
    assert "the following arguments are required: --out" in err
    err = _error(["fit", absent, "--n-clusters", "2", "--out", out], capsys)
    assert "data file" in err and "not found" in err
    fit = ["fit", str(data), "--n-clusters", "2", "--out", out]
    assert "invalid choice: 'x'" in _error([*fit, "--scale", "x"], capsys)
    assert _error(["cluster"], capsys).count("invalid choice: 'cluster'") == 1
    err = _error([*fit, "--columns", "label", "--label-column", "label"], capsys)
    assert "cannot be both a feature" in err
    err = _error([*fit, "--columns", "a", "b", "a"], capsys)
    assert "column(s) 'a' given more than once in --columns." in err
    (tmp_path / "empty.csv").write_text("")
    empty = str(tmp_path / "empty.csv")
    err = _error(["fit", empty, "--n-clusters", "2", "--out", out], capsys)
    assert "cannot read" in err and "empty.csv" in err


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "fit" in capsys.readouterr().out


def test_entry_point_declared_and_runs_as_a_process(fitted, tmp_path):
    _, data, model, _ = fitted
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'skdec = "skdec.cli:main"' in pyproject
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "skdec.cli", "evaluate", str(model), str(data)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == [
        "ACC",
        "NMI",
        "ARI",
    ]


def test_fit_passes_the_joint_loss_weight(tmp_path):
    frame = pd.DataFrame(
        np.random.default_rng(0).normal(size=(40, 3)), columns=list("abc")
    )
    data, model = tmp_path / "d.csv", tmp_path / "m.skdec"
    frame.to_csv(data, index=False)
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(model), "--quiet"]
    assert main([*argv, *TINY, "--reconstruction-weight", "2.5"]) == 0
    assert skdec.load(model).reconstruction_weight == 2.5


def test_fit_passes_the_initialisation(tmp_path):
    pytest.importorskip("umap")
    frame = pd.DataFrame(
        np.random.default_rng(0).normal(size=(40, 3)), columns=list("abc")
    )
    data, model = tmp_path / "d.csv", tmp_path / "m.skdec"
    frame.to_csv(data, index=False)
    argv = ["fit", str(data), "--n-clusters", "2", "--out", str(model), "--quiet"]
    options = ["--init", "umap", "--umap-metric", "cosine", "--umap-merge"]
    assert main([*argv, *TINY, *options]) == 0
    loaded = skdec.load(model)
    assert (loaded.init, loaded.umap_metric, loaded.umap_merge) == (
        "umap",
        "cosine",
        True,
    )
    assert main([*argv, *TINY]) == 0
    assert skdec.load(model).umap_merge is False
