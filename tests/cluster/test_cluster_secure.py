"""IPv6 pods (`-proto_dist inet6_tcp`, AAAA records) and TLS distribution (`inet_tls`/`inet6_tls` with the
certificates from a Secret), with real nodes in namespace pods.

Role: integration tests (root, network namespaces, Erlang, openssl). As in test_cluster_mesh.py, every node
runs exactly what `beamkube render` produced; the test only supplies the Secrets' contents.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import FAST, rendered
from tests.support.beam import make_tls_secret, running_cluster, wait_for

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(60)]

STATELESS: dict[str, Any] = {"name": "chat", "namespace": "chat", "image": "x/chat:1"}
STABLE: dict[str, Any] = {**STATELESS, "identity": "stable", "web": None}


@pytest.mark.parametrize(
    ("base", "discovery"),
    [(STATELESS, "dns"), (STABLE, "dnssrv"), (STABLE, "static")],
    ids=["dns-aaaa", "dnssrv-aaaa", "static-aaaa"],
)
def test_ipv6_pods_form_a_mesh_and_a_replaced_pod_rejoins(
    base: dict[str, Any], discovery: str, netns_ok: None
) -> None:
    """Every discovery mode on IPv6 (`kubernetes` over IPv6 is in test_cluster_kubernetes.py)."""
    app = rendered({**base, "cluster": {**FAST, "ipFamily": "ipv6", "discovery": discovery}})
    assert app.vm_arg("-proto_dist") == "inet6_tcp"
    with running_cluster(app) as cluster:
        pods = cluster.start_pods([app.pod_name(i) for i in range(3)])
        cluster.wait_mesh(timeout=10)
        if base is STATELESS:  # node names carry the pod's IPv6 address
            assert all(ipaddress.ip_address(p.node.split("@", 1)[1]).version == 6 for p in pods)
        cluster.kill(pods[1].name)
        cluster.start_pod(pods[1].name if base is STABLE else app.pod_name(3))
        cluster.wait_mesh(timeout=15)


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_tls_distribution_meshes_and_refuses_a_foreign_certificate(
    family: str, netns_ok: None, tmp_path: Path
) -> None:
    app = rendered({**STATELESS, "cluster": {**FAST, "ipFamily": family, "tls": {"secretName": "chat-dist-tls"}}})
    assert app.vm_arg("-proto_dist") == ("inet6_tls" if family == "ipv6" else "inet_tls")
    secret = make_tls_secret(tmp_path / "ca")
    with running_cluster(app, extra_secrets={"chat-dist-tls": secret}) as cluster:
        cluster.start_pods([app.pod_name(i) for i in range(3)])
        cluster.wait_mesh(timeout=15)
        healthy = set(cluster.nodes)
        # Same cookie, but a certificate from another CA: the TLS handshake fails before distribution starts.
        foreign = make_tls_secret(tmp_path / "other", ca_name="someone-else")
        intruder = cluster.start_pod(app.pod_name(3), secrets_override={"chat-dist-tls": foreign})
        # The handshake fails on the certificate chain, in both directions (it dials and is dialled).
        wait_for(lambda: "unknown ca" in intruder.logs().lower() or "unknown_ca" in intruder.logs(), timeout=10)
        assert cluster.control is not None
        views = cluster.control.nodes(sorted(cluster.nodes))
        assert views[intruder.node] is None  # even the control node (good CA) cannot reach it
        assert intruder.process.poll() is None  # it runs, alone
        for node in healthy:
            assert views[node] == healthy - {node}
