"""HorizontalPodAutoscaler (autoscaling/v2: CPU, pod and external metrics) and VerticalPodAutoscaler.

Role: pure (no I/O). The talks use autoscaling/v2beta1/v2beta2 (removed in Kubernetes 1.25/1.26); v2 is
the same model with `target` blocks.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, metadata
from beamkube.spec.model import AppSpec, Identity


def _target_ref(spec: AppSpec, names: Names) -> dict[str, str]:
    kind = "StatefulSet" if spec.identity is Identity.STABLE else "Deployment"
    return {"apiVersion": "apps/v1", "kind": kind, "name": names.workload}


def hpa(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    scaling = spec.autoscaling
    if scaling is None:
        return None
    metrics: list[dict[str, Any]] = []
    if scaling.cpu is not None:
        metrics.append(
            {
                "resource": {"name": "cpu", "target": {"averageUtilization": scaling.cpu, "type": "Utilization"}},
                "type": "Resource",
            }
        )
    for pod_metric in scaling.pods:
        metrics.append(
            {
                "pods": {
                    "metric": {"name": pod_metric.name},
                    "target": {"averageValue": pod_metric.averageValue, "type": "AverageValue"},
                },
                "type": "Pods",
            }
        )
    for ext in scaling.external:
        metric: dict[str, Any] = {"name": ext.name}
        if ext.selector:
            metric["selector"] = {"matchLabels": dict(sorted(ext.selector.items()))}
        target: dict[str, Any]
        if ext.averageValue is not None:
            target = {"averageValue": ext.averageValue, "type": "AverageValue"}
        else:
            target = {"type": "Value", "value": ext.value}
        metrics.append({"external": {"metric": metric, "target": target}, "type": "External"})
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(spec, names.workload, "autoscaling", process=names.process),
        "spec": {
            "behavior": {
                "scaleDown": {
                    # BEAM nodes hand over state when they leave: scale down one pod at a time.
                    "policies": [{"periodSeconds": 60, "type": "Pods", "value": 1}],
                    "stabilizationWindowSeconds": scaling.scaleDownStabilizationSeconds,
                }
            },
            "maxReplicas": scaling.max,
            "metrics": metrics,
            "minReplicas": scaling.min,
            "scaleTargetRef": _target_ref(spec, names),
        },
    }


def vpa(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    if spec.vpa is None:
        return None
    return {
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": metadata(spec, names.workload, "autoscaling", process=names.process),
        "spec": {
            "resourcePolicy": {
                "containerPolicies": [{"containerName": "beam", "controlledResources": ["cpu", "memory"]}]
            },
            "targetRef": _target_ref(spec, names),
            "updatePolicy": {"updateMode": spec.vpa.updateMode},
        },
    }
