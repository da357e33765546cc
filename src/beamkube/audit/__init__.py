"""`beamkube audit`: a BEAM-aware checker for any Kubernetes manifests.

Role: pure apart from the loader, which reads input files; never imports a Kubernetes client. Use
`audit_objects` on dicts (e.g. what `beamkube.render` returns) or `loader.load_inputs` + `engine.run`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from beamkube.audit.context import DEFAULT_KUBE_VERSION
from beamkube.audit.engine import IGNORE_ANNOTATION, run
from beamkube.audit.model import Finding, Manifest, Rule, Severity
from beamkube.audit.rules import BY_ID, RULES


def audit_objects(
    objects: Iterable[Mapping[str, Any]],
    *,
    source: str = "<objects>",
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    min_severity: Severity = Severity.INFO,
    strict: bool = False,
    enable: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Audit in-memory objects; each gets `line` = its 1-based position in `objects`."""
    manifests = [Manifest(obj, source, i + 1) for i, obj in enumerate(objects)]
    return run(manifests, kube_version=kube_version, min_severity=min_severity, strict=strict, enable=enable)


def parse_kube_version(text: str) -> tuple[int, int]:
    """`1.31` or `v1.31.2` → (1, 31); raises ValueError with what is allowed."""
    parts = text.strip().lstrip("v").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"--kube-version {text!r} must look like 1.31") from None
    if major != 1 or minor < 0:
        raise ValueError(f"--kube-version {text!r} must be a Kubernetes 1.x version such as 1.31")
    return (major, minor)


__all__ = [
    "BY_ID",
    "DEFAULT_KUBE_VERSION",
    "IGNORE_ANNOTATION",
    "RULES",
    "Finding",
    "Manifest",
    "Rule",
    "Severity",
    "audit_objects",
    "parse_kube_version",
    "run",
]
