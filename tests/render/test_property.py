"""Property: any spec the model accepts, rendered for any supported --kube-version, gives objects that are
strictly schema-valid (newest bundled Kubernetes), meet the Pod Security "restricted" profile, carry the
app.kubernetes.io labels, keep names valid DNS labels within Kubernetes' limits and stay consistent
(selectors, targets, ports); and a spec round-trips through YAML and the loader to the same rendering.

Role: tests; pure (schemas are read once and cached).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from msgspec import ValidationError

from beamkube.output import dump_yaml
from beamkube.render import render
from beamkube.spec import load_spec_text
from beamkube.spec.model import AppSpec

from .kube import all_problems, newest_versions
from .strategies import app_spec

NEWEST = newest_versions()[-1:]


def _accepted(raw: dict[str, Any]) -> AppSpec:
    """The spec if the model accepts it; hypothesis discards the example otherwise."""
    try:
        return AppSpec.model_validate(raw)
    except ValidationError:
        assume(False)
        raise


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
@given(
    app_spec(),
    st.sampled_from([(1, 25), (1, 29), (1, 30), (1, 33), (1, 37)]),
    st.one_of(st.none(), st.just(b"a-GitOps-cookie-0123456789")),  # --cookie-file adds the Secret
)
def test_any_valid_spec_renders_valid_restricted_objects(
    raw: dict[str, Any], kube_version: tuple[int, int], cookie: bytes | None
) -> None:
    spec = _accepted(raw)
    objects = render(spec, kube_version=kube_version, cookie=cookie).objects
    assert any(o["kind"] == "Secret" for o in objects) == (cookie is not None)
    assert objects, "nothing rendered"
    problems = all_problems(objects, NEWEST)
    assert problems == [], "\n".join(problems)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
@given(app_spec(production=True), st.sampled_from([(1, 28), (1, 29), (1, 33), (1, 37)]))
def test_any_valid_production_spec_renders_valid_restricted_objects(
    raw: dict[str, Any], kube_version: tuple[int, int]
) -> None:
    """The production fields and processes (every spec here has them): several workloads, sidecars native or
    not by version, one cluster (the headless Service and NetworkPolicy select every process's pods)."""
    spec = _accepted(raw)
    result = render(spec, kube_version=kube_version)
    problems = all_problems(result.objects, NEWEST)
    assert problems == [], "\n".join(problems)
    workloads = [o for o in result.objects if o["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) == max(1, len(spec.processes))
    cookies = {
        json.dumps(env["valueFrom"], sort_keys=True)
        for w in workloads
        for env in w["spec"]["template"]["spec"]["containers"][0]["env"]
        if env["name"] == "RELEASE_COOKIE"
    }
    assert len(cookies) == 1, "every process must read the same cookie"
    assert dump_yaml(render(spec, kube_version=kube_version).objects) == dump_yaml(result.objects)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much], derandomize=True)
@given(app_spec())
def test_yaml_round_trip_renders_the_same(raw: dict[str, Any]) -> None:
    direct = dump_yaml(render(_accepted(raw)).objects)
    loaded = load_spec_text(yaml.safe_dump(raw, sort_keys=False), "prop.yaml")
    assert dump_yaml(render(loaded).objects) == direct
