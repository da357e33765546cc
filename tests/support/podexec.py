"""The kubelet's exec endpoint for the API double: `pods/<name>/exec` over a websocket channel protocol.

Role: test support (network I/O: the double's aiohttp server; the command runs through a test-supplied
runner, in the real-node tier inside the pod's network namespace with the pod's environment). What it
checks like a real API server/kubelet: the pod exists (404 before the upgrade), the container is one of the
pod's (400 "container X is not valid for pod Y"), a command is given (400), the client offers
`v5.channel.k8s.io` or `v4.channel.k8s.io` (400 otherwise). The command's output streams on channels 1/2
(one pty on channel 1 with `tty=true`, as the kubelet allocates one), channel 0 streams into its stdin, the
v5 close frame (255, 0) closes it, and the end is a `Status` on channel 3 — `Success`, or
`Failure`/`NonZeroExitCode` with an `ExitCode` cause, as the kubelet reports it. A client that disconnects
ends the command.
Not modelled: resize frames (ignored), `attach`, port-forward, and authorisation (`create pods/exec` RBAC).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web

from tests.support.apidouble import ApiDouble

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


@dataclass
class Started:
    """A command the kubelet started: with `tty`, stdin/stdout/stderr are one pty (`master` is its end)."""

    process: subprocess.Popen[bytes]
    master: int | None = None


# runner(namespace, pod, container, argv, stdin, tty) -> Started, or raises LookupError (no such container)
Runner = Callable[[str, str, str, Sequence[str], bool, bool], Started]


def spawn(argv: Sequence[str], *, stdin: bool, tty: bool, env: dict[str, str] | None = None,
          cwd: str | Path | None = None) -> Started:  # fmt: skip
    """Start `argv` as the container runtime would for exec: pipes, or a pty when a TTY is asked for."""
    if tty:
        # containerd and Docker set TERM=xterm for a TTY exec; without it IEx's remote shell falls back to
        # a "limited shell" that ignores --remsh and evaluates locally.
        env = {**(env if env is not None else os.environ), "TERM": (env or {}).get("TERM", "xterm")}
        master, slave = pty.openpty()
        try:
            process = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                       start_new_session=True)  # fmt: skip
        finally:
            os.close(slave)
        return Started(process, master)
    process = subprocess.Popen(list(argv), stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)  # fmt: skip
    return Started(process)


def _failure(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip
    return aiohttp.web.Response(body=json.dumps(body).encode(), status=code, content_type="application/json")


def _read_fd(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO on a pty master once the command and its children closed the terminal
        return b""


def _status(code: int) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
        "message": f"command terminated with non-zero exit code: exit status {code}",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }  # fmt: skip


def serve_exec(api: ApiDouble, runner: Runner) -> list[dict[str, Any]]:
    """Plug the exec endpoint into `api`; returns the log of exec requests (namespace, pod, argv, code)."""
    calls: list[dict[str, Any]] = []

    async def handle(raw: Any, group: str, namespace: str, plural: str, name: str) -> aiohttp.web.StreamResponse:
        if (group, plural) != ("", "pods"):
            return _failure(404, "NotFound", f"the server could not find the requested resource ({plural}/exec)")
        pod = api.get("pods", namespace, name, group="")
        if pod is None:
            return _failure(404, "NotFound", f'pods "{name}" not found')
        query = raw.query
        argv = query.getall("command", [])
        if not argv:
            return _failure(400, "BadRequest", "you must specify at least 1 command")
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = query.get("container") or (containers[0] if len(containers) == 1 else "")
        if container not in containers:
            return _failure(400, "BadRequest", f"container {container} is not valid for pod {name}")
        ws = aiohttp.web.WebSocketResponse(protocols=PROTOCOLS)
        if not ws.can_prepare(raw).ok:
            return _failure(400, "BadRequest", "exec needs a websocket with a channel.k8s.io subprotocol")
        await ws.prepare(raw)
        tty, want_stdin = query.get("tty") == "true", query.get("stdin") == "true"
        try:
            started = await asyncio.to_thread(runner, namespace, name, container, argv, want_stdin, tty)
        except LookupError as exc:
            await ws.send_bytes(b"\x03" + json.dumps({"metadata": {}, "status": "Failure",
                                                        "message": str(exc)}).encode())  # fmt: skip
            await ws.close()
            return ws
        await _pump(ws, started, want_stdin)
        code = await asyncio.to_thread(started.process.wait)
        calls.append({"namespace": namespace, "pod": name, "argv": list(argv), "code": code, "tty": tty})
        await ws.send_bytes(b"\x03" + json.dumps(_status(code)).encode())
        await ws.close()
        return ws

    api.subresource_handlers["exec"] = handle
    return calls


async def _pump(ws: aiohttp.web.WebSocketResponse, started: Started, want_stdin: bool) -> None:
    """Stream the command's output to channels 1/2 and the client's channel 0 into it, until the output ends;
    a client that goes away ends the command (the kubelet kills it too)."""
    process = started.process
    if started.master is not None:
        sources = [(1, started.master)]
        sink: int | None = started.master
    else:
        assert process.stdout is not None and process.stderr is not None
        sources = [(1, process.stdout.fileno()), (2, process.stderr.fileno())]
        sink = process.stdin.fileno() if process.stdin is not None else None

    async def forward(channel: int, fd: int) -> None:
        while data := await asyncio.to_thread(_read_fd, fd):
            await ws.send_bytes(bytes([channel]) + data)

    async def feed() -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.BINARY or not message.data:
                continue
            channel, payload = message.data[0], message.data[1:]
            if channel == 0 and sink is not None:
                with contextlib.suppress(OSError):
                    os.write(sink, payload)
            elif channel == 255 and payload[:1] == b"\x00" and process.stdin is not None:
                process.stdin.close()  # v5: the client closed stdin
                sink_closed.set()
        if process.poll() is None:  # the client went away
            process.kill()

    sink_closed = asyncio.Event()
    feeder = asyncio.create_task(feed()) if want_stdin else None
    try:
        await asyncio.gather(*(forward(channel, fd) for channel, fd in sources))
    finally:
        if feeder is not None:
            feeder.cancel()
        if started.master is not None:
            os.close(started.master)
