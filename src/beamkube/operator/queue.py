"""The operator's work queue: BeamApp keys from watch events and resyncs, de-duplicated, with retries.

Role: asyncio only (the network I/O is the Reconciler's). Events enqueue a BeamApp's key; a key already waiting
is not queued twice, and a key changed while it is being reconciled is reconciled once more afterwards.
Failures are retried with capped exponential backoff. Workload events refresh the status from the event body
alone (no reads); everything else runs the full reconcile.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from beamkube.operator import GROUP, KIND
from beamkube.operator.reconcile import Outcome, Reconciler

log = logging.getLogger("beamkube.operator")

Key = tuple[str, str]


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
        # The latest body of each of an app's workloads seen in events, by workload name (one per process type).
        self.workloads: dict[Key, dict[str, dict[str, Any]]] = {}
        self.reconciles = 0
        self.resyncs = 0
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
        name = str((body.get("metadata") or {}).get("name"))
        for key in self._owners(body):
            self.workloads.setdefault(key, {})[name] = body
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
        namespace = str(meta.get("namespace") or "default")
        owners = [
            (namespace, str(ref.get("name")))
            for ref in meta.get("ownerReferences") or []
            if ref.get("kind") == KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/")
        ]
        return [key for key in owners if key in self.apps]

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

        workloads = self.workloads.get(key)
        if not workloads:
            return
        self.status_refreshes += 1
        generation, written = self.last_status.get(key, (None, None))
        meta = body.get("metadata") or {}
        previous = written if generation == meta.get("generation") else body.get("status")
        try:
            done = await self.reconciler.refresh_status(body, previous, workloads)
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
            self.resyncs += 1
            log.info("resync %d: %d BeamApps queued", self.resyncs, len(self.apps))
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


