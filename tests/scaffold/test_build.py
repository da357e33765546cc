"""`beamkube build`: which tool, which commands, which tag; and the Dockerfile steps that need the network only
when the project has dependencies. The real build is in test_image_build.py; this checks the choices, with
git (not beamkube) deciding what the commit is and whether the tree is dirty.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from beamkube.errors import UsageError
from beamkube.scaffold.build import find_tool, image_tag, plan_build
from beamkube.scaffold.detect import detect, read_project
from beamkube.scaffold.dockerfile import choose_versions, dockerfile
from beamkube.scaffold.spec_file import spec_yaml
from beamkube.spec import load_spec_text
from tests.scaffold.helpers import beamkube, init_project
from tests.support.releases import FIXTURES


@pytest.mark.parametrize(
    ("present", "expected"),
    [({"buildah", "podman", "docker"}, "buildah"), ({"podman", "docker"}, "podman"), ({"docker"}, "docker")],
)
def test_the_first_tool_present_builds(present: set[str], expected: str) -> None:
    assert find_tool(None, lambda name: f"/usr/bin/{name}" if name in present else None)[0] == expected


def test_no_tool_or_an_unknown_one_is_a_one_line_error() -> None:
    with pytest.raises(UsageError, match="install buildah or podman"):
        find_tool(None, lambda name: None)
    with pytest.raises(UsageError, match="expected one of buildah, podman, docker"):
        find_tool("kaniko")


def test_commands_per_tool(tmp_path: Path) -> None:
    args = {"dockerfile": tmp_path / "Dockerfile", "context": tmp_path, "build_args": ["A=1"], "push": True}
    buildah = plan_build(("buildah", "/b"), "ghcr.io/acme/shop", "abc", **args, digest_file=tmp_path / "d")
    assert buildah.commands[0][:3] == ("/b", "bud", "--layers") and buildah.commands[0][7:9] == ("--build-arg", "A=1")
    assert buildah.commands[1] == ("/b", "push", "--digestfile", str(tmp_path / "d"), "ghcr.io/acme/shop:abc")
    docker = plan_build(("docker", "/d"), "ghcr.io/acme/shop", "abc", **args)
    assert docker.commands[0][:2] == ("/d", "build") and docker.commands[1] == ("/d", "push", "ghcr.io/acme/shop:abc")
    local = plan_build(("podman", "/p"), "r/x", "1.0", **{**args, "push": False})
    assert len(local.commands) == 1 and local.reference == "r/x:1.0"
    for bad_tag in ("-x", "a" * 129, "a/b"):
        with pytest.raises(UsageError, match="--tag"):
            plan_build(("podman", "/p"), "r/x", bad_tag, **args)
    with pytest.raises(UsageError, match="NAME=VALUE"):
        plan_build(("podman", "/p"), "r/x", "1", **{**args, "build_args": ["novalue"]})


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_the_tag_is_the_commit_dirty_when_changed_else_the_version(tmp_path: Path) -> None:
    assert image_tag(tmp_path, "1.2.3") == "1.2.3"
    with pytest.raises(UsageError, match="--tag"):
        image_tag(tmp_path, None)
    git(tmp_path, "init", "-q")
    (tmp_path / "mix.exs").write_text("x")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    sha = git(tmp_path, "rev-parse", "--short=12", "HEAD")
    assert image_tag(tmp_path, "1.2.3") == sha and len(sha) == 12
    (tmp_path / "mix.exs").write_text("y")
    assert image_tag(tmp_path, "1.2.3") == f"{sha}-dirty"


def test_build_refuses_the_placeholder_image_and_a_missing_dockerfile(tmp_path: Path) -> None:
    project = init_project("mix_app", tmp_path)
    placeholder = beamkube("build", str(project / "beamkube.yaml"))
    assert placeholder.returncode == 2 and "--image" in placeholder.stderr and placeholder.stderr.count("\n") == 1
    missing = beamkube("build", str(project / "beamkube.yaml"), "--image", "ghcr.io/acme/x")
    assert missing.returncode == 2 and "beamkube dockerfile" in missing.stderr and missing.stderr.count("\n") == 1


@pytest.mark.parametrize(("fixture", "hex_steps"), [("mix_app", False), ("init_phoenix", True), ("rebar_app", False)])
def test_hex_steps_and_the_compiler_only_when_the_project_has_dependencies(fixture: str, hex_steps: bool) -> None:
    project = detect(read_project(FIXTURES / fixture))
    spec = load_spec_text(spec_yaml(project))
    text = dockerfile(spec, project, choose_versions(project)[0])
    builder = text.split("FROM debian:")[0]
    if project.tool == "mix":
        assert ("mix local.hex --force" in builder) is hex_steps
        assert ("ARG HEX_MIRROR" in builder) is hex_steps
    assert ("build-essential" in builder) is hex_steps
    # rebar3 comes from a build arg, so an offline build can point it elsewhere.
    if project.tool == "rebar3":
        assert "ARG REBAR3_URL=https://github.com/erlang/rebar3/releases/download/${REBAR3_VERSION}/rebar3" in text
        assert "ADD ${REBAR3_URL} /usr/local/bin/rebar3" in text
