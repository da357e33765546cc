"""Spec models for what production teams add around the BEAM container: pull secrets, node placement,
per-object metadata, whole Secrets/ConfigMaps as env, sidecars and init containers, extra volumes, the
ServiceAccount, process types and the `overrides` escape hatch.

Role: data only (no I/O). `beamkube.spec.model` imports these classes just before the models that use them
(they build on its `Strict` base and patterns), so they appear in the generated JSON Schema with their
descriptions. msgspec models, as in model.py (no `from __future__ import annotations`, for the same reason).
"""

import re
from typing import Annotated, Any, Literal

from msgspec import Meta, field

from beamkube.spec.base import (
    ABSOLUTE_PATH,
    ENV_NAME_PATTERN,
    HOST_PATTERN,
    NAME_PATTERN,
    NO_SPACES,
    SUB_PATH_PATTERN,
    FieldError,
    Memory,
    Name,
    Port,
    Strict,
    check_env_names,
    check_labels,
    check_own_labels,
    text,
)
from beamkube.spec.model import Autoscaling, Disruption, Probes, ResourceAmounts, Resources, SecretEnv

# Volumes beamkube mounts itself (and the StatefulSet's claim template): an extra volume must not reuse them.
OWN_VOLUMES = frozenset({"beam-config", "tmp", "dist-tls", "data"})
# Containers beamkube renders itself (the BEAM node and Job pods).
OWN_CONTAINERS = frozenset({"beam", "job"})
PORT_NAME = r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$"
KIND_PATTERN = r"^[A-Z][A-Za-z0-9]*$"


class ObjectMeta(Strict):
    """Extra labels and annotations for one group of rendered objects."""

    labels: Annotated[dict[str, str], Meta(description="Extra labels (not app.kubernetes.io/*).")] = field(
        default_factory=dict
    )
    annotations: Annotated[
        dict[str, str],
        Meta(description="Extra annotations, e.g. `service.beta.kubernetes.io/aws-load-balancer-type: nlb`."),
    ] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_own_labels(self.labels, ("labels",))
        check_labels(self.annotations, "annotation", ("annotations",), values=False)


class ObjectMetaGroups(Strict):
    """Labels/annotations per object group (the top-level `labels` go on every object, `annotations` on pods)."""

    pods: Annotated[ObjectMeta, Meta(description="Pods of every process (not Job pods).")] = field(
        default_factory=ObjectMeta
    )
    webService: Annotated[ObjectMeta, Meta(description="The web Service (load-balancer knobs).")] = field(
        default_factory=ObjectMeta
    )
    headlessService: Annotated[ObjectMeta, Meta(description="The headless discovery Service.")] = field(
        default_factory=ObjectMeta
    )
    ingress: Annotated[ObjectMeta, Meta(description="The Ingress (controller knobs).")] = field(
        default_factory=ObjectMeta
    )


class ServiceAccountSpec(Strict):
    """The pods' ServiceAccount: the one beamkube creates (with annotations, e.g. an IRSA role or a GKE
    Workload Identity binding) or an existing one."""

    existing: Annotated[
        Name | None, Meta(description="Use this existing ServiceAccount; beamkube then creates none.")
    ] = None
    annotations: Annotated[
        dict[str, str], Meta(description="Annotations, e.g. `eks.amazonaws.com/role-arn: arn:aws:iam::1:role/x`.")
    ] = field(default_factory=dict)
    labels: Annotated[dict[str, str], Meta(description="Extra labels on the ServiceAccount.")] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        check_labels(self.annotations, "annotation", ("annotations",), values=False)
        check_own_labels(self.labels, ("labels",))
        if self.existing is not None and (self.annotations or self.labels):
            raise FieldError(
                ("annotations" if self.annotations else "labels",),
                "beamkube does not create or change an existing ServiceAccount; set these on it directly",
            )


