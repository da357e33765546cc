"""Check that an OpenAPI v3 schema is *structural* (what apiextensions.k8s.io/v1 requires), and turn one
into plain JSON Schema so a client can validate custom resources the way the API server would.

Role: test helper, pure (no I/O). The rules follow the Kubernetes documentation on structural schemas: every node has a
type (unless int-or-string or preserve-unknown-fields), no `$ref`, `additionalProperties` never next to
`properties` and never `false`, nothing but value validations inside `anyOf`/`allOf`/`oneOf`/`not` (the
int-or-string pair excepted), `metadata` restricted to name/generateName, and defaults that validate.
"""

from __future__ import annotations

from typing import Any

_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
# Keys a schema may not carry inside a logical junctor (they must be stated outside it).
_FORBIDDEN_IN_JUNCTOR = ("type", "description", "default", "additionalProperties", "nullable", "title")
_TYPES = ("object", "array", "string", "integer", "number", "boolean")
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


def structural_problems(schema: dict[str, Any]) -> list[str]:
    """Every rule the schema breaks, as `path: problem` lines; empty when it is structural."""
    problems: list[str] = []
    _check(schema, "openAPIV3Schema", problems, root=True)
    return problems


def _check(node: Any, path: str, problems: list[str], root: bool = False, in_junctor: bool = False) -> None:
    if not isinstance(node, dict):
        problems.append(f"{path}: is not a schema object")
        return
    if "$ref" in node:
        problems.append(f"{path}: $ref is not allowed (inline the definition)")
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if not in_junctor:
        kind = node.get("type")
        if kind is None and not (int_or_string or preserve):
            problems.append(f"{path}: has no type")
        elif kind is not None and kind not in _TYPES:
            problems.append(f"{path}: type {kind!r} is not one of {', '.join(_TYPES)}")
        if int_or_string and kind is not None:
            problems.append(f"{path}: x-kubernetes-int-or-string must not also set type")
        if root and kind != "object":
            problems.append(f"{path}: the root must be of type object")
    if "additionalProperties" in node:
        if "properties" in node:
            problems.append(f"{path}: additionalProperties and properties are mutually exclusive")
        if node["additionalProperties"] is False:
            problems.append(f"{path}: additionalProperties: false is not allowed (pruning drops unknown fields)")
    if node.get("uniqueItems") is True:
        problems.append(f"{path}: uniqueItems: true is not allowed")
    if node.get("type") == "array" and "items" not in node and not in_junctor:
        problems.append(f"{path}: an array needs items")
    for junctor in _JUNCTORS:
        if junctor not in node:
            continue
        branches = node[junctor] if isinstance(node[junctor], list) else [node[junctor]]
        if junctor == "anyOf" and int_or_string and branches == _INT_OR_STRING:
            continue
        for index, branch in enumerate(branches):
            where = f"{path}.{junctor}[{index}]"
            if isinstance(branch, dict):
                for key in _FORBIDDEN_IN_JUNCTOR:
                    if key in branch:
                        problems.append(f"{where}: {key} is not allowed inside {junctor}")
            _check(branch, where, problems, in_junctor=True)
    for name, sub in (node.get("properties") or {}).items():
        if root and name == "metadata":
            _check_metadata(sub, f"{path}.properties.metadata", problems)
        _check(sub, f"{path}.properties.{name}", problems, in_junctor=in_junctor)
    if isinstance(node.get("items"), dict):
        _check(node["items"], f"{path}.items", problems, in_junctor=in_junctor)
    elif "items" in node:
        problems.append(f"{path}.items: must be one schema, not a list")
    if isinstance(node.get("additionalProperties"), dict):
        _check(node["additionalProperties"], f"{path}.additionalProperties", problems, in_junctor=in_junctor)
    if "default" in node and not in_junctor:
        problems.extend(_default_problems(node, path))


def _check_metadata(node: Any, path: str, problems: list[str]) -> None:
    if not isinstance(node, dict):
        return
    allowed = {"name", "generateName"}
    extra = sorted(set(node.get("properties") or {}) - allowed)
    if extra:
        problems.append(f"{path}: only name and generateName may be restricted, not {', '.join(extra)}")
    if set(node) - {"type", "properties"}:
        problems.append(f"{path}: only type and properties (name, generateName) may be set")


def _default_problems(node: dict[str, Any], path: str) -> list[str]:
    import jsonschema

    default = node["default"]
    if default is None and not node.get("nullable"):
        return [f"{path}: default null needs nullable: true"]
    errors = sorted(jsonschema.Draft7Validator(to_json_schema(node)).iter_errors(default), key=str)
    return [f"{path}: default {default!r} does not validate: {errors[0].message}"] if errors else []


def to_json_schema(node: dict[str, Any], strict: bool = True) -> dict[str, Any]:
    """Translate an OpenAPI v3 (Kubernetes flavour) schema to JSON Schema draft 7.

    `nullable` becomes a `null` type, int-or-string an integer-or-string type, preserve-unknown-fields an
    open object. With `strict`, objects with `properties` reject unknown fields, as the API server does for
    `kubectl apply --validate=strict` (it would otherwise prune them silently).
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("nullable", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"):
            continue
        if key.startswith("x-kubernetes-") or key == "format":
            continue  # list-type, CEL rules, formats: not JSON Schema validations (int32 etc. are not)
        if key == "properties":
            out[key] = {name: to_json_schema(sub, strict) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value, strict)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub, strict) for sub in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
        out.pop("anyOf", None)
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if strict and "properties" in node and not preserve and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out
