"""Fixtures for the ops tests: a running API double + fake controller, spec files, and a CLI runner.

Role: test support (loopback HTTP only). `cluster` starts the double in a background thread, points
KUBECONFIG at it and makes retries fast; `cli(...)` runs the real console-script entry point in-process and
returns its exit code and output.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.apidouble import Running, serve

SHOP = """\
name: shop
namespace: shop
image: ghcr.io/acme/shop:1.0.0
replicas: 2
env:
  PHX_HOST: shop.example.com
jobs:
  - name: migrate
    eval: Shop.Release.migrate()
"""

KV = """\
name: kv
namespace: data
image: ghcr.io/acme/kv:1.0.0
identity: stable
replicas: 3
release:
  flavour: relx
storage:
  size: 1Gi
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture()
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    import beamkube.kube.client as client_module
    from beamkube.kube.retry import RetryPolicy

    monkeypatch.setattr(client_module, "DEFAULT", RetryPolicy(attempts=6, base=0.01, cap=0.05))
    with serve(tmp_path) as running:
        monkeypatch.setenv("KUBECONFIG", str(running.kubeconfig))
        for ns in ("shop", "data"):
            running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        yield running


@pytest.fixture()
def shop_spec(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return path


@pytest.fixture()
def kv_spec(tmp_path: Path) -> Path:
    path = tmp_path / "kv.yaml"
    path.write_text(KV)
    return path


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from beamkube.cli.main import run

    def invoke(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["beamkube", *args])
        capsys.readouterr()
        try:
            run()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


KUBECTL = shutil.which("kubectl.1.33") or "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"


@pytest.fixture()
def kubectl() -> str:
    """A real kubectl (1.33) as a client of the double; required in CI (the machine image ships it)."""
    if not Path(KUBECTL).is_file():
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(f"{KUBECTL} missing: the machine image ships kubectl 1.27-1.33")
        pytest.skip("kubectl.1.33 not installed")
    return KUBECTL
