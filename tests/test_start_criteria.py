"""The benchmark that compares label-free criteria for init="auto"'s start."""

import json

import numpy as np
import pytest
import scipy.sparse

from benchmarks import start_criteria
from skdec import DECClusterer, cluster_accuracy


def test_coverage_is_the_share_of_link_weight_inside_clusters():
    graph = scipy.sparse.csr_matrix(
        np.array([[0, 2, 1, 0], [2, 0, 0, 0], [1, 0, 0, 3], [0, 0, 3, 0]], float)
    )
    # Inside: 2 (rows 0-1) and 3 (rows 2-3), both ways; across: 1, both ways.
    assert start_criteria.coverage(graph, [0, 0, 1, 1]) == pytest.approx(10 / 12)
    assert start_criteria.coverage(graph, [0, 0, 0, 0]) == 1.0


def test_each_criterion_picks_its_best_candidate():
    assert start_criteria.pick([0.2, 0.5, 0.5], higher=True) == 1
    assert start_criteria.pick([0.2, 0.1, 0.1], higher=False) == 1


def test_all_but_modularity_find_unequal_blobs_that_kmeans_finds(tmp_path):
    from benchmarks.accuracy import load_dataset

    X, y = load_dataset("unequal_blobs", data_dir="/nonexistent")
    tiny = {"hidden_layer_sizes": (16,), "n_components": 4, "pretrain_epochs": 1}
    picks, best, classes = start_criteria.run_one(X, y, 0, str(tmp_path), tiny)
    assert set(picks) == set(start_criteria.COLUMNS)
    assert best == 1.0  # k-means on the input is among the candidates
    # The map equation's pick is the classes, and so saves as much; the
    # classes' saving needs no fit.
    assert classes == pytest.approx(picks["map_equation"][2])
    assert start_criteria.class_saving(X, y, 0) == classes
    # Four separate groups: cutting none of their links is possible.
    for criterion in ("map_equation", "conductance", "coverage", "map_equation_null"):
        assert picks[criterion][1] == 1.0
    # A partition that no link crosses wins whatever the null saves.
    assert picks["map_equation_null"][2] == np.inf
    # Modularity cuts the largest group to even out the sizes.
    assert picks["modularity"][1] < 0.8
    # The candidates are init="auto"'s: the estimator keeps the map
    # equation's pick.
    model = DECClusterer(
        4, init="auto", max_iter=0, random_state=0, memory=str(tmp_path), **tiny
    ).fit(X)
    kind = picks["map_equation"][0]
    assert model.init_ == kind
    # No link crosses between the four groups, so the estimator scores the
    # pick inf.
    assert model.init_scores_[kind] == np.inf


def test_shuffled_columns_keep_each_column_and_break_their_ties():
    rng = np.random.default_rng(0)
    column = np.arange(200.0)
    X = np.column_stack([column, column, -column])
    shuffled = start_criteria.shuffled_columns(X, np.random.default_rng(1))
    assert shuffled.shape == X.shape
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(X, axis=0))
    # The columns moved together; shuffled, they hardly do.
    assert abs(np.corrcoef(shuffled[:, 0], shuffled[:, 1])[0, 1]) < 0.3
    assert abs(np.corrcoef(shuffled[:, 0], shuffled[:, 2])[0, 1]) < 0.3
    assert not np.array_equal(shuffled, start_criteria.shuffled_columns(X, rng))


def test_null_savings_are_the_best_saving_of_each_kind_on_shuffled_rows():
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs

    from skdec._modularity import codelength_saving, neighbor_graph

    X = make_blobs(300, n_features=4, centers=3, random_state=0)[0]
    null = start_criteria.null_savings(X, lambda rows: rows[:, :2], 3, 2, seed=0)
    assert set(null) == {"kmeans", "kmeans_input", "umap"}
    # k-means on the input is one candidate: its saving on the graph of the
    # shuffled rows (drawn as null_savings draws them).
    shuffled = start_criteria.shuffled_columns(X, np.random.default_rng([0, 31]))
    labels = KMeans(3, n_init=2, random_state=0).fit_predict(shuffled)
    assert null["kmeans_input"] == pytest.approx(
        codelength_saving(neighbor_graph(shuffled), labels)
    )
    # The same seed gives the same null; another seed another draw.
    again = start_criteria.null_savings(X, lambda rows: rows[:, :2], 3, 2, seed=0)
    assert again == null
    other = start_criteria.null_savings(X, lambda rows: rows[:, :2], 3, 2, seed=1)
    assert other != null


