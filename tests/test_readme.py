"""The usage example of README.md runs as written."""

import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(blocks[0], str(README), "exec"), namespace)
    X, y = namespace["X"], namespace["y"]
    assert namespace["labels"].shape == y.shape
    assert namespace["q"].shape == (X.shape[0], 2)
    np.testing.assert_allclose(namespace["q"].sum(axis=1), 1.0)
    assert namespace["Z"].shape == (X.shape[0], 5)
    assert namespace["search"].best_score_ > 0.8
