"""`beamkube deploy` against the API double: order, ownership, the cookie, prune, dry run, failures."""

from __future__ import annotations

from pathlib import Path

from tests.support.apidouble import Running, secret_value

COOKIE = "shop-erlang-cookie"


def _image(running: Running, ns: str = "shop", name: str = "shop") -> str:
    dep = running.api.get("deployments", ns, name)
    assert dep is not None
    return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])


def test_first_deploy_applies_everything_waits_for_migration_then_rollout(cluster: Running, shop_spec: Path, cli):
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    api = cluster.api
    # Everything rendered is there, applied by field manager beamkube with server-side apply.
    for plural, name in [
        ("configmaps", "shop-beam"),
        ("configmaps", "shop-env"),
        ("services", "shop"),
        ("services", "shop-headless"),
        ("serviceaccounts", "shop"),
        ("deployments", "shop"),
    ]:
        obj = api.get(plural, "shop", name)
        assert obj is not None, (plural, name)
        managers = {(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]}
        assert ("beamkube", "Apply") in managers
    applies = [r for r in api.writes() if r.method == "PATCH"]
    assert applies and all(r.content_type.startswith("application/apply-patch") for r in applies)
    assert all(r.params["fieldManager"] == "beamkube" and "force" not in r.params for r in applies)
    # The migration Job completed before the Deployment was first written.
    history = list(cluster.api.store.history)
    job_done = min(rv for rv, _g, p, _k, o in history if p == "jobs" and (o.get("status") or {}).get("succeeded"))
    dep_created = min(rv for rv, _g, p, k, _o in history if p == "deployments" and k == "ADDED")
    assert job_done < dep_created
    # The progress display reported replica counts and observedGeneration, ending complete.
    assert "2/2 updated, 2/2 ready, 2/2 available (generation 1, observed 1)" in result.err
    assert "Rollout complete" in result.out
    dep = api.get("deployments", "shop", "shop")
    assert dep["status"]["availableReplicas"] == 2


def test_cookie_created_once_random_and_never_rewritten(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    secret = cluster.api.get("secrets", "shop", COOKIE)
    assert secret is not None
    cookie = secret_value(secret, "cookie")
    assert len(cookie) >= 32 and cookie.isascii()
    assert secret["metadata"]["annotations"]["beamkube.io/cookie"] == "generated"
    version = secret["metadata"]["resourceVersion"]
    for image in ("ghcr.io/acme/shop:1.0.0", "ghcr.io/acme/shop:1.1.0"):
        result = cli("deploy", str(shop_spec), "--image", image)
        assert result.code == 0, result.text
        assert "exists (kept)" in result.out
    again = cluster.api.get("secrets", "shop", COOKIE)
    assert secret_value(again, "cookie") == cookie
    assert again["metadata"]["resourceVersion"] == version
    assert len(cluster.api.writes("secrets")) == 1  # the single create; never a patch or put
    assert cookie.decode() not in result.text  # never printed


def test_cookie_of_another_deploy_is_kept_even_if_it_races_in(cluster: Running, shop_spec: Path, cli):
    # A Secret that exists before the first deploy (made by a user or a parallel deploy) is never touched.
    cluster.api.put(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": COOKIE, "namespace": "shop"},
            "data": {"cookie": "dXNlci1zdXBwbGllZC1jb29raWUtdmFsdWUtMTIzNDU="},
        }
    )
    assert cli("deploy", str(shop_spec)).code == 0
    secret = cluster.api.get("secrets", "shop", COOKIE)
    assert secret_value(secret, "cookie") == b"user-supplied-cookie-value-12345"
    assert cluster.api.writes("secrets") == []


