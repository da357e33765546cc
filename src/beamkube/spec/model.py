"""The `beamkube.yaml` application spec: typed models with the talks' defaults.

Role: data only (no I/O). Every field is documented, because `beamkube schema` and the CRD are generated
from these models and editors show the descriptions. Cross-field rules live in `validators` at the end of
`AppSpec`, each raising a message that names what is allowed.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

API_VERSION = "beamkube.io/v1alpha1"

# DNS-1035 label, short enough that "<name>-headless" and StatefulSet pod names stay within 63 characters.
NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
RELEASE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"
CPU_PATTERN = r"^([0-9]+(\.[0-9]+)?|[0-9]+m)$"
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?(k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
PERCENT_OR_INT = r"^([0-9]+%?)$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$"
# Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"  # noqa: E501
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
# Environment variables the renderer sets itself: a user value would be a duplicate entry (server-side apply
# rejects it) or silently lose to beamkube's.
RESERVED_ENV = frozenset(
    {
        "POD_NAME", "POD_NAMESPACE", "POD_IP", "HOME", "DNS_CLUSTER_QUERY", "VMARGS_PATH", "REPLACE_OS_VARS",
        "RELEASE_NODE", "RELEASE_COOKIE", "RELEASE_DISTRIBUTION", "RELEASE_TMP", "RELEASE_VM_ARGS",
        "RELEASE_CONFIG_DIR", "RELEASE_MUTABLE_DIR", "RELX_OUT_FILE_PATH",
        "ERL_CRASH_DUMP", "ERL_CRASH_DUMP_SECONDS", "ERL_MAX_PORTS",
    }
)  # fmt: skip
RESERVED_ENV_PREFIX = "BEAMKUBE_"
# Labels the renderer sets itself; a user value would be overwritten (version: from the image tag, if any).
OWN_LABELS = frozenset(f"app.kubernetes.io/{k}" for k in ("name", "instance", "managed-by", "part-of", "component"))
# Kubernetes appends 11 characters to a CronJob's name for its Jobs, so a CronJob name has at most 52.
CRONJOB_NAME_MAX = 52
JOB_DIGEST_LEN = 8
INT32_MAX = 2**31 - 1  # Kubernetes int32 fields (and user/group IDs: IsValidUserID, IsValidGroupID)
INT64_MAX = 2**63 - 1


def _not_reserved(name: str, loc: tuple[str | int, ...]) -> None:
    if name in RESERVED_ENV or name.startswith(RESERVED_ENV_PREFIX):
        reserved = ", ".join(sorted(RESERVED_ENV))
        raise FieldError(loc, f"{name!r} is set by beamkube; choose another name (reserved: BEAMKUBE_*, {reserved})")


def check_env_names(value: dict[str, str]) -> dict[str, str]:
    """Plain env of the app or of a process: variable names only, none that beamkube owns."""
    for key in value:
        if not re.fullmatch(ENV_NAME_PATTERN, key):
            raise FieldError((key,), f"{key!r} is not a variable name (letters, digits, '_'; no leading digit)")
        _not_reserved(key, (key,))
    return value


class FieldError(ValueError):
    """A cross-field rule's failure that names the field to blame (relative to the model that raises it), so
    the loader can report its path and line instead of the model's."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def check_labels(value: dict[str, str], what: str, *, values: bool = True) -> dict[str, str]:
    """Kubernetes label (or annotation key) syntax, with the rule in the message."""
    for key, item in value.items():
        if not re.fullmatch(LABEL_KEY_PATTERN, key) or len(key) > 317:
            raise FieldError((key,), f"{key!r} is not a Kubernetes {what} key ([prefix/]name, name ≤ 63 chars)")
        if values and not re.fullmatch(LABEL_VALUE_PATTERN, item):
            raise FieldError(
                (key,),
                f"{item!r} is not a Kubernetes label value (≤ 63 of A-Z a-z 0-9 - _ . , alphanumeric at both ends)",
            )
    return value


Cpu = Annotated[str, Field(pattern=CPU_PATTERN, description="CPU quantity, e.g. `500m` or `2`.")]
Memory = Annotated[str, Field(pattern=MEMORY_PATTERN, description="Memory quantity, e.g. `512Mi`.")]
Port = Annotated[int, Field(ge=1, le=65535)]


