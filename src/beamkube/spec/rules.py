"""Cross-field rules for the production-app fields (sidecars, volumes, processes, vm.args, ...).

Role: pure (no I/O). Called from `AppSpec`'s last validator; each rule raises `FieldError` naming the field
to blame relative to the spec root, so the loader reports its file, line and path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from beamkube.spec.model import NAME_PATTERN, FieldError, Probe, _not_reserved

if TYPE_CHECKING:
    from beamkube.spec.model import AppSpec

# vm.args flags beamkube writes itself (or sets through the environment): a second one silently wins or loses
# depending on the release flavour, and a literal -setcookie puts the cookie in a ConfigMap.
OWNED_VM_FLAGS = {
    "-name": "the node name comes from RELEASE_NODE (pod IP or pod DNS name)",
    "-sname": "short names cannot reach other pods; beamkube sets the long node name",
    "-setcookie": "the cookie comes from the cookie Secret (cluster.cookieSecret)",
    "-cookie": "the cookie comes from the cookie Secret (cluster.cookieSecret)",
    "-proto_dist": "set cluster.tls or cluster.ipFamily instead",
    "-ssl_dist_optfile": "set cluster.tls instead",
    "+Q": "beamkube sets +Q with ERL_MAX_PORTS",
    "+S": "beamkube matches +S to resources.limits.cpu",
}
OWNED_KERNEL_PARAMS = {
    "inet_dist_listen_min": "set cluster.distPort instead",
    "inet_dist_listen_max": "set cluster.distPort instead",
    "net_ticktime": "set cluster.netTicktime instead",
    "sync_nodes_optional": "beamkube lists the peers for static discovery",
    "sync_nodes_timeout": "set cluster.syncNodesTimeoutMs instead",
}
# StatefulSet pods carry `controller-revision-hash: <statefulset>-<10 chars>`, a label value of at most 63.
WORKLOAD_NAME_MAX = 52
MOUNTS_OF_BEAMKUBE = ("/etc/beamkube", "/tmp")


def production_rules(spec: AppSpec) -> None:
    _vm_args(spec)
    _pull_secrets(spec)
    _containers(spec)
    _volumes(spec)
    _pod_annotations(spec)
    _jobs(spec)
    _ingress(spec)
    _processes(spec)
    _overrides(spec)


def _vm_args(spec: AppSpec) -> None:
    for index, line in enumerate(spec.release.vmArgs):
        words = line.split()
        if not words:
            continue
        flag = "+S" if re.fullmatch(r"\+S[0-9:]*", words[0]) else words[0]  # `+S 4:4` and `+S4:4`, not +SDcpu
        if flag in OWNED_VM_FLAGS:
            raise FieldError(("release", "vmArgs", index), f"{flag} is set by beamkube: {OWNED_VM_FLAGS[flag]}")
        if flag == "-kernel" and len(words) > 1 and words[1] in OWNED_KERNEL_PARAMS:
            raise FieldError(
                ("release", "vmArgs", index),
                f"-kernel {words[1]} is set by beamkube: {OWNED_KERNEL_PARAMS[words[1]]}",
            )


def _pull_secrets(spec: AppSpec) -> None:
    for index, name in enumerate(spec.imagePullSecrets):
        if not re.fullmatch(NAME_PATTERN, name) or len(name) > 63:
            raise FieldError(("imagePullSecrets", index), f"{name!r} is not a Secret name (a DNS label)")
        if name in spec.imagePullSecrets[:index]:
            raise FieldError(("imagePullSecrets", index), f"{name!r} is listed twice")


def _containers(spec: AppSpec) -> None:
    seen: set[str] = set()
    volume_names = {v.name for v in spec.volumes} | {"tmp"}
    # The pod shares one network namespace: a sidecar cannot bind the node's ports, nor reuse a port name.
    taken_ports = {spec.cluster.distPort: "cluster.distPort", spec.cluster.epmdPort: "cluster.epmdPort"}
    if spec.web is not None:
        taken_ports[spec.web.port] = "web.port"
    if spec.metrics is not None:
        taken_ports.setdefault(spec.metrics.port, "metrics.port")
    taken_names = {"http", "epmd", "dist", "metrics"}
    for group in ("initContainers", "sidecars"):
        for index, container in enumerate(getattr(spec, group)):
            if container.name in seen:
                raise FieldError(
                    (group, index, "name"), f"{container.name!r} names two containers; names must be unique"
                )
            seen.add(container.name)
            if group == "initContainers" and container.probes is not None:
                raise FieldError(
                    (group, index, "probes"), "init containers run to completion and take no probes; use sidecars"
                )
            for m_index, mount in enumerate(container.volumeMounts):
                if mount.name not in volume_names:
                    allowed = ", ".join(sorted(volume_names))
                    raise FieldError(
                        (group, index, "volumeMounts", m_index, "name"),
                        f"{mount.name!r} is not a volume of the pod; declare it under volumes (known: {allowed})",
                    )
            for p_index, port in enumerate(container.ports):
                where: tuple[str | int, ...] = (group, index, "ports", p_index)
                if port.containerPort in taken_ports:
                    owner = taken_ports[port.containerPort]
                    raise FieldError((*where, "containerPort"), f"{port.containerPort} is already {owner} in this pod")
                if port.name in taken_names:
                    raise FieldError((*where, "name"), f"{port.name!r} is already a port name in this pod")
                taken_ports[port.containerPort] = f"{group}[{index}].ports[{p_index}]"
                taken_names.add(port.name)
            for s_index, item in enumerate(container.secretEnv):
                if item.name in container.env:
                    raise FieldError((group, index, "secretEnv", s_index, "name"), f"{item.name!r} is set twice")


def _volumes(spec: AppSpec) -> None:
    taken = {spec.storage.mountPath: "storage.mountPath"} if spec.storage is not None else {}
    for index, volume in enumerate(spec.volumes):
        if volume.name in {v.name for v in spec.volumes[:index]}:
            raise FieldError(("volumes", index, "name"), f"{volume.name!r} names two volumes; names must be unique")
        path = volume.mountPath
        if path is None:
            continue
        for own in MOUNTS_OF_BEAMKUBE:
            if path.rstrip("/") == own or path.startswith(own + "/"):
                raise FieldError(("volumes", index, "mountPath"), f"{path} is inside {own}, which beamkube mounts")
        if path in taken:
            raise FieldError(("volumes", index, "mountPath"), f"{path} is already mounted by {taken[path]}")
        taken[path] = f"volumes[{index}]"


def _pod_annotations(spec: AppSpec) -> None:
    for key in spec.objectMeta.pods.annotations:
        if key in spec.annotations:
            raise FieldError(("objectMeta", "pods", "annotations", key), "is also set in annotations; keep one")
        if key.startswith("beamkube.io/"):
            raise FieldError(("objectMeta", "pods", "annotations", key), "beamkube.io/ annotations are beamkube's")


def _jobs(spec: AppSpec) -> None:
    for index, job in enumerate(spec.jobs):
        for key in job.env:
            _not_reserved(key, ("jobs", index, "env", key))
        for s_index, item in enumerate(job.secretEnv):
            _not_reserved(item.name, ("jobs", index, "secretEnv", s_index, "name"))


def _ingress(spec: AppSpec) -> None:
    if spec.web is None or spec.web.ingress is None:
        return
    rule = spec.web.ingress
    seen = {(rule.host, rule.path)}
    for index, extra in enumerate(rule.extraHosts):
        for p_index, path in enumerate(extra.paths):
            if (extra.host, path) in seen:
                raise FieldError(
                    ("web", "ingress", "extraHosts", index, "paths", p_index), f"{extra.host}{path} is routed twice"
                )
            seen.add((extra.host, path))


def _processes(spec: AppSpec) -> None:
    if not spec.processes:
        return
    from beamkube.spec.model import Discovery

    for name in spec.processes:
        loc: tuple[str | int, ...] = ("processes", name)
        if not re.fullmatch(NAME_PATTERN, name):
            raise FieldError(
                loc, f"{name!r} is not a process name (a DNS label: a-z, 0-9, '-', starting with a letter)"
            )
        if len(spec.name) + 1 + len(name) > WORKLOAD_NAME_MAX:
            raise FieldError(
                loc,
                f"{name!r} is too long for app {spec.name!r}: the workload name '<name>-<process>' may have at "
                f"most {WORKLOAD_NAME_MAX} characters",
            )
    if spec.effective_discovery is Discovery.STATIC:
        raise FieldError(
            ("cluster", "discovery"),
            "static lists one StatefulSet's ordinals; with several processes use dnssrv (or dns), which see every "
            "process's pods through the shared headless Service",
        )
    web_processes = [name for name, process in spec.processes.items() if serves_web(name, process.web)]
    if spec.web is not None and len(web_processes) != 1:
        where = ", ".join(web_processes) if web_processes else "none"
        raise FieldError(
            ("processes",),
            f"exactly one process must serve web (web: true, or the process named 'web'); found {where}",
        )
    if spec.web is None and web_processes:
        raise FieldError(("processes", web_processes[0], "web"), "serves web, but the top-level web is null")
    for name, process in spec.processes.items():
        _process_budget(spec, name)
        if serves_web(name, process.web) or process.probes is not None:
            continue
        for probe_name in ("readiness", "liveness", "startup"):
            probe = getattr(spec.probes, probe_name)
            if isinstance(probe, Probe) and (
                (probe.http is not None and probe.http.port is None)
                or (probe.tcp is not None and probe.tcp.port == "web")
            ):
                raise FieldError(
                    ("processes", name),
                    f"inherits probes.{probe_name}, which uses the web port, but does not serve web; set its probes",
                )


def serves_web(name: str, web: bool | None) -> bool:
    """Whether a process serves the web Service: explicit `web:`, else Heroku's convention (named `web`)."""
    return web if web is not None else name == "web"


