"""CI runs exactly the test command that README.md gives."""

import re
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(python -m pip install -e .*?)\n```", readme)
    assert len(commands) == 1
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == commands[0]
    assert "python -m sphinx -W" in commands[0]


def _lower_bounds(requirements):
    """``{name: lower bound}`` of the quoted ``name>=version`` requirements."""
    found = re.findall(r'"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([^",;\s]+)"', requirements)
    return {name.lower(): Version(bound) for name, bound in found}


def test_the_minimum_versions_file_pins_every_lower_bound():
    pyproject = (ROOT / "pyproject.toml").read_text()
    runtime = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M)
    parquet = re.search(r"^parquet = \[(.*?)\]", pyproject, re.M)
    test = re.search(r"^test = \[(.*?)^\]", pyproject, re.S | re.M)
    bounds = _lower_bounds(runtime.group(1)) | _lower_bounds(parquet.group(1))
    assert {"keras", "tensorflow", "scikit-learn", "umap-learn", "pyarrow"} <= set(
        bounds
    )
    lines = (ROOT / ".ci" / "minimum-versions.txt").read_text().splitlines()
    pins = dict(
        line.split("==") for line in lines if line.strip() and not line.startswith("#")
    )
    pins = {name.lower(): Version(version) for name, version in pins.items()}
    for name, bound in bounds.items():
        assert pins.get(name) == bound, name
    # Beside them only the test extra's JAX, at its own lower bound.
    assert set(pins) - set(bounds) <= {"jax", "jaxlib"}
    assert pins["jax"] == pins["jaxlib"] == _lower_bounds(test.group(1))["jax"]
