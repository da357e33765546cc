"""What the operator adds to each child: ownership of its BeamApp. Comparing and stamping is the engine's.

Role: pure (no I/O). Namespaced children get an ownerReference to their BeamApp (the garbage collector deletes
them with it); cluster-scoped ones, which cannot have a namespaced owner, get owner labels (the operator
deletes those itself). `desired_child` is the decorated object stamped by `engine.apply.stamp`, and
`needs_apply`/`contains` are the engine's comparison, so `deploy` and the operator decide "write or not" alike.
"""

from __future__ import annotations

import copy
from typing import Any

from beamkube.engine.apply import APPLIED_HASH, needs_apply, stamp
from beamkube.engine.compare import matches
from beamkube.kinds import BY_KIND
from beamkube.operator import GROUP, KIND, VERSION

OWNER_NAMESPACE = "beamkube.io/owner-namespace"
OWNER_NAME = "beamkube.io/owner-name"
CLUSTER_SCOPED_KINDS = frozenset(k.kind for k in BY_KIND.values() if not k.namespaced)

__all__ = ["APPLIED_HASH", "contains", "decorate", "desired_child", "needs_apply", "owned_by", "owner_reference"]


def owner_reference(app: dict[str, Any]) -> dict[str, Any]:
    meta = app["metadata"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": KIND,
        "name": meta["name"],
        "uid": meta["uid"],
    }


def decorate(obj: dict[str, Any], app: dict[str, Any]) -> dict[str, Any]:
    """`obj` owned by `app`: an ownerReference, or owner labels for cluster-scoped kinds."""
    child = copy.deepcopy(obj)
    meta = child.setdefault("metadata", {})
    if child.get("kind") in CLUSTER_SCOPED_KINDS:
        labels = dict(meta.get("labels") or {})
        labels[OWNER_NAMESPACE] = app["metadata"]["namespace"]
        labels[OWNER_NAME] = app["metadata"]["name"]
        meta["labels"] = dict(sorted(labels.items()))
    else:
        meta["ownerReferences"] = [owner_reference(app)]
    return child


def desired_child(obj: dict[str, Any], app: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the operator applies it: owned by `app` and stamped with its own digest."""
    return stamp(decorate(obj, app))


def contains(live: Any, wanted: Any) -> bool:
    """Whether `live` holds everything `wanted` says, as the server compares (see `engine.compare`)."""
    return matches(wanted, live)


def owned_by(obj: dict[str, Any], app: dict[str, Any]) -> bool:
    """Whether `obj` belongs to this BeamApp (by uid for namespaced children, by labels otherwise)."""
    meta = obj.get("metadata") or {}
    uid = app["metadata"].get("uid")
    if any(ref.get("uid") == uid and ref.get("kind") == KIND for ref in meta.get("ownerReferences") or []):
        return True
    labels = meta.get("labels") or {}
    return bool(
        obj.get("kind") in CLUSTER_SCOPED_KINDS
        and labels.get(OWNER_NAMESPACE) == app["metadata"]["namespace"]
        and labels.get(OWNER_NAME) == app["metadata"]["name"]
    )
