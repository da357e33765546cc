"""The operator's HTTP health endpoint: GET /healthz answers 200 while healthy, else 503.

Role: network I/O (a listening socket). Any replica answers, leader or standby.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def serve_health(port: int, healthy: Callable[[], bool], host: str = "0.0.0.0") -> asyncio.AbstractServer:
    """A minimal HTTP /healthz (200 while `healthy()`, else 503); any replica answers, leader or not."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            ok = request.split(b" ")[1:2] == [b"/healthz"] and healthy()
            status = b"200 OK" if ok else b"503 Service Unavailable"
            body = b"ok\n" if ok else b"unhealthy\n"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
            writer.write(body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host=host, port=port)


