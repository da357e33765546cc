"""Every rule, positive and negative: a compliant baseline (frozen `beamkube render` output, or a hand-written
non-BEAM web app) has no finding at all; one targeted mutation makes the rule under test fire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from beamkube.audit import RULES
from tests.audit.helpers import (
    audit,
    container,
    drop,
    edit_vm_args,
    find,
    fixture,
    ids,
    pod,
    set_env,
    workload,
)

Objs = list[dict[str, Any]]
BT = "better-together"  # mix release, Deployment, CPU HPA, PDB, NetworkPolicy, headless Service
KV = "erlang-kv"  # relx release, StatefulSet, static peers, volume
AST = "astarte-pairing"  # Distillery release, StatefulSet
WEB = "web"  # not a BEAM app


def _resources(o: Objs, **parts: dict[str, str]) -> None:
    container(o)["resources"] = parts


def _no_cpu(o: Objs) -> None:
    for part in container(o)["resources"].values():
        part.pop("cpu", None)


def _hpa(o: Objs) -> dict[str, Any]:
    return find(o, "HorizontalPodAutoscaler")


def _pdb(o: Objs) -> dict[str, Any]:
    return find(o, "PodDisruptionBudget")


def _headless(o: Objs) -> dict[str, Any]:
    return next(x for x in o if x["kind"] == "Service" and x["spec"].get("clusterIP") == "None")


def _web_service(o: Objs) -> dict[str, Any]:
    return next(x for x in o if x["kind"] == "Service" and x["spec"].get("clusterIP") != "None")


def _anti_term(o: Objs) -> dict[str, Any]:
    term: dict[str, Any] = pod(o)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    return term


def _vpa(o: Objs, **spec: Any) -> None:
    o.append(
        {
            "apiVersion": "autoscaling.k8s.io/v1",
            "kind": "VerticalPodAutoscaler",
            "metadata": {"name": "better-together", "namespace": "prod"},
            "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "better-together"}, **spec},
        }
    )


def _misplace_containers(o: Objs) -> None:
    template = workload(o)["spec"]["template"]
    template["containers"] = template["spec"].pop("containers")


def _open_dist_policy(o: Objs) -> None:
    policy = find(o, "NetworkPolicy")
    policy["spec"]["ingress"].append({"ports": [{"port": 9000, "protocol": "TCP"}]})


def _bare_dist(o: Objs) -> None:
    edit_vm_args(o, drop_prefix="-kernel inet_dist_listen")
    container(o)["ports"] = [p for p in container(o)["ports"] if p["name"] != "dist"]


def _cookie_in_configmap(o: Objs) -> None:
    edit_vm_args(o, add="-setcookie changeme")


# (rule, baseline, mutation): the mutation must make `rule` fire; the untouched baseline must not.
CASES: list[tuple[str, str, Callable[[Objs], None]]] = [
    ("BK101", BT, lambda o: container(o).pop("resources")),
    ("BK102", BT, lambda o: container(o)["resources"]["limits"].pop("memory")),
    ("BK103", BT, lambda o: container(o)["resources"]["requests"].update(memory="100Mi")),
    ("BK104", WEB, _no_cpu),
    ("BK105", BT, lambda o: container(o)["resources"]["requests"].update(cpu="2")),
    ("BK105", BT, lambda o: container(o)["resources"]["limits"].update(memory="lots")),
    ("BK201", BT, lambda o: container(o).pop("readinessProbe")),
    ("BK202", BT, lambda o: container(o).pop("livenessProbe")),
    ("BK203", BT, lambda o: container(o).update(livenessProbe=container(o)["readinessProbe"])),
    ("BK204", BT, lambda o: container(o).update(livenessProbe={"exec": {"command": ["mix", "app.health"]}})),
    ("BK205", BT, lambda o: container(o).update(
        readinessProbe={"exec": {"command": ["/app/bin/better_together", "rpc", "IO.puts(1)"]}})),
    ("BK206", WEB, lambda o: container(o)["livenessProbe"].update(periodSeconds=5, failureThreshold=3)),
    ("BK301", WEB, lambda o: workload(o)["spec"].update(replicas=1)),
    ("BK302", BT, lambda o: workload(o)["spec"]["selector"].update(matchLabels={"app": "other"})),
    ("BK302", WEB, lambda o: workload(o)["spec"].pop("selector")),
    ("BK303", BT, _misplace_containers),
    ("BK304", WEB, lambda o: workload(o)["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable="100%")),
    ("BK304", WEB, lambda o: workload(o)["spec"]["strategy"]["rollingUpdate"].update(maxSurge=0)),
    ("BK305", WEB, lambda o: workload(o)["spec"].update(strategy={"type": "Recreate"})),
    ("BK306", WEB, lambda o: workload(o)["spec"].update(strategy={"type": "Other"})),
    ("BK307", KV, lambda o: workload(o)["spec"].update(updateStrategy={"type": "OnDelete"})),
    ("BK401", BT, lambda o: drop(o, "PodDisruptionBudget")),
    ("BK402", BT, lambda o: _pdb(o)["spec"].update(minAvailable=2)),
    ("BK402", WEB, lambda o: _pdb(o)["spec"].update(maxUnavailable=0)),
    ("BK403", WEB, lambda o: _pdb(o)["spec"].update(selector={"matchLabels": {"app": "nothing"}})),
    ("BK404", WEB, lambda o: _pdb(o)["spec"].update(minAvailable=1)),
    ("BK404", WEB, lambda o: _pdb(o)["spec"].update(maxUnavailable="150%")),
    ("BK405", WEB, lambda o: _pdb(o)["spec"].pop("unhealthyPodEvictionPolicy")),
    ("BK451", BT, lambda o: [pod(o).pop(k, None) for k in ("affinity", "topologySpreadConstraints")]),
    ("BK452", BT, lambda o: _anti_term(o)["podAffinityTerm"].update(labelSelector={"matchLabels": {"a": "b"}})),
    ("BK452", KV, lambda o: pod(o)["topologySpreadConstraints"][0].update(labelSelector={})),
    ("BK453", BT, lambda o: _anti_term(o)["podAffinityTerm"].update(
        topologyKey="failure-domain.beta.kubernetes.io/zone")),
    ("BK454", BT, lambda o: _anti_term(o).pop("podAffinityTerm")),
    ("BK501", BT, lambda o: _hpa(o)["spec"].update(minReplicas=5, maxReplicas=3)),
    ("BK502", BT, lambda o: _hpa(o)["spec"].update(minReplicas=1)),
    ("BK503", BT, _no_cpu),
    ("BK504", BT, lambda o: workload(o)["spec"].update(replicas=4)),
    ("BK505", BT, lambda o: _hpa(o)["spec"]["scaleTargetRef"].update(name="ghost")),
    ("BK506", BT, lambda o: _vpa(o, updatePolicy={"updateMode": "Auto"})),
    ("BK507", BT, lambda o: _vpa(o, updatePolicy=None, updateMode="Off")),
    ("BK601", BT, lambda o: container(o)["securityContext"].update(allowPrivilegeEscalation=True)),
    ("BK602", WEB, lambda o: pod(o)["securityContext"].update(runAsNonRoot=False, runAsUser=0)),
    ("BK603", BT, lambda o: container(o)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("BK604", BT, lambda o: container(o)["securityContext"].update(capabilities={"add": ["NET_ADMIN"]})),
    ("BK605", WEB, lambda o: pod(o)["securityContext"].pop("seccompProfile")),
    ("BK606", BT, lambda o: container(o)["securityContext"].update(privileged=True)),
    ("BK606", WEB, lambda o: pod(o).update(hostNetwork=True)),
    ("BK607", WEB, lambda o: pod(o)["securityContext"].update(readOnlyRootFilesystem=True)),
    ("BK651", WEB, lambda o: container(o).update(image="nginx")),
    ("BK651", WEB, lambda o: container(o).update(image="nginx:latest", imagePullPolicy="Always")),
    ("BK652", WEB, lambda o: container(o).update(image="nginx:snapshot", imagePullPolicy="Always")),
    ("BK653", WEB, lambda o: container(o).update(image="nginx:latest")),
    ("BK701", WEB, lambda o: drop(o, "NetworkPolicy")),
    ("BK751", BT, lambda o: _hpa(o).update(apiVersion="autoscaling/v2beta2")),
    ("BK751", BT, lambda o: _pdb(o).update(apiVersion="policy/v1beta1")),
    ("BK751", BT, lambda o: workload(o).update(apiVersion="apps/v1beta2")),
    ("BK801", BT, lambda o: set_env(o, "RELEASE_NODE", "better_together@10.0.0.1")),
    ("BK801", AST, lambda o: set_env(o, "RELEASE_NODE", "astarte_pairing@pairing.example.com")),
    ("BK802", BT, lambda o: set_env(o, "RELEASE_DISTRIBUTION", "sname")),
    ("BK802", BT, lambda o: set_env(o, "RELEASE_DISTRIBUTION", None)),
    ("BK802", KV, lambda o: set_env(o, "RELEASE_NODE", "kv@$(POD_NAME)")),
    ("BK803", BT, lambda o: set_env(o, "RELEASE_NODE", "app@$(POD_NAME).better-together-headless.prod.svc")),
    ("BK804", BT, lambda o: set_env(o, "RELEASE_NODE", "app@$(MY_HOST_NAME)")),
    ("BK805", BT, lambda o: o.remove(_headless(o))),
    ("BK805", KV, lambda o: workload(o)["spec"].pop("serviceName")),
    ("BK806", BT, lambda o: _headless(o)["spec"].pop("publishNotReadyAddresses")),
    ("BK807", BT, lambda o: _headless(o)["spec"].update(ports=[])),
    ("BK808", BT, lambda o: set_env(o, "RELEASE_COOKIE", "monster")),
    ("BK808", KV, _cookie_in_configmap),
    ("BK809", BT, lambda o: _web_service(o)["spec"].update(
        type="LoadBalancer", ports=[*_web_service(o)["spec"]["ports"], {"name": "epmd", "port": 4369}])),
    ("BK809", BT, lambda o: container(o)["ports"][1].update(hostPort=4369)),
    ("BK810", BT, lambda o: drop(o, "NetworkPolicy")),
    ("BK810", BT, _open_dist_policy),
    ("BK811", BT, _bare_dist),
    ("BK901", BT, lambda o: edit_vm_args(o, add='-mnesia dir "/data/mnesia"')),
    ("BK902", BT, lambda o: edit_vm_args(o, drop_prefix="+sbwt")),
    ("BK903", BT, lambda o: edit_vm_args(o, drop_prefix="+S ", add="+S 4:4")),
    ("BK904", KV, lambda o: edit_vm_args(o, drop_prefix="+S ")),
    ("BK905", BT, lambda o: set_env(o, "RELEASE_TMP", None)),
    ("BK905", KV, lambda o: set_env(o, "RELX_OUT_FILE_PATH", "/app/tmp")),
    ("BK905", AST, lambda o: set_env(o, "RELEASE_MUTABLE_DIR", None)),
    ("BK906", BT, lambda o: set_env(o, "ERL_CRASH_DUMP", "/app/erl_crash.dump")),
    ("BK907", BT, lambda o: pod(o).update(terminationGracePeriodSeconds=15)),
]


# The other rules each mutation also (rightly) triggers, by case ID: with these the test asserts the exact
# set of IDs, so a rule that starts firing where it should not is caught.
COMPANIONS: dict[str, set[str]] = {
    "BK101-0": {'BK503'},
    "BK104-3": {'BK106'},
    "BK403-24": {'BK401'},
    "BK502-34": {'BK402'},
    "BK503-35": {'BK104', 'BK106'},
    "BK505-37": {'BK301', 'BK402'},
    "BK507-39": {'BK506'},
    "BK603-42": {'BK108'},
    "BK651-48": {'BK653'},
    "BK653-51": {'BK651'},
    "BK805-64": {'BK803'},
    "BK303-15": {'BK708'},
    "BK809-69": {'BK706'},
    "BK811-73": {'BK708'},
}


def test_every_rule_has_a_positive_case() -> None:
    # BK752 needs an older target and BK001 a failing check: both tested below.
    from tests.audit.test_cases import CASES as FIXTURES

    live = {"BK851", "BK852", "BK853"}  # tests/audit/test_live.py, against the API double
    assert {r.id for r in RULES} - {c[0] for c in CASES} - {c["rule"] for c in FIXTURES} - live == {"BK001", "BK752"}


def test_a_failing_check_becomes_a_bk001_finding_not_a_traceback() -> None:
    from beamkube.audit.engine import run
    from beamkube.audit.model import Hit, Manifest, Rule, Severity

    def fragile(ctx: object, m: Manifest) -> Iterator[Hit]:
        yield Hit(str(m.spec["replicas"] + 1))  # a str replicas raises TypeError

    rule = Rule("BK999", Severity.WARNING, "rollout", "t", "f", "w", frozenset({"Deployment"}), fragile)
    manifest = Manifest({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "3"}}, "x.yaml", 4)
    (finding,) = run([manifest], rules=[rule])
    assert finding.rule.id == "BK001" and "BK999" in finding.message and finding.manifest.line == 4
    with pytest.raises(TypeError):
        run([manifest], rules=[rule], strict=True)


@pytest.mark.parametrize("baseline", [BT, KV, AST, WEB])
def test_baselines_are_clean(baseline: str) -> None:
    assert audit(fixture(baseline)) == []


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_on_its_mutation(index: int) -> None:
    rule, baseline, mutate = CASES[index]
    objects = fixture(baseline)
    mutate(objects)
    found = audit(objects)
    assert ids(found) == {rule} | COMPANIONS.get(f"{rule}-{index}", set()), [f.message for f in found]


def test_removed_vs_deprecated_depends_on_kube_version() -> None:
    objects = fixture(BT)
    find(objects, "HorizontalPodAutoscaler").update(apiVersion="autoscaling/v2beta2")
    assert {"BK751"} <= ids(audit(objects, (1, 26)))
    older = ids(audit(objects, (1, 24)))
    assert "BK752" in older and "BK751" not in older
    assert not {"BK751", "BK752"} & ids(audit(objects, (1, 22)))  # not deprecated yet


def test_message_names_removal_version_and_replacement() -> None:
    objects = fixture(BT)
    find(objects, "PodDisruptionBudget").update(apiVersion="policy/v1beta1")
    (finding,) = [f for f in audit(objects) if f.rule.id == "BK751"]
    assert "1.25" in finding.message and "policy/v1" in finding.message


# Negative cases that a naive rule would get wrong.


def test_cookie_from_secret_through_vm_args_variable_is_fine() -> None:
    objects = fixture(AST)  # -setcookie ${RELEASE_COOKIE}, RELEASE_COOKIE from secretKeyRef
    assert "-setcookie ${RELEASE_COOKIE}" in find(objects, "ConfigMap")["data"]["vm.args"]
    assert "BK808" not in ids(audit(objects))
    set_env(objects, "RELEASE_COOKIE", "literal-cookie-value")
    found = [f for f in audit(objects) if f.rule.id == "BK808"]
    assert found and all("literal-cookie-value" not in f.message for f in found)  # never print the cookie


def test_vpa_in_off_mode_does_not_fight_the_hpa() -> None:
    objects = fixture(BT)
    objects.append(
        {
            "apiVersion": "autoscaling.k8s.io/v1",
            "kind": "VerticalPodAutoscaler",
            "metadata": {"name": "better-together", "namespace": "prod"},
            "spec": {
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "better-together"},
                "updatePolicy": {"updateMode": "Off"},
            },
        }
    )
    assert audit(objects) == []


def test_busy_wait_only_matters_with_a_cpu_hpa() -> None:
    objects = fixture(BT)
    edit_vm_args(objects, drop_prefix="+sbwt")
    hpa = find(objects, "HorizontalPodAutoscaler")
    hpa["spec"]["metrics"] = [
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}
    ]
    assert "BK902" not in ids(audit(objects))


def test_policy_admitting_only_own_pods_to_dist_is_fine_but_other_namespaces_are_not() -> None:
    objects = fixture(BT)
    assert "BK810" not in ids(audit(objects))
    rule = find(objects, "NetworkPolicy")["spec"]["ingress"][0]
    rule["from"].append({"namespaceSelector": {}})
    assert "BK810" in ids(audit(objects))


def test_non_beam_workloads_get_no_beam_findings() -> None:
    objects = fixture(WEB)
    container(objects)["securityContext"]["readOnlyRootFilesystem"] = True
    pod(objects)["terminationGracePeriodSeconds"] = 5
    assert not any(f.rule.theme == "beam" for f in audit(objects))


def test_pdb_percentage_is_scaled_to_the_hpa_minimum() -> None:
    objects = fixture(BT)  # HPA minReplicas 2
    find(objects, "PodDisruptionBudget")["spec"]["minAvailable"] = "50%"
    assert "BK402" not in ids(audit(objects))
    find(objects, "PodDisruptionBudget")["spec"]["minAvailable"] = "100%"
    assert "BK402" in ids(audit(objects))


def test_schedulers_match_rounded_up_cpu_limit() -> None:
    objects = fixture(BT)  # limit 500m → +S 1:1
    edit_vm_args(objects, drop_prefix="+S ", add="+S 1:1")
    assert "BK903" not in ids(audit(objects))
    container(objects)["resources"]["limits"]["cpu"] = "1500m"
    container(objects)["resources"]["requests"]["cpu"] = "1500m"
    assert "BK903" in ids(audit(objects))
    edit_vm_args(objects, drop_prefix="+S ", add="+S 2:2")
    assert "BK903" not in ids(audit(objects))


def test_node_name_from_pod_ip_is_fine_and_literal_is_not() -> None:
    objects = fixture(BT)
    env = {e["name"]: e for e in container(objects)["env"]}
    assert env["RELEASE_NODE"]["value"] == "better_together@$(POD_IP)"
    assert not {"BK801", "BK802", "BK803"} & ids(audit(objects))
