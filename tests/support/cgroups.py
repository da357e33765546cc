"""CFS CPU quota and freezing for one pod's processes: what a CPU limit does to a BEAM node, for real.

Role: test support with system I/O (root; cgroup v1 `cpu` and `freezer` hierarchies under /sys/fs/cgroup,
as on these machines). `CpuQuota` moves every process of a pod's network namespace into a new `cpu` cgroup
with `cpu.cfs_quota_us`/`cpu.cfs_period_us` — the kernel then throttles them exactly as the kubelet's limit
does — and reads `cpu.stat` (nr_throttled, throttled_time). `freeze` stops them all at once (the freezer
cgroup), a stand-in for a stall longer than any throttling period. Names carry the test pid
(`bkt-<pid>-...`); processes go back to the root cgroup on exit and the cgroups are removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from tests.support.netns import PREFIX, namespace_pids

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
FREEZER_ROOT = Path("/sys/fs/cgroup/freezer")


def available() -> str | None:
    """None when cgroup v1 cpu quota and freezer can be used here, else the reason."""
    for root, knob in ((CPU_ROOT, "cpu.cfs_quota_us"), (FREEZER_ROOT, "freezer.state")):
        probe = root / f"{PREFIX}-{os.getpid()}-probe"
        try:
            probe.mkdir()
            exists = (probe / knob).exists()
            probe.rmdir()
        except OSError as exc:
            return f"cannot create a cgroup under {root}: {exc}"
        if not exists:
            return f"{root} has no {knob}"
    return None


def _move(pids: list[int], target: Path) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):  # the process may have exited meanwhile
            (target / "cgroup.procs").write_text(str(pid))


@contextlib.contextmanager
def _group(root: Path, netns: str) -> Iterator[tuple[Path, list[int]]]:
    path = root / f"{PREFIX}-{os.getpid()}-{secrets.token_hex(3)}"
    path.mkdir()
    pids = namespace_pids(netns)
    try:
        _move(pids, path)
        yield path, pids
    finally:
        _move([int(p) for p in (path / "cgroup.procs").read_text().split()], root)
        with contextlib.suppress(OSError):
            path.rmdir()


class CpuQuota:
    """A CPU limit of quota_us per period_us on every process of `netns` (see the module docstring)."""

    def __init__(self, netns: str, quota_us: int, period_us: int = 100_000) -> None:
        self.netns, self.quota_us, self.period_us = netns, quota_us, period_us
        self._stack = contextlib.ExitStack()
        self.path: Path | None = None

    def __enter__(self) -> CpuQuota:
        self.path, _ = self._stack.enter_context(_group(CPU_ROOT, self.netns))
        (self.path / "cpu.cfs_period_us").write_text(str(self.period_us))
        (self.path / "cpu.cfs_quota_us").write_text(str(self.quota_us))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def stat(self) -> dict[str, int]:
        assert self.path is not None
        pairs = (line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return {key: int(value) for key, value in pairs}


@contextlib.contextmanager
def frozen(netns: str) -> Iterator[None]:
    """Every process of `netns` stopped (freezer cgroup FROZEN) for the duration of the block."""
    with _group(FREEZER_ROOT, netns) as (path, _):
        (path / "freezer.state").write_text("FROZEN")
        try:
            yield
        finally:
            (path / "freezer.state").write_text("THAWED")
