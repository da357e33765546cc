"""The workload: a Deployment (`identity: stateless`) or a StatefulSet (`identity: stable`).

Role: pure (no I/O). With an HPA the workload leaves `replicas` unset, so re-applying the spec never fights
the autoscaler; the first replica count (max(replicas, autoscaling.min)) rides in the
`beamkube.io/initial-replicas` annotation, which `deploy` and the operator set once when they create the
workload (as an update, not an apply, so the HPA alone owns the field afterwards).
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, common_labels, metadata, selector_labels
from beamkube.render.pod import pod_annotations, pod_spec
from beamkube.spec.model import AppSpec, Identity

INITIAL_REPLICAS = "beamkube.io/initial-replicas"


def _template(spec: AppSpec, names: Names, checksum: str, kube_version: tuple[int, int]) -> dict[str, Any]:
    labels = {**spec.objectMeta.pods.labels, **common_labels(spec), **selector_labels(spec, process=names.process)}
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
            "selector": {"matchLabels": selector_labels(spec, process=names.process)},
            "strategy": strategy,
            "template": _template(spec, names, checksum, kube_version),
        }
    )
    return _finish("Deployment", spec, names, body)


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
            "selector": {"matchLabels": selector_labels(spec, process=names.process)},
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
    return _finish("StatefulSet", spec, names, body)


def initial_replicas(spec: AppSpec) -> int | None:
    """With an HPA: the replica count the workload is created with (never fewer than the HPA's minimum,
    nor than `replicas`); None without one (then `replicas` is rendered and always applied)."""
    if spec.autoscaling is None:
        return None
    return max(spec.replicas, spec.autoscaling.min)


def _finish(kind: str, spec: AppSpec, names: Names, body: dict[str, Any]) -> dict[str, Any]:
    meta = metadata(spec, names.workload, process=names.process)
    first = initial_replicas(spec)
    if first is not None:
        meta = {"annotations": {INITIAL_REPLICAS: str(first)}, **meta}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": body}


def initial_replicas_patch(obj: dict[str, Any]) -> dict[str, Any] | None:
    """For a just-created autoscaled workload: the merge patch that sets its first replica count. Sent as an
    update (not an apply) so the apply field manager never owns `replicas` and later applies, which omit it,
    neither reset it nor fight the HPA."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(INITIAL_REPLICAS)
    if obj.get("kind") not in ("Deployment", "StatefulSet") or value is None or not str(value).isdigit():
        return None
    return {"spec": {"replicas": int(value)}}