class Strict(BaseModel):
    """Base for every spec model: unknown fields are errors (typos must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Flavour(str, Enum):
    """How the release was built, which decides how node name, cookie and vm.args reach the VM."""

    MIX = "mix"
    RELX = "relx"
    DISTILLERY = "distillery"


class Identity(str, Enum):
    """`stateless`: a Deployment, node names from the pod IP. `stable`: a StatefulSet, node names from
    the pod's DNS name (the second talk's fix for the RabbitMQ story)."""

    STATELESS = "stateless"
    STABLE = "stable"


class Discovery(str, Enum):
    """How nodes find each other."""

    DNS = "dns"
    DNSSRV = "dnssrv"
    KUBERNETES = "kubernetes"
    STATIC = "static"
    NONE = "none"


class Release(Strict):
    """The BEAM release inside the image."""

    flavour: Flavour = Field(Flavour.MIX, description="`mix` (mix release), `relx` (rebar3) or `distillery`.")
    name: str | None = Field(
        None,
        pattern=RELEASE_NAME_PATTERN,
        description="Release name (the `bin/<name>` script and the node name's first part). "
        "Defaults to the app name with `-` replaced by `_`.",
    )
    root: str = Field("/app", pattern=r"^/[^\s]*$", description="Where the release is unpacked in the image.")
    command: list[str] | None = Field(
        None,
        min_length=1,
        description="Container command. Defaults to `bin/<name> start` (mix) or `bin/<name> foreground`.",
    )
    vmArgs: list[str] = Field(
        default_factory=list,
        description="Extra vm.args lines appended to the generated vm.args (e.g. `+K true`).",
    )


class Tls(Strict):
    """TLS Erlang distribution (`-proto_dist inet_tls`)."""

    secretName: str = Field(..., pattern=NAME_PATTERN, description="Secret with `tls.crt`, `tls.key`, `ca.crt`.")
    verify: bool = Field(True, description="Verify the peer certificate against `ca.crt`.")


class Cluster(Strict):
    """BEAM distribution: how nodes are named, find each other and are protected."""

    discovery: Discovery | None = Field(
        None,
        description="`dns` (A/AAAA of the headless Service), `dnssrv` (SRV of a StatefulSet's headless Service), "
        "`kubernetes` (API, for libcluster), `static` (kernel sync_nodes_optional from StatefulSet ordinals), "
        "`none`. Default: `dns` for stateless, `dnssrv` for stable.",
    )
    distPort: Port = Field(9000, description="The pinned distribution port (inet_dist_listen_min = max).")
    epmdPort: Port = Field(4369, description="The epmd port declared on the headless Service.")
    cookieSecret: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Name of the Secret holding the Erlang cookie (key `cookie`). Default `<name>-erlang-cookie`, "
        "created once with random bytes by `beamkube deploy` or the operator; never rendered as a value.",
    )
    cookieKey: str = Field("cookie", pattern=r"^[-._a-zA-Z0-9]+$", description="Key inside the cookie Secret.")
    pollIntervalMs: int = Field(5000, ge=500, le=600_000, description="Discovery polling interval.")
    syncNodesTimeoutMs: int = Field(
        3000,
        ge=0,
        le=60_000,
        description="For `static`: how long a booting node waits for its listed peers (kernel sync_nodes_timeout) "
        "before its applications start. Every boot waits this long while fewer than maxReplicas pods run, so keep "
        "it short; the discovery loop connects late peers anyway.",
    )
    netTicktime: int = Field(
        10,
        ge=2,
        le=600,
        description="kernel net_ticktime in seconds. OTP's 60 s keeps a vanished pod's connection for about a "
        "minute, blocking its replacement from rejoining; 10 s heals in seconds.",
    )
    ipFamily: Literal["ipv4", "ipv6"] = Field("ipv4", description="`ipv6` uses `-proto_dist inet6_tcp` and AAAA.")
    tls: Tls | None = Field(None, description="TLS distribution; certificates from a Secret.")
    maxReplicas: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="For `static`: how many ordinals to list. Default: the autoscaler maximum or `replicas`.",
    )


class HttpProbe(Strict):
    path: str = Field(..., pattern=r"^/", description="HTTP path.")
    port: Port | None = Field(None, description="Default: the web port.")


class TcpProbe(Strict):
    port: Port | Literal["web", "dist"] = Field("web", description="A port number, `web` or `dist`.")


class Probe(Strict):
    """One probe: exactly one of `http`, `tcp`, `exec`."""

    http: HttpProbe | None = None
    tcp: TcpProbe | None = None
    exec: list[str] | None = Field(None, min_length=1, description="Command run in the container.")
    periodSeconds: int = Field(10, ge=1, le=3600)
    timeoutSeconds: int = Field(2, ge=1, le=600)
    failureThreshold: int = Field(3, ge=1, le=1000)
    initialDelaySeconds: int = Field(0, ge=0, le=3600)

    @model_validator(mode="after")
    def _exactly_one_handler(self) -> Probe:
        count = sum(h is not None for h in (self.http, self.tcp, self.exec))
        if count != 1:
            raise ValueError("a probe needs exactly one of http, tcp, exec")
        return self


class Probes(Strict):
    """Readiness, liveness and startup probes. Omitted ones get cheap defaults (TCP on the web port, or on
    the distribution port when there is no web port); set one to `false` to leave it out."""

    readiness: Probe | Literal[False] | None = None
    liveness: Probe | Literal[False] | None = None
    startup: Probe | Literal[False] | None = None


class ResourceAmounts(Strict):
    cpu: Cpu | None = None
    memory: Memory | None = None


class Resources(Strict):
    """Container requests and limits; they decide the QoS class (first talk)."""

    requests: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(cpu="1", memory="512Mi"),
        description="Default 1 CPU / 512Mi (with equal limits: Guaranteed QoS with CPU affinity).",
    )
    limits: ResourceAmounts = Field(default_factory=lambda: ResourceAmounts(cpu="1", memory="512Mi"))

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        _within_limits(self.requests, self.limits, ("requests",), "limits")
        return self


def _within_limits(requests: ResourceAmounts, limits: ResourceAmounts, where: tuple[str, ...], limit_name: str) -> None:
    """The API server rejects a request above its limit; say so before apply does."""
    from beamkube.quantity import parse_quantity

    for resource in ("cpu", "memory"):
        request, limit = getattr(requests, resource), getattr(limits, resource)
        if request is not None and limit is not None and parse_quantity(request) > parse_quantity(limit):
            raise FieldError(
                (*where, resource),
                f"{request} is above {limit_name}.{resource} ({limit}); a request must not exceed its limit",
            )


class LimitRangeSpec(Strict):
    """An optional LimitRange for the namespace (defaults for containers that set nothing)."""

    defaultRequest: ResourceAmounts = Field(default_factory=lambda: ResourceAmounts(cpu="250m", memory="256Mi"))
    default: ResourceAmounts = Field(default_factory=lambda: ResourceAmounts(cpu="500m", memory="256Mi"))

    @model_validator(mode="after")
    def _requests_within_limits(self) -> LimitRangeSpec:
        _within_limits(self.defaultRequest, self.default, ("defaultRequest",), "default")
        return self


class Rollout(Strict):
    """Rollout strategy (first talk: RollingUpdate with maxUnavailable 0 / maxSurge 50%, or Recreate)."""

    strategy: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    maxUnavailable: int | str = Field(0, description="Deployment only; an integer or a percentage.")
    maxSurge: int | str = Field("50%", description="Deployment only; an integer or a percentage.")
    partition: int = Field(
        0, ge=0, le=INT32_MAX, description="StatefulSet only: pods with a lower ordinal are not updated."
    )
    podManagementPolicy: Literal["Parallel", "OrderedReady"] = Field(
        "Parallel",
        description="StatefulSet only. Parallel starts all pods at once; with publishNotReadyAddresses they "
        "still find each other (RabbitMQ's operator does the same).",
    )
    progressDeadlineSeconds: int = Field(600, ge=10, le=86400)
    revisionHistoryLimit: int = Field(10, ge=0, le=100)
    mixedVersions: Literal["allow", "isolate"] = Field(
        "allow",
        description="During a rolling update: `allow` lets old and new pods join one cluster; `isolate` puts "
        "the image version in the node basename (`<release>-<version>@host`), so discovery only connects pods "
        "of the same version (Fly.io's approach). `:global`/pg/Horde/Mnesia state then does not span versions.",
    )

    @field_validator("maxUnavailable", "maxSurge")
    @classmethod
    def _int_or_percent(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if not 0 <= value <= INT32_MAX:
                raise ValueError(f"must be an integer from 0 to {INT32_MAX} or a percentage from 0% to 100%")
            return value
        if not re.fullmatch(r"(100|[1-9]?[0-9])%", value):
            raise ValueError(f"must be an integer from 0 to {INT32_MAX} or a percentage from 0% to 100%")
        return value


Topology = Literal["hostname", "zone", "region"]


class AntiAffinity(Strict):
    """Keep the app's pods apart (first talk's podAntiAffinity)."""

    mode: Literal["preferred", "required", "off"] = "preferred"
    topology: Topology = "hostname"
    weight: int = Field(100, ge=1, le=100, description="For `preferred`.")


class Spread(Strict):
    """A topologySpreadConstraint over zones (or hosts)."""

    topology: Topology = "zone"
    maxSkew: int = Field(1, ge=1, le=INT32_MAX)
    whenUnsatisfiable: Literal["ScheduleAnyway", "DoNotSchedule"] = "ScheduleAnyway"


class Placement(Strict):
    antiAffinity: AntiAffinity = Field(default_factory=AntiAffinity)
    spread: list[Spread] = Field(default_factory=lambda: [Spread()])
    nodeSelector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(
        default_factory=list, description="Tolerations for tainted node pools (e.g. a dedicated `beam` pool)."
    )
    nodeAffinity: NodeAffinity | None = Field(None, description="Node affinity beside nodeSelector.")

    @field_validator("nodeSelector")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, "node label")


class Ingress(Strict):
    host: str = Field(..., pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description="Public host name.")
    path: str = Field("/", pattern=r"^/")
    className: str | None = Field(None, description="IngressClass name.")
    tlsSecret: str | None = Field(None, pattern=NAME_PATTERN, description="Secret with the TLS certificate.")
    pathType: Literal["Prefix", "Exact", "ImplementationSpecific"] = Field("Prefix", description="For every path.")
    extraHosts: list[IngressHost] = Field(
        default_factory=list, description="More hosts (each with its paths) routed to the web Service."
    )
    certManager: CertManager | None = Field(
        None,
        description="Let cert-manager issue the certificate (ingress-shim annotation) into `tlsSecret` "
        "(default `<name>-tls`), for every host.",
    )


class Web(Strict):
    """The HTTP port and how it is exposed."""

    port: Port = Field(4000, description="Container port the app listens on (Phoenix: 4000).")
    servicePort: Port = Field(80, description="Port of the web Service.")
    serviceType: Literal["ClusterIP", "LoadBalancer", "NodePort"] = "ClusterIP"
    ingress: Ingress | None = None


AccessMode = Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"]


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


class Storage(Strict):
    """A PersistentVolumeClaim per pod through volumeClaimTemplates (needs `identity: stable`)."""

    size: Memory = "1Gi"
    mountPath: str = Field("/data", pattern=r"^/")
    storageClassName: str | None = None
    accessModes: list[AccessMode] = Field(default_factory=_read_write_once)
    retainOnDelete: bool = Field(True, description="StatefulSet PVC retention policy when the app is deleted.")


class SecretEnv(Strict):
    name: str = Field(..., pattern=ENV_NAME_PATTERN, description="Environment variable name.")
    secret: str = Field(..., pattern=NAME_PATTERN, description="Existing Secret name.")
    key: str = Field(..., pattern=r"^[-._a-zA-Z0-9]+$")


class Job(Strict):
    """A Job (run once per deploy, e.g. migrations) or, with `schedule`, a CronJob."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=30)
    eval: str | None = Field(None, description="Elixir/Erlang expression for `bin/<release> eval`.")
    command: list[str] | None = Field(None, min_length=1, description="Full command instead of `eval`.")
    schedule: str | None = Field(None, pattern=CRON_PATTERN, description="Cron schedule → a CronJob.")
    backoffLimit: int = Field(3, ge=0, le=100)
    activeDeadlineSeconds: int = Field(600, ge=1, le=INT64_MAX)
    concurrencyPolicy: Literal["Forbid", "Allow", "Replace"] = "Forbid"
    resources: Resources | None = Field(None, description="The Job container's resources. Default: the app's.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra plain variables for this Job only.")
    secretEnv: list[SecretEnv] = Field(default_factory=list, description="Extra variables from Secrets.")

    @model_validator(mode="after")
    def _one_command(self) -> Job:
        if (self.eval is None) == (self.command is None):
            raise ValueError("a job needs exactly one of eval, command")
        return self


