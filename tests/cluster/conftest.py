"""Fixtures for the clustering tests: prerequisites (root, iproute2, erl), rendered test apps, the mix release.

Role: test configuration; builds the mix fixture release (file and process I/O) once per session. Tests that
need root or Erlang skip on a developer machine without them, and fail instead when CI=true.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.support` lives at the repository root
    sys.path.insert(0, str(ROOT))

from beamkube.render import render  # noqa: E402
from beamkube.spec.model import AppSpec  # noqa: E402
from tests.support.beam import RenderedApp, build_mix_release  # noqa: E402
from tests.support.ci import in_ci  # noqa: E402

# Fast clocks for tests: discovery every 500 ms (the spec's minimum) and net_ticktime 2 s, so a vanished
# pod is noticed in ~2 s instead of the production default's 10 s.
FAST = {"pollIntervalMs": 500, "netTicktime": 2}

SPECS: dict[str, dict[str, Any]] = {
    # A Phoenix-style stateless app: Deployment, node names from pod IPs, A records of the headless Service.
    "dns": {"name": "web", "namespace": "shop", "image": "x/web:1", "replicas": 3, "cluster": {**FAST}},
    # A StatefulSet (relx release) found through SRV records of its headless Service.
    "dnssrv": {
        "name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable", "replicas": 3,
        "release": {"flavour": "relx"}, "web": None, "cluster": {**FAST},
    },
    # The same StatefulSet with a static peer list from ordinals (sync_nodes_optional + the loop).
    "static": {
        "name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable", "replicas": 3,
        "release": {"flavour": "relx"}, "web": None,
        "cluster": {**FAST, "discovery": "static", "maxReplicas": 5},
    },
}  # fmt: skip


def rendered(overrides: dict[str, Any]) -> RenderedApp:
    """Render a spec the way `beamkube render` does and keep the objects."""
    spec = AppSpec.model_validate(overrides)
    return RenderedApp(render(spec).objects, spec.clusterDomain)


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI must run the cluster tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def netns_ok() -> None:
    """Root, iproute2 and Debian's Erlang are needed for namespaces with real nodes."""
    if os.geteuid() != 0:
        _unavailable("network namespaces need root")
    for tool in ("ip", "erl", "erlc", "epmd"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed (scripts/install-system)")


@pytest.fixture(scope="session")
def erl_ok() -> None:
    if shutil.which("erl") is None:
        _unavailable("erl is not installed (scripts/install-system)")


@pytest.fixture(scope="session")
def mix_release(netns_ok: None) -> Path:
    """The fixture project's `mix release`, built once per content hash."""
    if shutil.which("mix") is None:
        _unavailable("mix (Debian's elixir) is not installed")
    return build_mix_release()
