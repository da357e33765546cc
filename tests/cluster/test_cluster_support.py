"""The test harness itself: cluster DNS answers, kubelet-style env resolution, path mapping, netns wiring.

Role: unit tests (sockets on 127.0.0.1) and one namespace test (root): the harness must be right for the
integration tests to mean anything.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dnslib import RCODE

from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.support.beam import LaunchError, PathMap, PodFacts, RenderedApp, expand, resolve_env
from tests.support.dns import ClusterDns, ClusterResolver, Endpoint, ServiceZone, query
from tests.support.netns import GATEWAY_V4, NETNS_ETC, PodNetwork, in_namespace, namespace_pids

ZONE = ServiceZone("kv-headless", "data", "cluster.local", (("epmd", 4369), ("dist", 9000)))
FQDN = "kv-headless.data.svc.cluster.local"


@pytest.fixture
def server() -> Iterator[tuple[ClusterDns, list[Endpoint]]]:
    endpoints = [Endpoint("10.200.0.12", "kv-0"), Endpoint("10.200.0.13", "kv-1")]
    dns = ClusterDns(ClusterResolver(ZONE, lambda: list(endpoints)), "127.0.0.1", 0)
    dns.start()
    yield dns, endpoints
    dns.stop()


def answers(dns: ClusterDns, name: str, qtype: str, tcp: bool = False) -> list[str]:
    reply = query("127.0.0.1", dns.tcp_port if tcp else dns.port, name, qtype, tcp=tcp)
    return sorted(str(rr.rdata) for rr in reply.rr)


def test_dns_answers_like_cluster_dns(server: tuple[ClusterDns, list[Endpoint]]) -> None:
    dns, _ = server
    assert answers(dns, FQDN, "A") == ["10.200.0.12", "10.200.0.13"]
    assert answers(dns, f"kv-1.{FQDN}", "A") == ["10.200.0.13"]
    assert answers(dns, f"_dist._tcp.{FQDN}", "SRV") == [f"0 50 9000 kv-0.{FQDN}.", f"0 50 9000 kv-1.{FQDN}."]
    assert answers(dns, f"_epmd._tcp.{FQDN}", "SRV") == [f"0 50 4369 kv-0.{FQDN}.", f"0 50 4369 kv-1.{FQDN}."]
    assert len(answers(dns, FQDN, "SRV")) == 4  # the Service name itself: every port of every endpoint
    assert answers(dns, FQDN, "A", tcp=True) == ["10.200.0.12", "10.200.0.13"]
    missing = query("127.0.0.1", dns.port, f"kv-7.{FQDN}", "A")
    assert missing.header.rcode == RCODE.NXDOMAIN
    outside = query("127.0.0.1", dns.port, "example.com", "A")
    assert outside.header.rcode == RCODE.NXDOMAIN


def test_dns_rereads_endpoints_on_every_query(server: tuple[ClusterDns, list[Endpoint]]) -> None:
    dns, endpoints = server
    endpoints[1] = Endpoint("10.200.0.99", "kv-1")  # the pod came back elsewhere
    endpoints.append(Endpoint("10.200.0.40"))  # a Deployment pod: dashed-IP name
    endpoints.append(Endpoint("fd00:200::7", "kv-3"))
    assert answers(dns, f"kv-1.{FQDN}", "A") == ["10.200.0.99"]
    assert answers(dns, f"10-200-0-40.{FQDN}", "A") == ["10.200.0.40"]
    assert answers(dns, f"kv-3.{FQDN}", "AAAA") == ["fd00:200::7"]
    assert answers(dns, f"kv-3.{FQDN}", "A") == []
    endpoints.clear()
    assert answers(dns, FQDN, "A") == []


def test_kubelet_expansion() -> None:
    env = {"POD_NAME": "kv-0", "A": "x"}
    assert expand("rel@$(POD_NAME).svc", env) == "rel@kv-0.svc"
    assert expand("$(MISSING)-$(A)", env) == "$(MISSING)-x"  # undefined references stay as written
    assert expand("$$(A) $$", env) == "$(A) $"


def rendered_app(**overrides: object) -> RenderedApp:
    spec = AppSpec.model_validate({"name": "kv", "namespace": "data", "image": "x:1", "identity": "stable",
                                   "env": {"POOL": "5"}, **overrides})  # fmt: skip
    return RenderedApp(render(spec).objects, spec.clusterDomain)


def test_env_resolution_follows_the_rendered_container() -> None:
    app = rendered_app()
    env = resolve_env(
        app.container, PodFacts("kv-2", "data", "10.1.2.3"), {"kv-erlang-cookie": {"cookie": "c00kie"}},
        {"kv-env": {"POOL": "5"}},
    )  # fmt: skip
    assert env["RELEASE_NODE"] == "kv@kv-2.kv-headless.data.svc.cluster.local"
    assert (env["POD_IP"], env["POD_NAMESPACE"], env["RELEASE_COOKIE"], env["POOL"]) == (
        "10.1.2.3", "data", "c00kie", "5",
    )  # fmt: skip
    with pytest.raises(LaunchError, match="Secret kv-erlang-cookie key cookie not provided"):
        resolve_env(app.container, PodFacts("kv-2", "data", "10.1.2.3"), {}, {})


def test_path_map_rewrites_only_whole_mount_paths(tmp_path: Path) -> None:
    paths = PathMap({"/etc/beamkube": tmp_path / "cfg", "/etc/beamkube/tls": tmp_path / "tls", "/tmp": tmp_path})
    assert paths.translate("/etc/beamkube/vm.args") == f"{tmp_path}/cfg/vm.args"
    assert paths.translate('{certfile,"/etc/beamkube/tls/tls.crt"}') == f'{{certfile,"{tmp_path}/tls/tls.crt"}}'
    assert paths.translate("/tmp") == str(tmp_path)
    assert paths.translate("/tmpfoo /var/tmp") == "/tmpfoo /var/tmp"


@pytest.mark.netns
def test_pod_namespace_resolves_short_names_through_the_search_path(netns_ok: None) -> None:
    """resolv.conf (search path, ndots:5) and /etc/hosts as `ip netns exec` shows them to the pod, with the
    cluster DNS listening in the switch namespace."""
    search = ["data.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    with PodNetwork(search=search) as network:
        pod = network.add_pod("kv-0", hostname="kv-0", fqdn=f"kv-0.{FQDN}")
        other = network.add_pod("kv-1", hostname="kv-1", fqdn=f"kv-1.{FQDN}")
        endpoints = [Endpoint(pod.ipv4, "kv-0"), Endpoint(other.ipv4, "kv-1")]
        dns = in_namespace(network.switch, lambda: ClusterDns(ClusterResolver(ZONE, lambda: endpoints), GATEWAY_V4))
        dns.start()
        try:
            script = "getent hosts kv-1.kv-headless; getent ahostsv4 kv-headless | cut -d' ' -f1 | sort -u; hostname"
            out = subprocess.run(
                ["ip", "netns", "exec", pod.netns, "sh", "-c", script], capture_output=True, text=True, timeout=10
            )
        finally:
            dns.stop()
        lines = out.stdout.split()
        assert lines[:2] == [other.ipv4, f"kv-1.{FQDN}"]  # short name + search path → per-pod record
        assert sorted({pod.ipv4, other.ipv4}) == sorted(lines[2:4])  # the Service name → every pod
        hosts = (NETNS_ETC / pod.netns / "hosts").read_text()
        assert f"{pod.ipv4}\tkv-0.{FQDN} kv-0" in hosts
        network.remove_pod("kv-0")
        assert not (NETNS_ETC / pod.netns).exists()
        assert namespace_pids(pod.netns) == []
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    assert network.prefix not in listed
