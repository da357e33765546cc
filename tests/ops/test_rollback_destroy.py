"""`beamkube rollback` (ReplicaSet and ControllerRevision history) and `beamkube destroy`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.apidouble import Running


def _images(running: Running, plural: str, ns: str, name: str) -> str:
    obj = running.api.get(plural, ns, name)
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


def test_deployment_rollback_to_previous_and_to_a_revision(cluster: Running, shop_spec: Path, cli):
    for tag in ("1.0.0", "2.0.0", "3.0.0"):
        assert cli("deploy", str(shop_spec), "--image", f"ghcr.io/acme/shop:{tag}").code == 0
    result = cli("rollback", str(shop_spec))
    assert result.code == 0, result.text
    assert "from revision 3 to 2 (ghcr.io/acme/shop:2.0.0)" in result.out and "Rollback complete" in result.out
    assert _images(cluster, "deployments", "shop", "shop") == "ghcr.io/acme/shop:2.0.0"
    dep = cluster.api.get("deployments", "shop", "shop")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"  # like kubectl rollout undo
    assert {(m["manager"], m["operation"]) for m in dep["metadata"]["managedFields"]} >= {("beamkube", "Apply")}
    assert cli("rollback", str(shop_spec), "--to-revision", "1").code == 0
    assert _images(cluster, "deployments", "shop", "shop") == "ghcr.io/acme/shop:1.0.0"
    pods = [
        p
        for p in cluster.api.objects("pods", "shop")
        if p["metadata"]["labels"].get("app.kubernetes.io/component") == "node"
    ]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"ghcr.io/acme/shop:1.0.0"}
    missing = cli("rollback", str(shop_spec), "--to-revision", "9")
    assert (
        missing.code == 2 and "--to-revision 9 not found (revisions: 3, 4, 5)" in missing.err
    )  # 1→5, 2→4: re-used templates move up
    # The next deploy rolls forward again without ownership conflicts.
    assert cli("deploy", str(shop_spec), "--image", "ghcr.io/acme/shop:4.0.0").code == 0
    assert _images(cluster, "deployments", "shop", "shop") == "ghcr.io/acme/shop:4.0.0"


def test_statefulset_rollback_uses_controller_revisions(cluster: Running, kv_spec: Path, cli):
    assert cli("deploy", str(kv_spec)).code == 0
    assert cli("deploy", str(kv_spec), "--image", "ghcr.io/acme/kv:2.0.0").code == 0
    revisions = sorted(r["revision"] for r in cluster.api.objects("controllerrevisions", "data"))
    assert revisions == [1, 2]
    result = cli("rollback", str(kv_spec))
    assert result.code == 0, result.text
    assert "from revision 2 to 1 (ghcr.io/acme/kv:1.0.0)" in result.out
    assert _images(cluster, "statefulsets", "data", "kv") == "ghcr.io/acme/kv:1.0.0"
    sts = cluster.api.get("statefulsets", "data", "kv")
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    pods = cluster.api.objects("pods", "data")
    assert sorted(p["metadata"]["name"] for p in pods) == ["kv-0", "kv-1", "kv-2"]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"ghcr.io/acme/kv:1.0.0"}


def test_rollback_without_history_is_a_usage_error(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    result = cli("rollback", str(shop_spec))
    assert result.code == 2 and "no earlier revision" in result.err


def test_destroy_keeps_data_and_cookie_unless_asked(cluster: Running, kv_spec: Path, cli, monkeypatch):
    assert cli("deploy", str(kv_spec)).code == 0
    cluster.api.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "mine", "namespace": "data", "labels": {"app.kubernetes.io/instance": "kv"}},
        }
    )
    assert len(cluster.api.objects("persistentvolumeclaims", "data")) == 3
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    refused = cli("destroy", str(kv_spec))
    assert refused.code == 2 and "--yes" in refused.err
    assert cluster.api.get("statefulsets", "data", "kv") is not None
    dry = cli("destroy", str(kv_spec), "--dry-run")
    assert dry.code == 0 and "Would delete" in dry.out and cluster.api.writes()[-1].method != "DELETE"
    result = cli("destroy", str(kv_spec), "--yes")
    assert result.code == 0, result.text
    assert "keeping PersistentVolumeClaim data/data-kv-0" in result.out
    assert "keeping Secret data/kv-erlang-cookie" in result.out
    for plural in ("statefulsets", "services", "configmaps", "serviceaccounts", "poddisruptionbudgets"):
        names = [o["metadata"]["name"] for o in cluster.api.objects(plural, "data")]
        assert names in ([], ["mine"]), (plural, names)
    assert cluster.api.get("configmaps", "data", "mine") is not None
    assert len(cluster.api.objects("persistentvolumeclaims", "data")) == 3
    assert cluster.api.get("secrets", "data", "kv-erlang-cookie") is not None
    assert cluster.api.get("namespaces", "", "data") is not None
    # Delete order is the reverse of apply order: the StatefulSet goes before its Services and config.
    deletes = [w.plural for w in cluster.api.writes() if w.method == "DELETE"]
    assert deletes.index("statefulsets") < deletes.index("services") < deletes.index("configmaps")
    again = cli("destroy", str(kv_spec), "--yes", "--delete-data")
    assert again.code == 0, again.text
    assert cluster.api.objects("persistentvolumeclaims", "data") == []
    assert cluster.api.get("secrets", "data", "kv-erlang-cookie") is None
    assert cluster.api.get("configmaps", "data", "mine") is not None


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("y\n", True)])
def test_destroy_asks_on_a_terminal(cluster: Running, shop_spec: Path, cli, monkeypatch, answer: str, deleted: bool):
    assert cli("deploy", str(shop_spec), "--no-wait").code == 0
    monkeypatch.setattr("sys.stdin", _Tty(answer))
    result = cli("destroy", str(shop_spec))
    assert "Delete these" in result.out
    assert (cluster.api.get("deployments", "shop", "shop") is None) is deleted
    assert result.code == (0 if deleted else 130)
