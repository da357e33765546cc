"""The pod template shared by the workload (and, trimmed, by Jobs): container, probes, security, volumes.

Role: pure (no I/O). Security defaults meet the Pod Security "restricted" profile; the root filesystem is
read-only and exactly the paths a release writes (RELEASE_TMP or its relx/Distillery twin, the crash dump)
live on an emptyDir at /tmp.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from beamkube.quantity import memory_bytes
from beamkube.render.beam import VM_ARGS_FILE, beam_config_files, beam_env, drain_pre_stop
from beamkube.render.extras import (
    env_from_sources,
    extra_mounts,
    extra_volumes,
    image_pull_secrets,
    node_affinity,
    pod_side_containers,
    tolerations,
)
from beamkube.render.names import CONFIG_DIR, CONTAINER, TLS_DIR, TMP_DIR, Names, priority_class_name, selector_labels
from beamkube.spec.model import AppSpec, Discovery, Flavour, Probe, Spread

TOPOLOGY_KEYS = {
    "hostname": "kubernetes.io/hostname",
    "zone": "topology.kubernetes.io/zone",
    "region": "topology.kubernetes.io/region",
}


def release_command(spec: AppSpec) -> list[str]:
    if spec.release.command is not None:
        return list(spec.release.command)
    script = f"{spec.release.root}/bin/{spec.release_name}"
    return [script, "start" if spec.release.flavour is Flavour.MIX else "foreground"]


def container_ports(spec: AppSpec) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    if spec.web is not None:
        ports.append({"name": "http", "containerPort": spec.web.port, "protocol": "TCP"})
    ports.append({"name": "epmd", "containerPort": spec.cluster.epmdPort, "protocol": "TCP"})
    ports.append({"name": "dist", "containerPort": spec.cluster.distPort, "protocol": "TCP"})
    if spec.metrics is not None and (spec.web is None or spec.metrics.port != spec.web.port):
        ports.append({"name": "metrics", "containerPort": spec.metrics.port, "protocol": "TCP"})
    return ports


def _handler(spec: AppSpec, probe: Probe) -> dict[str, Any]:
    if probe.http is not None:
        port = probe.http.port if probe.http.port is not None else "http"
        return {"httpGet": {"path": probe.http.path, "port": port, "scheme": "HTTP"}}
    if probe.tcp is not None:
        port = {"web": "http", "dist": "dist"}.get(str(probe.tcp.port), probe.tcp.port)
        return {"tcpSocket": {"port": port}}
    assert probe.exec is not None
    return {"exec": {"command": list(probe.exec)}}


def _probe(spec: AppSpec, probe: Probe) -> dict[str, Any]:
    return {
        **_handler(spec, probe),
        "failureThreshold": probe.failureThreshold,
        "initialDelaySeconds": probe.initialDelaySeconds,
        "periodSeconds": probe.periodSeconds,
        "successThreshold": 1,
        "timeoutSeconds": probe.timeoutSeconds,
    }


def default_probes(spec: AppSpec) -> dict[str, Probe]:
    """Cheap checks: TCP on the web port, or on the distribution port (open once the VM is up).
    Startup allows 2 minutes of boot; liveness is lenient (a busy BEAM must not be killed for a slow tick)."""
    target = "web" if spec.web is not None else "dist"
    tcp = {"tcp": {"port": target}}
    return {
        "startupProbe": Probe.model_validate({**tcp, "periodSeconds": 2, "failureThreshold": 60}),
        "readinessProbe": Probe.model_validate({**tcp, "periodSeconds": 5, "failureThreshold": 2}),
        "livenessProbe": Probe.model_validate({**tcp, "periodSeconds": 10, "failureThreshold": 6}),
    }


def probes(spec: AppSpec) -> dict[str, Any]:
    defaults = default_probes(spec)
    chosen = {
        "livenessProbe": spec.probes.liveness,
        "readinessProbe": spec.probes.readiness,
        "startupProbe": spec.probes.startup,
    }
    rendered: dict[str, Any] = {}
    for key, value in chosen.items():
        if value is False:
            continue
        rendered[key] = _probe(spec, value if isinstance(value, Probe) else defaults[key])
    return rendered


def resources(spec: AppSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("limits", "requests"):
        amounts = getattr(spec.resources, part)
        values = {k: v for k, v in (("cpu", amounts.cpu), ("memory", amounts.memory)) if v is not None}
        if values:
            out[part] = values
    return out


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security(spec: AppSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"fsGroup": spec.security.fsGroup}
    if spec.storage is not None:
        # Without it the kubelet chowns every file of the volume on each mount: minutes for a big Mnesia
        # or RocksDB directory, during which the node cannot start.
        body["fsGroupChangePolicy"] = "OnRootMismatch"
    body.update(
        {
            "runAsGroup": spec.security.runAsGroup,
            "runAsNonRoot": True,
            "runAsUser": spec.security.runAsUser,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    )
    return body


def tmp_size_limit(spec: AppSpec) -> str:
    """Room on /tmp for a full crash dump (about the size of the VM's memory) plus release scratch files:
    a smaller cap would get the pod evicted in the middle of writing the dump that explains the crash."""
    memory = spec.resources.limits.memory or spec.resources.requests.memory
    if memory is None:
        return "1Gi"
    return f"{-(-memory_bytes(memory) // 2**20) + 256}Mi"


def vm_args_key(spec: AppSpec, process: str | None) -> str:
    """The beam ConfigMap key holding a process's vm.args (each process has its own: +S follows its CPU)."""
    file = VM_ARGS_FILE[spec.release.flavour]
    return file if process is None else f"{process}.{file}"


def volumes(spec: AppSpec, names: Names, config_key: str | None = None) -> list[dict[str, Any]]:
    """The pod's volumes; `config_key` picks another vm.args key of the beam ConfigMap (a Job's own)."""
    flavour = spec.release.flavour
    key = config_key or vm_args_key(spec, names.process)
    config_items = [{"key": key, "path": VM_ARGS_FILE[flavour]}]
    if spec.cluster.tls is not None:
        config_items.append({"key": "ssl_dist.conf", "path": "ssl_dist.conf"})
    config_items += [{"key": key, "path": key} for key in beam_config_files(spec)]  # remote.vm.args (beam.py)
    vols: list[dict[str, Any]] = [
        {"name": "beam-config", "configMap": {"name": names.config_map, "items": config_items}},
        {"name": "tmp", "emptyDir": {"sizeLimit": tmp_size_limit(spec)}},
    ]
    if spec.cluster.tls is not None:
        vols.append({"name": "dist-tls", "secret": {"secretName": spec.cluster.tls.secretName}})
    return vols + extra_volumes(spec)


def volume_mounts(spec: AppSpec) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {"name": "beam-config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": TMP_DIR},
    ]
    if spec.cluster.tls is not None:
        mounts.append({"name": "dist-tls", "mountPath": TLS_DIR, "readOnly": True})
    if spec.storage is not None:
        mounts.append({"name": "data", "mountPath": spec.storage.mountPath})
    return mounts + extra_mounts(spec)


