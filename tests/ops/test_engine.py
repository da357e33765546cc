"""The engine against the API double pretending to be a given Kubernetes version (issue 11's bullets).

Each test checks behaviour against something beamkube did not write: the upstream schemas of that version
(kubernetes-validate, in the double), lightkube's quantity parser, kubectl as a second field manager.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given
from lightkube.utils.quantity import parse_quantity

from beamkube.engine.compare import CONTAINER_PORT_KEYS, LIST_MAP_KEYS, SERVICE_PORT_KEYS
from tests.support.apidouble import Running
from tests.support.apidouble.schema import _list_map_table, canonical_quantity

HPA_SHOP = """\
name: shop
namespace: shop
image: ghcr.io/acme/shop:1.0.0
autoscaling: {min: 3, max: 5, cpu: 60}
"""


def _real_writes(cluster: Running) -> int:
    return len(cluster.api.writes())


def test_default_spec_deploys_to_a_1_28_server_rendered_for_1_28(cluster: Running, shop_spec: Path, cli):
    cluster.api.store.version = "1.28"
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    assert "Kubernetes 1.28" in result.out
    pod = cluster.api.get("deployments", "shop", "shop")["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0].get("lifecycle", {}).get("preStop", {})
    assert "sleep" not in pre_stop  # 1.30+ only; the double (1.28 schema) would have refused it


def test_1_28_rejects_prestop_sleep_with_a_typed_patch_500_that_is_not_retried(cluster: Running, shop_spec: Path, cli):
    cluster.api.store.version = "1.28"
    result = cli("deploy", str(shop_spec), "--kube-version", "1.33")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "field not declared in schema" in result.err
    assert "preStop.sleep" in result.err and "nothing was changed" in result.err
    patches = [r for r in cluster.api.log if r.plural == "deployments" and r.method == "PATCH"]
    assert len(patches) == 1 and patches[0].status == 500  # one answer, no retries
    assert _real_writes(cluster) == 0


def test_server_older_than_the_minimum_is_refused_in_one_line(cluster: Running, shop_spec: Path, cli):
    cluster.api.store.version = "1.24"
    for command in ("deploy", "diff", "status"):
        result = cli(command, str(shop_spec))
        assert result.code == 2, result.text
        assert result.err == "beamkube: the cluster runs Kubernetes 1.24 (v1.24.0); beamkube needs 1.25 or newer\n"
    assert _real_writes(cluster) == 0


def test_diff_exits_non_zero_when_the_server_rejects_the_plan(cluster: Running, shop_spec: Path, cli):
    cluster.api.store.version = "1.28"
    result = cli("diff", str(shop_spec), "--kube-version", "1.33")
    assert result.code == 1
    assert "field not declared in schema" in result.err


def test_migration_wait_obeys_timeout(cluster: Running, shop_spec: Path, cli):
    cluster.controller.paused = True  # the Job never completes
    started = time.monotonic()
    result = cli("deploy", str(shop_spec), "--timeout", "1")
    assert result.code == 3
    assert "not complete after 1s; the workload was not updated" in result.err
    assert time.monotonic() - started < 8  # not activeDeadlineSeconds + 60
    assert cluster.api.get("deployments", "shop", "shop") is None


def test_failed_migration_is_rerun_with_retry_migrations(cluster: Running, shop_spec: Path, cli):
    cluster.controller.failing_jobs.add("shop-migrate")
    assert cli("deploy", str(shop_spec)).code == 3
    cluster.controller.failing_jobs.clear()
    again = cli("deploy", str(shop_spec))
    assert again.code == 3 and "failed" in again.err  # same image, same Job: still the failed run
    result = cli("deploy", str(shop_spec), "--retry-migrations")
    assert result.code == 0, result.text
    assert "deleted to run it again" in result.out
    assert len(cluster.api.objects("jobs", "shop")) == 1  # bounded: only the current render's Job


def test_hpa_owned_rollout_waits_for_the_hpa_minimum(cluster: Running, tmp_path: Path, cli):
    spec = tmp_path / "hpa.yaml"
    spec.write_text(HPA_SHOP)
    result = cli("deploy", str(spec))
    assert result.code == 0, result.text
    # 1/1 right after the apply is not done: the HPA stand-in scales to 3 shortly after creation.
    assert "Rollout complete: Deployment shop/shop: 3/3 updated, 3/3 ready, 3/3 available" in result.out
    assert cluster.api.get("deployments", "shop", "shop")["spec"]["replicas"] == 3


def test_redeploy_after_the_hpa_scaled_writes_nothing(cluster: Running, tmp_path: Path, cli):
    spec = tmp_path / "hpa.yaml"
    spec.write_text(HPA_SHOP)
    assert cli("deploy", str(spec)).code == 0
    before = _real_writes(cluster)
    assert cli("deploy", str(spec)).code == 0
    assert _real_writes(cluster) == before


def test_a_second_manager_adding_an_env_var_causes_no_reapply_and_no_conflict(
    cluster: Running, shop_spec: Path, cli, tmp_path: Path, kubectl: str
):
    assert cli("deploy", str(shop_spec)).code == 0
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "beam", "env": [{"name": "EXTRA", "value": "1"}]}]}}},
    }
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(patch))
    command = [
        kubectl, "--kubeconfig", str(cluster.kubeconfig), "apply", "--server-side",
        "--field-manager", "ops-team", "--validate=false", "-f", str(path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    env = cluster.api.get("deployments", "shop", "shop")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "EXTRA", "value": "1"} in env and any(e["name"] == "RELEASE_NODE" for e in env)
    before = _real_writes(cluster)
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    assert _real_writes(cluster) == before  # the entry is ops-team's; beamkube's fields are all in place
    got = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", "shop", "get", "deployment", "shop",
         "-o", "jsonpath={.spec.template.spec.containers[0].env[*].name}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "EXTRA" in got.stdout.split() and "RELEASE_NODE" in got.stdout.split()


def test_kubectl_waits_for_the_deployment_beamkube_rolled_out(cluster: Running, shop_spec: Path, cli, kubectl: str):
    assert cli("deploy", str(shop_spec)).code == 0
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", "shop", "wait", "deployment/shop",
         "--for=condition=Available", "--timeout=20s"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@given(
    st.integers(min_value=0, max_value=2**40),
    st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi"]),
)
def test_canonical_quantities_keep_the_value_lightkube_parses(number: int, suffix: str) -> None:
    text = f"{number}{suffix}"
    canonical = canonical_quantity(text)
    assert parse_quantity(canonical) == parse_quantity(text)
    assert canonical_quantity(canonical) == canonical  # canonical is a fixed point


def test_canonical_quantities_seen_on_a_real_server() -> None:
    # testing-notes: a real 1.28 server reads these back in this form.
    assert [canonical_quantity(q) for q in ("1024Mi", "1000m", "0.5", "1.5Gi", "768Mi")] == [
        "1Gi", "1", "500m", "1536Mi", "768Mi",
    ]  # fmt: skip


def test_engine_list_map_keys_are_the_upstream_ones() -> None:
    upstream = _list_map_table("1.33")
    for field, keys in LIST_MAP_KEYS.items():
        assert tuple(k for k, _ in keys) in upstream[field], field
    assert tuple(k for k, _ in CONTAINER_PORT_KEYS) in upstream["ports"]
    assert tuple(k for k, _ in SERVICE_PORT_KEYS) in upstream["ports"]


def test_preflight_names_a_missing_ingress_class_and_storage_class(cluster: Running, tmp_path: Path, cli):
    spec = tmp_path / "kv.yaml"
    spec.write_text(
        "name: kv\nnamespace: data\nimage: ghcr.io/acme/kv:1.0.0\nidentity: stable\nreplicas: 3\n"
        "release: {flavour: relx}\nstorage: {size: 1Gi, storageClassName: fast-ssd}\n"
        "web: {ingress: {host: kv.example.com, className: nginx}}\n"
    )
    result = cli("deploy", str(spec))
    assert result.code == 1
    assert "the cluster has no StorageClass fast-ssd, IngressClass nginx (named in the spec)" in result.err
    assert _real_writes(cluster) == 0
    cluster.api.put({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}})
    cluster.api.put({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast-ssd"},
                     "provisioner": "example.com/ssd"})  # fmt: skip
    assert cli("deploy", str(spec), "--no-wait").code == 0


def test_fields_equal_to_server_defaults_are_not_sent_so_a_second_manager_does_not_conflict(
    cluster: Running, shop_spec: Path, cli, tmp_path: Path, kubectl: str
):
    """testing-notes: on a real 1.28 server, applying `PriorityClass.globalDefault: false` conflicts with
    another manager that applied it too. kubectl applies the rendered PriorityClass (as a GitOps tool would);
    beamkube's deploy must then neither conflict nor need --force-conflicts."""
    shop_spec.write_text(shop_spec.read_text() + "priority: {value: 1000}\n")
    rendered = cli("render", str(shop_spec), "-o", "json")
    assert rendered.code == 0, rendered.text
    objects = json.loads(rendered.out)
    objects = objects if isinstance(objects, list) else objects.get("items", [objects])
    (priority,) = [o for o in objects if o["kind"] == "PriorityClass"]
    assert priority["globalDefault"] is False  # what render emits
    path = tmp_path / "pc.json"
    path.write_text(json.dumps(priority))
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "apply", "--server-side", "--field-manager", "gitops",
         "--validate=false", "-f", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = cli("deploy", str(shop_spec), "--no-wait")
    assert result.code == 0, result.text
    stored = cluster.api.get("priorityclasses", "", priority["metadata"]["name"])
    assert stored["globalDefault"] is False and stored["value"] == 1000
