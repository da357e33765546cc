"""Apply order for rendered objects (reverse it to delete), in the spirit of lightkube's `sort_objects`.

Role: pure (no I/O). Cluster-scoped and referenced objects come first (PriorityClass, ServiceAccount,
RBAC, config), then Services, then the Job that must see the new schema before the workload rolls,
then the workload and what targets it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beamkube.kinds import APPLY_ORDER

# The order lives in the one table of kinds (beamkube.kinds); render reads it like every other layer.
KIND_ORDER = list(APPLY_ORDER)
_RANK = {kind: index for index, kind in enumerate(KIND_ORDER)}


def apply_key(obj: dict[str, Any]) -> tuple[int, str, str]:
    meta = obj.get("metadata") or {}
    return (_RANK.get(str(obj.get("kind")), len(KIND_ORDER)), str(meta.get("namespace", "")), str(meta.get("name", "")))


def sort_objects(objects: Iterable[dict[str, Any]], reverse: bool = False) -> list[dict[str, Any]]:
    """Objects in apply order (or delete order with reverse=True); stable for equal keys."""
    return sorted(objects, key=apply_key, reverse=reverse)