def test_redeploy_is_a_no_op(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    before = {
        (o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for p in ("configmaps", "services", "deployments", "jobs", "serviceaccounts")
        for o in cluster.api.objects(p, "shop")
    }
    writes = len(cluster.api.writes())
    result = cli("deploy", str(shop_spec))
    assert result.code == 0
    assert " created" not in result.out and " configured" not in result.out
    after = {
        (o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for p in ("configmaps", "services", "deployments", "jobs", "serviceaccounts")
        for o in cluster.api.objects(p, "shop")
    }
    assert after == before
    new_writes = cluster.api.writes()[writes:]
    # The engine compares desired and live as the server stores them: a re-deploy writes nothing at all
    # (the preflight's server-side dry runs are not writes).
    assert new_writes == []


def test_image_override_rolls_out_new_template_and_new_migration_job(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    old_jobs = {j["metadata"]["name"] for j in cluster.api.objects("jobs", "shop")}
    result = cli("deploy", str(shop_spec), "--image", "ghcr.io/acme/shop:2.0.0")
    assert result.code == 0, result.text
    assert _image(cluster) == "ghcr.io/acme/shop:2.0.0"
    jobs = {j["metadata"]["name"] for j in cluster.api.objects("jobs", "shop")}
    assert len(jobs) == 1 and jobs.isdisjoint(old_jobs)  # the old migration Job was pruned
    dep = cluster.api.get("deployments", "shop", "shop")
    assert dep["metadata"]["generation"] == 2 and dep["status"]["observedGeneration"] == 2
    pods = cluster.api.objects("pods", "shop")
    beam_pods = [p for p in pods if p["metadata"]["labels"].get("app.kubernetes.io/component") == "node"]
    assert {p["spec"]["containers"][0]["image"] for p in beam_pods} == {"ghcr.io/acme/shop:2.0.0"}


def test_prune_removes_only_what_beamkube_made_for_this_app(cluster: Running, shop_spec: Path, cli, tmp_path: Path):
    assert cli("deploy", str(shop_spec)).code == 0
    labels = {"app.kubernetes.io/managed-by": "beamkube", "app.kubernetes.io/instance": "shop"}
    decoys = [
        ("ConfigMap", "no-managed-by", {"app.kubernetes.io/instance": "shop"}, None),
        (
            "ConfigMap",
            "other-app",
            {"app.kubernetes.io/managed-by": "beamkube", "app.kubernetes.io/instance": "blog"},
            None,
        ),
        ("ConfigMap", "unlabelled", {}, None),
        ("ConfigMap", "controller-made", labels, [{"apiVersion": "v1", "kind": "Pod", "name": "x", "uid": "u"}]),
        ("Secret", "shop-user-secret", labels, None),
        ("PersistentVolumeClaim", "data-shop-0", labels, None),
    ]
    for kind, name, extra, owners in decoys:
        meta = {"name": name, "namespace": "shop", "labels": extra}
        if owners:
            meta["ownerReferences"] = owners
        cluster.api.put({"apiVersion": "v1", "kind": kind, "metadata": meta})
    # Also one object in another namespace with the same labels.
    cluster.api.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "shop-env", "namespace": "data", "labels": labels},
        }
    )
    # Drop `env` from the spec: shop-env is no longer rendered and must be pruned.
    shop_spec.write_text(shop_spec.read_text().replace("env:\n  PHX_HOST: shop.example.com\n", ""))
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    assert "ConfigMap shop/shop-env pruned" in result.out
    assert cluster.api.get("configmaps", "shop", "shop-env") is None
    for kind, name, _extra, _owners in decoys:
        plural = {"ConfigMap": "configmaps", "Secret": "secrets", "PersistentVolumeClaim": "persistentvolumeclaims"}
        assert cluster.api.get(plural[kind], "shop", name) is not None, name
    assert cluster.api.get("configmaps", "data", "shop-env") is not None
    assert cluster.api.get("secrets", "shop", COOKIE) is not None
    deletes = [w for w in cluster.api.writes() if w.method == "DELETE" and w.plural == "configmaps"]
    assert [w.name for w in deletes] == ["shop-env"]


def test_prune_checks_labels_itself_when_the_server_ignores_selectors(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    cluster.api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-ours", "namespace": "shop"}})
    cluster.api.ignore_label_selectors = True  # kmock's stock emulator behaves like this
    assert cli("deploy", str(shop_spec)).code == 0
    assert cluster.api.get("configmaps", "shop", "not-ours") is not None
    assert not [w for w in cluster.api.writes() if w.method == "DELETE"]


def test_dry_run_writes_nothing(cluster: Running, shop_spec: Path, cli):
    result = cli("deploy", str(shop_spec), "--dry-run")
    assert result.code == 0, result.text
    assert "(dry run)" in result.out and "would be created (random cookie)" in result.out
    assert cluster.api.writes() == []  # every write carried dryRun=All
    assert cluster.api.writes(include_dry_run=True)
    assert all(w.params.get("dryRun") == "All" for w in cluster.api.writes(include_dry_run=True))
    assert cluster.api.objects("deployments", "shop") == []
    assert cluster.api.get("secrets", "shop", COOKIE) is None


def test_missing_namespace_is_created(cluster: Running, shop_spec: Path, cli):
    result = cli("deploy", str(shop_spec), "--namespace", "staging", "--no-wait")
    assert result.code == 0, result.text
    assert "Namespace staging created" in result.out
    assert cluster.api.get("deployments", "staging", "shop") is not None
    assert cluster.api.get("secrets", "staging", COOKIE) is not None


def test_field_owned_by_someone_else_conflicts_unless_forced(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    cm = cluster.api.get("configmaps", "shop", "shop-env")
    cm["data"]["PHX_HOST"] = "edited.example.com"
    cluster.api.put(cm, manager="kubectl-edit")
    result = cli("deploy", str(shop_spec))
    assert result.code == 1
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "kubectl-edit" in result.err and "--force-conflicts" in result.err
    assert cluster.api.get("configmaps", "shop", "shop-env")["data"]["PHX_HOST"] == "edited.example.com"
    result = cli("deploy", str(shop_spec), "--force-conflicts")
    assert result.code == 0, result.text
    assert cluster.api.get("configmaps", "shop", "shop-env")["data"]["PHX_HOST"] == "shop.example.com"
    forced = [w for w in cluster.api.writes() if w.params.get("force") == "true"]
    assert forced


def test_rollout_timeout_prints_pod_states_and_events_and_fails(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    cluster.controller.failing_images.add("ghcr.io/acme/shop:broken")
    result = cli("deploy", str(shop_spec), "--image", "ghcr.io/acme/shop:broken", "--timeout", "1")
    assert result.code == 3
    assert "rollout not complete after 1s" in result.err
    assert "CrashLoopBackOff" in result.out and "restarts" in result.out
    assert "Recent events:" in result.out and "BackOff" in result.out
    # The old pods keep serving: the rollout never scaled them away.
    assert cluster.api.get("deployments", "shop", "shop")["status"]["availableReplicas"] == 2


def test_failed_migration_stops_before_the_workload_changes(cluster: Running, shop_spec: Path, cli):
    assert cli("deploy", str(shop_spec)).code == 0
    cluster.controller.failing_jobs.add("shop-migrate")
    result = cli("deploy", str(shop_spec), "--image", "ghcr.io/acme/shop:3.0.0")
    assert result.code == 3
    assert "failed; the workload was not updated" in result.err
    assert "Error exit 1" in result.out  # the job pod's state is in the report
    assert _image(cluster) == "ghcr.io/acme/shop:1.0.0"


def test_unreachable_cluster_is_one_line(tmp_path: Path, shop_spec: Path, cli, monkeypatch):
    import socket

    import beamkube.kube.client as client_module
    from beamkube.kube.retry import RetryPolicy

    monkeypatch.setattr(client_module, "DEFAULT", RetryPolicy(attempts=2, base=0.01))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    config = tmp_path / "kc"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    result = cli("deploy", str(shop_spec))
    assert result.code == 1
    assert result.err.startswith("beamkube: ") and result.err.count("\n") == 1
    assert f"cannot reach http://127.0.0.1:{port}" in result.err


def test_cluster_without_vpa_crds(cluster: Running, shop_spec: Path, cli):
    cluster.api.unregister("autoscaling.k8s.io", "verticalpodautoscalers")
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text  # prune skips APIs the cluster does not serve
    shop_spec.write_text(shop_spec.read_text().replace("replicas: 2", "replicas: 3") + 'vpa:\n  updateMode: "Off"\n')
    writes = len(cluster.api.writes())
    result = cli("deploy", str(shop_spec))
    assert result.code == 1
    # Preflight (discovery) names the missing API before anything is written: the Deployment is not
    # half-changed (replicas 3) while the VPA is missing.
    assert result.err.splitlines()[-1] + "\n" == (
        "beamkube: preflight: the cluster does not serve VerticalPodAutoscaler (autoscaling.k8s.io/v1) "
        "(install the CRDs or drop it from the spec); nothing was changed\n"
    )
    assert cluster.api.writes()[writes:] == []
    assert cluster.api.get("deployments", "shop", "shop")["spec"]["replicas"] == 2


def test_dry_run_into_a_missing_namespace(cluster: Running, shop_spec: Path, cli):
    result = cli("deploy", str(shop_spec), "--dry-run", "-n", "fresh")
    assert result.code == 0, result.text
    assert "Namespace fresh would be created" in result.out
    assert "Deployment fresh/shop would be created" in result.out
    assert cluster.api.writes() == [] and cluster.api.get("namespaces", "", "fresh") is None
