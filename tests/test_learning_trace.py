"""The diagnostic of the learning phase's criterion (benchmarks/learning_trace)."""

import json

import pytest

from benchmarks import learning_trace

RINGS_DEC = {
    "hidden_layer_sizes": [16],
    "n_components": 2,
    "pretrain_epochs": 20,
    "update_interval": 10,
    "batch_size": 32,
    "n_init": 3,
}


@pytest.mark.parametrize(
    "scores, begin, patience, expected",
    [
        ([1, 2, 3, 3, 3, 3, 3, 3], 0, 5, (7, 2)),  # five updates level after 3
        ([1, 0, 0, 0, 0, 0], 0, 5, (5, 0)),  # falls, and never comes back
        ([1, 0, 0, 0, 0, 2, 2], 0, 5, (None, 5)),  # a rise at the fifth
        ([5, 1, 2, 3, 4, 4, 4, 4, 4], 1, 4, (8, 4)),  # counted from `begin`
    ],
)
def test_patience_end(scores, begin, patience, expected):
    assert learning_trace.patience_end(scores, begin, patience) == expected


def test_traces_the_learning_phase_past_its_rule(tmp_path, capsys):
    out = tmp_path / "trace.json"
    argv = ["--datasets", "rings", "--extra", "2", "--out-json", str(out)]
    argv += ["--dec-params", json.dumps(RINGS_DEC)]
    (record,) = learning_trace.main(argv)
    assert json.loads(out.read_text())["records"] == [record]
    assert record["init_"] != "kmeans"  # two rings: k-means cannot find them
    trace, rule = record["trace"], record["rule"]
    # Two updates past the update at which the phase's rule ends it.
    assert rule >= 1 and len(trace) == rule + 3
    iterations = [row[0] for row in trace]
    assert iterations == [10 * i for i in range(len(trace))]
    assert all(0.0 <= row[1] <= 1.0 for row in trace)
    assert trace[rule][1] <= trace[0][1] / 2  # half the disagreement, or less
    out = capsys.readouterr().out
    assert out.startswith("machine: ") and f"rings 0: start {record['init_']}" in out
    assert "patience from start: ends" in out and "patience from rule" in out


def test_a_start_without_a_learning_phase_is_said_so_and_not_trained(capsys):
    params = {**RINGS_DEC, "pretrain_epochs": 2, "init": "kmeans"}
    argv = ["--datasets", "rings", "--dec-params", json.dumps(params)]
    (record,) = learning_trace.main(argv)
    assert record["trace"] is None and record["start_score"] is None
    assert record["n_iter"] == 0  # not 20,000 iterations of DEC's phase
    assert "rings 0: start kmeans, no learning phase" in capsys.readouterr().out
