"""`render --format kustomize`: `kubectl kustomize` (kustomize v5, not beamkube) builds the base into the very
objects `render` prints, in the same order, plus only the documented ordering annotations; an overlay as
docs/gitops.md shows it changes the image of every container and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beamkube.examples import example_names
from beamkube.gitops.ordering import ARGO_HOOK, ARGO_WAVE

from .support import cli, key, kustomize_build, rendered, without_gitops_annotations

CASES = [(name, ()) for name in example_names()] + [("erlang-kv", ("--kube-version", "1.27"))]


@pytest.mark.parametrize(("example", "extra"), CASES, ids=lambda c: "-".join(c) if isinstance(c, tuple) else c)
def test_kustomize_build_of_the_base_equals_render_object_for_object(
    example: str, extra: tuple[str, ...], tmp_path: Path
) -> None:
    reference = rendered("--example", example, *extra)
    result = cli("render", "--example", example, *extra, "--format", "kustomize", "--out", str(tmp_path))
    assert "referenced, not written" in result.stderr  # the cookie: no plain text by default
    built = kustomize_build(tmp_path)
    assert [key(o) for o in built] == [key(o) for o in reference]
    for got, want in zip(built, reference, strict=True):
        assert without_gitops_annotations(got) == want, key(want)
        assert ARGO_WAVE in got["metadata"]["annotations"], key(want)
    assert not any(o["kind"] == "Secret" for o in built)


def test_the_cookie_from_file_is_in_the_base_first_and_flagged_as_plain_text(tmp_path: Path) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_text("s3cr3t-cookie-value-0123456789\n")
    out = tmp_path / "base"
    result = cli("render", "--example", "chat-libcluster", "--cookie-file", str(cookie), "--format", "kustomize",
                 "--out", str(out))  # fmt: skip
    assert "WARNING" in result.stderr and "plain text" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
    built = kustomize_build(out)
    reference = rendered("--example", "chat-libcluster", "--cookie-file", str(cookie))
    assert [without_gitops_annotations(o) for o in built] == reference
    secret = next(o for o in built if o["kind"] == "Secret")
    waves = [int(o["metadata"]["annotations"][ARGO_WAVE]) for o in built]
    assert int(secret["metadata"]["annotations"][ARGO_WAVE]) == min(waves) < waves[-1]


def test_an_external_secret_replaces_the_plain_cookie(tmp_path: Path) -> None:
    result = cli("render", "--example", "erlang-kv", "--format", "kustomize", "--out", str(tmp_path),
                 "--cookie-from", "external:ClusterSecretStore/vault#beam/kv-cookie")  # fmt: skip
    assert "ExternalSecret" in result.stderr
    built = kustomize_build(tmp_path)
    external = built[0]
    assert external["kind"] == "ExternalSecret" and external["metadata"]["annotations"][ARGO_WAVE] == "-3"
    workload = next(o for o in built if o["kind"] == "StatefulSet")
    pod = workload["spec"]["template"]["spec"]
    env = [e for c in pod["containers"] for e in c["env"]]
    refs = [e["valueFrom"]["secretKeyRef"] for e in env if "secretKeyRef" in e.get("valueFrom", {})]
    # The ExternalSecret writes exactly the Secret and key the pods read.
    target = external["spec"]["target"]["name"]
    assert {(r["name"], r["key"]) for r in refs} == {(target, external["spec"]["data"][0]["secretKey"])}
    assert external["spec"]["data"][0]["remoteRef"]["key"] == "beam/kv-cookie"
    assert [without_gitops_annotations(o) for o in built[1:]] == rendered("--example", "erlang-kv")


def test_an_overlay_sets_the_image_tag_per_environment(tmp_path: Path) -> None:
    base = tmp_path / "base"
    cli("render", "--example", "phoenix-shop", "--format", "kustomize", "--out", str(base))
    overlay = tmp_path / "overlays" / "staging"
    overlay.mkdir(parents=True)
    # The overlay docs/gitops.md shows.
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\n"
        "images:\n- name: ghcr.io/acme/shop\n  newTag: 2026.12.0-rc1\nsortOptions:\n  order: fifo\n"
    )
    staged = kustomize_build(overlay)
    base_objects = kustomize_build(base)
    changed = 0
    for got, want in zip(staged, base_objects, strict=True):
        spec = got.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
        if template is None:
            assert got == want
            continue
        for container in template["spec"]["containers"]:
            assert container["image"] == "ghcr.io/acme/shop:2026.12.0-rc1"
            container["image"] = "ghcr.io/acme/shop:2026.11.3"
            changed += 1
        assert got == want
    assert changed >= 3  # Deployment, migration Job, CronJob


def test_format_needs_out_and_a_known_format(tmp_path: Path) -> None:
    missing_out = cli("render", "--example", "erlang-kv", "--format", "kustomize", check=False)
    assert missing_out.returncode != 0 and "--out" in missing_out.stderr and "Traceback" not in missing_out.stderr
    unknown = cli("render", "--example", "erlang-kv", "--format", "jsonnet", "--out", str(tmp_path), check=False)
    assert unknown.returncode != 0 and "kustomize, helm" in unknown.stderr and "Traceback" not in unknown.stderr
    assert not list(tmp_path.iterdir())


def test_the_migration_job_is_a_sync_hook_between_its_prerequisites_and_the_workload(tmp_path: Path) -> None:
    cli("render", "--example", "phoenix-shop", "--format", "kustomize", "--out", str(tmp_path))
    built = kustomize_build(tmp_path)
    waves = {key(o): int(o["metadata"]["annotations"][ARGO_WAVE]) for o in built}
    job = next(o for o in built if o["kind"] == "Job")
    deployment = next(o for o in built if o["kind"] == "Deployment")
    pod = job["spec"]["template"]["spec"]
    needs = {("ServiceAccount", pod["serviceAccountName"])}
    needs |= {("ConfigMap", v["configMap"]["name"]) for v in pod["volumes"] if "configMap" in v}
    needs |= {("ConfigMap", s["configMapRef"]["name"]) for c in pod["containers"] for s in c.get("envFrom", [])}
    assert needs and all(waves[n] < waves[key(job)] for n in needs)
    assert waves[key(job)] < waves[key(deployment)]
    assert job["metadata"]["annotations"][ARGO_HOOK] == "Sync"
    assert [int(o["metadata"]["annotations"][ARGO_WAVE]) for o in built] == sorted(waves.values())


def test_re_rendering_replaces_only_beamkubes_files_and_refuses_a_foreign_kustomization(tmp_path: Path) -> None:
    import yaml

    from beamkube.examples import example_path

    spec = yaml.safe_load(example_path("phoenix-shop").read_text())
    path = tmp_path / "beamkube.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "base"
    cli("render", str(path), "--format", "kustomize", "--out", str(out))
    (out / "NOTES.md").write_text("mine")
    assert any("-job-" in p.name for p in out.iterdir())
    spec["jobs"] = [j for j in spec["jobs"] if "schedule" in j]  # drop the migration Job
    path.write_text(yaml.safe_dump(spec))
    cli("render", str(path), "--format", "kustomize", "--out", str(out))
    assert not any("-job-" in p.name for p in out.iterdir()) and (out / "NOTES.md").read_text() == "mine"
    assert [o["kind"] for o in kustomize_build(out)] == [o["kind"] for o in rendered(str(path))]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "kustomization.yaml").write_text("resources: []\n")
    refused = cli("render", str(path), "--format", "kustomize", "--out", str(foreign), check=False)
    assert refused.returncode != 0 and "beamkube did not write it" in refused.stderr
    assert (foreign / "kustomization.yaml").read_text() == "resources: []\n"
