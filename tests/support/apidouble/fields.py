"""Field paths for server-side apply (list maps by key), managedFields, merge and JSON patches.

Role: test support (pure).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.support.apidouble.base import SYSTEM_META, ApiFailure
from tests.support.apidouble.schema import (
    KEY_DEFAULTS,
    item_key,
    list_map_keys,
)

# --- field ownership (server-side apply) --------------------------------------------------------------

Path_ = tuple[str, ...]


LIST_MAP_VERSION = ["1.33"]  # the pretended version whose upstream definitions give list-map keys


def leaves(value: Any, prefix: Path_ = ()) -> dict[Path_, Any]:
    """Leaf paths of a JSON value: dict keys recurse; list maps (`x-kubernetes-list-type: map` upstream)
    recurse by entry key (`k:{"name":"beam"}`), as server-side apply owns entries; other lists, scalars and
    empty dicts are leaves."""
    if isinstance(value, dict) and value:
        out: dict[Path_, Any] = {}
        for key, sub in value.items():
            out.update(leaves(sub, (*prefix, key)))
        return out
    if isinstance(value, list) and prefix and not prefix[-1].startswith("k:"):
        keys = list_map_keys(prefix[-1], value, LIST_MAP_VERSION[0])
        if keys is not None:
            out = {}
            for item in value:
                out.update(leaves(item, (*prefix, item_key(item, keys))) or {(*prefix, item_key(item, keys)): {}})
            return out
    return {prefix: value} if prefix else {}


def _entry(items: list[Any], part: str) -> dict[str, Any] | None:
    wanted = json.loads(part[2:])
    for item in items:
        if isinstance(item, dict) and all(item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in wanted.items()):
            return item
    return None


def owned_leaves(obj: dict[str, Any], with_status: bool) -> dict[Path_, Any]:
    """Leaves a manager can own: not apiVersion/kind, not name/namespace/system metadata, status optionally."""
    body = {
        k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status") or (k == "status" and with_status)
    }
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("name", "namespace", *SYSTEM_META)}
    if meta:
        body["metadata"] = meta  # an apply naming only name/namespace owns no metadata field
    else:
        body.pop("metadata", None)
    return leaves(body)


def _get_path(obj: Any, path: Path_) -> Any:
    for part in path:
        if part.startswith("k:") and isinstance(obj, list):
            obj = _entry(obj, part)
            continue
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _set_path(obj: dict[str, Any], path: Path_, value: Any) -> None:
    current: Any = obj
    for i, part in enumerate(path[:-1]):
        following = path[i + 1]
        if part.startswith("k:"):
            item = _entry(current, part)
            if item is None:
                item = dict(json.loads(part[2:]))
                current.append(item)
            current = item
            continue
        nxt = current.get(part)
        want_list = following.startswith("k:")
        if want_list and not isinstance(nxt, list):
            nxt = current[part] = []
        elif not want_list and not isinstance(nxt, dict):
            nxt = current[part] = {}
        current = nxt
    last = path[-1]
    if last.startswith("k:"):
        if _entry(current, last) is None:
            current.append({**json.loads(last[2:]), **(value if isinstance(value, dict) else {})})
        return
    current[last] = copy.deepcopy(value)


def _del_path(obj: dict[str, Any], path: Path_) -> None:
    parents: list[tuple[Any, Any]] = []
    current: Any = obj
    for part in path[:-1]:
        if part.startswith("k:") and isinstance(current, list):
            item = _entry(current, part)
            if item is None:
                return
            parents.append((current, part))
            current = item
            continue
        if not isinstance(current, dict) or part not in current:
            return
        parents.append((current, part))
        current = current[part]
    if isinstance(current, list) and path[-1].startswith("k:"):
        item = _entry(current, path[-1])
        if item is not None:
            current.remove(item)
        return
    if isinstance(current, dict):
        current.pop(path[-1], None)
        # A list-map entry left with only its keys was this manager's entry: it goes too.
        if parents and isinstance(parents[-1][0], list) and str(parents[-1][1]).startswith("k:"):
            keys = set(json.loads(str(parents[-1][1])[2:]))
            if set(current) <= keys:
                parents[-1][0].remove(current)
                return
        # Drop maps left empty by the removal (SSA does not leave `{}` behind for fields it removed).
        for parent, key in reversed(parents):
            if isinstance(parent, dict) and parent[key] in ({}, []):
                del parent[key]
            else:
                break


def fields_v1(paths: list[Path_]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part if part.startswith("k:") else f"f:{part}", {})
    return root


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 subset: add, replace, remove, test."""
    result = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).split("/")[1:]]
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op.get("value"):
                raise ApiFailure(422, "Invalid", f"test operation failed at {op['path']}")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(copy.deepcopy(op["value"]))
                elif kind == "add":
                    parent.insert(int(last), copy.deepcopy(op["value"]))
                else:
                    parent[int(last)] = copy.deepcopy(op["value"])
            else:
                if kind == "replace" and last not in parent:
                    raise ApiFailure(422, "Invalid", f"replace of missing path {op['path']}")
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            elif last in parent:
                del parent[last]
            else:
                raise ApiFailure(422, "Invalid", f"remove of missing path {op['path']}")
        else:
            raise ApiFailure(400, "BadRequest", f"unsupported JSON patch op {kind}")
    return result


