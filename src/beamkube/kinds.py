"""What beamkube knows about each Kubernetes kind, in one table every layer reads.

Role: pure data (no I/O, no imports of the client or the renderer). One row per kind: where it lives in the
API (apiVersion, plural, namespaced), its apply rank (`render.order` sorts by it, prune and destroy delete in
reverse), whether prune/destroy may delete it, whether it has a `/status` subresource, and which readiness
rule `engine.assess` applies to it:

- `deployment` / `statefulset`: a workload; rolled out only when its controller says so (observedGeneration,
  updated and *available* replicas for the replicas the app will actually run, HPA minimum included,
  updateRevision for StatefulSets, ProgressDeadlineExceeded → failed);
- `job`: a migration gate: the kinds ranked after it wait until it completes;
- `None`: applied and then trusted (the server validated it).

Kinds without a rank are ones beamkube reads (pods, events, ReplicaSets, ...) but never renders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    kind: str
    api_version: str
    plural: str
    namespaced: bool = True
    rank: int | None = None  # apply order; None: never rendered
    prunable: bool = False
    status: bool = True  # has a /status subresource
    readiness: str | None = None  # deployment | statefulset | job | None

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @property
    def version(self) -> str:
        return self.api_version.rsplit("/", 1)[-1]


def _rendered(rows: list[tuple[str, str, str, bool, bool, bool, str | None]]) -> list[Kind]:
    return [
        Kind(kind, api, plural, namespaced, rank, prunable, status, readiness)
        for rank, (kind, api, plural, namespaced, prunable, status, readiness) in enumerate(rows)
    ]


# Apply order: cluster-scoped and referenced objects first, then Services, then the migration Job that must see
# the new schema before the workload rolls, then the workload and what targets it. Never pruned: Namespaces and
# CRDs (shared), Secrets (the cookie), PVCs (data) and cluster RBAC (see below).
_APPLY = _rendered(
    [
        # kind, apiVersion, plural, namespaced, prunable, /status, readiness
        ("Namespace", "v1", "namespaces", False, False, True, None),
        ("CustomResourceDefinition", "apiextensions.k8s.io/v1", "customresourcedefinitions", False, False, True, None),
        ("PriorityClass", "scheduling.k8s.io/v1", "priorityclasses", False, True, False, None),
        # Ranked (an app may ship them one day) but never pruned: no app renders them, and the operator's
        # least-privilege ClusterRole grants no access to them.
        ("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", False, False, False, None),
        ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", False, False, False, None),
        ("LimitRange", "v1", "limitranges", True, True, False, None),
        ("ServiceAccount", "v1", "serviceaccounts", True, True, False, None),
        ("Role", "rbac.authorization.k8s.io/v1", "roles", True, True, False, None),
        ("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", True, True, False, None),
        ("Secret", "v1", "secrets", True, False, False, None),
        ("ConfigMap", "v1", "configmaps", True, True, False, None),
        ("PersistentVolumeClaim", "v1", "persistentvolumeclaims", True, False, True, None),
        ("Service", "v1", "services", True, True, True, None),
        ("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", True, True, False, None),
        ("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", True, True, True, None),
        ("Job", "batch/v1", "jobs", True, True, True, "job"),
        ("Deployment", "apps/v1", "deployments", True, True, True, "deployment"),
        ("StatefulSet", "apps/v1", "statefulsets", True, True, True, "statefulset"),
        ("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers", True, True, True, None),
        ("VerticalPodAutoscaler", "autoscaling.k8s.io/v1", "verticalpodautoscalers", True, True, True, None),
        ("CronJob", "batch/v1", "cronjobs", True, True, True, None),
        ("Ingress", "networking.k8s.io/v1", "ingresses", True, True, True, None),
    ]
)

_READ_ONLY = [
    Kind("Pod", "v1", "pods"),
    Kind("Event", "v1", "events", status=False),
    Kind("Endpoints", "v1", "endpoints", status=False),
    Kind("ReplicaSet", "apps/v1", "replicasets"),
    Kind("ControllerRevision", "apps/v1", "controllerrevisions", status=False),
    Kind("Lease", "coordination.k8s.io/v1", "leases", status=False),
]

KINDS: tuple[Kind, ...] = (*_APPLY, *_READ_ONLY)
BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS}
APPLY_ORDER: tuple[str, ...] = tuple(k.kind for k in _APPLY)
GATE_RANK: int = BY_KIND["Job"].rank or 0
WORKLOAD_KINDS: tuple[str, ...] = tuple(k.kind for k in KINDS if k.readiness in ("deployment", "statefulset"))
PRUNABLE: tuple[Kind, ...] = tuple(k for k in _APPLY if k.prunable)


def rank(kind: str) -> int:
    """Apply rank of `kind`; unknown kinds go last."""
    row = BY_KIND.get(kind)
    return row.rank if row is not None and row.rank is not None else len(APPLY_ORDER)
