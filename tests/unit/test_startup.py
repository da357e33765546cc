"""Start-up hygiene: what each command imports, and the fast path's answers are typer's own.

Not timed (benchmarks/startup_bench.py measures). The references are typer/click themselves: the cached root
help must be byte-identical to what the full typer app prints, and routing a command to its own module must
not change a single byte of its help.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from beamkube import __version__
from beamkube.cli import startup

# Prints the modules loaded after `beamkube ARGS` ran in a fresh interpreter started as the console script.
CHILD = """
import json, sys
args = json.loads(sys.argv[1])
sys.argv = ["beamkube", *args]
from beamkube.cli.main import run
try:
    run()
except SystemExit:
    pass
finally:
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""

KUBE_CLIENTS = ("lightkube", "httpx", "httpcore", "kopf", "aiohttp", "kubernetes", "beamkube.kube", "beamkube.ops")
SPEC_AND_RENDER = ("beamkube.spec", "beamkube.render", "beamkube.audit", "beamkube.output", "msgspec", "yaml")
FRAMEWORK = ("typer", "click", "rich")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


def child(*args: str, columns: int = 80) -> tuple[str, set[str]]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True, timeout=60, env=env
    )
    marker = done.stderr.rindex("\nMODULES ")
    return done.stdout, set(json.loads(done.stderr[marker + len("\nMODULES ") :]))


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def typer_says(*args: str, columns: int = 80) -> str:
    """What the full typer app (every module registered) prints, run in a fresh interpreter."""
    code = (
        "import sys\nfrom beamkube.cli.main import app\n"
        f"app({list(args)!r}, prog_name='beamkube', standalone_mode=False)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, check=True
    ).stdout


def test_the_cache_is_current() -> None:
    cache_file = Path(startup.__file__).with_name(startup.CACHE_FILE)
    assert cache_file.read_text(encoding="utf-8") == startup.generate(), (
        f"the start-up cache is stale: run `{startup.REGENERATE}`"
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_framework_spec_or_render_code(args: list[str]) -> None:
    _, modules = child(*args)
    assert loaded(modules, FRAMEWORK + SPEC_AND_RENDER + KUBE_CLIENTS) == []


def test_cached_help_is_what_typer_prints_at_any_width_from_80() -> None:
    expected = typer_says("--help")
    assert expected.startswith("Usage: beamkube [OPTIONS] COMMAND")
    for columns in (80, 200):
        out, modules = child("--help", columns=columns)
        assert out == expected
        assert "typer" not in modules  # served from the cache, not by typer


def test_narrow_terminals_get_typers_own_wrapping() -> None:
    out, modules = child("--help", columns=60)
    assert "typer" in modules
    assert max(len(line) for line in out.splitlines()) <= 58  # click wraps at columns - 2
    assert out != typer_says("--help")


def test_version_is_what_typer_prints() -> None:
    out, _ = child("--version")
    assert out == typer_says("--version") == f"beamkube {__version__}\n"


def test_render_imports_no_kubernetes_client_and_no_other_command_module() -> None:
    out, modules = child("render", "--example", "better-together", "-q")
    assert out.startswith("apiVersion: v1\nkind: ServiceAccount")
    assert loaded(modules, KUBE_CLIENTS) == []
    assert loaded(modules, ("beamkube.audit", "beamkube.operator", "beamkube.scaffold")) == []
    others = {"beamkube.cli." + m for m in ("audit", "ops", "operator", "scaffold", "cluster")}
    assert not others & modules


def test_audit_imports_no_kubernetes_client_spec_models_or_renderer(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT)
    out, modules = child("audit", str(manifest), "-o", "json")
    assert json.loads(out)["findings"]  # it did audit (a bare nginx Deployment has findings)
    assert loaded(modules, KUBE_CLIENTS) == []
    assert loaded(modules, ("beamkube.spec", "beamkube.render.assemble", "beamkube.cli.render")) == []
    # typer 0.29 coerces every option through pydantic (~0.1 s on every start): pyproject keeps typer < 0.29.
    assert loaded(modules, ("pydantic", "pydantic_core")) == []


@pytest.mark.parametrize("command", ["deploy", "status", "destroy", "operator"])
def test_cluster_commands_load_the_kubernetes_client_only_when_they_run(command: str) -> None:
    # 60 columns: too narrow for the cached help, so typer answers with the command's module loaded.
    out, modules = child(command, "--help", columns=60)
    assert out.startswith(f"Usage: beamkube {command} ")
    assert f"beamkube.cli.{startup.module_for([command])}" in modules
    assert loaded(modules, KUBE_CLIENTS) == []


def test_every_command_is_routed_to_the_module_that_defines_it() -> None:
    from beamkube.cli import _startup_cache as cache

    # The full app's command list, from typer: every command has a route, and no route names a stranger.
    listed = [line.split()[0] for line in typer_says("--help").split("Commands:\n", 1)[1].splitlines() if line]
    assert sorted(cache.COMMANDS) == sorted(listed)


def test_every_cached_help_is_what_typer_prints() -> None:
    from beamkube.cli import _startup_cache as cache

    paths = [path.split() for path in cache.HELP]
    assert ["render"] in paths and ["operator", "run"] in paths and [] in paths
    code = (
        "import contextlib, io, json, sys\nfrom beamkube.cli.main import app\nout = {}\n"
        f"for path in {paths!r}:\n"
        "    buffer = io.StringIO()\n"
        "    with contextlib.redirect_stdout(buffer):\n"
        "        app([*path, '--help'], prog_name='beamkube', standalone_mode=False)\n"
        "    out[' '.join(path)] = buffer.getvalue()\n"
        "sys.stdout.write(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    typer_help = json.loads(done.stdout)
    for path in paths:
        out, modules = child(*path, "--help")
        assert out == typer_help[" ".join(path)], path
        assert "typer" not in modules, path


@pytest.mark.parametrize(
    "args",
    [
        ["render", "--example", "better-together", "-q"],
        ["schema"],
        ["crd", "-o", "json"],
        ["operator", "manifests"],
        ["cluster-config", "--example", "better-together"],
        ["render", "--help"],
    ],
)
def test_a_routed_command_does_exactly_what_the_full_app_does(args: list[str]) -> None:
    out, modules = child(*args, columns=60)  # 60 columns: even `--help` goes through typer
    assert out == typer_says(*args, columns=60)
    own = startup.module_for(args)
    assert own is not None
    command_modules = {m for m in modules if m.startswith("beamkube.cli.")} - {"beamkube.cli.main"}
    if args[0] in FAST_COMMANDS and "--help" not in args:  # run from its table, without typer
        assert command_modules == {*STARTUP, "beamkube.cli.fast", "beamkube.cli.echo", f"beamkube.cli.{own}_run"}
    else:  # a typer module imports its typer-free body (render -> render_run), not any other command's module
        body = {f"beamkube.cli.{own}_run", "beamkube.cli.echo", "beamkube.cli.fast"} if own in FAST_COMMANDS else set()
        assert command_modules - body == {*STARTUP, f"beamkube.cli.{own}"}


STARTUP = {"beamkube.cli.startup", "beamkube.cli._startup_cache"}
FAST_COMMANDS = ("render", "audit")


ERRORS_CHILD = """
import json, sys
args, route = json.loads(sys.argv[1])
sys.argv = ["beamkube", *args]
from beamkube.cli import main, startup
if not route:
    startup.module_for = lambda args: None
    startup.run_fast = lambda args: False
main.run()
"""


@pytest.mark.parametrize("args", [["render", "--bogus"], ["operator", "nosuch"], ["audit", "--min-severity", "loud"]])
def test_a_routed_command_fails_exactly_as_the_full_app_does(args: list[str]) -> None:
    def outcome(route: bool) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-c", ERRORS_CHILD, json.dumps([args, route])], capture_output=True, text=True, timeout=60
        )
        return done.returncode, done.stdout, done.stderr

    routed = outcome(True)
    assert routed[0] == 2 and "Traceback" not in routed[2]
    assert routed == outcome(False)


def test_a_stale_cache_falls_back_to_the_full_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startup, "source_digest", lambda: "stale")
    monkeypatch.setattr(sys, "argv", ["beamkube", "--help"])
    assert startup.module_for(["render"]) is None
    assert not startup.serve_fast(["--help"], "0")