class Toleration(Strict):
    """A pod toleration (for tainted node pools)."""

    key: Annotated[str | None, Meta(description="Taint key; omit with operator Exists to tolerate every taint.")] = None
    operator: Annotated[Literal["Equal", "Exists"], Meta(description="Equal (key and value) or Exists (key).")] = (
        "Equal"
    )
    value: Annotated[str | None, Meta(description="Taint value (operator Equal).")] = None
    effect: Annotated[
        Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None, Meta(description="Default: all.")
    ] = None
    tolerationSeconds: Annotated[
        Annotated[int, Meta(ge=0)] | None, Meta(description="NoExecute only: how long the pod stays.")
    ] = None

    def __post_init__(self) -> None:
        if self.operator == "Exists" and self.value is not None:
            raise FieldError(("value",), "must be unset with operator Exists")
        if self.operator == "Equal" and self.key is None:
            raise FieldError(("key",), "is required with operator Equal (use operator Exists to match any key)")
        if self.tolerationSeconds is not None and self.effect != "NoExecute":
            raise FieldError(("tolerationSeconds",), "only applies to effect NoExecute")


class NodeRequirement(Strict):
    key: Annotated[str, Meta(description="Node label key, e.g. `cloud.google.com/gke-nodepool`.")]
    operator: Annotated[
        Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"], Meta(description="How to match.")
    ] = "In"
    values: Annotated[
        list[str], Meta(description="For In/NotIn (≥ 1), Gt/Lt (one integer); empty for (Does)Exist(s).")
    ] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.operator in ("In", "NotIn") and not self.values:
            raise FieldError(("values",), f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise FieldError(("values",), f"must be empty with operator {self.operator}")
        if self.operator in ("Gt", "Lt") and (len(self.values) != 1 or not re.fullmatch(r"-?[0-9]+", self.values[0])):
            raise FieldError(("values",), f"operator {self.operator} needs exactly one integer value")


Expressions = Annotated[list[NodeRequirement], Meta(min_length=1, description="All must hold (AND).")]


class NodeTerm(Strict):
    matchExpressions: Expressions


class PreferredNodeTerm(Strict, kw_only=True):
    weight: Annotated[int, Meta(ge=1, le=100, description="Preference weight, 1-100.")] = 50
    matchExpressions: Expressions


class NodeAffinity(Strict):
    """Node affinity beside `nodeSelector`: `required` terms are ORed, each term's expressions ANDed."""

    required: Annotated[list[NodeTerm], Meta(description="Pods schedule only onto matching nodes.")] = field(
        default_factory=list
    )
    preferred: Annotated[list[PreferredNodeTerm], Meta(description="Weighted preferences.")] = field(
        default_factory=list
    )


class EnvFrom(Strict):
    """Every key of an existing Secret or ConfigMap as environment variables (e.g. one an ExternalSecret or
    Vault writes). Keys that are not valid variable names are skipped by the kubelet."""

    secret: Annotated[Name | None, Meta(description="An existing Secret's name.")] = None
    configMap: Annotated[Name | None, Meta(description="An existing ConfigMap's name.")] = None
    optional: Annotated[bool, Meta(description="Start the pod even when it does not exist (default: wait for it).")] = (
        False
    )
    prefix: Annotated[Annotated[str, text(ENV_NAME_PATTERN)] | None, Meta(description="Prepended to every key.")] = None

    def __post_init__(self) -> None:
        if (self.secret is None) == (self.configMap is None):
            raise ValueError("an envFrom entry needs exactly one of secret, configMap")


SubPath = Annotated[str, text(SUB_PATH_PATTERN)]


class VolumeMount(Strict):
    name: Annotated[str, text(NAME_PATTERN, "A volume from `volumes` (or `tmp`).")]
    mountPath: Annotated[str, text(ABSOLUTE_PATH, "Path in the container.")]
    readOnly: Annotated[bool, Meta(description="Mount read-only.")] = True
    subPath: Annotated[SubPath | None, Meta(description="A relative path inside the volume.")] = None


class Csi(Strict):
    driver: Annotated[str, Meta(description="CSI driver, e.g. `secrets-store.csi.k8s.io`.")]
    readOnly: Annotated[bool, Meta(description="Mount read-only (most CSI secret drivers require it).")] = True
    volumeAttributes: Annotated[dict[str, str], Meta(description="Driver-specific attributes.")] = field(
        default_factory=dict
    )


class EmptyDir(Strict):
    medium: Annotated[
        Literal["", "Memory"], Meta(description="`Memory` for a tmpfs (counts against the memory limit).")
    ] = ""
    sizeLimit: Annotated[Memory | None, Meta(description="Cap on the volume's size; the pod is evicted above it.")] = (
        None
    )


class Volume(Strict):
    """An extra volume: exactly one source; with `mountPath` it is mounted into the BEAM container (sidecars
    mount volumes by name through their own `volumeMounts`)."""

    name: Annotated[str, text(NAME_PATTERN, "Volume name.", max_length=63)]
    mountPath: Annotated[
        Annotated[str, text(ABSOLUTE_PATH)] | None, Meta(description="Where the BEAM container sees it.")
    ] = None
    subPath: Annotated[SubPath | None, Meta(description="Mount one path of the volume.")] = None
    readOnly: Annotated[
        bool | None, Meta(description="Default: true, except for emptyDir and persistentVolumeClaim.")
    ] = None
    secret: Annotated[Name | None, Meta(description="An existing Secret.")] = None
    configMap: Annotated[Name | None, Meta(description="An existing ConfigMap.")] = None
    persistentVolumeClaim: Annotated[Name | None, Meta(description="An existing claim.")] = None
    csi: Annotated[Csi | None, Meta(description="A CSI volume (e.g. the Secrets Store CSI driver).")] = None
    emptyDir: Annotated[EmptyDir | None, Meta(description="Scratch space that lives as long as the pod.")] = None

    def __post_init__(self) -> None:
        sources = [self.secret, self.configMap, self.persistentVolumeClaim, self.csi, self.emptyDir]
        if sum(s is not None for s in sources) != 1:
            raise ValueError("a volume needs exactly one of secret, configMap, persistentVolumeClaim, csi, emptyDir")
        if self.name in OWN_VOLUMES:
            raise FieldError(
                ("name",), f"{self.name!r} is a volume beamkube mounts itself ({', '.join(sorted(OWN_VOLUMES))})"
            )

    @property
    def read_only(self) -> bool:
        if self.readOnly is not None:
            return self.readOnly
        return self.emptyDir is None and self.persistentVolumeClaim is None


class ContainerPort(Strict):
    name: Annotated[str, Meta(description="Port name (≤ 15 of a-z 0-9 -).")]
    containerPort: Annotated[Port, Meta(description="Port number.")]
    protocol: Annotated[Literal["TCP", "UDP"], Meta(description="TCP or UDP.")] = "TCP"

    def __post_init__(self) -> None:
        if not re.fullmatch(PORT_NAME, self.name) or not re.search("[a-z]", self.name):
            raise FieldError(("name",), f"{self.name!r} is not a port name (≤ 15 of a-z 0-9 '-', with a letter)")


def _small_resources() -> Resources:
    # requests = limits keeps a Guaranteed BEAM pod Guaranteed (QoS counts every container, init ones too).
    return Resources(
        requests=ResourceAmounts(cpu="100m", memory="128Mi"), limits=ResourceAmounts(cpu="100m", memory="128Mi")
    )


class Container(Strict):
    """A sidecar or init container. It gets the restricted securityContext (non-root, read-only root,
    no privilege escalation, all capabilities dropped, RuntimeDefault seccomp) like the BEAM container."""

    name: Annotated[str, text(NAME_PATTERN, "Container name (not beam or job).", max_length=63)]
    image: Annotated[str, text(NO_SPACES, "Image, ideally pinned to a tag or digest.")]
    imagePullPolicy: Annotated[Literal["IfNotPresent", "Always", "Never"], Meta(description="Pull policy.")] = (
        "IfNotPresent"
    )
    command: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None, Meta(description="Entrypoint; default: the image's.")
    ] = None
    args: Annotated[list[str] | None, Meta(description="Arguments; default: the image's.")] = None
    env: Annotated[dict[str, str], Meta(description="Plain variables.")] = field(default_factory=dict)
    secretEnv: Annotated[list[SecretEnv], Meta(description="Variables from existing Secrets.")] = field(
        default_factory=list
    )
    envFrom: Annotated[list[EnvFrom], Meta(description="Whole Secrets/ConfigMaps as variables.")] = field(
        default_factory=list
    )
    ports: Annotated[
        list[ContainerPort],
        Meta(description="Ports it listens on (not the node's web, epmd, dist or metrics port)."),
    ] = field(default_factory=list)
    resources: Annotated[
        Resources,
        Meta(description="Default 100m / 128Mi with equal limits, so a Guaranteed BEAM pod stays Guaranteed."),
    ] = field(default_factory=_small_resources)
    volumeMounts: Annotated[
        list[VolumeMount], Meta(description="Volumes from `volumes` (or `tmp`, mounted at /tmp by default).")
    ] = field(default_factory=list)
    runAsUser: Annotated[
        Annotated[int, Meta(ge=1)] | None, Meta(description="Non-root user when the image needs its own.")
    ] = None
    probes: Annotated[
        Probes | None,
        Meta(
            description="Sidecars only: readiness/liveness/startup probes on the sidecar's own ports (give `port` "
            "explicitly). Omitted probes are not rendered."
        ),
    ] = None

    def __post_init__(self) -> None:
        check_env_names(self.env, ("env",), reserved=False)
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


