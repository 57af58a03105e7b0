"""Rows in batches: casting, memmap paging and batched inference.

Inputs of any numeric dtype (``uint8`` pixels, float64 tables, read-only
memmaps larger than memory) are never converted as a whole: each batch is cast
to float32 when it is taken, and the pages of a memmap that a batch has read
are released once it is done.
"""

import mmap

import numpy as np

# Rows of every forward pass of inference. The backends' matrix kernels
# round differently for different numbers of rows, so every batch, the last
# one and those of a small input included, is padded to exactly this many
# rows: a row's result is then the same however the data are split, and the
# traced prediction function of a model is never retraced for a new shape.
PREDICT_BATCH_SIZE = 512


def take_rows(X, index, dtype=np.float32):
    """Rows ``index`` (a slice or an index array) of X, as ``dtype``."""
    return np.asarray(X[index], dtype=dtype)


def page_releaser(X):
    """A function ``release(start, stop)`` that evicts rows of a memmap.

    Pages of a memory-mapped file that have been read count as resident
    memory of the process until the mapping goes. For a read-only
    :class:`numpy.memmap` (or a C-contiguous view of one), ``release`` tells
    the kernel that rows ``start:stop`` are no longer needed, so streaming
    over a file larger than memory keeps resident memory bounded; the file is
    unchanged and a later read fetches the rows again. For anything else it
    does nothing.
    """
    root = X
    while root is not None and not isinstance(root, np.memmap):
        root = getattr(root, "base", None)
    # A slice of a memmap is a memmap too, with its parent's ``offset``: the
    # mapping's start is known from the memmap that made it, the outermost.
    while isinstance(getattr(root, "base", None), np.memmap):
        root = root.base
    mapping = getattr(root, "_mmap", None)
    if (
        mapping is None
        or root.mode != "r"
        or not X.flags.c_contiguous
        or not hasattr(mmap, "MADV_DONTNEED")
    ):
        return lambda start, stop: None
    map_start = root.__array_interface__["data"][0] - (
        root.offset % mmap.ALLOCATIONGRANULARITY
    )
    first = X.__array_interface__["data"][0] - map_start
    row_bytes = X.strides[0] if X.ndim > 1 else X.itemsize

    def release(start, stop):
        low = first + start * row_bytes
        low -= low % mmap.PAGESIZE
        high = min(first + stop * row_bytes, len(mapping))
        if high > low:
            mapping.madvise(mmap.MADV_DONTNEED, low, high - low)

    return release


def map_batches(function, X, batch_size=PREDICT_BATCH_SIZE, dtype=np.float32):
    """Apply ``function`` to batches of X's rows (as ``dtype``) and stack the
    results.

    Rows of a read-only memmap are evicted from memory once their batch is
    done, so only ``batch_size`` rows of X and the stacked results are held.
    """
    outputs = []
    release = page_releaser(X)
    for start in range(0, X.shape[0], batch_size):
        batch = take_rows(X, slice(start, start + batch_size), dtype)
        outputs.append(function(batch))
        release(start, start + batch_size)
    return np.concatenate(outputs)


def predict_batches(model, X, batch_size=PREDICT_BATCH_SIZE, then=None):
    """Run the Keras ``model`` over X in batches and stack the float32 outputs.

    Every batch given to the model has exactly ``batch_size`` rows (the last
    one is padded with zeros), so that each row's output does not depend on
    the other rows of the call. ``then``, if given, is applied to each batch's
    output, padding included, before stacking (so that only its result, not
    the whole output, is kept); it must work row by row.
    """

    def predict(batch):
        n_rows = batch.shape[0]
        if n_rows < batch_size:
            pad = np.zeros((batch_size - n_rows, *batch.shape[1:]), batch.dtype)
            batch = np.concatenate([batch, pad])
        # float32 whatever the Keras dtype policy (float16 under mixed precision).
        output = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
        # ``then`` sees the padded batch too, so that its rounding does not
        # depend on the number of rows either (one row takes other kernels).
        return (output if then is None else then(output))[:n_rows]

    return map_batches(predict, X, batch_size)
