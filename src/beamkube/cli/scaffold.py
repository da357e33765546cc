"""Commands `init`, `dockerfile` and `ci github`: from a mix/rebar3 project to a spec, an image and a pipeline.

Role: I/O edge. Detection reads the project; generators are pure (`beamkube.scaffold.*`); files are written
atomically (`beamkube.output.write_atomic`) and never overwritten without `--force`. What was guessed and
why is printed, so a wrong guess is visible before anything is deployed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # annotations only: the CLI imports nothing heavy at start-up
    from beamkube.scaffold.detect import Project
    from beamkube.spec.model import AppSpec

ci_app = typer.Typer(
    name="ci", help="Generate CI pipelines that test, build and deploy with beamkube.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
    app.command("dockerfile")(dockerfile_command)
    app.command("build")(build_command)
    ci_app.command("github")(ci_github_command)
    app.add_typer(ci_app, name="ci")


def _refuse_existing(paths: list[Path], force: bool) -> None:
    from beamkube.errors import UsageError

    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} already exists; use --force to overwrite")


def init_command(
    directory: Path = typer.Argument(Path("."), metavar="[DIR]", help="The mix or rebar3 project."),
    image: str | None = typer.Option(None, "--image", help="Container image (default: a placeholder to edit)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing beamkube.yaml."),
) -> None:
    """Detect a mix or rebar3 project and write a commented beamkube.yaml."""
    from beamkube.output import write_atomic
    from beamkube.scaffold.detect import detect, read_project
    from beamkube.scaffold.spec_file import spec_yaml

    target = directory / "beamkube.yaml"
    _refuse_existing([target], force)
    project = detect(read_project(directory))
    text = spec_yaml(project, image=image)
    typer.echo(f"beamkube init: {project.tool} project {project.app} in {directory}")
    width = max(len(g.what) for g in project.guesses)
    value_width = min(28, max(len(g.value) for g in project.guesses))
    for guess in project.guesses:
        typer.echo(f"  {guess.what.ljust(width)}  {guess.value.ljust(value_width)}  {guess.why}")
    write_atomic(target, text)
    typer.echo(f"wrote {target}; next: `beamkube dockerfile`, `beamkube render`, `beamkube ci github`")


def _load(spec_path: Path, project_dir: Path | None) -> tuple[AppSpec, Project, Path]:
    from beamkube.scaffold.detect import detect, read_project
    from beamkube.spec import load_spec

    spec = load_spec(spec_path)
    root = project_dir if project_dir is not None else spec_path.parent
    return spec, detect(read_project(root)), root


def dockerfile_command(
    spec_path: Path = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec."),
    project_dir: Path | None = typer.Option(None, "--project", help="Project directory (default: the spec's)."),
    elixir: str | None = typer.Option(None, "--elixir", help="Exact Elixir version for the builder image."),
    otp: str | None = typer.Option(None, "--otp", help="Exact Erlang/OTP version for the builder image."),
    debian: str | None = typer.Option(None, "--debian", help="Debian tag shared by builder and runtime."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing Dockerfile/.dockerignore."),
    stdout: bool = typer.Option(False, "--stdout", help="Print the Dockerfile instead of writing files."),
) -> None:
    """Write a multi-stage Dockerfile and .dockerignore that match the rendered manifests."""
    from beamkube.output import write_atomic
    from beamkube.scaffold.dockerfile import choose_versions, dockerfile, dockerignore

    spec, project, root = _load(spec_path, project_dir)
    versions, notes = choose_versions(project, elixir=elixir, otp=otp, debian=debian)
    text = dockerfile(spec, project, versions)
    if stdout:
        typer.echo(text, nl=False)
        return
    targets = [root / "Dockerfile", root / ".dockerignore"]
    _refuse_existing(targets, force)
    for note in notes:
        typer.echo(f"  {note}")
    write_atomic(targets[0], text)
    write_atomic(targets[1], dockerignore(project))
    typer.echo(f"wrote {targets[0]} and {targets[1]} (release {spec.release_name} at {spec.release.root})")


def ci_github_command(
    spec_path: Path = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec."),
    project_dir: Path | None = typer.Option(None, "--project", help="Repository root (default: the spec's dir)."),
    branch: str = typer.Option("main", "--branch", help="Pushes to this branch deploy."),
    elixir: str | None = typer.Option(None, "--elixir", help="Exact Elixir version for the test job."),
    otp: str | None = typer.Option(None, "--otp", help="Exact Erlang/OTP version for the test job."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing workflow."),
    stdout: bool = typer.Option(False, "--stdout", help="Print the workflow instead of writing it."),
) -> None:
    """Write a GitHub Actions workflow: test, build and push an image per commit, then `beamkube deploy`."""
    import os

    from beamkube.output import write_atomic
    from beamkube.scaffold.ci import WORKFLOW_PATH, image_repository, pull_secret_guidance, registry_host, workflow
    from beamkube.scaffold.dockerfile import choose_versions

    spec, project, root = _load(spec_path, project_dir)
    versions, _ = choose_versions(project, elixir=elixir, otp=otp)
    relative = os.path.relpath(spec_path.resolve(), root.resolve()).replace(os.sep, "/")
    text = workflow(spec, project, versions, spec_path=relative, branch=branch)
    if stdout:
        typer.echo(text, nl=False)
        return
    target = root / WORKFLOW_PATH
    _refuse_existing([target], force)
    write_atomic(target, text)
    typer.echo(f"wrote {target}; add the KUBECONFIG repository secret, then push to {branch} to deploy")
    if not (root / "Dockerfile").is_file():
        typer.echo("no Dockerfile yet: the image job runs `beamkube build`; write it (beamkube dockerfile), commit it")
    repository = image_repository(spec.image)
    host = "ghcr.io" if registry_host(repository) == "registry.example.com" else registry_host(repository)
    for line in pull_secret_guidance(spec, host):
        typer.echo(line)


def build_command(
    spec_path: Path = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec."),
    project_dir: Path | None = typer.Option(None, "--project", help="Project directory (default: the spec's)."),
    push: bool = typer.Option(False, "--push", help="Push the image after building it."),
    tag: str | None = typer.Option(None, "--tag", help="Image tag (default: git commit, else release version)."),
    image: str | None = typer.Option(None, "--image", help="Image repository (default: the spec's image)."),
    tool: str | None = typer.Option(None, "--tool", help="buildah, podman or docker (default: the first found)."),
    dockerfile_path: Path | None = typer.Option(None, "--file", help="Dockerfile (default: <project>/Dockerfile)."),
    build_arg: list[str] = typer.Option([], "--build-arg", help="NAME=VALUE passed to the build (repeatable)."),
) -> None:
    """Build the image from the project's Dockerfile (and push it); prints the reference for `deploy --image`."""
    import tempfile

    from beamkube.errors import UsageError
    from beamkube.scaffold.build import find_tool, image_tag, plan_build, run_build
    from beamkube.scaffold.ci import PLACEHOLDER_REGISTRY, image_repository, registry_host
    from beamkube.scaffold.dockerfile import check_matches

    spec, project, root = _load(spec_path, project_dir)
    check_matches(spec, project)
    repository = image_repository(image or spec.image)
    if registry_host(repository) == PLACEHOLDER_REGISTRY:
        raise UsageError(f"image {spec.image!r} is the `beamkube init` placeholder; pass --image <registry>/<name>")
    dockerfile = dockerfile_path or root / "Dockerfile"
    if not dockerfile.is_file():
        raise UsageError(f"{dockerfile}: no Dockerfile; write it with `beamkube dockerfile` first")
    with tempfile.TemporaryDirectory(prefix="beamkube-build-") as scratch:
        plan = plan_build(
            find_tool(tool),
            repository,
            tag or image_tag(root, project.version),
            dockerfile=dockerfile,
            context=root,
            build_args=build_arg,
            push=push,
            digest_file=Path(scratch) / "digest",
        )
        reference = run_build(plan, lambda line: typer.echo(line, err=True))
    typer.echo(reference)
