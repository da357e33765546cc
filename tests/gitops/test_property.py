"""Properties over any spec the model accepts (tests/render/strategies.py): the ordering follows render's
apply order (the order deploy applies in), and both GitOps outputs reproduce the render — checked with Helm's
engine and `kubectl kustomize`, not with beamkube's own reading of them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from msgspec import ValidationError

from beamkube.errors import UsageError
from beamkube.gitops import write_gitops
from beamkube.gitops.kustomize import control_character
from beamkube.gitops.ordering import (
    ARGO_HOOK,
    ARGO_WAVE,
    HELM_HOOK,
    HELM_WEIGHT,
    WORKLOAD_KINDS,
    argo_annotated,
    helm_annotated,
    pod_references,
)
from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.render.strategies import app_spec

from .support import key, kustomize_build, without_gitops_annotations

COOKIE = st.one_of(st.none(), st.just(b"a-GitOps-cookie-0123456789"))


def _accepted(raw: dict[str, Any]) -> AppSpec:
    try:
        return AppSpec.model_validate(raw)
    except ValidationError:
        assume(False)
        raise


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much], derandomize=True)
@given(app_spec(), COOKIE)
def test_waves_follow_the_apply_order_with_jobs_between_prerequisites_and_workload(
    raw: dict[str, Any], cookie: bytes | None
) -> None:
    spec = _accepted(raw)
    objects = render(spec, cookie=cookie).objects
    annotated = argo_annotated(objects, spec.cookie_secret_name)
    waves = [int(o["metadata"]["annotations"][ARGO_WAVE]) for o in annotated]
    # Along render's order, except the cookie Secret: deploy creates it before anything else (wave -3).
    others = [w for w, o in zip(waves, objects, strict=True) if o["kind"] != "Secret"]
    assert others == sorted(others)
    first_workload = next(i for i, o in enumerate(objects) if o["kind"] in WORKLOAD_KINDS)
    for index, obj in enumerate(annotated):
        marks = obj["metadata"]["annotations"]
        is_migration = obj["kind"] == "Job" and index < first_workload
        assert (marks.get(ARGO_HOOK) == "Sync") is is_migration
        assert (waves[index] == 0) is (index >= first_workload)
    if cookie is not None:
        assert waves[next(i for i, o in enumerate(objects) if o["kind"] == "Secret")] == min(waves)
    # Helm: migration Jobs and exactly what their pods reference (and the chart contains) are hooks.
    hooked = {
        key(o): o["metadata"]["annotations"]
        for o in helm_annotated(annotated)
        if HELM_HOOK in o["metadata"].get("annotations", {})
    }
    jobs = [o for o in objects[:first_workload] if o["kind"] == "Job"]
    needed = set().union(*(pod_references(j["spec"]["template"]["spec"]) for j in jobs)) if jobs else set()
    assert set(hooked) == {key(j) for j in jobs} | ({key(o) for o in objects} & needed)
    for name, marks in hooked.items():
        job_weight = 0
        assert int(marks[HELM_WEIGHT]) < job_weight or name in {key(j) for j in jobs}


def _written(spec: AppSpec, fmt: str, objects: list[dict[str, Any]], where: Path) -> Path:
    directory = where / fmt
    write_gitops(fmt, directory, objects, spec)
    return directory


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    derandomize=True,
)
@given(app_spec(), COOKIE)
def test_helm_template_and_kubectl_kustomize_reproduce_any_render(raw: dict[str, Any], cookie: bytes | None) -> None:
    spec = _accepted(raw)
    objects = render(spec, cookie=cookie).objects
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        with helm.Chart.load(str(_written(spec, "helm", objects, where))) as chart:
            manifests = chart.render({}, name="release", namespace="default")
        from_helm = [d for text in manifests.values() for d in yaml.safe_load_all(text) if d is not None]
        assert {key(o): without_gitops_annotations(o) for o in from_helm} == {key(o): o for o in objects}
        if any(control_character(o) for o in objects):
            # kustomize's YAML emitter refuses control characters: one clear error instead of its own.
            with pytest.raises(UsageError, match="control character"):
                _written(spec, "kustomize", objects, where)
            return
        from_kustomize = kustomize_build(_written(spec, "kustomize", objects, where))
        assert [without_gitops_annotations(o) for o in from_kustomize] == objects
