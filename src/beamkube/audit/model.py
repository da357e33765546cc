"""Data the auditor works with: manifests with their source location, rules, findings, severities.

Role: data only (no I/O). A `Rule` is data (stable ID, severity, theme, one-line message, concrete fix)
plus a check function; the check yields `Hit`s and the engine turns them into `Finding`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from beamkube.audit.context import Context


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise ValueError(f"severity {text!r} is not one of {allowed}") from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


# Kinds whose objects have no namespace (reports show them as Kind/name).
CLUSTER_SCOPED = frozenset({"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                            "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "StorageClass",
                            "IngressClass", "PodSecurityPolicy", "ValidatingWebhookConfiguration",
                            "MutatingWebhookConfiguration", "APIService", "CSIDriver"})


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object as read: `source` is the file path (or `-` for stdin), `line` 1-based."""

    obj: Mapping[str, Any]
    source: str
    line: int
    # Created by a controller from another audited object (a live Pod of a ReplicaSet): only the live
    # checks run on it, so the owner's problems are reported once.
    derived: bool = False

    # Cached: rules ask these millions of times on big inputs (a frozen dataclass still has a __dict__).
    @cached_property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @cached_property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @cached_property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @cached_property
    def name(self) -> str:
        return str(self.metadata.get("name", "") or self.metadata.get("generateName", "") or "")

    @cached_property
    def namespace(self) -> str:
        """The namespace as written; `default` when absent (what kubectl would use)."""
        return str(self.metadata.get("namespace") or "default")

    @cached_property
    def spec(self) -> Mapping[str, Any]:
        body = self.obj.get("spec")
        return body if isinstance(body, Mapping) else {}

    @cached_property
    def ref(self) -> str:
        """`Kind/namespace/name` (`Kind/name` for cluster-scoped kinds), the object's identity in reports."""
        if self.kind in CLUSTER_SCOPED:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Hit:
    """What a check reports: `detail` specialises the rule's message (e.g. the container's name)."""

    detail: str = ""


Check = Callable[["Context", Manifest], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    theme: str
    title: str  # the one-line message
    fix: str  # a concrete fix
    why: str  # one or two sentences for the docs page and SARIF help
    kinds: frozenset[str]  # kinds the check runs on
    check: Check = field(compare=False, repr=False)
    optional: bool = False  # runs only when enabled (`--enable ID` or `--enable all`), like the peers' optional checks


@dataclass(frozen=True)
class Finding:
    rule: Rule
    manifest: Manifest
    detail: str

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def message(self) -> str:
        return f"{self.rule.title}: {self.detail}" if self.detail else self.rule.title

    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.manifest.source, self.manifest.line, self.manifest.ref, self.rule.id, self.detail)
