"""Start a just-created autoscaled workload at max(replicas, autoscaling.min) pods instead of the API's default
of 1, without ever making the apply field manager own `replicas`.

Role: network I/O (one merge PATCH). The rendered workload omits `replicas` under an HPA and carries the count in
the `beamkube.io/initial-replicas` annotation (`beamkube.render.workload`); whoever creates the workload
(`deploy`, the operator) calls `set_initial_replicas` once, right after the create. The patch is an update by a
field manager of its own, so later applies (which omit `replicas`) neither reset nor remove it and the HPA owns
it from then on.
"""

from __future__ import annotations

from typing import Any

from beamkube.kube.client import KubeClient

INITIAL_REPLICAS_MANAGER = "beamkube-initial-replicas"


async def set_initial_replicas(client: KubeClient, obj: dict[str, Any]) -> dict[str, Any] | None:
    """Set the first replica count of the workload `obj` just created; None when it has none to set."""
    from beamkube.kube.resources import resource_of
    from beamkube.render.workload import initial_replicas_patch

    patch = initial_replicas_patch(obj)
    if patch is None:
        return None
    meta = obj["metadata"]
    return await client.patch(
        resource_of(obj),
        str(meta["name"]),
        patch,
        namespace=meta.get("namespace"),
        field_manager=INITIAL_REPLICAS_MANAGER,
    )
