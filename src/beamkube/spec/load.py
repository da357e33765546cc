"""Load a `beamkube.yaml` into an `AppSpec`, turning every failure into a one-line `SpecError`.

Role: `load_spec` reads a file (I/O); `load_spec_text` and `parse_spec` are pure. Line numbers come from the
YAML node tree, so an error points at the line of the offending field, not only at its path.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import ValidationError

from beamkube.errors import SpecError
from beamkube.safe_yaml import SPEC_LIMITS, YamlLoadError, decode, load_single
from beamkube.spec import model
from beamkube.spec.foreign import recognise_foreign
from beamkube.spec.model import AppSpec

# What a pattern means, in words (the message shows these instead of the regular expression).
PATTERN_WORDS = {
    model.NAME_PATTERN: "a DNS label: lowercase letters, digits and '-', starting with a letter",
    model.RELEASE_NAME_PATTERN: "lowercase letters, digits and '_', starting with a letter",
    model.CPU_PATTERN: "a CPU quantity like 500m, 1 or 2.5",
    model.MEMORY_PATTERN: "a memory quantity like 512Mi or 2Gi",
    model.QUANTITY_PATTERN: "a quantity like 200, 1.5k or 500m",
    model.ENV_NAME_PATTERN: "an environment variable name (letters, digits, '_'; not starting with a digit)",
    model.CRON_PATTERN: "a cron schedule of five fields like '15 3 * * *', or @hourly/@daily/@weekly/@monthly/@yearly",
    r"^/": "a path starting with /",
    r"^/[^\s]*$": "an absolute path without spaces",
    r"^[^\s]+$": "an image reference without spaces, e.g. ghcr.io/acme/app:1.2.3",
    r"^[-._a-zA-Z0-9]+$": "a Secret key: letters, digits, '-', '_' and '.'",
    r"^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$": "a lowercase DNS name like shop.example.com (or *.example.com)",
    r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$": "a lowercase DNS name like cluster.local",
}


STDIN = "-"


def load_spec(path: str | Path, stdin: BinaryIO | None = None) -> AppSpec:
    """Read and validate the spec at `path`; `-` reads `stdin` (bytes), named `<stdin>` in messages."""
    if str(path) == STDIN:
        source = "<stdin>"
        if stdin is None:
            raise SpecError(source, None, "", "no standard input to read")
        raw = stdin.read(SPEC_LIMITS.max_bytes + 1)
    else:
        source = str(path)
        raw = _read_file(Path(path), source)
    if len(raw) > SPEC_LIMITS.max_bytes:
        raise SpecError(source, None, "", f"is larger than {SPEC_LIMITS.max_bytes:,} bytes; a spec is a short file")
    try:
        text = decode(raw, source)
    except YamlLoadError as exc:
        raise SpecError(source, exc.line, "", exc.message) from None
    return load_spec_text(text, source)


def _read_file(path: Path, source: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SPEC_LIMITS.max_bytes + 1)
    except FileNotFoundError:
        raise SpecError(source, None, "", "file not found") from None
    except IsADirectoryError:
        raise SpecError(source, None, "", "is a directory, expected a beamkube.yaml file") from None
    except PermissionError:
        raise SpecError(source, None, "", "cannot be read (permission denied)") from None
    except OSError as exc:
        raise SpecError(source, None, "", f"cannot be read ({exc.strerror or 'I/O error'})") from None


def load_spec_text(text: str, source: str = "<spec>") -> AppSpec:
    """Validate spec text; `source` names it in error messages."""
    try:
        document = load_single(text, source, "core", SPEC_LIMITS)
    except YamlLoadError as exc:
        raise SpecError(source, exc.line, "", exc.message) from None
    if document is None:
        raise SpecError(source, None, "", "is empty; expected a mapping with at least name and image")
    root, data = document.node, document.data
    _reject_duplicate_keys(root, source, ())
    if not isinstance(data, dict):
        raise SpecError(
            source, root.start_mark.line + 1, "", f"expected a mapping with at least name and image, got {_kind(data)}"
        )
    if not all(isinstance(key, str) for key in data):
        raise SpecError(source, root.start_mark.line + 1, "", "every field name must be text")
    foreign = recognise_foreign(data)
    if foreign is not None:
        raise SpecError(source, root.start_mark.line + 1, "", foreign)
    return parse_spec(data, source, root)


def _reject_duplicate_keys(node: yaml.Node, source: str, loc: tuple[Any, ...]) -> None:
    """YAML loaders keep the last of two equal keys; in a spec that silently drops a setting."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            name = getattr(key, "value", None)
            line = key.start_mark.line + 1
            if isinstance(name, str) and name in seen:
                raise SpecError(
                    source, line, _dotted((*loc, name)), f"duplicate key (first set on line {seen[name]}); keep one"
                )
            if isinstance(name, str):
                seen[name] = line
            _reject_duplicate_keys(value, source, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_duplicate_keys(item, source, (*loc, index))


def parse_spec(data: dict[str, Any], source: str = "<spec>", node: yaml.Node | None = None) -> AppSpec:
    """Validate an already-parsed mapping (the operator's custom resource spec uses this too)."""
    try:
        # Strict JSON-mode validation, the semantics of the published JSON Schema: `replicas: true` or
        # `replicas: "3"` are type errors, not 1 and 3. Non-JSON YAML scalars (dates) become strings.
        return AppSpec.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        union = _failed_union(errors)
        if union is not None:
            loc, message = union
            raise SpecError(source, _line_of(node, loc), _dotted(loc), message) from None
        error = _near_miss(errors) or _chosen_error(errors)
        # A cross-field rule names the field to blame (FieldError.loc, relative to the model that raised it).
        loc = tuple(error["loc"]) + tuple(getattr((error.get("ctx") or {}).get("error"), "loc", ()))
        path = _dotted(loc)
        line = _line_of(node, loc)
        raise SpecError(source, line, path, _describe(error, loc)) from None


# pydantic tags the errors of each member of a union (`int | str`, `Probe | Literal[False]`) with these.
_BRANCH_TAGS = {"int", "str", "bool", "float", "none", "constrained-int", "constrained-str", "constrained-float"}
_TYPE_MISMATCH = {
    "int_type", "int_parsing", "int_from_float", "string_type", "bool_type", "bool_parsing", "float_type",
    "float_parsing", "literal_error", "enum", "model_type", "model_attributes_type", "dict_type", "list_type",
    "none_required", "is_instance_of",
}  # fmt: skip


def _is_branch(item: Any) -> bool:
    if not isinstance(item, str):
        return False
    return item in _BRANCH_TAGS or "[" in item or item.startswith("function-") or item in _model_names()


def _model_names() -> set[str]:
    from pydantic import BaseModel

    return {name for name, value in vars(model).items() if isinstance(value, type) and issubclass(value, BaseModel)}


def _union_group(errors: list[Any]) -> tuple[int, list[Any]] | None:
    """The errors of the innermost union the first error belongs to (position of the branch tag, members)."""
    loc = tuple(errors[0]["loc"])
    branches = [index for index, item in enumerate(loc) if _is_branch(item)]
    if not branches:
        return None
    at = branches[-1]
    members = [
        e for e in errors if tuple(e["loc"])[:at] == loc[:at] and len(e["loc"]) > at and _is_branch(e["loc"][at])
    ]
    return at, members


def _chosen_error(errors: list[Any]) -> Any:
    """In a failed union, the member error that shows what the user meant: one that got past the type check
    (a range error, an unknown field inside a mapping) rather than "not an integer" from a branch they never
    intended. Otherwise the first error."""
    group = _union_group(errors)
    if group is not None:
        at, members = group
        meant = [e for e in members if e["type"] not in _TYPE_MISMATCH or len(e["loc"]) > at + 1]
        if meant:
            return meant[0]
    return errors[0]


def _near_miss(errors: list[Any]) -> Any:
    """An unknown field that is a misspelling of a missing required one (`imgae` for `image`): that is the
    mistake to report, not "image: is required"."""
    missing = [tuple(e["loc"]) for e in errors if e["type"] == "missing"]
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] != "extra_forbidden" or not loc:
            continue
        siblings = [str(m[-1]) for m in missing if m[:-1] == loc[:-1]]
        if difflib.get_close_matches(str(loc[-1]), siblings, n=1, cutoff=0.6):
            return error
    return None


