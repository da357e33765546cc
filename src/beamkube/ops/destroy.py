"""`beamkube destroy`: delete what beamkube created for the app, in reverse apply order.

Role: network I/O. What is deleted: namespaced objects carrying both `app.kubernetes.io/managed-by=beamkube`
and `app.kubernetes.io/instance=<app>` (see `engine.prune.find_owned`), plus the cluster-scoped objects the
spec renders (a PriorityClass) when they carry those labels. Kept unless `--delete-data`: the app's
PersistentVolumeClaims and the cookie Secret beamkube generated (annotation `beamkube.io/cookie`), because a
later deploy onto the same volumes should find the same cluster identity, and remote shells or peers outside
the cluster may hold that cookie. The namespace is never deleted. A Secret the user created (no annotation)
is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beamkube.engine.ownership import COOKIE_ANNOTATION, INSTANCE_LABEL, owned_by_beamkube
from beamkube.engine.prune import find_owned
from beamkube.kube.client import KubeClient
from beamkube.kube.resources import PVC, SECRET, describe, resource_of
from beamkube.ops.common import Plan


@dataclass
class DestroyPlan:
    objects: list[dict[str, Any]] = field(default_factory=list)  # in delete order
    kept: list[str] = field(default_factory=list)  # descriptions of what stays, and why


async def plan_destroy(client: KubeClient, plan: Plan, *, delete_data: bool) -> DestroyPlan:
    from beamkube.render.order import sort_objects

    spec = plan.spec
    ns = spec.namespace
    result = DestroyPlan()
    found = await find_owned(client, spec.name, ns)
    for obj in plan.objects:
        rt = resource_of(obj)
        if rt.namespaced:
            continue
        live = await client.get_or_none(rt, obj["metadata"]["name"])
        if live is not None and owned_by_beamkube(live, spec.name):
            found.append(live)
    data: list[dict[str, Any]] = []
    claims, _ = await client.list(PVC, ns, label_selector=f"{INSTANCE_LABEL}={spec.name}")
    claims = [c for c in claims if ((c.get("metadata") or {}).get("labels") or {}).get(INSTANCE_LABEL) == spec.name]
    cookie = await client.get_or_none(SECRET, spec.cookie_secret_name, ns)
    generated = cookie is not None and COOKIE_ANNOTATION in ((cookie["metadata"].get("annotations")) or {})
    if delete_data:
        data.extend(claims)
        if generated and cookie is not None:
            data.append(cookie)
    else:
        result.kept.extend(f"{describe(c)} (data; --delete-data removes it)" for c in claims)
        if generated and cookie is not None:
            result.kept.append(f"{describe(cookie)} (cookie; --delete-data removes it)")
    if cookie is not None and not generated:
        result.kept.append(f"{describe(cookie)} (not created by beamkube)")
    result.objects = sort_objects([*found, *data], reverse=True)
    return result


async def destroy(client: KubeClient, planned: DestroyPlan, *, dry_run: bool = False) -> list[str]:
    """Delete the planned objects; returns descriptions of those deleted (already-gone ones are skipped)."""
    deleted = []
    for obj in planned.objects:
        meta = obj["metadata"]
        if await client.delete(resource_of(obj), meta["name"], meta.get("namespace"), dry_run=dry_run) or dry_run:
            deleted.append(describe(obj))
    return deleted
