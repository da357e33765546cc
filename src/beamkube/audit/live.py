"""`beamkube audit --cluster`: list the live objects of a cluster (read-only) and audit them with the same
rules as files, plus the live-only checks of `beamkube.audit.rules.live`.

Role: network I/O, through `beamkube.kube.client` (imported lazily, so `beamkube.audit` stays importable
without a Kubernetes client). Only LIST requests are made, so the ClusterRole `--print-rbac` prints grants
`list` and nothing else; Secrets are never requested. Objects a controller created from another listed
object (Pods of a ReplicaSet, Jobs of a CronJob) are kept for the live checks only, so a Deployment's
problems are reported once, on the Deployment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from beamkube.audit.model import Finding, Manifest, Severity

ROLE_NAME = "beamkube-audit"


@dataclass(frozen=True)
class Listed:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


# What `audit --cluster` lists: every kind a rule reads, never Secrets.
LISTED: tuple[Listed, ...] = (
    Listed("apps/v1", "Deployment", "deployments"),
    Listed("apps/v1", "StatefulSet", "statefulsets"),
    Listed("apps/v1", "DaemonSet", "daemonsets"),
    Listed("batch/v1", "Job", "jobs"),
    Listed("batch/v1", "CronJob", "cronjobs"),
    Listed("v1", "Pod", "pods"),
    Listed("v1", "Service", "services"),
    Listed("v1", "ConfigMap", "configmaps"),
    Listed("v1", "ServiceAccount", "serviceaccounts"),
    Listed("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
    Listed("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    Listed("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    Listed("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", "verticalpodautoscalers"),
    Listed("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    Listed("networking.k8s.io/v1", "Ingress", "ingresses"),
    Listed("rbac.authorization.k8s.io/v1", "Role", "roles"),
    Listed("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    Listed("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    Listed("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
)
DERIVED_OWNERS = frozenset({"ReplicaSet", "Job", "StatefulSet", "DaemonSet", "CronJob", "ReplicationController"})


def cluster_role() -> dict[str, Any]:
    """The least ClusterRole `audit --cluster` needs: `list` on the kinds in LISTED, no Secrets. Bind it with
    a ClusterRoleBinding (all namespaces) or with RoleBindings in the namespaces given with `-n`."""
    groups: dict[str, list[str]] = {}
    for item in LISTED:
        groups.setdefault(item.group, []).append(item.plural)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE_NAME, "labels": {"app.kubernetes.io/name": ROLE_NAME}},
        "rules": [
            {"apiGroups": [group], "resources": sorted(plurals), "verbs": ["list"]}
            for group, plurals in sorted(groups.items())
        ],
    }


def rbac_yaml() -> str:
    head = (
        "# Read-only access for `beamkube audit --cluster`: list (never get, watch or write), no Secrets.\n"
        "# Bind with a ClusterRoleBinding to audit every namespace, or a RoleBinding per namespace for -n.\n"
    )
    return head + yaml.safe_dump(cluster_role(), sort_keys=False)


def _derived(obj: dict[str, Any]) -> bool:
    """A Pod or Job whose controller is a workload kind: its template is audited on the owner."""
    if obj.get("kind") not in ("Pod", "Job"):
        return False
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(o, dict) and o.get("controller") and o.get("kind") in DERIVED_OWNERS for o in owners)


async def read_cluster(
    namespaces: Sequence[str], context: str | None, kubeconfig: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """(context name, every listed object); kinds the server does not serve (no VPA CRD) are skipped."""
    from beamkube.audit.loader import AuditInputError
    from beamkube.kube.client import KubeClient
    from beamkube.kube.config import Target
    from beamkube.kube.errors import Forbidden, NotFound
    from beamkube.kube.resources import ResourceType

    target = Target(kubeconfig=Path(kubeconfig) if kubeconfig else None, context=context)
    objects: list[dict[str, Any]] = []
    async with KubeClient.connect(target) as client:
        for item in LISTED:
            rt = ResourceType(item.api_version, item.kind, item.plural, item.namespaced)
            scopes: list[str | None] = [None] if not item.namespaced or not namespaces else list(namespaces)
            if namespaces and not item.namespaced:
                continue  # -n: namespaced objects only (a RoleBinding per namespace is then enough)
            for scope in scopes:
                try:
                    items, _ = await client.list(rt, scope, all_namespaces=scope is None and item.namespaced)
                except NotFound:
                    break  # the API (e.g. a CRD) is not served by this cluster
                except Forbidden:
                    where = f" in namespace {scope}" if scope else ""
                    raise AuditInputError(  # exit 2: the input cannot be read
                        f"audit --cluster may not list {item.plural}{where}: bind the ClusterRole printed by "
                        "`beamkube audit --print-rbac`"
                    ) from None
                objects.extend(items)
        return client.context or "current", objects


def audit_cluster(
    *,
    namespaces: Sequence[str],
    context: str | None,
    kubeconfig: str | None,
    kube_version: tuple[int, int],
    min_severity: Severity,
    enable: frozenset[str],
) -> tuple[list[Manifest], list[Finding]]:
    """Read the cluster and audit it; the audited manifests are those not derived from another one."""

    name, objects = asyncio.run(read_cluster(namespaces, context, kubeconfig))
    return audit_live_objects(objects, f"cluster:{name}", kube_version, min_severity, enable)


def audit_live_objects(
    objects: Sequence[dict[str, Any]],
    source: str,
    kube_version: tuple[int, int],
    min_severity: Severity,
    enable: frozenset[str] = frozenset(),
) -> tuple[list[Manifest], list[Finding]]:
    from beamkube.audit.engine import run

    manifests = [Manifest(obj, source, i + 1, derived=_derived(obj)) for i, obj in enumerate(objects)]
    findings = run(manifests, kube_version=kube_version, min_severity=min_severity, enable=enable)
    return [m for m in manifests if not m.derived], findings
