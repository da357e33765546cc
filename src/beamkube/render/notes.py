"""What `render` says beside the objects: the replica rule under an autoscaler, and warnings about mistakes
it can see in the spec (the `init` scan sees the project itself).

Role: pure (no I/O).
"""

from __future__ import annotations

from beamkube.render.extras import NATIVE_SIDECARS, native_sidecars
from beamkube.render.names import Names
from beamkube.render.workload import initial_replicas
from beamkube.spec.model import AppSpec, Flavour, Identity


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
    stateful = [line for line in spec.release.vmArgs if line.split()[:1] == ["-mnesia"]]
    stateful += [key for key in spec.env if key.upper().startswith(("MNESIA", "KHEPRI", "RA_"))]
    if stateful and spec.identity is Identity.STATELESS:
        warnings.append(
            f"{stateful[0]} suggests Mnesia/Khepri/Ra, but identity is stateless: Deployment pods get a new node "
            "name and no disk each rollout, losing the data and the cluster membership; use identity: stable "
            "with storage"
        )
    if _looks_like_phoenix_without_server(spec):
        warnings.append(
            "this looks like a Phoenix release (PHX_HOST / SECRET_KEY_BASE) but env has no PHX_SERVER: "
            "`bin/<app> start` then serves no HTTP (phx.gen.release's runtime.exs starts the endpoint only "
            'with it); add env PHX_SERVER: "true", or start rel/overlays/bin/server as the command'
        )
    return warnings


def _looks_like_phoenix_without_server(spec: AppSpec) -> bool:
    names = set(spec.env) | {item.name for item in spec.secretEnv}
    phoenix = any(name.startswith("PHX_") for name in names) or "SECRET_KEY_BASE" in names
    command = spec.release.command or []
    via_server_script = bool(command) and command[-1].endswith("/bin/server")
    return (
        spec.web is not None
        and spec.release.flavour is Flavour.MIX
        and phoenix
        and "PHX_SERVER" not in names
        and not via_server_script
    )
