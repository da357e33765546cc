"""Command group `operator` and the top-level `crd` command: the BeamApp custom resource and its controller.

Role: I/O edge (stdout, and for `operator run` the cluster). Heavy imports (kopf, lightkube) happen inside
the commands so `beamkube --help` stays fast.
"""

from __future__ import annotations

from enum import Enum

import typer


class Format(str, Enum):
    yaml = "yaml"
    json = "json"


operator_app = typer.Typer(
    name="operator",
    help="The BeamApp operator: run it, or print its own manifests.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.command("crd")(crd_command)
    operator_app.command("run")(run_command)
    operator_app.command("manifests")(manifests_command)
    app.add_typer(operator_app, name="operator")


def crd_command(
    output: Format = typer.Option(Format.yaml, "-o", "--output", help="Output format."),
) -> None:
    """Print the BeamApp CustomResourceDefinition (beamapps.beamkube.io, v1alpha1)."""
    import json

    from beamkube.operator.crd import beamapp_crd
    from beamkube.output import dump_yaml

    crd = beamapp_crd()
    typer.echo(json.dumps(crd, indent=2) + "\n" if output is Format.json else dump_yaml([crd]), nl=False)


def manifests_command(
    namespace: str = typer.Option("beamkube-system", "-n", "--namespace", help="The operator's namespace."),
    image: str = typer.Option(
        "ghcr.io/beamkube/beamkube:0.1.0", "--image", help="Image with beamkube installed (runs `beamkube`)."
    ),
    replicas: int = typer.Option(2, "--replicas", min=1, max=5, help="Replicas (one leads, the rest stand by)."),
    with_crd: bool = typer.Option(False, "--with-crd", help="Include the CRD first."),
    output: Format = typer.Option(Format.yaml, "-o", "--output", help="Output format."),
) -> None:
    """Print the operator's Deployment, ServiceAccount and least-privilege RBAC."""
    from beamkube.operator.manifests import operator_manifests
    from beamkube.output import dump

    objects = operator_manifests(namespace=namespace, image=image, replicas=replicas, with_crd=with_crd)
    typer.echo(dump(objects, output.value), nl=False)


def run_command(
    namespace: list[str] = typer.Option(
        [], "-n", "--namespace", help="Watch only these namespaces (repeatable). Default: all namespaces."
    ),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Path to a kubeconfig file."),
    context: str | None = typer.Option(None, "--context", help="kubeconfig context."),
    lease_namespace: str | None = typer.Option(
        None, "--lease-namespace", help="Namespace of the leader-election Lease (default: the pod's namespace)."
    ),
    lease_name: str = typer.Option("beamkube-operator", "--lease-name", help="Leader-election Lease name."),
    no_leader_election: bool = typer.Option(
        False, "--no-leader-election", help="Reconcile without a Lease (one replica only!)."
    ),
    resync_seconds: float = typer.Option(60.0, "--resync-seconds", min=1.0, help="Periodic full resync."),
    workers: int = typer.Option(4, "--workers", min=1, max=64, help="Concurrent reconciles."),
    health_port: int = typer.Option(8080, "--health-port", min=0, max=65535, help="/healthz port; 0 = off."),
    kube_version: str | None = typer.Option(
        None, "--kube-version", metavar="X.Y", help="Render for this Kubernetes version (default: the server's)."
    ),
) -> None:
    """Run the controller: reconcile every BeamApp until interrupted (SIGTERM/SIGINT)."""
    from pathlib import Path

    from beamkube.operator.runner import OperatorOptions, run_forever
    from beamkube.versions import kube_version_option

    options = OperatorOptions(
        namespaces=tuple(namespace),
        kubeconfig=Path(kubeconfig) if kubeconfig else None,
        context=context,
        lease_namespace=lease_namespace,
        lease_name=lease_name,
        leader_election=not no_leader_election,
        resync_seconds=resync_seconds,
        workers=workers,
        health_port=health_port,
        kube_version=kube_version_option(kube_version) if kube_version else None,
    )
    run_forever(options)
