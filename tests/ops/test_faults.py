"""Injected API faults (409, 429, 500, dropped watches, 410 Gone) and interrupted deploys: survived, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.apidouble import Running, secret_value


def end_state(running: Running, ns: str = "shop") -> dict[str, Any]:
    """What a finished deploy leaves: objects by kind/name with their desired content (not versions)."""
    state: dict[str, Any] = {}
    for plural in (
        "configmaps",
        "services",
        "serviceaccounts",
        "deployments",
        "jobs",
        "poddisruptionbudgets",
        "networkpolicies",
    ):
        for obj in running.api.objects(plural, ns):
            state[f"{obj['kind']}/{obj['metadata']['name']}"] = {
                "labels": obj["metadata"].get("labels"),
                "spec": obj.get("spec"),
                "data": obj.get("data"),
            }
    return state


_REFERENCE: dict[str, dict[str, Any]] = {}


def reference_state(tmp_path: Path, spec: Path, cli, monkeypatch) -> dict[str, Any]:
    """The end state of a clean deploy on a fresh double (the expected result), computed once per spec."""
    from tests.support.apidouble import serve

    text = spec.read_text()
    if text not in _REFERENCE:
        with serve(_mkdir(tmp_path / "reference")) as fresh:
            monkeypatch.setenv("KUBECONFIG", str(fresh.kubeconfig))
            fresh.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
            assert cli("deploy", str(spec)).code == 0
            _REFERENCE[text] = _normalise(end_state(fresh))
    return _REFERENCE[text]


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _normalise(state: dict[str, Any]) -> dict[str, Any]:
    # Server-assigned values differ between two doubles; the desired content must not.
    for value in state.values():
        spec = value.get("spec") or {}
        for key in ("clusterIP", "clusterIPs"):
            spec.pop(key, None)
    return state


FAULTS = {
    "409 conflict on apply": dict(status=409, method="PATCH", plural="deployments", times=2),
    "429 with Retry-After": dict(status=429, method="PATCH", plural="configmaps", times=3, retry_after=0.01),
    "500 on reads": dict(status=500, method="GET", plural="services", times=2),
    "503 on the job watch list": dict(status=503, method="GET", plural="jobs", times=2),
    "500 after the cookie was created (lost answer)": dict(status=500, method="POST", plural="secrets", commit=True),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_api_faults_are_retried_to_the_same_end_state(
    fault: str, cluster: Running, shop_spec: Path, cli, tmp_path: Path, monkeypatch
):
    injected = cluster.api.fail(**FAULTS[fault])
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    assert injected.hits == FAULTS[fault].get("times", 1)  # the fault really happened
    got = _normalise(end_state(cluster))
    secret = cluster.api.get("secrets", "shop", "shop-erlang-cookie")
    assert len(secret_value(secret, "cookie")) >= 32
    # Exactly one Secret create reached the store, even when its answer was lost and the client retried.
    assert len([e for e in cluster.api.store.history if e[2] == "secrets" and e[3] == "ADDED"]) == 1
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    assert got == reference_state(tmp_path, shop_spec, cli, monkeypatch)


def test_dropped_watches_are_resumed(cluster: Running, shop_spec: Path, cli):
    # Slow pods and Jobs so both waits (Job, Deployment) need a watch; the first stream of each is cut at once.
    cluster.controller.ready_seconds = cluster.controller.job_seconds = 0.3
    cluster.api.drop_watches(after_events=0, times=2)
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    assert cluster.api.watch_drops == []  # both streams were cut and the waits still completed
    watches = [r for r in cluster.api.log if r.params.get("watch") == "true"]
    assert len(watches) >= 4
    assert all(w.params.get("resourceVersion") for w in watches)  # resumed from versions, not from scratch
    assert cluster.api.get("deployments", "shop", "shop")["status"]["availableReplicas"] == 2


def test_410_gone_relists_and_continues(cluster: Running, shop_spec: Path, cli):
    # Every watch that resumes from a resourceVersion is answered 410 twice: the client must re-list.
    cluster.api.gone_watches(times=2)
    cluster.api.drop_watches(after_events=0, times=2)  # force resumes (with a version) to meet the 410s
    # The controller waits until every scripted 410 and drop has been met: on a loaded machine the migration Job
    # and the rollout could otherwise finish before deploy's first list, which then needs no watch at all
    # (the test flaked so). A paused controller is a kube-controller-manager that is slow to act.
    cluster.controller.paused = True
    release = threading.Thread(target=_unpause_when_faults_met, args=(cluster,), daemon=True)
    release.start()
    result = cli("deploy", str(shop_spec))
    release.join(5)
    assert result.code == 0, result.text
    assert cluster.api.watch_gones == 0
    lists = [
        r
        for r in cluster.api.log
        if r.method == "GET"
        and r.plural in ("jobs", "deployments")
        and r.name is None
        and r.params.get("watch") != "true"
    ]
    assert len(lists) >= 3  # initial lists + re-lists after Gone
    assert "Rollout complete" in result.out


def _unpause_when_faults_met(cluster: Running, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (cluster.api.watch_gones or cluster.api.watch_drops) and time.monotonic() < deadline:
        time.sleep(0.01)
    cluster.controller.paused = False


def test_compacted_history_gives_410_from_the_double(cluster: Running):
    import asyncio

    from beamkube.kube import KubeClient, Target
    from beamkube.kube.errors import Gone
    from beamkube.kube.resources import POD

    async def main() -> None:
        async with KubeClient.connect(Target(kubeconfig=cluster.kubeconfig), default_namespace="shop") as client:
            _, version = await client.list(POD, "shop")
            cluster.api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}})
            cluster.api.compact()
            with pytest.raises(Gone):
                async for _ in client.watch(POD, "shop", resource_version=str(int(version) - 1), timeout_seconds=1):
                    pass

    asyncio.run(main())


def test_partial_deploy_then_rerun_completes(cluster: Running, shop_spec: Path, cli, tmp_path: Path, monkeypatch):
    # The Deployment apply fails past every retry (its preflight dry run passed): the deploy stops after
    # config, Services and the Job.
    cluster.api.fail(status=500, method="PATCH", plural="deployments", times=100, dry_run=False)
    result = cli("deploy", str(shop_spec))
    assert result.code == 1 and "server error (500)" in result.err
    assert cluster.api.get("configmaps", "shop", "shop-beam") is not None
    assert cluster.api.get("deployments", "shop", "shop") is None
    cluster.api.faults.clear()
    result = cli("deploy", str(shop_spec))
    assert result.code == 0, result.text
    got = _normalise(end_state(cluster))
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    assert got == reference_state(tmp_path, shop_spec, cli, monkeypatch)


def test_ctrl_c_during_rollout_then_rerun_completes(cluster: Running, shop_spec: Path):
    cluster.controller.paused = True  # the rollout cannot finish: deploy sits waiting
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-m", "beamkube.cli.main", "deploy", str(shop_spec), "--timeout", "30"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    # The migration Job cannot complete either while paused: wait for its apply, then interrupt.
    while time.monotonic() < deadline and cluster.api.get("jobs", "shop", _job_name(cluster)) is None:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert cluster.api.get("deployments", "shop", "shop") is None  # stopped before the workload
    cluster.controller.paused = False
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert cluster.api.get("deployments", "shop", "shop")["status"]["availableReplicas"] == 2
    assert len([e for e in cluster.api.store.history if e[2] == "secrets" and e[3] == "ADDED"]) == 1


def _job_name(running: Running) -> str:
    jobs = running.api.objects("jobs", "shop")
    return jobs[0]["metadata"]["name"] if jobs else "-"
