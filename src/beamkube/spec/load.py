"""Load a `beamkube.yaml` into an `AppSpec`, turning every failure into a one-line `SpecError`.

Role: `load_spec` reads a file (I/O); `load_spec_text` and `parse_spec` are pure. Line numbers come from the
YAML node tree, so an error points at the line of the offending field, not only at its path; the words come
from `beamkube.spec.explain`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import yaml

from beamkube.errors import SpecError
from beamkube.safe_yaml import SPEC_LIMITS, YamlLoadError, decode, load_single
from beamkube.spec.foreign import recognise_foreign
from beamkube.spec.model import AppSpec

__all__ = ["load_spec", "load_spec_text", "parse_spec"]

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
        from beamkube.spec.explain import kind_of

        expected = f"expected a mapping with at least name and image, got {kind_of(data)}"
        raise SpecError(source, root.start_mark.line + 1, "", expected)
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
        # Strict: `replicas: true` or `replicas: "3"` are type errors, not 1 and 3 (the published JSON
        # Schema's semantics). msgspec stops at the first error, the first mistake in document order.
        data = _text_keys(data)
        return msgspec.convert(data, AppSpec, strict=True)
    except msgspec.ValidationError as exc:
        from beamkube.spec.explain import explain  # only a failing spec pays for the wording

        loc, message = explain(exc, data, AppSpec)
        raise SpecError(source, _line_of(node, loc), _dotted(loc), message) from None


def _text_keys(value: Any) -> Any:
    """Mapping keys as JSON writes them (`1:` → "1", `true:` → "true"), as the API server and
    sigs.k8s.io/yaml see a YAML mapping. A spec almost never has such keys: only then is it copied."""
    return _with_text_keys(value) if _odd_keys(value) else value


def _odd_keys(value: Any) -> bool:
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) in (dict, list) and _odd_keys(item)):
                return True
    elif type(value) is list:
        return any(type(item) in (dict, list) and _odd_keys(item) for item in value)
    return False


def _with_text_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else json.dumps(k)): _with_text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_text_keys(v) for v in value]
    return value


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


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
                if str(getattr(key, "value", None)) == item:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(item, int) and item < len(current.value):
            child = current.value[item]
            line = child.start_mark.line + 1
        if child is None:  # a field that is not in the document (a required one): stop at its parent
            break
        current = child
    return line
