"""Load a `beamkube.yaml` into an `AppSpec`, turning every failure into a one-line `SpecError`.

Role: `load_spec` reads a file (I/O); `load_spec_text` and `parse_spec` are pure. Line numbers come from the
YAML node tree, so an error points at the line of the offending field, not only at its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from beamkube.errors import SpecError
from beamkube.spec.model import AppSpec


def load_spec(path: str | Path) -> AppSpec:
    """Read and validate the spec at `path`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, None, "", "file not found") from None
    except IsADirectoryError:
        raise SpecError(source, None, "", "is a directory, expected a beamkube.yaml file") from None
    except UnicodeDecodeError:
        raise SpecError(source, None, "", "is not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(source, None, "", f"cannot be read ({exc.strerror})") from None
    return load_spec_text(text, source)


def load_spec_text(text: str, source: str = "<spec>") -> AppSpec:
    """Validate spec text; `source` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(source, line, "", f"not valid YAML: {problem}") from None
    if root is None:
        raise SpecError(source, None, "", "is empty; expected a mapping with at least name and image")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # composes but does not construct (e.g. bad tag)
        raise SpecError(source, None, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(source, root.start_mark.line + 1, "", "expected a mapping with at least name and image")
    return parse_spec(data, source, root)


def parse_spec(data: dict[str, Any], source: str = "<spec>", node: yaml.Node | None = None) -> AppSpec:
    """Validate an already-parsed mapping (the operator's custom resource spec uses this too)."""
    try:
        return AppSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        path = _dotted(loc)
        line = _line_of(node, loc)
        raise SpecError(source, line, path, _describe(error, loc)) from None


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after", "literal['beamkube.io/v1alpha1']") or str(item).startswith(
            ("literal[", "function-")
        ):
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
    for item in _clean_loc(loc):
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
            break
        current = child
    return line


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        return f"unknown field; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not match {ctx.get('pattern')}"
    if kind == "literal_error":
        return f"{value!r} is not allowed; expected {ctx.get('expected')}"
    if kind == "enum":
        return f"{value!r} is not allowed; expected {ctx.get('expected')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"{value!r} is out of range; must be {bound} {limit}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{value!r} is not an integer"
    if kind in ("string_type",):
        return f"{value!r} is not a string"
    if kind in ("bool_type", "bool_parsing"):
        return f"{value!r} is not a boolean"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {type(value).__name__}"
    if kind == "list_type":
        return f"expected a list, got {type(value).__name__}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"{value!r} is too long; at most {ctx.get('max_length')} characters"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


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
