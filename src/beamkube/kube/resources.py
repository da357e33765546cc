"""Where each kind lives in the API: apiVersion/kind → plural, scope and URL paths.

Role: pure (no I/O). beamkube addresses objects as plain dicts, so it needs the REST path of each kind. The
kinds beamkube renders or reads come from `beamkube.kinds`; any other built-in kind is looked up in lightkube's
bundled models (imported lazily), and custom resources are `register`ed (or found by discovery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from beamkube.kinds import BY_KIND, KINDS
from beamkube.kube.errors import UnknownKind


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


# Where each kind lives comes from the one table of kinds; lightkube's models cover any other built-in kind.
KNOWN: tuple[ResourceType, ...] = tuple(_rt(k.api_version, k.kind, k.plural, k.namespaced) for k in KINDS)
_BY_KIND = {(rt.api_version, rt.kind): rt for rt in KNOWN}
_REGISTERED: dict[tuple[str, str], ResourceType] = {}


def _known(kind: str) -> ResourceType:
    row = BY_KIND[kind]
    return _BY_KIND[(row.api_version, row.kind)]


NAMESPACE = _known("Namespace")
POD = _known("Pod")
EVENT = _known("Event")
SECRET = _known("Secret")
PVC = _known("PersistentVolumeClaim")
DEPLOYMENT = _known("Deployment")
STATEFULSET = _known("StatefulSet")
REPLICASET = _known("ReplicaSet")
CONTROLLER_REVISION = _known("ControllerRevision")
JOB = _known("Job")


def type_of(kind: str) -> ResourceType:
    """The ResourceType of a kind in the table of kinds (KeyError otherwise)."""
    return _known(kind)


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
