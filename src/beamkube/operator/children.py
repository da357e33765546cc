"""What the operator wants each child to look like, and whether the live object already does.

Role: pure (no I/O). Each rendered object gets an ownerReference to its BeamApp (namespaced children: the
garbage collector deletes them with the BeamApp) or owner labels (cluster-scoped ones, which cannot have a
namespaced owner; the operator deletes those itself), plus an annotation with a digest of the desired
object. A child needs a write only if the live object lacks a desired field or value, or carries another
digest (a field was removed from the desired object, which a subset test cannot see). So a resync that finds
everything in place writes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from beamkube.operator import GROUP, KIND, VERSION

APPLIED_HASH = "beamkube.io/applied-hash"
OWNER_NAMESPACE = "beamkube.io/owner-namespace"
OWNER_NAME = "beamkube.io/owner-name"
CLUSTER_SCOPED_KINDS = frozenset(
    {"PriorityClass", "ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition"}
)


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


def digest(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def desired_child(obj: dict[str, Any], app: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the operator applies it: owned by `app` and stamped with its own digest."""
    child = copy.deepcopy(obj)
    meta = child.setdefault("metadata", {})
    if child.get("kind") in CLUSTER_SCOPED_KINDS:
        labels = dict(meta.get("labels") or {})
        labels[OWNER_NAMESPACE] = app["metadata"]["namespace"]
        labels[OWNER_NAME] = app["metadata"]["name"]
        meta["labels"] = dict(sorted(labels.items()))
    else:
        meta["ownerReferences"] = [owner_reference(app)]
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(APPLIED_HASH, None)
    meta["annotations"] = annotations
    annotations[APPLIED_HASH] = digest(child)
    meta["annotations"] = dict(sorted(annotations.items()))
    return child


QUANTITY_KEYS = frozenset({"cpu", "memory", "storage", "ephemeral-storage"})
TARGET_QUANTITY_KEYS = frozenset({"averageValue", "value"})  # HPA metric targets


def contains(live: Any, wanted: Any, path: tuple[str, ...] = ()) -> bool:
    """Whether `live` holds everything `wanted` says (extra live fields, e.g. server defaults, are fine).
    Quantities compare by value: the API server stores `0.5` as `500m` and `2000` as `2k`."""
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return False
        return all(key in live and contains(live[key], value, (*path, key)) for key, value in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(live, list) or len(live) != len(wanted):
            return False
        return all(contains(a, b, path) for a, b in zip(live, wanted, strict=True))
    if isinstance(wanted, bool) or isinstance(live, bool):
        return live is wanted
    if _is_quantity(path) and live != wanted:
        return _same_quantity(live, wanted)
    if isinstance(wanted, int | float) and isinstance(live, int | float):
        return float(live) == float(wanted)
    return bool(live == wanted)


def _is_quantity(path: tuple[str, ...]) -> bool:
    if not path:
        return False
    return path[-1] in QUANTITY_KEYS or (path[-1] in TARGET_QUANTITY_KEYS and path[-2:-1] == ("target",))


def _same_quantity(live: Any, wanted: Any) -> bool:
    from beamkube.quantity import parse_quantity

    try:
        return parse_quantity(live) == parse_quantity(wanted)
    except (ValueError, ArithmeticError):
        return False


def needs_apply(desired: dict[str, Any], live: dict[str, Any] | None) -> bool:
    if live is None:
        return True
    live_hash = ((live.get("metadata") or {}).get("annotations") or {}).get(APPLIED_HASH)
    if live_hash != desired["metadata"]["annotations"][APPLIED_HASH]:
        return True
    body = {k: v for k, v in desired.items() if k != "status"}
    return not contains(live, body)


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
