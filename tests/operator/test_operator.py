"""The operator end to end against the API double: create, update, delete, invalid spec, restart, no-op resync."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from beamkube.engine.ownership import COOKIE_CHARS
from beamkube.kube.resources import JOB
from beamkube.operator.children import desired_child, needs_apply
from beamkube.operator.crd import spec_from_beamapp
from beamkube.operator.reconcile import BEAMAPP
from beamkube.render import render
from beamkube.spec.load import parse_spec
from tests.operator.harness import (
    OperatorProcess,
    client_for,
    cluster,
    condition,
    example_app,
    is_ready,
    wait_for,
    writes_except_leases,
)
from tests.support.apidouble import Running, secret_value

PLURALS = {
    "ServiceAccount": "serviceaccounts", "ConfigMap": "configmaps", "Service": "services",
    "NetworkPolicy": "networkpolicies", "PodDisruptionBudget": "poddisruptionbudgets",
    "StatefulSet": "statefulsets", "Deployment": "deployments", "Job": "jobs", "CronJob": "cronjobs",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers", "VerticalPodAutoscaler": "verticalpodautoscalers",
    "Ingress": "ingresses", "PriorityClass": "priorityclasses", "Role": "roles", "RoleBinding": "rolebindings",
    "LimitRange": "limitranges",
}  # fmt: skip


def live_child(running: Running, obj: dict[str, Any]) -> dict[str, Any] | None:
    meta = obj["metadata"]
    return running.api.get(PLURALS[obj["kind"]], meta.get("namespace") or "", meta["name"])


def assert_converged(running: Running, namespace: str, name: str) -> None:
    """Every rendered child exists as desired and is owned by the live BeamApp."""
    app = running.api.get("beamapps", namespace, name)
    assert app is not None
    spec = parse_spec(spec_from_beamapp(app))
    for obj in render(spec).objects:
        wanted = desired_child(obj, app)
        live = live_child(running, wanted)
        assert live is not None, f"{obj['kind']} {obj['metadata']['name']} missing"
        assert not needs_apply(wanted, live), f"{obj['kind']} {obj['metadata']['name']} differs"


def test_create_then_no_change_resync_writes_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            operator = await OperatorProcess(running).start()
            created = await client.create(example_app("erlang-kv"))
            await wait_for(lambda: is_ready(running, "data", "kv"), what="kv Ready")
            assert_converged(running, "data", "kv")
            app = running.api.get("beamapps", "data", "kv")
            assert app is not None
            status = app["status"]
            assert status["observedGeneration"] == created["metadata"]["generation"]
            assert status["readyReplicas"] == 3 and status["workload"] == "StatefulSet/kv"
            assert status["nodes"][0] == "kv@kv-0.kv-headless.data.svc.cluster.local"
            assert condition(app, "Degraded")["status"] == "False"
            sts = running.api.get("statefulsets", "data", "kv")
            assert sts is not None
            (ref,) = sts["metadata"]["ownerReferences"]
            assert (ref["kind"], ref["uid"], ref["controller"]) == ("BeamApp", app["metadata"]["uid"], True)
            cookie = running.api.get("secrets", "data", "kv-erlang-cookie")
            assert cookie is not None and len(secret_value(cookie, "cookie")) == COOKIE_CHARS
            # Let in-flight status echoes settle, then watch several resyncs: zero writes, and no GET of any
            # child (resyncs compare against the watch-fed cache).
            await asyncio.sleep(0.5)
            mark = len(running.api.log)
            await asyncio.sleep(1.5)
            child_gets = [r for r in running.api.log[mark:] if r.method == "GET" and r.name and r.plural != "leases"]
            assert child_gets == []
            assert writes_except_leases(running, mark) == []
            # The resyncs did run, against the cache: drift made by hand is reverted without any event for it.
            drifted = running.api.get("configmaps", "data", "kv-beam")
            assert drifted is not None
            original = drifted["data"]["vm.args.src"]
            drifted["data"]["vm.args.src"] = "# edited by hand\n"
            running.api.put(drifted, manager="kubectl-edit")
            await wait_for(
                lambda: (running.api.get("configmaps", "data", "kv-beam") or {}).get("data", {}).get("vm.args.src")
                == original,
                what="the drift reverted by a resync",
            )
            assert await operator.stop() == 0
            await client.aclose()

    asyncio.run(main())


def test_update_rolls_children_and_prunes_removed_ones(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            operator = await OperatorProcess(running).start()
            await client.create(example_app("erlang-kv"))
            await wait_for(lambda: is_ready(running, "data", "kv"), what="kv Ready")
            patched = await client.patch(
                BEAMAPP, "kv", {"spec": {"image": "registry.example.com/kv:3.2.0", "env": {"KV_MODE": "fast"}}},
                namespace="data",
            )
            generation = patched["metadata"]["generation"]
            await wait_for(lambda: is_ready(running, "data", "kv", generation), what="kv Ready after update")
            sts = running.api.get("statefulsets", "data", "kv")
            assert sts is not None
            assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/kv:3.2.0"
            assert sts["status"]["updatedReplicas"] == 3
            env_map = running.api.get("configmaps", "data", "kv-env")
            assert env_map is not None and env_map["data"] == {"KV_MODE": "fast"}
            assert_converged(running, "data", "kv")
            # Removing env removes its ConfigMap (pruned: no longer rendered), even when every delete attempt
            # of the first reconcile fails (4 = the client's attempts): the next one finds the prune pending.
            fault = running.api.fail(500, "DELETE", "configmaps", times=4)
            patched = await client.patch(BEAMAPP, "kv", {"spec": {"env": None}}, namespace="data")
            generation = patched["metadata"]["generation"]
            await wait_for(lambda: is_ready(running, "data", "kv", generation), what="Ready after env removal")
            await wait_for(lambda: running.api.get("configmaps", "data", "kv-env") is None, what="kv-env pruned")
            assert fault.hits == 4
            assert running.api.get("configmaps", "data", "kv-beam") is not None
            assert running.api.get("secrets", "data", "kv-erlang-cookie") is not None, "cookie never pruned"
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_delete_removes_children_through_owner_references(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            operator = await OperatorProcess(running).start()
            await client.create(example_app("phoenix-shop"))
            await wait_for(lambda: running.api.get("deployments", "shop", "shop"), what="the Deployment")
            # The double's HPA stand-in scales the Deployment to minReplicas (the operator leaves replicas to it).
            await wait_for(lambda: is_ready(running, "shop", "shop"), what="shop Ready")
            before = running.api.get("beamapps", "shop", "shop")
            assert before is not None and before["status"]["replicas"] == 3
            children = [o for o in render(parse_spec(spec_from_beamapp(example_app("phoenix-shop")))).objects]
            (priority,) = [o for o in children if o["kind"] == "PriorityClass"]
            assert live_child(running, priority) is not None
            assert len(children) > 8
            await client.delete(BEAMAPP, "shop", "shop")
            # The double's garbage collector follows ownerReferences (as kube-controller-manager does);
            # the cluster-scoped PriorityClass has no owner reference and is removed by the operator.
            await wait_for(
                lambda: all(live_child(running, o) is None for o in children), what="children deleted"
            )
            # Grandchildren go later, as the garbage collector gets to them.
            await wait_for(lambda: running.api.objects("pods", "shop") == [], what="pods collected")
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_invalid_spec_is_degraded_with_the_cli_message_and_no_crash_loop(tmp_path: Path) -> None:
    bad_spec = {"name": "kv", "namespace": "data", "image": "registry.example.com/kv:3.1.0",
                "storage": {"size": "1Gi"}}  # fmt: skip
    spec_file = tmp_path / "beamkube.yaml"
    spec_file.write_text(yaml.safe_dump(bad_spec))
    cli = subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", "render", str(spec_file)], capture_output=True, text=True
    )
    assert cli.returncode == 2
    cli_message = cli.stderr.strip().removeprefix(f"beamkube: {spec_file}").lstrip(":0123456789 ")

    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            operator = await OperatorProcess(running).start()
            await client.create(example_app("erlang-kv", identity="stateless", storage={"size": "1Gi"},
                                            cluster={}))  # fmt: skip
            await wait_for(
                lambda: condition(running.api.get("beamapps", "data", "kv"), "Degraded").get("status") == "True",
                what="Degraded",
            )
            app = running.api.get("beamapps", "data", "kv")
            degraded = condition(app, "Degraded")
            assert degraded["reason"] == "InvalidSpec"
            assert degraded["message"] == f"BeamApp data/kv: {cli_message}"
            assert condition(app, "Ready")["status"] == "False"
            assert running.api.objects("statefulsets", "data") == []
            assert running.api.objects("deployments", "data") == []
            # No crash loop and no retry storm: resyncs find the same status and write nothing.
            mark = len(running.api.log)
            await asyncio.sleep(1.2)
            assert writes_except_leases(running, mark) == []
            assert operator.alive
            # Fixing the spec recovers.
            patched = await client.patch(BEAMAPP, "kv", {"spec": {"identity": "stable"}}, namespace="data")
            generation = patched["metadata"]["generation"]
            await wait_for(lambda: is_ready(running, "data", "kv", generation), what="Ready after fix")
            assert condition(running.api.get("beamapps", "data", "kv"), "Degraded")["status"] == "False"
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_operator_restarted_mid_reconcile_converges(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            # The StatefulSet apply keeps failing: the first operator is stuck mid-reconcile when it dies.
            fault = running.api.fail(500, "PATCH", "statefulsets", times=1000)
            first = await OperatorProcess(running, identity="op-a").start()
            await client.create(example_app("erlang-kv"))
            await wait_for(lambda: fault.hits >= 1, what="the first operator reaching the StatefulSet")
            await first.kill()  # SIGKILL: no cleanup, Lease not released
            assert running.api.get("configmaps", "data", "kv-beam") is not None
            assert running.api.get("statefulsets", "data", "kv") is None
            running.api.faults.clear()
            second = await OperatorProcess(running, identity="op-b").start()
            await wait_for(lambda: is_ready(running, "data", "kv"), timeout=15, what="Ready after restart")
            assert_converged(running, "data", "kv")
            lease = running.api.get("leases", "beamkube-system", "beamkube-operator")
            assert lease is not None and lease["spec"]["holderIdentity"] == "op-b"
            cookie_creates = [r for r in running.api.writes("secrets") if r.method == "POST"]
            assert len(cookie_creates) == 1, "the cookie is created once across both operators"
            await second.stop()
            await client.aclose()

    asyncio.run(main())


def test_cluster_scoped_children_of_apps_deleted_while_down_are_swept(tmp_path: Path) -> None:
    labels = {"beamkube.io/owner-namespace": "shop", "beamkube.io/owner-name": "gone"}

    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            orphan = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "value": 10,
                      "metadata": {"name": "shop-gone-priority", "labels": labels}}  # fmt: skip
            running.api.put(orphan)
            kept = {**orphan, "metadata": {"name": "shop-shop-priority",
                                           "labels": {**labels, "beamkube.io/owner-name": "shop"}}}  # fmt: skip
            running.api.put(kept)
            unrelated = {**orphan, "metadata": {"name": "someone-elses"}}
            running.api.put(unrelated)
            await client.create(example_app("phoenix-shop"))
            operator = await OperatorProcess(running).start()
            await wait_for(lambda: running.api.get("priorityclasses", "", "shop-gone-priority") is None,
                           what="the orphan swept")  # fmt: skip
            assert running.api.get("priorityclasses", "", "shop-shop-priority") is not None
            assert running.api.get("priorityclasses", "", "someone-elses") is not None
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_rollout_progress_reaches_status_from_workload_events_without_rereads(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path, ready_seconds=0.3) as running:
            client = client_for(running)
            operator = await OperatorProcess(running, options={"resync_seconds": 60}).start()
            await client.create(example_app("erlang-kv"))
            # No resync within the test: Ready can only come from the StatefulSet's watch events.
            await wait_for(lambda: is_ready(running, "data", "kv"), timeout=8, what="Ready from events")
            full_reconciles = [r for r in running.api.log if r.method == "GET" and r.plural == "beamapps" and r.name]
            child_reads = [r for r in running.api.log if r.method == "GET" and r.plural == "statefulsets" and r.name]
            assert len(full_reconciles) <= 2 and len(child_reads) <= 2, (len(full_reconciles), len(child_reads))
            status_writes = [r for r in running.api.writes("beamapps") if r.subresource == "status"]
            assert 2 <= len(status_writes) <= 6, "status follows the rollout (0/3 → … → 3/3), not every event"
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_migration_job_gates_the_workload_and_never_reruns(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path, job_seconds=0.3) as running:
            assert running.controller is not None
            running.call(lambda: running.controller.failing_jobs.add("shop-migrate"))
            client = client_for(running)
            operator = await OperatorProcess(running).start()
            await client.create(example_app("phoenix-shop", autoscaling=None))
            await wait_for(
                lambda: condition(running.api.get("beamapps", "shop", "shop"), "Degraded").get("reason") == "JobFailed",
                what="JobFailed",
            )
            app = running.api.get("beamapps", "shop", "shop")
            (job,) = running.api.objects("jobs", "shop")
            assert job["metadata"]["name"] in condition(app, "Degraded")["message"]
            assert running.api.get("deployments", "shop", "shop") is None, "a failed migration stops the rollout"
            assert running.api.get("configmaps", "shop", "shop-beam") is not None, "what ranks before Jobs is applied"
            # A new image is a new Job (its name carries the template digest); this one succeeds.
            running.call(lambda: running.controller.failing_jobs.clear())
            patched = await client.patch(BEAMAPP, "shop", {"spec": {"image": "ghcr.io/acme/shop:2026.11.4"}},
                                         namespace="shop")  # fmt: skip
            generation = patched["metadata"]["generation"]
            await wait_for(lambda: is_ready(running, "shop", "shop", generation), what="Ready after migration")
            app = running.api.get("beamapps", "shop", "shop")
            assert app is not None
            (completed,) = app["status"]["completedJobs"]
            assert completed.startswith("shop-migrate-") and completed != job["metadata"]["name"]
            # The TTL controller removes finished Jobs; a resync must not run the migration again.
            await client.delete(JOB, completed, "shop")
            mark = len(running.api.log)
            await asyncio.sleep(1.0)  # > 2 resyncs
            assert running.api.get("jobs", "shop", completed) is None
            assert [w for w in writes_except_leases(running, mark) if "/jobs" in w] == []
            await operator.stop()
            await client.aclose()

    asyncio.run(main())
