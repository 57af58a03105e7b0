"""ARPACK's random restarts are seeded, so that UMAP's spectral layout and
the spectrum that chooses n_clusters repeat for one seed."""

import copy
import functools
import threading

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from skdec import _arpack, _initialization
from skdec._n_clusters import laplacian_spectrum

from _helpers import category_table, record_calls

needs_rng = pytest.mark.skipif(
    not _arpack._takes_rng(), reason="this SciPy's eigsh takes no rng"
)


def _eigsh_spy(monkeypatch):
    """Record the ``rng`` state (None without one) of each call of SciPy's
    eigsh, made before seeded_eigsh wraps it, so that the calls it seeds are
    seen; the state is copied, not drawn from."""
    calls = []
    eigsh = scipy.sparse.linalg.eigsh

    @functools.wraps(eigsh)
    def spy(*args, **kwargs):
        rng = kwargs.get("rng")
        calls.append(None if rng is None else copy.deepcopy(rng.bit_generator.state))
        return eigsh(*args, **kwargs)

    monkeypatch.setattr(scipy.sparse.linalg, "eigsh", spy)
    return calls


@needs_rng
def test_umap_maps_the_values_of_a_category_table_alike_each_time(monkeypatch):
    # 27 distinct rows of one-hot categories: a graph whose spectrum repeats
    # an eigenvalue, where ARPACK can draw restart vectors. Before, each map
    # drew them from fresh entropy. (With SciPy 1.17 ARPACK draws none on
    # this graph, so the maps alone cannot tell: the spy checks that UMAP's
    # eigsh gets the fit's generator, fresh from the seed.)
    calls = _eigsh_spy(monkeypatch)
    X, _ = category_table(0, n_columns=3, agree=0.8)
    values = np.unique(X, axis=0)
    maps = [_initialization.umap_view(values, 3, seed=0)[0] for _ in range(3)]
    expected = np.random.default_rng([0, _arpack._STREAM]).bit_generator.state
    assert len(calls) == 3 and all(state == expected for state in calls)
    np.testing.assert_array_equal(maps[0], maps[1])
    np.testing.assert_array_equal(maps[0], maps[2])
    # Another seed draws other restarts (and UMAP's own numbers).
    other = _initialization.umap_view(values, 3, seed=1)[0]
    assert not np.array_equal(maps[0], other)


@needs_rng
def test_scipy_gets_its_own_eigsh_back():
    original = scipy.sparse.linalg.eigsh
    with _arpack.seeded_eigsh(0):
        assert scipy.sparse.linalg.eigsh is not original
        with _arpack.seeded_eigsh(1):  # nested: the same replacement
            inner = scipy.sparse.linalg.eigsh
        assert scipy.sparse.linalg.eigsh is inner  # the outer is still in
    assert scipy.sparse.linalg.eigsh is original
    with pytest.raises(RuntimeError), _arpack.seeded_eigsh(0):
        raise RuntimeError
    assert scipy.sparse.linalg.eigsh is original


@needs_rng
def test_other_threads_are_neither_seeded_nor_kept_waiting(monkeypatch):
    # Before, another thread's eigsh got the fit's generator, and a second
    # thread's seeded_eigsh waited for the first to leave.
    given = {}
    monkeypatch.setattr(
        scipy.sparse.linalg,
        "eigsh",
        lambda *a, **kw: given.setdefault(threading.current_thread().name, kw),
    )
    inside, release = threading.Event(), threading.Event()

    def fit_like():
        with _arpack.seeded_eigsh(0):
            inside.set()
            release.wait(10)
            scipy.sparse.linalg.eigsh(None)

    def other():
        scipy.sparse.linalg.eigsh(None)  # no context of its own

    def second_fit():
        with _arpack.seeded_eigsh(1):
            scipy.sparse.linalg.eigsh(None)

    first = threading.Thread(target=fit_like, name="fit")
    first.start()
    assert inside.wait(10)
    for target, name in ((other, "other"), (second_fit, "second")):
        thread = threading.Thread(target=target, name=name)
        thread.start()
        thread.join(10)
        assert not thread.is_alive()
    release.set()
    first.join(10)
    assert given["other"] == {}
    assert given["fit"]["rng"].random() == _first_draw(0)
    assert given["second"]["rng"].random() == _first_draw(1)


def _first_draw(seed):
    return np.random.default_rng([seed, _arpack._STREAM]).random()


