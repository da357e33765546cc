"""`beamkube audit --cluster` against the API double (real HTTP, lightkube's client, a kubeconfig): the same
rules over live objects, the live-only checks (node names vs the pod's identity, cookie split, not-ready
pods missing from EndpointSlices), read-only access covered exactly by the printed ClusterRole."""

from __future__ import annotations

import copy
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from beamkube.audit.live import cluster_role
from beamkube.cli.main import run as cli_run
from beamkube.examples import example_path
from beamkube.render import render
from beamkube.spec import load_spec
from tests.support.apidouble import Running, serve

NS = "prod"


def _rendered() -> list[dict[str, Any]]:
    return render(load_spec(example_path("better-together"))).objects


def _pod(deployment: dict[str, Any], name: str, ip: str, ready: bool = True, node: str | None = None) -> dict[str, Any]:
    template = copy.deepcopy(deployment["spec"]["template"])
    spec = template["spec"]
    if node is not None:
        env = spec["containers"][0]["env"]
        env[:] = [e for e in env if e["name"] != "RELEASE_NODE"] + [{"name": "RELEASE_NODE", "value": node}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": template["metadata"]["labels"],
            "annotations": template["metadata"].get("annotations", {}),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "bt-5d9", "uid": "u1", "controller": True}
            ],
        },
        "spec": spec,
        "status": {
            "podIP": ip,
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def _slice(service: str, ips: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"{service}-abc", "namespace": NS, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
    }


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Running]:
    with serve(tmp_path, controller=False) as running:
        running.api.register("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", status=False)
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        for obj in _rendered():
            running.api.put(copy.deepcopy(obj))
        yield running


def _audit(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any], str]:
    argv = [
        "beamkube",
        "audit",
        "--cluster",
        "--kubeconfig",
        str(running.kubeconfig),
        "-o",
        "json",
        "--min-severity",
        "info",
        *args,
    ]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    try:
        cli_run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else {}, err


def _ids(report: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in report["findings"]}