def _failed_union(errors: list[Any]) -> tuple[tuple[Any, ...], str] | None:
    """When a value matches no member of a union by type, one message listing what each member accepts."""
    group = _union_group(errors)
    if group is None:
        return None
    at, members = group
    if len(members) < 2 or any(e["type"] not in _TYPE_MISMATCH or len(e["loc"]) > at + 1 for e in members):
        return None
    expected: list[str] = []
    for e in members:
        words = _expected_words(e)
        if words not in expected:
            expected.append(words)
    loc = tuple(errors[0]["loc"])[:at]
    return loc, f"{_show(members[0].get('input'))} is not allowed; expected {' or '.join(expected)}"


def _expected_words(error: Any) -> str:
    kind = error["type"]
    if kind == "literal_error":
        text = str((error.get("ctx") or {}).get("expected", ""))
        return {"False": "false", "True": "true", "None": "null"}.get(text, text)
    words = {
        "int_type": "an integer",
        "int_parsing": "an integer",
        "int_from_float": "an integer",
        "string_type": "a string",
        "bool_type": "true or false",
        "float_type": "a number",
        "list_type": "a list",
        "none_required": "null",
    }
    return words.get(kind, "a mapping")


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after", "literal['beamkube.io/v1alpha1']") or _is_branch(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _clean_loc(loc: tuple[Any, ...]) -> list[Any]:
    """Drop pydantic's union-branch markers (`Probe`, `literal[False]`, ...) from a location."""
    cleaned: list[Any] = []
    for item in loc:
        text = str(item)
        if isinstance(item, str) and (text[:1].isupper() or "[" in text or text.startswith("function-")):
            continue
        cleaned.append(item)
    return cleaned


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest YAML node along `loc` that exists in the document."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    current: yaml.Node = node
    for item in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode) and isinstance(item, str):
            for key, value in current.value:
                if getattr(key, "value", None) == item:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(item, int) and item < len(current.value):
            child = current.value[item]
            line = child.start_mark.line + 1
        if child is None:
            if _clean_loc((item,)):  # a real field that is not in the document: stop at its parent
                break
            continue  # a union-branch marker (`Probe`, `literal[False]`): not a YAML key, skip it
        current = child
    return line


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown field; {hint}allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return (
            f"{_show(value)} is not {PATTERN_WORDS[pattern]}"
            if pattern in PATTERN_WORDS
            else f"{_show(value)} is not in the form this field takes (beamkube schema describes it)"
        )
    if kind in ("literal_error", "enum"):
        return f"{_show(value)} is not allowed; expected {ctx.get('expected')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"{_show(value)} is out of range; must be {bound} {limit}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{_show(value)} is not an integer"
    if kind in ("string_type",):
        if isinstance(value, dict | list):
            return f"expected a string, got {_show(value)}"
        return f"{_show(value)} is not a string (quote it)"
    if kind in ("bool_type", "bool_parsing"):
        return f"{_show(value)} is not a boolean (true or false)"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {_kind(value)}"
    if kind == "list_type":
        return f"expected a list, got {_kind(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"{_show(value)} is too long; at most {ctx.get('max_length')} characters"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


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
    text = str(value)
    if len(text) > 100:
        text = f"{text[:60]}… ({len(text):,} characters)"
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"  # YAML's single-quoted style
    return json.dumps(text, ensure_ascii=False)  # YAML's double-quoted style shows control characters


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), "null" if value is None else type(value).__name__) + (
        f" ({_show(value)})" if isinstance(value, bool | int | float | str) else ""
    )


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at `loc` (walks the model classes along the path)."""
    from pydantic import BaseModel

    model: type[BaseModel] = AppSpec
    for item in _clean_loc(loc):
        if isinstance(item, int):
            continue
        field = model.model_fields.get(str(item))
        if field is None:
            break
        nested = _model_in(field.annotation)
        if nested is None:
            break
        model = nested
    return sorted(model.model_fields)


def _model_in(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
