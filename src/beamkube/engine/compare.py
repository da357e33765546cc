"""Desired vs live the way the API server sees it: is a write needed at all?

Role: pure (no I/O). A live object "matches" a desired one when it holds every desired field with an equal
value, where equal means what the server stores, not the bytes beamkube rendered:

- quantities compare by value with lightkube's parser (`lightkube.utils.quantity`): the server stores
  `1024Mi` as `1Gi`, `1000m` as `1`, `0.5` as `500m`;
- fields the server defaults (clusterIP, dnsPolicy, ...) are extra live fields, which are fine;
- lists that the upstream OpenAPI marks `x-kubernetes-list-type: map` merge by their keys: entries another
  field manager added (an env var set with kubectl) are not ours and do not make beamkube re-apply. The keys
  below are the upstream `x-kubernetes-list-map-keys`/patch-merge-keys (tests check them against the schemas
  kubernetes-validate bundles).

`without_server_defaults` drops fields whose value is the server's default before beamkube applies them: a
field sent with its default value is owned by the sender and conflicts with another manager that sent it too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# list field name → merge keys (with the server's default for a key the client may omit)
LIST_MAP_KEYS: dict[str, tuple[tuple[str, Any], ...]] = {
    "containers": (("name", None),),
    "initContainers": (("name", None),),
    "ephemeralContainers": (("name", None),),
    "env": (("name", None),),
    "volumes": (("name", None),),
    "volumeMounts": (("mountPath", None),),
    "volumeDevices": (("devicePath", None),),
    "imagePullSecrets": (("name", None),),
    "topologySpreadConstraints": (("topologyKey", None), ("whenUnsatisfiable", None)),
    "resourceClaims": (("name", None),),
}
# `ports` is a list map in containers (containerPort, protocol) and in Services (port, protocol).
CONTAINER_PORT_KEYS = (("containerPort", None), ("protocol", "TCP"))
SERVICE_PORT_KEYS = (("port", None), ("protocol", "TCP"))

QUANTITY_PARENTS = frozenset({"limits", "requests", "capacity", "hard", "minAllowed", "maxAllowed"})
QUANTITY_KEYS = frozenset({"sizeLimit", "storage"})

# (kind, top-level path) → the server's default: sending it would take ownership of a default.
SERVER_DEFAULTS: dict[tuple[str, tuple[str, ...]], Any] = {
    ("PriorityClass", ("globalDefault",)): False,
    ("PriorityClass", ("preemptionPolicy",)): "PreemptLowerPriority",
}


def without_server_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` without fields equal to the server's default for its kind."""
    out = dict(obj)
    for (kind, path), default in SERVER_DEFAULTS.items():
        if obj.get("kind") == kind and len(path) == 1 and out.get(path[0], object()) == default:
            out.pop(path[0])
    return out


def _merge_keys(field: str, items: list[Any]) -> tuple[tuple[str, Any], ...] | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    if field == "ports":
        if all("containerPort" in i for i in items):
            return CONTAINER_PORT_KEYS
        if all("port" in i for i in items):
            return SERVICE_PORT_KEYS
        return None
    return LIST_MAP_KEYS.get(field)


def _key(item: dict[str, Any], keys: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    return tuple(item.get(name, default) for name, default in keys)


def quantity_value(value: Any) -> Decimal | None:
    from lightkube.utils.quantity import parse_quantity

    try:
        parsed = parse_quantity(value if isinstance(value, str) else str(value))
    except (ValueError, ArithmeticError, TypeError):
        return None
    return parsed


def _is_quantity(path: tuple[str, ...]) -> bool:
    if not path:
        return False
    if path[-1] in QUANTITY_KEYS or (len(path) > 1 and path[-2] in QUANTITY_PARENTS):
        return True
    return path[-1] in ("averageValue", "value") and path[-2:-1] == ("target",)


def matches(desired: Any, live: Any, path: tuple[str, ...] = ()) -> bool:
    """Whether `live` already holds everything `desired` says (see the module docstring)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(
            (value is None and live.get(key) is None) or (key in live and matches(value, live[key], (*path, key)))
            for key, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(live, list):
            return False
        keys = _merge_keys(path[-1] if path else "", desired)
        if keys is not None and all(isinstance(i, dict) for i in live):
            by_key = {_key(i, keys): i for i in live}
            return all(_key(i, keys) in by_key and matches(i, by_key[_key(i, keys)], path) for i in desired)
        return len(live) == len(desired) and all(matches(d, v, path) for d, v in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return live is desired
    if desired == live:
        return True
    if _is_quantity(path):
        wanted, held = quantity_value(desired), quantity_value(live)
        return wanted is not None and wanted == held
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return float(desired) == float(live)
    return False