def test_partitions_that_differ_in_the_clusters_names_are_the_same():
    key = start_criteria._same_partition_key
    assert key([0, 0, 1, 2]) == key([2, 2, 0, 1]) == key(np.array([5, 5, 3, 9]))
    assert key([0, 0, 1, 2]) != key([0, 1, 1, 2])
    # Found most often wins, however it scores; ties go to the higher score.
    a, a_renamed, b, c = [0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 0, 1], [0, 1, 1, 0]
    score = {tuple(a): 0.1, tuple(a_renamed): 0.1, tuple(b): 0.9, tuple(c): 0.5}
    pick = start_criteria.most_frequent_partition
    assert pick([b, a, c, a_renamed], lambda p: score[tuple(p)]) == a
    assert pick([c, b], lambda p: score[tuple(p)]) == b


def test_the_stablest_kind_is_the_one_whose_runs_agree_most():
    from sklearn.metrics import adjusted_rand_score

    p, q = [0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 0]
    agreement = start_criteria.mean_agreement([p, p, q])
    assert agreement == pytest.approx((1 + 2 * adjusted_rand_score(p, q)) / 3)
    runs = {"kmeans": [p, q], "kmeans_input": [q, q, p], "umap": [p, p]}
    assert start_criteria.stablest_kind(runs) == "umap"
    assert start_criteria.stablest_kind({"kmeans": [p, p], "umap": [q, q]}) == (
        "kmeans"
    )


def test_kind_picks_judge_one_candidate_per_kind_on_the_judged_rows():
    from sklearn.datasets import make_blobs

    from skdec._initialization import auto_candidates
    from skdec._modularity import neighbor_graph

    X, y = make_blobs(180, centers=3, cluster_std=0.5, random_state=0)
    found = auto_candidates(X, X, 3, n_init=4, seed=0)
    judge = neighbor_graph(X)
    picks = start_criteria.kind_picks(X, X, found, judge, 3, 4, 0)
    assert set(picks) == set(start_criteria.KIND_COLUMNS)
    # Each kind finds the three blobs, so every pick is exact: the labels
    # are those of the judged rows, in order.
    assert [cluster_accuracy(y, labels) for _, labels in picks.values()] == [1.0] * 3
    # Every kind finds the blobs, so each column's candidates are one
    # partition, scored alike up to rounding (the criterion sums over the
    # clusters in the order of their numbers, which differ from kind to
    # kind): which kind wins such a tie depends on the platform's last bits
    # (Python 3.10's NumPy and scikit-learn pick UMAP's in two columns).
    scores = [
        start_criteria.start_criterion(judge, labels, 3) for _, labels in picks.values()
    ]
    for score in scores:
        np.testing.assert_allclose(score, scores[0], rtol=1e-12)


def test_kind_picks_reuse_the_map_that_umaps_candidates_came_from(monkeypatch):
    from sklearn.datasets import make_blobs

    from skdec import _initialization
    from skdec._modularity import neighbor_graph

    X, _ = make_blobs(150, centers=3, random_state=1)
    maps = []

    def counted(*args, **kwargs):
        maps.append(args[0].shape)
        return umap_view(*args, **kwargs)

    umap_view = _initialization.umap_view
    monkeypatch.setattr(_initialization, "umap_view", counted)
    monkeypatch.setattr(start_criteria, "umap_view", counted, raising=False)
    found = _initialization.auto_candidates(X, X, 3, n_init=2, seed=0)
    assert found.mapped.shape == (150, 3)
    assert found.graph.shape == (150, 150)
    start_criteria.kind_picks(X, X, found, neighbor_graph(X), 3, 2, 0)
    assert maps == [(150, 2)]  # one map, built by auto_candidates


