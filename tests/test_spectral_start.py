"""The probe of a spectral start for init="auto"."""

import numpy as np
import pytest

from benchmarks import spectral_start


def test_spectral_candidates_are_judged_as_the_defaults_are(tmp_path):
    from benchmarks.accuracy import load_dataset

    X, y = load_dataset("unequal_blobs", data_dir="/nonexistent")
    tiny = {"hidden_layer_sizes": (16,), "n_components": 4, "pretrain_epochs": 1}
    record = spectral_start.run_one(X, y, 0, str(tmp_path), tiny)
    assert set(record) == {"default", *spectral_start.SPECTRAL}
    # Four separate groups of the input's graph: its spectral clustering
    # finds them, a partition no link crosses, as the default's pick does,
    # and a tie goes to the default's candidates.
    assert record["default"][1] == 1.0
    accuracy, saving, wins = record["spectral_input"]
    assert accuracy == 1.0 and not wins
    assert saving == pytest.approx(record["default"][2])
    lines = spectral_start.summary([{"dataset": "unequal_blobs", "seed": 0, **record}])
    assert lines[2].startswith("| unequal_blobs | 0 | 1.000 | 1.000 (0) |")


def test_spectral_labels_cut_a_graph_of_two_groups_between_them():
    blocks = np.kron(np.eye(2), np.ones((5, 5))) - np.eye(10)
    labels = spectral_start.spectral_labels(blocks, 2, 0)
    assert len(set(labels[:5])) == len(set(labels[5:])) == 1
    assert labels[0] != labels[5]
