"""Bundled example specs (`beamkube render --example NAME`).

Role: locates packaged files; no I/O beyond listing the package directory.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def example_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.yaml"))


def example_path(name: str) -> Path:
    from beamkube.errors import UsageError

    path = HERE / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"--example {name!r} is not bundled; choose one of: {', '.join(example_names())}")
    return path
