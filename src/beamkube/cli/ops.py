"""Command group `ops`: `deploy`, `status`, `diff`, `rollback`, `destroy` against a cluster.

Role: I/O edge (terminal). Only typer and the standard library are imported here at load time; the
Kubernetes client (lightkube, httpx) is imported when a command runs. Each command loads the spec, applies
`--namespace`/`--image` overrides, connects (KUBECONFIG, `--kubeconfig`, `--context`, or in-cluster) and runs
one coroutine from `beamkube.ops` with `asyncio.run`. Errors are one line (`beamkube: ...`); exit codes:
1 cluster/API errors, 2 bad input or configuration, 3 a rollout or migration that failed or timed out,
130 interrupted (a re-run of the same command completes the job).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from beamkube.kube.client import KubeClient
    from beamkube.ops.common import Plan
    from beamkube.ops.rollout import ProgressLine

T = TypeVar("T")

SPEC_ARG = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec.")
KUBECONFIG_OPT = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: KUBECONFIG, ~/.kube/config).")
CONTEXT_OPT = typer.Option(None, "--context", help="Kubeconfig context (default: the current context).")
NAMESPACE_OPT = typer.Option(None, "-n", "--namespace", help="Namespace (default: the spec's namespace).")
WAIT_OPT = typer.Option(True, "--wait/--no-wait", help="Wait for the rollout to complete.")
TIMEOUT_OPT = typer.Option(
    300.0, "--timeout", min=0.1, help="Seconds to wait for migration Jobs and the rollout, together."
)
KUBE_VERSION_OPT = typer.Option(
    None, "--kube-version", metavar="X.Y", help="Render for this Kubernetes version (default: the server's)."
)


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_command)
    app.command("status")(status_command)
    app.command("diff")(diff_command)
    app.command("rollback")(rollback_command)
    app.command("destroy")(destroy_command)


def _out(line: str) -> None:
    typer.echo(line)


def _progress() -> ProgressLine:
    from beamkube.ops.rollout import ProgressLine

    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    return ProgressLine(write, sys.stderr.isatty())


def _run(
    spec_path: Path,
    kubeconfig: Path | None,
    context: str | None,
    namespace: str | None,
    work: Callable[[KubeClient, Plan], Awaitable[T]],
    image: str | None = None,
    kube_version: str | None = None,
) -> T:
    """Load the spec, connect, read the server's version once, render for it, run `work`."""
    import asyncio

    from beamkube.kube.config import Target
    from beamkube.ops.common import connect, load_spec_with, plan_for

    override = None
    if kube_version is not None:
        from beamkube.versions import kube_version_option

        override = kube_version_option(kube_version)
    spec = load_spec_with(spec_path, namespace=namespace, image=image)
    client = connect(Target(kubeconfig=kubeconfig, context=context, namespace=namespace), spec)

    async def main() -> T:
        async with client:
            return await work(client, await plan_for(client, spec, override))

    return asyncio.run(main())


