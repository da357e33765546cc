"""Runs the rule catalogue over loaded manifests: suppression annotations, severity threshold, order.

Role: pure (no I/O). Findings come out sorted by file, line, object and rule ID, so the same input always
gives byte-identical reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from beamkube.audit.context import DEFAULT_KUBE_VERSION, Context, as_map
from beamkube.audit.model import Finding, Manifest, Rule, Severity
from beamkube.audit.rules import MALFORMED, RULES
from beamkube.errors import BeamkubeError

IGNORE_ANNOTATION = "beamkube.io/audit-ignore"
_SPLIT = re.compile(r"[\s,]+")


class FindingsFound(BeamkubeError):
    """The audit found something at or above the threshold (exit 1; the report is already printed)."""

    exit_code = 1


def ignored_ids(m: Manifest) -> frozenset[str]:
    """Rule IDs listed in the object's `beamkube.io/audit-ignore` annotation (comma or space separated)."""
    annotations = m.metadata.get("annotations")
    if not annotations:
        return frozenset()
    value = as_map(annotations).get(IGNORE_ANNOTATION)
    if not isinstance(value, str):
        return frozenset()
    return frozenset(part.upper() for part in _SPLIT.split(value) if part)


def _by_kind(rules: Iterable[Rule]) -> tuple[dict[str, list[Rule]], list[Rule]]:
    by_kind: dict[str, list[Rule]] = {}
    every: list[Rule] = []
    for rule in rules:
        if "*" in rule.kinds:
            every.append(rule)
            continue
        for kind in rule.kinds:
            by_kind.setdefault(kind, []).append(rule)
    return by_kind, every


def run(
    manifests: Sequence[Manifest],
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    min_severity: Severity = Severity.INFO,
    rules: Sequence[Rule] = RULES,
    strict: bool = False,
    enable: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every finding at or above `min_severity`, in report order. Optional rules run when their ID (or
    `ALL`) is in `enable`. A check that fails on a field of an unexpected type becomes a BK001 finding
    (with `strict`, the exception propagates: tests use it)."""
    ctx = Context(manifests, kube_version)
    wanted = (
        r for r in rules
        if r.severity.rank >= min_severity.rank and (not r.optional or r.id in enable or "ALL" in enable)
    )
    by_kind, every = _by_kind(wanted)
    findings: list[Finding] = []
    per_kind: dict[str, list[Rule]] = {}
    for m in ctx.manifests:
        applicable = per_kind.get(m.kind)
        if applicable is None:
            applicable = per_kind[m.kind] = by_kind.get(m.kind, []) + every
        if m.derived:
            applicable = [r for r in applicable if r.theme == "live"]
        if not applicable:
            continue
        skip = ignored_ids(m)
        for rule in applicable:
            if skip and rule.id in skip:
                continue
            seen: set[str] | None = None  # made on the first hit: most checks find nothing
            try:
                for hit in rule.check(ctx, m):
                    if seen is None:
                        seen = set()
                    if hit.detail not in seen:  # one finding per distinct detail
                        seen.add(hit.detail)
                        findings.append(Finding(rule, m, hit.detail))
            except (TypeError, AttributeError, ValueError, KeyError, IndexError, ArithmeticError) as exc:
                if strict:
                    raise
                if MALFORMED.id not in skip:
                    findings.append(Finding(MALFORMED, m, f"{rule.id} could not read it ({type(exc).__name__})"))
    findings.sort(key=Finding.sort_key)
    return findings
