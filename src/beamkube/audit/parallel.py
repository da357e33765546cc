"""What `beamkube audit PATH...` reads, on several cores when the input is big enough to pay for it.

Role: file I/O (through `loader`) and process management. Reading YAML is the biggest part of auditing
thousands of objects, and files are independent: with `jobs` > 1 and more than `PARALLEL_MIN_BYTES` of input
in two files or more, this process reads the first files while `jobs - 1` forked workers read and parse the
others and send back each file's objects (pickled dicts, ~7x cheaper to move than to parse). Workers are
forked before anything is loaded, so they share no big heap (summed RSS stays near the serial figure). The
rules then run once in this process over every object, so the cross-object rules see the whole input and the
findings, their order and the report are the serial path's. Results and errors are taken in argument order:
the first error the serial path would meet is the one raised. Small inputs (the pre-commit hook, an editor)
never start a process; the default `--jobs` counts only cores the machine is not already busy with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

from beamkube.audit.loader import STDIN, AuditInputError, _expand, _read, load_inputs, parse_text
from beamkube.audit.model import Manifest

# Below this, forking and pickling cost more than the second core saves (benchmarks/audit_vs_checkov.py).
PARALLEL_MIN_BYTES = 4 << 20


def default_jobs() -> int:
    """The cores this process may run on that other processes are not already using (the 1-minute load
    average): on a busy machine a second process only competes with the first for the same core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, round(cores - busy + 0.5)))


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
    if jobs < 2 or len(files) < 2 or STDIN in paths or not _fork_available():
        return _serial(plan, stdin)
    sizes = _sizes(files)
    if sum(sizes) < PARALLEL_MIN_BYTES:
        return _serial(plan, stdin)
    return _parallel(plan, files, sizes, min(jobs, len(files)))


def _parallel(
    plan: list[tuple[str, list[str] | AuditInputError]], files: list[str], sizes: list[int], jobs: int
) -> list[Manifest]:
    """This process reads the first files (a little under its share of the bytes: it also unpickles what the
    workers send) while `jobs - 1` forked workers read the rest in order; the results are then taken in
    argument order."""
    import multiprocessing

    share, own, mine = sum(sizes) * 0.9 / jobs, 0, 0
    while mine < len(sizes) - 1 and own + sizes[mine] <= share:
        own += sizes[mine]
        mine += 1
    mine = max(1, mine)
    with multiprocessing.get_context("fork").Pool(jobs - 1) as pool:
        results = pool.imap(_load_file, files[mine:], chunksize=1)
        manifests: list[Manifest] = []
        index = 0
        for path, found in plan:
            if isinstance(found, AuditInputError):
                raise found
            before = len(manifests)
            for file in found:
                objects = _load_file(file) if index < mine else next(results)
                manifests.extend(Manifest(obj, file, line) for obj, line in objects)
                index += 1
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


def _sizes(files: list[str]) -> list[int]:
    sizes = []
    for file in files:
        try:
            sizes.append(os.path.getsize(file))
        except OSError:
            sizes.append(0)  # reported, in its turn, when it is read
    return sizes


def _fork_available() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
