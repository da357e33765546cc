"""The operator's own manifests: ServiceAccount, Deployment, PDB, NetworkPolicy and least-privilege RBAC.

Role: pure (no I/O). The operator is described as an `AppSpec` and rendered by beamkube's own renderer (so
it gets the same hardening: non-root, read-only root, dropped capabilities, anti-affinity, a PDB); what
only a BEAM release needs (vm.args, RELEASE_* variables, epmd ports) is then taken out. The ClusterRole lists
exactly the kinds the renderer can emit, with the verbs reconcile uses; the Lease rights are a namespaced
Role restricted by name.
"""

from __future__ import annotations

import copy
from typing import Any

from beamkube.operator import GROUP, PLURAL
from beamkube.operator.crd import beamapp_crd
from beamkube.render import render
from beamkube.render.names import common_labels, selector_labels
from beamkube.spec.model import AppSpec

OPERATOR_NAME = "beamkube-operator"
HEALTH_PORT = 8080
# Children verbs: read the live object (compare before writing), apply (patch, create on first apply),
# prune (list by label, delete).
CHILD_VERBS = ["create", "delete", "get", "list", "patch", "watch"]

# (apiGroup, resources) of every kind `beamkube.render.render` can emit, in a fixed order.
CHILD_RESOURCES: list[tuple[str, list[str]]] = [
    ("", ["configmaps", "limitranges", "serviceaccounts", "services"]),
    ("apps", ["deployments", "statefulsets"]),
    ("autoscaling", ["horizontalpodautoscalers"]),
    ("autoscaling.k8s.io", ["verticalpodautoscalers"]),
    ("batch", ["cronjobs", "jobs"]),
    ("networking.k8s.io", ["ingresses", "networkpolicies"]),
    ("policy", ["poddisruptionbudgets"]),
    ("rbac.authorization.k8s.io", ["rolebindings", "roles"]),
    ("scheduling.k8s.io", ["priorityclasses"]),
]


def operator_spec(namespace: str, image: str, replicas: int) -> AppSpec:
    return AppSpec.model_validate(
        {
            "name": OPERATOR_NAME,
            "namespace": namespace,
            "image": image,
            "replicas": replicas,
            "cluster": {"discovery": "none"},
            "web": {"port": HEALTH_PORT},
            "probes": {
                "readiness": {"http": {"path": "/healthz"}},
                "liveness": {"http": {"path": "/healthz"}, "periodSeconds": 20, "failureThreshold": 3},
                "startup": False,
            },
            "resources": {
                "requests": {"cpu": "200m", "memory": "256Mi"},
                "limits": {"cpu": "200m", "memory": "256Mi"},
            },
            "preStopSleepSeconds": 0,
            "terminationGracePeriodSeconds": 30,
        }
    )


def cluster_role(spec: AppSpec) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["get", "patch"]},
    ]
    rules.extend({"apiGroups": [g], "resources": r, "verbs": CHILD_VERBS} for g, r in CHILD_RESOURCES)
    rules.extend(
        [
            # The cookie Secret: created once. Only `create`: its existence is learnt from a dry-run create
            # (409 when it exists), so the operator can never read, list, patch or delete a Secret; a
            # ClusterRole cannot narrow `create` by name, and the names are per app (`<app>-erlang-cookie`).
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            # A Role granting these (libcluster's discovery) can only be created by someone who holds them.
            {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        ]
    )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"labels": common_labels(spec, "rbac"), "name": OPERATOR_NAME},
        "rules": rules,
    }


def _binding(spec: AppSpec, kind: str, role_kind: str, namespaced: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": common_labels(spec, "rbac"), "name": OPERATOR_NAME}
    if namespaced:
        meta["namespace"] = spec.namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": OPERATOR_NAME},
        "subjects": [{"kind": "ServiceAccount", "name": OPERATOR_NAME, "namespace": spec.namespace}],
    }


def lease_role(spec: AppSpec, lease_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"labels": common_labels(spec, "rbac"), "name": OPERATOR_NAME, "namespace": spec.namespace},
        "rules": [
            # `create` cannot be limited by name (the name is not known before the object exists).
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": [lease_name],
                "verbs": ["get", "patch"],
            },
        ],
    }


def _operator_workload(rendered: dict[str, Any], spec: AppSpec) -> dict[str, Any]:
    deployment = copy.deepcopy(rendered)
    pod = deployment["spec"]["template"]
    pod["metadata"]["annotations"] = {
        k: v for k, v in pod["metadata"]["annotations"].items() if not k.startswith("beamkube.io/config-hash")
    }
    if not pod["metadata"]["annotations"]:
        del pod["metadata"]["annotations"]
    pod_spec = pod["spec"]
    pod_spec["automountServiceAccountToken"] = True  # the operator talks to the API server
    pod_spec["volumes"] = [v for v in pod_spec["volumes"] if v["name"] == "tmp"]
    (container,) = pod_spec["containers"]
    container["name"] = "operator"
    container["command"] = [
        "beamkube",
        "operator",
        "run",
        "--lease-namespace",
        spec.namespace,
        "--health-port",
        str(HEALTH_PORT),
    ]
    container["env"] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "HOME", "value": "/tmp"},
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
    ]
    container["ports"] = [{"containerPort": HEALTH_PORT, "name": "http", "protocol": "TCP"}]
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] == "tmp"]
    container.pop("envFrom", None)
    return deployment


def _network_policy(spec: AppSpec) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"labels": common_labels(spec, "network"), "name": OPERATOR_NAME, "namespace": spec.namespace},
        "spec": {
            "ingress": [{"ports": [{"port": HEALTH_PORT, "protocol": "TCP"}]}],
            "podSelector": {"matchLabels": selector_labels(spec)},
            "policyTypes": ["Ingress"],
        },
    }


def operator_manifests(
    namespace: str = "beamkube-system",
    image: str = "ghcr.io/beamkube/beamkube:0.1.0",
    replicas: int = 2,
    with_crd: bool = False,
    lease_name: str = OPERATOR_NAME,
) -> list[dict[str, Any]]:
    """Every object the operator needs, in apply order."""
    spec = operator_spec(namespace, image, replicas)
    rendered = {obj["kind"]: obj for obj in render(spec).objects}
    service_account = copy.deepcopy(rendered["ServiceAccount"])
    service_account["automountServiceAccountToken"] = True
    objects: list[dict[str, Any]] = []
    if with_crd:
        objects.append(beamapp_crd())
    objects += [
        cluster_role(spec),
        _binding(spec, "ClusterRoleBinding", "ClusterRole", namespaced=False),
        service_account,
        lease_role(spec, lease_name),
        _binding(spec, "RoleBinding", "Role", namespaced=True),
        _network_policy(spec),
    ]
    if "PodDisruptionBudget" in rendered:
        objects.append(rendered["PodDisruptionBudget"])
    objects.append(_operator_workload(rendered["Deployment"], spec))
    return objects
