"""Helpers for the scaffold tests: the console script and fixture copies.

Role: test support (subprocesses, temp files).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.releases import FIXTURES

BEAMKUBE = [sys.executable, "-m", "beamkube.cli.main"]


def beamkube(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script (so `run()`'s one-line error handling is part of what is tested)."""
    return subprocess.run([*BEAMKUBE, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("_build", "deps", "beamkube.yaml"))
    return target


def init_project(name: str, dest: Path, *extra: str) -> Path:
    """A copy of fixture `name` with a beamkube.yaml written by `beamkube init`."""
    project = copy_fixture(name, dest)
    result = beamkube("init", str(project), *extra)
    assert result.returncode == 0, result.stderr
    return project
