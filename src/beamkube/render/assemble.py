"""Assemble every object for a spec, in apply order (the body of `beamkube.render.render`).

Role: pure (no I/O, no Kubernetes client). One module per concern; this one only assembles and orders.
Same spec and options → identical objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beamkube.render.autoscale import hpa, vpa
from beamkube.render.beam import vm_args
from beamkube.render.config import beam_config_map, cookie_digest, cookie_secret, env_config_map
from beamkube.render.jobs import job_objects
from beamkube.render.names import Names
from beamkube.render.order import sort_objects
from beamkube.render.pod import config_hash
from beamkube.render.policy import limit_range, network_policy, pod_disruption_budget, priority_class
from beamkube.render.qos import Qos, pod_qos
from beamkube.render.rbac import discovery_rbac, service_account
from beamkube.render.services import headless_service, ingress, web_service
from beamkube.render.workload import workload
from beamkube.spec.model import AppSpec

DEFAULT_KUBE_VERSION = (1, 33)
MIN_KUBE_VERSION = (1, 25)


@dataclass(frozen=True)
class Rendered:
    """The objects plus what the summary line reports."""

    objects: list[dict[str, Any]]
    workload_kind: str
    qos: dict[str, Qos] = field(default_factory=dict)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        qos = ", ".join(f"{name}: {q}" for name, q in self.qos.items())
        listed = ", ".join(f"{n} {k}" for k, n in counts.items())
        return f"{self.workload_kind}; QoS {qos}; {len(self.objects)} objects ({listed})"


def render(
    spec: AppSpec,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    cookie: bytes | None = None,
) -> Rendered:
    """Render every object for `spec`. `cookie` (from --cookie-file) adds the cookie Secret."""
    names = Names.of(spec)
    # A cookie from --cookie-file joins the hash (as a salted digest), so a new cookie rolls the pods.
    cookie_part = [cookie_digest(spec, cookie)] if cookie is not None else []
    checksum = config_hash(vm_args(spec, names), dict(sorted(spec.env.items())), *cookie_part)
    candidates: list[dict[str, Any] | None] = [
        priority_class(spec),
        limit_range(spec),
        service_account(spec, names),
        *discovery_rbac(spec, names),
        cookie_secret(spec, names, cookie) if cookie is not None else None,
        beam_config_map(spec, names),
        env_config_map(spec, names),
        headless_service(spec, names),
        web_service(spec, names),
        network_policy(spec, names),
        pod_disruption_budget(spec, names, kube_version),
        *job_objects(spec, names),
        (main := workload(spec, names, checksum, kube_version)),
        hpa(spec, names),
        vpa(spec, names),
        ingress(spec, names),
    ]
    objects = sort_objects(obj for obj in candidates if obj is not None)
    containers = main["spec"]["template"]["spec"]["containers"]
    qos = {c["name"]: pod_qos([c]) for c in containers}
    return Rendered(objects=objects, workload_kind=main["kind"], qos=qos)


def parse_kube_version(text: str) -> tuple[int, int]:
    """`1.31` → (1, 31); raises ValueError with what is allowed."""
    parts = text.strip().lstrip("v").split(".")
    try:
        version = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        raise ValueError(f"--kube-version {text!r} must look like 1.31") from None
    if version < MIN_KUBE_VERSION:
        raise ValueError(
            f"--kube-version {text} is older than {MIN_KUBE_VERSION[0]}.{MIN_KUBE_VERSION[1]}, the oldest with "
            "every API beamkube emits (policy/v1, autoscaling/v2, batch/v1 CronJob)"
        )
    return version
