"""The talks' own YAML (tests/audit/seeds, copied from both seed talks): each excerpt produces exactly the
findings a reviewer would point out, at the default threshold (warning)."""

from __future__ import annotations

import pytest

from beamkube.audit import Severity, run
from beamkube.audit.loader import load_inputs
from tests.audit.helpers import SEEDS

SECURITY = {"BK601", "BK602", "BK603", "BK604", "BK605"}  # none of the talks' containers is restricted
BARE = {"BK201", "BK302", "BK651"} | SECURITY  # no readiness probe, no selector, :latest

EXPECTED: dict[str, set[str]] = {
    # Bonny's generated operator: hardened container, but a single replica, no probe, caps/seccomp missing.
    "000-eviction-operator.yaml": {"BK201", "BK301", "BK604", "BK605"},
    "000-deployment.yaml": BARE | {"BK101", "BK401", "BK451"},
    "000-qos-besteffort.yaml": BARE | {"BK101", "BK401", "BK451"},
    "000-qos-burstable.yaml": BARE | {"BK401", "BK451"},
    "000-qos-guaranteed.yaml": BARE | {"BK401", "BK451"},
    # The strategy slide shows no template at all.
    "000-strategy.yaml": {"BK302", "BK303", "BK401", "BK451"},
    # `mix myapp.how_you_doing_fam` as a liveness probe: mix is not in a release.
    "000-probes.yaml": (BARE - {"BK201", "BK302"}) | {"BK101", "BK204", "BK401", "BK451"},
    # The preferred anti-affinity term lacks weight/podAffinityTerm; no replicas → 1.
    "000-anti-affinity.yaml": BARE | {"BK101", "BK301", "BK454"},
    "000-hpa-cpu.yaml": {"BK502", "BK751"},
    "000-hpa-custom.yaml": {"BK502", "BK751"},
    "000-hpa-external.yaml": {"BK502", "BK751"},
    # `updateMode` sits beside, not under, `updatePolicy`: the VPA runs in Auto mode.
    "000-vpa.yaml": {"BK507"},
    "000-headless-service.yaml": {"BK806", "BK807"},
    # `containers` is indented beside the pod spec, so the pod has none.
    "000-priority.yaml": {"BK301", "BK302", "BK303"},
    "000-pdb.yaml": {"BK751"},
    # Container-only fields on the pod securityContext.
    "000-security-context.yaml": (BARE - {"BK602"}) | {"BK101", "BK301", "BK607"},
    "003-astarte-deployment.yaml": (BARE - {"BK302", "BK651"}) | {"BK101", "BK301", "BK751"},
    "003-rabbitmq-config.yaml": set(),
    # Node name from the pod name on a Deployment, $MY_POD_BASE_DNS unset, no headless Service, no policy.
    "003-vm-args.yaml": (BARE - {"BK302", "BK651"}) | {"BK101", "BK401", "BK451", "BK803", "BK804", "BK805", "BK810"},
}


def test_every_seed_file_has_expectations() -> None:
    assert sorted(p.name for p in SEEDS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_findings(name: str) -> None:
    findings = run(load_inputs([str(SEEDS / name)]), min_severity=Severity.WARNING)
    assert {f.rule.id for f in findings} == EXPECTED[name]


def _messages(name: str, rule: str, kube: tuple[int, int] = (1, 33)) -> list[str]:
    findings = run(load_inputs([str(SEEDS / name)]), kube_version=kube)
    return [f.message for f in findings if f.rule.id == rule]


def test_removed_api_messages_name_version_and_replacement() -> None:
    astarte = _messages("003-astarte-deployment.yaml", "BK751")
    assert any("removed in Kubernetes 1.16; use apps/v1" in m for m in astarte)
    assert any("1.26; use autoscaling/v2" in m for m in _messages("000-hpa-cpu.yaml", "BK751"))
    assert any("1.25; use autoscaling/v2" in m for m in _messages("000-hpa-external.yaml", "BK751"))
    assert any("1.25; use policy/v1" in m for m in _messages("000-pdb.yaml", "BK751"))


def test_talk_era_cluster_sees_deprecations_not_removals() -> None:
    """On the Kubernetes of the talk (1.17, early 2020) v2beta2 was current and policy/v1beta1 served."""
    assert _messages("000-hpa-cpu.yaml", "BK751", (1, 17)) == []
    assert _messages("000-pdb.yaml", "BK751", (1, 17)) == []
    assert _messages("003-astarte-deployment.yaml", "BK751", (1, 15)) == []
    assert _messages("003-astarte-deployment.yaml", "BK752", (1, 15))


def test_details_point_at_the_slide_bug() -> None:
    assert any("beside the pod `spec`" in m for m in _messages("000-priority.yaml", "BK303"))
    assert any("mode Auto" in m for m in _messages("000-vpa.yaml", "BK507"))
    assert any("mix myapp.how_you_doing_fam" in m for m in _messages("000-probes.yaml", "BK204"))
    assert any("$MY_POD_BASE_DNS" in m for m in _messages("003-vm-args.yaml", "BK804"))
    assert any("allowPrivilegeEscalation" in m for m in _messages("000-security-context.yaml", "BK607"))


def test_vm_args_cookie_from_secret_is_not_flagged() -> None:
    assert _messages("003-vm-args.yaml", "BK808") == []
