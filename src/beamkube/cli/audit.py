"""Command `beamkube audit PATH... | -`: check any Kubernetes manifests, BEAM-aware.

Role: I/O edge (reads files/stdin through the audit loader, writes the report to stdout). Exit codes: 0 no
finding at or above `--min-severity`, 1 findings, 2 unreadable input or bad options.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _enabled(values: list[str]) -> frozenset[str]:
    """`--enable BK308,BK675 --enable all` → {"BK308", "BK675", "ALL"}; unknown or non-optional IDs are
    usage errors so a typo never silently enables nothing."""
    from beamkube.audit.rules import BY_ID
    from beamkube.errors import UsageError

    wanted = {part.strip().upper() for value in values for part in value.split(",") if part.strip()}
    for rule_id in sorted(wanted - {"ALL"}):
        rule = BY_ID.get(rule_id)
        if rule is None:
            raise UsageError(f"--enable {rule_id}: no such rule (see beamkube audit --list-rules)")
        if not rule.optional:
            raise UsageError(f"--enable {rule_id}: the rule is not optional, it always runs")
    return frozenset(wanted)


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
    enable: list[str] = typer.Option(
        [], "--enable", metavar="ID[,ID]", help="Also run these optional rules (`all`: every optional rule)."
    ),
    cluster: bool = typer.Option(False, "--cluster", help="Audit the live objects of a cluster (read-only)."),
    namespace: list[str] = typer.Option(
        [], "-n", "--namespace", help="With --cluster: only these namespaces (repeatable; default: all)."
    ),
    context: str | None = typer.Option(None, "--context", help="With --cluster: the kubeconfig context."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="With --cluster: the kubeconfig file."),
    print_rbac: bool = typer.Option(
        False, "--print-rbac", help="Print the read-only ClusterRole --cluster needs and exit."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", min=1, help="Read files in this many processes (default: the idle cores; 1: one process)."
    ),
) -> None:
    """Audit Kubernetes manifests: resources, probes, rollout, PDB, placement, HPA, security, images,
    NetworkPolicy, removed APIs, and BEAM clustering (node names, cookie, headless Service, epmd exposure,
    schedulers, busy-wait, writable paths, shutdown)."""
    import sys

    from beamkube.audit import parse_kube_version
    from beamkube.audit.engine import FindingsFound, run
    from beamkube.audit.model import Severity
    from beamkube.audit.report import json_chunks, sarif, text_chunks
    from beamkube.errors import UsageError

    if list_rules:
        from beamkube.audit.rules import RULES

        for rule in RULES:
            extra = "  (optional)" if rule.optional else ""
            typer.echo(f"{rule.id}  {rule.severity.value:<7}  {rule.theme:<12}  {rule.title}{extra}")
        return
    if print_rbac:
        from beamkube.audit.live import rbac_yaml

        typer.echo(rbac_yaml(), nl=False)
        return
    if cluster and paths:
        raise UsageError("audit --cluster reads the cluster, not PATHs: give one or the other")
    if not cluster and (namespace or context or kubeconfig):
        raise UsageError("-n/--namespace, --context and --kubeconfig only apply with --cluster")
    if not paths and not cluster:
        raise UsageError("audit needs at least one PATH (a file, a directory, or - for stdin), or --cluster")
    try:
        version = parse_kube_version(kube_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    enabled = _enabled(enable)
    threshold = Severity(min_severity.value)
    if cluster:
        from beamkube.audit.live import audit_cluster

        manifests, findings = audit_cluster(
            namespaces=namespace, context=context, kubeconfig=kubeconfig, kube_version=version,
            min_severity=threshold, enable=enabled,
        )
    else:
        from beamkube.audit.parallel import default_jobs, load_paths

        manifests = load_paths(paths, sys.stdin, jobs=default_jobs() if jobs is None else jobs, freeze=True)
        findings = run(manifests, kube_version=version, min_severity=threshold, enable=enabled)
    use_colour = sys.stdout.isatty() if colour is None else colour
    if output is AuditFormat.json:
        chunks: Iterable[str] = json_chunks(findings, len(manifests), threshold, version)
    elif output is AuditFormat.sarif:
        chunks = [sarif(findings)]
    else:
        chunks = text_chunks(findings, len(manifests), threshold, colour=use_colour)
    for chunk in chunks:  # streamed: a report of 100k findings is never one string
        # click strips ANSI codes when stdout is not a terminal unless told otherwise (--color).
        typer.echo(chunk, nl=False, color=use_colour if output is AuditFormat.text else None)
    if findings:
        raise FindingsFound(f"{len(findings)} finding(s) at {threshold.value} or above")