def deploy_command(
    spec_path: Path = SPEC_ARG,
    image: str | None = typer.Option(None, "--image", help="Override the spec's image (CI: the image just built)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Server-side dry run: validate, change nothing."),
    force_conflicts: bool = typer.Option(
        False, "--force-conflicts", help="Take over fields another field manager owns (server-side apply force)."
    ),
    retry_migrations: bool = typer.Option(
        False, "--retry-migrations", help="Run a migration Job again when its last run failed (same image)."
    ),
    wait: bool = WAIT_OPT,
    timeout: float = TIMEOUT_OPT,
    kube_version: str | None = KUBE_VERSION_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """Apply the app to the cluster (server-side apply), run migrations, prune, wait for the rollout."""
    from beamkube.ops.deploy import DeployOptions, deploy

    options = DeployOptions(
        force_conflicts=force_conflicts,
        dry_run=dry_run,
        wait=wait,
        timeout=timeout,
        retry_migrations=retry_migrations,
    )
    progress = _progress()
    _run(
        spec_path,
        kubeconfig,
        context,
        namespace,
        lambda c, p: deploy(c, p, options, _out, progress),
        image,
        kube_version,
    )


def status_command(
    spec_path: Path = SPEC_ARG,
    output: StatusFormat = typer.Option(StatusFormat.table, "-o", "--output", help="table or json."),
    kube_version: str | None = KUBE_VERSION_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
    mesh: bool = typer.Option(False, "--mesh", help="Ask every node for its connections; exit 1 when split."),
) -> None:
    """Show the rollout state and the pods (ready, restarts, age, QoS class, BEAM node name)."""
    import json

    if mesh:  # beamkube.ops.mesh: membership matrix, partitions, nodes not in DNS
        from beamkube.ops.mesh import mesh_status

        as_json = output is StatusFormat.json
        raise typer.Exit(mesh_status(spec_path, kubeconfig, context, namespace, _out, as_json=as_json))

    from beamkube.ops.status import collect, format_table

    doc: dict[str, Any] = _run(spec_path, kubeconfig, context, namespace, collect, kube_version=kube_version)
    if output is StatusFormat.json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
    else:
        typer.echo(format_table(doc), nl=False)


def diff_command(
    spec_path: Path = SPEC_ARG,
    image: str | None = typer.Option(None, "--image", help="Override the spec's image."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when deploy would change something."),
    force_conflicts: bool = typer.Option(False, "--force-conflicts", help="Dry-run with forced ownership."),
    kube_version: str | None = KUBE_VERSION_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """Show what deploy would change (server-side dry run; server-set fields ignored, Secret values masked)."""
    from beamkube.ops.diff import compute, summary

    result = _run(
        spec_path,
        kubeconfig,
        context,
        namespace,
        lambda c, p: compute(c, p, force=force_conflicts),
        image,
        kube_version,
    )
    for _desc, text in result.changes:
        typer.echo(text, nl=False)
    typer.echo(summary(result), err=True)
    if exit_code and result.has_changes:
        raise typer.Exit(1)


def rollback_command(
    spec_path: Path = SPEC_ARG,
    to_revision: int | None = typer.Option(None, "--to-revision", min=1, help="Revision number (default: previous)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Server-side dry run."),
    wait: bool = WAIT_OPT,
    timeout: float = TIMEOUT_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """Roll the workloads back to an earlier revision (ReplicaSet / ControllerRevision), then wait."""
    from beamkube.ops.rollback import rollback
    from beamkube.ops.rollout import time_left, wait_workloads

    progress = _progress()

    async def work(client: KubeClient, plan: Plan) -> None:
        left = time_left(timeout)  # one --timeout for every workload's rollout, as deploy has
        steps = await rollback(client, plan, to_revision, dry_run=dry_run)
        verb = "would roll back" if dry_run else "rolling back"
        for step in steps:
            _out(
                f"{step.kind} {plan.spec.namespace}/{step.name}: {verb} from revision {step.current} "
                f"to {step.target.number} ({', '.join(step.target.images)})"
            )
        if dry_run or not wait:
            return
        workloads = [(step.kind, step.name) for step in steps]
        lines = await wait_workloads(client, plan, workloads, left=left, progress=progress, out=_out, budget=timeout)
        _out(f"Rollback complete: {lines}")

    _run(spec_path, kubeconfig, context, namespace, work)


def destroy_command(
    spec_path: Path = SPEC_ARG,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (scripts)."),
    delete_data: bool = typer.Option(
        False, "--delete-data", help="Also delete the PersistentVolumeClaims and the generated cookie Secret."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted; delete nothing."),
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """Delete what beamkube created for the app (PVCs and the cookie kept unless --delete-data)."""
    from beamkube.errors import UsageError
    from beamkube.ops.destroy import destroy, plan_destroy

    interactive = sys.stdin.isatty()

    async def work(client: KubeClient, plan: Plan) -> None:
        planned = await plan_destroy(client, plan, delete_data=delete_data)
        from beamkube.kube.resources import describe

        if not planned.objects:
            _out(f"Nothing of {plan.spec.name} to delete in namespace {plan.spec.namespace}.")
        else:
            _out(
                f"{'Would delete' if dry_run else 'Will delete'} {len(planned.objects)} objects of "
                f"{plan.spec.name} ({client.context or 'in-cluster'}):"
            )
            for obj in planned.objects:
                _out(f"  {describe(obj)}")
        for text in planned.kept:
            _out(f"  keeping {text}")
        if dry_run or not planned.objects:
            return
        if not yes:
            if not interactive:
                raise UsageError("destroy deletes objects: confirm with --yes when not on a terminal")
            if not typer.confirm(f"Delete these {len(planned.objects)} objects?", default=False):
                raise typer.Abort()
        deleted = await destroy(client, planned)
        _out(f"Deleted {len(deleted)} objects.")

    _run(spec_path, kubeconfig, context, namespace, work)