def test_global_gaussian_graph_keeps_the_density_that_fuzzy_weights_leave_out():
    from sklearn.datasets import make_blobs

    from skdec._modularity import neighbor_graph

    # A dense group and a sparse one: the same links, but one bandwidth.
    X, y = make_blobs(
        120, centers=[[0, 0], [20, 0]], cluster_std=[0.3, 3.0], random_state=0
    )
    fuzzy = neighbor_graph(X).weights
    graph = start_criteria.global_gaussian_graph(X)
    weights = graph.weights
    assert graph.nodes is None
    assert abs((weights != 0).astype(float) - (fuzzy != 0).astype(float)).max() == 0
    assert abs(weights - weights.T).max() == 0 and weights.max() <= 1.0
    # Every link weighs exp(-d^2 / s^2) for its length d and one s.
    rows, cols = weights.nonzero()
    length = np.linalg.norm(X[rows] - X[cols], axis=1)
    bandwidth = np.sqrt(-(length**2) / np.log(weights.data))
    np.testing.assert_allclose(bandwidth, bandwidth[0], rtol=1e-9)
    # Fuzzy weights are scaled row by row, so the sparse group's links weigh
    # about as much as the dense group's; with one bandwidth, far less.
    fuzzy_weights = np.asarray(fuzzy[rows, cols]).ravel()
    sparse, dense = (y[rows] == 1) & (y[cols] == 1), (y[rows] == 0) & (y[cols] == 0)
    assert fuzzy_weights[sparse].mean() > 0.8 * fuzzy_weights[dense].mean()
    assert weights.data[sparse].mean() < 0.2 < 0.9 < weights.data[dense].mean()
    # Copies weigh each link of the distinct rows' graph by their product.
    copied = start_criteria.global_gaussian_graph(np.repeat(X, 3, axis=0))
    values_graph = start_criteria.global_gaussian_graph(np.unique(X, axis=0))
    assert abs(copied.weights - 9 * values_graph.weights).max() <= 1e-9
    # A far row keeps its links, at the smallest positive weight, and one
    # distinct row is a graph without links.
    far = start_criteria.global_gaussian_graph(np.vstack([X, [[1e4, 1e4]]]))
    assert far.weights[len(X)].nnz == 14 and far.weights.data.min() > 0
    single = start_criteria.global_gaussian_graph(np.ones((5, 2)))
    assert single.weights.shape == (1, 1) and single.weights.nnz == 0
    np.testing.assert_array_equal(single.nodes, np.zeros(5))


def test_table_and_render_only(tmp_path, capsys):
    records = [
        {
            "dataset": "a",
            "seed": seed,
            "picks": {
                "modularity": ["umap", 0.9],
                "conductance": [kind, acc],
                "coverage": ["kmeans_input", 0.5],
            },
            "best": 1.0,
        }
        for seed, kind, acc in [(0, "umap", 0.8), (1, "kmeans", 0.6)]
    ]
    run = {"date": "d", "machine": "m", "commit": "c", "command": "cmd"}
    lines = start_criteria.markdown(records, [run]).splitlines()
    assert (
        lines[0]
        == "| data | seeds | map_equation | modularity | conductance | coverage "
        "| map_equation_mean | map_equation_knn | map_equation_global "
        "| map_equation_k30 | map_equation_null | kinds_own | umap_mode "
        "| stablest_kind | best candidate | saving of the classes (of the pick) |"
    )
    # These records predate the map equation, its other graphs and the
    # classes' saving: their cells are dashes.
    assert lines[2] == (
        "| a | 0,1 | – | 0.900 (umap 2) | 0.700 (kmeans 1, umap 1) "
        "| 0.500 (kmeans_input 2) | – | – | – | – | – | – | – | – | 1.000 | – |"
    )
    assert lines[-1] == "- d, m, commit c: `cmd`"
    out = tmp_path / "records.json"
    out.write_text(json.dumps({"invocations": [run], "records": records}))
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    start_criteria.main(["--render-only", "--out-json", str(out), "--out-md", str(md)])
    assert lines[2] in md.read_text() and start_criteria.MD_BEGIN in md.read_text()
    with pytest.raises(SystemExit, match="2"):
        start_criteria.main(["--render-only"])
    assert "reads the records of --out-json" in capsys.readouterr().err


