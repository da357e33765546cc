"""Run the operator: kopf watches, a de-duplicating work queue, periodic resync, a Lease, a health endpoint.

Role: network I/O. kopf supplies the watch machinery (list + watch, resumption, 410 handling, login) through
*event* handlers only, which write nothing to the watched objects (no finalizers, no progress annotations):
every write the operator makes is one `Reconciler` decided on after comparing desired and live state. Events
enqueue a BeamApp's key; a key already waiting is not queued twice, and a key changed while it is being
reconciled is reconciled once more afterwards. Failures are retried with capped exponential backoff.

Only the Lease holder runs kopf and the workers; standbys keep serving /healthz and wait for the Lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.operator import GROUP, KIND, PLURAL, VERSION
from beamkube.operator.reconcile import Outcome, Reconciler

log = logging.getLogger("beamkube.operator")

Key = tuple[str, str]
WORKLOAD_LABEL = {"app.kubernetes.io/managed-by": "beamkube"}


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


def _key(body: dict[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or "default"), str(meta.get("name")))


class Controller:
    """The work queue between kopf's events and the Reconciler."""

    def __init__(
        self,
        reconciler: Reconciler,
        *,
        workers: int = 4,
        resync_seconds: float = 60.0,
        backoff: tuple[float, float] = (0.2, 30.0),
        on_outcome: Callable[[Key, Outcome], None] | None = None,
    ) -> None:
        self.reconciler = reconciler
        self.workers = workers
        self.resync_seconds = resync_seconds
        self.backoff = backoff
        self.on_outcome = on_outcome
        self.apps: dict[Key, dict[str, Any]] = {}
        self.queue: asyncio.Queue[Key] = asyncio.Queue()
        self.waiting: set[Key] = set()
        self.active: set[Key] = set()
        self.again: set[Key] = set()
        self.failures: dict[Key, int] = {}
        self.last_status: dict[Key, tuple[Any, Any]] = {}
        self.full: set[Key] = set()  # keys whose next turn must be a full reconcile (not status only)
        self.workloads: dict[Key, dict[str, Any]] = {}  # the latest workload seen per app (from events)
        self.reconciles = 0
        self.status_refreshes = 0
        self._tasks: list[asyncio.Task[None]] = []

    # --- events -------------------------------------------------------------------------------

    def observe_app(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = _key(body)
        if event_type == "DELETED":
            self.apps.pop(key, None)
            self.failures.pop(key, None)
            self.last_status.pop(key, None)
            self.workloads.pop(key, None)
            self._spawn(self._cleanup(key))
            return
        self.apps[key] = body
        meta = body.get("metadata") or {}
        # Our own status write comes back as an event: nothing new to act on.
        if self.last_status.get(key) == (meta.get("generation"), body.get("status")):
            return
        self.enqueue(key)

    def observe_workload(self, body: dict[str, Any]) -> None:
        """A workload's status moved: refresh the owner's status from this body (no reads, no applies)."""
        meta = body.get("metadata") or {}
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
                key = (str(meta.get("namespace") or "default"), str(ref.get("name")))
                if key in self.apps:
                    self.workloads[key] = body
                    self.enqueue(key, full=False)

    def observe_job(self, body: dict[str, Any]) -> None:
        """A migration Job finished (or failed): the owner's workload may now proceed."""
        conditions = (body.get("status") or {}).get("conditions") or []
        if not any(c.get("status") == "True" for c in conditions):
            return
        for key in self._owners(body):
            self.enqueue(key)

    def _owners(self, body: dict[str, Any]) -> list[Key]:
        meta = body.get("metadata") or {}
        return [
            (str(meta.get("namespace") or "default"), str(ref.get("name")))
            for ref in meta.get("ownerReferences") or []
            if ref.get("kind") == KIND
            and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/")
            and (str(meta.get("namespace") or "default"), str(ref.get("name"))) in self.apps
        ]

    def enqueue(self, key: Key, full: bool = True) -> None:
        if full:
            self.full.add(key)
        if key in self.active:
            self.again.add(key)
        elif key not in self.waiting:
            self.waiting.add(key)
            self.queue.put_nowait(key)

    # --- workers ------------------------------------------------------------------------------

    def start(self) -> None:
        for _ in range(self.workers):
            self._tasks.append(asyncio.ensure_future(self._worker()))
        self._tasks.append(asyncio.ensure_future(self._resync()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            self.waiting.discard(key)
            body = self.apps.get(key)
            if body is None:
                continue
            self.active.add(key)
            full = key in self.full
            self.full.discard(key)
            try:
                if full:
                    await self._reconcile_one(key, body)
                else:
                    await self._refresh_status(key, body)
            finally:
                self.active.discard(key)
                if key in self.again:
                    self.again.discard(key)
                    self.enqueue(key, full=False)  # a pending full request is still in self.full

    async def _reconcile_one(self, key: Key, body: dict[str, Any]) -> None:
        from beamkube.kube.errors import KubeError

        self.reconciles += 1
        started = asyncio.get_running_loop().time()
        try:
            outcome = await self.reconciler.reconcile(copy.deepcopy(body))
        except KubeError as exc:  # e.g. the status write failed: retry later
            log.warning("%s/%s: %s", key[0], key[1], exc)
            self._retry(key)
            return
        except Exception:  # a bug must not kill the worker; log it and back off
            log.exception("%s/%s: reconcile crashed", key[0], key[1])
            self._retry(key)
            return
        if outcome.gone:
            self.apps.pop(key, None)
            return
        if outcome.writes:
            elapsed = (asyncio.get_running_loop().time() - started) * 1000
            log.info("%s/%s: %d writes in %.0f ms%s", key[0], key[1], outcome.writes, elapsed,
                     f"; pruned {', '.join(outcome.pruned)}" if outcome.pruned else "")  # fmt: skip
        if outcome.error is not None and not outcome.invalid_spec:
            self._retry(key)  # API trouble: try again; an invalid spec waits for the next edit
        else:
            self.failures.pop(key, None)
        if self.on_outcome is not None:
            self.on_outcome(key, outcome)

    async def _refresh_status(self, key: Key, body: dict[str, Any]) -> None:
        from beamkube.kube.errors import KubeError

        workload = self.workloads.get(key)
        if workload is None:
            return
        self.status_refreshes += 1
        generation, written = self.last_status.get(key, (None, None))
        meta = body.get("metadata") or {}
        previous = written if generation == meta.get("generation") else body.get("status")
        try:
            done = await self.reconciler.refresh_status(body, previous, workload)
        except KubeError as exc:
            log.warning("%s/%s: status: %s", key[0], key[1], exc)
            done = False
        if not done:
            self.enqueue(key)  # not a plain status change (or it failed): do the whole thing

    def _retry(self, key: Key) -> None:
        count = self.failures.get(key, 0) + 1
        self.failures[key] = count
        delay = min(self.backoff[1], self.backoff[0] * 2 ** (count - 1))
        loop = asyncio.get_running_loop()
        loop.call_later(delay, lambda: self.enqueue(key) if key in self.apps else None)

    async def _resync(self) -> None:
        from beamkube.kube.errors import KubeError

        while True:
            await asyncio.sleep(self.resync_seconds)
            for key in sorted(self.apps):
                self.enqueue(key)
            try:
                swept = await self.reconciler.sweep_orphans()
            except KubeError as exc:
                log.warning("orphan sweep failed: %s", exc)
                continue
            if swept:
                log.info("removed children of deleted BeamApps: %s", ", ".join(swept))

    async def _cleanup(self, key: Key) -> None:
        from beamkube.kube.errors import KubeError

        try:
            deleted = await self.reconciler.cleanup_cluster_scoped(*key)
        except KubeError as exc:
            log.warning("%s/%s: cleanup after delete failed: %s", key[0], key[1], exc)
            return
        if deleted:
            log.info("%s/%s deleted; removed %s", key[0], key[1], ", ".join(deleted))


def remember_status(controller: Controller) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """Hook for the Reconciler: record the status we wrote, so its echo event is not reconciled again."""

    def hook(app: dict[str, Any], status: dict[str, Any]) -> None:
        meta = app.get("metadata") or {}
        controller.last_status[_key(app)] = (meta.get("generation"), status)

    return hook


def build_registry(controller: Controller, login: Callable[..., Any] | None = None) -> Any:
    """A kopf registry with event handlers only (they never write to the objects they watch).

    The handlers are coroutines on purpose: kopf runs plain functions in a thread pool, and the queue they
    feed belongs to the event loop."""
    import kopf

    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    def _configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False  # reconcile reports through status conditions, not Events
        # The watched resources are known: no CRD/namespace scanning, so no RBAC for them (install the CRD
        # before starting the operator; it is discovered once, at start-up).
        settings.scanning.disabled = True
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.networking.request_timeout = 60

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def _app(event: Any, body: Any, **_: Any) -> None:
        controller.observe_app(event.get("type"), copy.deepcopy(dict(body)))

    for plural in ("deployments", "statefulsets"):

        @kopf.on.event("apps", "v1", plural, labels=WORKLOAD_LABEL, registry=registry)
        async def _workload(body: Any, **_: Any) -> None:
            controller.observe_workload(copy.deepcopy(dict(body)))

    @kopf.on.event("batch", "v1", "jobs", labels=WORKLOAD_LABEL, registry=registry)
    async def _job(body: Any, **_: Any) -> None:
        controller.observe_job(copy.deepcopy(dict(body)))

    if login is not None:
        kopf.on.login(registry=registry)(login)
    return registry


def kopf_login_from(resolved: Any) -> Callable[..., Any]:
    """A kopf login handler using the same kubeconfig/in-cluster choice as `beamkube.kube.config.resolve`."""
    import kopf

    def login(**_: Any) -> Any:
        cluster, user = resolved.config.cluster, resolved.config.user
        token = user.token
        if not token and user.token_file:
            token = Path(user.token_file).read_text().strip()  # bound tokens rotate; re-read on each login
        return kopf.ConnectionInfo(
            server=str(cluster.server),
            ca_path=cluster.certificate_auth,
            ca_data=cluster.certificate_auth_data,
            insecure=cluster.insecure or None,
            username=user.username,
            password=user.password,
            token=token,
            certificate_path=user.client_cert,
            certificate_data=user.client_cert_data,
            private_key_path=user.client_key,
            private_key_data=user.client_key_data,
            default_namespace=resolved.namespace,
        )

    return login


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
        reconciler = Reconciler(client)
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
