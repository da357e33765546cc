"""GitOps ordering: the order `deploy` applies in, written as Argo CD sync waves/hooks and Helm hooks.

Role: pure (no I/O). `deploy` (ops/deploy.py) goes: cookie Secret first; then everything ranked before the
first workload (RBAC, config, Services, policies); then it waits for each migration Job to complete; then the
workload and what targets it (HPA, VPA, CronJobs, Ingress). A GitOps tool applies what is in git, so the same
order has to be written into the objects:

- Argo CD applies by phase, then wave, and waits for a wave to be healthy before the next; a Job is healthy
  only once it completed. Waves: cookie -3, prerequisites -2, migration Jobs -1, workload and the rest 0.
  The migration Job is a `Sync` hook in wave -1 with delete policy `BeforeHookCreation` (the previous run is
  deleted when the next one starts, so its logs stay readable until then), not a `PreSync` hook: PreSync
  hooks run before any other resource of the sync, so on the very first sync the Job's ServiceAccount and
  ConfigMaps do not exist yet and its pod can never start (the failure helm/helm#7447 reports for Helm).
- Helm creates hooks before any other resource of the release, so the migration Job is a
  `pre-install,pre-upgrade` hook (weight 0) and the objects its pod needs (its ServiceAccount, the ConfigMaps
  and Secrets it mounts or reads, and a SealedSecret/ExternalSecret making such a Secret) are
  `pre-install,pre-upgrade` hooks of weight -10. All use
  `before-hook-creation`, so an upgrade replaces them instead of failing on "already exists".
- Flux has no per-object waves: a Kustomization applies its objects in one server-side apply (kinds ordered
  like kubectl) and `spec.dependsOn` orders whole Kustomizations; docs/gitops.md shows the split.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from beamkube.kinds import WORKLOAD_KINDS

COOKIE_KINDS = ("Secret", "SealedSecret", "ExternalSecret")

ARGO_WAVE = "argocd.argoproj.io/sync-wave"
ARGO_HOOK = "argocd.argoproj.io/hook"
ARGO_DELETE = "argocd.argoproj.io/hook-delete-policy"
HELM_HOOK = "helm.sh/hook"
HELM_WEIGHT = "helm.sh/hook-weight"
HELM_DELETE = "helm.sh/hook-delete-policy"
ARGO_KEYS = (ARGO_WAVE, ARGO_HOOK, ARGO_DELETE)
HELM_KEYS = (HELM_HOOK, HELM_WEIGHT, HELM_DELETE)

WAVE_COOKIE, WAVE_PREREQUISITE, WAVE_MIGRATION, WAVE_WORKLOAD = -3, -2, -1, 0
HELM_INSTALL_HOOK = "pre-install,pre-upgrade"
HELM_PREREQUISITE_WEIGHT, HELM_MIGRATION_WEIGHT = -10, 0


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def waves(objects: list[dict[str, Any]], cookie_secret: str) -> list[int]:
    """The Argo CD wave of each object (objects in render's apply order)."""
    first_workload = next((i for i, o in enumerate(objects) if o.get("kind") in WORKLOAD_KINDS), len(objects))
    result = []
    for index, obj in enumerate(objects):
        if obj.get("kind") in COOKIE_KINDS and _name(obj) == cookie_secret:
            result.append(WAVE_COOKIE)
        elif index >= first_workload:
            result.append(WAVE_WORKLOAD)
        elif obj.get("kind") == "Job":
            result.append(WAVE_MIGRATION)
        else:
            result.append(WAVE_PREREQUISITE)
    return result


def _annotate(obj: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    meta["annotations"] = dict(sorted({**(meta.get("annotations") or {}), **values}.items()))
    return out


def argo_annotated(objects: list[dict[str, Any]], cookie_secret: str) -> list[dict[str, Any]]:
    """Copies of `objects` with Argo CD sync waves, and migration Jobs as Sync hooks."""
    out = []
    for obj, wave in zip(objects, waves(objects, cookie_secret), strict=True):
        values = {ARGO_WAVE: str(wave)}
        if wave == WAVE_MIGRATION:
            values.update({ARGO_HOOK: "Sync", ARGO_DELETE: "BeforeHookCreation"})
        out.append(_annotate(obj, values))
    return out


def pod_references(pod_spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of the ServiceAccount, ConfigMaps and Secrets a pod needs before it can start."""
    refs: set[tuple[str, str]] = set()
    if pod_spec.get("serviceAccountName"):
        refs.add(("ServiceAccount", str(pod_spec["serviceAccountName"])))
    for volume in pod_spec.get("volumes") or []:
        if "configMap" in volume:
            refs.add(("ConfigMap", str(volume["configMap"].get("name"))))
        if "secret" in volume:
            refs.add(("Secret", str(volume["secret"].get("secretName"))))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "configMap" in source:
                refs.add(("ConfigMap", str(source["configMap"].get("name"))))
            if "secret" in source:
                refs.add(("Secret", str(source["secret"].get("name"))))
    for container in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                refs.add(("ConfigMap", str(source["configMapRef"].get("name"))))
            if "secretRef" in source:
                refs.add(("Secret", str(source["secretRef"].get("name"))))
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            if "configMapKeyRef" in value_from:
                refs.add(("ConfigMap", str(value_from["configMapKeyRef"].get("name"))))
            if "secretKeyRef" in value_from:
                refs.add(("Secret", str(value_from["secretKeyRef"].get("name"))))
    return refs


def migration_jobs(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Jobs deploy runs (and waits for) before the workload."""
    listed = list(objects)
    first_workload = next((i for i, o in enumerate(listed) if o.get("kind") in WORKLOAD_KINDS), len(listed))
    return [o for o in listed[:first_workload] if o.get("kind") == "Job"]


def helm_annotated(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `objects` with Helm hooks on migration Jobs and on what their pods need."""
    jobs = migration_jobs(objects)
    needed: set[tuple[str, str]] = set()
    for job in jobs:
        needed |= pod_references(job["spec"]["template"]["spec"])
    job_ids = {id(job) for job in jobs}
    out = []
    for obj in objects:
        if id(obj) in job_ids:
            weight = HELM_MIGRATION_WEIGHT
        elif (str(obj.get("kind")), _name(obj)) in needed or (
            # A SealedSecret/ExternalSecret makes the Secret of the same name the Job's pod reads.
            obj.get("kind") in COOKIE_KINDS and ("Secret", _name(obj)) in needed
        ):
            weight = HELM_PREREQUISITE_WEIGHT
        else:
            out.append(copy.deepcopy(obj))
            continue
        values = {HELM_HOOK: HELM_INSTALL_HOOK, HELM_WEIGHT: str(weight), HELM_DELETE: "before-hook-creation"}
        out.append(_annotate(obj, values))
    return out


def strip(obj: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """A copy of `obj` without the given annotations (and without `annotations` if nothing is left)."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in set(keys)}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out
