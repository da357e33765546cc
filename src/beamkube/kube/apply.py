"""Server-side apply, prune and the cookie Secret: the cluster-writing steps `deploy` and the operator share.

Role: network I/O (through `KubeClient`). All functions are coroutines, usable from the operator's event loop
directly and from sync code with `asyncio.run(...)`. Their contracts:

- `apply_objects(client, objects, force=, dry_run=)`: server-side apply with the client's field manager
  (`beamkube`), in the order given (pass `render.order.sort_objects` output), one `ApplyResult` per object.
  Ownership conflicts raise `FieldManagerConflict` unless `force=True`.
- `ensure_cookie_secret(client, spec)`: creates `<app>-erlang-cookie` with ≥ 32 random characters only if it
  does not exist; an existing Secret is never read back into output, patched or replaced. Returns "created",
  "exists" or "would create" (dry run).
- `find_owned(client, app, namespace)`: namespaced objects carrying both `app.kubernetes.io/managed-by=beamkube`
  and `app.kubernetes.io/instance=<app>` (checked again client-side, so a server that ignores label selectors
  cannot widen the set), excluding controller-made objects (with ownerReferences), Secrets and PVCs.
- `prune(client, app, namespace, keep)`: deletes `find_owned` objects that are not in `keep`, in reverse apply
  order. It never deletes the cookie Secret, PVCs, cluster-scoped objects (a PriorityClass may be shared by
  same-named apps in other namespaces) or anything without both labels.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists, NotFound
from beamkube.kube.resources import SECRET, ResourceType, describe, prunable_types
from beamkube.spec.model import AppSpec

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY = "beamkube"
COOKIE_ANNOTATION = "beamkube.io/cookie"
COOKIE_CHARS = 43  # 43 characters from 62 letters and digits: 256 random bits
_COOKIE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_cookie(nbytes: int = 32) -> str:
    """A random Erlang cookie of letters and digits only (CSPRNG). No `-` or `_`: erl reads
    `-setcookie -abc` as a flag (relx/Distillery pass the cookie on the command line) and invents a
    random cookie instead, so the node could never join its peers."""
    del nbytes  # the length is fixed so every cookie carries the same 256 bits
    return "".join(secrets.choice(_COOKIE_ALPHABET) for _ in range(COOKIE_CHARS))


def app_selector(app: str) -> str:
    """The label selector for everything beamkube manages for `app`."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY},{INSTANCE_LABEL}={app}"


def owned_by_beamkube(obj: dict[str, Any], app: str) -> bool:
    """True only when the object carries both of beamkube's labels for this app."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(INSTANCE_LABEL) == app


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name): the identity prune compares (apiVersion may differ between list and render)."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


@dataclass(frozen=True)
class ApplyResult:
    """What applying one object did: `action` is created, configured or unchanged."""

    description: str
    action: str
    live: dict[str, Any]


async def apply_objects(
    client: KubeClient,
    objects: Iterable[dict[str, Any]],
    *,
    force: bool = False,
    dry_run: bool = False,
    on_result: Callable[[ApplyResult], None] | None = None,
) -> list[ApplyResult]:
    """Server-side apply each object in order; `on_result` is called after each (progress output)."""
    results = []
    for obj in objects:
        results.append(await apply_one(client, obj, force=force, dry_run=dry_run))
        if on_result is not None:
            on_result(results[-1])
    return results


async def apply_one(
    client: KubeClient, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False
) -> ApplyResult:
    from beamkube.kube.resources import resource_of

    meta = obj.get("metadata") or {}
    rt = resource_of(obj)
    try:
        before = await client.get_or_none(rt, str(meta["name"]), meta.get("namespace"))
        live = await client.apply(obj, force=force, dry_run=dry_run)
    except NotFound as exc:
        if "namespaces" in exc.message or "/" not in rt.api_version:
            raise
        # Server-side apply creates missing objects, so a 404 here means the API itself is not served.
        raise NotFound(
            exc.status,
            exc.reason,
            f"the cluster does not serve {rt.api_version} {rt.plural} (install its CRDs or drop it from the spec)",
            what=exc.what,
        ) from None
    if before is None and not dry_run:
        from beamkube.kube.initial_replicas import set_initial_replicas

        live = await set_initial_replicas(client, obj) or live
    if before is None:
        action = "created"
    elif _rv(before) == _rv(live) or (dry_run and _same_spec(before, live)):
        action = "unchanged"
    else:
        action = "configured"
    return ApplyResult(describe(obj), action, live)


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _same_spec(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = [k for k in set(a) | set(b) if k not in ("metadata", "status")]
    return all(a.get(k) == b.get(k) for k in sorted(keys)) and (a.get("metadata") or {}).get("labels") == (
        b.get("metadata") or {}
    ).get("labels")


async def ensure_cookie_secret(
    client: KubeClient,
    spec: AppSpec,
    *,
    dry_run: bool = False,
    token: Callable[[int], str] = new_cookie,
) -> str:
    """Create the cookie Secret if missing; never overwrite. Returns created | exists | would create."""
    from beamkube.render.config import generated_cookie_secret

    name = spec.cookie_secret_name
    if await client.get_or_none(SECRET, name, spec.namespace) is not None:
        return "exists"
    if dry_run:
        return "would create"
    cookie = token(32)
    if len(cookie) < 32:
        raise ValueError("cookie generator returned fewer than 32 characters")
    body = generated_cookie_secret(spec, cookie.encode())
    try:
        # POST, not apply: a create can never replace an existing Secret, even if another deploy raced us
        # (or our own earlier attempt succeeded but its answer was lost and the client retried).
        await client.create(body)
    except AlreadyExists:
        return "exists"
    return "created"


async def find_owned(
    client: KubeClient,
    app: str,
    namespace: str,
    kinds: Iterable[ResourceType] | None = None,
    owner_uid: str | None = None,
) -> list[dict[str, Any]]:
    """Namespaced objects beamkube created for `app` (see the module docstring for what is excluded).

    `owner_uid` (the operator): also objects whose ownerReferences name that uid (its BeamApp's children)."""
    found: list[dict[str, Any]] = []
    for rt in kinds if kinds is not None else prunable_types():
        if not rt.namespaced or rt.kind in ("Secret", "PersistentVolumeClaim"):
            continue
        try:
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
) -> list[str]:
    """Delete objects beamkube created for `app` that are not in `keep`; returns their descriptions."""
    from beamkube.kube.resources import resource_of
    from beamkube.render.order import sort_objects

    kept = {object_key(obj) for obj in keep}
    owned = await find_owned(client, app, namespace, owner_uid=owner_uid)
    stale = [obj for obj in owned if object_key(obj) not in kept]
    deleted = []
    for obj in sort_objects(stale, reverse=True):
        meta = obj["metadata"]
        rt = resource_of(obj)
        if await client.delete(rt, str(meta["name"]), meta.get("namespace"), dry_run=dry_run) or dry_run:
            deleted.append(describe(obj))
    return deleted
