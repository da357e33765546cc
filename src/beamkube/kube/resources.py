"""Where each kind lives in the API: apiVersion/kind → plural, scope and URL paths.

Role: pure (no I/O). beamkube addresses objects as plain dicts, so it needs the REST path of each kind. The
kinds beamkube renders or reads are listed here; any other built-in kind is looked up in lightkube's bundled
models (imported lazily), which is how the operator can apply kinds this table does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from beamkube.kube.errors import UnknownKind
from beamkube.render.order import KIND_ORDER


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: `apiVersion` (`v1`, `apps/v1`), `kind`, `plural`, and whether it is namespaced."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    def collection_path(self, namespace: str | None = None) -> str:
        """`/api/v1/namespaces/ns/pods`, or the all-namespaces/cluster path when `namespace` is None."""
        base = f"/apis/{self.api_version}" if "/" in self.api_version else f"/api/{self.api_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{quote(namespace, safe='')}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        path = f"{self.collection_path(namespace)}/{quote(name, safe='')}"
        return f"{path}/{subresource}" if subresource else path


def _rt(api_version: str, kind: str, plural: str, namespaced: bool = True) -> ResourceType:
    return ResourceType(api_version, kind, plural, namespaced)


NAMESPACE = _rt("v1", "Namespace", "namespaces", False)
POD = _rt("v1", "Pod", "pods")
EVENT = _rt("v1", "Event", "events")
SECRET = _rt("v1", "Secret", "secrets")
PVC = _rt("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
DEPLOYMENT = _rt("apps/v1", "Deployment", "deployments")
STATEFULSET = _rt("apps/v1", "StatefulSet", "statefulsets")
REPLICASET = _rt("apps/v1", "ReplicaSet", "replicasets")
CONTROLLER_REVISION = _rt("apps/v1", "ControllerRevision", "controllerrevisions")
JOB = _rt("batch/v1", "Job", "jobs")

KNOWN: tuple[ResourceType, ...] = (
    NAMESPACE,
    POD,
    EVENT,
    SECRET,
    PVC,
    _rt("v1", "ConfigMap", "configmaps"),
    _rt("v1", "Service", "services"),
    _rt("v1", "ServiceAccount", "serviceaccounts"),
    _rt("v1", "LimitRange", "limitranges"),
    _rt("v1", "Endpoints", "endpoints"),
    DEPLOYMENT,
    STATEFULSET,
    REPLICASET,
    CONTROLLER_REVISION,
    JOB,
    _rt("batch/v1", "CronJob", "cronjobs"),
    _rt("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    _rt("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    _rt("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", "verticalpodautoscalers"),
    _rt("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    _rt("networking.k8s.io/v1", "Ingress", "ingresses"),
    _rt("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _rt("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _rt("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _rt("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False),
    _rt("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    _rt("coordination.k8s.io/v1", "Lease", "leases"),
)
_BY_KIND = {(rt.api_version, rt.kind): rt for rt in KNOWN}
_REGISTERED: dict[tuple[str, str], ResourceType] = {}

# The kinds deploy may prune and destroy may delete: what beamkube renders, minus Secrets (the cookie) and
# PVCs (data), which are never pruned, nor Namespaces and CRDs. Callers sort with render.order.
NEVER_PRUNED = frozenset({"Namespace", "CustomResourceDefinition", "Secret", "PersistentVolumeClaim"})
PRUNABLE_KINDS: tuple[str, ...] = tuple(kind for kind in KIND_ORDER if kind not in NEVER_PRUNED)


def prunable_types() -> list[ResourceType]:
    """ResourceTypes of PRUNABLE_KINDS, in the order listed."""
    by_kind = {rt.kind: rt for rt in KNOWN}
    return [by_kind[kind] for kind in PRUNABLE_KINDS]


def register(rt: ResourceType) -> ResourceType:
    """Teach the client a custom resource (e.g. the operator's `BeamApp`)."""
    _REGISTERED[(rt.api_version, rt.kind)] = rt
    return rt


def resource_for(api_version: str, kind: str) -> ResourceType:
    """The ResourceType for apiVersion/kind: this table, registered CRDs, then lightkube's models."""
    key = (api_version, kind)
    if key in _BY_KIND:
        return _BY_KIND[key]
    if key in _REGISTERED:
        return _REGISTERED[key]
    try:
        from lightkube.core import resource as lk_resource
        from lightkube.core.resource_registry import resource_registry

        model = resource_registry.load(api_version, kind)
        info = model._api_info
        namespaced = issubclass(model, lk_resource.NamespacedResource)
        return register(ResourceType(api_version, kind, str(info.plural), namespaced))
    except Exception:  # lightkube raises LoadResourceError or ImportError; either way we do not know it
        raise UnknownKind(f"{kind} ({api_version}) is not a kind beamkube can address") from None


def resource_of(obj: dict[str, Any]) -> ResourceType:
    return resource_for(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))


def describe(obj: dict[str, Any]) -> str:
    """`Kind ns/name` or `Kind name` for cluster-scoped objects (for messages and progress lines)."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{obj.get('kind', '?')} {namespace}/{name}" if namespace else f"{obj.get('kind', '?')} {name}"
