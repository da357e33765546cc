"""`render --format helm`: Helm's own template engine (Helm v4 Go SDK through helm-python-sdk's libhelm_c, not
beamkube) renders the chart's defaults into exactly the objects `render` prints, `helm lint` finds no error,
values files override image/replicas/resources and nothing else, and data containing `{{` stays data.

Not checked here: `helm install` against a cluster (hook execution order and waiting are Helm's; the hook
annotations are checked as data) and Argo CD's own rendering of the chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from beamkube.examples import example_names, example_path
from beamkube.gitops.ordering import HELM_DELETE, HELM_HOOK, HELM_WEIGHT

from .support import cli, key, rendered, without_gitops_annotations


def helm_template(chart: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with helm.Chart.load(str(chart)) as loaded:
        manifests = loaded.render(values or {}, name="release", namespace="elsewhere")
    objects = []
    for text in manifests.values():
        objects += [d for d in yaml.safe_load_all(text) if d is not None]
    return objects


def chart_of(example: str, where: Path, *extra: str) -> Path:
    cli("render", "--example", example, *extra, "--format", "helm", "--out", str(where))
    return where


@pytest.mark.parametrize("example", example_names())
def test_helm_template_with_default_values_equals_render(example: str, tmp_path: Path) -> None:
    chart = chart_of(example, tmp_path / "chart")
    lint = helm.lint(str(chart))
    assert lint["errors"] == [] and all(m["severity"] <= 1 for m in lint["messages"]), lint  # INFO at most
    got = {key(o): without_gitops_annotations(o) for o in helm_template(chart)}
    want = {key(o): o for o in rendered("--example", example)}
    assert sorted(got) == sorted(want)
    for name, obj in want.items():
        assert got[name] == obj, name


def test_values_override_image_replicas_and_resources_only(tmp_path: Path) -> None:
    chart = chart_of("erlang-kv", tmp_path / "chart")
    values = yaml.safe_load((chart / "values.yaml").read_text())
    (workload,) = values["workloads"]
    override = {
        "image": {"repository": "registry.internal/kv", "tag": "", "digest": "sha256:" + "a" * 64},
        "workloads": {workload: {"replicas": 7, "resources": {"beam": {"requests": {"cpu": "3", "memory": "2Gi"}}}}},
    }
    staged = {key(o): without_gitops_annotations(o) for o in helm_template(chart, override)}
    defaults = {key(o): without_gitops_annotations(o) for o in helm_template(chart)}
    image = "registry.internal/kv@sha256:" + "a" * 64
    for name, obj in defaults.items():
        got = staged[name]
        if obj["kind"] == "StatefulSet":
            assert got["spec"]["replicas"] == 7
            (container,) = got["spec"]["template"]["spec"]["containers"]
            default_resources = obj["spec"]["template"]["spec"]["containers"][0]["resources"]
            # Helm merges maps from values files into the defaults: limits stay, requests change.
            assert container["resources"] == {**default_resources, "requests": {"cpu": "3", "memory": "2Gi"}}
            assert container["image"] == image
            got["spec"]["replicas"] = obj["spec"]["replicas"]
            container["resources"] = obj["spec"]["template"]["spec"]["containers"][0]["resources"]
            container["image"] = obj["spec"]["template"]["spec"]["containers"][0]["image"]
        assert got == obj, name


def test_migration_jobs_and_what_their_pods_need_are_pre_install_hooks(tmp_path: Path) -> None:
    chart = chart_of("phoenix-shop", tmp_path / "chart")
    objects = helm_template(chart)
    hooked = {
        key(o): o["metadata"]["annotations"] for o in objects if HELM_HOOK in o["metadata"].get("annotations", {})
    }
    job = next(o for o in objects if o["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    needs = {("ServiceAccount", pod["serviceAccountName"])}
    needs |= {("ConfigMap", v["configMap"]["name"]) for v in pod["volumes"] if "configMap" in v}
    needs |= {("ConfigMap", s["configMapRef"]["name"]) for c in pod["containers"] for s in c.get("envFrom", [])}
    assert set(hooked) == needs | {key(job)}
    for name, marks in hooked.items():
        assert marks[HELM_HOOK] == "pre-install,pre-upgrade"
        assert marks[HELM_DELETE] == "before-hook-creation"
        assert int(marks[HELM_WEIGHT]) < int(hooked[key(job)][HELM_WEIGHT]) or name == key(job)


def test_template_syntax_in_the_data_is_not_evaluated(tmp_path: Path) -> None:
    spec = yaml.safe_load(example_path("chat-libcluster").read_text())
    spec.setdefault("env", {})["GREETING"] = '{{ .Values.image.repository }} and {{- "x" }} }}'
    path = tmp_path / "beamkube.yaml"
    path.write_text(yaml.safe_dump(spec))
    cli("render", str(path), "--format", "helm", "--out", str(tmp_path / "chart"))
    config = next(o for o in helm_template(tmp_path / "chart") if o["kind"] == "ConfigMap" and "GREETING" in o["data"])
    assert config["data"]["GREETING"] == spec["env"]["GREETING"]


def test_the_cookie_object_the_migration_job_reads_is_a_hook_before_it(tmp_path: Path) -> None:
    chart = chart_of("phoenix-shop", tmp_path / "chart", "--cookie-from", "external:ClusterSecretStore/vault")
    objects = helm_template(chart)
    job = next(o for o in objects if o["kind"] == "Job")
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    secret = next(e["valueFrom"]["secretKeyRef"]["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {}))
    external = next(o for o in objects if o["kind"] == "ExternalSecret")
    assert external["spec"]["target"]["name"] == secret  # the Job's pod reads the Secret it makes
    marks = external["metadata"]["annotations"]
    assert marks[HELM_HOOK] == "pre-install,pre-upgrade"
    assert int(marks[HELM_WEIGHT]) < int(job["metadata"]["annotations"][HELM_WEIGHT])
