"""Many apps: a restarted operator's first pass prunes every app once, yet its requests do not grow with the
apps; many apps created at once are written once each, with no failed (so no retried) request.

A new operator process has pruned nothing yet, so its first reconcile of each BeamApp prunes; the cluster-scoped
part of that prune listed PriorityClasses by owner labels once per app (1,000 apps: 1,000 LISTs on every
start). It reads the watch-fed cache instead, and still deletes a stale cluster-scoped child.
"""

from __future__ import annotations

import asyncio
from collections import Counter
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


def test_many_apps_at_once_reach_ready_without_a_failed_or_repeated_write(tmp_path: Path) -> None:
    # 20 BeamApps created together (workers busy, status echoes and workload events interleaved): every child
    # is applied once, each status patched at most twice (first status, then Ready), and the double answered
    # no request with an error, so nothing was retried: what a real server accepts is not sent again.
    async def main() -> None:
        with cluster(tmp_path, ready_seconds=0.01) as running:
            client = client_for(running)
            # One replica: the test's 1.5 s Lease must not make a busy operator step down halfway.
            options = {"resync_seconds": 60, "workers": 4, "leader_election": False}
            operator = await OperatorProcess(running, options=options).start()
            mark = len(running.api.log)
            names = [f"app-{i:02d}" for i in range(20)]
            specs = [{"name": n, "namespace": "apps", "image": "ghcr.io/acme/app:1.0", "replicas": 1} for n in names]
            await asyncio.gather(*(client.create(beamapp_from_spec(spec)) for spec in specs))
            await wait_for(lambda: all(is_ready(running, "apps", n) for n in names), timeout=60, what="all Ready")
            await asyncio.sleep(0.5)  # the last status echoes
            window = [r for r in running.api.log[mark:] if r.plural != "leases"]
            failed = [f"{r.status} {r.method} {r.path}" for r in window if r.status >= 400]
            assert failed == []
            writes = Counter(f"{r.method} {r.path}" for r in window if r.is_write and not r.dry_run)
            repeated = {w: n for w, n in writes.items() if n > (2 if w.endswith("/status") else 1)}
            # POSTs name the collection, not the object: one BeamApp and one cookie Secret per app.
            assert repeated == {"POST /apis/beamkube.io/v1alpha1/namespaces/apps/beamapps": len(names),
                                "POST /api/v1/namespaces/apps/secrets": len(names)}  # fmt: skip
            assert sum(1 for w in writes if w.startswith("PATCH") and "/deployments/" in w) == len(names)
            await operator.stop()
            await client.aclose()

    asyncio.run(main())
