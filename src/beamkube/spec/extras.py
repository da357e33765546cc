"""Spec models for what production teams add around the BEAM container: pull secrets, node placement,
per-object metadata, whole Secrets/ConfigMaps as env, sidecars and init containers, extra volumes, the
ServiceAccount, process types and the `overrides` escape hatch.

Role: data only (no I/O). `beamkube.spec.model` imports these classes just before `AppSpec` (they build on
its `Strict` base and patterns), so they appear in the generated JSON Schema with their descriptions.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from beamkube.spec.model import (
    ENV_NAME_PATTERN,
    NAME_PATTERN,
    OWN_LABELS,
    Autoscaling,
    Disruption,
    FieldError,
    Memory,
    Port,
    Probes,
    ResourceAmounts,
    Resources,
    SecretEnv,
    Strict,
    check_labels,
)

# Volumes beamkube mounts itself (and the StatefulSet's claim template): an extra volume must not reuse them.
OWN_VOLUMES = frozenset({"beam-config", "tmp", "dist-tls", "data"})
# Containers beamkube renders itself (the BEAM node and Job pods).
OWN_CONTAINERS = frozenset({"beam", "job"})
PORT_NAME = r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$"
KIND_PATTERN = r"^[A-Z][A-Za-z0-9]*$"


def _no_own_labels(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if key in OWN_LABELS:
            raise FieldError((key,), "is set by beamkube on every object (selectors depend on it); remove it")
    return check_labels(value, "label")


class ObjectMeta(Strict):
    """Extra labels and annotations for one group of rendered objects."""

    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels (not app.kubernetes.io/*).")
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Extra annotations, e.g. `service.beta.kubernetes.io/aws-load-balancer-type: nlb`.",
    )

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return _no_own_labels(value)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, "annotation", values=False)


class ObjectMetaGroups(Strict):
    """Labels/annotations per object group (the top-level `labels` go on every object, `annotations` on pods)."""

    pods: ObjectMeta = Field(default_factory=ObjectMeta, description="Pods of every process (not Job pods).")
    webService: ObjectMeta = Field(default_factory=ObjectMeta, description="The web Service (load-balancer knobs).")
    headlessService: ObjectMeta = Field(default_factory=ObjectMeta, description="The headless discovery Service.")
    ingress: ObjectMeta = Field(default_factory=ObjectMeta, description="The Ingress (controller knobs).")


class ServiceAccountSpec(Strict):
    """The pods' ServiceAccount: the one beamkube creates (with annotations, e.g. an IRSA role or a GKE
    Workload Identity binding) or an existing one."""

    existing: str | None = Field(
        None, pattern=NAME_PATTERN, description="Use this existing ServiceAccount; beamkube then creates none."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Annotations, e.g. `eks.amazonaws.com/role-arn: arn:aws:iam::1:role/x`."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on the ServiceAccount.")

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return _no_own_labels(value)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, "annotation", values=False)

    @model_validator(mode="after")
    def _existing_is_not_ours(self) -> ServiceAccountSpec:
        if self.existing is not None and (self.annotations or self.labels):
            raise FieldError(
                ("annotations" if self.annotations else "labels",),
                "beamkube does not create or change an existing ServiceAccount; set these on it directly",
            )
        return self


class Toleration(Strict):
    """A pod toleration (for tainted node pools)."""

    key: str | None = Field(None, description="Taint key; omit with operator Exists to tolerate every taint.")
    operator: Literal["Equal", "Exists"] = Field("Equal", description="Equal (key and value) or Exists (key).")
    value: str | None = Field(None, description="Taint value (operator Equal).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(None, description="Default: all.")
    tolerationSeconds: int | None = Field(None, ge=0, description="NoExecute only: how long the pod stays.")

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value is not None:
            raise FieldError(("value",), "must be unset with operator Exists")
        if self.operator == "Equal" and self.key is None:
            raise FieldError(("key",), "is required with operator Equal (use operator Exists to match any key)")
        if self.tolerationSeconds is not None and self.effect != "NoExecute":
            raise FieldError(("tolerationSeconds",), "only applies to effect NoExecute")
        return self


class NodeRequirement(Strict):
    key: str = Field(..., description="Node label key, e.g. `cloud.google.com/gke-nodepool`.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] = Field("In", description="How to match.")
    values: list[str] = Field(
        default_factory=list, description="For In/NotIn (≥ 1), Gt/Lt (one integer); empty for (Does)Exist(s)."
    )

    @model_validator(mode="after")
    def _values(self) -> NodeRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise FieldError(("values",), f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise FieldError(("values",), f"must be empty with operator {self.operator}")
        if self.operator in ("Gt", "Lt") and (len(self.values) != 1 or not re.fullmatch(r"-?[0-9]+", self.values[0])):
            raise FieldError(("values",), f"operator {self.operator} needs exactly one integer value")
        return self


class NodeTerm(Strict):
    matchExpressions: list[NodeRequirement] = Field(..., min_length=1, description="All must hold (AND).")


class PreferredNodeTerm(Strict):
    weight: int = Field(50, ge=1, le=100, description="Preference weight, 1-100.")
    matchExpressions: list[NodeRequirement] = Field(..., min_length=1, description="All must hold (AND).")


class NodeAffinity(Strict):
    """Node affinity beside `nodeSelector`: `required` terms are ORed, each term's expressions ANDed."""

    required: list[NodeTerm] = Field(default_factory=list, description="Pods schedule only onto matching nodes.")
    preferred: list[PreferredNodeTerm] = Field(default_factory=list, description="Weighted preferences.")