def _overrides(spec: AppSpec) -> None:
    """Apply the overrides once while loading, so a patch that targets nothing or breaks an invariant is
    reported with the spec's file and line (render applies them again for the requested version)."""
    if not spec.overrides:
        return
    from beamkube.render import render
    from beamkube.render.overrides import apply_overrides

    apply_overrides(spec, render(spec, overrides=False).objects)


def _process_budget(spec: AppSpec, name: str) -> None:
    """The top-level rules on budgets and autoscalers, for a process's own replicas/autoscaler/budget."""
    process = spec.processes[name]
    scaling = spec.autoscaling if process.autoscaling is None else (process.autoscaling or None)
    budget = spec.disruption if process.disruption is None else (process.disruption or None)
    replicas = spec.replicas if process.replicas is None else process.replicas
    floor = scaling.min if scaling is not None else replicas
    minimum = budget.minAvailable if budget is not None else None
    if floor > 0 and (minimum == "100%" or (isinstance(minimum, int) and minimum >= floor)):
        where: tuple[str | int, ...] = (
            ("processes", name, "disruption", "minAvailable") if process.disruption else ("disruption", "minAvailable")
        )
        raise FieldError(
            where,
            f"{minimum} leaves no pod of process {name!r} ({floor}) evictable (node drains would hang); "
            "use a lower value",
        )
    resources = process.resources or spec.resources
    no_cpu = resources.requests.cpu is None and resources.limits.cpu is None
    if scaling is not None and scaling.cpu is not None and no_cpu:
        # The top-level rule (spec/bounds.py) for the resources this process's pods really get.
        where = ("processes", name, "autoscaling", "cpu") if process.autoscaling else ("processes", name, "resources")
        raise FieldError(
            where,
            f"process {name!r} scales on CPU utilisation, a percentage of the CPU request, but its resources set "
            "no CPU request or limit (audit BK503); set resources.requests.cpu",
        )
    if scaling is not None and scaling.cpu is not None and spec.vpa is not None and spec.vpa.updateMode != "Off":
        raise FieldError(
            ("vpa", "updateMode"), f"must be Off while process {name!r} autoscales on cpu (they would fight)"
        )
