"""status, rollback and deploy's wait for an app with process types (one Deployment per process) against the
API double, whose Deployment controller creates the ReplicaSets and pods (with their labels) itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.apidouble import Running

TWO_PROCESSES = """\
name: shop
namespace: shop
image: ghcr.io/acme/shop:1.0.0
replicas: 2
processes:
  web: {}
  worker:
    replicas: 1
    probes: {}
"""


@pytest.fixture()
def procs_spec(tmp_path: Path) -> Path:
    path = tmp_path / "procs.yaml"
    path.write_text(TWO_PROCESSES)
    return path


def _image(running: Running, name: str) -> str:
    return str(running.api.get("deployments", "shop", name)["spec"]["template"]["spec"]["containers"][0]["image"])


def _beam_pods(running: Running) -> list[dict]:
    return [
        p
        for p in running.api.objects("pods", "shop")
        if p["metadata"]["labels"].get("app.kubernetes.io/component") == "node"
        and not p["metadata"].get("deletionTimestamp")
    ]


def test_status_reports_every_process_and_its_own_pods(cluster: Running, procs_spec: Path, cli):
    deployed = cli("deploy", str(procs_spec))
    assert deployed.code == 0, deployed.text
    doc = json.loads(cli("status", str(procs_spec), "-o", "json").out)
    assert [(w["name"], w["state"], w["desired"]) for w in doc["workloads"]] == [
        ("shop-web", "complete", 2),
        ("shop-worker", "complete", 1),
    ]
    assert doc["workload"]["name"] == "shop-web"
    # Each pod is attributed to the workload whose ReplicaSet the double's controller made it from.
    by_process = {p["metadata"]["name"]: p["metadata"]["labels"]["beamkube.io/process"] for p in _beam_pods(cluster)}
    assert sorted(by_process.values()) == ["web", "web", "worker"]
    assert {r["name"]: r["workload"] for r in doc["pods"]} == {n: f"shop-{p}" for n, p in by_process.items()}
    table = cli("status", str(procs_spec)).out.splitlines()
    assert table[0].startswith("Deployment shop/shop-web: complete — 2/2 updated")
    assert table[2].startswith("Deployment shop/shop-worker: complete — 1/1 updated")
    assert table[4].split()[-1] == "WORKLOAD"


def test_status_shows_a_missing_process_instead_of_hiding_it(cluster: Running, procs_spec: Path, cli):
    assert cli("deploy", str(procs_spec)).code == 0
    store = cluster.api.store
    store.delete(store.rdef_for_kind("apps/v1", "Deployment"), "shop", "shop-worker")
    doc = json.loads(cli("status", str(procs_spec), "-o", "json").out)
    assert [(w["name"], w["state"]) for w in doc["workloads"]] == [("shop-web", "complete"), ("shop-worker", "missing")]
    assert "Deployment shop/shop-worker: missing" in cli("status", str(procs_spec)).out


def test_rollback_takes_every_process_back_and_waits_for_each(cluster: Running, procs_spec: Path, cli):
    for tag in ("1.0.0", "2.0.0"):
        assert cli("deploy", str(procs_spec), "--image", f"ghcr.io/acme/shop:{tag}").code == 0
    result = cli("rollback", str(procs_spec))
    assert result.code == 0, result.text
    assert "Deployment shop/shop-web: rolling back from revision 2 to 1 (ghcr.io/acme/shop:1.0.0)" in result.out
    assert "Deployment shop/shop-worker: rolling back from revision 2 to 1 (ghcr.io/acme/shop:1.0.0)" in result.out
    assert result.out.count("Rollback complete") == 1 and "1/1" in result.out.split("Rollback complete")[1]
    assert _image(cluster, "shop-web") == _image(cluster, "shop-worker") == "ghcr.io/acme/shop:1.0.0"
    assert {p["spec"]["containers"][0]["image"] for p in _beam_pods(cluster)} == {"ghcr.io/acme/shop:1.0.0"}


def test_rollback_to_a_revision_is_refused_when_there_are_several_workloads(
    cluster: Running, procs_spec: Path, cli
):
    for tag in ("1.0.0", "2.0.0"):
        assert cli("deploy", str(procs_spec), "--image", f"ghcr.io/acme/shop:{tag}").code == 0
    refused = cli("rollback", str(procs_spec), "--to-revision", "1")
    assert refused.code == 2 and "has 2 (shop-web, shop-worker)" in refused.err
    assert _image(cluster, "shop-web") == "ghcr.io/acme/shop:2.0.0"  # nothing applied


def test_rollback_changes_nothing_when_one_process_has_no_earlier_revision(cluster: Running, procs_spec: Path, cli):
    assert cli("deploy", str(procs_spec)).code == 0
    refused = cli("rollback", str(procs_spec))
    assert refused.code == 2 and "Deployment shop/shop-web: no earlier revision" in refused.err
    assert _image(cluster, "shop-worker") == "ghcr.io/acme/shop:1.0.0"


def test_nodes_selector_reaches_every_process_pod_and_nothing_else(cluster: Running, procs_spec: Path, cli):
    from beamkube.ops.common import load_plan

    assert cli("deploy", str(procs_spec)).code == 0
    plan = load_plan(procs_spec)
    wanted = dict(pair.split("=", 1) for pair in plan.nodes_selector.split(","))
    matched = {
        p["metadata"]["name"]
        for p in cluster.api.objects("pods", "shop")
        if wanted.items() <= p["metadata"]["labels"].items()
    }
    assert matched == {p["metadata"]["name"] for p in _beam_pods(cluster)} and len(matched) == 3
    assert plan.selector_of("shop-worker") != plan.selector_of("shop-web")


@pytest.mark.parametrize("identity", ["stable", "stateless"])
def test_operator_expected_nodes_are_the_names_the_pods_take(
    cluster: Running, tmp_path: Path, cli, identity: str
):
    """The BeamApp status's `nodes` against RELEASE_NODE as each pod of every process gets it (expanded from the
    pod the double's controllers made: pod name, IP), with isolated versions."""
    from beamkube.operator.status import expected_nodes
    from beamkube.ops.status import beam_node_name
    from beamkube.spec.load import load_spec

    spec_file = tmp_path / "nodes.yaml"
    spec_file.write_text(TWO_PROCESSES + f"identity: {identity}\nrollout: {{mixedVersions: isolate}}\n")
    assert cli("deploy", str(spec_file)).code == 0
    actual = sorted(beam_node_name(p) for p in _beam_pods(cluster))
    assert len(actual) == 3 and all(actual)
    expected = expected_nodes(load_spec(spec_file))
    if identity == "stable":
        assert sorted(expected) == actual
    else:  # one pattern for all: the IP is the pod's own
        ips = {p["status"]["podIP"] for p in _beam_pods(cluster)}
        assert sorted(expected[0].replace("<pod IP>", ip) for ip in ips) == actual
        assert expected == ["shop-1_0_0@<pod IP>"]
