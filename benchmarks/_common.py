"""What every printed benchmark says first: machine, date, commit, command."""

import datetime
import os
import platform
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def header(command):
    """One line naming the machine, date, commit and ``command``."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{datetime.date.today()}; commit {commit or 'unknown'}; python "
        f"{platform.python_version()}; {command}"
    )
