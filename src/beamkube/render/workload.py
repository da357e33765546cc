"""The workload: a Deployment (`identity: stateless`) or a StatefulSet (`identity: stable`).

Role: pure (no I/O). With an HPA the workload leaves `replicas` unset, so re-applying the spec never fights
the autoscaler.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, common_labels, metadata, selector_labels
from beamkube.render.pod import pod_annotations, pod_spec
from beamkube.spec.model import AppSpec, Identity


def _template(spec: AppSpec, names: Names, checksum: str, kube_version: tuple[int, int]) -> dict[str, Any]:
    labels = {**common_labels(spec), **selector_labels(spec)}
    return {
        "metadata": {"annotations": pod_annotations(spec, checksum), "labels": dict(sorted(labels.items()))},
        "spec": pod_spec(spec, names, kube_version),
    }


def workload(spec: AppSpec, names: Names, checksum: str, kube_version: tuple[int, int]) -> dict[str, Any]:
    if spec.identity is Identity.STABLE:
        return statefulset(spec, names, checksum, kube_version)
    return deployment(spec, names, checksum, kube_version)


def deployment(spec: AppSpec, names: Names, checksum: str, kube_version: tuple[int, int]) -> dict[str, Any]:
    rollout = spec.rollout
    strategy: dict[str, Any] = {"type": rollout.strategy}
    if rollout.strategy == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": rollout.maxSurge, "maxUnavailable": rollout.maxUnavailable}
    body: dict[str, Any] = {
        "minReadySeconds": 5,
        "progressDeadlineSeconds": rollout.progressDeadlineSeconds,
    }
    if spec.autoscaling is None:
        body["replicas"] = spec.replicas
    body.update(
        {
            "revisionHistoryLimit": rollout.revisionHistoryLimit,
            "selector": {"matchLabels": selector_labels(spec)},
            "strategy": strategy,
            "template": _template(spec, names, checksum, kube_version),
        }
    )
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(spec, names.app), "spec": body}


def statefulset(spec: AppSpec, names: Names, checksum: str, kube_version: tuple[int, int]) -> dict[str, Any]:
    rollout = spec.rollout
    body: dict[str, Any] = {"minReadySeconds": 5}
    if spec.storage is not None and kube_version >= (1, 27):
        policy = "Retain" if spec.storage.retainOnDelete else "Delete"
        body["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": policy, "whenScaled": "Retain"}
    body["podManagementPolicy"] = rollout.podManagementPolicy
    if spec.autoscaling is None:
        body["replicas"] = spec.replicas
    body.update(
        {
            "revisionHistoryLimit": rollout.revisionHistoryLimit,
            "selector": {"matchLabels": selector_labels(spec)},
            "serviceName": names.headless,
            "template": _template(spec, names, checksum, kube_version),
            "updateStrategy": {"rollingUpdate": {"partition": rollout.partition}, "type": "RollingUpdate"},
        }
    )
    if spec.storage is not None:
        storage = spec.storage
        claim: dict[str, Any] = {
            "accessModes": list(storage.accessModes),
            "resources": {"requests": {"storage": storage.size}},
        }
        if storage.storageClassName is not None:
            claim["storageClassName"] = storage.storageClassName
        body["volumeClaimTemplates"] = [
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": claim}
        ]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata(spec, names.app), "spec": body}