def test_healthy_live_app_is_clean_and_pods_are_not_audited_twice(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = next(o for o in _rendered() if o["kind"] == "Deployment")
    for i, ip in enumerate(["10.1.0.5", "10.1.0.6"]):
        cluster.api.put(_pod(deployment, f"bt-{i}", ip))
    cluster.api.put(_slice("better-together-headless", ["10.1.0.5", "10.1.0.6"]))
    code, report, err = _audit(cluster, monkeypatch, capsys, "-n", NS)
    assert code == 0, (err, report)
    assert report["summary"]["objects"] == 9  # the 8 rendered objects and the slice; the pods are derived


def test_live_only_checks_fire_on_what_is_running(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = next(o for o in _rendered() if o["kind"] == "Deployment")
    cluster.api.put(_pod(deployment, "bt-a", "10.1.0.5"))
    cluster.api.put(_pod(deployment, "bt-b", "10.1.0.6", node="better_together@10.9.9.9"))  # not its IP
    other = _pod(deployment, "bt-c", "10.1.0.7", ready=False)
    cookie = next(e for e in other["spec"]["containers"][0]["env"] if e["name"] == "RELEASE_COOKIE")
    cookie["valueFrom"]["secretKeyRef"]["name"] = "old-cookie"
    cluster.api.put(other)
    cluster.api.put(_slice("better-together-headless", ["10.1.0.5", "10.1.0.6"]))  # bt-c is not ready: left out
    code, report, _ = _audit(cluster, monkeypatch, capsys, "-n", NS)
    assert code == 1
    assert _ids(report) == {"BK851", "BK852", "BK853"}
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["BK851"]["object"]["name"] == "bt-b" and "10.9.9.9" in by_rule["BK851"]["message"]
    split = by_rule["BK852"]["message"]
    assert "Secret old-cookie" in split and "Secret better-together-erlang-cookie" in split
    assert "bt-c (10.1.0.7)" in by_rule["BK853"]["message"]


def test_static_rules_run_on_live_objects(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pdb = cluster.api.get("poddisruptionbudgets", NS, "better-together", group="policy")
    assert pdb is not None
    cluster.api.put({**pdb, "spec": {**pdb["spec"], "maxUnavailable": 0}})
    code, report, _ = _audit(cluster, monkeypatch, capsys)
    assert code == 1 and "BK402" in _ids(report)
    assert all(f["file"].startswith("cluster:") for f in report["findings"])


def test_requests_are_read_only_never_touch_secrets_and_the_printed_role_covers_them(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mark = len(cluster.api.log)
    _audit(cluster, monkeypatch, capsys)
    requests = cluster.api.log[mark:]
    assert requests and {r.method for r in requests} == {"GET"}
    assert all(r.plural != "secrets" and r.name is None for r in requests)  # lists only, no Secret
    granted = {
        (g, res)
        for rule in cluster_role()["rules"]
        if rule["verbs"] == ["list"]
        for g in rule["apiGroups"]
        for res in rule["resources"]
    }
    asked = {(("" if r.path.startswith("/api/") else r.path.split("/")[2]), r.plural) for r in requests}
    assert asked <= granted, asked - granted


def test_print_rbac_is_a_valid_clusterrole_that_passes_the_audit(tmp_path: Path) -> None:
    import kubernetes_validate

    from beamkube.audit import Severity, audit_objects
    from beamkube.audit.live import rbac_yaml

    role = yaml.safe_load(rbac_yaml())
    kubernetes_validate.validate(role, "1.31", strict=True)
    assert audit_objects([role], min_severity=Severity.INFO, enable=frozenset({"ALL"})) == []
    assert not any("secrets" in rule["resources"] for rule in role["rules"])


def test_cluster_and_paths_together_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["beamkube", "audit", "--cluster", "x.yaml"])
    with pytest.raises(SystemExit) as exc:
        cli_run()
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("beamkube: audit --cluster reads the cluster")


def test_a_missing_right_is_one_line_naming_the_role_to_bind(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.api.fail(403, "GET", "networkpolicies", reason="Forbidden", message="networkpolicies is forbidden")
    code, _report, err = _audit(cluster, monkeypatch, capsys, "-n", NS)
    assert code == 2
    assert err == (
        "beamkube: audit --cluster may not list networkpolicies in namespace prod: bind the ClusterRole printed "
        "by `beamkube audit --print-rbac`\n"
    )


def test_context_option_reaches_the_kubeconfig(
    cluster: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    current = yaml.safe_load(cluster.kubeconfig.read_text())["current-context"]
    pdb = cluster.api.get("poddisruptionbudgets", NS, "better-together", group="policy")
    assert pdb is not None
    cluster.api.put({**pdb, "spec": {**pdb["spec"], "maxUnavailable": 0}})
    code, report, err = _audit(cluster, monkeypatch, capsys, "--context", current, "-n", NS)
    assert code == 1, err
    assert {f["file"] for f in report["findings"]} == {f"cluster:{current}"}
    code, _report, err = _audit(cluster, monkeypatch, capsys, "--context", "no-such-context")
    assert code == 2 and err.count("\n") == 1 and "no-such-context" in err


def _live_workload_and_hpa(managed_fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rendered Deployment as a real server returns it: `replicas` defaulted (or set by the HPA)."""
    objects = copy.deepcopy(_rendered())
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    deployment["spec"]["replicas"] = 1
    deployment["metadata"]["managedFields"] = managed_fields
    return objects


def _bk504(objects: list[dict[str, Any]]) -> list[str]:
    from beamkube.audit.live import audit_live_objects
    from beamkube.audit.model import Severity

    _, findings = audit_live_objects(objects, "cluster:test", (1, 33), Severity.INFO)
    return [f.manifest.ref for f in findings if f.rule.id == "BK504"]


def test_a_server_defaulted_or_hpa_set_replica_count_is_not_a_declared_one() -> None:
    scale = {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "subresource": "scale",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
    initial = {
        "manager": "beamkube-initial-replicas",
        "operation": "Update",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
    applier = {"manager": "beamkube", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {}}}}
    assert _bk504(_live_workload_and_hpa([applier, scale, initial])) == []
    # A manifest applied with replicas (server-side or kubectl's client-side annotation) does fight the HPA.
    declaring = {"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    assert len(_bk504(_live_workload_and_hpa([applier, declaring]))) == 1
    objects = _live_workload_and_hpa([])
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    deployment["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = (
        json.dumps({"spec": {"replicas": 3}})
    )
    assert len(_bk504(objects)) == 1
