"""CI runs exactly the test command that README.md gives."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(python -m pip install -e .*?)\n```", readme)
    assert len(commands) == 1
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == commands[0]
    assert "python -m sphinx -W" in commands[0]
