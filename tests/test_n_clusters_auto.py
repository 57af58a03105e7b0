"""DECClusterer(n_clusters="auto"): the estimator chooses k after pretraining."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from test_n_clusters import separated_blobs

import skdec
from skdec import _initialization, _n_clusters, _training
from skdec.cli import main

from _helpers import record_calls, small_dec


@pytest.fixture(scope="module")
def four_blobs():
    X, y = separated_blobs(4, per_cluster=40)
    return X, y


@pytest.fixture(scope="module")
def fitted(four_blobs):
    X, _ = four_blobs
    return small_dec(n_clusters="auto", n_components=3).fit(X)


def test_auto_finds_the_separated_blobs(fitted, four_blobs):
    X, y = four_blobs
    assert fitted.n_clusters_ == 4
    assert fitted.cluster_centers_.shape == (4, 3)
    assert fitted.predict_proba(X).shape == (len(X), 4)
    assert skdec.cluster_accuracy(y, fitted.labels_) > 0.95
    # The parameter keeps what the user gave.
    assert fitted.n_clusters == "auto"


def test_scores_cover_the_range_and_the_choice_is_the_best(fitted):
    scores = fitted.n_clusters_scores_
    assert list(scores) == list(range(2, 16))
    assert max(scores, key=scores.get) == fitted.n_clusters_


def test_the_range_is_respected(four_blobs):
    X, _ = four_blobs
    dec = small_dec(n_clusters="auto", n_clusters_range=(5, 7)).fit(X)
    assert list(dec.n_clusters_scores_) == [5, 6, 7]
    assert dec.n_clusters_ in (5, 6, 7)
    assert dec.cluster_centers_.shape[0] == dec.n_clusters_


def test_the_range_is_cut_to_the_rows():
    X, _ = separated_blobs(2, per_cluster=4)  # 8 rows: at most 6 clusters
    dec = small_dec(n_clusters="auto", max_iter=0).fit(X)
    assert list(dec.n_clusters_scores_) == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "bounds, match",
    [
        ((1, 5), "smallest"),
        ((6, 5), "smallest"),
        ((2, 3, 4), "smallest"),
        ((2.5, 4), "positive integers"),
    ],
)
def test_bad_ranges_are_refused(four_blobs, bounds, match):
    X, _ = four_blobs
    with pytest.raises(ValueError, match=match):
        small_dec(n_clusters="auto", n_clusters_range=bounds).fit(X)


def test_too_few_rows_for_the_range_are_refused():
    X, _ = separated_blobs(2, per_cluster=3)
    with pytest.raises(ValueError, match="at least 12 samples"):
        small_dec(n_clusters="auto", n_clusters_range=(10, 12)).fit(X)


def test_the_range_is_checked_whatever_n_clusters_is(four_blobs):
    X, _ = four_blobs
    for bounds in [(1, 5), [[2, 5]]]:
        with pytest.raises(ValueError, match="n_clusters_range must be"):
            small_dec(n_clusters=3, n_clusters_range=bounds).fit(X)


def test_one_candidate_has_no_runner_up(capsys, four_blobs):
    X, _ = four_blobs
    dec = small_dec(n_clusters="auto", n_clusters_range=(4, 4), max_iter=0)
    dec.set_params(verbose=1).fit(X)
    assert dec.n_clusters_ == 4 and list(dec.n_clusters_scores_) == [4]
    out = capsys.readouterr().out
    assert "n_clusters='auto' chose 4 (separation score per k: 4: " in out


def test_a_given_n_clusters_records_no_scores(four_blobs):
    X, _ = four_blobs
    dec = small_dec(n_clusters=3, n_clusters_range=(5, 7), max_iter=0).fit(X)
    assert dec.n_clusters_ == 3 and dec.n_clusters_scores_ is None


def test_pretraining_runs_once_and_the_choice_sees_its_embedding(
    monkeypatch, four_blobs
):
    X, _ = four_blobs
    pretrains = record_calls(monkeypatch, _training, "pretrain", lambda *a, **k: 1)
    choices = record_calls(
        monkeypatch, _n_clusters, "choose_n_clusters", lambda X, Z, *a, **k: (X, Z)
    )
    starts = record_calls(
        monkeypatch, _initialization, "initial_clustering", lambda i, X, Z, *a, **k: Z
    )
    dec = small_dec(n_clusters="auto", n_components=3, max_iter=0).fit(X)
    assert len(pretrains) == 1 and len(choices) == 1
    seen_X, seen_Z = choices[0]
    # The start is found in that same embedding, not in a second pass.
    assert starts[0] is seen_Z
    np.testing.assert_array_equal(seen_X, X)
    # The embedding of the pretrained encoder, which max_iter=0 leaves as is.
    np.testing.assert_allclose(seen_Z, dec.transform(X), rtol=1e-5, atol=1e-6)


def test_same_seed_same_choice_and_labels(fitted, four_blobs):
    X, _ = four_blobs
    again = clone(fitted).fit(X)
    assert again.n_clusters_ == fitted.n_clusters_
    assert again.n_clusters_scores_ == fitted.n_clusters_scores_
    np.testing.assert_array_equal(again.labels_, fitted.labels_)


def test_verbose_reports_the_choice_and_runner_up(capsys, four_blobs):
    X, _ = four_blobs
    dec = small_dec(n_clusters="auto", max_iter=0, verbose=1).fit(X)
    scores = dec.n_clusters_scores_
    runner_up = sorted(scores, key=lambda k: (-scores[k], k))[1]
    out = capsys.readouterr().out
    assert f"n_clusters='auto' chose {dec.n_clusters_} (runner-up {runner_up};" in out


def test_warm_start_refuses_a_changed_number(fitted, four_blobs):
    X, _ = four_blobs
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, n_clusters=fitted.n_clusters_ + 1)
    with pytest.raises(ValueError, match="changed since the last fit"):
        warm.fit(X)
    # An int model asked for "auto" keeps its clusters, like "auto" does.
    as_int = small_dec(n_clusters=3, max_iter=0).fit(X)
    as_int.set_params(warm_start=True, n_clusters="auto", max_iter=10)
    assert as_int.fit(X).n_clusters_ == 3
    # It chose nothing: no candidate has a score (before: None, undocumented).
    assert as_int.n_clusters_scores_ is None


def test_warm_start_refuses_a_range_without_the_chosen_number(fitted, four_blobs):
    # It would keep n_clusters_ outside the range asked for (before: silently).
    X, _ = four_blobs
    warm = pickle.loads(pickle.dumps(fitted))
    chosen = fitted.n_clusters_
    warm.set_params(warm_start=True, max_iter=2, n_clusters_range=(chosen + 1, 9))
    with pytest.raises(ValueError, match=f"n_clusters_={chosen}, outside n_clusters"):
        warm.fit(X)
    assert warm.n_iter_ == fitted.n_iter_  # left as it was


def test_warm_start_keeps_the_chosen_number(fitted, four_blobs):
    X, _ = four_blobs
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, max_iter=10)
    warm.fit(X[::-1])
    assert warm.n_clusters_ == fitted.n_clusters_
    assert warm.n_clusters_scores_ == fitted.n_clusters_scores_


def test_a_warm_start_needs_no_rows_to_choose(fitted, four_blobs):
    # It chooses nothing: rows too few to try the range are enough to go on
    # (before: "n_clusters='auto' needs at least 6 samples").
    X, _ = four_blobs
    warm = pickle.loads(pickle.dumps(fitted))
    warm.set_params(warm_start=True, max_iter=2, n_clusters_range=(4, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X[:5])
    assert warm.n_clusters_ == fitted.n_clusters_ == 4
    # The range itself is still checked.
    warm.set_params(n_clusters_range=(1, 6))
    with pytest.raises(ValueError, match="n_clusters_range must be"):
        warm.fit(X[:5])


def test_saved_and_pickled_models_keep_the_choice(tmp_path, fitted, four_blobs):
    X, _ = four_blobs
    path = tmp_path / "auto.skdec"
    skdec.save(fitted, path)
    for restored in (skdec.load(path), pickle.loads(pickle.dumps(fitted))):
        assert restored.n_clusters == "auto"
        assert restored.n_clusters_ == fitted.n_clusters_
        assert restored.n_clusters_scores_ == fitted.n_clusters_scores_
        np.testing.assert_array_equal(restored.predict(X), fitted.labels_)


def test_a_state_without_n_clusters_fitted_loads_with_its_parameter():
    state = pickle.loads(pickle.dumps(small_dec(n_clusters=4, max_iter=0)))
    state.fit(separated_blobs(4, per_cluster=10)[0])
    old = state.__getstate__()
    del old["n_clusters_"], old["n_clusters_scores_"]
    restored = small_dec().__class__.__new__(small_dec().__class__)
    restored.__setstate__(old)
    assert restored.n_clusters_ == 4 and restored.n_clusters_scores_ is None


@pytest.mark.parametrize("shift", [1, 0.0])
def test_a_state_whose_choice_disagrees_with_its_networks_is_refused(fitted, shift):
    state = fitted.__getstate__()
    state["n_clusters_"] = fitted.n_clusters_ + shift  # another k, or a float
    restored = fitted.__class__.__new__(fitted.__class__)
    with pytest.raises(ValueError, match="inconsistent"):
        restored.__setstate__(state)


def test_command_line_prints_the_choice_and_runner_up(tmp_path, capsys, four_blobs):
    import pandas as pd

    X, _ = four_blobs
    data = tmp_path / "blobs.csv"
    pd.DataFrame(X, columns=["a", "b", "c", "d"]).to_csv(data, index=False)
    args = ["fit", str(data), "--n-clusters", "auto", "--out", str(tmp_path / "m")]
    args += ["--n-clusters-range", "2", "6", "--hidden-layer-sizes", "16"]
    args += ["--n-components", "3", "--pretrain-epochs", "10", "--max-iter", "0"]
    args += ["--init", "kmeans", "--random-state", "0"]
    assert main(args) == 0
    err = capsys.readouterr().err
    model = skdec.load(tmp_path / "m")
    scores = model[-1].n_clusters_scores_
    assert list(scores) == [2, 3, 4, 5, 6]
    runner_up = sorted(scores, key=lambda k: (-scores[k], k))[1]
    assert f"--n-clusters auto chose {model[-1].n_clusters_} (score" in err
    assert f"runner-up {runner_up} (score" in err


def test_command_line_refuses_a_range_without_auto(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n3,4\n5,6\n")
    argv = ["fit", str(data), "--n-clusters", "3", "--out", str(tmp_path / "m")]
    assert main([*argv, "--n-clusters-range", "2", "5"]) == 2
    err = capsys.readouterr().err
    assert "--n-clusters-range bounds the choice of --n-clusters auto" in err
    assert main([*argv, "--n-clusters-range", "2"]) == 2
    assert "--n-clusters-range: expected 2 arguments" in capsys.readouterr().err


def test_few_distinct_rows_do_not_flood_the_fit_with_kmeans_warnings():
    # Two binary columns: 4 distinct rows. Before, every k-means run of the
    # choice of k warned that it found fewer distinct clusters (34 warnings).
    X = np.random.default_rng(0).integers(0, 2, size=(200, 2)).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_dec(n_clusters="auto", max_iter=0).fit(X)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if m.startswith("Number of distinct clusters")]
    assert [m for m in messages if "only 4 distinct rows" in m]
