"""Run the real console entry point (`beamkube.cli.main.run`) in-process and collect what a user would see.

Role: test support; reads/writes only what the calling test gives it (tmp_path files, stdin bytes).
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from beamkube.cli.main import run

HEAD = "name: app\nimage: ghcr.io/acme/app:1.0\n"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def beamkube(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    stdin: bytes = b"",
    cwd: Path | None = None,
) -> Outcome:
    """`beamkube ARGS...` as the console script runs it; the exit code is 0 when run() returns normally."""
    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["beamkube", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def one_line_error(outcome: Outcome, expected: str, code: int = 2) -> None:
    """Exactly `beamkube: <expected>` on stderr, nothing on stdout, the given exit code, no traceback."""
    assert "Traceback" not in outcome.err
    assert outcome.err == f"beamkube: {expected}\n", outcome.err
    assert outcome.out == ""
    assert outcome.code == code


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes (to prove nothing was written or deleted)."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
