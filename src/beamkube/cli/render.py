"""`beamkube render` and `beamkube schema`: spec → manifests, and the spec's JSON Schema.

Role: I/O edge (reads the spec, writes stdout/files, the summary on stderr).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer


class Format(str, Enum):
    yaml = "yaml"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
    app.command("schema")(schema_command)


def render_command(
    spec_path: Path | None = typer.Argument(
        None, metavar="[SPEC]", help="The app spec (default beamkube.yaml); - reads it from stdin."
    ),
    output: Format = typer.Option(Format.yaml, "-o", "--output", help="Output format."),
    out: Path | None = typer.Option(None, "--out", help="Write one file per object into this directory."),
    kube_version: str = typer.Option("1.33", "--kube-version", help="Target Kubernetes minor version (X.Y)."),
    cookie_file: Path | None = typer.Option(
        None, "--cookie-file", help="Render the cookie Secret from this file (GitOps); never printed elsewhere."
    ),
    example: str | None = typer.Option(None, "--example", help="Render a bundled example instead of SPEC."),
    gitops_format: str | None = typer.Option(
        None, "--format", metavar="kustomize|helm", help="With --out: a Kustomize base or a Helm chart (GitOps)."
    ),
    cookie_from: str | None = typer.Option(
        None,
        "--cookie-from",
        metavar="external:KIND/STORE[#KEY]|sealed:FILE",
        help="GitOps cookie: an ExternalSecret from a secret store, or your SealedSecret file.",
    ),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary on stderr."),
) -> None:
    """Render the app spec into Kubernetes manifests, in apply order."""
    from beamkube.errors import UsageError
    from beamkube.examples import example_path
    from beamkube.output import dump
    from beamkube.render import parse_kube_version, render
    from beamkube.spec import load_spec
    from beamkube.versions import check_kube_version

    try:
        check_kube_version(kube_version)
        version = parse_kube_version(kube_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if example and spec_path is not None:
        raise UsageError(f"give either SPEC ({spec_path}) or --example {example}, not both")
    path = example_path(example) if example else (spec_path or Path("beamkube.yaml"))
    spec = load_spec(path, stdin=sys.stdin.buffer) if str(path) == "-" else load_spec(path)
    cookie = _read_cookie(cookie_file) if cookie_file else None
    result = render(spec, kube_version=version, cookie=cookie)
    if gitops_format is not None or cookie_from is not None:
        from beamkube.gitops import FORMATS, write_gitops

        if gitops_format is None or gitops_format not in FORMATS:
            raise UsageError(f"--format {gitops_format or ''!r}: expected one of {', '.join(FORMATS)} (GitOps output)")
        if out is None:
            raise UsageError(f"--format {gitops_format} writes a directory: give --out DIR")
        if output is not Format.yaml:
            raise UsageError(f"--format {gitops_format} writes YAML files; -o {output.value} does not apply")
        files, notes = write_gitops(
            gitops_format, out, result.objects, spec, cookie_from=cookie_from, plain_cookie=cookie is not None
        )
        for note in [] if quiet else notes:
            typer.echo(f"{spec.name}: {note}", err=True)
        written = f"{gitops_format} in {out} ({len(files)} files)"
    elif out is None:
        typer.echo(dump(result.objects, output.value), nl=False)
        written = "stdout"
    else:
        from beamkube.outdir import app_key, write_set
        from beamkube.output import object_files

        outcome = write_set(out, object_files(result.objects, output.value), app_key(result.objects))
        for path in outcome.kept_edited:
            typer.echo(f"beamkube: warning: {path} was edited since beamkube wrote it; left in place", err=True)
        written = f"{len(outcome.written)} files in {out}"
    if not quiet:
        typer.echo(f"{spec.name}: {result.summary()} → {written}", err=True)
        for warning in result.warnings:
            typer.echo(f"{spec.name}: warning: {warning}", err=True)


def _read_cookie(path: Path) -> bytes:
    from beamkube.errors import UsageError
    from beamkube.render.config import COOKIE_MAX, cookie_is_weak, cookie_problem

    try:
        with path.open("rb") as handle:
            cookie = handle.read(COOKIE_MAX * 4 + 2).strip()
    except OSError as exc:
        raise UsageError(f"--cookie-file {path}: cannot be read ({exc.strerror or 'I/O error'})") from None
    problem = cookie_problem(cookie)
    if problem is not None:
        raise UsageError(f"--cookie-file {path}: {problem}")
    if cookie_is_weak(cookie):
        typer.echo(
            f"beamkube: warning: --cookie-file {path}: the cookie looks guessable; anyone who guesses it can run "
            "code on every node (generate one: head -c 32 /dev/urandom | base64)",
            err=True,
        )
    return cookie


def schema_command() -> None:
    """Print the JSON Schema of beamkube.yaml (for editors and CI validation)."""
    import json

    from beamkube.spec.schema import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2, sort_keys=True))
