"""The renderer (and the auditor) import no Kubernetes client: rendering must work without a cluster library
and stay fast to start. Checked in a fresh interpreter, after a real render, by looking at `sys.modules`.

Role: tests; runs a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

CLIENTS = ("lightkube", "kubernetes", "kopf", "kubernetes_asyncio", "pykube")

PROBE = """
import json, sys
import beamkube.render, beamkube.spec, beamkube.output
from beamkube.examples import example_names, example_path
from beamkube.render import render
from beamkube.output import dump
for name in example_names():
    dump(render(beamkube.spec.load_spec(example_path(name))).objects, "yaml")
for extra in sys.argv[1:]:
    __import__(extra)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*extra: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *extra], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def _clients_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in CLIENTS)


def test_render_imports_no_kubernetes_client() -> None:
    modules = _modules_after()
    assert "beamkube.render" in modules
    assert _clients_in(modules) == []


def test_audit_imports_no_kubernetes_client() -> None:
    if importlib.util.find_spec("beamkube.audit") is None:
        pytest.skip("beamkube.audit does not exist yet")
    modules = _modules_after("beamkube.audit")
    assert _clients_in(modules) == []


def test_the_check_would_notice_a_client() -> None:
    """The probe is not blind: importing the kube layer's client shows up."""
    if importlib.util.find_spec("lightkube") is None:
        pytest.skip("lightkube not installed")
    assert "lightkube" in {m.split(".")[0] for m in _modules_after("lightkube")}