class PodsMetric(Strict):
    name: str = Field(..., description="Custom pod metric name, e.g. `packets-per-second`.")
    averageValue: str = Field(..., pattern=QUANTITY_PATTERN)


class ExternalMetric(Strict):
    name: str = Field(..., description="External metric name, e.g. a Kafka consumer-group lag.")
    selector: dict[str, str] = Field(default_factory=dict, description="matchLabels for the metric.")

    @field_validator("selector")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, "selector label")

    averageValue: str | None = Field(None, pattern=QUANTITY_PATTERN)
    value: str | None = Field(None, pattern=QUANTITY_PATTERN)

    @model_validator(mode="after")
    def _one_target(self) -> ExternalMetric:
        if (self.averageValue is None) == (self.value is None):
            raise ValueError("an external metric needs exactly one of averageValue, value")
        return self


class Autoscaling(Strict):
    """HorizontalPodAutoscaler (autoscaling/v2)."""

    min: int = Field(2, ge=1, le=1000)
    max: int = Field(10, ge=1, le=1000)
    cpu: int | None = Field(None, ge=1, le=1000, description="Target average CPU utilisation in percent.")
    pods: list[PodsMetric] = Field(default_factory=list)
    external: list[ExternalMetric] = Field(default_factory=list)
    scaleDownStabilizationSeconds: int = Field(300, ge=0, le=3600)

    @model_validator(mode="after")
    def _sane(self) -> Autoscaling:
        if self.min > self.max:
            raise FieldError(("min",), f"{self.min} is above max ({self.max}); min must not exceed max")
        if self.cpu is None and not self.pods and not self.external:
            raise ValueError("needs at least one of cpu, pods, external")
        return self


