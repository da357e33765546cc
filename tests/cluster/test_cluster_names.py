"""Names consistency: pod name → DNS name → node name → headless Service → StatefulSet serviceName.

Role: property tests (hypothesis) over the pure renderer and the test cluster DNS's resolver (no sockets):
for any namespace, cluster domain, app and release name, the names the second talk relies on agree across
every rendered object, and cluster DNS built from the rendered Service answers with exactly the node hosts.
"""

from __future__ import annotations

import re
from typing import Any

from dnslib import DNSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.support.beam import PodFacts, RenderedApp, resolve_env
from tests.support.dns import ClusterResolver, Endpoint, ServiceZone

label = st.from_regex(r"[a-z]([-a-z0-9]{0,14}[a-z0-9])?", fullmatch=True)
domains = st.lists(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3)
releases = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True))


def resolved_env(app: RenderedApp, pod: str, ip: str) -> dict[str, str]:
    return resolve_env(app.container, PodFacts(pod, app.namespace, ip), {app_cookie(app): {"cookie": "c"}}, {})


def app_cookie(app: RenderedApp) -> str:
    item = next(e for e in app.container["env"] if e["name"] == "RELEASE_COOKIE")
    return str(item["valueFrom"]["secretKeyRef"]["name"])


def ask(resolver: ClusterResolver, name: str, qtype: str) -> list[Any]:
    reply = resolver.resolve(DNSRecord.question(name, qtype), None)
    return [rr.rdata for rr in reply.rr]


@settings(max_examples=60, deadline=None)
@given(
    name=label, namespace=label, domain=domains, release=releases,
    replicas=st.integers(1, 6), discovery=st.sampled_from(["dnssrv", "static"]),
)  # fmt: skip
def test_stable_names_agree_everywhere(
    name: str, namespace: str, domain: list[str], release: str | None, replicas: int, discovery: str
) -> None:
    spec = AppSpec.model_validate(
        {"name": name, "namespace": namespace, "clusterDomain": ".".join(domain), "image": "x:1",
         "identity": "stable", "replicas": replicas, "release": {"name": release} if release else {},
         "cluster": {"discovery": discovery}}
    )  # fmt: skip
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    sts = app.workload
    assert sts["kind"] == "StatefulSet"
    service = app.find("Service", sts["spec"]["serviceName"])  # serviceName names the headless Service
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert service["metadata"]["namespace"] == sts["metadata"]["namespace"] == namespace
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    svc_fqdn = f"{service['metadata']['name']}.{namespace}.svc.{spec.clusterDomain}"
    zone = ServiceZone.from_service(service, spec.clusterDomain)
    pods = [app.pod_name(i) for i in range(replicas)]
    endpoints = [Endpoint(f"10.0.0.{i + 1}", hostname=pod) for i, pod in enumerate(pods)]
    resolver = ClusterResolver(zone, lambda: endpoints)
    nodes = []
    for i, pod in enumerate(pods):
        assert pod == f"{sts['metadata']['name']}-{i}"
        _, fqdn = app.pod_hostname(pod)
        assert fqdn == f"{pod}.{svc_fqdn}"
        assert all(len(part) <= 63 for part in fqdn.split("."))
        env = resolved_env(app, pod, f"10.0.0.{i + 1}")
        node = env["RELEASE_NODE"]
        assert node == f"{spec.release_name}@{fqdn}"  # node host is the pod's DNS name
        assert [str(a) for a in ask(resolver, fqdn, "A")] == [f"10.0.0.{i + 1}"]
        assert env["BEAMKUBE_SERVICE_FQDN"] == svc_fqdn
        nodes.append(node)
    text = next(iter(app.find("ConfigMap", f"{name}-beam")["data"].values()))
    dist_port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "dist")
    container_ports = {p["name"]: p["containerPort"] for p in app.container["ports"]}
    assert container_ports["dist"] == dist_port
    assert f"-kernel inet_dist_listen_min {dist_port}" in text
    if discovery == "dnssrv":
        env = resolved_env(app, pods[0], "10.0.0.1")
        assert env["DNS_CLUSTER_QUERY"] == f"_dist._tcp.{svc_fqdn}"
        targets = {str(r.target).rstrip(".") for r in ask(resolver, env["DNS_CLUSTER_QUERY"], "SRV")}
        assert {f"{spec.release_name}@{t}" for t in targets} == set(nodes)
        assert f"inet_res:lookup(\\\"{env['DNS_CLUSTER_QUERY']}\\\",in,srv)" in text
    else:
        listed = re.findall(r"\\'([^\\']+)\\'", re.search(r"sync_nodes_optional (\S+)", text).group(1))  # type: ignore[union-attr]
        assert listed[:replicas] == nodes


@settings(max_examples=40, deadline=None)
@given(name=label, namespace=label, domain=domains, release=releases)
def test_stateless_names_agree_everywhere(name: str, namespace: str, domain: list[str], release: str | None) -> None:
    spec = AppSpec.model_validate(
        {"name": name, "namespace": namespace, "clusterDomain": ".".join(domain), "image": "x:1",
         "release": {"name": release} if release else {}}
    )  # fmt: skip
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    service = app.headless_service
    svc_fqdn = f"{service['metadata']['name']}.{namespace}.svc.{spec.clusterDomain}"
    resolver = ClusterResolver(ServiceZone.from_service(service, spec.clusterDomain),
                               lambda: [Endpoint("10.0.0.7"), Endpoint("10.0.0.9")])  # fmt: skip
    env = resolved_env(app, app.pod_name(0), "10.0.0.7")
    assert env["RELEASE_NODE"] == f"{spec.release_name}@10.0.0.7"
    assert env["DNS_CLUSTER_QUERY"] == svc_fqdn
    answers = {str(a) for a in ask(resolver, env["DNS_CLUSTER_QUERY"], "A")}
    assert answers == {"10.0.0.7", "10.0.0.9"}
    text = app.find("ConfigMap", f"{name}-beam")["data"]["vm.args"]
    assert f"inet_res:lookup(\\\"{svc_fqdn}\\\",in,a)" in text
    assert f"list_to_atom(\\\"{spec.release_name}@\\\"++inet:ntoa(A))" in text
