"""Leader election: one Lease holder at a time, takeover only after expiry by the candidate's own clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from beamkube.operator.leader import LeaseElector
from beamkube.operator.reconcile import BEAMAPP
from tests.operator.harness import (
    OperatorProcess,
    client_for,
    cluster,
    example_app,
    is_ready,
    wait_for,
    writes_except_leases,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lease_fencing_and_expiry(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path, controller=False) as running:
            clock_a, clock_b = Clock(), Clock()
            client_a, client_b = client_for(running), client_for(running)
            kwargs = {"lease_seconds": 15.0, "renew_seconds": 2.0, "renew_deadline": 10.0}
            a = LeaseElector(client_a, "beamkube-system", "op", "a", monotonic=clock_a, **kwargs)
            b = LeaseElector(client_b, "beamkube-system", "op", "b", monotonic=clock_b, **kwargs)
            assert await a.try_lead() is True
            assert await b.try_lead() is False, "a fresh Lease held by someone else"
            clock_b.now += 14
            assert await b.try_lead() is False, "not yet expired by b's own clock"
            clock_a.now += 5
            assert await a.try_lead() is True, "a renews"
            clock_b.now += 14
            assert await b.try_lead() is False, "a's renewal restarted b's expiry timer"
            clock_b.now += 16  # a stopped renewing (crashed): b observes no change for a full lease duration
            assert await b.try_lead() is True
            lease = running.api.get("leases", "beamkube-system", "op")
            assert lease is not None
            assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
            clock_a.now += 1
            assert await a.try_lead() is False, "a sees b's record, fresh by a's clock"
            clock_a.now += 10
            assert not a.leading, "a stops leading once it could not renew within renew_deadline"
            # Of two candidates racing for an expired Lease the API server lets one win; the loser's
            # conditional write (it carries the resourceVersion it read) gets 409 and it does not lead.
            clock_c = Clock()
            c = LeaseElector(client_a, "beamkube-system", "op", "c", monotonic=clock_c, **kwargs)
            assert await c.try_lead() is False
            clock_c.now += 20
            running.api.fail(409, "PATCH", "leases", reason="Conflict", times=10)
            assert await c.try_lead() is False
            running.api.faults.clear()
            lease = running.api.get("leases", "beamkube-system", "op")
            assert lease is not None and lease["spec"]["holderIdentity"] == "b"
            # A clean release hands over at once.
            await b.release()
            assert await a.try_lead() is True
            await client_a.aclose()
            await client_b.aclose()

    asyncio.run(main())


def test_two_replicas_one_leader_and_takeover(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            first = await OperatorProcess(running, identity="op-a").start()
            await client.create(example_app("erlang-kv"))
            await wait_for(lambda: is_ready(running, "data", "kv"), what="kv Ready")
            watches = running.api.open_watches
            mark = len(running.api.log)
            second = await OperatorProcess(running, identity="op-b").start()
            await asyncio.sleep(0.6)  # several of op-b's attempts
            lease = running.api.get("leases", "beamkube-system", "beamkube-operator")
            assert lease is not None and lease["spec"]["holderIdentity"] == "op-a"
            assert second.alive, "the standby waits, it does not exit"
            # The standby opens no watch and nothing but Lease traffic is written meanwhile.
            assert running.api.open_watches == watches
            assert writes_except_leases(running, mark) == []
            assert await first.stop() == 0  # SIGTERM: releases the Lease
            await wait_for(
                lambda: (running.api.get("leases", "beamkube-system", "beamkube-operator") or {})
                .get("spec", {})
                .get("holderIdentity")
                == "op-b",
                timeout=5,
                what="op-b taking over",
            )
            patched = await client.patch(BEAMAPP, "kv", {"spec": {"replicas": 4}}, namespace="data")
            generation = patched["metadata"]["generation"]
            await wait_for(lambda: is_ready(running, "data", "kv", generation), what="op-b reconciling")
            app = running.api.get("beamapps", "data", "kv")
            assert app is not None and app["status"]["readyReplicas"] == 4
            assert len(app["status"]["nodes"]) == 4
            await second.stop()
            await client.aclose()

    asyncio.run(main())
