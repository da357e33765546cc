"""Command `beamkube audit PATH... | -`: check any Kubernetes manifests, BEAM-aware.

Role: I/O edge. This module declares the options for typer; what `audit` does (and its exit codes) is
`beamkube.cli.audit_run.audit`, which the fast path (`beamkube.cli.fast`) also calls without typer.
"""

from __future__ import annotations

import typer

from beamkube.cli import audit_run
from beamkube.cli.audit_run import AuditFormat, Level

# Commands the fast path runs without typer (beamkube.cli.fast): name -> the body this module's command calls.
FAST_IMPLEMENTATIONS = {"audit": "beamkube.cli.audit_run:audit"}


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
    jobs: str | None = typer.Option(
        None, "--jobs", metavar="N", help="Read files in N processes (default: the idle cores; 1: one process)."
    ),
) -> None:
    """Audit Kubernetes manifests: resources, probes, rollout, PDB, placement, HPA, security, images,
    NetworkPolicy, removed APIs, and BEAM clustering (node names, cookie, headless Service, epmd exposure,
    schedulers, busy-wait, writable paths, shutdown)."""
    audit_run.audit(
        paths=paths, output=output, min_severity=min_severity, kube_version=kube_version, colour=colour,
        list_rules=list_rules, enable=enable, cluster=cluster, namespace=namespace, context=context,
        kubeconfig=kubeconfig, print_rbac=print_rbac, jobs=jobs,
    )
