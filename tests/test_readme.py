"""The usage example of README.md runs as written, and its layout is whole."""

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


def test_readme_layout_names_every_module():
    # The layout is a newcomer's map of the package: a module left out of it
    # (three were) is one they find only by listing the folder.
    layout = README.read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    modules = sorted(path.name for path in (README.parent / "skdec").glob("*.py"))
    missing = [
        name
        for name in modules
        if name not in ("__init__.py", "__main__.py") and f"`{name}`" not in layout
    ]
    assert missing == []
