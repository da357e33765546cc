"""What `beamkube audit PATH...` reads, on several cores when the input is big enough to pay for it.

Role: file I/O (through `loader`) and process management. Reading YAML is the biggest part of auditing
thousands of objects, and files are independent: with `jobs` > 1 and more than `PARALLEL_MIN_BYTES` of input
in two files or more, forked workers read and parse whole files and send back each file's objects (pickled
dicts, ~10x cheaper to move than to parse). The rules then run once in this process over every object, so the
cross-object rules see the whole input and the findings, their order and the report are the serial path's.
Results and errors are taken in argument order: the first error the serial path would meet is the one raised.
A single small file (the pre-commit hook, an editor) never starts a process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

from beamkube.audit.loader import STDIN, AuditInputError, _expand, _read, load_inputs, parse_text
from beamkube.audit.model import Manifest

# Below this, forking and pickling cost more than the second core saves (benchmarks/audit_vs_checkov.py).
PARALLEL_MIN_BYTES = 1 << 20


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def load_paths(paths: Sequence[str], stdin: IO[str] | None, jobs: int = 1, *, freeze: bool = False) -> list[Manifest]:
    """Every object of `paths` in argument order (directories walked in sorted order); a path that holds no
    object is an error, as is any unreadable file or document. `freeze` (for a process that audits once and
    exits) moves everything loaded out of the garbage collector's sight: the objects live to the end anyway,
    and each full collection during the rules would walk all of them again (~10% of the rules' time at 10k)."""
    import gc

    collecting = gc.isenabled()
    # What loading builds is data, not garbage: collections during it would only walk it again and again
    # (0.5 s of the parent's 0.8 s when 10k objects arrive from workers, forked with collection off too).
    gc.disable()
    try:
        manifests = _load_paths(paths, stdin, jobs)
    finally:
        if collecting:
            gc.enable()
    if freeze:
        gc.freeze()
    return manifests


def _load_paths(paths: Sequence[str], stdin: IO[str] | None, jobs: int) -> list[Manifest]:
    plan: list[tuple[str, list[str] | AuditInputError]] = []
    for path in paths:
        if path == STDIN:
            plan.append((path, [path]))
            continue
        try:
            plan.append((path, _expand(path)))
        except AuditInputError as exc:  # raised in its turn, after the paths before it
            plan.append((path, exc))
    files = [file for _path, found in plan if isinstance(found, list) for file in found]
    workers = min(jobs, len(files))
    if workers < 2 or STDIN in paths or _total_bytes(files) < PARALLEL_MIN_BYTES or not _fork_available():
        return _serial(plan, stdin)
    return _parallel(plan, files, workers)


def _parallel(plan: list[tuple[str, list[str] | AuditInputError]], files: list[str], workers: int) -> list[Manifest]:
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.imap(_load_file, files, chunksize=1)
        manifests: list[Manifest] = []
        for path, found in plan:
            if isinstance(found, AuditInputError):
                raise found
            before = len(manifests)
            for file in found:
                manifests.extend(Manifest(obj, file, line) for obj, line in next(results))
            if len(manifests) == before:
                raise _empty(path)
    return manifests


def _serial(plan: list[tuple[str, list[str] | AuditInputError]], stdin: IO[str] | None) -> list[Manifest]:
    manifests: list[Manifest] = []
    for path, found in plan:
        if isinstance(found, AuditInputError):
            raise found
        loaded = load_inputs([path], stdin) if path == STDIN else [m for f in found for m in parse_text(_read(f), f)]
        if not loaded:
            raise _empty(path)
        manifests.extend(loaded)
    return manifests


def _empty(path: str) -> AuditInputError:
    what = "standard input" if path == STDIN else path
    return AuditInputError(f"{what}: no Kubernetes objects (empty file, stream or directory)")


def _load_file(path: str) -> list[tuple[Any, int]]:
    """In a worker: one file's objects with their lines (the parent knows the file)."""
    return [(m.obj, m.line) for m in parse_text(_read(path), path)]


def _total_bytes(files: list[str]) -> int:
    total = 0
    for file in files:
        try:
            total += os.path.getsize(file)
        except OSError:
            continue  # reported, in its turn, when it is read
        if total >= PARALLEL_MIN_BYTES:
            break
    return total


def _fork_available() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
