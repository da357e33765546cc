"""`beamkube crd`, `beamkube operator manifests` (audited), `operator run` errors, and the health endpoint."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import yaml

from beamkube.operator.crd import beamapp_crd
from beamkube.operator.runner import serve_health


def beamkube(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], capture_output=True, text=True, input=stdin, timeout=60
    )


def test_crd_command_yaml_and_json() -> None:
    as_yaml = beamkube("crd")
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout) == beamapp_crd()
    as_json = beamkube("crd", "-o", "json")
    assert json.loads(as_json.stdout) == beamapp_crd()


def test_operator_manifests_pass_beamkube_audit(tmp_path: Path) -> None:
    result = beamkube("operator", "manifests", "--namespace", "ops", "--image", "example.org/beamkube:0.1.0")
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert {d["metadata"]["namespace"] for d in docs if "namespace" in d["metadata"]} == {"ops"}
    (tmp_path / "operator.yaml").write_text(result.stdout)
    audit = beamkube("audit", "--min-severity", "info", str(tmp_path / "operator.yaml"))
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings" in audit.stdout
    # The audit really inspects these objects: weakening the Deployment is reported.
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    (tmp_path / "weak.yaml").write_text(yaml.safe_dump_all(docs))
    weak = beamkube("audit", str(tmp_path / "weak.yaml"))
    assert weak.returncode != 0 and "beamkube-operator" in weak.stdout


def test_operator_run_without_cluster_is_one_line(tmp_path: Path) -> None:
    result = beamkube("operator", "run", "--kubeconfig", str(tmp_path / "missing"), "--health-port", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("beamkube: kubeconfig not found")
    assert "Traceback" not in result.stderr


def test_health_endpoint_answers_and_reports_unhealthy() -> None:
    async def main() -> None:
        state = {"ok": True}
        server = await serve_health(0, lambda: state["ok"], host="127.0.0.1")
        port = server.sockets[0].getsockname()[1]

        async def get(path: str) -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await writer.drain()
            data = await reader.read()
            writer.close()
            return data

        assert (await get("/healthz")).startswith(b"HTTP/1.1 200 OK")
        assert (await get("/other")).startswith(b"HTTP/1.1 503")
        state["ok"] = False
        assert (await get("/healthz")).startswith(b"HTTP/1.1 503")
        server.close()
        await server.wait_closed()

    asyncio.run(main())
