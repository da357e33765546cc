"""The first deploy of an autoscaled app starts at max(replicas, autoscaling.min) pods, and later deploys leave
`replicas` to the HPA: against the API double, which tracks field ownership per manager and operation and
removes fields an applier stops sending, as a real API server's server-side apply does."""

from __future__ import annotations

from pathlib import Path

from tests.support.apidouble import Running

SPEC = """\
name: shop
namespace: shop
image: ghcr.io/acme/shop:1.0.0
replicas: 4
autoscaling: {min: 2, max: 8, cpu: 60}
"""


def _replicas_owners(dep: dict) -> set[tuple[str, str]]:
    return {
        (m["manager"], m["operation"])
        for m in dep["metadata"]["managedFields"]
        if "f:replicas" in (m.get("fieldsV1") or {}).get("f:spec", {})
    }


def test_first_deploy_starts_at_the_larger_of_replicas_and_min_then_the_hpa_owns_it(
    cluster: Running, tmp_path: Path, cli
) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    result = cli("deploy", str(spec))
    assert result.code == 0, result.text
    dep = cluster.api.get("deployments", "shop", "shop")
    assert dep is not None
    assert dep["spec"]["replicas"] == 4
    # Set by an update of its own manager, so the apply manager (whose config omits replicas) never owns the field.
    assert ("beamkube", "Apply") not in _replicas_owners(dep)
    assert ("beamkube-initial-replicas", "Update") in _replicas_owners(dep)
    # The HPA scales up; a second deploy must neither reset nor remove its count.
    scaled = {**dep, "spec": {**dep["spec"], "replicas": 7}}
    cluster.api.put(scaled, manager="kube-controller-manager")
    again = cli("deploy", str(spec))
    assert again.code == 0, again.text
    assert cluster.api.get("deployments", "shop", "shop")["spec"]["replicas"] == 7


PROCESSES = """\
name: shop
namespace: shop
image: ghcr.io/acme/shop:1.0.0
replicas: 2
processes:
  web:
    autoscaling: {min: 3, max: 8, cpu: 60}
  worker:
    probes: {}
"""


def test_a_processes_app_deploys_one_workload_per_process(cluster: Running, tmp_path: Path, cli) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(PROCESSES)
    result = cli("deploy", str(spec))
    assert result.code == 0, result.text
    web = cluster.api.get("deployments", "shop", "shop-web")
    worker = cluster.api.get("deployments", "shop", "shop-worker")
    assert web is not None and worker is not None
    assert web["spec"]["replicas"] == 3  # max(replicas 2, min 3), then the HPA's
    assert worker["spec"]["replicas"] == 2
    assert cluster.api.get("horizontalpodautoscalers", "shop", "shop-web") is not None
