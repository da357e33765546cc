"""Reads manifests for the auditor: files, directories (recursive), or `-` for stdin.

Role: file I/O (the only I/O in `beamkube.audit`). Every multi-document YAML or JSON input becomes a list of
`Manifest`s that remember their file and 1-based line (SARIF locations and text output point there);
`kind: List` (and `*List`) documents are flattened into their items, each with its own line. Anything
unreadable raises `AuditInputError` (exit 2) naming the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import yaml

from beamkube.audit.model import Manifest
from beamkube.errors import BeamkubeError

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"

# The C parser when PyYAML has it (about 10x faster on big inputs); marks are kept either way.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AuditInputError(BeamkubeError):
    """An input path or document cannot be read as Kubernetes manifests."""

    exit_code = 2


def load_inputs(paths: Sequence[str], stdin: IO[str] | None = None) -> list[Manifest]:
    """All objects in `paths`, in argument order, directories walked in sorted order."""
    manifests: list[Manifest] = []
    for path in paths:
        if path == STDIN:
            if stdin is None:
                raise AuditInputError("-: no standard input to read")
            manifests.extend(parse_text(stdin.read(), STDIN))
            continue
        for file in _expand(path):
            manifests.extend(parse_text(_read(file), file))
    return manifests


def _expand(path: str) -> list[str]:
    if os.path.isdir(path):
        found: list[str] = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(SUFFIXES))
        return found
    if not os.path.exists(path):
        raise AuditInputError(f"{path}: no such file or directory")
    return [path]


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise AuditInputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AuditInputError(f"{path}:{line}: not UTF-8 text") from None


def parse_text(text: str, source: str) -> list[Manifest]:
    """Every object in one YAML/JSON stream (JSON is read by the YAML parser, so lines are kept too)."""
    out: list[Manifest] = []
    for line, node, data in _documents(text, source):
        if data is None:
            continue  # empty documents (`---` twice, Helm's blank templates)
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or "apiVersion" not in data:
            raise AuditInputError(f"{source}:{line}: not a Kubernetes object (a mapping with apiVersion and kind)")
        kind = data["kind"]
        if kind.endswith("List") and isinstance(data.get("items"), list):
            lines = _item_lines(node, line)
            for index, item in enumerate(data["items"]):
                item_line = lines[index] if index < len(lines) else line
                if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                    raise AuditInputError(f"{source}:{item_line}: List item is not a Kubernetes object")
                out.append(Manifest(item, source, item_line))
            continue
        out.append(Manifest(data, source, line))
    return out


def _documents(text: str, source: str) -> Iterator[tuple[int, yaml.Node, Any]]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            yield node.start_mark.line + 1, node, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context and exc.context_mark is not None and exc.problem:
            problem += f" ({exc.context.strip()} started on line {exc.context_mark.line + 1})"
        raise AuditInputError(f"{where}: invalid YAML/JSON: {problem}") from None
    except yaml.YAMLError as exc:
        raise AuditInputError(f"{source}: invalid YAML/JSON: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()


def _item_lines(node: yaml.Node, default: int) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "items" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
