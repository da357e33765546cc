"""Command group `beam`: `beamkube remote [POD]` and `beamkube rpc EXPR [--all]` on a running app.

Role: I/O edge (reads the spec, talks to the cluster through `beamkube.ops.remote`, writes stdout).
"""

from __future__ import annotations

from pathlib import Path

import typer

SPEC_OPT = typer.Option(Path("beamkube.yaml"), "-f", "--spec", help="The app spec.")
KUBECONFIG_OPT = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: KUBECONFIG, ~/.kube/config).")
CONTEXT_OPT = typer.Option(None, "--context", help="Kubeconfig context (default: the current context).")
NAMESPACE_OPT = typer.Option(None, "-n", "--namespace", help="Namespace (default: the spec's namespace).")


def register(app: typer.Typer) -> None:
    app.command("remote")(remote_command)
    app.command("rpc")(rpc_command)


def remote_command(
    pod: str | None = typer.Argument(None, help="Pod name (default: the first running pod)."),
    spec_path: Path = SPEC_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """A remote shell in a running node (the release's `remote`), over the Kubernetes exec API."""
    import asyncio

    from beamkube.ops.remote import open_session, remote

    session = open_session(spec_path, kubeconfig, context, namespace)

    async def main() -> int:
        async with session.client:
            return await remote(session, pod)

    raise typer.Exit(asyncio.run(main()))


def rpc_command(
    expression: str = typer.Argument(..., help="Elixir (mix, Distillery) or Erlang (relx) evaluated on the node."),
    pod: str | None = typer.Option(None, "--pod", help="Pod name (default: the first running pod)."),
    every: bool = typer.Option(False, "--all", help="Evaluate on every running pod; lines are prefixed."),
    spec_path: Path = SPEC_OPT,
    kubeconfig: Path | None = KUBECONFIG_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
) -> None:
    """Evaluate EXPR on a running node (the release's `rpc`/`eval`), over the Kubernetes exec API."""
    import asyncio

    from beamkube.ops.remote import open_session, rpc

    session = open_session(spec_path, kubeconfig, context, namespace)

    async def main() -> int:
        async with session.client:
            return await rpc(session, expression, pod, every, typer.echo)

    raise typer.Exit(asyncio.run(main()))
