"""What every cluster command shares: the spec with CLI overrides, the plan for the server's version, the client.

Role: reads the spec file (I/O) and builds a `KubeClient` (no request yet); `plan_for` reads the server's
/version once (through `engine.server`). `--namespace` and `--image` override the spec before rendering, so
every rendered object, name and label agrees with the override.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from beamkube.engine.plan import Plan, build_plan
from beamkube.errors import UsageError
from beamkube.kube.client import KubeClient
from beamkube.kube.config import Target
from beamkube.spec.model import AppSpec

IMAGE_PATTERN = re.compile(r"^[^\s]+$")

__all__ = ["Plan", "connect", "load_plan", "load_spec_with", "plan_for"]


def load_spec_with(spec_path: Path, *, namespace: str | None = None, image: str | None = None) -> AppSpec:
    from beamkube.spec import load_spec, parse_spec

    spec = load_spec(spec_path)
    updates: dict[str, Any] = {}
    if namespace is not None:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace) or len(namespace) > 63:
            raise UsageError(f"--namespace {namespace!r} is not a valid namespace name")
        updates["namespace"] = namespace
    if image is not None:
        if not IMAGE_PATTERN.fullmatch(image):
            raise UsageError(f"--image {image!r} must be an image reference without spaces")
        updates["image"] = image
    if updates:
        # Re-validate rather than model_copy: cross-field rules must still hold for the overridden spec (a
        # broken one is a one-line SpecError naming the options, not a traceback).
        options = " ".join(f"--{key} {value}" for key, value in updates.items())
        spec = parse_spec({**spec.model_dump(), **updates}, f"{spec_path} with {options}")
    return spec


async def plan_for(client: KubeClient, spec: AppSpec, kube_version: tuple[int, int] | None = None) -> Plan:
    """Render for the server's Kubernetes version (or `kube_version`), refusing too old a server."""
    from beamkube.engine.server import render_version

    return build_plan(spec, await render_version(client, kube_version))


def load_plan(
    spec_path: Path,
    *,
    namespace: str | None = None,
    image: str | None = None,
    kube_version: tuple[int, int] | None = None,
) -> Plan:
    """The plan without asking the server, for commands that only need names and selectors (`remote`, `mesh`);
    commands that apply or compare use `plan_for`, which renders for the server's version."""
    from beamkube.render import DEFAULT_KUBE_VERSION

    spec = load_spec_with(spec_path, namespace=namespace, image=image)
    return build_plan(spec, kube_version or DEFAULT_KUBE_VERSION)


def connect(target: Target, spec: AppSpec) -> KubeClient:
    """A client whose default namespace is the (overridden) spec's namespace."""
    return KubeClient.connect(target, default_namespace=spec.namespace)
