"""Large inputs stream: memmaps are read batch by batch and not kept resident."""

import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skdec import _batches
from skdec._estimator import _check_float32_range
from skdec._n_clusters import choose_n_clusters

from _helpers import small_dec

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/smaps"
)


def resident_kib(path):
    """Resident memory of this process's mappings of ``path``, in KiB."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.fixture
def pixels(tmp_path):
    path = tmp_path / "pixels.npy"
    rng = np.random.default_rng(0)
    data = np.lib.format.open_memmap(path, "w+", np.uint8, (6000, 784))
    data[:] = rng.integers(0, 256, data.shape)
    data.flush()
    del data
    return path


@linux_only
def test_page_releaser_evicts_rows_and_keeps_values(pixels):
    X = np.load(pixels, mmap_mode="r")
    expected = np.asarray(X).sum(dtype=np.int64)  # touches every page
    assert resident_kib(pixels) > 4000
    _batches.page_releaser(X)(0, X.shape[0])
    assert resident_kib(pixels) < 100
    assert X.sum(dtype=np.int64) == expected  # read back from the file


@linux_only
@pytest.mark.parametrize("rows", [slice(3000, None), slice(1234, 5000)])
def test_page_releaser_evicts_the_rows_of_a_slice(pixels, rows):
    # A slice of a memmap is a memmap with its parent's offset: its rows, not
    # the parent's first rows, are those released.
    X = np.load(pixels, mmap_mode="r")[rows]
    expected = np.asarray(X).sum(dtype=np.int64)
    assert resident_kib(pixels) > 2000
    _batches.page_releaser(X)(0, X.shape[0])
    assert resident_kib(pixels) < 100
    assert X.sum(dtype=np.int64) == expected


def test_then_sees_batches_padded_like_the_models():
    # A function applied after the model must see full batches too: its
    # kernels round one row differently from many (as a single row's
    # predict_proba did before).
    class Doubler:
        def predict_on_batch(self, batch):
            return batch * 2.0

    sizes = []

    def then(output):
        sizes.append(len(output))
        return output.sum(axis=1)

    X = np.arange(1300 * 3, dtype=np.float32).reshape(1300, 3)
    out = _batches.predict_batches(Doubler(), X, batch_size=512, then=then)
    assert sizes == [512, 512, 512]
    np.testing.assert_array_equal(out, (X * 2).sum(axis=1))


def test_page_releaser_leaves_writable_maps_alone(pixels):
    X = np.load(pixels, mmap_mode="c")  # copy-on-write: evicting would lose edits
    X[0, :] = 7
    _batches.page_releaser(X)(0, X.shape[0])
    assert (X[0] == 7).all()
    ordinary = np.ones((3, 2))
    _batches.page_releaser(ordinary)(0, 3)  # no-op
    assert ordinary.sum() == 6


@linux_only
def test_predict_over_a_memmap_streams_and_matches_in_memory(pixels):
    X = np.load(pixels, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dec = small_dec(n_clusters=5, pretrain_epochs=1, max_iter=0).fit(
            np.asarray(X[:500]) / 255.0
        )
    labels = dec.predict(X)
    proba = dec.predict_proba(X)
    # Only the last batch or so of the file may still be resident.
    assert resident_kib(pixels) < 2 * _batches.PREDICT_BATCH_SIZE * 784 / 1024
    in_memory = np.array(X)
    np.testing.assert_array_equal(labels, dec.predict(in_memory))
    np.testing.assert_array_equal(proba, dec.predict_proba(in_memory))
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))


def test_the_float32_range_check_makes_no_copy_of_float64_rows(tmp_path):
    # Before, np.abs(X) made a float64 copy of the whole input (a memmap of
    # any size) to find its largest value.
    path = tmp_path / "rows.npy"
    data = np.lib.format.open_memmap(path, "w+", np.float64, (100_000, 20))
    data[:] = 1.0
    data[123, 4] = -2.5
    data.flush()
    X = np.load(path, mmap_mode="r")
    tracemalloc.start()
    try:
        assert _check_float32_range(X) is X
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 100  # 16 MB of rows
    data[123, 4] = -1e300
    data.flush()
    with pytest.raises(ValueError, match="values up to 1e\\+300, beyond the float32"):
        _check_float32_range(np.load(path, mmap_mode="r"))


def test_choosing_n_clusters_converts_only_the_sampled_rows(tmp_path):
    # Before, n_clusters="auto" converted the whole input to float64 before
    # drawing the 5,000 rows it judges on: 8 bytes a value of uint8 pixels.
    rng = np.random.default_rng(0)
    centers = rng.integers(0, 256, (3, 50))
    labels = rng.integers(0, 3, 100_000)
    path = tmp_path / "pixels.npy"
    pixels = np.lib.format.open_memmap(path, "w+", np.uint8, (100_000, 50))
    pixels[:] = np.clip(centers[labels] + rng.normal(0, 5, (100_000, 50)), 0, 255)
    pixels.flush()
    X = np.load(path, mmap_mode="r")
    Z = (centers[labels, :2] + rng.normal(0, 5, (100_000, 2))).astype(np.float32)
    tracemalloc.start()
    try:
        choice = choose_n_clusters(X, Z, candidates=(2, 3, 4), seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert choice.n_clusters == 3
    assert choice.labels[3].shape == (100_000,)
    assert peak < X.size * 8 / 2  # half the float64 copy of 40 MB
