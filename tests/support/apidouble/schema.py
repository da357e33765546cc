"""What the API double knows from upstream Kubernetes: schemas, list-map keys, canonical quantities, defaults.

Role: test support (reads the JSON schemas bundled with `kubernetes-validate`; no network). Everything a real
API server does to a body before storing it, as far as beamkube's tests need it, per pretended version:

- `schema_problems(obj, version)`: strict validation against the upstream OpenAPI-derived schema of that
  Kubernetes minor (`kubernetes-validate`), split into fields the version does not declare (a real server's
  server-side apply answers HTTP 500 "failed to create typed patch object ... field not declared in schema",
  as 1.28 does for `lifecycle.preStop.sleep`) and other violations (422 Invalid);
- `crd_undeclared(schema, obj)`: fields a CRD's structural schema does not declare (rejected on apply);
- `list_map_keys(field, items)`: the `x-kubernetes-list-map-keys` of a list field, read from the upstream
  definitions (server-side apply merges such lists entry by entry and owns entries, not the whole list);
- `canonical_quantity(text)`: the form the server stores (`1024Mi` → `1Gi`, `1000m` → `1`, `0.5` → `500m`),
  property-tested against lightkube's parser (same value) in tests/ops/test_double.py;
- `apply_defaults(kind, obj)`: the common server defaults beamkube's objects meet.

Not modelled: defaults of kinds beamkube does not render, admission webhooks, quantity rounding beyond
milli-units, list-type `set`.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv_utils
import referencing

TYPED_PATCH = "failed to create typed patch object"


def _schema_dir(version: str) -> str:
    full = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) == version]
    if not full:
        raise ValueError(f"kubernetes-validate bundles no schemas for {version}")
    return f"v{full[-1]}-local-strict"


@functools.cache
def _definitions(version: str) -> dict[str, Any]:
    data: dict[str, Any] = kv_utils.schema_contents(
        f"kubernetes-json-schema/{_schema_dir(version)}/_definitions.json", version
    )
    return data


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv_utils.schema_contents(
            f"kubernetes-json-schema/{_schema_dir(version)}/{kind.lower()}-{group}.json", version
        )
    except FileNotFoundError:
        return None  # not a built-in kind (a CRD): validated by its own schema, if registered with one
    registry: referencing.Registry[Any] = referencing.Registry()
    registry = referencing.Resource.from_contents(schema) @ registry
    registry = referencing.Resource.from_contents(_definitions(version)) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _where(error: jsonschema.ValidationError) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts)


def schema_problems(obj: dict[str, Any], version: str) -> tuple[list[str], list[str]]:
    """(undeclared-field problems, other problems) of `obj` in Kubernetes `version` ('1.28')."""
    validator = _validator(version, str(obj.get("apiVersion")), str(obj.get("kind")))
    if validator is None:
        return [], []
    body = {k: v for k, v in obj.items() if k != "status"}
    undeclared: list[str] = []
    other: list[str] = []
    for error in validator.iter_errors(body):
        if error.validator == "additionalProperties":
            extra = re.findall(r"'([^']+)' was unexpected", error.message) or [error.message]
            undeclared.extend(f"{_where(error)}.{name}: field not declared in schema" for name in extra)
        elif error.validator == "type":
            undeclared.append(f"{_where(error)}: expected {error.validator_value}, got {error.instance!r}")
        else:
            other.append(f"{_where(error)}: {error.message}")
    return undeclared, other


def crd_undeclared(schema: dict[str, Any], value: Any, where: str = "") -> list[str]:
    """Fields of `value` a structural schema does not declare (metadata/apiVersion/kind are the server's)."""
    if not isinstance(value, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            return [p for i, item in enumerate(value) for p in crd_undeclared(schema["items"], item, f"{where}[{i}]")]
        return []
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    found = []
    for key, sub in value.items():
        if not where and key in ("apiVersion", "kind", "metadata"):
            continue
        if key in props:
            found.extend(crd_undeclared(props[key], sub, f"{where}.{key}"))
        elif isinstance(extra, dict):
            found.extend(crd_undeclared(extra, sub, f"{where}.{key}"))
        elif extra is not True:
            found.append(f"{where}.{key}: field not declared in schema")
    return found


@functools.cache
def _list_map_table(version: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    """field name → every keyset the upstream definitions give a list-map field of that name."""
    table: dict[str, set[tuple[str, ...]]] = {}
    defs = _definitions(version)
    for definition in (defs.get("$defs") or defs.get("definitions") or {}).values():
        for name, prop in (definition.get("properties") or {}).items():
            keys = prop.get("x-kubernetes-list-map-keys")
            if prop.get("x-kubernetes-list-type") == "map" and keys:
                table.setdefault(name, set()).add(tuple(keys))
            elif prop.get("x-kubernetes-patch-merge-key") and prop.get("x-kubernetes-list-type") != "atomic":
                table.setdefault(name, set()).add((prop["x-kubernetes-patch-merge-key"],))
    return {name: tuple(sorted(sets, key=len, reverse=True)) for name, sets in table.items()}


KEY_DEFAULTS = {"protocol": "TCP"}


def list_map_keys(field: str, items: list[Any], version: str) -> tuple[str, ...] | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for keys in _list_map_table(version).get(field, ()):
        if all(all(k in i or k in KEY_DEFAULTS for k in keys) and keys[0] in i for i in items):
            return keys
    return None


def item_key(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "k:" + json.dumps({k: item.get(k, KEY_DEFAULTS.get(k)) for k in keys}, sort_keys=True)


# --- quantities ------------------------------------------------------------------------------------

_BINARY = [("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)]
_DECIMAL = [("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3), ("", 0), ("m", -3)]


def canonical_quantity(value: str | int | float) -> str:
    """The canonical form the API server stores (resource.Quantity's String())."""
    from lightkube.utils.quantity import parse_quantity

    text = str(value)
    number = Decimal(parse_quantity(text))
    binary = bool(re.search(r"[KMGTPE]i$", text))
    if number == 0:
        return "0"
    if binary and number == number.to_integral_value():
        as_int = int(number)
        for suffix, size in _BINARY:
            if as_int % size == 0:
                return f"{as_int // size}{suffix}"
        if abs(as_int) < 1024:
            return str(as_int)
        return str(as_int)
    # Decimal SI: round up to milli-units, then the largest suffix that keeps an integer mantissa.
    milli = (number * 1000).to_integral_value(rounding="ROUND_CEILING")
    for suffix, exp in _DECIMAL:
        scale = Decimal(10) ** (exp + 3)
        if milli % scale == 0:
            return f"{int(milli / scale)}{suffix}"
    return f"{int(milli)}m"


QUANTITY_PARENTS = frozenset({"limits", "requests", "capacity", "hard"})


def canonicalise(value: Any, path: tuple[str, ...] = ()) -> Any:
    """A copy of an object with every quantity field in canonical form."""
    if isinstance(value, dict):
        return {k: canonicalise(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [canonicalise(v, path) for v in value]
    is_quantity = bool(path) and (
        path[-1] == "sizeLimit"
        or (len(path) > 1 and path[-2] in QUANTITY_PARENTS)
        or (path[-1] in ("averageValue", "value") and path[-2:-1] == ("target",))
    )
    if is_quantity and isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return canonical_quantity(value)
        except (ValueError, ArithmeticError):
            return value  # validation reports it
    return value


# --- defaults --------------------------------------------------------------------------------------


def _container_defaults(c: dict[str, Any]) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = str(c.get("image", ""))
    c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image else "IfNotPresent")
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")


def _pod_defaults(pod: dict[str, Any]) -> None:
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("schedulerName", "default-scheduler")
    pod.setdefault("securityContext", {})
    for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        if isinstance(c, dict):
            _container_defaults(c)


def apply_defaults(kind: str, obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if kind == "PriorityClass":
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")
        obj.setdefault("globalDefault", False)
    if not isinstance(spec, dict):
        return
    if kind == "Service":
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    template = spec.get("template") if kind in ("Deployment", "StatefulSet", "Job", "ReplicaSet") else None
    if kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _pod_defaults(template["spec"])
        if kind == "Job":
            template["spec"]["restartPolicy"] = template["spec"].get("restartPolicy") or "Never"
    if kind in ("Deployment", "StatefulSet"):
        spec.setdefault("revisionHistoryLimit", 10)
        # Not `replicas: 1`: a real server defaults it, but audit --cluster (tests/audit/test_live.py) does not
        # account for that yet (BK504 would flag every HPA-scaled live workload); see the package docstring.
    if kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        rolling = {"maxSurge": "25%", "maxUnavailable": "25%"}
        spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": rolling})
    if kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    if kind == "Job":
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)


# Immutable fields per kind (a change is 422 Invalid, as the API server's validation says).
IMMUTABLE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "selector"),),
    "StatefulSet": (
        ("spec", "selector"),
        ("spec", "serviceName"),
        ("spec", "volumeClaimTemplates"),
        ("spec", "podManagementPolicy"),
    ),
    "Job": (("spec", "selector"), ("spec", "template"), ("spec", "completionMode")),
    "Service": (("spec", "clusterIP"),),
}
