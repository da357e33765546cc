"""Opt-in end-to-end: the same deploy/status/diff/rollback/destroy flow against a real cluster.

Role: test (network I/O to the cluster in KUBECONFIG). Skipped unless KUBECONFIG is set and BEAMKUBE_E2E=1
(KUBECONFIG alone is not consent); marker `e2e`. It
creates a namespace `beamkube-e2e-<random>`, runs the CLI as a user would (a subprocess per command) with
the `pause` image (no Erlang needed), and deletes the namespace at the end. Needs rights to create
namespaces and the usual app objects there, and nodes that can pull registry.k8s.io/pause.
Run: BEAMKUBE_E2E=1 KUBECONFIG=~/.kube/config .venv/bin/pytest -m e2e tests/e2e -v
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    # KUBECONFIG alone is not consent: a laptop's current context may be production.
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG") or os.environ.get("BEAMKUBE_E2E") != "1",
        reason="needs a real cluster: set KUBECONFIG and BEAMKUBE_E2E=1",
    ),
]

SPEC = """\
name: bk-e2e
namespace: {namespace}
image: registry.k8s.io/pause:3.9
replicas: 2
web: null
release:
  command: ["/pause"]
probes: {{readiness: false, liveness: false, startup: false}}
resources:
  requests: {{cpu: 10m, memory: 16Mi}}
  limits: {{cpu: 100m, memory: 32Mi}}
placement:
  antiAffinity: {{mode: "off"}}
  spread: []
preStopSleepSeconds: 0
terminationGracePeriodSeconds: 5
"""


def beamkube(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"beamkube {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def cookie_version(namespace: str) -> str:
    from beamkube.kube import KubeClient, Target
    from beamkube.kube.resources import SECRET

    async def main() -> str:
        async with KubeClient.connect(Target(), default_namespace=namespace) as client:
            secret = await client.get(SECRET, "bk-e2e-erlang-cookie")
            return str(secret["metadata"]["resourceVersion"])

    return asyncio.run(main())


@pytest.fixture()
def namespace() -> Iterator[str]:
    name = f"beamkube-e2e-{secrets.token_hex(3)}"
    yield name
    from beamkube.kube import KubeClient, Target
    from beamkube.kube.resources import NAMESPACE

    async def cleanup() -> None:
        async with KubeClient.connect(Target()) as client:
            await client.delete(NAMESPACE, name)

    asyncio.run(cleanup())


def test_deploy_status_diff_rollback_destroy(namespace: str, tmp_path: Path):
    spec = tmp_path / "beamkube.yaml"
    spec.write_text(SPEC.format(namespace=namespace))
    deployed = beamkube("deploy", str(spec), "--timeout", "240")
    assert "Rollout complete" in deployed.stdout
    status = json.loads(beamkube("status", str(spec), "-o", "json").stdout)
    assert status["workload"]["state"] == "complete" and len(status["pods"]) == 2
    assert all(p["ready"] == "1/1" and p["node"].startswith("bk_e2e@") for p in status["pods"])
    version = cookie_version(namespace)
    assert beamkube("diff", str(spec), "--exit-code", check=False).returncode == 0  # nothing to change
    beamkube("deploy", str(spec), "--timeout", "240")
    assert cookie_version(namespace) == version  # never rewritten
    beamkube("deploy", str(spec), "--image", "registry.k8s.io/pause:3.10", "--timeout", "240")
    beamkube("rollback", str(spec), "--timeout", "240")
    status = json.loads(beamkube("status", str(spec), "-o", "json").stdout)
    assert status["workload"]["images"] == ["registry.k8s.io/pause:3.9"]
    destroyed = beamkube("destroy", str(spec), "--yes")
    assert "keeping Secret" in destroyed.stdout
    assert beamkube("status", str(spec), check=False).returncode == 1
    beamkube("destroy", str(spec), "--yes", "--delete-data")


def _versions(namespace: str) -> dict[str, str]:
    """resourceVersion of every beamkube object of the app (a write changes one)."""
    from beamkube.engine.ownership import app_selector
    from beamkube.engine.prune import prunable_types
    from beamkube.kube import KubeClient, Target
    from beamkube.kube.errors import NotFound

    async def main() -> dict[str, str]:
        found: dict[str, str] = {}
        async with KubeClient.connect(Target(), default_namespace=namespace) as client:
            for rt in prunable_types(namespaced=True):
                try:
                    items, _ = await client.list(rt, namespace, label_selector=app_selector("bk-e2e"))
                except NotFound:
                    continue
                for item in items:
                    found[f"{rt.kind}/{item['metadata']['name']}"] = str(item["metadata"]["resourceVersion"])
        return found

    return asyncio.run(main())


def test_engine_checks_on_a_real_server(namespace: str, tmp_path: Path):
    """The double-tier engine checks, against the real thing: rendered for the server's version, a re-deploy
    with quantities the server rewrites (0.1 → 100m, 1024Mi → 1Gi) writes nothing, a second field manager's
    env var causes no conflict and no re-apply, a missing CRD stops deploy before any write."""
    from beamkube.kube import KubeClient, Target
    from beamkube.kube.discovery import served_kinds, server_version
    from beamkube.kube.resources import DEPLOYMENT

    spec = tmp_path / "beamkube.yaml"
    text = SPEC.format(namespace=namespace).replace(
        "limits: {cpu: 100m, memory: 32Mi}", 'limits: {cpu: "0.1", memory: 1024Mi}'
    )
    spec.write_text(text)

    async def probe() -> tuple[str, bool]:
        async with KubeClient.connect(Target(), default_namespace=namespace) as client:
            version = await server_version(client)
            vpa = "VerticalPodAutoscaler" in await served_kinds(client, "autoscaling.k8s.io/v1")
            return str(version), vpa

    version, has_vpa = asyncio.run(probe())
    deployed = beamkube("deploy", str(spec), "--timeout", "240")
    assert f"Kubernetes {version}" in deployed.stdout
    before = _versions(namespace)
    beamkube("deploy", str(spec), "--timeout", "240")
    assert _versions(namespace) == before, "a re-deploy of the same spec must write nothing"

    async def second_manager() -> None:
        async with KubeClient.connect(Target(), default_namespace=namespace) as client:
            client.field_manager = "e2e-other-team"
            container = {"name": "beam", "env": [{"name": "X", "value": "1"}]}
            await client.apply(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "bk-e2e", "namespace": namespace},
                    "spec": {"template": {"spec": {"containers": [container]}}},
                }
            )
            live = await client.get(DEPLOYMENT, "bk-e2e")
            assert any(e["name"] == "X" for e in live["spec"]["template"]["spec"]["containers"][0]["env"])

    asyncio.run(second_manager())
    before = _versions(namespace)
    beamkube("deploy", str(spec), "--timeout", "240")
    assert _versions(namespace) == before, "another manager's env entry is not beamkube's to re-apply"
    if not has_vpa:
        spec.write_text(text + 'vpa:\n  updateMode: "Off"\n')
        refused = beamkube("deploy", str(spec), check=False)
        assert refused.returncode == 1 and "VerticalPodAutoscaler" in refused.stderr
        assert _versions(namespace) == before  # nothing written
    beamkube("destroy", str(spec), "--yes", "--delete-data")
