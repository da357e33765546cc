"""Leader election on a `coordination.k8s.io/v1` Lease, so two operator replicas never reconcile at once.

Role: network I/O (through `KubeClient`). The algorithm is client-go's: the holder renews `renewTime` every
`renew_seconds`; a candidate takes the Lease over only when its record has not changed for a whole
`lease_seconds` *as measured by the candidate's own monotonic clock* (so clock skew between nodes cannot
make two leaders). Every write carries the resourceVersion it was based on, so of two candidates racing for
an expired Lease the API server lets exactly one win (the other gets 409). A leader that cannot renew stops
leading before its Lease can expire elsewhere (`renew_deadline` < `lease_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists, Conflict, KubeError
from beamkube.kube.resources import resource_for

log = logging.getLogger("beamkube.operator.leader")
LEASE = resource_for("coordination.k8s.io/v1", "Lease")


def _micro_time() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseElector:
    """One candidate. `await try_lead()` returns whether this candidate holds the Lease now."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_seconds: float = 15.0,
        renew_seconds: float = 5.0,
        renew_deadline: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not renew_seconds < renew_deadline < lease_seconds:
            raise ValueError("need renew_seconds < renew_deadline < lease_seconds")
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.renew_deadline = renew_deadline
        self._monotonic = monotonic
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self.last_renewed = -1e18  # monotonic time of our last successful acquire/renew

    @property
    def leading(self) -> bool:
        return self._monotonic() - self.last_renewed < self.renew_deadline

    async def try_lead(self) -> bool:
        try:
            return await self._try_lead()
        except (Conflict, AlreadyExists):
            return False  # another candidate wrote first; its record is what we observe next time
        except KubeError as exc:
            log.warning("lease %s/%s: %s", self.namespace, self.name, exc)
            return False

    async def _try_lead(self) -> bool:
        now = self._monotonic()
        lease = await self.client.get_or_none(LEASE, self.name, self.namespace)
        stamp = _micro_time()
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {
                    "acquireTime": stamp,
                    "holderIdentity": self.identity,
                    "leaseDurationSeconds": int(self.lease_seconds),
                    "leaseTransitions": 0,
                    "renewTime": stamp,
                },
            }
            await self.client.create(body)
            self.last_renewed = now
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        record = (holder, spec.get("renewTime"), spec.get("acquireTime"), spec.get("leaseTransitions"))
        if record != self._observed:
            self._observed, self._observed_at = record, now
        duration = float(spec.get("leaseDurationSeconds") or self.lease_seconds)
        expired = now - self._observed_at >= duration
        if holder and holder != self.identity and not expired:
            return False
        patch_spec: dict[str, Any] = {"holderIdentity": self.identity, "renewTime": stamp}
        if holder != self.identity:
            patch_spec["acquireTime"] = stamp
            patch_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            patch_spec["leaseDurationSeconds"] = int(self.lease_seconds)
        version = lease["metadata"].get("resourceVersion")
        # The resourceVersion in a patch makes it conditional: a concurrent writer makes it fail with 409.
        await self.client.patch(
            LEASE, self.name, {"metadata": {"resourceVersion": version}, "spec": patch_spec}, namespace=self.namespace
        )
        self.last_renewed = now
        if holder != self.identity:
            log.info("lease %s/%s: %s is now the leader", self.namespace, self.name, self.identity)
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this candidate leads (True) or `stop` is set (False)."""
        while not stop.is_set():
            if await self.try_lead():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.renew_seconds)
        return False

    async def keep(self, stop: asyncio.Event, lost: asyncio.Event) -> None:
        """Renew until `stop`; set `lost` (and return) when renewing failed past the deadline."""
        while not stop.is_set():
            await self.try_lead()
            if not self.leading:
                log.error("lease %s/%s: could not renew; stepping down", self.namespace, self.name)
                lost.set()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.renew_seconds)

    async def release(self) -> None:
        """Give the Lease up on a clean shutdown so a standby takes over at once instead of after expiry."""
        try:
            lease = await self.client.get_or_none(LEASE, self.name, self.namespace)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            patch = {
                "metadata": {"resourceVersion": lease["metadata"].get("resourceVersion")},
                "spec": {"holderIdentity": None},
            }
            await self.client.patch(LEASE, self.name, patch, namespace=self.namespace)
        except KubeError as exc:
            log.warning("lease %s/%s: release failed: %s", self.namespace, self.name, exc)
