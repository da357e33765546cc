"""Preflight: before the first write, everything the plan needs is there, or nothing is written at all.

Role: network I/O (discovery GETs, one namespace GET, and optionally one server-side dry-run apply per
object). Checks, collected into one `PreflightFailed` line:
1. every apiVersion/kind of the plan is served (a VPA without the VPA CRDs installed is named here, not met
   halfway through an apply);
2. the IngressClass and StorageClasses the plan names exist; the namespace exists, or the caller may create it;
3. (dry_run_objects) the server accepts every object as it will be applied: schema errors of the server's
   version, immutable fields, admission, ownership conflicts. Skipped when the namespace is still to be created
   (the server cannot dry-run into a missing namespace).
"""

from __future__ import annotations

from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.discovery import served_kinds
from beamkube.kube.errors import (
    ApiError,
    BadRequest,
    FieldManagerConflict,
    Forbidden,
    Invalid,
    NotFound,
    PreflightFailed,
    SchemaRejected,
)
from beamkube.kube.resources import NAMESPACE, ResourceType, describe

INGRESS_CLASS = ResourceType("networking.k8s.io/v1", "IngressClass", "ingressclasses", False)
STORAGE_CLASS = ResourceType("storage.k8s.io/v1", "StorageClass", "storageclasses", False)

REJECTIONS = (BadRequest, Invalid, SchemaRejected, FieldManagerConflict, Forbidden)


async def missing_apis(client: KubeClient, objects: list[dict[str, Any]]) -> list[str]:
    missing: list[str] = []
    for obj in objects:
        api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
        text = f"{kind} ({api_version})"
        if kind not in await served_kinds(client, api_version) and text not in missing:
            missing.append(text)
    return missing


async def missing_classes(client: KubeClient, objects: list[dict[str, Any]]) -> list[str]:
    """IngressClasses and StorageClasses the plan names that the cluster does not have (403: not checkable,
    assumed present; the apply would still work if they appear later)."""
    wanted: list[tuple[ResourceType, str]] = []
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Ingress" and spec.get("ingressClassName"):
            wanted.append((INGRESS_CLASS, str(spec["ingressClassName"])))
        claims = list(spec.get("volumeClaimTemplates") or [])
        if obj.get("kind") == "PersistentVolumeClaim":
            claims.append(obj)
        for claim in claims:
            name = (claim.get("spec") or {}).get("storageClassName")
            if name:
                wanted.append((STORAGE_CLASS, str(name)))
    missing = []
    for rt, name in dict.fromkeys(wanted):
        try:
            if await client.get_or_none(rt, name) is None:
                missing.append(f"{rt.kind} {name}")
        except Forbidden:
            continue
    return missing


async def namespace_exists(client: KubeClient, name: str) -> bool:
    try:
        return await client.get_or_none(NAMESPACE, name) is not None
    except Forbidden:
        return True  # namespace-scoped credentials cannot read namespaces; assume it exists


async def preflight(
    client: KubeClient,
    objects: list[dict[str, Any]],
    namespace: str,
    *,
    may_create_namespace: bool = True,
    dry_run_objects: bool = True,
    force: bool = False,
) -> bool:
    """Raise PreflightFailed naming every problem; returns whether the namespace already exists."""
    problems: list[str] = []
    missing = await missing_apis(client, objects)
    if missing:
        problems.append(f"the cluster does not serve {', '.join(missing)} (install the CRDs or drop it from the spec)")
    classes = await missing_classes(client, objects)
    if classes:
        problems.append(f"the cluster has no {', '.join(classes)} (named in the spec)")
    exists = await namespace_exists(client, namespace)
    if not exists and not may_create_namespace:
        problems.append(f"namespace {namespace} does not exist")
    if not problems and exists and dry_run_objects:
        for obj in objects:
            try:
                await client.apply(obj, force=force, dry_run=True)
            except REJECTIONS as exc:
                problems.append(_rejection(obj, exc))
            except NotFound as exc:
                problems.append(f"{describe(obj)}: {exc.message or exc.reason}")
    if problems:
        raise PreflightFailed("preflight: " + "; ".join(problems) + "; nothing was changed")
    return exists


def _rejection(obj: dict[str, Any], exc: ApiError) -> str:
    if isinstance(exc, FieldManagerConflict):
        return f"{describe(obj)}: {exc.message} (re-run with --force-conflicts to take them over)"
    return f"{describe(obj)}: {exc.label} ({exc.status}): {exc.message or exc.reason}"
