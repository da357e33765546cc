"""`kubernetes` discovery with real Erlang nodes: the rendered loop reads EndpointSlices from the API.

Role: integration tests (root, network namespaces, Erlang processes, the API double on 127.0.0.1 reached
from the pods through a TLS bridge in the switch namespace). The pods' Pod objects go into the double, the
endpoints/EndpointSlice controller (tests/support/endpoints.py) turns them into slices carrying the
Service's labels, and the loop `beamkube render` put in vm.args lists them with the service-account token.
The cluster DNS answers nothing for the headless Service here, so the mesh can only come from the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import FAST, rendered
from tests.support.kubeapi import api_cluster

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(90)]

SPECS: dict[str, dict[str, Any]] = {
    "deployment": {"name": "chat", "namespace": "chat", "image": "x/chat:1", "replicas": 3,
                   "cluster": {**FAST, "discovery": "kubernetes"}},
    "statefulset": {"name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable", "replicas": 3,
                    "release": {"flavour": "relx"}, "web": None, "cluster": {**FAST, "discovery": "kubernetes"}},
    "deployment-ipv6": {"name": "chat", "namespace": "chat", "image": "x/chat:1", "replicas": 3,
                        "cluster": {**FAST, "discovery": "kubernetes", "ipFamily": "ipv6"}},
}  # fmt: skip


@pytest.mark.parametrize("kind", ["deployment", "statefulset", "deployment-ipv6"])
def test_pods_mesh_from_endpoint_slices_and_a_replaced_pod_rejoins(
    netns_ok: None, tmp_path: Path, kind: str
) -> None:
    app = rendered(SPECS[kind])
    family = "ipv6" if kind.endswith("ipv6") else "ipv4"
    with api_cluster(app, tmp_path, family) as env:
        cluster = env.cluster
        assert cluster.control is not None
        assert cluster.control.lookup(app.headless_service["metadata"]["name"], "a") == []  # no DNS help
        pods = cluster.start_pods(app.pod_name(i) for i in range(3))
        took = cluster.wait_mesh(timeout=20)
        assert env.slice_reads() > 0
        assert all(p.node.split("@", 1)[1] in (p.net.ip_for(family), f"{p.name}.{app.headless_service['metadata']['name']}.{app.namespace}.svc.cluster.local") for p in pods)  # noqa: E501
        victim = pods[1].name
        old = cluster.kill(victim)
        # A Deployment replaces the pod under a new name; a StatefulSet recreates the same name, new IP.
        new_name = victim if app.workload["kind"] == "StatefulSet" else app.pod_name(9)
        new = cluster.start_pod(new_name)
        assert new.net.ip_for(family) != old.net.ip_for(family)
        healed = cluster.wait_mesh(timeout=30)
        assert new.node in cluster.nodes
        print(f"{kind}: meshed in {took:.2f} s, replaced pod rejoined in {healed:.2f} s")


def test_api_refusing_the_service_account_falls_back_to_dns(netns_ok: None, tmp_path: Path) -> None:
    """A 403 (the Role not applied yet, RBAC misconfigured) is what libcluster answers by disconnecting
    everyone; the rendered loop keeps clustering through the headless Service's DNS instead."""
    app = rendered(SPECS["deployment"])
    with api_cluster(app, tmp_path, dns_headless=True) as env:
        env.api.api.fail(403, "GET", "endpointslices", times=10_000, reason="Forbidden",
                         message='endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:chat:chat"'
                                 ' cannot list resource "endpointslices"')  # fmt: skip
        env.cluster.start_pods(app.pod_name(i) for i in range(3))
        env.cluster.wait_mesh(timeout=20)
        refused = [r for r in env.api.api.log if r.plural == "endpointslices" and r.status == 403]
        assert refused  # the loop did ask the API first
