"""Pure parts of the operator: owned children, the desired-vs-live test, status conditions, own manifests."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from beamkube.examples import example_path
from beamkube.operator.children import APPLIED_HASH, OWNER_NAME, contains, desired_child, needs_apply, owned_by
from beamkube.operator.crd import beamapp_from_spec
from beamkube.operator.manifests import CHILD_RESOURCES, operator_manifests
from beamkube.operator.status import Observation, build_status, status_differs
from beamkube.render import render
from beamkube.spec.load import parse_spec


def _app(example: str = "erlang-kv") -> tuple[dict[str, Any], Any]:
    data = yaml.safe_load(example_path(example).read_text())
    app = beamapp_from_spec(data)
    app["metadata"]["uid"] = "uid-1"
    app["metadata"]["generation"] = 1
    return app, parse_spec(data)


def _server_view(obj: dict[str, Any]) -> dict[str, Any]:
    """What an API server returns: our fields plus defaults and bookkeeping."""
    live = copy.deepcopy(obj)
    live["metadata"].update({"uid": "x", "resourceVersion": "7", "managedFields": [{"manager": "beamkube"}]})
    live["status"] = {"observedGeneration": 1}
    if live["kind"] == "Service":
        live["spec"]["sessionAffinity"] = "None"
    return live


def test_children_are_owned_and_stamped() -> None:
    app, spec = _app("phoenix-shop")
    children = [desired_child(o, app) for o in render(spec).objects]
    for child in children:
        meta = child["metadata"]
        assert APPLIED_HASH in meta["annotations"]
        if child["kind"] == "PriorityClass":
            assert "ownerReferences" not in meta, "a namespaced owner cannot own a cluster-scoped object"
            assert meta["labels"][OWNER_NAME] == "shop"
        else:
            (ref,) = meta["ownerReferences"]
            assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == ("BeamApp", "shop", "uid-1", True)
        assert owned_by(child, app)
    other = copy.deepcopy(app)
    other["metadata"]["uid"] = "uid-2"
    other["metadata"]["namespace"] = "elsewhere"
    assert not any(owned_by(c, other) for c in children)


def test_needs_apply_only_when_something_differs() -> None:
    app, spec = _app()
    for obj in render(spec).objects:
        child = desired_child(obj, app)
        assert needs_apply(child, None)
        live = _server_view(child)
        assert not needs_apply(child, live), child["kind"]
    deployment = next(desired_child(o, app) for o in render(spec).objects if o["kind"] in ("StatefulSet",))
    drifted = _server_view(deployment)
    drifted["spec"]["replicas"] = 1  # someone scaled it by hand
    assert needs_apply(deployment, drifted)
    # A field removed from the desired object is invisible to a subset test; the digest catches it.
    smaller = copy.deepcopy(deployment)
    del smaller["spec"]["template"]["spec"]["topologySpreadConstraints"]
    smaller = desired_child(smaller, app)
    assert needs_apply(smaller, _server_view(deployment))


def test_contains_semantics() -> None:
    assert contains({"a": 1, "b": [1, {"c": 2, "d": 3}]}, {"b": [1, {"c": 2}]})
    assert not contains({"b": [1]}, {"b": [1, 2]})
    assert not contains({"a": True}, {"a": 1})
    assert contains({"a": 1.0}, {"a": 1})
    assert not contains({"a": "1"}, {"a": 1})


def test_contains_compares_quantities_by_value_where_the_server_normalises_them() -> None:
    live = {"resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}, "target": {"averageValue": "2k"}}
    assert contains(live, {"resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}}})
    assert contains(live, {"target": {"averageValue": "2000"}})
    assert not contains(live, {"resources": {"limits": {"cpu": "0.6"}}})
    # elsewhere strings are strings: an env value "1.0" is not "1"
    assert not contains({"env": [{"name": "A", "value": "1"}]}, {"env": [{"name": "A", "value": "1.0"}]})


def _workload(ready: int, updated: int, generation: int = 2, observed: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "status": {"readyReplicas": ready, "updatedReplicas": updated, "observedGeneration": observed},
    }


def test_status_progressing_then_ready_and_stable_transition_times() -> None:
    _, spec = _app()
    obs = Observation(generation=3, spec=spec, workload_kind="StatefulSet", workload=_workload(1, 1))
    first = build_status(obs, None, "2026-01-01T00:00:00Z")
    conditions = {c["type"]: c for c in first["conditions"]}
    assert conditions["Ready"]["status"] == "False" and conditions["Progressing"]["status"] == "True"
    assert first["workload"] == "StatefulSet/kv"
    assert first["nodes"] == [f"kv@kv-{i}.kv-headless.data.svc.cluster.local" for i in range(spec.replicas)]
    assert first["observedGeneration"] == 3
    same = build_status(obs, first, "2026-01-01T00:05:00Z")
    assert same == first and not status_differs(first, same), "nothing new → identical status, no write"
    done = Observation(generation=3, spec=spec, workload_kind="StatefulSet", workload=_workload(3, 3))
    ready = build_status(done, first, "2026-01-01T00:06:00Z")
    conditions = {c["type"]: c for c in ready["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Ready"]["lastTransitionTime"] == "2026-01-01T00:06:00Z"
    assert conditions["Degraded"]["lastTransitionTime"] == "2026-01-01T00:00:00Z", "unchanged status keeps its time"
    stale = Observation(generation=3, spec=spec, workload_kind="StatefulSet", workload=_workload(3, 3, 3, 2))
    assert {c["type"]: c["status"] for c in build_status(stale, ready, "t")["conditions"]}["Ready"] == "False"


def test_invalid_spec_status_keeps_last_good_workload_facts() -> None:
    _, spec = _app()
    good = build_status(
        Observation(generation=1, spec=spec, workload_kind="StatefulSet", workload=_workload(3, 3)), None, "t0"
    )
    error = "BeamApp data/kv: replicas: -1 is out of range"
    bad = build_status(Observation(generation=2, spec_error=error), good, "t1")
    conditions = {c["type"]: c for c in bad["conditions"]}
    assert conditions["Degraded"]["status"] == "True"
    assert conditions["Degraded"]["message"] == "BeamApp data/kv: replicas: -1 is out of range"
    assert conditions["Ready"]["status"] == "False"
    assert bad["readyReplicas"] == 3 and bad["observedGeneration"] == 2


def test_operator_manifests_least_privilege() -> None:
    objects = operator_manifests(namespace="ops", image="example.org/beamkube:1")
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Deployment",
    ]
    role = objects[0]
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
    secrets = [r for r in role["rules"] if "secrets" in r["resources"]]
    assert secrets == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}]  # never read
    # every kind the renderer can emit for the bundled examples is covered by a rule
    covered = {(g, r) for g, resources in CHILD_RESOURCES for r in resources}
    plural = {
        "ConfigMap": ("", "configmaps"), "Service": ("", "services"), "ServiceAccount": ("", "serviceaccounts"),
        "Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"),
        "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
        "VerticalPodAutoscaler": ("autoscaling.k8s.io", "verticalpodautoscalers"),
        "Job": ("batch", "jobs"), "CronJob": ("batch", "cronjobs"), "Ingress": ("networking.k8s.io", "ingresses"),
        "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
        "PodDisruptionBudget": ("policy", "poddisruptionbudgets"), "Role": ("rbac.authorization.k8s.io", "roles"),
        "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings"),
        "PriorityClass": ("scheduling.k8s.io", "priorityclasses"), "LimitRange": ("", "limitranges"),
    }  # fmt: skip
    from beamkube.examples import example_names

    for name in example_names():
        _, spec = _app(name)
        for obj in render(spec).objects:
            assert plural[obj["kind"]] in covered, obj["kind"]
    deployment = objects[-1]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][:3] == ["beamkube", "operator", "run"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["serviceAccountName"] == "beamkube-operator"
    assert not any(e["name"].startswith("RELEASE_") for e in container["env"])
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    assert deployment["spec"]["replicas"] == 2
