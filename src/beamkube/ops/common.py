"""What every cluster command shares: the spec with CLI overrides, the rendered objects, the client.

Role: reads the spec file (I/O) and builds a `KubeClient` (no request yet). `--namespace` and `--image`
override the spec before rendering, so every rendered object, name and label agrees with the override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.errors import UsageError
from beamkube.kube.client import KubeClient
from beamkube.kube.config import Target
from beamkube.spec.model import AppSpec

IMAGE_PATTERN = re.compile(r"^[^\s]+$")


@dataclass(frozen=True)
class Plan:
    """The spec after overrides and its rendered objects (in apply order)."""

    spec: AppSpec
    objects: list[dict[str, Any]]
    workload_kind: str

    @property
    def workload(self) -> dict[str, Any]:
        return next(o for o in self.objects if o["kind"] == self.workload_kind)

    @property
    def selector(self) -> str:
        """Label selector of the app's BEAM pods (the workload's selector)."""
        labels = self.workload["spec"]["selector"]["matchLabels"]
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def load_plan(
    spec_path: Path,
    *,
    namespace: str | None = None,
    image: str | None = None,
    kube_version: tuple[int, int] | None = None,
) -> Plan:
    from beamkube.render import DEFAULT_KUBE_VERSION, render
    from beamkube.spec import load_spec

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
        # Re-validate rather than model_copy: cross-field rules must still hold for the overridden spec.
        spec = AppSpec.model_validate({**spec.model_dump(mode="python", by_alias=True, exclude_unset=True), **updates})
    rendered = render(spec, kube_version=kube_version or DEFAULT_KUBE_VERSION)
    return Plan(spec=spec, objects=rendered.objects, workload_kind=rendered.workload_kind)


def connect(target: Target, plan: Plan) -> KubeClient:
    """A client whose default namespace is the (overridden) spec's namespace."""
    return KubeClient.connect(target, default_namespace=plan.spec.namespace)
