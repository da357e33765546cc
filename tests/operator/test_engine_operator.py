"""The operator edge of the engine against the API double: zero writes and zero child reads on no-op resyncs
(with quantities the server stores in another form), the same Ready/Degraded rule as deploy, structural
validation of BeamApps, foreground deletion, and kopf's credentials from an exec-credential kubeconfig."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from beamkube.kube.errors import SchemaRejected
from beamkube.operator.reconcile import BEAMAPP, Reconciler
from beamkube.operator.runner import child_cache
from tests.operator.harness import cluster, condition, example_app, wait_for
from tests.support.apidouble import Running

QUANTITIES = {"requests": {"cpu": "0.5", "memory": "768Mi"}, "limits": {"cpu": "1000m", "memory": "1.5Gi"}}


async def _until_ready(reconciler: Reconciler, app: dict[str, Any], tries: int = 60) -> None:
    for _ in range(tries):
        outcome = await reconciler.reconcile(app)
        assert outcome.error is None, outcome.error
        if outcome.ready:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never Ready")


def _child_reads(running: Running, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in running.api.log[since:] if r.method == "GET" and r.name]


def test_quantities_the_server_rewrites_cause_no_writes_over_three_resyncs(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            from tests.operator.harness import client_for

            client = client_for(running)
            app = await client.create(example_app("erlang-kv", resources=QUANTITIES))
            cache = child_cache(client, ())
            await cache.start()
            reconciler = Reconciler(client, cache=cache)
            await _until_ready(reconciler, app)
            sts = running.api.get("statefulsets", "data", "kv")
            assert sts is not None
            limits = sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
            assert limits == {"cpu": "1", "memory": "1536Mi"}  # stored canonically, not as rendered
            await asyncio.sleep(0.3)  # let the cache see the last status echo
            mark = len(running.api.log)
            for _ in range(3):
                outcome = await reconciler.reconcile(app)
                assert outcome.writes == 0 and outcome.ready
            assert [r for r in running.api.log[mark:] if r.is_write] == []
            assert _child_reads(running, mark) == []  # every child came from the watch-fed cache
            assert running.controller.errors == []
            await cache.stop()
            await client.aclose()

    asyncio.run(main())


def test_a_stuck_rollout_is_degraded_like_deploy_says_failed(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            from tests.operator.harness import client_for

            client = client_for(running)
            running.controller.failing_images.add("ghcr.io/acme/shop:broken")
            running.controller.progress_deadline = 0.5
            app = await client.create(example_app("phoenix-shop", image="ghcr.io/acme/shop:broken"))
            reconciler = Reconciler(client)
            for _ in range(40):
                await reconciler.reconcile(app)
                live = running.api.get("beamapps", "shop", "shop")
                if condition(live, "Degraded").get("status") == "True":
                    break
                await asyncio.sleep(0.1)
            degraded = condition(running.api.get("beamapps", "shop", "shop"), "Degraded")
            assert degraded["status"] == "True" and degraded["reason"] == "ProgressDeadlineExceeded"
            await client.aclose()

    asyncio.run(main())


def test_unknown_beamapp_fields_are_rejected_on_apply_not_pruned(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            from tests.operator.harness import client_for

            client = client_for(running)
            body = example_app("erlang-kv")
            body["spec"]["replicaz"] = 3
            with pytest.raises(SchemaRejected, match="replicaz: field not declared in schema"):
                await client.apply(body)
            assert running.api.get("beamapps", "data", "kv") is None
            await client.aclose()

    asyncio.run(main())


def test_deleting_a_beamapp_with_foreground_propagation_completes(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            from tests.operator.harness import client_for

            client = client_for(running)
            app = await client.create(example_app("erlang-kv"))
            reconciler = Reconciler(client)
            await _until_ready(reconciler, app)
            assert await client.delete(BEAMAPP, "kv", "data", propagation="Foreground")
            await wait_for(lambda: running.api.get("beamapps", "data", "kv") is None, what="the BeamApp gone")
            await wait_for(lambda: running.api.get("statefulsets", "data", "kv") is None, what="children gone")
            assert running.api.get("configmaps", "data", "kv-beam") is None
            assert (await reconciler.reconcile(app)).gone  # nothing re-created
            assert running.controller.errors == []  # the garbage collector ran without failing
            await client.aclose()

    asyncio.run(main())


def test_kopf_logs_in_with_an_exec_credential_plugin(tmp_path: Path) -> None:
    from beamkube.kube.config import Target, resolve
    from beamkube.operator.auth import kopf_login_from

    plugin = tmp_path / "token-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": "from-exec", "expirationTimestamp": "2030-01-01T00:00:00Z"},
    }
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    kubeconfig = tmp_path / "kubeconfig"
    exec_user = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin), "args": []}
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"exec": exec_user}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "apps"}}],
                "current-context": "x",
            }
        )
    )
    info = asyncio.run(kopf_login_from(resolve(Target(kubeconfig=kubeconfig)))())
    assert info.token == "from-exec"  # the same credential lightkube's ExecAuth obtains
    assert info.default_namespace == "apps" and info.server == "https://127.0.0.1:6443"
    assert info.expiration is not None and info.expiration.year == 2030


def test_the_operator_works_within_its_own_least_privilege_rbac(tmp_path: Path) -> None:
    """The double's authorizer holds the operator to the ClusterRole and Role `operator manifests` prints:
    the cache's lists and watches, kopf's watches, the Lease, applies and status writes all fit in them."""
    from beamkube.operator.manifests import operator_manifests
    from tests.operator.harness import OperatorProcess, client_for, is_ready, writes_except_leases

    async def main() -> None:
        with cluster(tmp_path) as running:
            client = client_for(running)
            await client.create(example_app("phoenix-shop"))
            await client.aclose()
            manifests = operator_manifests(namespace="beamkube-system", image="x", replicas=1, with_crd=False)
            rules = [r for o in manifests if o["kind"] in ("ClusterRole", "Role") for r in o["rules"]]
            running.api.rbac_rules = rules
            operator = await OperatorProcess(running).start()
            await wait_for(lambda: is_ready(running, "shop", "shop"), timeout=20, what="shop Ready under RBAC")
            denied = [f"{r.method} {r.path}" for r in running.api.log if r.status == 403]
            # Only kinds the operator never renders for this app may be refused (the cache then skips them).
            assert all("/clusterroles" in d or "/clusterrolebindings" in d for d in denied), denied
            await asyncio.sleep(1.0)
            mark = len(running.api.log)
            await asyncio.sleep(1.0)  # two resyncs (0.4 s)
            assert writes_except_leases(running, mark) == []
            assert [r for r in running.api.log[mark:] if r.status == 403] == []
            assert await operator.stop() == 0

    asyncio.run(main())


def test_a_missing_crd_stops_the_app_before_any_child_is_written(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path) as running:
            from tests.operator.harness import client_for

            running.api.unregister("autoscaling.k8s.io", "verticalpodautoscalers")
            client = client_for(running)
            app = await client.create(example_app("erlang-kv", vpa={"updateMode": "Off"}))
            outcome = await Reconciler(client).reconcile(app)
            assert outcome.error is not None and "VerticalPodAutoscaler" in outcome.error
            degraded = condition(running.api.get("beamapps", "data", "kv"), "Degraded")
            assert degraded["status"] == "True" and "nothing was changed" in degraded["message"]
            children = [r for r in running.api.writes() if r.plural not in ("beamapps", "leases")]
            assert children == []  # not even the cookie
            await client.aclose()

    asyncio.run(main())
