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

from beamkube import safe_yaml
from beamkube.audit.model import Manifest
from beamkube.errors import BeamkubeError

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"

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
            manifests.extend(parse_text(_read_stdin(stdin), STDIN))
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


def _read_stdin(stdin: IO[str]) -> str:
    """The bytes behind stdin when there are any (a pipe of binary data must not reach the text decoder)."""
    limit = safe_yaml.MANIFEST_LIMITS.max_bytes
    buffer = getattr(stdin, "buffer", None)
    try:
        if buffer is not None:
            return safe_yaml.decode(buffer.read(limit + 1), STDIN)
        return safe_yaml.check_text(stdin.read(limit + 1), STDIN)
    except safe_yaml.YamlLoadError as exc:
        raise AuditInputError(str(exc)) from None


def _read(path: str) -> str:
    limit = safe_yaml.MANIFEST_LIMITS.max_bytes
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise AuditInputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return safe_yaml.decode(raw, path)
    except safe_yaml.YamlLoadError as exc:
        raise AuditInputError(str(exc)) from None


def parse_text(text: str, source: str, first_line: int = 1) -> list[Manifest]:
    """Every object in one YAML/JSON stream (JSON is read by the YAML parser, so lines are kept too);
    `first_line` > 1 for a part of a stream cut at a document marker (the lines of its objects)."""
    out: list[Manifest] = []
    for line, item_lines, data in _documents(text, source, first_line - 1):
        if data is None:
            continue  # empty documents (`---` twice, Helm's blank templates)
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or "apiVersion" not in data:
            raise AuditInputError(f"{source}:{line}: not a Kubernetes object (a mapping with apiVersion and kind)")
        kind = data["kind"]
        if kind.endswith("List") and isinstance(data.get("items"), list):
            for index, item in enumerate(data["items"]):
                item_line = item_lines[index] if index < len(item_lines) else line
                if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                    raise AuditInputError(f"{source}:{item_line}: List item is not a Kubernetes object")
                out.append(Manifest(item, source, item_line))
            continue
        out.append(Manifest(data, source, line))
    return out


def _documents(text: str, source: str, offset: int = 0) -> Iterator[tuple[int, list[int], Any]]:
    """Through beamkube.safe_yaml's kube schema (its fast path, beamkube.kube_yaml): kubectl's YAML 1.1
    scalars, with its limits on size, depth and aliases."""
    from beamkube.kube_yaml import load_manifest_documents

    try:
        for document in load_manifest_documents(text, source, safe_yaml.MANIFEST_LIMITS):
            if offset:
                yield document.line + offset, [line + offset for line in document.item_lines], document.data
            else:
                yield document.line, document.item_lines, document.data
    except safe_yaml.YamlLoadError as exc:
        message = exc.message.replace("not valid YAML:", "invalid YAML/JSON:") if exc.syntax else exc.message
        where = f"{source}:{exc.line}" if exc.line is not None else source
        raise AuditInputError(f"{where}: {message}") from None

