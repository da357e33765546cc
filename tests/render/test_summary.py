"""What `render` says beside the objects: QoS without an unconditional "exclusive CPUs" promise, the replica
rule under an HPA, one workload per process, and the warnings it can see in the spec.

Role: tests; pure (renders specs in memory).
"""

from __future__ import annotations

from typing import Any

from beamkube.render import render
from beamkube.spec.model import AppSpec

BASE: dict[str, Any] = {"name": "shop", "image": "ghcr.io/acme/shop:1.0"}


def _render(kube: tuple[int, int] = (1, 33), **fields: Any) -> Any:
    return render(AppSpec.model_validate({**BASE, **fields}), kube_version=kube)


def test_integer_cpus_name_the_static_cpu_manager_instead_of_promising_exclusive_cores() -> None:
    summary = _render().summary()
    assert "exclusive CPUs" not in summary
    assert "Guaranteed, integer CPUs (exclusive cores with the static CPU manager policy)" in summary
    burstable = _render(resources={"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}})
    assert "QoS beam: Burstable;" in burstable.summary()


def test_the_replica_rule_is_stated_and_the_annotation_carries_it() -> None:
    result = _render(replicas=4, autoscaling={"min": 2, "max": 9, "cpu": 60})
    assert "replicas: HPA 2-9 owns them; created with 4 = max(replicas 4, min 2)" in result.summary()
    deployment = next(o for o in result.objects if o["kind"] == "Deployment")
    assert "replicas" not in deployment["spec"]
    assert deployment["metadata"]["annotations"]["beamkube.io/initial-replicas"] == "4"
    low = _render(replicas=1, autoscaling={"min": 3, "max": 9, "cpu": 60})
    assert next(o for o in low.objects if o["kind"] == "Deployment")["metadata"]["annotations"] == {
        "beamkube.io/initial-replicas": "3"
    }


def test_processes_render_one_workload_each_and_report_each_qos() -> None:
    result = _render(
        processes={"web": {}, "worker": {"probes": {}, "resources": {"requests": {"cpu": "250m"}, "limits": {}}}}
    )
    assert result.workloads == ["shop-web", "shop-worker"]
    assert "QoS web: Guaranteed" in result.summary() and "worker: Burstable" in result.summary()
    kinds = [o["kind"] for o in result.objects]
    assert kinds.count("Deployment") == 2 and kinds.count("PodDisruptionBudget") == 2
    beam = next(o for o in result.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "shop-beam")
    assert sorted(beam["data"]) == ["vm.args", "web.vm.args", "worker.vm.args"]
    # web: +S from its CPU limit (1); worker: no CPU limit, so +S from its request (250m rounds up to 1)
    assert "+S 1:1" in beam["data"]["web.vm.args"] and "+S 1:1" in beam["data"]["worker.vm.args"]


def test_warnings_it_can_see() -> None:
    assert _render().warnings == []
    phoenix = _render(env={"PHX_HOST": "shop.example.com"})
    assert any("PHX_SERVER" in w for w in phoenix.warnings)
    assert _render(env={"PHX_HOST": "shop.example.com", "PHX_SERVER": "true"}).warnings == []
    sidecar = {"sidecars": [{"name": "proxy", "image": "proxy:1"}]}
    assert any("before Kubernetes 1.29" in w for w in _render((1, 28), **sidecar).warnings)
    assert _render((1, 29), **sidecar).warnings == []


def test_mnesia_hints_on_a_stateless_app_are_warned() -> None:
    assert any("identity: stable" in w for w in _render(release={"vmArgs": ["-mnesia dir '/data/mnesia'"]}).warnings)
    assert any("MNESIA_DIR" in w for w in _render(env={"MNESIA_DIR": "/data"}).warnings)
    stable = _render(identity="stable", storage={"size": "1Gi"}, env={"MNESIA_DIR": "/data"})
    assert stable.warnings == []
