"""Process types as one BEAM cluster: a `web` and a `worker` process, rendered as two Deployments, started as
real Erlang nodes in network-namespace pods from each workload's own rendered container, discover each other
through the one headless Service and form one full mesh; a worker pod killed and replaced rejoins it.

Role: integration tests (root, network namespaces, Erlang processes, a DNS server), on the helpers in
tests/support as they are: a `RenderedApp` per process (its `workload` is that process's Deployment) and a
`Cluster` that starts each pod from the app of its process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from beamkube.render import render
from beamkube.render.names import PROCESS_LABEL
from beamkube.spec.model import AppSpec
from tests.cluster.conftest import FAST
from tests.support.beam import Cluster, LaunchError, Pod, RenderedApp, running_cluster

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(90)]

SPECS: dict[str, dict[str, Any]] = {}
SPEC: dict[str, Any] = {
    "name": "shop",
    "namespace": "shop",
    "image": "x/shop:1",
    "replicas": 2,
    "cluster": {**FAST},
    "env": {"PHX_SERVER": "true"},
    "processes": {
        "web": {"env": {"ROLE": "web"}},
        "worker": {"env": {"ROLE": "worker", "PHX_SERVER": "false"}, "probes": {}, "replicas": 2},
    },
}

SPECS["dns"] = SPEC
# StatefulSets (pod DNS names, SRV records of the one headless Service): `shop-web-0` and `shop-worker-0`.
SPECS["dnssrv"] = {**SPEC, "identity": "stable", "web": None, "processes": {
    "web": {"env": {"ROLE": "web"}, "web": False, "probes": {}},
    "worker": {"env": {"ROLE": "worker", "PHX_SERVER": "false"}, "probes": {}, "replicas": 2},
}}  # fmt: skip


@dataclass(frozen=True)
class ProcessApp(RenderedApp):
    """The rendered objects seen from one process: its Deployment is `workload`."""

    process: str = "web"

    @property
    def workload(self) -> dict[str, Any]:
        for obj in self.objects:
            if (
                obj["kind"] in ("Deployment", "StatefulSet")
                and obj["metadata"]["labels"].get(PROCESS_LABEL) == self.process
            ):
                return obj
        raise LaunchError(f"no workload for process {self.process}")

    def vm_arg(self, flag: str) -> str | None:
        """The flag in this process's vm.args (its key of the app's one beam ConfigMap)."""
        items = next(v for v in self.pod_spec["volumes"] if v["name"] == "beam-config")["configMap"]
        data = self.find("ConfigMap", items["name"])["data"]
        for line in data[items["items"][0]["key"]].splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == flag:
                return str(parts[1])
        return None


class ProcessCluster:
    """One `Cluster` (network, DNS, control node) whose pods each start from their own process's app."""

    def __init__(self, cluster: Cluster, apps: dict[str, ProcessApp]) -> None:
        self.cluster = cluster
        self.apps = apps
        self._lock = threading.Lock()
        self.process_of: dict[str, str] = {}
        self.ordinals: dict[str, int] = {}

    def start(self, process: str, count: int = 1, ordinal: int | None = None) -> list[Pod]:
        """Start `count` pods of `process` (StatefulSet pods take the next ordinals, or `ordinal`)."""
        pods = []
        for _ in range(count):
            with self._lock:  # `Cluster.start_pod` reads `cluster.app`: point it at this process's
                if ordinal is None:
                    index = self.ordinals.get(process, 0)
                    self.ordinals[process] = index + 1
                else:
                    index = ordinal
                self.cluster.app = self.apps[process]
                name = self.apps[process].pod_name(index)
                pods.append(self.cluster.start_pod(name))
                self.process_of[name] = process
        return pods


def _apps(kind: str = "dns") -> dict[str, ProcessApp]:
    spec = AppSpec.model_validate(SPECS[kind])
    objects = render(spec).objects
    return {name: ProcessApp(objects, spec.clusterDomain, name) for name in spec.processes}


@pytest.fixture(params=sorted(SPECS))
def processes(request: pytest.FixtureRequest, netns_ok: None) -> Iterator[ProcessCluster]:
    apps = _apps(request.param)
    with running_cluster(apps["web"]) as cluster:
        yield ProcessCluster(cluster, apps)


def test_the_rendered_processes_share_discovery_cookie_and_network_policy() -> None:
    apps = _apps()
    web, worker = apps["web"], apps["worker"]
    assert web.workload["metadata"]["name"] == "shop-web" and worker.workload["metadata"]["name"] == "shop-worker"
    assert web.headless_service == worker.headless_service
    cookie = [next(e for e in a.container["env"] if e["name"] == "RELEASE_COOKIE") for a in (web, worker)]
    assert cookie[0] == cookie[1]
    policy = web.find("NetworkPolicy")
    dist_from = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    for app in (web, worker):
        labels = app.workload["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in dist_from.items()), "every process may reach epmd/dist"
        assert all(labels.get(k) == v for k, v in app.headless_service["spec"]["selector"].items())
    assert "http" not in {p["name"] for p in worker.container["ports"]}
    assert web.vm_arg("+S") == worker.vm_arg("+S")  # same CPU limit here, each from its own key


def test_web_and_worker_pods_form_one_mesh_and_a_replaced_worker_rejoins(processes: ProcessCluster) -> None:
    web = processes.start("web", 2)
    workers = processes.start("worker", 2)
    cluster = processes.cluster
    cluster.wait_mesh(timeout=15)
    assert len(cluster.nodes) == 4
    # Each pod ran its own process's container: the process env reached it, over the shared ConfigMap env.
    assert {p.env["ROLE"] for p in web} == {"web"} and {p.env["ROLE"] for p in workers} == {"worker"}
    assert {p.env["PHX_SERVER"] for p in workers} == {"false"} and {p.env["PHX_SERVER"] for p in web} == {"true"}
    victim = workers[0]
    cluster.kill(victim.name)  # a node failure: no goodbye to the peers
    if cluster.app.workload["kind"] == "StatefulSet":  # recreated under its name, with a new IP
        replacement = processes.start("worker", ordinal=0)[0]
        assert replacement.node == victim.node and replacement.net.ipv4 != victim.net.ipv4
        cluster.wait_mesh(timeout=20)
        assert len(cluster.nodes) == 4
        return
    replacement = processes.start("worker")[0]  # the ReplicaSet makes a new pod: new name, new IP
    assert replacement.node != victim.node
    cluster.wait_mesh(timeout=20)
    assert victim.node not in cluster.nodes and len(cluster.nodes) == 4
