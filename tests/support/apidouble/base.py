"""Resource definitions, the Status error, label and field selectors of the API double.

Role: test support (pure).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

# --- resource registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RDef:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    status: bool = True  # has a /status subresource (main-resource writes then ignore `status`)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTIN: tuple[RDef, ...] = (
    RDef("", "v1", "Namespace", "namespaces", False),
    RDef("", "v1", "Pod", "pods"),
    RDef("", "v1", "Service", "services"),
    RDef("", "v1", "ConfigMap", "configmaps", status=False),
    RDef("", "v1", "Secret", "secrets", status=False),
    RDef("", "v1", "ServiceAccount", "serviceaccounts", status=False),
    RDef("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    RDef("", "v1", "Event", "events", status=False),
    RDef("", "v1", "LimitRange", "limitranges", status=False),
    RDef("", "v1", "Endpoints", "endpoints", status=False),
    RDef("apps", "v1", "Deployment", "deployments"),
    RDef("apps", "v1", "StatefulSet", "statefulsets"),
    RDef("apps", "v1", "ReplicaSet", "replicasets"),
    RDef("apps", "v1", "ControllerRevision", "controllerrevisions", status=False),
    RDef("batch", "v1", "Job", "jobs"),
    RDef("batch", "v1", "CronJob", "cronjobs"),
    RDef("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    RDef("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    RDef("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler", "verticalpodautoscalers"),
    RDef("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", status=False),
    RDef("networking.k8s.io", "v1", "Ingress", "ingresses"),
    RDef("rbac.authorization.k8s.io", "v1", "Role", "roles", status=False),
    RDef("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", status=False),
    RDef("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, status=False),
    RDef("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, status=False),
    RDef("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, status=False),
    RDef("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    RDef("coordination.k8s.io", "v1", "Lease", "leases", status=False),
    RDef("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, status=False),
    RDef("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, status=False),
)

# (kind, path) of fields a real server defaults whose co-ownership still conflicts (see `Store.apply`).
DEFAULTED_FIELDS = frozenset({("PriorityClass", ("globalDefault",)), ("PriorityClass", ("preemptionPolicy",))})

# Kinds whose quantity fields the server parses (resource.Quantity) and stores canonically. Custom resources
# (BeamApp, the VPA CRD) keep the strings they were given, as a real API server does.
TYPED_QUANTITIES = frozenset((r.group, r.plural) for r in BUILTIN if r.group != "autoscaling.k8s.io")

SYSTEM_META = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp")


class ApiFailure(Exception):
    """Raised inside the store; rendered as a Status object."""

    def __init__(self, code: int, reason: str, message: str, causes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.causes = code, reason, message, causes or []

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            body["details"] = {"causes": self.causes}
        return body


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- selectors ---------------------------------------------------------------------------------------


def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_match(selector: str | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (equality-, set-based and existence requirements)."""
    if not selector:
        return True
    for req in _split_selector(selector):
        if m := re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\((.*)\)", req):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
        elif "!=" in req:
            key, value = (s.strip() for s in req.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in req:
            key, value = (s.strip() for s in re.split(r"==?", req, maxsplit=1))
            if labels.get(key) != value:
                return False
        elif req.startswith("!"):
            if req[1:].strip() in labels:
                return False
        elif req not in labels:
            return False
    return True


def _dig(obj: dict[str, Any], dotted: str) -> Any:
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def field_match(selector: str | None, obj: dict[str, Any]) -> bool:
    if not selector:
        return True
    for req in _split_selector(selector):
        negate = "!=" in req
        key, value = (s.strip() for s in re.split(r"!=|==?", req, maxsplit=1))
        actual = _dig(obj, key)
        actual_text = "" if actual is None else str(actual)
        if (actual_text == value) == negate:
            return False
    return True


