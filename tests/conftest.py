import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Under pytest-xdist, each worker gets its share of the cores for its
# thread pools (TensorFlow's, BLAS', OpenMP's, Numba's), set before they
# start; without it every worker's pools span all cores, and their threads
# wait on each other's (the suite took about 10% longer on 2 cores). Values
# set by the user are kept; subprocesses of a test inherit them.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    _threads = str(max(1, (os.cpu_count() or 1) // _workers))
    for _name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMBA_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        os.environ.setdefault(_name, _threads)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

if _workers > 1 and keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    # TensorFlow's own setting too, made before its runtime starts; the
    # variables above serve the other pools and a test's subprocesses.
    tf.config.threading.set_intra_op_parallelism_threads(
        int(os.environ["TF_NUM_INTRAOP_THREADS"])
    )
    tf.config.threading.set_inter_op_parallelism_threads(
        int(os.environ["TF_NUM_INTEROP_THREADS"])
    )


_TF_LOG_LEVEL = logging.getLogger("tensorflow").level


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Restore NumPy's global random state, Keras' global settings and the
    level of TensorFlow's logger (the command line sets it to ERROR when it
    first imports umap-learn in a process: a later test of TensorFlow's
    warnings then saw none)."""
    np_state = np.random.get_state()
    floatx = keras.config.floatx()
    yield
    np.random.set_state(np_state)
    keras.config.set_floatx(floatx)
    # The level the process started with: a module's fixture may have
    # changed it before this fixture of each test starts.
    logging.getLogger("tensorflow").setLevel(_TF_LOG_LEVEL)


def pytest_collection_modifyitems(config, items):
    """The examples in skdec's docstrings (collected by --doctest-modules)
    fail on any warning: a user pasting one should see none. (Collected
    with the tests, as `python -m pytest` does; `pytest skdec` alone does not
    read this file.)"""
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.filterwarnings("error"))
