"""What `beamkube render` does once its options are parsed: spec → manifests on stdout, files, or GitOps.

Role: I/O edge (reads the spec and the cookie file, writes stdout/files, the summary on stderr). No typer
here: `beamkube.cli.render` declares the options for typer and calls `render`; `beamkube.cli.fast` parses
the common command lines itself and calls `render` directly, so `beamkube render` pays no CLI framework.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

from beamkube.cli.echo import echo


class Format(str, Enum):
    yaml = "yaml"
    json = "json"


def render(
    *,
    spec_path: Path | None,
    output: Format,
    out: Path | None,
    kube_version: str,
    cookie_file: Path | None,
    example: str | None,
    gitops_format: str | None,
    cookie_from: str | None,
    quiet: bool,
) -> None:
    """Render the app spec into Kubernetes manifests, in apply order (see `beamkube render --help`)."""
    from beamkube.errors import UsageError
    from beamkube.examples import example_path
    from beamkube.output import dump
    from beamkube.render import render
    from beamkube.spec import load_spec
    from beamkube.versions import kube_version_option

    version = kube_version_option(kube_version)
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
            echo(f"{spec.name}: {note}", err=True)
        written = f"{gitops_format} in {out} ({len(files)} files)"
    elif out is None:
        echo(dump(result.objects, output.value), nl=False)
        written = "stdout"
    else:
        from beamkube.outdir import app_key, write_set
        from beamkube.output import object_files

        outcome = write_set(out, object_files(result.objects, output.value), app_key(result.objects))
        for path in outcome.kept_edited:
            echo(f"beamkube: warning: {path} was edited since beamkube wrote it; left in place", err=True)
        written = f"{len(outcome.written)} files in {out}"
    if not quiet:
        echo(f"{spec.name}: {result.summary()} → {written}", err=True)
        for warning in result.warnings:
            echo(f"{spec.name}: warning: {warning}", err=True)


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
        echo(
            f"beamkube: warning: --cookie-file {path}: the cookie looks guessable; anyone who guesses it can run "
            "code on every node (generate one: head -c 32 /dev/urandom | base64)",
            err=True,
        )
    return cookie
