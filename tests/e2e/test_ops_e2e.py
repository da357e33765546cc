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
