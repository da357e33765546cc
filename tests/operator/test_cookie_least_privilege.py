"""The operator's cookie handling needs only `create` on Secrets: against the API double (real HTTP through
beamkube's client), ensuring the cookie twice creates it once, never GETs, LISTs or WATCHes a Secret, and
the second pass writes nothing (its existence check is a dry run, which stores nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from beamkube.kube.client import KubeClient
from beamkube.kube.config import Target
from beamkube.operator.manifests import cluster_role, operator_spec
from beamkube.operator.reconcile import Outcome, Reconciler
from beamkube.spec.model import AppSpec
from tests.support.apidouble import serve


def test_cookie_is_created_once_without_reading_any_secret(tmp_path: Path) -> None:
    spec = AppSpec.model_validate({"name": "kv", "namespace": "data", "image": "example.org/kv:1.0.0"})
    with serve(tmp_path, controller=False, namespace="data") as running:
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "data"}})

        async def main() -> tuple[int, int]:
            async with KubeClient.connect(Target(kubeconfig=running.kubeconfig)) as client:
                reconciler = Reconciler(client)
                first, second = Outcome(), Outcome()
                await reconciler._ensure_cookie(spec, first)
                await reconciler._ensure_cookie(spec, second)
                return first.writes, second.writes

        mark = len(running.api.log)
        first, second = asyncio.run(main())
        secrets = [r for r in running.api.log[mark:] if r.plural == "secrets"]
        assert (first, second) == (1, 0)
        assert {r.method for r in secrets} == {"POST"}  # never GET/LIST/WATCH: nothing a `create` grant lacks
        assert len(running.api.writes("secrets")) == 1  # the one real create; the checks were dry runs
        assert running.api.get("secrets", "data", spec.cookie_secret_name) is not None


def test_operator_cluster_role_grants_only_create_on_secrets() -> None:
    role = cluster_role(operator_spec("ops", "example.org/beamkube:1", 2))
    verbs = {v for rule in role["rules"] if "secrets" in rule["resources"] for v in rule["verbs"]}
    assert verbs == {"create"}
