"""The JSON report, written by hand for speed, is byte for byte what Python's json module writes.

Role: tests (hypothesis; pure). The reference is `json.dumps(report, indent=2, ensure_ascii=False)` of the same
report as plain data; strings are drawn from all of Unicode (control characters, quotes, backslashes, line and
paragraph separators, astral characters), so every escape json knows is exercised, over many findings (the
report comes in ~64 KiB pieces) that share rules and objects (each encoded once).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from beamkube.audit.model import Finding, Manifest, Rule, Severity
from beamkube.audit.report import _finding_json, json_chunks

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def findings(draw: st.DrawFn) -> list[Finding]:
    rules = [
        Rule(draw(TEXT), draw(st.sampled_from(list(Severity))), draw(TEXT), draw(TEXT), draw(TEXT), "why",
             frozenset({"*"}), lambda ctx, m: iter(()))
        for _ in range(draw(st.integers(1, 3)))
    ]
    manifests = [
        Manifest({"apiVersion": draw(TEXT), "kind": draw(TEXT),
                  "metadata": {"name": draw(TEXT), "namespace": draw(TEXT)}},
                 draw(TEXT), draw(st.integers(1, 10**6)))
        for _ in range(draw(st.integers(1, 3)))
    ]
    count = draw(st.integers(0, 30))
    return [Finding(draw(st.sampled_from(rules)), draw(st.sampled_from(manifests)), draw(TEXT)) for _ in range(count)]


@settings(max_examples=200, deadline=None)
@given(findings(), st.integers(0, 10**5))
def test_json_report_is_json_dumps(found: list[Finding], objects: int) -> None:
    streamed = "".join(json_chunks(found, objects, Severity.INFO, (1, 33)))
    document = json.loads(streamed)
    assert document["findings"] == [_finding_json(f) for f in found]
    assert streamed == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_a_big_report_comes_in_pieces() -> None:
    rule = Rule("BK999", Severity.WARNING, "t", "title", "fix", "why", frozenset({"*"}), lambda ctx, m: iter(()))
    manifest = Manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, "f.yaml", 1)
    found = [Finding(rule, manifest, f"detail {i}") for i in range(3000)]
    chunks = list(json_chunks(found, 1, Severity.INFO, (1, 33)))
    assert len(chunks) > 3 and max(map(len, chunks)) < 70_000
    assert json.loads("".join(chunks))["summary"]["warning"] == 3000
