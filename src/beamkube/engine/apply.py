"""Apply: server-side apply an object only when the live one differs from it the way the server sees it.

Role: `stamp` and `needs_apply` are pure; `converge` does network I/O (one SSA PATCH, or nothing). The desired
object is first stripped of fields equal to the server's default (`compare.without_server_defaults`) and
stamped with a digest of itself (annotation `beamkube.io/applied-hash`): `compare.matches` proves the live
object holds every desired field, and the digest catches the opposite direction, a field beamkube stopped
rendering (which server-side apply then removes). So a no-op resync writes nothing, on a real server too.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from beamkube.engine.compare import matches, without_server_defaults
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import NotFound
from beamkube.kube.resources import describe, resource_of

APPLIED_HASH = "beamkube.io/applied-hash"


def digest(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def stamp(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as beamkube applies it: without server-default fields, carrying the digest of itself."""
    child = without_server_defaults(copy.deepcopy(obj))
    meta = child.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(APPLIED_HASH, None)
    meta["annotations"] = annotations
    annotations[APPLIED_HASH] = digest(child)
    meta["annotations"] = dict(sorted(annotations.items()))
    return child


def needs_apply(desired: dict[str, Any], live: dict[str, Any] | None) -> bool:
    if live is None:
        return True
    wanted_hash = ((desired.get("metadata") or {}).get("annotations") or {}).get(APPLIED_HASH)
    live_hash = ((live.get("metadata") or {}).get("annotations") or {}).get(APPLIED_HASH)
    if wanted_hash is not None and live_hash != wanted_hash:
        return True
    return not matches({k: v for k, v in desired.items() if k != "status"}, live)


@dataclass(frozen=True)
class Applied:
    """What converging one object did: `action` is created, configured or unchanged."""

    description: str
    action: str
    live: dict[str, Any]

    @property
    def wrote(self) -> bool:
        return self.action != "unchanged"


async def converge(
    client: KubeClient,
    desired: dict[str, Any],
    live: dict[str, Any] | None,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Applied:
    """Apply `desired` (already stamped) when `live` does not hold it; `live` None means absent."""
    if not needs_apply(desired, live):
        assert live is not None
        return Applied(describe(desired), "unchanged", live)
    rt = resource_of(desired)
    try:
        result = await client.apply(desired, force=force, dry_run=dry_run)
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
    if live is None and not dry_run:
        # An autoscaled workload starts at its initial replica count (`beamkube.kube.initial_replicas`: an
        # update by a manager of its own, so the apply never owns `replicas` and the HPA does from then on).
        from beamkube.kube.initial_replicas import set_initial_replicas

        result = await set_initial_replicas(client, desired) or result
    return Applied(describe(desired), "created" if live is None else "configured", result)
