import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Restore NumPy's global random state and Keras' global settings."""
    np_state = np.random.get_state()
    floatx = keras.config.floatx()
    yield
    np.random.set_state(np_state)
    keras.config.set_floatx(floatx)
