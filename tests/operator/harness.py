"""Test harness: the operator running in the test's event loop against the API double (real HTTP).

Role: test support (network I/O on 127.0.0.1 only). `cluster()` starts the double (with its fake controller,
which makes StatefulSets/Deployments progress and honours ownerReference cascades on delete) and registers
the BeamApp kind; `OperatorProcess` starts and stops `beamkube.operator.runner.run` like a pod would.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from beamkube.examples import example_path
from beamkube.kube.client import KubeClient
from beamkube.kube.config import Target
from beamkube.kube.retry import RetryPolicy
from beamkube.operator import GROUP, KIND, PLURAL, VERSION
from beamkube.operator.crd import beamapp_from_spec
from beamkube.operator.runner import OperatorOptions, run
from tests.support.apidouble import Running, serve

FAST = RetryPolicy(attempts=4, base=0.02, cap=0.2, jitter=0.0)
NAMESPACES = ("data", "shop", "apps", "default", "beamkube-system")


@contextlib.contextmanager
def cluster(tmp_path: Path, controller: bool = True, **controller_options: Any) -> Iterator[Running]:
    if controller:
        controller_options.setdefault("garbage_collection", True)
    with serve(tmp_path, controller=controller, **controller_options) as running:
        running.api.register(GROUP, VERSION, KIND, PLURAL)
        for name in NAMESPACES:
            running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        yield running


def example_app(name: str, **changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(example_path(name).read_text())
    data.update(changes)
    return beamapp_from_spec(data)


def client_for(running: Running) -> KubeClient:
    client = KubeClient.connect(Target(kubeconfig=running.kubeconfig))
    client.policy = FAST
    return client


@dataclass
class OperatorProcess:
    """One operator "pod" in its own thread and event loop (kopf cancels every task of its loop when it
    stops, so two operators must not share one): `start()`, `stop()` (SIGTERM), `kill()` (SIGKILL)."""

    running: Running
    identity: str = "op-a"
    options: dict[str, Any] = field(default_factory=dict)
    result: int | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _task: asyncio.Task[int] | None = None

    async def start(self) -> OperatorProcess:
        opts = {
            "kubeconfig": self.running.kubeconfig,
            "identity": self.identity,
            "lease_namespace": "beamkube-system",
            "health_port": 0,
            "resync_seconds": 0.4,
            "lease_seconds": 1.5,
            "renew_seconds": 0.2,
            "renew_deadline": 1.0,
            "retry": FAST,
            **self.options,
        }
        started = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._task = asyncio.ensure_future(run(OperatorOptions(**opts), self._stop))
            started.set()
            with contextlib.suppress(asyncio.CancelledError):
                self.result = await self._task

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), name=self.identity, daemon=True)
        self._thread.start()
        await asyncio.to_thread(started.wait, 10)
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _join(self) -> None:
        assert self._thread is not None
        await asyncio.to_thread(self._thread.join, 15)
        assert not self._thread.is_alive(), f"operator {self.identity} did not stop"

    async def stop(self) -> int | None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        await self._join()
        return self.result

    async def kill(self) -> None:
        assert self._loop is not None and self._task is not None
        self._loop.call_soon_threadsafe(self._task.cancel)
        await self._join()


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def condition(app: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((app or {}).get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            return dict(item)
    return {}


def is_ready(running: Running, namespace: str, name: str, generation: int | None = None) -> bool:
    app = running.api.get(PLURAL, namespace, name)
    if app is None or condition(app, "Ready").get("status") != "True":
        return False
    return generation is None or app["status"].get("observedGeneration") == generation


def writes_except_leases(running: Running, since: int = 0) -> list[str]:
    # A dry run (the operator's cookie existence check) stores nothing: it is not a write.
    log = running.api.log[since:]
    return [f"{r.method} {r.path}" for r in log if r.is_write and not r.dry_run and r.plural != "leases"]