class EnvFrom(Strict):
    """Every key of an existing Secret or ConfigMap as environment variables (e.g. one an ExternalSecret or
    Vault writes). Keys that are not valid variable names are skipped by the kubelet."""

    secret: str | None = Field(None, pattern=NAME_PATTERN, description="An existing Secret's name.")
    configMap: str | None = Field(None, pattern=NAME_PATTERN, description="An existing ConfigMap's name.")
    optional: bool = Field(False, description="Start the pod even when it does not exist (default: wait for it).")
    prefix: str | None = Field(None, pattern=ENV_NAME_PATTERN, description="Prepended to every key.")

    @model_validator(mode="after")
    def _one(self) -> EnvFrom:
        if (self.secret is None) == (self.configMap is None):
            raise ValueError("an envFrom entry needs exactly one of secret, configMap")
        return self


class VolumeMount(Strict):
    name: str = Field(..., pattern=NAME_PATTERN, description="A volume from `volumes` (or `tmp`).")
    mountPath: str = Field(..., pattern=r"^/", description="Path in the container.")
    readOnly: bool = Field(True, description="Mount read-only.")
    subPath: str | None = Field(None, pattern=r"^[^/\s][^\s]*$", description="A relative path inside the volume.")


class Csi(Strict):
    driver: str = Field(..., description="CSI driver, e.g. `secrets-store.csi.k8s.io`.")
    readOnly: bool = Field(True, description="Mount read-only (most CSI secret drivers require it).")
    volumeAttributes: dict[str, str] = Field(default_factory=dict, description="Driver-specific attributes.")


class EmptyDir(Strict):
    medium: Literal["", "Memory"] = Field("", description="`Memory` for a tmpfs (counts against the memory limit).")
    sizeLimit: Memory | None = Field(None, description="Cap on the volume's size; the pod is evicted above it.")


