"""Running the double (and the fake controller) in a background thread; small helpers for tests.

Role: test support (network I/O on 127.0.0.1 only).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kmock

from tests.support.apidouble.http import ApiDouble

# --- running it --------------------------------------------------------------------------------------


@dataclass
class Running:
    api: ApiDouble
    url: str
    kubeconfig: Path
    loop: asyncio.AbstractEventLoop
    controller: Any = None

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the server's loop and return its result (for controller knobs needing the loop)."""
        done: asyncio.Future[Any] = asyncio.run_coroutine_threadsafe(_as_coro(fn), self.loop)  # type: ignore[assignment]
        return done.result(timeout=10)


async def _as_coro(fn: Callable[[], Any]) -> Any:
    return fn()


@contextlib.contextmanager
def serve(
    tmp_path: Path, *, controller: bool = True, namespace: str = "default", **controller_options: Any
) -> Iterator[Running]:
    """Run an ApiDouble (and, by default, the fake controller) on 127.0.0.1 in a background thread."""
    from tests.support.fakecontroller import FakeController

    ready = threading.Event()
    stop: dict[str, Any] = {}
    box: dict[str, Any] = {}

    async def main() -> None:
        api = ApiDouble()
        async with api, kmock.Server(api) as server:
            ctl = None
            if controller:
                ctl = FakeController(api.store, **controller_options)
                ctl.start()
            box["running"] = Running(api, str(server.url), tmp_path / "kubeconfig", asyncio.get_running_loop(), ctl)
            stop["event"] = asyncio.Event()
            ready.set()
            await stop["event"].wait()
            if ctl is not None:
                await ctl.stop()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surface start-up failures to the test thread
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=thread_main, name="apidouble", daemon=True)
    thread.start()
    if not ready.wait(10) or "error" in box:
        raise RuntimeError(f"API double did not start: {box.get('error')!r}")
    running: Running = box["running"]
    running.api.write_kubeconfig(running.kubeconfig, running.url, namespace)
    try:
        yield running
    finally:
        running.loop.call_soon_threadsafe(stop["event"].set)
        thread.join(10)


def secret_value(secret: dict[str, Any], key: str) -> bytes:
    """Decode one key of a Secret (tests compare cookies without printing them)."""
    return base64.b64decode(secret["data"][key])


def template_hash(template: Any) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]

