"""Serialise rendered objects (YAML/JSON) and write files atomically.

Role: `dump_*` are pure; `write_atomic` and `write_objects` do file I/O. A file is written to a temporary
sibling and renamed into place, so a crash never leaves a half-written manifest; `write_objects` writes a
whole set through `beamkube.outdir`, which never touches a file beamkube did not write for the same app.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from beamkube.errors import OutputError

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Multi-line strings (vm.args) as `|` blocks, so they read like the files they are."""


def _str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _pyyaml(documents: list[Any]) -> str:
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1_000_000, allow_unicode=True
    )


def dump_yaml(objects: Iterable[dict[str, Any]]) -> str:
    """The objects as a YAML stream, byte for byte what PyYAML's block style gives (tests compare the two).

    PyYAML's representer is Python code and costs ~3 ms per app; rendering 1,000 apps must take under 1 s. So
    the structure (dicts, lists, ints, bools) is written here, and each distinct string's scalar form is
    decided once and cached: names, paths and tags by PyYAML's own resolver (`_simple_scalar`), anything
    else (spaces, quotes, `|` blocks, non-ASCII) by PyYAML itself; so is each key's line head per column.
    Anything unusual (floats, long or multi-line keys, empty documents, other types) makes PyYAML write the
    whole stream."""
    documents = list(objects)
    lines: list[str] = []
    try:
        for index, obj in enumerate(documents):
            if not isinstance(obj, dict) or not obj:
                raise _Unsupported
            if index:
                lines.append("---\n")
            _emit_mapping(obj, 0, lines, first_prefix=None)
    except _Unsupported:
        return _pyyaml(documents)
    return "".join(lines)


class _Unsupported(Exception):
    """Content the fast emitter does not handle; PyYAML writes the document instead."""


_SCALARS: dict[str, str] = {}
_LINE_SCALARS: dict[str, str] = {}  # the single-line ones: written as they are, whatever the column
_KEYS: dict[str, str] = {}
_CACHE_MAX = 100_000  # bounded: a long-running operator renders many apps
# Strings PyYAML (and libyaml) may write plain or, when its resolver reads them as another type ('1.27',
# 'true', '0x1F', '12:30'), in single quotes: no space, quote, `#`, `,`, brackets or non-ASCII; not starting
# with an indicator; not ending with ':' (': ' and a final ':' start a mapping value).
_SIMPLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_./:-]*[A-Za-z0-9_./-])?").fullmatch
# The dumper's own resolver (the C dumper resolves in Python too): what it reads a plain scalar as.
_RESOLVE: Any = yaml.resolver.Resolver().resolve
_STR_TAG = "tag:yaml.org,2002:str"


def _simple_scalar(value: str) -> str | None:
    """The scalar form of a simple string, as PyYAML writes it, or None to ask PyYAML."""
    if not _SIMPLE(value):
        return None
    plain_tag = _RESOLVE(yaml.ScalarNode, value, (True, False))
    return value if plain_tag == _STR_TAG else f"'{value}'"


def _pyyaml_scalar(value: str) -> str:
    text = _pyyaml([{"k": value}])  # "k: <scalar>\n", with block scalars indented by 2
    if not text.startswith("k: "):
        raise _Unsupported
    cached = text[3:-1]
    if cached.startswith(("|", ">")) and "+" in cached.split("\n", 1)[0]:
        raise _Unsupported  # "keep" chomping makes PyYAML end the document with "..."
    return cached


def _string(value: str, column: int) -> str:
    cached = _SCALARS.get(value)
    if cached is None:
        cached = _simple_scalar(value) or _pyyaml_scalar(value)
        if len(_SCALARS) < _CACHE_MAX:
            _SCALARS[value] = cached
            if "\n" not in cached:
                _LINE_SCALARS[value] = cached
    if "\n" in cached:
        return cached.replace("\n", "\n" + " " * column)
    return cached


def _scalar(value: Any, column: int) -> str:
    """The YAML form of a scalar written at `column` (where its key or `- ` starts)."""
    if type(value) is str:
        return _string(value, column)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    raise _Unsupported


def _key(key: Any) -> str:
    cached = _KEYS.get(key) if type(key) is str else None
    if cached is not None:
        return cached
    # PyYAML writes empty, long (>= 128) and multi-line keys as "? key" complex keys: leave those to it.
    if type(key) is not str or not key or len(key) > 120 or any(c in key for c in "\n\r\x85\u2028\u2029"):
        raise _Unsupported
    text = _scalar(key, 0)
    if "\n" in text:
        raise _Unsupported
    if len(_KEYS) < _CACHE_MAX:
        _KEYS[key] = text
    return text


