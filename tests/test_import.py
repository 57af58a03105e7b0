"""Importing skdec prints nothing on standard output."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_prints_nothing_on_stdout():
    # matplotlib is not tested for absence: Keras itself imports it when it is
    # installed. skdec.plotting imports it only inside its functions.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import skdec, skdec.plotting, skdec.cli"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