def _pre_stop(spec: AppSpec, kube_version: tuple[int, int]) -> dict[str, Any] | None:
    if (drain := drain_pre_stop(spec)) is not None:  # shutdown.drain (render/beam.py)
        return drain
    seconds = spec.preStopSleepSeconds
    if seconds == 0:
        return None
    if kube_version >= (1, 30):  # the sleep action needs no shell or `sleep` binary in the image
        return {"preStop": {"sleep": {"seconds": seconds}}}
    return {"preStop": {"exec": {"command": ["sleep", str(seconds)]}}}


def container(spec: AppSpec, names: Names, kube_version: tuple[int, int]) -> dict[str, Any]:
    env_from = [{"configMapRef": {"name": names.env_config_map}}] if spec.env else []
    env_from += env_from_sources(spec.envFrom)
    env = beam_env(spec, names)
    if names.process is not None:
        env += [{"name": k, "value": v} for k, v in sorted(spec.processes[names.process].env.items())]
    body: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image,
        "imagePullPolicy": spec.imagePullPolicy,
        "command": release_command(spec),
        "env": env,
    }
    if env_from:
        body["envFrom"] = env_from
    body["ports"] = container_ports(spec)
    body["resources"] = resources(spec)
    body.update(probes(spec))
    lifecycle = _pre_stop(spec, kube_version)
    if lifecycle is not None:
        body["lifecycle"] = lifecycle
    body["securityContext"] = container_security()
    body["terminationMessagePolicy"] = "FallbackToLogsOnError"
    body["volumeMounts"] = volume_mounts(spec)
    return body