def _root_path() -> list[str]:
    return ["/"]


class IngressHost(Strict):
    host: Annotated[str, text(HOST_PATTERN, "Host name.")]
    paths: Annotated[list[str], Meta(min_length=1, description="Paths routed to the app.")] = field(
        default_factory=_root_path
    )

    def __post_init__(self) -> None:
        for index, path in enumerate(self.paths):
            if not path.startswith("/"):
                raise FieldError(("paths", index), f"{path!r} is not a path starting with /")


class CertManager(Strict):
    """A cert-manager issuer for the Ingress TLS certificate (ingress-shim annotation)."""

    clusterIssuer: Annotated[str | None, Meta(description="ClusterIssuer name, e.g. `letsencrypt-prod`.")] = None
    issuer: Annotated[str | None, Meta(description="Issuer name in the app's namespace.")] = None

    def __post_init__(self) -> None:
        if (self.clusterIssuer is None) == (self.issuer is None):
            raise ValueError("certManager needs exactly one of clusterIssuer, issuer")


class Process(Strict):
    """One process type (Heroku's `web`, `worker`): its own workload in the app's one BEAM cluster. Unset
    fields inherit the top-level value; `false` turns an inherited autoscaler or budget off."""

    web: Annotated[
        bool | None, Meta(description="Serves the web Service/Ingress. Default: the process named `web`.")
    ] = None
    replicas: Annotated[
        Annotated[int, Meta(ge=0, le=1000)] | None, Meta(description="Default: the top-level replicas.")
    ] = None
    command: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None, Meta(description="Default: release.command.")
    ] = None
    env: Annotated[dict[str, str], Meta(description="Extra plain variables for this process.")] = field(
        default_factory=dict
    )
    resources: Annotated[Resources | None, Meta(description="Default: the top-level resources.")] = None
    autoscaling: Annotated[
        Autoscaling | Literal[False] | None,
        Meta(description="This process's HPA; default: the top-level one; false: none."),
    ] = None
    disruption: Annotated[
        Disruption | Literal[False] | None,
        Meta(description="This process's PodDisruptionBudget; default: the top-level rule; false: none."),
    ] = None
    probes: Annotated[Probes | None, Meta(description="Default: the top-level probes (`{}`: beamkube's defaults).")] = (
        None
    )

    def __post_init__(self) -> None:
        check_env_names(self.env, ("env",))


class Override(Strict):
    """A patch over one rendered object, applied after rendering and checked again: `patch` is a
    strategic-merge patch (lists merged by Kubernetes' own merge keys: containers and env by `name`, ports by
    `containerPort` …), `jsonPatch` an RFC 6902 patch for the rest."""

    kind: Annotated[str, Meta(description="Kind of the rendered object, e.g. `Deployment`, `Service`.")]
    name: Annotated[str | None, Meta(description="Object name; required when several objects have this kind.")] = None
    patch: Annotated[dict[str, Any] | None, Meta(description="Strategic-merge patch.")] = None
    jsonPatch: Annotated[
        Annotated[list[dict[str, Any]], Meta(min_length=1)] | None, Meta(description="RFC 6902 operations.")
    ] = None

    def __post_init__(self) -> None:
        if not re.fullmatch(KIND_PATTERN, self.kind):
            raise FieldError(("kind",), f"{self.kind!r} is not a Kubernetes kind (CamelCase, e.g. Deployment)")
        if (self.patch is None) == (self.jsonPatch is None):
            raise ValueError("an override needs exactly one of patch, jsonPatch")


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
