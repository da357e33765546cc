"""docs/audit-comparison.md: the coverage figure at the top is what its tables say, every check row names
existing rule IDs or says why it does not apply, and no check is listed twice."""

from __future__ import annotations

import re
from pathlib import Path

from beamkube.audit import BY_ID

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-comparison.md"
ROW = re.compile(r"^\| `([a-zA-Z0-9-]+)` \| ([^|]+) \| ([^|]*) \|$")


def _rows() -> dict[str, list[tuple[str, str, str]]]:
    tools: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (Polaris|kube-score|kube-linter) \((\d+) of (\d+) mapped\)$", line)
        if heading:
            current = heading.group(1)
            tools[current] = []
        elif line.startswith("## "):
            current = None
        elif current and (match := ROW.match(line)):
            tools[current].append((match.group(1), match.group(2).strip(), match.group(3).strip()))
    return tools


def test_every_peer_check_maps_to_real_rules_or_says_why_not() -> None:
    tools = _rows()
    assert set(tools) == {"Polaris", "kube-score", "kube-linter"}
    for tool, rows in tools.items():
        names = [r[0] for r in rows]
        assert len(names) == len(set(names)), tool
        for check, target, note in rows:
            if target == "not applicable":
                assert len(note) > 20, f"{tool} {check}: say why"
            else:
                ids = [t.strip() for t in target.split(",")]
                assert ids and all(i in BY_ID for i in ids), f"{tool} {check}: {target}"


def test_coverage_figures_match_the_tables() -> None:
    text = DOC.read_text(encoding="utf-8")
    tools = _rows()
    total = sum(len(rows) for rows in tools.values())
    mapped = sum(1 for rows in tools.values() for r in rows if r[1] != "not applicable")
    assert f"**Coverage: {mapped} of the {total} checks" in text
    assert f"({100 * mapped / total:.0f}%); the other {total - mapped} do not apply" in text
    for tool, rows in tools.items():
        ok = sum(1 for r in rows if r[1] != "not applicable")
        assert f"## {tool} ({ok} of {len(rows)} mapped)" in text


def test_audit_page_states_the_current_rule_count() -> None:
    from beamkube.audit import RULES

    page = (DOC.parent / "audit.md").read_text(encoding="utf-8")
    optional = sum(r.optional for r in RULES)
    assert f"{len(RULES)} rules with stable IDs ({optional} optional," in page