class Vpa(Strict):
    """VerticalPodAutoscaler: recommendations only by default (updateMode Off, as in the first talk)."""

    updateMode: Literal["Off", "Initial", "Recreate", "InPlaceOrRecreate"] = "Off"


class Disruption(Strict):
    """PodDisruptionBudget (policy/v1). Default: maxUnavailable 1 when there is more than one replica."""

    minAvailable: int | str | None = None
    maxUnavailable: int | str | None = None

    @model_validator(mode="after")
    def _one(self) -> Disruption:
        if self.minAvailable is not None and self.maxUnavailable is not None:
            raise ValueError("set only one of minAvailable, maxUnavailable")
        for key in ("minAvailable", "maxUnavailable"):
            value = getattr(self, key)
            bad_int = isinstance(value, int) and not 0 <= value <= INT32_MAX
            if bad_int or (isinstance(value, str) and not re.fullmatch(r"(100|[1-9]?[0-9])%", value)):
                raise FieldError((key,), f"{value!r} must be an integer from 0 to {INT32_MAX} or a percentage to 100%")
        return self


class Priority(Strict):
    """Reference an existing PriorityClass (`className`) or create one (`value`)."""

    className: str | None = Field(None, pattern=NAME_PATTERN)
    value: int | None = Field(None, ge=-2147483648, le=1000000000)
    description: str = "Priority of a beamkube app."

    @model_validator(mode="after")
    def _one(self) -> Priority:
        if self.className is None and self.value is None:
            raise ValueError("set className (existing PriorityClass) or value (create one)")
        return self


