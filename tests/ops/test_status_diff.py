"""`beamkube status` and `beamkube diff` against the API double."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from tests.support.apidouble import Running


def test_status_table_and_json_report_pods_qos_and_beam_node_names(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    result = cli("status", str(shop_spec))
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert lines[0].startswith("Deployment shop/shop: complete — 2/2 updated, 2/2 ready, 2/2 available")
    assert "revision 1" in lines[0]
    assert lines[2].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "QOS", "BEAM", "NODE"]
    doc = json.loads(cli("status", str(shop_spec), "-o", "json").out)
    assert doc["workload"]["state"] == "complete" and doc["workload"]["images"] == ["ghcr.io/acme/shop:1.0.0"]
    pods = {
        p["metadata"]["name"]: p
        for p in cluster.api.objects("pods", "shop")
        if p["metadata"]["labels"].get("app.kubernetes.io/component") == "node"
    }
    assert [p["name"] for p in doc["pods"]] == sorted(pods)
    for row in doc["pods"]:
        pod = pods[row["name"]]
        assert row["ready"] == "1/1" and row["restarts"] == 0 and row["status"] == "Running"
        assert row["qos"] == "Guaranteed"  # the spec's default requests == limits
        assert row["node"] == f"shop@{pod['status']['podIP']}"  # RELEASE_NODE with $(POD_IP) expanded
        assert row["name"] in result.out and row["node"] in result.out


def test_status_of_a_statefulset_shows_stable_node_names_and_crashloops(cluster: Running, kv_spec: Path, cli):
    assert cli("deploy", str(kv_spec)).code == 0
    doc = json.loads(cli("status", str(kv_spec), "-o", "json").out)
    assert doc["workload"]["kind"] == "StatefulSet" and doc["workload"]["state"] == "complete"
    assert [p["node"] for p in doc["pods"]] == [f"kv@kv-{i}.kv-headless.data.svc.cluster.local" for i in range(3)]
    cluster.controller.failing_images.add("ghcr.io/acme/kv:bad")
    assert cli("deploy", str(kv_spec), "--image", "ghcr.io/acme/kv:bad", "--timeout", "0.6").code == 3
    doc = json.loads(cli("status", str(kv_spec), "-o", "json").out)
    assert doc["workload"]["state"] == "progressing"
    broken = [p for p in doc["pods"] if p["status"] == "CrashLoopBackOff"]
    assert len(broken) == 1 and broken[0]["name"] == "kv-2"  # rolling from the highest ordinal, then stuck


def test_status_when_not_deployed_is_one_line(cluster: Running, shop_spec: Path, cli):
    result = cli("status", str(shop_spec))
    assert result.code == 1
    assert result.err == "beamkube: Deployment shop/shop not found: is shop deployed here?\n"


def test_pod_row_ages_and_pending_node_names():
    from beamkube.ops.status import beam_node_name, pod_row

    pod = {
        "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {
            "containers": [
                {
                    "name": "beam",
                    "env": [
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                        {"name": "RELEASE_NODE", "value": "app@$(POD_IP)"},
                    ],
                }
            ]
        },
        "status": {"phase": "Pending"},
    }
    assert beam_node_name(pod) == ""  # no IP yet: no half-expanded name
    row = pod_row(pod, datetime.datetime(2026, 1, 1, 3, tzinfo=datetime.UTC))
    assert (row["age"], row["ageSeconds"], row["ready"]) == ("3h", 10800, "0/1")
    pod["status"]["podIP"] = "10.1.2.3"
    assert beam_node_name(pod) == "app@10.1.2.3"


def test_diff_ignores_server_fields_and_shows_real_changes(cluster: Running, shop_spec: Path, cli):
    before = cli("diff", str(shop_spec), "--exit-code")
    assert before.code == 1
    assert "+++ deploy/Deployment shop/shop" in before.out and "Secret shop/shop-erlang-cookie" in before.out
    assert "10 to create" in before.err
    assert cli("deploy", str(shop_spec)).code == 0
    svc = cluster.api.get("services", "shop", "shop")
    assert svc["spec"]["clusterIP"] and svc["metadata"]["managedFields"]  # defaulted and server-set fields exist
    same = cli("diff", str(shop_spec), "--exit-code")
    assert same.code == 0, same.text
    assert same.out == ""
    assert "0 to create, 0 to change, 0 to prune" in same.err
    changed = cli("diff", str(shop_spec), "--image", "ghcr.io/acme/shop:2.0.0", "--exit-code")
    assert changed.code == 1
    assert "-        image: ghcr.io/acme/shop:1.0.0\n+        image: ghcr.io/acme/shop:2.0.0" in changed.out
    assert "would be pruned" not in changed.out
    assert "1 to prune" in changed.err  # the old migration Job
    assert cluster.api.writes() == [w for w in cluster.api.writes() if not w.dry_run]
    dep = cluster.api.get("deployments", "shop", "shop")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/shop:1.0.0"


def test_diff_masks_secret_values():
    from beamkube.ops.diff import render_diff

    live = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "resourceVersion": "9"},
        "data": {"cookie": "c2VjcmV0LW9uZQ=="},
    }
    wanted = {**live, "data": {"cookie": "c2VjcmV0LXR3bw=="}}
    text = render_diff("Secret s", live, wanted)
    assert "c2VjcmV0" not in text and "<secret sha256:" in text and "resourceVersion" not in text
    assert text.count("\n-  cookie") == 1 and text.count("\n+  cookie") == 1


def test_diff_reports_ownership_conflicts_instead_of_failing(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    cm = cluster.api.get("configmaps", "shop", "shop-env")
    cm["data"]["PHX_HOST"] = "edited.example.com"
    cluster.api.put(cm, manager="kubectl-edit")
    result = cli("diff", str(shop_spec))
    assert result.code == 0, result.text
    assert "ConfigMap shop/shop-env (conflicts on .data.PHX_HOST: deploy needs --force-conflicts)" in result.out
    assert "-  PHX_HOST: edited.example.com\n+  PHX_HOST: shop.example.com" in result.out
