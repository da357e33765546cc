"""net_ticktime against real CFS throttling: a node under a tight CPU quota keeps its connections, a node
stalled longer than the tick time loses them and rejoins after.

Role: integration tests (root, network namespaces, Erlang, cgroup v1 cpu/freezer). One pod's node is made
busy (two interpreted busy loops) inside a cgroup with a CFS quota — the kernel throttles it exactly as a
Kubernetes CPU limit does — and its peers' nodes() are sampled the whole time. The figures (throttled
periods and time, the time to nodedown of a frozen node) are printed; docs/clustering.md quotes them.
"""

from __future__ import annotations

import time

import pytest

from tests.cluster.conftest import FAST, _unavailable, rendered
from tests.support import cgroups
from tests.support.beam import running_cluster, wait_for

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(120)]

TICK = FAST["netTicktime"]  # 2 s, so the stall case stays short; production default 10 s scales it


@pytest.fixture
def cgroups_ok(netns_ok: None) -> None:
    reason = cgroups.available()
    if reason is not None:
        _unavailable(reason)


@pytest.mark.parametrize(("quota_us", "period_us"), [(10_000, 100_000), (20_000, 1_000_000)])
def test_throttled_node_keeps_its_connections(cgroups_ok: None, quota_us: int, period_us: int) -> None:
    app = rendered({"name": "web", "namespace": "shop", "image": "x/web:1", "cluster": {**FAST}})
    with running_cluster(app) as cluster:
        pods = cluster.start_pods(app.pod_name(i) for i in range(3))
        cluster.wait_mesh(timeout=10)
        assert cluster.control is not None
        control, victim = cluster.control, pods[0]
        peers = [p.node for p in pods[1:]]
        with cgroups.CpuQuota(victim.net.netns, quota_us, period_us) as quota:
            control.burn(victim.node, 2)
            start, lost = time.monotonic(), []
            while time.monotonic() - start < 5 * TICK:
                views = control.nodes(peers)
                lost += [n for n in peers if victim.node not in (views.get(n) or set())]
                time.sleep(0.2)
            stat = quota.stat()
        print(f"quota {quota_us}/{period_us} us: {stat['nr_throttled']} of {stat['nr_periods']} periods throttled, "
              f"{stat['throttled_time'] / 1e9:.1f} s throttled in {5 * TICK} s; peers lost it {len(lost)} times")
        assert stat["nr_throttled"] > 0  # the kernel really throttled the node
        assert lost == []


def test_stall_longer_than_the_tick_time_drops_the_node_and_it_rejoins(cgroups_ok: None) -> None:
    app = rendered({"name": "web", "namespace": "shop", "image": "x/web:1", "cluster": {**FAST}})
    with running_cluster(app) as cluster:
        pods = cluster.start_pods(app.pod_name(i) for i in range(3))
        cluster.wait_mesh(timeout=10)
        assert cluster.control is not None
        control, victim = cluster.control, pods[0]
        peers = [p.node for p in pods[1:]]
        with cgroups.frozen(victim.net.netns):
            dropped = wait_for(
                lambda: all(victim.node not in (v or set()) for v in control.nodes(peers).values()), 6 * TICK
            )
        rejoined = cluster.wait_mesh(timeout=6 * TICK)
        print(f"net_ticktime {TICK} s: a frozen node was dropped after {dropped:.1f} s, rejoined {rejoined:.1f} s "
              "after thawing")
        assert TICK * 0.75 <= dropped <= TICK * 2
