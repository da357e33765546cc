"""Golden files: the exact YAML `beamkube render --example <name>` prints, one file per bundled example in
`tests/golden/<name>.yaml`. A change in output must be a reviewed change of these files.

Regenerate after an intended change with `BEAMKUBE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py`,
then read the diff (`git diff tests/golden`) before committing it.

Role: tests; reads (and, with the switch, writes) the golden files.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from beamkube.output import dump_yaml

from .examples import EXAMPLES, rendered

GOLDEN = Path(__file__).parent.parent / "golden"
UPDATE = os.environ.get("BEAMKUBE_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("example", EXAMPLES)
def test_matches_golden(example: str) -> None:
    text = dump_yaml(rendered(example))
    path = GOLDEN / f"{example}.yaml"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with BEAMKUBE_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "rendered"))
        pytest.fail(f"rendered output differs from {path} (BEAMKUBE_UPDATE_GOLDEN=1 to accept):\n{diff}")


def test_every_golden_file_has_an_example() -> None:
    """A renamed or removed example must not leave a stale golden file behind."""
    assert sorted(p.stem for p in GOLDEN.glob("*.yaml")) == EXAMPLES
