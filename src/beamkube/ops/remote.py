"""`beamkube remote [POD]` and `beamkube rpc EXPR [--all]`: the release's own remote/rpc inside a running pod.

Role: network I/O (lists the app's pods, then the Kubernetes exec API through `kube.exec`; no kubectl).
What runs in the container is the release script's command, so the node name, cookie and distribution
settings are the ones the pod already has in its env (RELEASE_NODE, RELEASE_COOKIE...):
- mix and Distillery: `bin/<rel> remote` (an IEx shell attached to the node) and `bin/<rel> rpc EXPR`
  (Elixir, evaluated on the node);
- relx: `bin/<rel> remote_console` and `bin/<rel> eval EXPR` (Erlang; relx's own `rpc` takes M F A).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.errors import UsageError
from beamkube.kube.client import KubeClient
from beamkube.kube.config import Resolved, Target, resolve
from beamkube.kube.exec import ExecResult, exec_command
from beamkube.kube.resources import POD
from beamkube.ops.common import Plan, load_plan
from beamkube.render.beam import release_eval_args, release_script
from beamkube.render.names import CONTAINER
from beamkube.spec.model import AppSpec, Flavour


def rpc_argv(spec: AppSpec, expression: str) -> list[str]:
    return [release_script(spec), *release_eval_args(spec, expression)]


def remote_argv(spec: AppSpec) -> list[str]:
    verb = "remote_console" if spec.release.flavour is Flavour.RELX else "remote"
    return [release_script(spec), verb]


@dataclass
class Session:
    """A loaded spec plus what reaching its pods needs: the REST client and the exec credentials."""

    plan: Plan
    client: KubeClient
    resolved: Resolved

    @property
    def namespace(self) -> str:
        return self.plan.spec.namespace

    async def running_pods(self) -> list[dict[str, Any]]:
        """The app's BEAM pods of every process type that are Running (exec needs a running container), by name."""
        pods, _ = await self.client.list(POD, self.namespace, label_selector=self.plan.nodes_selector)
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        if not running:
            raise UsageError(f"{self.plan.spec.name}: no running pod in namespace {self.namespace}")
        return sorted(running, key=lambda p: str(p["metadata"]["name"]))

    async def exec(self, pod: str, argv: list[str], **options: Any) -> ExecResult:
        server = str(self.resolved.config.cluster.server)
        return await exec_command(self.resolved, server, self.namespace, pod, argv, container=CONTAINER, **options)


def open_session(spec_path: Path, kubeconfig: Path | None, context: str | None, namespace: str | None) -> Session:
    plan = load_plan(spec_path, namespace=namespace)
    target = Target(kubeconfig=kubeconfig, context=context, namespace=namespace)
    client = KubeClient.connect(target, default_namespace=plan.spec.namespace)
    return Session(plan, client, resolve(target, plan.spec.namespace))


def pick(pods: list[dict[str, Any]], name: str | None) -> str:
    names = [str(p["metadata"]["name"]) for p in pods]
    if name is None:
        return names[0]
    if name not in names:
        raise UsageError(f"pod {name} is not a running pod of this app (running: {', '.join(names)})")
    return name


async def rpc(session: Session, expression: str, pod: str | None, every: bool,
              write: Callable[[str], None]) -> int:  # fmt: skip
    """Evaluate `expression` on one pod's node (or on every pod's, concurrently); output lines are prefixed
    with the pod name when there are several. Returns the highest exit code."""
    pods = await session.running_pods()
    chosen = [str(p["metadata"]["name"]) for p in pods] if every else [pick(pods, pod)]
    argv = rpc_argv(session.plan.spec, expression)
    results = await asyncio.gather(*(session.exec(name, argv) for name in chosen))
    worst = 0
    for name, result in zip(chosen, results, strict=True):
        text = (result.stdout + result.stderr).decode(errors="replace")
        for line in text.splitlines():
            write(f"{name}: {line}" if every else line)
        if result.exit_code != 0:
            write(f"{name}: exit code {result.exit_code}" + (f" ({result.message})" if result.message else ""))
        worst = max(worst, result.exit_code)
    return worst


async def _terminal_input() -> AsyncIterator[bytes]:
    """Bytes typed on stdin as they come (the terminal is in raw mode meanwhile)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    fd = sys.stdin.fileno()
    loop.add_reader(fd, lambda: queue.put_nowait(os.read(fd, 1024)))
    try:
        while chunk := await queue.get():
            yield chunk
    finally:
        loop.remove_reader(fd)


async def _piped_input() -> AsyncIterator[bytes]:
    yield await asyncio.to_thread(sys.stdin.buffer.read)


async def remote(session: Session, pod: str | None) -> int:
    """An interactive remote shell in the node of `pod` (default: the first running pod)."""
    pods = await session.running_pods()
    name = pick(pods, pod)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()

    def show(_channel: int, data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    stdin = _terminal_input() if interactive else _piped_input()
    size = os.get_terminal_size() if interactive else None
    with _raw_terminal(interactive):
        result = await session.exec(name, remote_argv(session.plan.spec), stdin=stdin, tty=interactive,
                                    size=(size.columns, size.lines) if size else None, on_output=show,
                                    timeout=None)  # fmt: skip
    return result.exit_code


@contextlib.contextmanager
def _raw_terminal(enabled: bool) -> Any:
    if not enabled:
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
