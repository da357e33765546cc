"""What `render` says beside the objects: the replica rule under an autoscaler, and warnings about mistakes
it can see in the spec (the `init` scan sees the project itself).

Role: pure (no I/O).
"""

from __future__ import annotations

from beamkube.render.extras import NATIVE_SIDECARS, native_sidecars
from beamkube.render.names import Names
from beamkube.render.workload import initial_replicas
from beamkube.spec.model import AppSpec, Flavour

PHOENIX_PORT = 4000


def replica_notes(views: list[tuple[AppSpec, Names]]) -> list[str]:
    """One note per autoscaled workload: the HPA owns `replicas`; the first apply starts max(replicas, min)."""
    notes = []
    for view, names in views:
        first = initial_replicas(view)
        if first is None or view.autoscaling is None:
            continue
        prefix = f"{names.process} " if names.process else ""
        notes.append(
            f"{prefix}replicas: HPA {view.autoscaling.min}-{view.autoscaling.max} owns them; created with "
            f"{first} = max(replicas {view.replicas}, min {view.autoscaling.min})"
        )
    return notes


def render_warnings(spec: AppSpec, kube_version: tuple[int, int]) -> list[str]:
    warnings = []
    if spec.sidecars and not native_sidecars(kube_version):
        warnings.append(
            f"sidecars are plain containers before Kubernetes {NATIVE_SIDECARS[0]}.{NATIVE_SIDECARS[1]} "
            "(they may stop before the BEAM node drains) and Jobs run without them; target a newer --kube-version"
        )
    if (
        spec.web is not None
        and spec.web.port == PHOENIX_PORT
        and spec.release.flavour is Flavour.MIX
        and "PHX_SERVER" not in spec.env
        and not spec.envFrom
    ):
        warnings.append(
            "web.port is Phoenix's 4000 but env has no PHX_SERVER: a Phoenix release started with `bin/<app> start` "
            'serves no HTTP without it (phx.gen.release\'s bin/server sets it); add env PHX_SERVER: "true" '
            "if this is a Phoenix app"
        )
    return warnings
