"""The fast path end to end: `render` and `audit` run without typer or click, and do exactly what typer does.

Subprocesses started as the console script: the modules loaded (no CLI framework), and for ordinary and
failing command lines the exit code, stdout and stderr compared byte for byte with the same command line
forced through the typer app. tests/unit/test_fast.py checks the parser itself against typer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_startup import DEPLOYMENT, FRAMEWORK, child, loaded


@pytest.mark.parametrize(
    "args", [["render", "--example", "better-together"], ["render", "--example", "erlang-kv", "-o", "json", "-q"],
             ["audit", "DEPLOYMENT"], ["audit", "DEPLOYMENT", "-o", "sarif", "--min-severity", "error"]]
)
def test_render_and_audit_import_no_cli_framework(args: list[str], tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT)
    out, modules = child(*[str(manifest) if arg == "DEPLOYMENT" else arg for arg in args])
    assert out.startswith(("apiVersion: v1\nkind: ServiceAccount", "{", "Deployment/shop/web"))
    assert loaded(modules, FRAMEWORK) == []
    assert "beamkube.cli.fast" in modules


FORCED_CHILD = """
import json, sys
args, fast = json.loads(sys.argv[1])
sys.argv = ["beamkube", *args]
from beamkube.cli import main, startup
if not fast:
    startup.run_fast = lambda args: False
main.run()
"""


@pytest.mark.parametrize(
    "args",
    [
        ["render", "--example", "better-together"],
        ["render", "--example", "erlang-kv", "--kube-version", "1.21"],
        ["render", "--example", "nope"],
        ["render", "MISSING", "--example", "erlang-kv"],
        ["render", "MISSING"],
        ["render", "--example", "erlang-kv", "--format", "zip"],
        ["audit", "DEPLOYMENT"],
        ["audit", "DEPLOYMENT", "-o", "json", "--min-severity", "error"],
        ["audit", "DEPLOYMENT", "--color"],
        ["audit", "MISSING"],
        ["audit"],
        ["audit", "--enable", "BK999", "DEPLOYMENT"],
        ["audit", "-n", "shop", "DEPLOYMENT"],
    ],
)
def test_the_fast_path_does_exactly_what_typer_does(args: list[str], tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT)
    names = {"DEPLOYMENT": str(manifest), "MISSING": str(tmp_path / "missing.yaml")}
    argv = [names.get(arg, arg) for arg in args]

    def outcome(fast: bool) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-c", FORCED_CHILD, json.dumps([argv, fast])], capture_output=True, text=True, timeout=60
        )
        return done.returncode, done.stdout, done.stderr

    fast = outcome(True)
    assert "Traceback" not in fast[2]
    assert fast == outcome(False)


def test_a_broken_pipe_ends_quietly_with_exit_1() -> None:
    # `beamkube render | head -1` on the fast path: click's own handling (exit 1, no traceback).
    code = "import sys; sys.argv = ['beamkube', 'render', '--example', 'better-together', '-q']\n" \
           "from beamkube.cli.main import run\nrun()\n"
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    done = subprocess.run([sys.executable, "-c", code], stdout=reader.stdin, stderr=subprocess.PIPE, timeout=60)
    reader.communicate()
    assert "Traceback" not in done.stderr.decode()
    assert done.returncode in (0, 1)  # 0 when the whole output fit in the pipe before head closed it
