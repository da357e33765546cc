"""JSON Schema of `beamkube.yaml`, generated from the models (editors, `beamkube schema`, the CRD).

Role: pure (no I/O). msgspec writes every model under `$defs`; the published layout keeps `AppSpec` at the
root (its fields are the document's top-level keys) and the other models under `$defs`. Validation patterns
end in `\\Z` (spec/base.py); the schema spells them with `$`, as ECMA-262 and RE2 (the API server) read them.
"""

from __future__ import annotations

import typing
from enum import Enum
from typing import Any, Literal

import msgspec

from beamkube.spec.base import published
from beamkube.spec.model import AppSpec

SCHEMA_ID = "https://beamkube.io/schema/v1alpha1/beamkube.json"
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def model_json_schema() -> dict[str, Any]:
    """`AppSpec`'s schema with the other models in `$defs` (draft 2020-12 keywords)."""
    _, components = msgspec.json.schema_components([AppSpec], ref_template="#/$defs/{name}")
    orders = _declared_orders(AppSpec, set())
    root: dict[str, Any] = _published(components.pop(AppSpec.__name__), orders)
    root["$defs"] = {name: _published(components[name], orders) for name in sorted(components)}
    return root


def spec_json_schema() -> dict[str, Any]:
    schema = model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema


def _declared_orders(kind: Any, seen: set[Any]) -> dict[frozenset[Any], list[Any]]:
    """Every Literal's and Enum's values in declaration order (msgspec lists them sorted), by value set."""
    orders: dict[frozenset[Any], list[Any]] = {}
    if kind in seen:
        return orders
    seen.add(kind)
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        for info in msgspec.structs.fields(kind):
            orders.update(_declared_orders(info.type, seen))
    elif isinstance(kind, type) and issubclass(kind, Enum):
        values = [member.value for member in kind]
        orders[frozenset(values)] = values
    elif typing.get_origin(kind) is Literal:
        orders[frozenset(typing.get_args(kind))] = list(typing.get_args(kind))
    else:
        for arg in typing.get_args(kind):
            if not isinstance(arg, msgspec.Meta):
                orders.update(_declared_orders(arg, seen))
    return orders


def _published(node: Any, orders: dict[frozenset[Any], list[Any]]) -> Any:
    if isinstance(node, list):
        return [_published(item, orders) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str):
            out[key] = published(value)
        elif key == "required" and value == []:
            continue  # no required fields: say nothing, as for any other optional keyword
        elif key == "default" and value in ([], {}):
            continue  # a fresh empty list or mapping (default_factory): the absence says it
        elif key in ("properties", "$defs"):
            out[key] = {name: _published(sub, orders) for name, sub in value.items()}
        elif key == "enum":
            out[key] = orders.get(frozenset(value), value)
        else:
            out[key] = _published(value, orders)
    if "enum" in out and "type" not in out:
        # msgspec leaves the type to the values; a structural CRD needs it on every node.
        kinds = {_JSON_TYPES.get(type(v)) for v in out["enum"]}
        if len(kinds) == 1 and None not in kinds:
            out["type"] = kinds.pop()
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["additionalProperties"] = True  # any mapping (an override's patch): the CRD keeps unknown fields
    return out
