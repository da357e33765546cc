"""A BeamApp with process types (one Deployment per process): the operator's status covers every workload."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from beamkube.operator.crd import beamapp_from_spec
from beamkube.operator.status import Observation, build_status, expected_nodes
from beamkube.spec.load import parse_spec
from tests.operator.harness import OperatorProcess, client_for, cluster, is_ready, wait_for

SPEC: dict[str, Any] = {
    "name": "shop",
    "namespace": "shop",
    "image": "ghcr.io/acme/shop:1.0.0",
    "replicas": 2,
    "processes": {"web": {}, "worker": {"replicas": 1, "probes": {}}},
}


def _deployment(name: str, replicas: int, ready: int) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "generation": 1},
        "spec": {"replicas": replicas},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
                   "availableReplicas": ready, "updatedReplicas": replicas},
    }  # fmt: skip


def _ready(status: dict[str, Any]) -> str:
    return {c["type"]: c["status"] for c in status["conditions"]}["Ready"]


def test_operator_reports_every_process_and_sums_their_replicas(tmp_path: Path) -> None:
    async def main() -> None:
        with cluster(tmp_path, ready_seconds=0.2) as running:
            client = client_for(running)
            operator = await OperatorProcess(running, options={"resync_seconds": 60}).start()
            running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
            await client.create(beamapp_from_spec(SPEC))
            await wait_for(lambda: is_ready(running, "shop", "shop"), timeout=15, what="Ready")
            app = running.api.get("beamapps", "shop", "shop")
            assert app is not None
            status = app["status"]
            # Both Deployments exist in the double, made by the operator; the status counts the pods of both.
            assert {d["metadata"]["name"] for d in running.api.objects("deployments", "shop")} == {
                "shop-web", "shop-worker"}  # fmt: skip
            assert (status["replicas"], status["readyReplicas"]) == (3, 3)
            assert status["workload"] == "Deployment/shop-web, shop-worker"
            await operator.stop()
            await client.aclose()

    asyncio.run(main())


def test_ready_needs_every_process_workload() -> None:
    spec = parse_spec(SPEC)
    web, worker = _deployment("shop-web", 2, 2), _deployment("shop-worker", 1, 0)
    both = Observation(generation=1, spec=spec, workload_kind="Deployment", workload=web, others=(worker,))
    status = build_status(both, None, "t0")
    assert _ready(status) == "False" and (status["replicas"], status["readyReplicas"]) == (3, 2)
    missing = Observation(generation=1, spec=spec, workload_kind="Deployment", workload=web, others=(None,))
    assert _ready(build_status(missing, None, "t0")) == "False"
    unobserved = Observation(generation=1, spec=spec, workload_kind="Deployment", workload=web)
    assert _ready(build_status(unobserved, None, "t0")) == "False"
    done = Observation(
        generation=1, spec=spec, workload_kind="Deployment", workload=web, others=(_deployment("shop-worker", 1, 1),)
    )
    assert _ready(build_status(done, None, "t0")) == "True"


def test_expected_nodes_carry_the_version_when_mixed_versions_are_isolated() -> None:
    spec = parse_spec({**SPEC, "rollout": {"mixedVersions": "isolate"}})
    assert expected_nodes(spec) == ["shop-1_0_0@<pod IP>"]