EARLIER_RUNS = [("digits", 0), ("digits", 1), ("iris", 0)]


def test_merge_keeps_other_records_and_replaces_rerun_ones(tmp_path, monkeypatch):
    def record(name, seed, accuracy):
        picks = {c: ["umap", accuracy, 1.0] for c in start_criteria.CRITERIA}
        return {"dataset": name, "seed": seed, "picks": picks, "best": accuracy}

    old = {"date": "d", "machine": "m", "commit": "c", "command": "old"}
    out = tmp_path / "records.json"
    earlier = [record(name, seed, 0.5) for name, seed in EARLIER_RUNS]
    out.write_text(json.dumps({"invocations": [old], "records": earlier}))
    X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    monkeypatch.setattr(start_criteria, "load_dataset", lambda name, data_dir: (X, y))
    rerun = record("digits", 1, 0.9)
    monkeypatch.setattr(
        start_criteria, "run_one", lambda *args: (rerun["picks"], rerun["best"], 0.1)
    )
    argv = ["--datasets", "digits", "--seeds", "1", "--out-json", str(out)]
    start_criteria.main([*argv, "--merge"])
    saved = json.loads(out.read_text())
    assert sorted((r["dataset"], r["seed"], r["best"]) for r in saved["records"]) == [
        ("digits", 0, 0.5),
        ("digits", 1, 0.9),
        ("iris", 0, 0.5),
    ]
    assert [i["command"] for i in saved["invocations"]][0] == "old"
    assert "--merge" in saved["invocations"][1]["command"]
    # Without --merge the file holds this run's records alone.
    start_criteria.main(argv)
    saved = json.loads(out.read_text())
    assert [(r["dataset"], r["seed"]) for r in saved["records"]] == [("digits", 1)]
    assert len(saved["invocations"]) == 1


def test_a_run_stopped_part_way_keeps_the_records_it_made(tmp_path, monkeypatch):
    X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    monkeypatch.setattr(start_criteria, "load_dataset", lambda name, data_dir: (X, y))
    fits = []

    def run_one(*args):
        if len(fits) == 2:
            raise KeyboardInterrupt  # stopped during the third fit
        fits.append(args[2])
        return {"map_equation": ["umap", 0.5, 1.0]}, 0.5, 0.1

    monkeypatch.setattr(start_criteria, "run_one", run_one)
    out = tmp_path / "records.json"
    argv = ["--datasets", "digits", "--seeds", "0", "1", "2", "--out-json", str(out)]
    with pytest.raises(KeyboardInterrupt):
        start_criteria.main(argv)
    saved = json.loads(out.read_text())
    assert [(r["dataset"], r["seed"]) for r in saved["records"]] == [
        ("digits", 0),
        ("digits", 1),
    ]
    (invocation,) = saved["invocations"]
    assert "--seeds 0 1 2" in invocation["command"]


def test_merge_from_puts_the_records_of_runs_side_by_side_in_place(tmp_path):
    def record(name, seed, accuracy):
        picks = {"map_equation": ["umap", accuracy, 1.0]}
        return {"dataset": name, "seed": seed, "picks": picks, "best": accuracy}

    def run(command):
        return {"date": "d", "machine": "m", "commit": "c", "command": command}

    main, side = tmp_path / "main.json", tmp_path / "side.json"
    earlier = [record(name, seed, 0.5) for name, seed in EARLIER_RUNS]
    main.write_text(json.dumps({"invocations": [run("old")], "records": earlier}))
    rerun = [record("digits", 1, 0.9), record("usps", 0, 0.8)]
    side.write_text(json.dumps({"invocations": [run("side")], "records": rerun}))
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    argv = ["--merge-from", str(side), "--out-json", str(main), "--out-md", str(md)]
    start_criteria.main(argv)
    saved = json.loads(main.read_text())
    assert sorted((r["dataset"], r["seed"], r["best"]) for r in saved["records"]) == [
        ("digits", 0, 0.5),
        ("digits", 1, 0.9),
        ("iris", 0, 0.5),
        ("usps", 0, 0.8),
    ]
    assert [i["command"] for i in saved["invocations"]] == ["old", "side"]
    assert "| usps | 0 | 0.800 (umap 1) |" in md.read_text()
    # Merged twice, a run is listed once.
    start_criteria.main(argv)
    assert json.loads(main.read_text()) == saved