@needs_rng
def test_a_caller_that_gives_its_own_rng_keeps_it(monkeypatch):
    given = []
    monkeypatch.setattr(
        scipy.sparse.linalg, "eigsh", lambda *a, **kw: given.append(kw["rng"])
    )
    mine = np.random.default_rng(5)
    with _arpack.seeded_eigsh(0):
        scipy.sparse.linalg.eigsh(None, rng=mine)
        scipy.sparse.linalg.eigsh(None)
    assert given[0] is mine
    assert given[1].random() == _first_draw(0)


@needs_rng
def test_the_sparse_spectrum_seeds_arpack(monkeypatch):
    # Above 1,000 rows laplacian_spectrum calls eigsh; its restarts come
    # from the seed too.
    rng = np.random.default_rng(0)
    weights = scipy.sparse.random(1200, 1200, density=0.01, random_state=rng)
    weights = weights + weights.T + scipy.sparse.diags(np.ones(1199), 1)
    weights = weights + weights.T
    calls = []
    eigsh = scipy.sparse.linalg.eigsh

    def spy(*args, **kwargs):
        calls.append(kwargs["rng"].random())
        return eigsh(*args, **kwargs)

    monkeypatch.setattr(scipy.sparse.linalg, "eigsh", spy)
    first = laplacian_spectrum(weights, 4, seed=3)
    again = laplacian_spectrum(weights, 4, seed=3)
    np.testing.assert_array_equal(first[1], again[1])
    expected = np.random.default_rng([3, _arpack._STREAM]).random()
    assert calls == [expected, expected]


def test_without_rng_umap_maps_the_values_alike_each_time(monkeypatch):
    # SciPy before 1.17 (Python 3.10 gets 1.15 at most): eigsh takes no rng,
    # so the small graph of a category table's values is solved densely.
    # Before, seeded_eigsh did nothing there and the maps differed.
    monkeypatch.setattr(_arpack, "_takes_rng", lambda: False)
    assert _arpack.eigsh_seed(0) == {}
    arpack = _eigsh_spy(monkeypatch)
    dense = record_calls(monkeypatch, _arpack, "_dense_eigsh", lambda *a: None)
    original = scipy.sparse.linalg.eigsh
    X, _ = category_table(0, n_columns=3, agree=0.8)
    values = np.unique(X, axis=0)
    maps = [_initialization.umap_view(values, 3, seed=0)[0] for _ in range(3)]
    np.testing.assert_array_equal(maps[0], maps[1])
    np.testing.assert_array_equal(maps[0], maps[2])
    assert scipy.sparse.linalg.eigsh is original
    # Solved densely, each time: ARPACK, which would draw unseeded, never ran.
    assert len(dense) == 3 and arpack == []


@pytest.mark.parametrize("which", ["SM", "LM", "SA", "LA"])
def test_the_dense_solver_finds_what_arpack_finds(which):
    rng = np.random.default_rng(0)
    A = scipy.sparse.random(60, 60, density=0.1, random_state=rng)
    A = (A + A.T).tocsr()
    eigsh = scipy.sparse.linalg.eigsh
    expected = eigsh(A, 5, which=which, tol=1e-12, v0=np.ones(60))[0]
    values, vectors = _arpack._dense_eigsh(eigsh, (A, 5), {"which": which})
    np.testing.assert_allclose(values, expected, atol=1e-9)
    np.testing.assert_allclose(A @ vectors, vectors * values, atol=1e-9)
    alone = _arpack._dense_eigsh(
        eigsh, (A,), dict(k=5, which=which, return_eigenvectors=False)
    )
    np.testing.assert_array_equal(alone, values)


def test_the_dense_solver_leaves_what_it_cannot_solve_to_arpack():
    calls = []

    def eigsh(A, k=6, M=None, sigma=None, which="LM", return_eigenvectors=True):
        calls.append(which)

    big = scipy.sparse.eye(_arpack.DENSE_ROWS + 1, format="csr")
    small = scipy.sparse.eye(10, format="csr")
    for args, kwargs in [
        ((big, 3), {"which": "SM"}),
        ((small, 3), {"which": "BE"}),
        ((small, 3), {"sigma": 0.5}),
        ((small, 10), {}),  # k must be below the rows
    ]:
        assert _arpack._dense_eigsh(eigsh, args, kwargs) is None
    assert calls == ["SM", "BE", "LM", "LM"]
