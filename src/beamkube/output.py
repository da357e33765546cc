"""Serialise rendered objects (YAML/JSON) and write files atomically.

Role: `dump_*` are pure; `write_atomic` and `write_objects` do file I/O. A file is written to a temporary
sibling and renamed into place, so a crash never leaves a half-written manifest.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
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


def dump_yaml(objects: Iterable[dict[str, Any]]) -> str:
    return yaml.dump_all(
        list(objects), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1_000_000, allow_unicode=True
    )


def dump_json(objects: Iterable[dict[str, Any]]) -> str:
    """A Kubernetes `List`, which kubectl and beamkube audit both read."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}, indent=2) + "\n"


def dump(objects: Iterable[dict[str, Any]], fmt: str) -> str:
    return dump_json(objects) if fmt == "json" else dump_yaml(objects)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same directory and an atomic rename."""
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


def write_objects(directory: Path, objects: list[dict[str, Any]], fmt: str) -> list[Path]:
    """One file per object, numbered in apply order. Stale files that beamkube wrote earlier (matching its
    own naming pattern) are removed; any other file in the directory is left alone."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory}: exists and is not a directory")
    written = []
    for index, obj in enumerate(objects, start=1):
        path = directory / object_filename(index, obj, fmt)
        write_atomic(path, json.dumps(obj, indent=2) + "\n" if fmt == "json" else dump_yaml([obj]))
        written.append(path)
    keep = {p.name for p in written}
    for stale in directory.glob("[0-9][0-9]-*"):
        ours = re.fullmatch(r"\d\d-[a-z]+-[a-z0-9.-]+\.(yaml|json)", stale.name) and _written_by_beamkube(stale)
        if stale.name not in keep and ours:
            stale.unlink()
    return written


def _written_by_beamkube(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "app.kubernetes.io/managed-by: beamkube" in text or '"app.kubernetes.io/managed-by": "beamkube"' in text

