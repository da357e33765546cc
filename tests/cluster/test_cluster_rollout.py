"""Rolling updates with real nodes: `rollout.mixedVersions` and `shutdown.drain`.

Role: integration tests (root, network namespaces, Erlang processes, a real `mix release` for the drain).
A rolling update is played the way the Deployment controller plays it with the rendered strategy
(maxSurge 50 %, maxUnavailable 0: surge new pods, then retire old ones), both versions' pods behind the one
headless Service, each started from its own render (v1 and v2 differ only in the image tag).
- `isolate`: a v1 node must never see a v2 node (sampled throughout), and v2 is one whole cluster at the end;
- `allow`: old and new nodes mesh while both run;
- `drain`: the kubelet-style termination (tests/support/beam.py `Cluster.terminate`) runs the rendered
  preStop inside the pod; the drain expression logs on the node itself, before SIGTERM; a drain that
  overruns `timeoutSeconds` is cut off and SIGTERM still follows.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import FAST, rendered
from tests.support.beam import Cluster, running_cluster, wait_for

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(120)]


def spec(version: str, mixed: str) -> dict[str, Any]:
    return {"name": "web", "namespace": "shop", "image": f"x/web:{version}", "replicas": 3,
            "rollout": {"mixedVersions": mixed}, "cluster": {**FAST}}  # fmt: skip


class CrossVersionWatch:
    """Samples every running node's nodes() in the background; records any edge between versions."""

    def __init__(self, cluster: Cluster, version_of: dict[str, str]) -> None:
        self.cluster, self.version_of = cluster, version_of
        self.crossings: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        assert self.cluster.control is not None
        while not self._stop.is_set():
            views = self.cluster.control.nodes(sorted(self.cluster.nodes), timeout_ms=500)
            for node, peers in views.items():
                for peer in peers or set():
                    if self.version_of.get(peer) not in (None, self.version_of.get(node)):
                        self.crossings.add((node, peer))
            self._stop.wait(0.1)

    def __enter__(self) -> CrossVersionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.parametrize("mixed", ["isolate", "allow"])
def test_rolling_update_v1_to_v2(netns_ok: None, mixed: str) -> None:
    v1, v2 = rendered(spec("1.0.0", mixed)), rendered(spec("2.0.0", mixed))
    with running_cluster(v1) as cluster:
        old = cluster.start_pods(v1.pod_name(i) for i in range(3))
        cluster.wait_mesh(timeout=10)
        version_of = {p.node: "v1" for p in old}
        if mixed == "isolate":
            assert all(p.node.startswith("web-1_0_0@") for p in old)
        with CrossVersionWatch(cluster, version_of) as watch:
            new = []
            for step in range(3):  # surge one new pod, wait until it is up, retire one old pod
                pod = cluster.start_pod(v2.pod_name(10 + step), app=v2)
                version_of[pod.node] = "v2"
                new.append(pod)
                if mixed == "allow":
                    cluster.wait_mesh(timeout=15)  # old and new together: one cluster
                else:
                    cluster.wait_mesh({p.node for p in new}, timeout=15)  # the v2 nodes among themselves
                    survivors = {p.node for p in old[step:]}
                    cluster.wait_mesh(survivors, timeout=5)  # v1 stays whole, untouched
                cluster.wait_booted(timeout=15)
                cluster.terminate(old[step].name)
            cluster.wait_mesh({p.node for p in new}, timeout=15)
        assert cluster.nodes == {p.node for p in new}
        if mixed == "isolate":
            assert watch.crossings == set()
            assert all(p.node.startswith("web-2_0_0@") for p in new)
        else:
            assert watch.crossings  # they did mesh across versions


def drain_spec(expression: str, timeout: int, family: str = "ipv4") -> dict[str, Any]:
    return {
        "name": "mixapp", "namespace": "shop", "image": "x/mixapp:1", "replicas": 2,
        "release": {"flavour": "mix", "name": "mix_app"}, "preStopSleepSeconds": 1,
        "terminationGracePeriodSeconds": 30, "cluster": {**FAST, "ipFamily": family},
        "shutdown": {"drain": {"rpc": expression, "timeoutSeconds": timeout}},
    }  # fmt: skip


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_drain_hook_runs_on_the_node_before_sigterm(netns_ok: None, mix_release: Path, family: str) -> None:
    """On IPv6 the release's rpc helper node must speak inet6_tcp too (RELEASE_REMOTE_VM_ARGS)."""
    marker = "beamkube-drain-ran"
    app = rendered(drain_spec(f'require Logger; Logger.warning("{marker} on #{{node()}}")', 10, family))
    with running_cluster(app, mode="release", release_dir=mix_release) as cluster:
        pods = cluster.start_pods(app.pod_name(i) for i in range(2))
        cluster.wait_mesh(timeout=20)
        victim, peer = pods
        times = cluster.terminate(victim.name)
        log = victim.logs()
        assert f"{marker} on {victim.node}" in log, (log[-2000:], (victim.root / "prestop.log").read_text())
        assert times["hook"] >= 1  # the drain, then the 1 s preStop sleep, then SIGTERM
        assert times["exit"] < 10  # init:stop after SIGTERM
        assert victim.process.returncode is not None
        cluster.wait_mesh({peer.node}, timeout=10)


def test_drain_that_overruns_its_timeout_is_cut_off_and_sigterm_follows(netns_ok: None, mix_release: Path) -> None:
    app = rendered(drain_spec("Process.sleep(60_000)", 2))
    with running_cluster(app, mode="release", release_dir=mix_release) as cluster:
        pods = cluster.start_pods(app.pod_name(i) for i in range(2))
        cluster.wait_mesh(timeout=20)
        times = cluster.terminate(pods[0].name)
        assert 2.5 <= times["hook"] < 8  # 2 s timeout + 1 s sleep, not the drain's 60 s
        wait_for(lambda: pods[0].process.poll() is not None, 10)
