"""What every printed benchmark says first (machine, date, commit, command),
and a check that the records a table summarises were made alike."""

import collections
import datetime
import json
import os
import platform
import subprocess
import sys
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


def _setting(record, fields):
    """The ``fields`` of ``record`` as JSON text, so that a record made now
    (tuples) and one read back from a file (lists) compare alike."""
    return json.dumps({f: record.get(f) for f in fields}, sort_keys=True, default=str)


def without_rows_made_otherwise(records, new, key, settings):
    """``records`` less those of a row of ``new`` (the same ``key`` fields)
    made with other ``settings``, saying so on standard error: records of new
    settings replace their rows, so that a table never mixes them (see
    :func:`check_one_setting`)."""
    made = {}
    for record in new:
        made[tuple(record.get(f) for f in key)] = _setting(record, settings)
    kept, dropped = [], collections.Counter()
    for record in records:
        row = tuple(record.get(f) for f in key)
        if row in made and _setting(record, settings) != made[row]:
            dropped[row] += 1
        else:
            kept.append(record)
    for row, count in dropped.items():
        print(
            f"{'/'.join(map(str, row))}: {count} record(s) made with other "
            "settings dropped; the new ones replace them.",
            file=sys.stderr,
        )
    return kept


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
        setting = _setting(record, settings)
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
