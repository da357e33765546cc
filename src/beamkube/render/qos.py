"""Pod QoS class from container resources, as the first talk's "QoS Summary" table describes.

Role: pure functions, no I/O; used by the renderer's summary and by the auditor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from beamkube.quantity import QuantityError, cpu_millicores, memory_bytes


@dataclass(frozen=True)
class Qos:
    """`klass` is BestEffort, Burstable or Guaranteed; `cpu_affinity` is the talk's last row (Guaranteed with
    integer CPUs, which the static CPU manager pins to exclusive cores)."""

    klass: str
    cpu_affinity: bool

    def __str__(self) -> str:
        return f"{self.klass} (exclusive CPUs)" if self.cpu_affinity else self.klass


def _amounts(container: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = container.get("resources") or {}
    requests = dict(resources.get("requests") or {})
    limits = dict(resources.get("limits") or {})
    for name, limit in limits.items():  # Kubernetes defaults a missing request to its limit
        requests.setdefault(name, limit)
    return requests, limits


def _same(name: str, left: Any, right: Any) -> bool:
    try:
        if name == "cpu":
            return cpu_millicores(left) == cpu_millicores(right)
        return memory_bytes(left) == memory_bytes(right)
    except QuantityError:
        return str(left) == str(right)


def pod_qos(containers: Iterable[Mapping[str, Any]]) -> Qos:
    """The pod's QoS class given all its (non-init) containers."""
    pairs = [_amounts(c) for c in containers]
    if not pairs or all(not req and not lim for req, lim in pairs):
        return Qos("BestEffort", False)
    guaranteed = all(
        all(k in lim for k in ("cpu", "memory"))
        and all(k in req and _same(k, req[k], lim[k]) for k in ("cpu", "memory"))
        for req, lim in pairs
    )
    if not guaranteed:
        return Qos("Burstable", False)
    integer_cpus = True
    for _req, lim in pairs:
        try:
            integer_cpus = integer_cpus and cpu_millicores(lim["cpu"]) % 1000 == 0
        except QuantityError:
            integer_cpus = False
    return Qos("Guaranteed", integer_cpus)
