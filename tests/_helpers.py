"""Shared test configuration."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdec import DECClusterer
from skdec._modularity import fuzzy_neighbor_graph

ROOT = Path(__file__).resolve().parents[1]


def run_json_script(script, *args, env=None, drop=()):
    """Run ``script`` in a fresh Python with the repository importable and
    return the JSON object it prints last; ``env`` adds variables, ``drop``
    removes some."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in drop:
        full_env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def small_dec(**params):
    """A DEC configuration small enough for unit tests (well under a second)."""
    defaults = dict(
        n_clusters=3,
        hidden_layer_sizes=(16,),
        n_components=2,
        pretrain_epochs=10,
        max_iter=40,
        update_interval=10,
        batch_size=32,
        n_init=3,
        init="kmeans",  # init="auto" has its own tests (test_auto.py)
        random_state=0,
    )
    defaults.update(params)
    return DECClusterer(**defaults)


def record_calls(monkeypatch, owner, name, record):
    """Wrap ``owner.name`` so that each call appends ``record(*args, **kwargs)``
    to the returned list, then runs the original."""
    calls = []
    original = getattr(owner, name)

    def recording(*args, **kwargs):
        calls.append(record(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls


def category_table(seed=0, sizes=(300, 200, 100), n_columns=4, agree=0.85):
    """A made table of categories, one-hot encoded, and the group of each row.

    Each group has its own level in every column (``n_columns`` columns of
    three levels); each cell takes it with probability ``agree``, else a level
    at random. There are at most ``3 ** n_columns`` distinct rows, so most
    rows are exact copies of others, as in tables of categories.
    """
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    n_rows = groups.size
    codes = np.where(
        rng.random((n_rows, n_columns)) < agree,
        groups[:, None],
        rng.integers(0, 3, (n_rows, n_columns)),
    )
    return OneHotEncoder(sparse_output=False).fit_transform(codes), groups


def rows_graph(X):
    """The graph of the rows of ``X`` that a RowGraph stands for, built out:
    each row joined to every copy of each neighbour of its value (the fuzzy
    graph of the distinct rows), and to none of its own copies."""
    values, nodes = np.unique(X, axis=0, return_inverse=True)
    nodes = nodes.ravel()
    copies = scipy.sparse.csr_matrix(
        (np.ones(nodes.size), (np.arange(nodes.size), nodes)),
        shape=(nodes.size, values.shape[0]),
    )
    return (copies @ fuzzy_neighbor_graph(values) @ copies.T).tocsr()


def far_small_groups():
    """A group of 500 rows and two of 12, 12 standard deviations away, in
    4 columns, standardised: each small group has fewer rows than the
    graph's 15 neighbours per row, so each of its rows links to the large
    group too (groups of 16 rows or more are separate pieces of the graph
    here)."""
    rng = np.random.default_rng(0)
    X = np.vstack(
        [
            rng.normal(0, 1, (500, 4)),
            rng.normal(0, 1, (12, 4)) + [12, 0, 0, 0],
            rng.normal(0, 1, (12, 4)) + [0, 12, 0, 0],
        ]
    )
    y = np.repeat([0, 1, 2], [500, 12, 12])
    return StandardScaler().fit_transform(X).astype(np.float32), y
