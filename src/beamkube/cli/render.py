"""`beamkube render` and `beamkube schema`: spec → manifests, and the spec's JSON Schema.

Role: I/O edge (reads the spec, writes stdout/files, the summary on stderr). This module declares the options
for typer; what `render` does is `beamkube.cli.render_run.render`, which the fast path (`beamkube.cli.fast`)
also calls without typer.
"""

from __future__ import annotations

from pathlib import Path

import typer

from beamkube.cli import render_run
from beamkube.cli.render_run import Format

# Commands the fast path runs without typer (beamkube.cli.fast): name -> the body this module's command calls.
FAST_IMPLEMENTATIONS = {"render": "beamkube.cli.render_run:render"}


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
    render_run.render(
        spec_path=spec_path, output=output, out=out, kube_version=kube_version, cookie_file=cookie_file,
        example=example, gitops_format=gitops_format, cookie_from=cookie_from, quiet=quiet,
    )


def schema_command() -> None:
    """Print the JSON Schema of beamkube.yaml (for editors and CI validation)."""
    import json

    from beamkube.spec.schema import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2, sort_keys=True))