def test_only_a_bare_command_path_and_help_is_answered_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from beamkube.cli import _startup_cache as cache

    monkeypatch.setattr(sys, "argv", ["beamkube"])
    monkeypatch.setenv("COLUMNS", "120")
    assert startup.serve_fast(["operator", "run", "--help"], "0")
    assert capsys.readouterr().out == cache.HELP["operator run"]
    for args in (["render", "spec.yaml", "--help"], ["render", "-o", "json", "--help"], ["nope", "--help"], []):
        assert not startup.serve_fast(args, "0"), args
    assert capsys.readouterr().out == ""


def test_unknown_commands_get_clicks_message() -> None:
    assert startup.module_for(["no-such-command"]) is None
    assert startup.module_for(["--verbose", "render"]) is None


def test_the_console_script_takes_the_fast_path() -> None:
    script = Path(sys.executable).with_name("beamkube")
    assert script.exists(), "scripts/install puts the console script next to the interpreter"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": "80", "PYTHONPROFILEIMPORTTIME": "1"}
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0
    assert out.stdout == typer_says("--help")
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "beamkube.cli.main" in imported  # the profile is real
    assert not imported & {"typer", "click", "pydantic", "yaml"}


def test_yaml_goes_through_libyaml_where_pyyaml_has_it() -> None:
    import yaml
    from yaml._yaml import CParser

    from beamkube import output, safe_yaml

    # PyYAML's manylinux wheels bundle libyaml: without it every load and dump is several times slower.
    assert yaml.__with_libyaml__
    assert issubclass(output._Dumper, yaml.CSafeDumper)
    assert all(issubclass(loader, CParser) for loader in safe_yaml.LOADERS.values())
