"""The probe that judges the kind of start on rows it was not built on."""

import json

import numpy as np
import pytest

from benchmarks import heldout_judge
from skdec._initialization import AUTO_CANDIDATES

TINY = {"hidden_layer_sizes": (16,), "n_components": 4, "pretrain_epochs": 1}


def test_halves_split_every_row_once():
    first, second = heldout_judge.halves(101, 3)
    assert len(first) == 50 and len(second) == 51
    assert np.array_equal(np.sort(np.concatenate([first, second])), np.arange(101))
    assert np.array_equal(first, np.sort(first))
    assert not np.array_equal(first, heldout_judge.halves(101, 4)[0])


def test_held_out_rows_take_their_candidates_labels():
    X = np.array([[0.0], [0.1], [10.0], [10.1]])
    Z = 2 * X
    built, judged = np.array([0, 2]), np.array([1, 3])
    centers = np.array([[0.0], [25.0]])
    # k-means in the embedding: the nearest centre in Z (0.2 and 20.2).
    labels = heldout_judge._extended("kmeans", None, centers, X, Z, built, judged)
    assert labels.tolist() == [0, 1]
    # k-means on the input: in X (0.1 and 10.1), both nearer to 0.
    labels = heldout_judge._extended("kmeans_input", None, centers, X, Z, built, judged)
    assert labels.tolist() == [0, 0]
    # A UMAP run has no centre: the nearest built rows vote, in Z.
    labels = heldout_judge._extended(
        "umap", np.array([5, 7]), None, X, Z, built, judged
    )
    assert set(labels) <= {5, 7}


def _ranks(kmeans, kmeans_input, umap):
    return {"kmeans": kmeans, "kmeans_input": kmeans_input, "umap": umap}


@pytest.mark.parametrize(
    "first, second, picked",
    [
        # The highest mean score over the folds, though not first in either.
        (
            _ranks((3, 1.0, 1.0), (3, 0.5, 0.5), (3, 0.8, 0.8)),
            _ranks((3, 0.0, 0.0), (3, 0.5, 0.5), (3, 0.7, 0.7)),
            "umap",
        ),
        # A kind that fills fewer clusters in either fold ranks below.
        (
            _ranks((3, 0.1, 0.1), (3, 0.0, 0.0), (2, 9.0, 9.0)),
            _ranks((3, 0.1, 0.1), (3, 0.0, 0.0), (3, 9.0, 9.0)),
            "kmeans",
        ),
    ],
)
def test_the_kind_ranked_first_over_both_folds_is_picked(
    monkeypatch, first, second, picked
):
    folds = iter([first, second])
    monkeypatch.setattr(heldout_judge, "fold_ranks", lambda *args: next(folds))
    kind, ranks = heldout_judge.heldout_kind(np.zeros((10, 2)), None, 3, 1, 0)
    assert kind == picked
    mean = tuple(
        (a + b) / 2 for a, b in zip(first[kind][1:], second[kind][1:], strict=True)
    )
    assert ranks[kind] == (min(first[kind][0], second[kind][0]), *mean)


def test_run_on_unequal_blobs_records_both_picks(tmp_path, capsys):
    out = tmp_path / "records.json"
    argv = ["--datasets", "unequal_blobs", "--seeds", "0", "--out-json", str(out)]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    original = heldout_judge.default_candidates
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            heldout_judge,
            "default_candidates",
            lambda X, k, seed, cache, params=None: original(X, k, seed, cache, TINY),
        )
        heldout_judge.main(argv)
    (record,) = json.loads(out.read_text())["records"]
    assert record["dataset"] == "unequal_blobs" and set(record["ranks"]) == set(
        AUTO_CANDIDATES
    )
    # Four far-apart groups, which k-means on the input finds.
    assert record["kmeans_input"] == 1.0
    kind, accuracy = record["heldout"]
    assert kind == max(AUTO_CANDIDATES, key=lambda k: record["ranks"][k])
    assert 0 < accuracy <= 1
    assert "mean change over 1 data sets" in capsys.readouterr().out


def test_more_rows_than_the_default_judges_are_refused(monkeypatch):
    from types import SimpleNamespace

    found = SimpleNamespace(sample=np.arange(5), candidates=[])
    monkeypatch.setattr(
        heldout_judge, "default_candidates", lambda *args: (None, None, found)
    )
    with pytest.raises(ValueError, match="judges every row: at most 10,000 rows"):
        heldout_judge.run_one(np.zeros((20, 2)), np.arange(20) % 2, 0, None)
