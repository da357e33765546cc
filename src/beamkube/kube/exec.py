"""Run a command in a pod's container over the Kubernetes exec API (what `kubectl exec` does), no kubectl.

Role: network I/O (one websocket per command). The API server upgrades
`GET /api/v1/namespaces/NS/pods/POD/exec?command=...&stdin=...&stdout=true&stderr=true&tty=...` to a
websocket speaking a channel protocol: every binary message starts with a channel byte — 0 stdin, 1 stdout,
2 stderr, 3 error (a `Status` object once the command ended: `Success`, or `Failure` with an `ExitCode`
cause), 4 resize (`{"Width":..,"Height":..}`); `v5.channel.k8s.io` (Kubernetes 1.30+) adds 255 "close",
with which the client ends stdin. `v4.channel.k8s.io` is offered as well for older servers (stdin then ends
only with the connection). The websocket itself is the `websockets` library; the URL, TLS context and
credentials come from the same kubeconfig resolution as every other request (`kube.config`), through
lightkube's adapters, so tokens, client certificates and exec plugins work alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from beamkube.kube.config import Resolved
from beamkube.kube.errors import KubeError

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


@dataclass
class ExecResult:
    """What the command wrote and how it ended (`exit_code` 0 on Success)."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    message: str = ""


def exec_url(server: str, namespace: str, pod: str, command: Sequence[str], *, container: str | None,
             stdin: bool, tty: bool) -> str:  # fmt: skip
    """The websocket URL of the exec subresource (`command` repeated once per argv word)."""
    query: list[tuple[str, str]] = [("command", word) for word in command]
    if container:
        query.append(("container", container))
    query += [("stdin", str(stdin).lower()), ("stdout", "true"), ("stderr", str(not tty).lower()),
              ("tty", str(tty).lower())]  # fmt: skip
    base = server.rstrip("/")
    scheme, rest = base.split("://", 1)
    ws = "wss" if scheme == "https" else "ws"
    path = f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/exec"
    return f"{ws}://{rest}{path}?{urlencode(query)}"


def _headers_and_tls(resolved: Resolved, url: str) -> tuple[dict[str, str], Any]:
    """Authorization the kubeconfig's user gives (token, token file, exec plugin, basic) and the TLS context
    (cluster CA, client certificate) — lightkube's adapters, the same as for REST requests."""
    import httpx2
    from lightkube.config import client_adapter

    config = resolved.config
    headers: dict[str, str] = {}
    auth = client_adapter.user_auth(config.user)
    if auth is not None:
        request = httpx2.Request("GET", url.replace("wss://", "https://", 1).replace("ws://", "http://", 1))
        flow = auth.sync_auth_flow(request)
        request = next(flow)
        if "authorization" in request.headers:
            headers["Authorization"] = request.headers["authorization"]
    tls = None
    if url.startswith("wss://"):
        tls = client_adapter.verify_cluster(config.cluster, config.user, config.abs_file)
    return headers, tls


def _status(payload: bytes) -> tuple[int, str]:
    """Exit code and message from the error channel's Status."""
    try:
        status = json.loads(payload.decode() or "{}")
    except ValueError:
        return 1, payload.decode(errors="replace")
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", "1")), str(status.get("message", ""))
            except ValueError:
                break
    return 1, str(status.get("message") or "exec failed")


async def exec_command(
    resolved: Resolved,
    server: str,
    namespace: str,
    pod: str,
    command: Sequence[str],
    *,
    container: str | None = None,
    stdin: AsyncIterator[bytes] | None = None,
    tty: bool = False,
    size: tuple[int, int] | None = None,
    on_output: Callable[[int, bytes], None] | None = None,
    timeout: float | None = 60.0,
) -> ExecResult:
    """Run `command` in `pod`; output is collected (and passed to `on_output(channel, data)` as it comes)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    url = exec_url(server, namespace, pod, command, container=container, stdin=stdin is not None, tty=tty)
    headers, tls = _headers_and_tls(resolved, url)
    out, err = bytearray(), bytearray()
    code, message = -1, ""
    try:
        async with connect(url, additional_headers=headers, ssl=tls, subprotocols=list(PROTOCOLS),  # type: ignore[arg-type]
                           max_size=None, open_timeout=timeout, ping_interval=None) as ws:  # fmt: skip
            v5 = ws.subprotocol == PROTOCOLS[0]
            if tty and size is not None:
                await ws.send(bytes([RESIZE]) + json.dumps({"Width": size[0], "Height": size[1]}).encode())
            feeder = asyncio.create_task(_feed(ws, stdin, v5)) if stdin is not None else None
            try:
                async with asyncio.timeout(timeout):
                    async for frame in ws:
                        data = frame if isinstance(frame, bytes) else frame.encode()
                        if not data:
                            continue
                        channel, payload = data[0], data[1:]
                        if channel == STDOUT:
                            out += payload
                        elif channel == STDERR:
                            err += payload
                        elif channel == ERROR:
                            code, message = _status(payload)
                            continue
                        if on_output is not None and payload:
                            on_output(channel, payload)
            except ConnectionClosed:
                pass
            finally:
                if feeder is not None:
                    feeder.cancel()
    except InvalidStatus as exc:
        raise KubeError(f"exec into pod {namespace}/{pod}: HTTP {exc.response.status_code} "
                        f"{exc.response.body.decode(errors='replace')[:300]}") from None  # fmt: skip
    except (InvalidHandshake, OSError) as exc:
        raise KubeError(f"exec into pod {namespace}/{pod}: {exc}") from None
    except TimeoutError:
        raise KubeError(f"exec into pod {namespace}/{pod}: no end after {timeout} s") from None
    if code < 0:  # the server closed without a status: treat as failure, say so
        code, message = 1, message or "the exec stream ended without a status"
    return ExecResult(code, bytes(out), bytes(err), message)


async def _feed(ws: Any, stdin: AsyncIterator[bytes], v5: bool) -> None:
    async for chunk in stdin:
        if chunk:
            await ws.send(bytes([STDIN]) + chunk)
    if v5:
        await ws.send(bytes([CLOSE, STDIN]))
