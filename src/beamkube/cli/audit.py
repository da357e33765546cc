"""Command `beamkube audit PATH... | -`: check any Kubernetes manifests, BEAM-aware.

Role: I/O edge (reads files/stdin through the audit loader, writes the report to stdout). Exit codes: 0 no
finding at or above `--min-severity`, 1 findings, 2 unreadable input or bad options.
"""

from __future__ import annotations

from enum import Enum

import typer


class AuditFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class Level(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def audit_command(
    paths: list[str] = typer.Argument(
        None, metavar="PATH...", help="Files or directories (*.yaml, *.yml, *.json, recursive); - reads stdin."
    ),
    output: AuditFormat = typer.Option(AuditFormat.text, "-o", "--output", help="Report format."),
    min_severity: Level = typer.Option(
        Level.warning, "--min-severity", help="Report (and fail on) findings at or above this severity."
    ),
    kube_version: str = typer.Option("1.33", "--kube-version", help="Target Kubernetes version (X.Y)."),
    colour: bool | None = typer.Option(
        None, "--color/--no-color", help="Colour the text report (default: only on a terminal)."
    ),
    list_rules: bool = typer.Option(False, "--list-rules", help="Print the rule catalogue and exit."),
) -> None:
    """Audit Kubernetes manifests: resources, probes, rollout, PDB, placement, HPA, security, images,
    NetworkPolicy, removed APIs, and BEAM clustering (node names, cookie, headless Service, epmd exposure,
    schedulers, busy-wait, writable paths, shutdown)."""
    import sys

    from beamkube.audit import parse_kube_version
    from beamkube.audit.engine import FindingsFound, run
    from beamkube.audit.loader import load_inputs
    from beamkube.audit.model import Severity
    from beamkube.audit.report import as_json, sarif, text
    from beamkube.errors import UsageError

    if list_rules:
        from beamkube.audit.rules import RULES

        for rule in RULES:
            typer.echo(f"{rule.id}  {rule.severity.value:<7}  {rule.theme:<12}  {rule.title}")
        return
    if not paths:
        raise UsageError("audit needs at least one PATH (a file, a directory, or - for stdin)")
    try:
        version = parse_kube_version(kube_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    threshold = Severity(min_severity.value)
    manifests = load_inputs(paths, sys.stdin)
    findings = run(manifests, kube_version=version, min_severity=threshold)
    use_colour = sys.stdout.isatty() if colour is None else colour
    if output is AuditFormat.json:
        report = as_json(findings, len(manifests), threshold, version)
    elif output is AuditFormat.sarif:
        report = sarif(findings)
    else:
        report = text(findings, len(manifests), threshold, colour=use_colour)
    # click strips ANSI codes when stdout is not a terminal unless told otherwise (--color).
    typer.echo(report, nl=False, color=use_colour if output is AuditFormat.text else None)
    if findings:
        raise FindingsFound(f"{len(findings)} finding(s) at {threshold.value} or above")
