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
from beamkube.audit.split import Part

# Below this, forking and pickling cost more than the second core saves (benchmarks/audit_vs_checkov.py).
PARALLEL_MIN_BYTES = 4 << 20
# A file over twice this is cut into parts of about this size (one big stream, a cluster dump).
PART_BYTES = 1 << 20


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


def parse_jobs(value: str | None) -> int:
    """`--jobs N` (a positive number); absent: `default_jobs()`."""
    if value is None:
        return default_jobs()
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        from beamkube.errors import UsageError

        raise UsageError(f"--jobs {value}: give a number of processes, 1 or more")
    return jobs


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
    if jobs < 2 or STDIN in paths or not _fork_available():
        return _serial(plan, stdin)
    sizes = _sizes(files)
    if sum(sizes) < PARALLEL_MIN_BYTES:
        return _serial(plan, stdin)
    return _parallel(plan, files, sizes, jobs)


def _parallel(
    plan: list[tuple[str, list[str] | AuditInputError]], files: list[str], sizes: list[int], jobs: int
) -> list[Manifest]:
    """Files (big ones cut at document markers into parts, `split`) are read in order: this process takes the
    first parts (a little under its share of the bytes: it also unpickles what the workers send) while
    `jobs - 1` forked workers read the rest; the results are then taken in argument order. A file any of whose
    parts fails is read again whole, here, so its error is the serial path's."""
    import multiprocessing

    from beamkube.audit.split import cut

    cuts = [cut(file, size, PART_BYTES) for file, size in zip(files, sizes, strict=True)]
    parts = [part for file_parts in cuts for part in file_parts]
    part_sizes = [(part.end if part.end >= 0 else size) - part.start
                  for file_parts, size in zip(cuts, sizes, strict=True) for part in file_parts]
    share, own, mine = sum(part_sizes) * 0.9 / jobs, 0, 0
    while mine < len(parts) - 1 and own + part_sizes[mine] <= share:
        own += part_sizes[mine]
        mine += 1
    mine = max(1, mine)
    with multiprocessing.get_context("fork").Pool(jobs - 1) as pool:
        results = pool.imap(_load_part, parts[mine:], chunksize=1)
        manifests: list[Manifest] = []
        index, file_index = 0, 0
        for path, found in plan:
            if isinstance(found, AuditInputError):
                raise found
            before = len(manifests)
            for file in found:
                objects: list[tuple[Any, int]] = []
                failed = False
                for _part in cuts[file_index]:
                    try:
                        objects.extend(_load_part(parts[index]) if index < mine else next(results))
                    except Exception:  # read whole, below, to raise the serial path's error
                        failed = True
                    index += 1
                file_index += 1
                if failed:
                    objects = _load_file(file)
                manifests.extend(Manifest(obj, file, line) for obj, line in objects)
            if len(manifests) == before:
                raise _empty(path)
    return manifests


def _load_part(part: Part) -> list[tuple[Any, int]]:
    from beamkube.audit.split import load_part

    return _load_file(part.path) if part.end < 0 and part.start == 0 else load_part(part)


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
