"""`beamkube ci github`: valid Actions structure, and every beamkube command it runs exists and parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from beamkube.cli.main import app
from tests.scaffold.helpers import beamkube, init_project


def workflow_of(fixture: str, tmp_path: Path, *init_args: str) -> tuple[dict[Any, Any], str, Path]:
    project = init_project(fixture, tmp_path, *init_args)
    result = beamkube("ci", "github", str(project / "beamkube.yaml"))
    assert result.returncode == 0, result.stderr
    path = project / ".github" / "workflows" / "beamkube.yml"
    text = path.read_text()
    return yaml.safe_load(text), text, project


def beamkube_invocations(run: str) -> list[list[str]]:
    """Each `beamkube ...` command line in a `run:` script, as argv after `beamkube` (up to a redirect/pipe)."""
    found = []
    for line in run.splitlines():
        words = shlex.split(line, comments=True)
        if "beamkube" in words:
            args = words[words.index("beamkube") + 1 :]
            cut = next((i for i, w in enumerate(args) if w in {">", "|", "&&", ";", "2>&1"} or w.startswith(">")), None)
            found.append(args[:cut])
    return found


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("fixture", ["mix_app", "rebar_app"])
def test_actions_structure(fixture: str, tmp_path: Path) -> None:
    workflow, _, _ = workflow_of(fixture, tmp_path)
    # PyYAML (YAML 1.1) reads the bare key `on` as True; GitHub reads it as "on".
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    assert set(triggers) == {"push", "pull_request"} and triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert list(jobs) == ["test", "image", "deploy"]
    assert jobs["image"]["needs"] == "test" and jobs["deploy"]["needs"] == "image"
    for name, job in jobs.items():
        assert job["runs-on"].startswith("ubuntu-"), name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step  # exactly one of them
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    for gated in ("image", "deploy"):
        assert "github.event_name == 'push'" in jobs[gated]["if"]  # pull requests never push or deploy
    assert jobs["image"]["permissions"]["packages"] == "write"
    assert workflow["permissions"] == {"contents": "read"}


def test_image_is_built_by_beamkube_build_tagged_with_the_commit_and_deployed_by_digest(tmp_path: Path) -> None:
    workflow, text, _ = workflow_of("mix_app", tmp_path)
    image = workflow["jobs"]["image"]
    build = next(s for s in image["steps"] if s.get("id") == "build")
    [argv] = beamkube_invocations(build["run"])
    assert argv[0] == "build" and "--push" in argv
    assert argv[argv.index("--tag") + 1] == "$GITHUB_SHA" and argv[argv.index("--image") + 1] == "$IMAGE"
    assert 'echo "ref=$(cat "$RUNNER_TEMP/image-ref")" >> "$GITHUB_OUTPUT"' in build["run"]
    assert image["outputs"]["ref"] == "${{ steps.build.outputs.ref }}"
    deploy_step = workflow["jobs"]["deploy"]["steps"][-1]
    [deploy] = beamkube_invocations(deploy_step["run"])
    assert deploy[0] == "deploy" and deploy[deploy.index("--image") + 1] == "$IMAGE_REF"
    assert deploy_step["env"]["IMAGE_REF"] == "${{ needs.image.outputs.ref }}"
    assert workflow["env"]["IMAGE"] == "ghcr.io/${{ github.repository }}"  # the spec's image was a placeholder
    assert not any(s.get("uses", "").startswith("docker/build-push") for s in image["steps"])
    # ghcr.io from a (possibly private) repository: how the cluster pulls is spelled out.
    assert "imagePullSecrets" in text and "docker-registry ghcr-pull" in text


def test_the_command_says_when_the_dockerfile_the_image_job_builds_is_missing(tmp_path: Path) -> None:
    project = init_project("mix_app", tmp_path)
    without = beamkube("ci", "github", str(project / "beamkube.yaml"))
    assert without.returncode == 0 and "no Dockerfile yet" in without.stdout and "ghcr-pull" in without.stdout
    assert beamkube("dockerfile", str(project / "beamkube.yaml")).returncode == 0
    again = beamkube("ci", "github", str(project / "beamkube.yaml"), "--force")
    assert again.returncode == 0 and "no Dockerfile yet" not in again.stdout


@pytest.mark.parametrize(("fixture", "postgres"), [("init_phoenix", True), ("mix_app", False), ("rebar_app", False)])
def test_a_postgres_service_runs_beside_mix_test_when_the_app_uses_ecto(
    fixture: str, postgres: bool, tmp_path: Path
) -> None:
    workflow, _, _ = workflow_of(fixture, tmp_path)
    services = workflow["jobs"]["test"].get("services", {})
    assert ("postgres" in services) is postgres
    if postgres:
        service = services["postgres"]
        # Phoenix's generated config/test.exs: username/password "postgres" on localhost:5432.
        assert service["env"] == {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "postgres"}
        assert service["ports"] == ["5432:5432"] and "pg_isready" in service["options"]


def test_every_beamkube_command_exists_and_its_options_parse(tmp_path: Path) -> None:
    cli = typer.main.get_command(app)
    commands: dict[str, Any] = getattr(cli, "commands")  # noqa: B009 (typer vendors click: no isinstance check)
    called = []
    for fixture in ("mix_app", "rebar_app"):
        workflow, _, project = workflow_of(fixture, tmp_path / fixture)
        for step in steps(workflow):
            for argv in beamkube_invocations(step.get("run", "")):
                called.append(argv[0])
                command = commands.get(argv[0])
                assert command is not None, f"the workflow runs `beamkube {argv[0]}`, which the CLI does not have"
                # click parses (and rejects unknown options or missing values) without running the command.
                command.make_context(f"beamkube {argv[0]}", list(argv[1:]), resilient_parsing=False)
                spec_args = [a for a in argv[1:] if a.endswith(".yaml")]
                assert all((project / a).is_file() for a in spec_args)  # paths are relative to the repository
    assert {"render", "build", "deploy"} <= set(called)


def test_registry_login_follows_the_spec_image_and_secrets_stay_out_of_scripts(tmp_path: Path) -> None:
    workflow, text, _ = workflow_of("rebar_app", tmp_path, "--image", "registry.acme.io:5000/team/kv:3.1")
    assert workflow["env"]["IMAGE"] == "registry.acme.io:5000/team/kv"
    login = next(s for s in workflow["jobs"]["image"]["steps"] if s.get("uses", "").startswith("docker/login"))
    assert login["with"]["registry"] == "registry.acme.io:5000"
    assert login["with"]["password"] == "${{ secrets.REGISTRY_PASSWORD }}"
    for step in steps(workflow):
        assert "secrets." not in step.get("run", ""), step  # secrets reach scripts only through env
    assert "rebar3 do eunit, ct" in text and "rebar3-version" in text


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    _, text, project = workflow_of("mix_app", tmp_path)
    again = beamkube("ci", "github", str(project / "beamkube.yaml"))
    assert again.returncode == 2 and "--force" in again.stderr and again.stderr.count("\n") == 1
    forced = beamkube("ci", "github", str(project / "beamkube.yaml"), "--force", "--branch", "release")
    assert forced.returncode == 0
    assert "refs/heads/release" in (project / ".github/workflows/beamkube.yml").read_text() != text