class Volume(Strict):
    """An extra volume: exactly one source; with `mountPath` it is mounted into the BEAM container (sidecars
    mount volumes by name through their own `volumeMounts`)."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=63, description="Volume name.")
    mountPath: str | None = Field(None, pattern=r"^/", description="Where the BEAM container sees it.")
    subPath: str | None = Field(None, pattern=r"^[^/\s][^\s]*$", description="Mount one path of the volume.")
    readOnly: bool | None = Field(None, description="Default: true, except for emptyDir and persistentVolumeClaim.")
    secret: str | None = Field(None, pattern=NAME_PATTERN, description="An existing Secret.")
    configMap: str | None = Field(None, pattern=NAME_PATTERN, description="An existing ConfigMap.")
    persistentVolumeClaim: str | None = Field(None, pattern=NAME_PATTERN, description="An existing claim.")
    csi: Csi | None = Field(None, description="A CSI volume (e.g. the Secrets Store CSI driver).")
    emptyDir: EmptyDir | None = Field(None, description="Scratch space that lives as long as the pod.")

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        sources = [self.secret, self.configMap, self.persistentVolumeClaim, self.csi, self.emptyDir]
        if sum(s is not None for s in sources) != 1:
            raise ValueError("a volume needs exactly one of secret, configMap, persistentVolumeClaim, csi, emptyDir")
        if self.name in OWN_VOLUMES:
            raise FieldError(
                ("name",), f"{self.name!r} is a volume beamkube mounts itself ({', '.join(sorted(OWN_VOLUMES))})"
            )
        return self

    @property
    def read_only(self) -> bool:
        if self.readOnly is not None:
            return self.readOnly
        return self.emptyDir is None and self.persistentVolumeClaim is None


class ContainerPort(Strict):
    name: str = Field(..., description="Port name (≤ 15 of a-z 0-9 -).")
    containerPort: Port = Field(..., description="Port number.")
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="TCP or UDP.")

    @field_validator("name")
    @classmethod
    def _port_name(cls, value: str) -> str:
        if not re.fullmatch(PORT_NAME, value) or not re.search("[a-z]", value):
            raise ValueError(f"{value!r} is not a port name (≤ 15 of a-z 0-9 '-', with a letter)")
        return value


def _small_resources() -> Resources:
    # requests = limits keeps a Guaranteed BEAM pod Guaranteed (QoS counts every container, init ones too).
    return Resources(
        requests=ResourceAmounts(cpu="100m", memory="128Mi"), limits=ResourceAmounts(cpu="100m", memory="128Mi")
    )


class Container(Strict):
    """A sidecar or init container. It gets the restricted securityContext (non-root, read-only root,
    no privilege escalation, all capabilities dropped, RuntimeDefault seccomp) like the BEAM container."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=63, description="Container name (not beam or job).")
    image: str = Field(..., pattern=r"^[^\s]+$", description="Image, ideally pinned to a tag or digest.")
    imagePullPolicy: Literal["IfNotPresent", "Always", "Never"] = Field("IfNotPresent", description="Pull policy.")
    command: list[str] | None = Field(None, min_length=1, description="Entrypoint; default: the image's.")
    args: list[str] | None = Field(None, description="Arguments; default: the image's.")
    env: dict[str, str] = Field(default_factory=dict, description="Plain variables.")
    secretEnv: list[SecretEnv] = Field(default_factory=list, description="Variables from existing Secrets.")
    envFrom: list[EnvFrom] = Field(default_factory=list, description="Whole Secrets/ConfigMaps as variables.")
    ports: list[ContainerPort] = Field(
        default_factory=list, description="Ports it listens on (not the node's web, epmd, dist or metrics port)."
    )
    resources: Resources = Field(
        default_factory=_small_resources,
        description="Default 100m / 128Mi with equal limits, so a Guaranteed BEAM pod stays Guaranteed.",
    )
    volumeMounts: list[VolumeMount] = Field(
        default_factory=list, description="Volumes from `volumes` (or `tmp`, mounted at /tmp by default)."
    )
    runAsUser: int | None = Field(None, ge=1, description="Non-root user when the image needs its own.")
    probes: Probes | None = Field(
        None,
        description="Sidecars only: readiness/liveness/startup probes on the sidecar's own ports (give `port` "
        "explicitly). Omitted probes are not rendered.",
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(ENV_NAME_PATTERN, key):
                raise FieldError((key,), f"{key!r} is not a variable name (letters, digits, '_'; no leading digit)")
        return value

    @model_validator(mode="after")
    def _not_ours(self) -> Container:
        if self.name in OWN_CONTAINERS:
            raise FieldError(("name",), f"{self.name!r} is the name of a container beamkube renders; choose another")
        for which in ("readiness", "liveness", "startup"):
            probe = getattr(self.probes, which, None)
            if probe is None or probe is False:
                continue
            if (probe.http is not None and probe.http.port is None) or (
                probe.tcp is not None and not isinstance(probe.tcp.port, int)
            ):
                raise FieldError(("probes", which), "needs an explicit port number (the sidecar's own port)")
        return self


class IngressHost(Strict):
    host: str = Field(..., pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description="Host name.")
    paths: list[str] = Field(default_factory=lambda: ["/"], min_length=1, description="Paths routed to the app.")

    @field_validator("paths")
    @classmethod
    def _absolute(cls, value: list[str]) -> list[str]:
        for index, path in enumerate(value):
            if not path.startswith("/"):
                raise FieldError((index,), f"{path!r} is not a path starting with /")
        return value


class CertManager(Strict):
    """A cert-manager issuer for the Ingress TLS certificate (ingress-shim annotation)."""

    clusterIssuer: str | None = Field(None, description="ClusterIssuer name, e.g. `letsencrypt-prod`.")
    issuer: str | None = Field(None, description="Issuer name in the app's namespace.")

    @model_validator(mode="after")
    def _one(self) -> CertManager:
        if (self.clusterIssuer is None) == (self.issuer is None):
            raise ValueError("certManager needs exactly one of clusterIssuer, issuer")
        return self


class Process(Strict):
    """One process type (Heroku's `web`, `worker`): its own workload in the app's one BEAM cluster. Unset
    fields inherit the top-level value; `false` turns an inherited autoscaler or budget off."""

    web: bool | None = Field(None, description="Serves the web Service/Ingress. Default: the process named `web`.")
    replicas: int | None = Field(None, ge=0, le=1000, description="Default: the top-level replicas.")
    command: list[str] | None = Field(None, min_length=1, description="Default: release.command.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra plain variables for this process.")
    resources: Resources | None = Field(None, description="Default: the top-level resources.")
    autoscaling: Autoscaling | Literal[False] | None = Field(
        None, description="This process's HPA; default: the top-level one; false: none."
    )
    disruption: Disruption | Literal[False] | None = Field(
        None, description="This process's PodDisruptionBudget; default: the top-level rule; false: none."
    )
    probes: Probes | None = Field(None, description="Default: the top-level probes (`{}`: beamkube's defaults).")

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        from beamkube.spec.model import check_env_names  # model imports this module at its end

        return check_env_names(value)


class Override(Strict):
    """A patch over one rendered object, applied after rendering and checked again: `patch` is a
    strategic-merge patch (lists merged by Kubernetes' own merge keys: containers and env by `name`, ports by
    `containerPort` …), `jsonPatch` an RFC 6902 patch for the rest."""

    kind: str = Field(..., description="Kind of the rendered object, e.g. `Deployment`, `Service`.")
    name: str | None = Field(None, description="Object name; required when several objects have this kind.")
    patch: dict[str, Any] | None = Field(None, description="Strategic-merge patch.")
    jsonPatch: list[dict[str, Any]] | None = Field(None, min_length=1, description="RFC 6902 operations.")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not re.fullmatch(KIND_PATTERN, value):
            raise ValueError(f"{value!r} is not a Kubernetes kind (CamelCase, e.g. Deployment)")
        return value

    @model_validator(mode="after")
    def _one(self) -> Override:
        if (self.patch is None) == (self.jsonPatch is None):
            raise ValueError("an override needs exactly one of patch, jsonPatch")
        return self


__all__ = [
    "CertManager",
    "Container",
    "ContainerPort",
    "Csi",
    "EmptyDir",
    "EnvFrom",
    "IngressHost",
    "NodeAffinity",
    "NodeRequirement",
    "NodeTerm",
    "ObjectMeta",
    "ObjectMetaGroups",
    "Override",
    "PreferredNodeTerm",
    "Process",
    "ServiceAccountSpec",
    "Toleration",
    "Volume",
    "VolumeMount",
]
