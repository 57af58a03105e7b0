"""What every printed benchmark says first (machine, date, commit, command),
and a check that the records a table summarises were made alike."""

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


def check_one_setting(records, key, settings):
    """Refuse records that one row of a table would summarise together but
    that were made with other settings.

    ``key`` names the fields that make a row (the data set, the method) and
    ``settings`` those that must then be equal (the parameters, the rows
    used). Merging records of another run can otherwise mix, say, seeds fitted
    with other parameters into one mean, under one line of parameters.

    Raises
    ------
    ValueError
        Naming the row and the settings found.
    """
    found = {}
    for record in records:
        row = tuple(record.get(field) for field in key)
        setting = {field: record.get(field) for field in settings}
        found.setdefault(row, [])
        if setting not in found[row]:
            found[row].append(setting)
    mixed = {row: kinds for row, kinds in found.items() if len(kinds) > 1}
    if mixed:
        row, kinds = next(iter(mixed.items()))
        raise ValueError(
            f"the records of {'/'.join(map(str, row))} were made with "
            f"different settings ({'; '.join(map(str, kinds))}), and "
            f"{len(mixed) - 1} other row(s) too: rerun them alike, or leave "
            "out those made otherwise."
        )
