"""Pod parts production teams add: pull secrets, tolerations and node affinity, whole Secrets/ConfigMaps as
env, extra volumes, sidecars and init containers.

Role: pure (no I/O). Sidecars and init containers get the same restricted securityContext as the BEAM
container. From Kubernetes 1.29 (SidecarContainers on by default) sidecars are native: init containers with
`restartPolicy: Always`, started before the BEAM node and the other init containers and stopped after it, and
a Job's pod completes when its main container exits. Before 1.29 they are ordinary containers (and Jobs get
none: a sidecar that never exits would keep the Job running forever).
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import TMP_DIR
from beamkube.spec.extras import Container, EnvFrom, Toleration
from beamkube.spec.model import AppSpec, Resources

NATIVE_SIDECARS = (1, 29)


def native_sidecars(kube_version: tuple[int, int]) -> bool:
    return kube_version >= NATIVE_SIDECARS


def image_pull_secrets(spec: AppSpec) -> list[dict[str, str]]:
    return [{"name": name} for name in spec.imagePullSecrets]


def env_from_sources(items: list[EnvFrom]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.secret is not None:
            source: dict[str, Any] = {"secretRef": {"name": item.secret, "optional": item.optional}}
        else:
            source = {"configMapRef": {"name": item.configMap, "optional": item.optional}}
        if item.prefix is not None:
            source["prefix"] = item.prefix
        out.append(source)
    return out


def tolerations(spec: AppSpec) -> list[dict[str, Any]]:
    return [_toleration(t) for t in spec.placement.tolerations]


def _toleration(item: Toleration) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if item.effect is not None:
        body["effect"] = item.effect
    if item.key is not None:
        body["key"] = item.key
    body["operator"] = item.operator
    if item.tolerationSeconds is not None:
        body["tolerationSeconds"] = item.tolerationSeconds
    if item.value is not None:
        body["value"] = item.value
    return body


def node_affinity(spec: AppSpec) -> dict[str, Any] | None:
    rule = spec.placement.nodeAffinity
    if rule is None or (not rule.required and not rule.preferred):
        return None

    def expressions(items: Any) -> list[dict[str, Any]]:
        out = []
        for req in items:
            expr: dict[str, Any] = {"key": req.key, "operator": req.operator}
            if req.values:
                expr["values"] = list(req.values)
            out.append(expr)
        return out

    body: dict[str, Any] = {}
    if rule.preferred:
        body["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"preference": {"matchExpressions": expressions(term.matchExpressions)}, "weight": term.weight}
            for term in rule.preferred
        ]
    if rule.required:
        body["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [{"matchExpressions": expressions(term.matchExpressions)} for term in rule.required]
        }
    return body


def extra_volumes(spec: AppSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for volume in spec.volumes:
        body: dict[str, Any] = {"name": volume.name}
        if volume.secret is not None:
            body["secret"] = {"secretName": volume.secret}
        elif volume.configMap is not None:
            body["configMap"] = {"name": volume.configMap}
        elif volume.persistentVolumeClaim is not None:
            body["persistentVolumeClaim"] = {"claimName": volume.persistentVolumeClaim, "readOnly": volume.read_only}
        elif volume.csi is not None:
            csi: dict[str, Any] = {"driver": volume.csi.driver, "readOnly": volume.csi.readOnly}
            if volume.csi.volumeAttributes:
                csi["volumeAttributes"] = dict(sorted(volume.csi.volumeAttributes.items()))
            body["csi"] = csi
        elif volume.emptyDir is not None:
            empty: dict[str, Any] = {}
            if volume.emptyDir.medium:
                empty["medium"] = volume.emptyDir.medium
            if volume.emptyDir.sizeLimit is not None:
                empty["sizeLimit"] = volume.emptyDir.sizeLimit
            body["emptyDir"] = empty
        out.append(body)
    return out


def extra_mounts(spec: AppSpec) -> list[dict[str, Any]]:
    """Mounts of the extra volumes into the BEAM container (those with a mountPath)."""
    out: list[dict[str, Any]] = []
    for volume in spec.volumes:
        if volume.mountPath is None:
            continue
        mount: dict[str, Any] = {"mountPath": volume.mountPath, "name": volume.name, "readOnly": volume.read_only}
        if volume.subPath is not None:
            mount["subPath"] = volume.subPath
        out.append(mount)
    return out


def _resources(resources: Resources) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("limits", "requests"):
        amounts = getattr(resources, part)
        values = {k: v for k, v in (("cpu", amounts.cpu), ("memory", amounts.memory)) if v is not None}
        if values:
            out[part] = values
    return out


def _security(container: Container) -> dict[str, Any]:
    body: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    if container.runAsUser is not None:
        body["runAsUser"] = container.runAsUser
    body["seccompProfile"] = {"type": "RuntimeDefault"}
    return body


def _probes(container: Container) -> dict[str, Any]:
    from beamkube.spec.model import Probe

    out: dict[str, Any] = {}
    if container.probes is None:
        return out
    for key, probe in (
        ("livenessProbe", container.probes.liveness),
        ("readinessProbe", container.probes.readiness),
        ("startupProbe", container.probes.startup),
    ):
        if not isinstance(probe, Probe):
            continue
        if probe.http is not None:
            handler: dict[str, Any] = {"httpGet": {"path": probe.http.path, "port": probe.http.port, "scheme": "HTTP"}}
        elif probe.tcp is not None:
            handler = {"tcpSocket": {"port": probe.tcp.port}}
        else:
            handler = {"exec": {"command": list(probe.exec or [])}}
        out[key] = {
            **handler,
            "failureThreshold": probe.failureThreshold,
            "initialDelaySeconds": probe.initialDelaySeconds,
            "periodSeconds": probe.periodSeconds,
            "successThreshold": 1,
            "timeoutSeconds": probe.timeoutSeconds,
        }
    return out


def side_container(container: Container, *, restart_always: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"name": container.name, "image": container.image}
    body["imagePullPolicy"] = container.imagePullPolicy
    if container.command is not None:
        body["command"] = list(container.command)
    if container.args is not None:
        body["args"] = list(container.args)
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(container.env.items())]
    env += [
        {"name": item.name, "valueFrom": {"secretKeyRef": {"key": item.key, "name": item.secret}}}
        for item in container.secretEnv
    ]
    if env:
        body["env"] = env
    if container.envFrom:
        body["envFrom"] = env_from_sources(container.envFrom)
    if container.ports:
        body["ports"] = [
            {"containerPort": p.containerPort, "name": p.name, "protocol": p.protocol} for p in container.ports
        ]
    body.update(_probes(container))
    body["resources"] = _resources(container.resources)
    if restart_always:
        body["restartPolicy"] = "Always"
    body["securityContext"] = _security(container)
    body["terminationMessagePolicy"] = "FallbackToLogsOnError"
    mounts = []
    for mount in container.volumeMounts:
        item: dict[str, Any] = {"mountPath": mount.mountPath, "name": mount.name, "readOnly": mount.readOnly}
        if mount.subPath is not None:
            item["subPath"] = mount.subPath
        mounts.append(item)
    if not any(m["mountPath"] == TMP_DIR for m in mounts):
        # A read-only root filesystem leaves most images nowhere to write; share the pod's scratch space.
        mounts.append({"mountPath": TMP_DIR, "name": "tmp"})
    body["volumeMounts"] = mounts
    return body


def pod_side_containers(
    spec: AppSpec, kube_version: tuple[int, int], *, for_job: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(initContainers, extra containers) for a pod. Native sidecars come first among the init containers,
    so the user's init containers (a migration check through cloud-sql-proxy) can already use them."""
    native = native_sidecars(kube_version)
    init: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    if native:
        init += [side_container(c, restart_always=True) for c in spec.sidecars]
    elif not for_job:
        extra += [side_container(c) for c in spec.sidecars]
    init += [side_container(c) for c in spec.initContainers]
    return init, extra
