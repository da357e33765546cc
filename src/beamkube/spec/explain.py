"""Word a `msgspec.ValidationError` for a user: the field's path (dict keys included) and what is allowed.

Role: pure (no I/O). msgspec stops at the first error and says where in its message
(`Expected `int` >= 1 - at `$.cluster.distPort``; a mapping's key is `[...]`); the value, the enum choices
and the members of a union come from the data and the model types along that path. A rule that fails in a
model's `__post_init__` arrives as the error's `__cause__`; a `FieldError` there names the field to blame,
relative to that model.
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import re
import types
import typing
from enum import Enum
from typing import Any, Literal, Union

import msgspec

from beamkube.spec import base

Loc = tuple[str | int, ...]
# A step of msgspec's path: a field name, a list index, or a mapping key it did not spell out.
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|(\[\.\.\.\])")
_WHERE = re.compile(r"^(?P<what>.*) - at `(?P<key>key` in `)?(?P<path>\$[^`]*)`$", re.DOTALL)
_MISSING = object()

# What a pattern means, in words (the message shows these instead of the regular expression).
PATTERN_WORDS = {
    base.NAME_PATTERN: "a DNS label: lowercase letters, digits and '-', starting with a letter",
    base.RELEASE_NAME_PATTERN: "lowercase letters, digits and '_', starting with a letter",
    base.CPU_PATTERN: "a CPU quantity like 500m, 1 or 2.5",
    base.MEMORY_PATTERN: "a memory quantity like 512Mi or 2Gi",
    base.QUANTITY_PATTERN: "a quantity like 200, 1.5k or 500m",
    base.ENV_NAME_PATTERN: "an environment variable name (letters, digits, '_'; not starting with a digit)",
    base.CRON_PATTERN: "a cron schedule of five fields like '15 3 * * *', or @hourly/@daily/@weekly/@monthly/@yearly",
    base.ABSOLUTE_PATH: "a path starting with /",
    r"^/[^\s]*$": "an absolute path without spaces",
    base.NO_SPACES: "an image reference without spaces, e.g. ghcr.io/acme/app:1.2.3",
    base.SECRET_KEY_PATTERN: "a Secret key: letters, digits, '-', '_' and '.'",
    base.HOST_PATTERN: "a lowercase DNS name like shop.example.com (or *.example.com)",
    r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$": "a lowercase DNS name like cluster.local",
    base.SUB_PATH_PATTERN: "a relative path without spaces (not starting with /)",
}


def explain(exc: msgspec.ValidationError, data: Any, root: type[Any]) -> tuple[Loc, str]:
    """The path of the failing field (from the spec root) and the message for it."""
    match = _WHERE.match(str(exc))
    what, path = (match["what"], match["path"]) if match else (str(exc), "$")
    loc, value, kind = _walk(data, root, path, key_error=bool(match and match["key"]))
    cause = exc.__cause__
    if cause is not None:  # a model's rule (__post_init__): its own words, and the field it names
        return (*loc, *getattr(cause, "loc", ())), str(cause)
    if match and match["key"]:
        return loc, f"{_show(value)} is not allowed as a key; keys are text (quote it)"
    return _describe(what, loc, value, kind)


def _walk(data: Any, kind: Any, path: str, *, key_error: bool) -> tuple[Loc, Any, Any]:
    """Follow msgspec's path through the data and the model types: the loc (mapping keys filled in), the
    value found there (or _MISSING) and its declared type."""
    loc: list[str | int] = []
    value = data
    for name, index, any_key in _STEP.findall(path[1:]):
        if name:
            kind = _field_type(kind, name)
            loc.append(name)
            value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
        elif index:
            kind = _member(kind, list)
            kind = typing.get_args(kind)[0] if kind is not None else None
            loc.append(int(index))
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else _MISSING
        elif any_key and isinstance(value, dict):
            kind = _member(kind, dict)
            key_type, item_type = typing.get_args(kind) if kind is not None else (Any, Any)
            key = _first_bad_entry(value, key_type, item_type)
            loc.append(key if isinstance(key, int) else str(key))
            value, kind = value[key], item_type
    if key_error and isinstance(value, dict):
        key_type, _ = typing.get_args(_member(kind, dict) or dict[Any, Any])
        key = next((k for k in value if not _valid(k, key_type)), next(iter(value), None))
        return (*loc, str(key)), key, key_type
    return tuple(loc), value, kind


def _first_bad_entry(mapping: dict[Any, Any], key_type: Any, item_type: Any) -> Any:
    """The entry msgspec stopped at: it checks entries in order, so the first one that fails alone."""
    for key, item in mapping.items():
        if not _valid(key, key_type) or not _valid(item, item_type):
            return key
    return next(iter(mapping))


def _valid(value: Any, kind: Any) -> bool:
    try:
        msgspec.convert(value, kind, strict=True)
    except (msgspec.ValidationError, TypeError):
        return False
    return True


def _members(kind: Any) -> list[Any]:
    """The members of a (possibly Annotated, possibly optional) type, each without its annotations; None
    left out."""
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (Union, types.UnionType):
        return [m for arg in typing.get_args(kind) for m in _members(arg)]
    return [] if kind is type(None) else [kind]


def _member(kind: Any, origin: type) -> Any:
    return next((m for m in _members(kind) if typing.get_origin(m) is origin), None)


def _struct(kind: Any) -> type[msgspec.Struct] | None:
    return next((m for m in _members(kind) if isinstance(m, type) and issubclass(m, msgspec.Struct)), None)


def _field_type(kind: Any, name: str) -> Any:
    struct = _struct(kind)
    if struct is None:
        return None
    return next((f.type for f in msgspec.structs.fields(struct) if f.encode_name == name), None)


def _describe(what: str, loc: Loc, value: Any, kind: Any) -> tuple[Loc, str]:
    if found := re.fullmatch(r"Object contains unknown field `(.*)`", what, re.DOTALL):
        struct = _struct(kind)
        allowed = sorted(struct.__struct_fields__) if struct is not None else []
        close = difflib.get_close_matches(found[1], allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (*loc, found[1]), f"unknown field; {hint}allowed here: {', '.join(allowed)}"
    if found := re.fullmatch(r"Object missing required field `(.*)`", what, re.DOTALL):
        return (*loc, found[1]), "is required"
    if found := re.fullmatch(r"Expected `str` matching regex (.*)", what, re.DOTALL):
        pattern = base.published(ast.literal_eval(found[1]))
        words = PATTERN_WORDS.get(pattern)
        if words is None:
            return loc, f"{_show(value)} is not in the form this field takes (beamkube schema describes it)"
        return loc, f"{_show(value)} is not {words}"
    if found := re.fullmatch(r"Expected `\w+` (>=|<=|>|<) (\S+)", what):
        return loc, f"{_show(value)} is out of range; must be {found[1]} {found[2]}"
    if found := re.fullmatch(r"Expected `(\w+)` of length (>=|<=) (\d+)", what):
        return loc, _length(found[1], found[2], int(found[3]), value)
    members = _members(kind)
    if len(members) > 1 or what.startswith("Invalid enum value"):
        expected = " or ".join(dict.fromkeys(_expected(m) for m in members))
        return loc, f"{_show(value)} is not allowed; expected {expected}"
    if found := re.fullmatch(r"Expected `(\w+)(?: \| null)?`, got `\w+`", what):
        return loc, _mismatch(found[1], value)
    return loc, what


def _length(container: str, bound: str, limit: int, value: Any) -> str:
    if bound == "<=":
        return f"{_show(value)} is too long; at most {limit} characters"
    if limit == 1:
        return "must not be empty"
    return f"needs at least {limit} {'characters' if container == 'str' else 'items'}"


def _mismatch(expected: str, value: Any) -> str:
    if expected == "int":
        return f"{_show(value)} is not an integer"
    if expected == "str":
        return (
            f"expected a string, got {_show(value)}"
            if isinstance(value, dict | list)
            else (f"{_show(value)} is not a string (quote it)")
        )
    if expected == "bool":
        return f"{_show(value)} is not a boolean (true or false)"
    if expected == "float":
        return f"{_show(value)} is not a number"
    if expected == "object":
        return f"expected a mapping, got {_kind(value)}"
    if expected == "array":
        return f"expected a list, got {_kind(value)}"
    return f"{_show(value)} is not allowed here"


def _expected(kind: Any) -> str:
    """What one member of a union (or an enum) accepts, in words."""
    if typing.get_origin(kind) is Literal:
        return _choices(typing.get_args(kind))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _choices([member.value for member in kind])
    words = {int: "an integer", str: "a string", bool: "true or false", float: "a number", list: "a list"}
    origin = typing.get_origin(kind) or kind
    return words.get(origin, "a mapping")


def _choices(values: Any) -> str:
    shown = [json.dumps(v) if isinstance(v, bool) else repr(v) for v in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _show(value: Any) -> str:
    """A value as the user would write it in YAML (true, null, 'text', 2.5), never a Python repr."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")  # YAML's spelling
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    shown = str(value)
    if len(shown) > 100:
        shown = f"{shown[:60]}… ({len(shown):,} characters)"
    if shown.isprintable():
        return "'" + shown.replace("'", "''") + "'"  # YAML's single-quoted style
    return json.dumps(shown, ensure_ascii=False)  # YAML's double-quoted style shows control characters


def kind_of(value: Any) -> str:
    """A value's kind in words (`a list`, `a string ('my-app')`), for "expected ..., got ..." messages."""
    return _kind(value)


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), "null" if value is None else type(value).__name__) + (
        f" ({_show(value)})" if isinstance(value, bool | int | float | str) else ""
    )
