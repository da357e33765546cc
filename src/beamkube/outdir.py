"""`render --out DIR`: write one app's files into a directory that may hold other things, as one transaction.

Role: file I/O. Rules:
- beamkube records what it wrote, per app, in `DIR/.beamkube-files` (JSON; no .yaml/.json suffix, so neither
  `kubectl apply -f DIR` nor `beamkube audit DIR` reads it). A file is beamkube's only if that record names it
  for the same app; every other file is the user's or another app's and is never overwritten or deleted.
- Files of an earlier render of the same app that the new set no longer has are removed, but only when their
  content is still what beamkube wrote (a file the user edited since is left, with a warning).
- The new set is written and fsynced in a staging directory inside DIR first; only then is each file renamed
  into place (the previous versions kept as hard links), so a failure while writing leaves the previous set
  untouched and a failure while renaming puts the previous files back.
- Before the record existed, beamkube recognised its files by name and labels; such a file is adopted only
  when its name has beamkube's pattern and its labels name the same app (managed-by beamkube, same instance
  and namespace).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beamkube.errors import OutputError

RECORD = ".beamkube-files"
STAGING_PREFIX = ".beamkube-staging-"
OWN_NAME = re.compile(r"\d\d-[a-z]+-[a-z0-9.-]+\.(yaml|json)")


@dataclass
class Outcome:
    written: list[Path]
    removed: list[Path] = field(default_factory=list)
    kept_edited: list[Path] = field(default_factory=list)


def app_key(objects: list[dict[str, Any]]) -> str:
    """`namespace/name` of the app the objects belong to (from beamkube's own labels)."""
    for obj in objects:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels") or {}
        instance = labels.get("app.kubernetes.io/instance")
        if isinstance(instance, str):
            return f"{metadata.get('namespace', 'default')}/{instance}"
    return "default/unnamed"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_set(directory: Path, files: dict[str, str], app: str) -> Outcome:
    """Write `files` (name → text) for `app` into `directory`, as described in the module docstring."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory}: exists and is not a directory")
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot create the directory ({exc.strerror})") from None
    try:
        return _write_set(directory, files, app)
    except OutputError:
        if created:  # a directory this call made stays only if the render landed in it
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _write_set(directory: Path, files: dict[str, str], app: str) -> Outcome:
    record = _read_record(directory)
    previous: dict[str, str] = dict(record.get(app, {}))
    _adopt_legacy(directory, files, app, previous, record)
    _refuse_foreign(directory, files, app, previous, record)
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    staging = _stage(directory, encoded)
    try:
        _commit(directory, staging, encoded)
        record[app] = {name: digest(data) for name, data in encoded.items()}
        _write_record(directory, record)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    outcome = Outcome(written=[directory / name for name in files])
    for name, recorded in sorted(previous.items()):
        if name in files:
            continue
        path = directory / name
        try:
            current = path.read_bytes()
        except OSError:
            continue  # already gone
        if digest(current) == recorded:
            path.unlink(missing_ok=True)
            outcome.removed.append(path)
        else:
            outcome.kept_edited.append(path)
    return outcome


def _read_record(directory: Path) -> dict[str, dict[str, str]]:
    path = directory / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError):
        raise OutputError(f"{path}: beamkube's record of the files it wrote is unreadable; remove it") from None
    apps = data.get("apps") if isinstance(data, dict) else None
    if not isinstance(apps, dict) or not all(
        isinstance(files, dict) and all(isinstance(v, str) for v in files.values()) for files in apps.values()
    ):
        raise OutputError(f"{path}: beamkube's record of the files it wrote is not in its format; remove it")
    return {str(app): {str(k): str(v) for k, v in files.items()} for app, files in apps.items()}


def _write_record(directory: Path, record: dict[str, dict[str, str]]) -> None:
    from beamkube.output import write_atomic

    text = json.dumps({"version": 1, "apps": dict(sorted(record.items()))}, indent=2, sort_keys=True) + "\n"
    write_atomic(directory / RECORD, text)


def _owner(name: str, app: str, record: dict[str, dict[str, str]]) -> str | None:
    for other, files in record.items():
        if other != app and name in files:
            return other
    return None


def _adopt_legacy(
    directory: Path, files: dict[str, str], app: str, previous: dict[str, str], record: dict[str, dict[str, str]]
) -> None:
    """Files an older beamkube wrote for this app (before the record): same name pattern and same labels."""
    namespace, _, instance = app.partition("/")
    marks = ("app.kubernetes.io/managed-by: beamkube", f"app.kubernetes.io/instance: {instance}")
    json_marks = ('"app.kubernetes.io/managed-by": "beamkube"', f'"app.kubernetes.io/instance": "{instance}"')
    for path in sorted(directory.iterdir()) if not record else []:
        if not OWN_NAME.fullmatch(path.name) or not path.is_file() or path.name in previous:
            continue
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        ours = all(m in text for m in marks) or all(m in text for m in json_marks)
        same_namespace = f"namespace: {namespace}" in text or f'"namespace": "{namespace}"' in text
        if ours and same_namespace:
            previous[path.name] = digest(data)


def _refuse_foreign(
    directory: Path, files: dict[str, str], app: str, previous: dict[str, str], record: dict[str, dict[str, str]]
) -> None:
    for name in files:
        path = directory / name
        if name in previous or not (path.exists() or path.is_symlink()):
            continue
        other = _owner(name, app, record)
        whose = f"beamkube wrote it for app {other}" if other else "beamkube did not write it"
        raise OutputError(
            f"{path}: exists and {whose}; it is left alone (remove it, or render into another --out directory)"
        )


def _stage(directory: Path, encoded: dict[str, bytes]) -> Path:
    """Every file written and fsynced in a staging directory; on failure nothing in `directory` changed."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=directory))
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write ({exc.strerror})") from None
    try:
        for name, data in encoded.items():
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(staging / name, 0o644)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{directory}: cannot write ({exc.strerror}); the previous files are unchanged") from None
    return staging


def _commit(directory: Path, staging: Path, encoded: dict[str, bytes]) -> None:
    """Rename the staged files into place; on failure put back what was there before."""
    backup = staging / ".previous"
    backup.mkdir()
    done: list[str] = []
    try:
        for name in encoded:
            target = directory / name
            if target.exists():
                os.link(target, backup / name)
            os.replace(staging / name, target)
            done.append(name)
    except OSError as exc:
        for name in reversed(done):
            kept = backup / name
            if kept.exists():
                os.replace(kept, directory / name)
            else:
                (directory / name).unlink(missing_ok=True)
        raise OutputError(f"{directory}: cannot write ({exc.strerror}); the previous files are back") from None
