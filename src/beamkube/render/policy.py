"""Objects that protect the app: NetworkPolicy, PodDisruptionBudget, PriorityClass, LimitRange.

Role: pure (no I/O). The NetworkPolicy lets only the app's own pods reach epmd and the distribution port
(an open distribution port with a known cookie is remote code execution); the web and metrics ports stay
open to all.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, common_labels, metadata, priority_class_name, selector_labels
from beamkube.spec.model import AppSpec


def network_policy(spec: AppSpec, names: Names) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {
            "from": [{"podSelector": {"matchLabels": selector_labels(spec)}}],
            "ports": [
                {"port": spec.cluster.epmdPort, "protocol": "TCP"},
                {"port": spec.cluster.distPort, "protocol": "TCP"},
            ],
        }
    ]
    app_pods = {k: v for k, v in selector_labels(spec).items() if k != "app.kubernetes.io/component"}
    open_ports = []
    if spec.web is not None:
        open_ports.append(spec.web.port)
    if spec.metrics is not None and spec.metrics.port not in open_ports:
        open_ports.append(spec.metrics.port)
    if open_ports:
        rules.append({"ports": [{"port": port, "protocol": "TCP"} for port in open_ports]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec, f"{names.app}-beam", "network"),
        "spec": {
            "ingress": rules,
            # Every pod of the app, Job pods included (they serve nothing, so they get no open port).
            "podSelector": {"matchLabels": app_pods},
            "policyTypes": ["Ingress"],
        },
    }


def effective_min_replicas(spec: AppSpec) -> int:
    return spec.autoscaling.min if spec.autoscaling is not None else spec.replicas


def pod_disruption_budget(spec: AppSpec, names: Names, kube_version: tuple[int, int]) -> dict[str, Any] | None:
    budget = spec.disruption
    if budget is None and effective_min_replicas(spec) < 2:
        return None  # a budget on a single pod would only block node drains
    body: dict[str, Any] = {}
    if budget is not None and budget.minAvailable is not None:
        body["minAvailable"] = budget.minAvailable
    else:
        body["maxUnavailable"] = budget.maxUnavailable if budget and budget.maxUnavailable is not None else 1
    body["selector"] = {"matchLabels": selector_labels(spec, process=names.process)}
    if kube_version >= (1, 27):
        body["unhealthyPodEvictionPolicy"] = "AlwaysAllow"  # crash-looping pods must not block drains
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(spec, names.workload, "availability", process=names.process),
        "spec": body,
    }


def priority_class(spec: AppSpec) -> dict[str, Any] | None:
    priority = spec.priority
    if priority is None or priority.value is None or priority.className is not None:
        return None
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"labels": common_labels(spec, "scheduling"), "name": priority_class_name(spec)},
        "value": priority.value,
        "globalDefault": False,
        "description": priority.description,
        "preemptionPolicy": "PreemptLowerPriority",
    }


def limit_range(spec: AppSpec) -> dict[str, Any] | None:
    if spec.limitRange is None:
        return None
    limits = spec.limitRange

    def amounts(value: Any) -> dict[str, str]:
        return {k: v for k, v in (("cpu", value.cpu), ("memory", value.memory)) if v is not None}

    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(spec, f"{spec.name}-limits", "scheduling"),
        "spec": {
            "limits": [
                {
                    "default": amounts(limits.default),
                    "defaultRequest": amounts(limits.defaultRequest),
                    "type": "Container",
                }
            ]
        },
    }
