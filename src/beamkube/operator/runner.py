"""Run the operator: leader election, the watch-fed cache, kopf, the work queue, periodic resync, /healthz.

Role: network I/O. Only the Lease holder fills the cache and runs kopf and the workers; standbys keep serving
/healthz and wait for the Lease. The pieces live in their own modules: `queue` (work queue), `kopfwiring`
(event handlers), `auth` (kopf's credentials), `health` (/healthz), `leader` (the Lease), `reconcile` (the
edge around the engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.operator.auth import kopf_login_from
from beamkube.operator.health import serve_health
from beamkube.operator.kopfwiring import build_registry
from beamkube.operator.queue import Controller, remember_status
from beamkube.operator.reconcile import Reconciler

log = logging.getLogger("beamkube.operator")

__all__ = ["OperatorOptions", "run", "run_forever", "serve_health"]


@dataclass(frozen=True)
class OperatorOptions:
    namespaces: tuple[str, ...] = ()
    kubeconfig: Path | None = None
    context: str | None = None
    lease_namespace: str | None = None
    lease_name: str = "beamkube-operator"
    leader_election: bool = True
    resync_seconds: float = 60.0
    workers: int = 4
    health_port: int = 8080
    identity: str | None = None
    lease_seconds: float = 15.0
    renew_seconds: float = 5.0
    renew_deadline: float = 10.0
    retry: Any = None  # a beamkube.kube.retry.RetryPolicy for API calls (tests use millisecond backoffs)
    kube_version: tuple[int, int] | None = None  # render for this version instead of the server's
    cache: bool = True  # read children from watch-fed informers (False: a GET per child per reconcile)


def child_cache(client: Any, namespaces: tuple[str, ...]) -> Any:
    """Informers for BeamApps and every kind the operator creates, label-selected to beamkube's objects.
    Cluster-scoped kinds are cached whole (few objects; a same-named object someone else owns must be seen to
    be refused). Secrets are not cached: the operator may only create and get them, and keeps none in memory."""
    from beamkube.engine.ownership import MANAGED_BY, MANAGED_BY_LABEL
    from beamkube.engine.prune import prunable_types
    from beamkube.kube.cache import Cache
    from beamkube.operator.reconcile import BEAMAPP

    selector = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
    kinds: list[tuple[Any, str | None]] = [
        (BEAMAPP, None),
        *((rt, selector if rt.namespaced else None) for rt in prunable_types()),
    ]
    # Nothing the operator decides reads field ownership: the cache keeps objects without managedFields.
    return Cache(client, kinds, namespaces, strip_managed_fields=True)


def default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def lease_namespace(options: OperatorOptions, fallback: str) -> str:
    if options.lease_namespace:
        return options.lease_namespace
    sa_namespace = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    if sa_namespace.is_file():
        return sa_namespace.read_text().strip()
    return fallback


async def run(options: OperatorOptions, stop: asyncio.Event, ready: asyncio.Event | None = None) -> int:
    """Lead (or wait to), then reconcile until `stop`; returns 0 on a clean stop, 1 if leadership was lost."""
    import kopf

    from beamkube.kube.client import KubeClient
    from beamkube.kube.config import Target, resolve
    from beamkube.operator.leader import LeaseElector

    target = Target(kubeconfig=options.kubeconfig, context=options.context)
    resolved = resolve(target)
    client = KubeClient.connect(target, policy=options.retry)
    lost = asyncio.Event()
    alive = {"ok": True}
    health = await serve_health(options.health_port, lambda: alive["ok"]) if options.health_port else None
    elector: LeaseElector | None = None
    cache: Any = None
    try:
        if options.leader_election:
            elector = LeaseElector(
                client,
                lease_namespace(options, resolved.namespace),
                options.lease_name,
                options.identity or default_identity(),
                lease_seconds=options.lease_seconds,
                renew_seconds=options.renew_seconds,
                renew_deadline=options.renew_deadline,
            )
            log.info("waiting for lease %s/%s as %s", elector.namespace, elector.name, elector.identity)
            if not await elector.acquire(stop):
                return 0
        cache = None
        if options.cache:
            cache = child_cache(client, options.namespaces)
            await cache.start()  # every child kind listed once; from now on the watches keep it current
        reconciler = Reconciler(client, cache=cache, kube_version=options.kube_version)
        controller = Controller(reconciler, workers=options.workers, resync_seconds=options.resync_seconds)
        reconciler.status_written = remember_status(controller)
        registry = build_registry(controller, kopf_login_from(resolved))
        kopf_stop = asyncio.Event()
        controller.start()
        kopf_task = asyncio.ensure_future(
            kopf.operator(
                registry=registry,
                standalone=True,
                clusterwide=not options.namespaces,
                namespaces=list(options.namespaces),
                stop_flag=kopf_stop,
                ready_flag=ready,
            )
        )
        side: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
        if elector is not None:
            side.append(asyncio.ensure_future(elector.keep(stop, lost)))
        try:
            await asyncio.wait([kopf_task, *side[:2]], return_when=asyncio.FIRST_COMPLETED)
            kopf_stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(kopf_task), timeout=5)
        finally:
            # Also on cancellation (a killed pod): nothing may outlive run() and use the closed client.
            kopf_task.cancel()
            for task in side:
                task.cancel()
            await controller.stop()
            await asyncio.gather(kopf_task, *side, return_exceptions=True)
        if lost.is_set():
            alive["ok"] = False
            return 1
        if kopf_task.done() and not kopf_task.cancelled() and kopf_task.exception() is not None:
            log.error("the watch machinery stopped: %s", kopf_task.exception())
            return 1
        if elector is not None:
            await elector.release()
        return 0
    finally:
        if cache is not None:
            await cache.stop()
        if health is not None:
            health.close()
        await client.aclose()


def run_forever(options: OperatorOptions) -> None:
    """CLI entry: run until SIGTERM/SIGINT; exit 1 when the Lease was lost (the pod restarts as a standby)."""
    import signal
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per request or handled event drowns what matters (writes, retries, errors).
    for noisy in ("httpx2", "httpx", "kopf.objects", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await run(options, stop)

    code = asyncio.run(main())
    if code:
        sys.exit(code)
