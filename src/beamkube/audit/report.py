"""Findings as text (grouped by object, colour optional), JSON, or SARIF 2.1.0 for code-scanning UIs.

Role: pure (no I/O): each function returns a string; the CLI decides where it goes and whether the
terminal gets colour. Output is deterministic (findings arrive sorted; keys are emitted in a fixed order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from beamkube import __version__
from beamkube.audit.model import Finding, Manifest, Rule, Severity
from beamkube.audit.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_COLOUR = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    for f in findings:
        out[f.severity.value] += 1
    return out


def summary_line(findings: Sequence[Finding], objects: int, min_severity: Severity) -> str:
    if not findings:
        return f"No findings at {min_severity.value} or above in {objects} objects."
    c = counts(findings)
    flagged = len({f.manifest.ref + f.manifest.source for f in findings})
    parts = [f"{c['error']} error(s)", f"{c['warning']} warning(s)"]
    if min_severity is Severity.INFO:
        parts.append(f"{c['info']} info")
    return f"{', '.join(parts)} in {flagged} of {objects} objects."


def text_chunks(
    findings: Sequence[Finding], objects: int, min_severity: Severity, colour: bool = False
) -> Iterator[str]:
    """The text report, one object's group at a time (so a huge report is never one string)."""
    current: tuple[str, int, str] | None = None
    # Grouped by object (findings arrive in file/line order); inside a group, errors first.
    ordered = sorted(
        findings,
        key=lambda f: (f.manifest.source, f.manifest.line, f.manifest.ref, -f.severity.rank, f.rule.id, f.detail),
    )
    for f in ordered:
        lines: list[str] = []
        key = (f.manifest.source, f.manifest.line, f.manifest.ref)
        if key != current:
            if current is not None:
                lines.append("")
            current = key
            head = f"{f.manifest.ref}  ({f.manifest.source}:{f.manifest.line})"
            lines.append(f"{_BOLD}{head}{_RESET}" if colour else head)
        label = f"{f.severity.value:<7}"
        if colour:
            label = f"{_COLOUR[f.severity]}{label}{_RESET}"
        lines.append(f"  {label}  {f.rule.id}  {f.message}")
        lines.append(f"  {'':7}  {'':5}  fix: {f.rule.fix}")
        yield "\n".join(lines) + "\n"
    yield ("\n" if ordered else "") + summary_line(ordered, objects, min_severity) + "\n"


def text(findings: Sequence[Finding], objects: int, min_severity: Severity, colour: bool = False) -> str:
    return "".join(text_chunks(findings, objects, min_severity, colour))


def _object(m: Manifest) -> dict[str, str]:
    return {"apiVersion": m.api_version, "kind": m.kind, "namespace": m.namespace, "name": m.name}


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule.id,
        "severity": f.severity.value,
        "theme": f.rule.theme,
        "message": f.message,
        "fix": f.rule.fix,
        "object": _object(f.manifest),
        "file": f.manifest.source,
        "line": f.manifest.line,
    }


def json_chunks(
    findings: Sequence[Finding], objects: int, min_severity: Severity, kube_version: tuple[int, int]
) -> Iterator[str]:
    """The JSON report in pieces (~64 KiB each), so 100k findings never sit in memory as one document;
    the concatenation is exactly `json.dumps(report, indent=2, ensure_ascii=False)` plus a newline."""
    body: dict[str, Any] = {
        "tool": "beamkube audit",
        "version": __version__,
        "kubeVersion": f"{kube_version[0]}.{kube_version[1]}",
        "minSeverity": min_severity.value,
        "summary": {"objects": objects, **counts(findings)},
        "findings": [],
    }
    head = json.dumps(body, indent=2, ensure_ascii=False)
    if not findings:
        yield head + "\n"
        return
    assert head.endswith('"findings": []\n}')
    batch = [head[: -len("]\n}")] + "\n"]
    size = 0
    for i, item in enumerate(_finding_texts(findings)):
        batch.append(f",\n{item}" if i else item)
        size += len(item)
        if size > 65536:
            yield "".join(batch)
            batch, size = [], 0
    batch.append("\n  ]\n}\n")
    yield "".join(batch)


def _finding_texts(findings: Sequence[Finding]) -> Iterator[str]:
    """Each finding as `json.dumps(_finding_json(f), indent=2)` indented by four spaces, written by hand: the
    encoder's indenting path is pure Python and was 80% of the report's time. Rule and object parts repeat
    across findings, so each is encoded once; strings go through json's own C escaper."""
    string = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses
    rules: dict[int, tuple[str, str]] = {}  # by id(): findings hold their rules and manifests alive
    places: dict[int, str] = {}
    for f in findings:
        rule = rules.get(id(f.rule))
        if rule is None:
            rule = rules[id(f.rule)] = (
                f'    {{\n      "rule": {string(f.rule.id)},\n      "severity": {string(f.severity.value)},\n'
                f'      "theme": {string(f.rule.theme)},\n      "message": ',
                f',\n      "fix": {string(f.rule.fix)},\n',
            )
        m = f.manifest
        place = places.get(id(m))
        if place is None:
            place = places[id(m)] = (
                f'      "object": {{\n        "apiVersion": {string(m.api_version)},\n'
                f'        "kind": {string(m.kind)},\n        "namespace": {string(m.namespace)},\n'
                f'        "name": {string(m.name)}\n      }},\n      "file": {string(m.source)},\n'
                f'      "line": {int(m.line)}\n    }}'
            )
        yield rule[0] + string(f.message) + rule[1] + place


def as_json(
    findings: Sequence[Finding], objects: int, min_severity: Severity, kube_version: tuple[int, int]
) -> str:
    return "".join(json_chunks(findings, objects, min_severity, kube_version))


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("/", " ").split() if w.isalnum())[:100],
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.why} Fix: {rule.fix}", "markdown": f"{rule.why}\n\n**Fix:** {rule.fix}"},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"tags": ["kubernetes", rule.theme]},
    }


def _uri(source: str) -> str:
    return "stdin" if source == "-" else quote(source.replace("\\", "/"), safe="/:._-~")


def sarif(findings: Sequence[Finding], rules: Sequence[Rule] = RULES) -> str:
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for f in findings:
        digest = hashlib.sha256(f"{f.rule.id}|{f.manifest.ref}|{f.detail}".encode()).hexdigest()[:32]
        results.append(
            {
                "ruleId": f.rule.id,
                "ruleIndex": index[f.rule.id],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": f"{f.message}. Fix: {f.rule.fix}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(f.manifest.source)},
                            "region": {"startLine": f.manifest.line},
                        },
                        "logicalLocations": [
                            {"fullyQualifiedName": f.manifest.ref, "name": f.manifest.name, "kind": "object"}
                        ],
                    }
                ],
                "partialFingerprints": {"beamkubeFinding/v1": digest},
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "beamkube-audit",
                        "version": __version__,
                        "rules": [_sarif_rule(rule) for rule in rules],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