# Per column: key -> "<indent><key>: " (its value follows on the line) and "<indent><key>:\n" (a block follows).
_INLINE: list[dict[str, str]] = []
_BLOCK: list[dict[str, str]] = []


def _heads(key: Any, column: int) -> tuple[str, str]:
    """The two line heads of `key` at `column`, cached (keys repeat across every object of every app)."""
    text = " " * column + _key(key)
    if len(_INLINE[column]) < _CACHE_MAX:
        _INLINE[column][key] = text + ": "
        _BLOCK[column][key] = text + ":\n"
    return text + ": ", text + ":\n"


def _emit_mapping(value: dict[str, Any], column: int, lines: list[str], first_prefix: str | None) -> None:
    """A block mapping whose keys start at `column`; `first_prefix` replaces the first key's indentation
    (the `- ` of a sequence item that holds it)."""
    while len(_INLINE) <= column:
        _INLINE.append({})
        _BLOCK.append({})
    # Locals: this loop runs ~550,000 times per 1,000 apps.
    append, inline, block, scalars = lines.append, _INLINE[column], _BLOCK[column], _LINE_SCALARS
    first = first_prefix is not None
    for key, item in value.items():
        if first:  # the `- ` of a sequence item in place of this key's indentation
            first = False
            head = f"{first_prefix}{_key(key)}"
            inline_head, block_head = head + ": ", head + ":\n"
        else:
            cached = inline.get(key)
            if cached is None:
                inline_head, block_head = _heads(key, column)
            else:
                inline_head, block_head = cached, block[key]
        kind = type(item)
        if kind is str:
            text = scalars.get(item)
            append(inline_head + (text if text is not None else _string(item, column)) + "\n")
        elif kind is dict or (kind is not list and isinstance(item, dict)):
            if item:
                append(block_head)
                _emit_mapping(item, column + 2, lines, None)
            else:
                append(inline_head + "{}\n")
        elif kind is list or isinstance(item, list):
            if item:
                append(block_head)
                _emit_sequence(item, column, lines, None)  # PyYAML does not indent sequences in mappings
            else:
                append(inline_head + "[]\n")
        else:
            append(inline_head + _scalar(item, column) + "\n")


def _emit_sequence(value: list[Any], column: int, lines: list[str], first_prefix: str | None) -> None:
    pad = " " * column + "- "
    prefix = pad if first_prefix is None else first_prefix + "- "
    append, scalars = lines.append, _LINE_SCALARS
    for item in value:
        kind = type(item)
        if kind is str:
            text = scalars.get(item)
            append(prefix + (text if text is not None else _string(item, column)) + "\n")
        elif kind is dict or (kind is not list and isinstance(item, dict)):
            if item:
                _emit_mapping(item, column + 2, lines, prefix)
            else:
                append(prefix + "{}\n")
        elif kind is list or isinstance(item, list):
            if item:
                _emit_sequence(item, column + 2, lines, prefix)
            else:
                append(prefix + "[]\n")
        else:
            append(prefix + _scalar(item, column) + "\n")
        prefix = pad


def dump_json(objects: Iterable[dict[str, Any]]) -> str:
    """A Kubernetes `List`, which kubectl and beamkube audit both read."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}, indent=2) + "\n"


def dump(objects: Iterable[dict[str, Any]], fmt: str) -> str:
    return dump_json(objects) if fmt == "json" else dump_yaml(objects)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same directory and an atomic rename."""
    import tempfile  # here: rendering to stdout does not need it (start-up)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None


def object_filename(index: int, obj: dict[str, Any], fmt: str) -> str:
    kind = str(obj.get("kind", "object")).lower()
    name = re.sub(r"[^a-z0-9.-]", "-", str((obj.get("metadata") or {}).get("name", "unnamed")).lower())
    return f"{index:02d}-{kind}-{name}.{'json' if fmt == 'json' else 'yaml'}"


def object_files(objects: list[dict[str, Any]], fmt: str) -> dict[str, str]:
    """File name → text, one file per object, numbered in apply order."""
    return {
        object_filename(index, obj, fmt): json.dumps(obj, indent=2) + "\n" if fmt == "json" else dump_yaml([obj])
        for index, obj in enumerate(objects, start=1)
    }


def write_objects(directory: Path, objects: list[dict[str, Any]], fmt: str) -> list[Path]:
    """One file per object into `directory`, as one transaction that touches only beamkube's own files
    (see `beamkube.outdir`: the record of what was written, staging, rollback)."""
    from beamkube.outdir import app_key, write_set

    return write_set(directory, object_files(objects, fmt), app_key(objects)).written
