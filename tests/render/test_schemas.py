"""Every object rendered from every bundled example validates, with `kubernetes_validate.validate(strict=True)`,
against the three newest Kubernetes minor versions it bundles; a missing schema (a removed API version) fails.
The VPA is a custom resource without an upstream schema: it is checked against `schemas/`, written from the
VPA CRD's facts. The examples also pass the restricted, naming and consistency checks of `kube.py`.

Role: tests; pure apart from reading the bundled schemas.
"""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from .examples import EXAMPLES, rendered
from .kube import (
    CRD_SCHEMAS,
    all_problems,
    consistency_problems,
    newest_versions,
    restricted_violations,
    schema_errors,
)

VERSIONS = newest_versions()


def _validate(obj: dict[str, Any], version: str) -> None:
    """Upstream objects through kubernetes-validate itself; our CRD schema for the VPA."""
    if (obj["apiVersion"], obj["kind"]) in CRD_SCHEMAS:
        assert schema_errors(obj, version) == []
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(f"missing schema counts as a failure: {exc.message}")
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} invalid in {version}: {exc.message} at {list(exc.path)}")


def test_newest_bundled_versions_are_recent() -> None:
    assert len(VERSIONS) == 3
    major, minor = (int(x) for x in VERSIONS[0].split("."))
    assert (major, minor) >= (1, 35), f"kubernetes-validate bundles only up to {VERSIONS}"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_validates_strictly(example: str, version: str) -> None:
    target = tuple(int(x) for x in version.split("."))
    default_render = rendered(example)  # what `beamkube render` prints without --kube-version
    targeted = rendered(example, (target[0], target[1]))
    for obj in [*default_render, *targeted]:
        _validate(obj, version)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_is_restricted_named_and_consistent(example: str) -> None:
    assert all_problems(rendered(example), VERSIONS[-1:]) == []


def test_strict_validation_is_not_vacuous() -> None:
    """The same path that accepts the examples rejects a typo'd field and a removed API version."""
    deployment = next(o for o in rendered("phoenix-shop") if o["kind"] == "Deployment")
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"tcpSocket": {"port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, VERSIONS[-1], strict=True)
    old = copy.deepcopy(next(o for o in rendered("phoenix-shop") if o["kind"] == "HorizontalPodAutoscaler"))
    old["apiVersion"] = "autoscaling/v2beta2"  # the talk's version, removed in 1.26
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(old, VERSIONS[-1], strict=True)


def test_vpa_schema_rejects_what_the_crd_rejects() -> None:
    vpa = next(o for o in rendered("phoenix-shop") if o["kind"] == "VerticalPodAutoscaler")
    assert schema_errors(vpa, VERSIONS[-1]) == []
    bad_mode = copy.deepcopy(vpa)
    bad_mode["spec"]["updatePolicy"]["updateMode"] = "Sometimes"
    no_target = copy.deepcopy(vpa)
    del no_target["spec"]["targetRef"]
    bad_resource = copy.deepcopy(vpa)
    bad_resource["spec"]["resourcePolicy"]["containerPolicies"][0]["controlledResources"] = ["cpu", "gpu"]
    unknown = copy.deepcopy(vpa)
    unknown["spec"]["updatePolicy"]["mode"] = "Off"
    for broken in (bad_mode, no_target, bad_resource, unknown):
        assert schema_errors(broken, VERSIONS[-1]), broken["spec"]


def test_restricted_checks_catch_violations() -> None:
    pod = copy.deepcopy(
        next(o for o in rendered("erlang-kv") if o["kind"] == "StatefulSet")["spec"]["template"]["spec"]
    )
    assert restricted_violations(pod) == []
    pod["hostNetwork"] = True
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    sc = pod["containers"][0]["securityContext"]
    sc["allowPrivilegeEscalation"] = True
    sc["capabilities"] = {"drop": ["NET_RAW"], "add": ["SYS_ADMIN"]}
    sc["seccompProfile"] = {"type": "Unconfined"}
    sc["runAsUser"] = 0
    found = "\n".join(restricted_violations(pod))
    for expected in (
        "hostNetwork",
        "hostPath",
        "allowPrivilegeEscalation",
        "drop ALL",
        "SYS_ADMIN",
        "Unconfined",
        "runAsUser is 0",
    ):
        assert expected in found


def test_consistency_checks_catch_a_wrong_selector() -> None:
    objects = copy.deepcopy(rendered("phoenix-shop"))
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "shop")
    service["spec"]["selector"]["app.kubernetes.io/component"] = "web"
    assert any("Service/shop: selects the pods of 0 workloads" in p for p in consistency_problems(objects))
