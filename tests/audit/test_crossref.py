"""Cross-object rules resolve the way the controllers do: a PDB's expected count is the scale of every
workload whose pods it selects (policy/v1: `{}` selects the whole namespace), an HPA's bounds and the
declared replicas are both considered, anti-affinity terms look only at the namespaces they name."""

from __future__ import annotations

import copy
from typing import Any

from tests.audit.helpers import audit, drop, find, fixture, ids, pod, workload

Objs = list[dict[str, Any]]


def _hpa(name: str, namespace: str, low: int, high: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def test_hpa_minimum_one_does_not_silence_pdb_and_spread_for_three_declared_replicas() -> None:
    objects = fixture("web")  # replicas 3
    drop(objects, "PodDisruptionBudget")
    pod(objects).pop("topologySpreadConstraints")
    objects.append(_hpa("web", "shop", 1, 5))
    found = ids(audit(objects))
    assert {"BK401", "BK451", "BK502", "BK504"} <= found


def test_hpa_maximum_alone_makes_pdb_matter() -> None:
    objects = fixture("web")
    workload(objects)["spec"].pop("replicas")
    drop(objects, "PodDisruptionBudget")
    objects.append(_hpa("web", "shop", 1, 4))
    assert "BK401" in ids(audit(objects))


def test_unset_replicas_without_hpa_is_one_finding_bk301_only() -> None:
    objects = fixture("web")
    workload(objects)["spec"].pop("replicas")
    drop(objects, "PodDisruptionBudget")
    pod(objects).pop("topologySpreadConstraints")
    found = audit(objects)
    assert ids(found) == {"BK301"}
    assert "unset" in found[0].message


def test_empty_pdb_selector_selects_the_namespace_in_policy_v1_only() -> None:
    objects = fixture("web")
    find(objects, "PodDisruptionBudget")["spec"]["selector"] = {}
    assert "BK401" not in ids(audit(objects))
    find(objects, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta1"
    found = ids(audit(objects, (1, 24)))
    assert "BK401" in found and "BK403" in found


def test_pdb_budget_is_summed_over_every_workload_it_selects() -> None:
    objects = fixture("web")
    for obj in objects:
        obj["metadata"].setdefault("labels", {})
    web = workload(objects)
    web["spec"]["replicas"] = 2
    web["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    twin = copy.deepcopy(web)
    twin["metadata"]["name"] = "web-canary"
    twin["spec"]["selector"] = {"matchLabels": {"app": "web-canary"}}
    twin["spec"]["template"]["metadata"]["labels"] = {"app": "web-canary", "tier": "front"}
    objects.append(twin)
    pdb = find(objects, "PodDisruptionBudget")
    pdb["spec"] = {
        "minAvailable": 3,
        "selector": {"matchLabels": {"tier": "front"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert "BK402" not in ids(audit(objects))  # 2 + 2 pods, 3 must stay: one eviction is allowed
    pdb["spec"]["minAvailable"] = 4
    (hit,) = [f for f in audit(objects) if f.rule.id == "BK402"]
    assert "4 pods of 2 workloads" in hit.message


def test_pdb_that_blocks_everything_is_flagged_even_alone() -> None:
    objects = [o for o in fixture("web") if o["kind"] == "PodDisruptionBudget"]
    objects[0]["spec"] = {
        "minAvailable": "100%",
        "selector": {"matchLabels": {"app": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert {"BK402", "BK403"} == ids(audit(objects))
    objects[0]["spec"] = {
        "maxUnavailable": "0%",
        "selector": {"matchLabels": {"app": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert {"BK402", "BK403"} == ids(audit(objects))


def test_pdb_percentage_rounds_up_like_the_disruption_controller() -> None:
    objects = fixture("web")  # 3 replicas
    find(objects, "PodDisruptionBudget")["spec"] = {
        "minAvailable": "90%",
        "selector": {"matchLabels": {"app": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert "BK402" in ids(audit(objects))  # ceil(2.7) = 3 of 3
    find(objects, "PodDisruptionBudget")["spec"]["minAvailable"] = "60%"
    assert "BK402" not in ids(audit(objects))  # ceil(1.8) = 2 of 3


def test_pdb_blocks_at_the_hpa_minimum_not_at_the_declared_count() -> None:
    objects = fixture("web")  # replicas 3
    objects.append(_hpa("web", "shop", 2, 6))
    workload(objects)["spec"].pop("replicas")
    find(objects, "PodDisruptionBudget")["spec"] = {
        "minAvailable": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    (hit,) = [f for f in audit(objects) if f.rule.id == "BK402"]
    assert "HPA minReplicas 2" in hit.message


def test_anti_affinity_term_limited_to_other_namespaces_does_not_spread_own_pods() -> None:
    objects = fixture("web")
    pod(objects).pop("topologySpreadConstraints")
    term = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
    pod(objects)["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    assert "BK452" not in ids(audit(objects))
    term["namespaces"] = ["other"]
    assert "BK452" in ids(audit(objects))
    term["namespaces"] = ["other", "shop"]
    assert "BK452" not in ids(audit(objects))


def test_unknown_strategy_types_are_errors() -> None:
    objects = fixture("web")
    workload(objects)["spec"]["strategy"] = {"type": "Other"}
    assert "BK306" in ids(audit(objects))
    workload(objects)["spec"]["strategy"] = {"type": "Recreate"}
    assert "BK306" not in ids(audit(objects))


def test_rolling_update_checked_at_the_hpa_minimum_too() -> None:
    objects = fixture("web")  # replicas 3, maxUnavailable 0 / maxSurge 1
    workload(objects)["spec"]["strategy"]["rollingUpdate"] = {"maxUnavailable": 2, "maxSurge": 0}
    assert "BK304" not in ids(audit(objects))  # 2 of 3 may stop
    objects.append(_hpa("web", "shop", 2, 6))
    assert "BK304" in ids(audit(objects))  # at 2 pods both may stop


def test_pdb_covers_pods_through_any_label_they_carry_not_only_the_selector_labels() -> None:
    # The disruption controller lists pods by the PDB's selector: a template label outside the workload's
    # spec.selector (here `tier`) selects its pods just as well.
    objects = fixture("web")
    workload(objects)["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    pdb = find(objects, "PodDisruptionBudget")
    pdb["spec"]["selector"] = {"matchLabels": {"tier": "front"}}
    assert ids(audit(objects)) == set()
    pdb["spec"]["selector"] = {"matchLabels": {"tier": "back"}}
    assert ids(audit(objects)) == {"BK401", "BK403"}
