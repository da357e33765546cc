"""What `beamkube audit` does once its options are parsed: load manifests (or a cluster), run the rules, report.

Role: I/O edge (reads files/stdin through the audit loader, or the cluster with --cluster; writes the report to
stdout). Exit codes: 0 no finding at or above `--min-severity`, 1 findings, 2 unreadable input or bad options.
No typer here: `beamkube.cli.audit` declares the options for typer and calls `audit`; `beamkube.cli.fast`
parses the common command lines itself and calls `audit` directly (a pre-commit hook pays no CLI framework).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from beamkube.cli.echo import echo


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


def audit(
    *,
    paths: list[str] | None,
    output: AuditFormat,
    min_severity: Level,
    kube_version: str,
    colour: bool | None,
    list_rules: bool,
    enable: list[str],
    cluster: bool,
    namespace: list[str],
    context: str | None,
    kubeconfig: str | None,
    print_rbac: bool,
    jobs: str | None = None,
) -> None:
    """Audit manifests (or with `cluster` the live objects); raise `FindingsFound` when anything is reported."""
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
            echo(f"{rule.id}  {rule.severity.value:<7}  {rule.theme:<12}  {rule.title}{extra}")
        return
    if print_rbac:
        from beamkube.audit.live import rbac_yaml

        echo(rbac_yaml(), nl=False)
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
        from beamkube.audit.parallel import load_paths, parse_jobs

        manifests = load_paths(paths or [], sys.stdin, jobs=parse_jobs(jobs), freeze=True)
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
        echo(chunk, nl=False, color=use_colour if output is AuditFormat.text else None)
    if findings:
        raise FindingsFound(f"{len(findings)} finding(s) at {threshold.value} or above")
