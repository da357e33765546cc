"""A restarted operator's first pass: every app is pruned once, yet the requests do not grow with the apps.

A new operator process has pruned nothing yet, so its first reconcile of each BeamApp prunes; the cluster-scoped
part of that prune listed PriorityClasses by owner labels once per app (1,000 apps: 1,000 LISTs on every
start). It reads the watch-fed cache instead, and still deletes a stale cluster-scoped child.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from beamkube.operator.children import OWNER_NAME, OWNER_NAMESPACE
from beamkube.operator.crd import beamapp_from_spec
from tests.operator.harness import OperatorProcess, client_for, cluster, is_ready, wait_for

APPS = 5


def test_restarted_operator_prunes_each_app_once_without_a_list_per_app(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path, ready_seconds=0.01) as running:
            client = client_for(running)
            first = await OperatorProcess(running, identity="op-a").start()
            names = [f"app-{i}" for i in range(APPS)]
            for name in names:
                spec = {"name": name, "namespace": "apps", "image": "ghcr.io/acme/app:1.0", "replicas": 1}
                await client.create(beamapp_from_spec(spec))
            await wait_for(lambda: all(is_ready(running, "apps", n) for n in names), timeout=30, what="all Ready")
            await first.stop()
            # While no operator runs, a PriorityClass app-0 no longer renders is left behind (say, by an older
            # operator version): the restarted operator's first pass must prune it.
            labels = {OWNER_NAMESPACE: "apps", OWNER_NAME: "app-0"}
            stale = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "value": 5,
                     "metadata": {"name": "app-0-stale", "labels": labels}}  # fmt: skip
            running.api.put(stale)
            mark = len(running.api.log)
            second = await OperatorProcess(running, identity="op-b").start()
            await wait_for(lambda: running.api.get("priorityclasses", "", "app-0-stale") is None, timeout=20,
                           what="the stale PriorityClass pruned")  # fmt: skip
            await asyncio.sleep(1.0)  # the rest of the first pass
            window = running.api.log[mark:]
            pc_lists = [r for r in window if r.plural == "priorityclasses" and r.method == "GET" and not r.name]
            lists = [r for r in pc_lists if not r.params.get("watch")]
            assert 1 <= len(lists) <= 2, f"{len(lists)} LISTs of PriorityClasses for {APPS} apps"
            child_gets = [r for r in window if r.method == "GET" and r.name and r.plural not in ("leases",)]
            assert child_gets == [], [r.path for r in child_gets]
            ignored = ("leases", "priorityclasses")  # the Lease, and the one pruned PriorityClass
            writes = [r for r in window if r.is_write and not r.dry_run and r.plural not in ignored]
            assert writes == [], [r.path for r in writes]
            await second.stop()
            await client.aclose()

    asyncio.run(main())