def affinity(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    nodes = node_affinity(spec)
    anti = spec.placement.antiAffinity
    if anti.mode == "off":
        return None if nodes is None else {"nodeAffinity": nodes}
    term = {
        "labelSelector": {"matchLabels": selector_labels(spec, process=names.process)},
        "topologyKey": TOPOLOGY_KEYS[anti.topology],
    }
    if anti.mode == "required":
        rule: dict[str, Any] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    else:
        rule = {"preferredDuringSchedulingIgnoredDuringExecution": [{"podAffinityTerm": term, "weight": anti.weight}]}
    if nodes is None:
        return {"podAntiAffinity": rule}
    return {"nodeAffinity": nodes, "podAntiAffinity": rule}


def spread(spec: AppSpec, item: Spread, names: Names) -> dict[str, Any]:
    return {
        "labelSelector": {"matchLabels": selector_labels(spec, process=names.process)},
        "maxSkew": item.maxSkew,
        "topologyKey": TOPOLOGY_KEYS[item.topology],
        "whenUnsatisfiable": item.whenUnsatisfiable,
    }


def config_hash(*parts: Any) -> str:
    """A short digest of configuration the pods read at start, so a change rolls the pods."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pod_annotations(spec: AppSpec, checksum: str) -> dict[str, str]:
    annotations = dict(spec.annotations)
    annotations.update(spec.objectMeta.pods.annotations)
    annotations["beamkube.io/config-hash"] = checksum
    if spec.metrics is not None:
        annotations["prometheus.io/scrape"] = "true"
        annotations["prometheus.io/port"] = str(spec.metrics.port)
        annotations["prometheus.io/path"] = spec.metrics.path
    return dict(sorted(annotations.items()))


def pod_spec(spec: AppSpec, names: Names, kube_version: tuple[int, int]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    rule = affinity(spec, names)
    if rule is not None:
        body["affinity"] = rule
    body["automountServiceAccountToken"] = spec.effective_discovery is Discovery.KUBERNETES
    init, extra = pod_side_containers(spec, kube_version)
    body["containers"] = [container(spec, names, kube_version), *extra]
    body["enableServiceLinks"] = False
    if spec.imagePullSecrets:
        body["imagePullSecrets"] = image_pull_secrets(spec)
    if init:
        body["initContainers"] = init
    if spec.placement.nodeSelector:
        body["nodeSelector"] = dict(sorted(spec.placement.nodeSelector.items()))
    priority = priority_class_name(spec)
    if priority is not None:
        body["priorityClassName"] = priority
    body["securityContext"] = pod_security(spec)
    body["serviceAccountName"] = names.service_account
    body["terminationGracePeriodSeconds"] = spec.terminationGracePeriodSeconds
    if spec.placement.tolerations:
        body["tolerations"] = tolerations(spec)
    if spec.placement.spread:
        body["topologySpreadConstraints"] = [spread(spec, item, names) for item in spec.placement.spread]
    body["volumes"] = volumes(spec, names)
    return body
