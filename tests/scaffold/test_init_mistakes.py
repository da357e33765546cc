"""`beamkube init` warns, with the fix, about project files that would undo or break what the pods need:
env scripts overriding the node name/cookie, a vm.args beamkube replaces, Mnesia/Khepri/Ra in a stateless
Deployment, a Phoenix endpoint that never starts. One test builds a real `mix release` to show that the
script's export does win over the pod's environment (the reason for the first warning).

Role: tests; copies fixture projects to tmp_path and runs the real console script (and, marked slow, mix).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.scaffold.helpers import beamkube, copy_fixture
from tests.support.beam import build_mix_release
from tests.support.ci import in_ci


def _init_warnings(project: Path) -> list[str]:
    result = beamkube("init", str(project), "--force")
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("warning")]


def test_env_script_exports_are_warned_with_the_fix(tmp_path: Path) -> None:
    project = copy_fixture("mix_app", tmp_path)
    (project / "rel").mkdir()
    (project / "rel" / "env.sh.eex").write_text(
        "#!/bin/sh\n"
        "# export RELEASE_DISTRIBUTION=name   (a comment: not a warning)\n"
        "export RELEASE_DISTRIBUTION=name\n"
        "export RELEASE_NODE=$FLY_APP_NAME@$(hostname -i)\n"
        'ERL_AFLAGS="-proto_dist inet6_tcp"; export ERL_AFLAGS\n'
    )
    warnings = _init_warnings(project)
    for var in ("RELEASE_DISTRIBUTION", "RELEASE_NODE", "ERL_AFLAGS"):
        assert any(f"rel/env.sh.eex sets {var}" in w and "delete that line" in w for w in warnings), warnings
    assert not any("RELEASE_COOKIE" in w for w in warnings)


def test_user_vm_args_is_warned_with_the_lines_to_move(tmp_path: Path) -> None:
    project = copy_fixture("mix_app", tmp_path)
    (project / "rel").mkdir()
    (project / "rel" / "vm.args.eex").write_text("## comment\n-name <%= @release.name %>@127.0.0.1\n+K true\n+A 64\n")
    warnings = _init_warnings(project)
    line = next(w for w in warnings if "rel/vm.args.eex is replaced" in w)
    assert "release.vmArgs" in line and "+K true, +A 64" in line and "-name" not in line.split("vmArgs")[-1]


def test_relx_vm_args_src_is_warned(tmp_path: Path) -> None:
    project = copy_fixture("rebar_app", tmp_path)
    config = project / "rebar.config"
    config.write_text(config.read_text().replace("{relx, [", '{relx, [{vm_args_src, "config/vm.args.src"},', 1))
    (project / "config").mkdir(exist_ok=True)
    (project / "config" / "vm.args.src").write_text("-sname rebar_app\n-setcookie ${COOKIE}\n+sbwt none\n")
    warnings = _init_warnings(project)
    assert any("config/vm.args.src is replaced" in w and "+sbwt none" in w for w in warnings), warnings


def test_mnesia_in_a_stateless_app_is_warned(tmp_path: Path) -> None:
    project = copy_fixture("mix_app", tmp_path)
    (project / "lib" / "store.ex").write_text(
        "defmodule Store do\n  def init, do: :mnesia.create_schema([node()])\nend\n"
    )
    warnings = _init_warnings(project)
    assert any("mnesia with a Deployment" in w and "identity: stable" in w for w in warnings), warnings


def test_phoenix_without_server_or_phx_server_is_warned(tmp_path: Path) -> None:
    project = copy_fixture("init_phoenix", tmp_path)
    runtime = project / "config" / "runtime.exs"
    text = runtime.read_text()
    start = text.index('if System.get_env("PHX_SERVER")')
    runtime.write_text(text[:start] + text[text.index("end", start) + 3 :])  # phx.gen.release's check, gone
    prod = project / "config" / "prod.exs"
    prod.write_text(prod.read_text().replace("server: true", "server: false"))
    warnings = _init_warnings(project)
    assert any("Phoenix endpoint off" in w and "mix phx.gen.release" in w for w in warnings), warnings


def test_the_bundled_fixtures_raise_no_false_warnings(tmp_path: Path) -> None:
    for name in ("mix_app", "init_phoenix", "init_libcluster", "rebar_app"):
        assert _init_warnings(copy_fixture(name, tmp_path / name)) == [], name


@pytest.mark.slow
@pytest.mark.erlang
def test_a_real_release_lets_env_sh_override_the_pod_env(tmp_path: Path) -> None:
    """mix's start script sources rel/env.sh.eex after the environment it was given: the pod's RELEASE_NODE
    loses, which is why `init` warns."""
    if shutil.which("mix") is None:
        if in_ci():
            pytest.fail("mix is needed (scripts/install-system)")
        pytest.skip("mix is not installed")
    project = copy_fixture("mix_app", tmp_path)
    (project / "rel").mkdir()
    (project / "rel" / "env.sh.eex").write_text("#!/bin/sh\nexport RELEASE_NODE=from_script@127.0.0.1\n")
    release = build_mix_release(project)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RELEASE_NODE": "from_pod@10.0.0.7"}
    result = subprocess.run(
        [str(release / "bin" / "mix_app"), "eval", 'IO.puts(System.get_env("RELEASE_NODE"))'],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "from_script@127.0.0.1"
