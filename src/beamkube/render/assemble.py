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
from beamkube.render.jobs import job_objects, job_vm_args
from beamkube.render.names import CONTAINER, Names
from beamkube.render.notes import render_warnings, replica_notes
from beamkube.render.order import sort_objects
from beamkube.render.pod import config_hash, vm_args_key
from beamkube.render.policy import limit_range, network_policy, pod_disruption_budget, priority_class
from beamkube.render.processes import views
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
    # Names of the workloads (one per process type), and what deserves a warning or a note.
    workloads: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        qos = ", ".join(f"{name}: {_qos_words(q)}" for name, q in self.qos.items())
        listed = ", ".join(f"{n} {k}" for k, n in counts.items())
        notes = "".join(f"; {note}" for note in self.notes)
        return f"{self.workload_kind}; QoS {qos}{notes}; {len(self.objects)} objects ({listed})"


def _qos_words(qos: Qos) -> str:
    """Guaranteed with integer CPUs gets exclusive cores only where the kubelet runs the static CPU manager
    policy (the default `none` shares every core): say so instead of promising it."""
    if qos.cpu_affinity:
        return f"{qos.klass}, integer CPUs (exclusive cores with the static CPU manager policy)"
    return qos.klass


def render(
    spec: AppSpec,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    cookie: bytes | None = None,
    overrides: bool = True,
) -> Rendered:
    """Render every object for `spec`. `cookie` (from --cookie-file) adds the cookie Secret; `overrides=False`
    leaves the spec's overrides out (the spec's own validation applies them to check them)."""
    names = Names.of(spec)
    env = dict(sorted(spec.env.items()))
    # A cookie from --cookie-file joins the hash (as a salted digest), so a new cookie rolls the pods.
    cookie_part = [cookie_digest(spec, cookie)] if cookie is not None else []
    per_process = views(spec)
    # Each view's vm.args once: the ConfigMap holds them and the config hash of its pods reads them.
    own_vm_args = [vm_args(v, n) for v, n in per_process]
    more_vm_args = {vm_args_key(v, n.process): text for (v, n), text in zip(per_process, own_vm_args, strict=True)
                    if n.process is not None}
    more_vm_args.update(job_vm_args(spec, names))
    app_vm_args = own_vm_args[0] if per_process[0][0] is spec and per_process[0][1] == names else None
    # The view that serves web (the spec itself for a single-process app), from the views already made.
    web_spec, web_names = next(((v, n) for v, n in per_process if v.web is not None), (spec, names))
    candidates: list[dict[str, Any] | None] = [
        priority_class(spec),
        limit_range(spec),
        service_account(spec, names),
        *discovery_rbac(spec, names),
        cookie_secret(spec, names, cookie) if cookie is not None else None,
        beam_config_map(spec, names, more_vm_args, app_vm_args=app_vm_args),
        env_config_map(spec, names),
        headless_service(spec, names),
        web_service(web_spec, web_names),
        network_policy(spec, names),
        *job_objects(spec, names, kube_version),
        ingress(spec, names),
    ]
    workloads: list[dict[str, Any]] = []
    for (view, view_names), view_vm_args in zip(per_process, own_vm_args, strict=True):
        checksum = config_hash(view_vm_args, env, *cookie_part)
        workloads.append(workload(view, view_names, checksum, kube_version))
        candidates += [pod_disruption_budget(view, view_names, kube_version), hpa(view, view_names)]
        candidates.append(vpa(view, view_names))
    objects = sort_objects(obj for obj in [*candidates, *workloads] if obj is not None)
    if spec.overrides and overrides:
        objects = _overridden(spec, objects, kube_version)
    # Keyed by process (or, for one workload, by its BEAM container as before).
    qos = {
        (n.process or CONTAINER): pod_qos(_pod_containers(w)) for (_, n), w in zip(per_process, workloads, strict=True)
    }
    return Rendered(
        objects=objects,
        workload_kind=workloads[0]["kind"],
        qos=qos,
        workloads=[w["metadata"]["name"] for w in workloads],
        warnings=render_warnings(spec, kube_version),
        notes=replica_notes(per_process),
    )


def _overridden(spec: AppSpec, objects: list[dict[str, Any]], kube_version: tuple[int, int]) -> list[dict[str, Any]]:
    """The objects with the spec's overrides applied. Loading the spec already applied them for the default
    Kubernetes version (with file and line in any error); another version can render other objects."""
    from beamkube.errors import SpecError
    from beamkube.render.overrides import OverrideError, apply_overrides
    from beamkube.spec.load import _dotted

    try:
        return apply_overrides(spec, objects)
    except OverrideError as exc:
        where = f"{spec.name} (rendered for Kubernetes {kube_version[0]}.{kube_version[1]})"
        raise SpecError(where, None, _dotted(exc.loc), str(exc)) from None


def _pod_containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers whose resources decide the pod's QoS class (init containers count, as in kubelet)."""
    pod = obj["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


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
