"""`beamkube cluster-config`: every name in the snippet is the one the rendered objects carry.

Role: unit tests of the pure generator plus the console script (a subprocess).
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from beamkube.cluster_config import Library, cluster_config
from beamkube.errors import UsageError
from beamkube.examples import example_names, example_path
from beamkube.render import render
from beamkube.spec import load_spec
from beamkube.spec.model import AppSpec

STRATEGY = {
    "dns": "Cluster.Strategy.Kubernetes.DNS",
    "dnssrv": "Cluster.Strategy.Kubernetes.DNSSRV",
    "kubernetes": "Cluster.Strategy.Kubernetes",
    "static": "Cluster.Strategy.Epmd",
}


def options(snippet: str) -> dict[str, str]:
    """`key: "value"` and `key: 123` pairs of the Elixir keyword lists."""
    found = {k: v for k, v in re.findall(r'(\w+): "([^"]*)"', snippet)}
    found.update(re.findall(r"(\w+): (\d+)\b", snippet))
    return found


def objects_of(spec: AppSpec) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render(spec).objects}


def container(objs: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    workload = next(o for (kind, _), o in objs.items() if kind in ("Deployment", "StatefulSet"))
    return dict(workload["spec"]["template"]["spec"]["containers"][0])


def env_value(objs: dict[tuple[str, str], dict[str, Any]], name: str) -> str:
    return str(next(e["value"] for e in container(objs)["env"] if e["name"] == name))


def variants() -> list[AppSpec]:
    base = {"image": "x/app:1", "namespace": "team-a", "clusterDomain": "corp.example"}
    return [
        AppSpec.model_validate({**base, "name": "web", "cluster": {"discovery": "dns", "pollIntervalMs": 1500}}),
        AppSpec.model_validate({**base, "name": "db", "identity": "stable", "cluster": {"discovery": "dnssrv"}}),
        AppSpec.model_validate({**base, "name": "api", "cluster": {"discovery": "kubernetes"}}),
        AppSpec.model_validate(
            {**base, "name": "kv", "identity": "stable", "clusterDomain": "cluster.local",
             "cluster": {"discovery": "kubernetes"}}
        ),
        AppSpec.model_validate(
            {**base, "name": "store", "identity": "stable", "replicas": 2, "cluster": {"discovery": "static"}}
        ),
    ] + [load_spec(example_path(name)) for name in example_names()]


@pytest.mark.parametrize("spec", variants(), ids=lambda s: f"{s.name}-{s.effective_discovery.value}")
def test_libcluster_snippet_names_match_the_rendered_objects(spec: AppSpec) -> None:
    result = cluster_config(spec, Library.LIBCLUSTER)
    objs = objects_of(spec)
    found = options(result.snippet)
    discovery = spec.effective_discovery.value
    assert f"strategy: {STRATEGY[discovery]}," in result.snippet
    basename = env_value(objs, "RELEASE_NODE").split("@", 1)[0]
    headless = next(o for (kind, _), o in objs.items() if kind == "Service" and o["spec"].get("clusterIP") == "None")
    svc, ns = headless["metadata"]["name"], headless["metadata"]["namespace"]
    if discovery == "dns":
        assert found["service"] == f"{svc}.{ns}.svc.{spec.clusterDomain}"
        assert found["application_name"] == basename
        # the -eval loop and dns_cluster look up the same name
        assert env_value(objs, "DNS_CLUSTER_QUERY") == found["service"]
    elif discovery == "dnssrv":
        assert (found["service"], found["namespace"], found["application_name"]) == (svc, ns, basename)
        assert objs[("StatefulSet", spec.name)]["spec"]["serviceName"] == found["service"]
    elif discovery == "kubernetes":
        # The selector itself is checked against controller-made Endpoints in test_kubernetes_selector_*.
        assert found["kubernetes_node_basename"] == basename
        assert env_value(objs, "CLUSTER_DOMAIN") == spec.clusterDomain  # libcluster's API host suffix
        assert found["kubernetes_namespace"] == ns
        role = objs[("Role", f"{spec.name}-discovery")]
        assert any("endpoints" in rule["resources"] and "list" in rule["verbs"] for rule in role["rules"])
        binding = objs[("RoleBinding", f"{spec.name}-discovery")]
        assert binding["subjects"][0]["name"] == container_sa(objs)
        if spec.identity.value == "stable":
            assert found["kubernetes_service_name"] == svc
            assert "mode: :hostname" in result.snippet
            if spec.clusterDomain.endswith(".local"):
                assert f"{found['kubernetes_cluster_name']}.local" == spec.clusterDomain
            else:
                assert "kubernetes_cluster_name" not in found and "prefer discovery dnssrv" in result.snippet
        else:
            assert "mode: :ip" in result.snippet
    elif discovery == "static":
        vm_args = next(o for (kind, _), o in objs.items() if kind == "ConfigMap" and "beam" in o["metadata"]["name"])
        text = next(iter(vm_args["data"].values()))
        listed = re.search(r"sync_nodes_optional (\S+)", text)
        assert listed is not None
        rendered_nodes = re.findall(r"\\'([^\\']+)\\'", listed.group(1))
        assert re.findall(r':"([^"]+)"', result.snippet) == rendered_nodes
        assert len(rendered_nodes) == spec.max_replicas
    if discovery != "static":
        assert int(found["polling_interval"]) == spec.cluster.pollIntervalMs


def container_sa(objs: dict[tuple[str, str], dict[str, Any]]) -> str:
    workload = next(o for (kind, _), o in objs.items() if kind in ("Deployment", "StatefulSet"))
    return str(workload["spec"]["template"]["spec"]["serviceAccountName"])


@pytest.mark.parametrize("spec", variants(), ids=lambda s: f"{s.name}-{s.effective_discovery.value}")
def test_env_listing_is_the_rendered_env_without_secret_values(spec: AppSpec) -> None:
    cookie = b"s3cr3t-cookie-value-0123456789"
    objs = {(o["kind"], o["metadata"]["name"]): o for o in render(spec, cookie=cookie).objects}
    result = cluster_config(spec)
    assert [name for name, _ in result.env] == [e["name"] for e in container(objs)["env"]]
    for name, shown in result.env:
        item = next(e for e in container(objs)["env"] if e["name"] == name)
        if "value" in item:
            assert shown == item["value"]
    assert cookie.decode() not in result.text()
    assert f"<Secret {spec.cookie_secret_name} key {spec.cluster.cookieKey}>" in result.text()


def test_dns_cluster_is_offered_only_for_ip_node_names() -> None:
    """dns_cluster 0.2.0 dials `<basename>@<IP>` (lib/dns_cluster.ex): the rendered RELEASE_NODE must be
    `<release>@$(POD_IP)` and the query a name with A/AAAA records of the pods."""
    spec = AppSpec.model_validate({"name": "shop", "image": "x:1", "cluster": {"discovery": "dns"}})
    result = cluster_config(spec, Library.DNS_CLUSTER)
    objs = objects_of(spec)
    assert 'System.get_env("DNS_CLUSTER_QUERY")' in result.snippet
    assert "resource_types" not in result.snippet and "dns_rr_types" not in result.snippet
    assert env_value(objs, "RELEASE_NODE") == f"{spec.release_name}@$(POD_IP)"
    headless = next(o for (k, _), o in objs.items() if k == "Service" and o["spec"].get("clusterIP") == "None")
    assert env_value(objs, "DNS_CLUSTER_QUERY") == f"{headless['metadata']['name']}.default.svc.cluster.local"
    api = AppSpec.model_validate({"name": "chat", "image": "x:1", "cluster": {"discovery": "kubernetes"}})
    api_snippet = cluster_config(api, Library.DNS_CLUSTER).snippet
    assert 'dns_cluster_query: "chat-headless.default.svc.cluster.local"' in api_snippet
    srv = AppSpec.model_validate({"name": "kv", "image": "x:1", "identity": "stable"})
    with pytest.raises(UsageError, match=r"dns_cluster 0\.2\.0 connects <basename>@<IP>.*kv@\$\(POD_NAME\)"):
        cluster_config(srv, Library.DNS_CLUSTER)


def test_dns_cluster_refuses_api_and_static_discovery() -> None:
    spec = load_spec(example_path("erlang-kv"))
    with pytest.raises(UsageError, match=r"dns_cluster 0\.2\.0 connects"):
        cluster_config(spec, Library.DNS_CLUSTER)
    none = AppSpec.model_validate({"name": "solo", "image": "x:1", "cluster": {"discovery": "none"}})
    with pytest.raises(UsageError, match="nothing to configure"):
        cluster_config(none)


def test_libcluster_notes_say_where_a_strategy_cannot_work() -> None:
    """Facts from libcluster 3.5's source: Kubernetes.DNS is A-only, DNSSRV fixes svc.cluster.local, the
    Kubernetes strategy's httpc resolves IPv4 only."""
    dns6 = AppSpec.model_validate({"name": "w", "image": "x:1", "cluster": {"ipFamily": "ipv6"}})
    assert "A records only" in cluster_config(dns6).snippet
    srv = AppSpec.model_validate({"name": "kv", "image": "x:1", "identity": "stable", "clusterDomain": "corp.example"})
    assert "svc.cluster.local.;" in cluster_config(srv).snippet
    api6 = AppSpec.model_validate(
        {"name": "chat", "image": "x:1", "cluster": {"discovery": "kubernetes", "ipFamily": "ipv6"}}
    )
    assert ":httpc.set_options(ipfamily: :inet6fb4)" in cluster_config(api6).snippet
    api4 = AppSpec.model_validate({"name": "chat", "image": "x:1", "cluster": {"discovery": "kubernetes"}})
    assert "inet6fb4" not in cluster_config(api4).snippet


def test_output_is_deterministic() -> None:
    spec = load_spec(example_path("chat-libcluster"))
    assert cluster_config(spec).text() == cluster_config(spec).text()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_the_snippet_and_errors_in_one_line() -> None:
    ok = cli("cluster-config", "--example", "astarte-pairing")
    assert ok.returncode == 0, ok.stderr
    assert 'service: "astarte-pairing-headless"' in ok.stdout
    bad = cli("cluster-config", "--example", "erlang-kv", "--library", "dns_cluster")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("beamkube: kv: dns_cluster 0.2.0 connects")
