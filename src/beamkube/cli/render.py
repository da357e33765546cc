"""`beamkube render` and `beamkube schema`: spec → manifests, and the spec's JSON Schema.

Role: I/O edge (reads the spec, writes stdout/files, the summary on stderr).
"""

from __future__ import annotations

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
    spec_path: Path = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec."),
    output: Format = typer.Option(Format.yaml, "-o", "--output", help="Output format."),
    out: Path | None = typer.Option(None, "--out", help="Write one file per object into this directory."),
    kube_version: str = typer.Option("1.33", "--kube-version", help="Target Kubernetes minor version (X.Y)."),
    cookie_file: Path | None = typer.Option(
        None, "--cookie-file", help="Render the cookie Secret from this file (GitOps); never printed elsewhere."
    ),
    example: str | None = typer.Option(None, "--example", help="Render a bundled example instead of SPEC."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary on stderr."),
) -> None:
    """Render the app spec into Kubernetes manifests, in apply order."""
    from beamkube.errors import UsageError
    from beamkube.examples import example_path
    from beamkube.output import dump, write_objects
    from beamkube.render import parse_kube_version, render
    from beamkube.spec import load_spec

    try:
        version = parse_kube_version(kube_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    path = example_path(example) if example else spec_path
    spec = load_spec(path)
    cookie = _read_cookie(cookie_file) if cookie_file else None
    result = render(spec, kube_version=version, cookie=cookie)
    if out is None:
        typer.echo(dump(result.objects, output.value), nl=False)
        written = "stdout"
    else:
        files = write_objects(out, result.objects, output.value)
        written = f"{len(files)} files in {out}"
    if not quiet:
        typer.echo(f"{spec.name}: {result.summary()} → {written}", err=True)
        for warning in result.warnings:
            typer.echo(f"{spec.name}: warning: {warning}", err=True)


def _read_cookie(path: Path) -> bytes:
    from beamkube.errors import UsageError

    try:
        cookie = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"--cookie-file {path}: cannot be read ({exc.strerror})") from None
    if len(cookie) < 16 or cookie.startswith(b"-") or not all(33 <= b < 127 and b not in b"'\"\\" for b in cookie):
        raise UsageError(
            f"--cookie-file {path}: the cookie must be at least 16 printable ASCII characters, "
            "without quotes or a leading '-'"
        )
    return cookie


def schema_command() -> None:
    """Print the JSON Schema of beamkube.yaml (for editors and CI validation)."""
    import json

    from beamkube.spec.schema import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2, sort_keys=True))
