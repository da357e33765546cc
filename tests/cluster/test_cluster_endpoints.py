"""`kubernetes` discovery against Endpoints/EndpointSlices made the way the real controllers make them.

Role: integration tests over the API double (HTTP on 127.0.0.1) with kubectl as the client. The rendered
objects go into the double, tests/support/endpoints.py plays kube-controller-manager's endpoints and
EndpointSlice controllers (Service labels copied onto both), and the selector `cluster-config` prints must
list exactly the app's pods — the old pod-label selector listed nothing on a real control plane. The node
names libcluster 3.5 would build from those Endpoints (lib/strategy/kubernetes.ex: `<basename>@<ip>` or
`<basename>@<hostname>.<service>.<namespace>.svc.<cluster_name>.local`) must be the pods' RELEASE_NODE.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beamkube.cluster_config import Library, cluster_config
from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.cluster.conftest import _unavailable
from tests.support.apidouble import Running, serve
from tests.support.beam import PodFacts, RenderedApp, resolve_env
from tests.support.endpoints import EndpointsController

SPECS = {
    "stateless": {"name": "chat", "namespace": "chat", "image": "x/chat:1.4", "cluster": {"discovery": "kubernetes"}},
    "stable": {
        "name": "kv", "namespace": "data", "image": "x/kv:2", "identity": "stable",
        "cluster": {"discovery": "kubernetes"}, "labels": {"team": "storage"},
    },
}  # fmt: skip


@pytest.fixture
def double(tmp_path: Path) -> Iterator[tuple[Running, EndpointsController]]:
    with serve(tmp_path, controller=False) as running, EndpointsController(running.api) as controller:
        yield running, controller


def kubectl(running: Running, *args: str) -> Any:
    if shutil.which("kubectl") is None:
        _unavailable("kubectl is not installed")
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(running.kubeconfig), *args, "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pod_objects(app: RenderedApp, count: int) -> list[dict[str, Any]]:
    """Pods as the workload controller, scheduler and kubelet leave them: template labels, the StatefulSet's
    hostname/subdomain, an IP (RFC 5737 documentation range: data only, never dialled), Ready."""
    template = app.workload["spec"]["template"]
    pods = []
    for ordinal in range(count):
        name = app.pod_name(ordinal)
        spec: dict[str, Any] = {"containers": template["spec"]["containers"], "nodeName": "worker-1"}
        if app.workload["kind"] == "StatefulSet":
            spec |= {"hostname": name, "subdomain": app.workload["spec"]["serviceName"]}
        pods.append(
            {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": app.namespace, "labels": template["metadata"]["labels"]},
                "spec": spec,
                "status": {"podIP": f"192.0.2.{10 + ordinal}", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )  # fmt: skip
    return pods


def libcluster_nodes(snippet: str, endpoints: list[dict[str, Any]]) -> set[str]:
    """libcluster 3.5's parse_response(:endpoints) + format_node, restated from its source."""
    opts = dict(re.findall(r'(\w+): "([^"]*)"', snippet))
    mode = re.search(r"^\s*mode: :(\w+)", snippet, re.MULTILINE)
    assert mode is not None
    nodes = set()
    for item in endpoints:
        for subset in item.get("subsets") or []:
            for address in subset.get("addresses") or []:
                namespace = address["targetRef"]["namespace"]  # a KeyError here is libcluster's MatchError
                if mode.group(1) == "ip":
                    nodes.add(f"{opts['kubernetes_node_basename']}@{address['ip']}")
                else:
                    cluster = opts.get("kubernetes_cluster_name", "cluster")
                    nodes.add(
                        f"{opts['kubernetes_node_basename']}@{address['hostname']}."
                        f"{opts['kubernetes_service_name']}.{namespace}.svc.{cluster}.local"
                    )
    return nodes


@pytest.mark.parametrize("identity", sorted(SPECS))
def test_kubernetes_selector_lists_the_controller_made_endpoints(
    double: tuple[Running, EndpointsController], identity: str
) -> None:
    running, controller = double
    spec = AppSpec.model_validate(SPECS[identity])
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": app.namespace}})
    for obj in app.objects:
        if obj["kind"] == "Service":
            running.api.put(obj)
    pods = pod_objects(app, 3)
    for pod in pods:
        running.api.put(pod)
    controller.sync()
    snippet = cluster_config(spec, Library.LIBCLUSTER).snippet
    selector = dict(re.findall(r'(\w+): "([^"]*)"', snippet))["kubernetes_selector"]
    listed = kubectl(running, "get", "endpoints", "-n", app.namespace, "-l", selector)["items"]
    headless = app.headless_service["metadata"]["name"]
    assert [e["metadata"]["name"] for e in listed] == [headless]  # not the web Service's
    ips = sorted(a["ip"] for e in listed for s in e["subsets"] for a in s["addresses"])
    assert ips == sorted(p["status"]["podIP"] for p in pods)
    # What libcluster would dial is what each pod calls itself.
    secrets = {spec.cookie_secret_name: {spec.cluster.cookieKey: "c"}}
    expected = {
        resolve_env(app.container, PodFacts(p["metadata"]["name"], app.namespace, p["status"]["podIP"]), secrets,
                    {})["RELEASE_NODE"]
        for p in pods
    }  # fmt: skip
    assert libcluster_nodes(snippet, listed) == expected
    # The selector the old snippet printed (the pods' labels) matches no Endpoints, as on a real server.
    pod_selector = ",".join(f"{k}={v}" for k, v in sorted(app.workload["spec"]["selector"]["matchLabels"].items()))
    assert kubectl(running, "get", "endpoints", "-n", app.namespace, "-l", pod_selector)["items"] == []
    # beamkube's own loop lists EndpointSlices by the label the slice controller adds.
    slices = kubectl(running, "get", "endpointslices", "-n", app.namespace, "-l",
                     f"kubernetes.io/service-name={headless}")["items"]  # fmt: skip
    assert sorted(e["addresses"][0] for s in slices for e in s["endpoints"]) == ips
    assert all(s["metadata"]["labels"]["app.kubernetes.io/component"] == "discovery" for s in slices)


def test_role_lets_the_service_account_list_what_discovery_reads() -> None:
    spec = AppSpec.model_validate(SPECS["stateless"])
    role = next(o for o in render(spec).objects if o["kind"] == "Role")
    allowed = {(g, r) for rule in role["rules"] if "list" in rule["verbs"] for g in rule["apiGroups"]
               for r in rule["resources"]}  # fmt: skip
    assert ("", "endpoints") in allowed  # libcluster 3.5 (:endpoints mode)
    assert ("discovery.k8s.io", "endpointslices") in allowed  # beamkube's loop
    assert ("", "pods") not in allowed  # least privilege: :pods mode is not what the snippet uses
