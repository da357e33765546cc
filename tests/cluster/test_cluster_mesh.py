"""Real Erlang nodes in network-namespace pods, started from the rendered manifests, for each discovery.

Role: integration tests (root, network namespaces, Erlang processes, a DNS server). Every node gets exactly
the env and arguments `beamkube render` produced (see tests/support/beam.py); nothing here names a flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from beamkube.examples import example_path
from beamkube.render import render
from beamkube.spec import load_spec
from tests.cluster.conftest import SPECS, rendered
from tests.support.beam import Cluster, RenderedApp, running_cluster, wait_for

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(60)]

ALL = ["dns", "dnssrv", "static"]
STABLE = ["dnssrv", "static"]


@pytest.fixture
def cluster(request: pytest.FixtureRequest, netns_ok: None) -> Iterator[Cluster]:
    with running_cluster(rendered(SPECS[request.param])) as running:
        yield running


def names(app: RenderedApp, count: int, start: int = 0) -> list[str]:
    return [app.pod_name(i) for i in range(start, start + count)]


@pytest.mark.parametrize("cluster", ALL, indirect=True)
@pytest.mark.parametrize("size", [3, 5])
def test_pods_started_together_form_a_full_mesh(cluster: Cluster, size: int) -> None:
    pods = cluster.start_pods(names(cluster.app, size))
    cluster.wait_mesh(timeout=10)
    assert len({p.node for p in pods}) == size
    for pod in pods:  # the node name is the rendered RELEASE_NODE, resolved as the kubelet would
        host = pod.node.split("@", 1)[1]
        assert host in (pod.net.ipv4, f"{pod.name}.{cluster.app.headless_service['metadata']['name']}."
                        f"{cluster.app.namespace}.svc.cluster.local")  # fmt: skip


@pytest.mark.parametrize("cluster", ALL, indirect=True)
def test_scaling_3_to_5_to_2(cluster: Cluster) -> None:
    app = cluster.app
    first = cluster.start_pods(names(app, 3))
    cluster.wait_mesh(timeout=10)
    cluster.start_pods(names(app, 2, start=3))
    cluster.wait_mesh(timeout=10)
    assert len(cluster.nodes) == 5
    # Scale down once the rollout is done: a node still booting defers SIGTERM until its boot ends (with
    # `static` and fewer pods than maxReplicas that is sync_nodes_timeout, 10 s).
    cluster.wait_booted(timeout=15)
    # Scale-down removes the highest ordinals (StatefulSet) with SIGTERM, as the kubelet does.
    leaving = sorted(cluster.pods)[2:] if app.workload["kind"] == "StatefulSet" else [p.name for p in first]
    cluster.stop(leaving)
    remaining = cluster.nodes
    assert len(remaining) == 2
    cluster.wait_mesh(remaining, timeout=10)


@pytest.mark.parametrize("cluster", STABLE, indirect=True)
def test_statefulset_pod_killed_rejoins_with_a_new_ip_under_the_same_name(cluster: Cluster) -> None:
    app = cluster.app
    cluster.start_pods(names(app, 3))
    cluster.wait_mesh(timeout=10)
    before = set(cluster.nodes)
    victim = app.pod_name(1)
    old = cluster.kill(victim)  # SIGKILL and the namespace gone: no FIN reaches the peers
    new = cluster.start_pod(victim)  # the controller recreates it at once, with a new IP
    assert new.net.ipv4 != old.net.ipv4
    assert new.node == old.node
    cluster.wait_mesh(before, timeout=15)


@pytest.mark.parametrize("cluster", ["dns"], indirect=True)
def test_deployment_pod_replaced_newcomer_joins_and_dead_node_leaves(cluster: Cluster) -> None:
    app = cluster.app
    pods = cluster.start_pods(names(app, 3))
    cluster.wait_mesh(timeout=10)
    dead = cluster.kill(pods[0].name)
    newcomer = cluster.start_pod(app.pod_name(3))
    assert newcomer.node != dead.node  # a new pod IP is a new node name
    # Exact equality: the newcomer is in every peer's nodes() and the dead node in none.
    cluster.wait_mesh(timeout=15)
    assert dead.node not in cluster.nodes


@pytest.mark.parametrize("cluster", ALL, indirect=True)
def test_wrong_cookie_is_refused_and_the_cluster_is_unharmed(cluster: Cluster) -> None:
    app = cluster.app
    good = cluster.start_pods(names(app, 3))
    cluster.wait_mesh(timeout=10)
    healthy = set(cluster.nodes)
    intruder = cluster.start_pod(app.pod_name(3), cookie="not-the-cluster-cookie")
    assert cluster.control is not None
    cluster.control.use_cookie(intruder.node, "not-the-cluster-cookie")
    # The intruder is in DNS, so both sides keep trying; each attempt is rejected in the handshake.
    wait_for(lambda: any("rejected" in p.logs() for p in [*good, intruder]), timeout=10)
    views = cluster.control.nodes(sorted(cluster.nodes))
    assert views[intruder.node] == set()
    for node in healthy:
        assert views[node] == healthy - {node}
    cluster.wait_mesh(healthy, timeout=1)


@pytest.mark.parametrize("cluster", ALL, indirect=True)
def test_partition_heals_after_the_link_is_restored(cluster: Cluster) -> None:
    app = cluster.app
    pods = cluster.start_pods(names(app, 3))
    cluster.wait_mesh(timeout=10)
    cut = pods[2]
    others = {p.node for p in pods if p is not cut}
    cluster.partition(cut.name, connected=False)
    assert cluster.control is not None
    control = cluster.control

    def split() -> bool:
        views = control.nodes(sorted(others))
        return all(views.get(n) == others - {n} for n in others)

    wait_for(split, timeout=10)  # net_ticktime 2 s: the peers drop the unreachable node
    cluster.partition(cut.name, connected=True)
    cluster.wait_mesh(timeout=15)


@pytest.mark.parametrize("example", ["better-together", "phoenix-shop", "astarte-pairing", "erlang-kv"])
def test_bundled_examples_cluster_as_rendered(example: str, netns_ok: None) -> None:
    """The bundled specs, unmodified (production poll interval and tick time, their own cookie Secret
    names, mix/relx/Distillery env): their pods mesh at boot."""
    spec = load_spec(example_path(example))
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    others: dict[str, dict[str, str]] = {}  # the app's own Secrets (DATABASE_URL...): placeholders
    for item in app.container["env"]:
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        if ref and item["name"] != "RELEASE_COOKIE":
            others.setdefault(ref["name"], {})[ref["key"]] = f"placeholder-{item['name'].lower()}"
    with running_cluster(app, extra_secrets=others) as cluster:
        cluster.start_pods(names(app, spec.replicas if spec.autoscaling is None else 3))
        cluster.wait_mesh(timeout=10)


def test_mix_release_cluster_forms_and_a_killed_pod_rejoins(netns_ok: None, mix_release: Path) -> None:
    """A real `mix release` (bin/mix_app start) with only the rendered env: RELEASE_VM_ARGS points at the
    rendered vm.args, whose -eval loop runs inside the release and needs no code in the app."""
    spec = {
        **SPECS["dnssrv"], "name": "mixapp", "release": {"flavour": "mix", "name": "mix_app"},
    }  # fmt: skip
    app = rendered(spec)
    with running_cluster(app, mode="release", release_dir=mix_release) as cluster:
        pods = cluster.start_pods(names(app, 3))
        cluster.wait_mesh(timeout=20)
        cmdline = Path(f"/proc/{pods[0].process.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"/releases/0.1.0/start") for part in cmdline), cmdline
        old = cluster.kill(pods[1].name)
        new = cluster.start_pod(pods[1].name)
        assert (new.node, new.net.ipv4 != old.net.ipv4) == (old.node, True)
        cluster.wait_mesh(timeout=20)


def test_mix_release_stateless_dns_cluster_forms(netns_ok: None, mix_release: Path) -> None:
    spec = {**SPECS["dns"], "release": {"flavour": "mix", "name": "mix_app"}}
    app = rendered(spec)
    with running_cluster(app, mode="release", release_dir=mix_release) as cluster:
        cluster.start_pods(names(app, 3))
        cluster.wait_mesh(timeout=20)
