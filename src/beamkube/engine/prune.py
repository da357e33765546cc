"""Prune: delete objects this app owns and no longer renders; never anything beamkube did not create.

Role: network I/O (through `KubeClient`). `find_owned` lists the prunable kinds of `beamkube.kinds` with
beamkube's label selector for the app (checked again client-side, so a server that ignores label selectors
cannot widen the set), excluding controller-made objects (with ownerReferences other than `owner_uid`), the
cookie Secret and PVCs. `prune` deletes those not in `keep`, in reverse apply order. It never deletes the
cookie Secret, PVCs, cluster-scoped objects (a PriorityClass may be shared by same-named apps in other
namespaces) or anything without both labels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from beamkube.engine.ownership import COOKIE_ANNOTATION, app_selector, object_key, owned_by_beamkube
from beamkube.kinds import PRUNABLE
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import NotFound
from beamkube.kube.resources import ResourceType, describe, type_of

# (kind, namespace, app) → the app's objects of that kind (at least those with its `app_selector` labels);
# default: a LIST by that selector (the operator: its watch cache's label index)
Lister = Callable[[ResourceType, str, str], Awaitable[list[dict[str, Any]]]]


def prunable_types(namespaced: bool | None = None) -> list[ResourceType]:
    """ResourceTypes of the prunable kinds, in apply order (optionally only namespaced or cluster-scoped)."""
    return [type_of(k.kind) for k in PRUNABLE if namespaced is None or k.namespaced == namespaced]


async def find_owned(
    client: KubeClient,
    app: str,
    namespace: str,
    kinds: Iterable[ResourceType] | None = None,
    owner_uid: str | None = None,
    lister: Lister | None = None,
) -> list[dict[str, Any]]:
    """Namespaced objects beamkube created for `app` (see the module docstring for what is excluded).

    `owner_uid` (the operator): also objects whose ownerReferences name that uid (its BeamApp's children)."""
    found: list[dict[str, Any]] = []
    for rt in kinds if kinds is not None else prunable_types(namespaced=True):
        if not rt.namespaced or rt.kind in ("Secret", "PersistentVolumeClaim"):
            continue
        try:
            if lister is not None:
                items = await lister(rt, namespace, app)
            else:
                items, _ = await client.list(rt, namespace, label_selector=app_selector(app))
        except NotFound:
            continue  # the cluster does not serve this API (e.g. no VPA CRDs): nothing of ours can be there
        for item in items:
            meta = item.get("metadata") or {}
            refs = meta.get("ownerReferences") or []
            if not owned_by_beamkube(item, app) or (refs and not any(r.get("uid") == owner_uid for r in refs)):
                continue
            if COOKIE_ANNOTATION in (meta.get("annotations") or {}):
                continue
            found.append(item)
    return found


async def prune(
    client: KubeClient,
    app: str,
    namespace: str,
    keep: Iterable[dict[str, Any]],
    *,
    dry_run: bool = False,
    owner_uid: str | None = None,
    lister: Lister | None = None,
) -> list[str]:
    """Delete objects beamkube created for `app` that are not in `keep`; returns their descriptions."""
    from beamkube.kube.resources import resource_of
    from beamkube.render.order import sort_objects

    kept = {object_key(obj) for obj in keep}
    owned = await find_owned(client, app, namespace, owner_uid=owner_uid, lister=lister)
    stale = [obj for obj in owned if object_key(obj) not in kept]
    deleted = []
    for obj in sort_objects(stale, reverse=True):
        meta = obj["metadata"]
        rt = resource_of(obj)
        if await client.delete(rt, str(meta["name"]), meta.get("namespace"), dry_run=dry_run) or dry_run:
            deleted.append(describe(obj))
    return deleted