def test_merge_reads_the_records_before_fitting(tmp_path, monkeypatch):
    def no_fit(*args):
        raise AssertionError("fitted before reading --out-json")

    out = tmp_path / "records.json"
    out.write_text("not json")
    X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    monkeypatch.setattr(start_criteria, "load_dataset", lambda name, data_dir: (X, y))
    monkeypatch.setattr(start_criteria, "run_one", no_fit)
    argv = ["--datasets", "digits", "--seeds", "1", "--out-json", str(out)]
    with pytest.raises(json.JSONDecodeError):
        start_criteria.main([*argv, "--merge"])


def test_merge_refuses_a_missing_records_file_before_fitting(
    tmp_path, monkeypatch, capsys
):
    def no_fit(*args):
        raise AssertionError("fitted before reading --out-json")

    monkeypatch.setattr(start_criteria, "run_one", no_fit)
    missing = tmp_path / "missing.json"
    argv = ["--datasets", "digits", "--seeds", "1", "--out-json", str(missing)]
    with pytest.raises(SystemExit):
        start_criteria.main([*argv, "--merge"])
    assert f"{missing} does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_class_savings_pass_fills_the_records_without_fitting(tmp_path, monkeypatch):
    from benchmarks.accuracy import load_dataset
    from benchmarks.n_clusters import subsample

    def no_fit(*args):
        raise AssertionError("fitted")

    monkeypatch.setattr(start_criteria, "run_one", no_fit)
    picks = {c: ["umap", 0.9, 2.5] for c in start_criteria.CRITERIA}
    records = [
        {"dataset": "digits", "seed": seed, "picks": picks, "best": 0.9}
        for seed in (0, 1)
    ]
    run = {"date": "d", "machine": "m", "commit": "c", "command": "first"}
    out = tmp_path / "records.json"
    out.write_text(json.dumps({"invocations": [run], "records": records}))
    md = tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    argv = ["--class-savings", "--max-rows", "400", "--out-json", str(out)]
    start_criteria.main([*argv, "--out-md", str(md)])
    saved = json.loads(out.read_text())
    X, y, _ = subsample(*load_dataset("digits", None), 400)
    expected = start_criteria.class_saving(X, y, 0)
    # Digits' classes are clusters of the graph: a high saving.
    assert expected > 1.0
    assert [r["class_saving"] for r in saved["records"]] == [expected] * 2
    assert [r["picks"] for r in saved["records"]] == [picks] * 2
    assert "--class-savings" in saved["invocations"][1]["command"]
    assert f"| {expected:.2f} (2.50) |" in md.read_text()


@pytest.mark.parametrize("flag", ["--class-savings", "--render-only"])
def test_a_missing_records_file_is_named(flag, tmp_path, capsys):
    # Before, a raw FileNotFoundError traceback.
    missing = tmp_path / "none.json"
    with pytest.raises(SystemExit) as exit_info:
        start_criteria.main([flag, "--out-json", str(missing)])
    assert exit_info.value.code == 2
    assert f"{missing} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--merge", "--class-savings"])
def test_merge_needs_the_records_file(flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        start_criteria.main([flag])
    assert exit_info.value.code == 2
    assert f"{flag} reads the records of --out-json" in capsys.readouterr().err


def test_merge_from_needs_the_records_file_it_merges_into(tmp_path, capsys):
    side = tmp_path / "side.json"
    side.write_text(json.dumps({"invocations": [], "records": []}))
    with pytest.raises(SystemExit, match="2"):
        start_criteria.main(["--merge-from", str(side)])
    assert "--merge-from reads the records of --out-json" in capsys.readouterr().err
    missing = tmp_path / "none.json"
    with pytest.raises(SystemExit, match="2"):
        start_criteria.main(["--merge-from", str(side), "--out-json", str(missing)])
    assert f"{missing} does not exist" in capsys.readouterr().err