class Metrics(Strict):
    """Prometheus scraping of the BEAM's metrics endpoint (PromEx, prometheus.erl, ...)."""

    port: Port = 9568
    path: str = Field("/metrics", pattern=r"^/")


class Security(Strict):
    """Pod security. Defaults meet the Pod Security `restricted` profile."""

    runAsUser: int = Field(65534, ge=1, le=INT32_MAX, description="Non-root numeric user (nobody).")
    runAsGroup: int = Field(65534, ge=1, le=INT32_MAX)
    fsGroup: int = Field(65534, ge=1, le=INT32_MAX)
    readOnlyRootFilesystem: bool = True


class Drain(Strict):
    """A release command run as the preStop hook, before SIGTERM (RabbitMQ's operator runs `drain` there)."""

    rpc: str | None = Field(
        None,
        min_length=1,
        description="An expression evaluated on the running node: `bin/<release> rpc EXPR` (mix, Distillery; "
        "Elixir) or `bin/<release> eval EXPR` (relx; Erlang), e.g. `MyApp.drain()`.",
    )
    command: list[str] | None = Field(None, min_length=1, description="Or any command (argv) run in the container.")
    timeoutSeconds: int = Field(
        30, ge=1, le=3600, description="The drain is stopped after this long; SIGTERM follows either way."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Drain:
        if (self.rpc is None) == (self.command is None):
            raise FieldError(("rpc",), "set exactly one of rpc or command")
        return self


class Shutdown(Strict):
    """What happens between the pod's deletion and SIGTERM."""

    drain: Drain | None = Field(None, description="A drain hook run before the preStop sleep and SIGTERM.")


# The production-app models build on the classes above; imported here so they sit in this module's
# namespace (the loader resolves model names and forward references from it).
from beamkube.spec.extras import (  # noqa: E402
    CertManager,
    Container,
    EnvFrom,
    IngressHost,
    NodeAffinity,
    ObjectMetaGroups,
    Override,
    Process,
    ServiceAccountSpec,
    Toleration,
    Volume,
)

Placement.model_rebuild()
Ingress.model_rebuild()
Web.model_rebuild()


class AppSpec(Strict):
    """A BEAM application on Kubernetes."""

    apiVersion: Literal["beamkube.io/v1alpha1"] = Field("beamkube.io/v1alpha1", description="Spec version.")
    name: str = Field(..., pattern=NAME_PATTERN, max_length=40, description="App name (DNS label, ≤ 40).")
    namespace: str = Field("default", pattern=NAME_PATTERN, max_length=63)
    image: str = Field(..., pattern=r"^[^\s]+$", description="Container image, ideally pinned to a tag or digest.")
    imagePullPolicy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    release: Release = Field(default_factory=Release)
    identity: Identity = Identity.STATELESS
    replicas: int = Field(3, ge=0, le=1000)
    cluster: Cluster = Field(default_factory=Cluster)
    clusterDomain: str = Field("cluster.local", pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    web: Web | None = Field(default_factory=Web, description="The HTTP port; `null` for apps without one.")
    resources: Resources = Field(default_factory=Resources)
    limitRange: LimitRangeSpec | None = None
    rollout: Rollout = Field(default_factory=Rollout)
    placement: Placement = Field(default_factory=Placement)
    probes: Probes = Field(default_factory=Probes)
    storage: Storage | None = None
    env: dict[str, str] = Field(default_factory=dict, description="Plain configuration (into a ConfigMap).")
    secretEnv: list[SecretEnv] = Field(default_factory=list, description="Variables from existing Secrets.")
    jobs: list[Job] = Field(default_factory=list)
    autoscaling: Autoscaling | None = None
    vpa: Vpa | None = None
    disruption: Disruption | None = None
    priority: Priority | None = None
    metrics: Metrics | None = None
    security: Security = Field(default_factory=Security)
    terminationGracePeriodSeconds: int = Field(
        45, ge=5, le=3600, description="Time for init:stop/0 to shut applications down after SIGTERM."
    )
    preStopSleepSeconds: int = Field(
        5, ge=0, le=300, description="Delay before SIGTERM so endpoints drop the pod before it stops serving."
    )
    shutdown: Shutdown = Field(default_factory=Shutdown)
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on every object.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Extra pod annotations.")
    imagePullSecrets: list[str] = Field(
        default_factory=list, description="Secrets (type kubernetes.io/dockerconfigjson) for a private registry."
    )
    envFrom: list[EnvFrom] = Field(
        default_factory=list, description="Whole existing Secrets/ConfigMaps as variables of the BEAM container."
    )
    sidecars: list[Container] = Field(
        default_factory=list,
        description="Containers beside the BEAM node (e.g. cloud-sql-proxy). Native sidecars (init containers "
        "with restartPolicy Always: started first, stopped last) from Kubernetes 1.29, plain containers before.",
    )
    initContainers: list[Container] = Field(default_factory=list, description="Run to completion before the node.")
    volumes: list[Volume] = Field(
        default_factory=list, description="Extra volumes (Secret, ConfigMap, PVC, CSI, emptyDir)."
    )
    serviceAccount: ServiceAccountSpec = Field(
        default_factory=ServiceAccountSpec, description="The pods' ServiceAccount: annotations, or an existing one."
    )
    objectMeta: ObjectMetaGroups = Field(
        default_factory=ObjectMetaGroups, description="Labels/annotations per object group."
    )
    processes: dict[str, Process] = Field(
        default_factory=dict,
        description="Process types (e.g. `web`, `worker`): one workload each, one BEAM cluster. Empty: one "
        "workload named after the app.",
    )
    overrides: list[Override] = Field(
        default_factory=list, description="Patches over rendered objects, for what no field expresses."
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        return check_env_names(value)

    @field_validator("labels")
    @classmethod
    def _label_syntax(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key in OWN_LABELS:
                raise FieldError((key,), "is set by beamkube on every object (selectors depend on it); remove it")
        return check_labels(value, "label")

    @field_validator("annotations")
    @classmethod
    def _annotation_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, "annotation", values=False)

    @model_validator(mode="after")
    def _cross_field(self) -> AppSpec:
        from beamkube.spec.bounds import check_bounds

        check_bounds(self)  # Kubernetes and BEAM limits (spec/bounds.py)
        if self.storage is not None and self.identity is not Identity.STABLE:
            raise FieldError(("storage",), "needs identity: stable (volumeClaimTemplates belong to a StatefulSet)")
        discovery = self.effective_discovery
        if discovery in (Discovery.DNSSRV, Discovery.STATIC) and self.identity is not Identity.STABLE:
            raise FieldError(
                ("cluster", "discovery"), f"{discovery.value} needs identity: stable (per-pod DNS names); use dns"
            )
        if self.rollout.strategy == "Recreate" and self.identity is Identity.STABLE:
            raise FieldError(("rollout", "strategy"), "Recreate is for Deployments; a StatefulSet uses RollingUpdate")
        if (
            self.rollout.strategy == "RollingUpdate"
            and self.identity is Identity.STATELESS
            and self.rollout.maxSurge in (0, "0%")
            and self.rollout.maxUnavailable in (0, "0%")
        ):
            raise FieldError(("rollout", "maxSurge"), "maxSurge and maxUnavailable cannot both be 0")
        cpu_hpa = self.autoscaling is not None and self.autoscaling.cpu is not None
        if cpu_hpa and self.vpa is not None and self.vpa.updateMode != "Off":
            raise FieldError(("vpa", "updateMode"), "must be Off while autoscaling on cpu (they would fight)")
        for index, job in enumerate(self.jobs):
            if job.name in {j.name for j in self.jobs[:index]}:
                raise FieldError(("jobs", index, "name"), f"duplicate job name {job.name!r}")
            if job.eval is not None and self.release.flavour is Flavour.RELX:
                # relx's `bin/<rel> eval` runs the expression on an already running node, so a Job pod
                # (with no node of its own) fails with "Node is not running!".
                raise FieldError(
                    ("jobs", index, "eval"),
                    "not supported for relx releases (relx evaluates on an already running node); use command",
                )
            limit = CRONJOB_NAME_MAX if job.schedule is not None else 63 - 1 - JOB_DIGEST_LEN
            if len(self.name) + 1 + len(job.name) > limit:
                raise FieldError(
                    ("jobs", index, "name"),
                    f"{job.name!r} is too long for app {self.name!r}: the {'CronJob' if job.schedule else 'Job'} "
                    f"name '<name>-<job>' may have at most {limit} characters",
                )
        seen_env: set[str] = set()
        for index, item in enumerate(self.secretEnv):
            _not_reserved(item.name, ("secretEnv", index, "name"))
            if item.name in seen_env or item.name in self.env:
                raise FieldError(("secretEnv", index, "name"), f"{item.name!r} is set twice")
            seen_env.add(item.name)
        for probe_name in ("readiness", "liveness", "startup"):
            probe = getattr(self.probes, probe_name)
            if isinstance(probe, Probe) and self.web is None:
                uses_web = (probe.http is not None and probe.http.port is None) or (
                    probe.tcp is not None and probe.tcp.port == "web"
                )
                if uses_web:
                    raise FieldError(("probes", probe_name), "uses the web port but web is null")
        if self.metrics is not None and self.web is not None and self.metrics.port == self.web.port:
            pass  # the same port serving /metrics is fine (Phoenix + PromEx on the endpoint)
        if self.cluster.distPort == self.cluster.epmdPort:
            raise FieldError(("cluster", "epmdPort"), f"{self.cluster.epmdPort} is also distPort; they must differ")
        if self.web is not None and self.web.port in (self.cluster.distPort, self.cluster.epmdPort):
            raise FieldError(
                ("web", "port"), f"{self.web.port} is a distribution port (cluster.distPort/epmdPort); use another port"
            )
        if self.metrics is not None and self.metrics.port in (self.cluster.distPort, self.cluster.epmdPort):
            raise FieldError(("metrics", "port"), f"{self.metrics.port} is a distribution port; use another port")
        floor = self.autoscaling.min if self.autoscaling is not None else self.replicas
        budget = self.disruption.minAvailable if self.disruption is not None else None
        if floor > 0 and (budget == "100%" or (isinstance(budget, int) and budget >= floor)):
            raise FieldError(
                ("disruption", "minAvailable"),
                f"{budget} leaves no pod of {floor} evictable (node drains would hang); use a lower value",
            )
        return self

    @model_validator(mode="after")
    def _clustering_fits(self) -> AppSpec:
        if self.cluster.discovery is Discovery.DNS and self.identity is Identity.STABLE:
            # A records give IPs, but stable nodes are named <release>@<pod>.<headless>...: nothing would join.
            raise FieldError(
                ("cluster", "discovery"),
                "dns connects <release>@<pod IP>, but identity stable names nodes by pod DNS name; use dnssrv",
            )
        drain = self.shutdown.drain
        if drain is not None and drain.timeoutSeconds + self.preStopSleepSeconds >= self.terminationGracePeriodSeconds:
            raise FieldError(
                ("shutdown", "drain", "timeoutSeconds"),
                f"{drain.timeoutSeconds}s drain + {self.preStopSleepSeconds}s preStop sleep leave no time of the "
                f"{self.terminationGracePeriodSeconds}s terminationGracePeriodSeconds for init:stop; raise it",
            )
        if self.rollout.mixedVersions == "isolate" and not re.search(r"(:[^/@]+|@sha256:[0-9a-f]{12,})$", self.image):
            raise FieldError(
                ("rollout", "mixedVersions"),
                "isolate puts the image version in the node name: pin the image to a tag or digest",
            )
        return self

    # --- derived values (pure) -------------------------------------------------------------

    @property
    def release_name(self) -> str:
        return self.release.name or self.name.replace("-", "_")

    @property
    def effective_discovery(self) -> Discovery:
        if self.cluster.discovery is not None:
            return self.cluster.discovery
        return Discovery.DNSSRV if self.identity is Identity.STABLE else Discovery.DNS

    @property
    def cookie_secret_name(self) -> str:
        return self.cluster.cookieSecret or f"{self.name}-erlang-cookie"

    @property
    def max_replicas(self) -> int:
        if self.cluster.maxReplicas is not None:
            return self.cluster.maxReplicas
        if self.autoscaling is not None:
            return max(self.autoscaling.max, self.replicas)
        return max(self.replicas, 1)

    @model_validator(mode="after")
    def _production_rules(self) -> AppSpec:
        from beamkube.spec.rules import production_rules

        production_rules(self)
        return self

    @property
    def process_names(self) -> list[str]:
        """Process types in spec order ([] for a single-process app)."""
        return list(self.processes)
