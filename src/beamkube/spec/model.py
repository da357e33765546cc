"""The `beamkube.yaml` application spec: typed models with the talks' defaults.

Role: data only (no I/O). Every field is documented, because `beamkube schema` and the CRD are generated
from these models and editors show the descriptions. The models are `msgspec.Struct` classes (spec/base.py
says why); a field's constraints and description sit in its `Annotated[..., Meta(...)]`, and each model's
rules in its `__post_init__`, raising `FieldError` with a message that names what is allowed. `AppSpec`'s
cross-field rules come last.

No `from __future__ import annotations` here: msgspec would evaluate every annotation string on first use;
real annotations cost nothing more (the classes are ordered so that each one exists before it is used).
"""

import re
from enum import Enum
from typing import Annotated, Literal

from msgspec import Meta, field

from beamkube.spec.base import (
    ABSOLUTE_PATH,
    API_VERSION,
    CPU_PATTERN,
    CRON_PATTERN,
    CRONJOB_NAME_MAX,
    ENV_NAME_PATTERN,
    HOST_PATTERN,
    INT32_MAX,
    INT64_MAX,
    JOB_DIGEST_LEN,
    LABEL_KEY_PATTERN,
    LABEL_VALUE_PATTERN,
    MEMORY_PATTERN,
    NAME_PATTERN,
    NO_SPACES,
    OWN_LABELS,
    PERCENT_OR_INT,
    QUANTITY_PATTERN,
    RELEASE_NAME_PATTERN,
    RESERVED_ENV,
    RESERVED_ENV_PREFIX,
    SECRET_KEY_PATTERN,
    Cpu,
    FieldError,
    Memory,
    Name,
    Port,
    Strict,
    _not_reserved,
    check_env_names,
    check_int_or_percent,
    check_labels,
    check_own_labels,
    text,
)

__all__ = [
    "API_VERSION", "CPU_PATTERN", "CRONJOB_NAME_MAX", "CRON_PATTERN", "ENV_NAME_PATTERN", "INT32_MAX", "INT64_MAX",
    "JOB_DIGEST_LEN", "LABEL_KEY_PATTERN", "LABEL_VALUE_PATTERN", "MEMORY_PATTERN", "NAME_PATTERN", "OWN_LABELS",
    "PERCENT_OR_INT", "QUANTITY_PATTERN", "RELEASE_NAME_PATTERN", "RESERVED_ENV", "RESERVED_ENV_PREFIX",
    "AppSpec", "Cpu", "FieldError", "Memory", "Port", "Strict", "_not_reserved", "check_env_names", "check_labels",
]  # fmt: skip

PERCENT_MESSAGE = "must be an integer from 0 to " + str(INT32_MAX) + " or a percentage from 0% to 100%"


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

    flavour: Annotated[Flavour, Meta(description="`mix` (mix release), `relx` (rebar3) or `distillery`.")] = Flavour.MIX
    name: Annotated[
        Annotated[str, text(RELEASE_NAME_PATTERN)] | None,
        Meta(
            description="Release name (the `bin/<name>` script and the node name's first part). "
            "Defaults to the app name with `-` replaced by `_`."
        ),
    ] = None
    root: Annotated[str, text(r"^/[^\s]*$", "Where the release is unpacked in the image.")] = "/app"
    command: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None,
        Meta(description="Container command. Defaults to `bin/<name> start` (mix) or `bin/<name> foreground`."),
    ] = None
    vmArgs: Annotated[
        list[str], Meta(description="Extra vm.args lines appended to the generated vm.args (e.g. `+K true`).")
    ] = field(default_factory=list)


class Tls(Strict):
    """TLS Erlang distribution (`-proto_dist inet_tls`)."""

    secretName: Annotated[str, text(NAME_PATTERN, "Secret with `tls.crt`, `tls.key`, `ca.crt`.")]
    verify: Annotated[bool, Meta(description="Verify the peer certificate against `ca.crt`.")] = True


class Cluster(Strict):
    """BEAM distribution: how nodes are named, find each other and are protected."""

    discovery: Annotated[
        Discovery | None,
        Meta(
            description="`dns` (A/AAAA of the headless Service), `dnssrv` (SRV of a StatefulSet's headless "
            "Service), `kubernetes` (API, for libcluster), `static` (kernel sync_nodes_optional from StatefulSet "
            "ordinals), `none`. Default: `dns` for stateless, `dnssrv` for stable."
        ),
    ] = None
    distPort: Annotated[Port, Meta(description="The pinned distribution port (inet_dist_listen_min = max).")] = 9000
    epmdPort: Annotated[Port, Meta(description="The epmd port declared on the headless Service.")] = 4369
    cookieSecret: Annotated[
        Name | None,
        Meta(
            description="Name of the Secret holding the Erlang cookie (key `cookie`). Default "
            "`<name>-erlang-cookie`, created once with random bytes by `beamkube deploy` or the operator; never "
            "rendered as a value."
        ),
    ] = None
    cookieKey: Annotated[str, text(SECRET_KEY_PATTERN, "Key inside the cookie Secret.")] = "cookie"
    pollIntervalMs: Annotated[int, Meta(ge=500, le=600_000, description="Discovery polling interval.")] = 5000
    syncNodesTimeoutMs: Annotated[
        int,
        Meta(
            ge=0,
            le=60_000,
            description="For `static`: how long a booting node waits for its listed peers (kernel "
            "sync_nodes_timeout) before its applications start. Every boot waits this long while fewer than "
            "maxReplicas pods run, so keep it short; the discovery loop connects late peers anyway.",
        ),
    ] = 3000
    netTicktime: Annotated[
        int,
        Meta(
            ge=2,
            le=600,
            description="kernel net_ticktime in seconds. OTP's 60 s keeps a vanished pod's connection for about "
            "a minute, blocking its replacement from rejoining; 10 s heals in seconds.",
        ),
    ] = 10
    ipFamily: Annotated[Literal["ipv4", "ipv6"], Meta(description="`ipv6` uses `-proto_dist inet6_tcp` and AAAA.")] = (
        "ipv4"
    )
    tls: Annotated[Tls | None, Meta(description="TLS distribution; certificates from a Secret.")] = None
    maxReplicas: Annotated[
        Annotated[int, Meta(ge=1, le=1000)] | None,
        Meta(description="For `static`: how many ordinals to list. Default: the autoscaler maximum or `replicas`."),
    ] = None


class HttpProbe(Strict):
    path: Annotated[str, text(ABSOLUTE_PATH, "HTTP path.")]
    port: Annotated[Port | None, Meta(description="Default: the web port.")] = None


class TcpProbe(Strict):
    port: Annotated[Port | Literal["web", "dist"], Meta(description="A port number, `web` or `dist`.")] = "web"


class Probe(Strict):
    """One probe: exactly one of `http`, `tcp`, `exec`."""

    http: HttpProbe | None = None
    tcp: TcpProbe | None = None
    exec: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None, Meta(description="Command run in the container.")
    ] = None
    periodSeconds: Annotated[int, Meta(ge=1, le=3600)] = 10
    timeoutSeconds: Annotated[int, Meta(ge=1, le=600)] = 2
    failureThreshold: Annotated[int, Meta(ge=1, le=1000)] = 3
    initialDelaySeconds: Annotated[int, Meta(ge=0, le=3600)] = 0

    def __post_init__(self) -> None:
        count = sum(h is not None for h in (self.http, self.tcp, self.exec))
        if count != 1:
            raise ValueError("a probe needs exactly one of http, tcp, exec")


class Probes(Strict):
    """Readiness, liveness and startup probes. Omitted ones get cheap defaults (TCP on the web port, or on
    the distribution port when there is no web port); set one to `false` to leave it out."""

    readiness: Probe | Literal[False] | None = None
    liveness: Probe | Literal[False] | None = None
    startup: Probe | Literal[False] | None = None


class ResourceAmounts(Strict):
    cpu: Cpu | None = None
    memory: Memory | None = None


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


def _one_cpu() -> ResourceAmounts:
    return ResourceAmounts(cpu="1", memory="512Mi")


class Resources(Strict):
    """Container requests and limits; they decide the QoS class (first talk)."""

    requests: Annotated[
        ResourceAmounts,
        Meta(description="Default 1 CPU / 512Mi (with equal limits: Guaranteed QoS with CPU affinity)."),
    ] = field(default_factory=_one_cpu)
    limits: ResourceAmounts = field(default_factory=_one_cpu)

    def __post_init__(self) -> None:
        _within_limits(self.requests, self.limits, ("requests",), "limits")


class LimitRangeSpec(Strict):
    """An optional LimitRange for the namespace (defaults for containers that set nothing)."""

    defaultRequest: ResourceAmounts = field(default_factory=lambda: ResourceAmounts(cpu="250m", memory="256Mi"))
    default: ResourceAmounts = field(default_factory=lambda: ResourceAmounts(cpu="500m", memory="256Mi"))

    def __post_init__(self) -> None:
        _within_limits(self.defaultRequest, self.default, ("defaultRequest",), "default")


class Rollout(Strict):
    """Rollout strategy (first talk: RollingUpdate with maxUnavailable 0 / maxSurge 50%, or Recreate)."""

    strategy: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    maxUnavailable: Annotated[int | str, Meta(description="Deployment only; an integer or a percentage.")] = 0
    maxSurge: Annotated[int | str, Meta(description="Deployment only; an integer or a percentage.")] = "50%"
    partition: Annotated[
        int, Meta(ge=0, le=INT32_MAX, description="StatefulSet only: pods with a lower ordinal are not updated.")
    ] = 0
    podManagementPolicy: Annotated[
        Literal["Parallel", "OrderedReady"],
        Meta(
            description="StatefulSet only. Parallel starts all pods at once; with publishNotReadyAddresses they "
            "still find each other (RabbitMQ's operator does the same)."
        ),
    ] = "Parallel"
    progressDeadlineSeconds: Annotated[int, Meta(ge=10, le=86400)] = 600
    revisionHistoryLimit: Annotated[int, Meta(ge=0, le=100)] = 10
    mixedVersions: Annotated[
        Literal["allow", "isolate"],
        Meta(
            description="During a rolling update: `allow` lets old and new pods join one cluster; `isolate` puts "
            "the image version in the node basename (`<release>-<version>@host`), so discovery only connects pods "
            "of the same version (Fly.io's approach). `:global`/pg/Horde/Mnesia state then does not span versions."
        ),
    ] = "allow"

    def __post_init__(self) -> None:
        check_int_or_percent(self.maxUnavailable, ("maxUnavailable",), PERCENT_MESSAGE)
        check_int_or_percent(self.maxSurge, ("maxSurge",), PERCENT_MESSAGE)


Topology = Literal["hostname", "zone", "region"]


class AntiAffinity(Strict):
    """Keep the app's pods apart (first talk's podAntiAffinity)."""

    mode: Literal["preferred", "required", "off"] = "preferred"
    topology: Topology = "hostname"
    weight: Annotated[int, Meta(ge=1, le=100, description="For `preferred`.")] = 100


class Spread(Strict):
    """A topologySpreadConstraint over zones (or hosts)."""

    topology: Topology = "zone"
    maxSkew: Annotated[int, Meta(ge=1, le=INT32_MAX)] = 1
    whenUnsatisfiable: Literal["ScheduleAnyway", "DoNotSchedule"] = "ScheduleAnyway"


AccessMode = Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"]


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


class Storage(Strict):
    """A PersistentVolumeClaim per pod through volumeClaimTemplates (needs `identity: stable`)."""

    size: Memory = "1Gi"
    mountPath: Annotated[str, text(ABSOLUTE_PATH)] = "/data"
    storageClassName: str | None = None
    accessModes: list[AccessMode] = field(default_factory=_read_write_once)
    retainOnDelete: Annotated[bool, Meta(description="StatefulSet PVC retention policy when the app is deleted.")] = (
        True
    )


class SecretEnv(Strict):
    name: Annotated[str, text(ENV_NAME_PATTERN, "Environment variable name.")]
    secret: Annotated[str, text(NAME_PATTERN, "Existing Secret name.")]
    key: Annotated[str, text(SECRET_KEY_PATTERN)]


class Job(Strict):
    """A Job (run once per deploy, e.g. migrations) or, with `schedule`, a CronJob."""

    name: Annotated[str, text(NAME_PATTERN, max_length=30)]
    eval: Annotated[str | None, Meta(description="Elixir/Erlang expression for `bin/<release> eval`.")] = None
    command: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None, Meta(description="Full command instead of `eval`.")
    ] = None
    schedule: Annotated[Annotated[str, text(CRON_PATTERN)] | None, Meta(description="Cron schedule → a CronJob.")] = (
        None
    )
    backoffLimit: Annotated[int, Meta(ge=0, le=100)] = 3
    activeDeadlineSeconds: Annotated[int, Meta(ge=1, le=INT64_MAX)] = 600
    concurrencyPolicy: Literal["Forbid", "Allow", "Replace"] = "Forbid"
    resources: Annotated[Resources | None, Meta(description="The Job container's resources. Default: the app's.")] = (
        None
    )
    env: Annotated[dict[str, str], Meta(description="Extra plain variables for this Job only.")] = field(
        default_factory=dict
    )
    secretEnv: Annotated[list[SecretEnv], Meta(description="Extra variables from Secrets.")] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        if (self.eval is None) == (self.command is None):
            raise ValueError("a job needs exactly one of eval, command")


Quantity = Annotated[str, text(QUANTITY_PATTERN)]


class PodsMetric(Strict):
    name: Annotated[str, Meta(description="Custom pod metric name, e.g. `packets-per-second`.")]
    averageValue: Quantity


class ExternalMetric(Strict):
    name: Annotated[str, Meta(description="External metric name, e.g. a Kafka consumer-group lag.")]
    selector: Annotated[dict[str, str], Meta(description="matchLabels for the metric.")] = field(default_factory=dict)
    averageValue: Quantity | None = None
    value: Quantity | None = None

    def __post_init__(self) -> None:
        check_labels(self.selector, "selector label", ("selector",))
        if (self.averageValue is None) == (self.value is None):
            raise ValueError("an external metric needs exactly one of averageValue, value")


class Autoscaling(Strict):
    """HorizontalPodAutoscaler (autoscaling/v2)."""

    min: Annotated[int, Meta(ge=1, le=1000)] = 2
    max: Annotated[int, Meta(ge=1, le=1000)] = 10
    cpu: Annotated[
        Annotated[int, Meta(ge=1, le=1000)] | None,
        Meta(description="Target average CPU utilisation in percent."),
    ] = None
    pods: list[PodsMetric] = field(default_factory=list)
    external: list[ExternalMetric] = field(default_factory=list)
    scaleDownStabilizationSeconds: Annotated[int, Meta(ge=0, le=3600)] = 300

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise FieldError(("min",), f"{self.min} is above max ({self.max}); min must not exceed max")
        if self.cpu is None and not self.pods and not self.external:
            raise ValueError("needs at least one of cpu, pods, external")


class Vpa(Strict):
    """VerticalPodAutoscaler: recommendations only by default (updateMode Off, as in the first talk)."""

    updateMode: Literal["Off", "Initial", "Recreate", "InPlaceOrRecreate"] = "Off"


class Disruption(Strict):
    """PodDisruptionBudget (policy/v1). Default: maxUnavailable 1 when there is more than one replica."""

    minAvailable: int | str | None = None
    maxUnavailable: int | str | None = None

    def __post_init__(self) -> None:
        if self.minAvailable is not None and self.maxUnavailable is not None:
            raise ValueError("set only one of minAvailable, maxUnavailable")
        message = "{value!r} must be an integer from 0 to " + str(INT32_MAX) + " or a percentage to 100%"
        check_int_or_percent(self.minAvailable, ("minAvailable",), message)
        check_int_or_percent(self.maxUnavailable, ("maxUnavailable",), message)


class Priority(Strict):
    """Reference an existing PriorityClass (`className`) or create one (`value`)."""

    className: Name | None = None
    value: Annotated[int, Meta(ge=-2147483648, le=1000000000)] | None = None
    description: str = "Priority of a beamkube app."

    def __post_init__(self) -> None:
        if self.className is None and self.value is None:
            raise ValueError("set className (existing PriorityClass) or value (create one)")


class Metrics(Strict):
    """Prometheus scraping of the BEAM's metrics endpoint (PromEx, prometheus.erl, ...)."""

    port: Port = 9568
    path: Annotated[str, text(ABSOLUTE_PATH)] = "/metrics"


class Security(Strict):
    """Pod security. Defaults meet the Pod Security `restricted` profile."""

    runAsUser: Annotated[int, Meta(ge=1, le=INT32_MAX, description="Non-root numeric user (nobody).")] = 65534
    runAsGroup: Annotated[int, Meta(ge=1, le=INT32_MAX)] = 65534
    fsGroup: Annotated[int, Meta(ge=1, le=INT32_MAX)] = 65534
    readOnlyRootFilesystem: bool = True


class Drain(Strict):
    """A release command run as the preStop hook, before SIGTERM (RabbitMQ's operator runs `drain` there)."""

    rpc: Annotated[
        Annotated[str, Meta(min_length=1)] | None,
        Meta(
            description="An expression evaluated on the running node: `bin/<release> rpc EXPR` (mix, Distillery; "
            "Elixir) or `bin/<release> eval EXPR` (relx; Erlang), e.g. `MyApp.drain()`."
        ),
    ] = None
    command: Annotated[
        Annotated[list[str], Meta(min_length=1)] | None,
        Meta(description="Or any command (argv) run in the container."),
    ] = None
    timeoutSeconds: Annotated[
        int, Meta(ge=1, le=3600, description="The drain is stopped after this long; SIGTERM follows either way.")
    ] = 30

    def __post_init__(self) -> None:
        if (self.rpc is None) == (self.command is None):
            raise FieldError(("rpc",), "set exactly one of rpc or command")


class Shutdown(Strict):
    """What happens between the pod's deletion and SIGTERM."""

    drain: Annotated[Drain | None, Meta(description="A drain hook run before the preStop sleep and SIGTERM.")] = None


# The production-app models build on the classes above; imported here so they sit in this module's
# namespace (the loader resolves model names from it) and exist before the classes below use them.
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


class Placement(Strict):
    antiAffinity: AntiAffinity = field(default_factory=AntiAffinity)
    spread: list[Spread] = field(default_factory=lambda: [Spread()])
    nodeSelector: dict[str, str] = field(default_factory=dict)
    tolerations: Annotated[
        list[Toleration], Meta(description="Tolerations for tainted node pools (e.g. a dedicated `beam` pool).")
    ] = field(default_factory=list)
    nodeAffinity: Annotated[NodeAffinity | None, Meta(description="Node affinity beside nodeSelector.")] = None

    def __post_init__(self) -> None:
        check_labels(self.nodeSelector, "node label", ("nodeSelector",))


class Ingress(Strict):
    host: Annotated[str, text(HOST_PATTERN, "Public host name.")]
    path: Annotated[str, text(ABSOLUTE_PATH)] = "/"
    className: Annotated[str | None, Meta(description="IngressClass name.")] = None
    tlsSecret: Annotated[Name | None, Meta(description="Secret with the TLS certificate.")] = None
    pathType: Annotated[Literal["Prefix", "Exact", "ImplementationSpecific"], Meta(description="For every path.")] = (
        "Prefix"
    )
    extraHosts: Annotated[
        list[IngressHost], Meta(description="More hosts (each with its paths) routed to the web Service.")
    ] = field(default_factory=list)
    certManager: Annotated[
        CertManager | None,
        Meta(
            description="Let cert-manager issue the certificate (ingress-shim annotation) into `tlsSecret` "
            "(default `<name>-tls`), for every host."
        ),
    ] = None


class Web(Strict):
    """The HTTP port and how it is exposed."""

    port: Annotated[Port, Meta(description="Container port the app listens on (Phoenix: 4000).")] = 4000
    servicePort: Annotated[Port, Meta(description="Port of the web Service.")] = 80
    serviceType: Literal["ClusterIP", "LoadBalancer", "NodePort"] = "ClusterIP"
    ingress: Ingress | None = None


class AppSpec(Strict, kw_only=True):
    """A BEAM application on Kubernetes."""

    apiVersion: Annotated[Literal["beamkube.io/v1alpha1"], Meta(description="Spec version.")] = "beamkube.io/v1alpha1"
    name: Annotated[str, text(NAME_PATTERN, "App name (DNS label, ≤ 40).", max_length=40)]
    namespace: Annotated[str, text(NAME_PATTERN, max_length=63)] = "default"
    image: Annotated[str, text(NO_SPACES, "Container image, ideally pinned to a tag or digest.")]
    imagePullPolicy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    release: Release = field(default_factory=Release)
    identity: Identity = Identity.STATELESS
    replicas: Annotated[int, Meta(ge=0, le=1000)] = 3
    cluster: Cluster = field(default_factory=Cluster)
    clusterDomain: Annotated[str, text(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")] = "cluster.local"
    web: Annotated[Web | None, Meta(description="The HTTP port; `null` for apps without one.")] = field(
        default_factory=Web
    )
    resources: Resources = field(default_factory=Resources)
    limitRange: LimitRangeSpec | None = None
    rollout: Rollout = field(default_factory=Rollout)
    placement: Placement = field(default_factory=Placement)
    probes: Probes = field(default_factory=Probes)
    storage: Storage | None = None
    env: Annotated[dict[str, str], Meta(description="Plain configuration (into a ConfigMap).")] = field(
        default_factory=dict
    )
    secretEnv: Annotated[list[SecretEnv], Meta(description="Variables from existing Secrets.")] = field(
        default_factory=list
    )
    jobs: list[Job] = field(default_factory=list)
    autoscaling: Autoscaling | None = None
    vpa: Vpa | None = None
    disruption: Disruption | None = None
    priority: Priority | None = None
    metrics: Metrics | None = None
    security: Security = field(default_factory=Security)
    terminationGracePeriodSeconds: Annotated[
        int, Meta(ge=5, le=3600, description="Time for init:stop/0 to shut applications down after SIGTERM.")
    ] = 45
    preStopSleepSeconds: Annotated[
        int, Meta(ge=0, le=300, description="Delay before SIGTERM so endpoints drop the pod before it stops serving.")
    ] = 5
    shutdown: Shutdown = field(default_factory=Shutdown)
    labels: Annotated[dict[str, str], Meta(description="Extra labels on every object.")] = field(default_factory=dict)
    annotations: Annotated[dict[str, str], Meta(description="Extra pod annotations.")] = field(default_factory=dict)
    imagePullSecrets: Annotated[
        list[str], Meta(description="Secrets (type kubernetes.io/dockerconfigjson) for a private registry.")
    ] = field(default_factory=list)
    envFrom: Annotated[
        list[EnvFrom], Meta(description="Whole existing Secrets/ConfigMaps as variables of the BEAM container.")
    ] = field(default_factory=list)
    sidecars: Annotated[
        list[Container],
        Meta(
            description="Containers beside the BEAM node (e.g. cloud-sql-proxy). Native sidecars (init containers "
            "with restartPolicy Always: started first, stopped last) from Kubernetes 1.29, plain containers before."
        ),
    ] = field(default_factory=list)
    initContainers: Annotated[list[Container], Meta(description="Run to completion before the node.")] = field(
        default_factory=list
    )
    volumes: Annotated[list[Volume], Meta(description="Extra volumes (Secret, ConfigMap, PVC, CSI, emptyDir).")] = (
        field(default_factory=list)
    )
    serviceAccount: Annotated[
        ServiceAccountSpec, Meta(description="The pods' ServiceAccount: annotations, or an existing one.")
    ] = field(default_factory=ServiceAccountSpec)
    objectMeta: Annotated[ObjectMetaGroups, Meta(description="Labels/annotations per object group.")] = field(
        default_factory=ObjectMetaGroups
    )
    processes: Annotated[
        dict[str, Process],
        Meta(
            description="Process types (e.g. `web`, `worker`): one workload each, one BEAM cluster. Empty: one "
            "workload named after the app."
        ),
    ] = field(default_factory=dict)
    overrides: Annotated[
        list[Override], Meta(description="Patches over rendered objects, for what no field expresses.")
    ] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_env_names(self.env, ("env",))
        check_own_labels(self.labels, ("labels",))
        check_labels(self.annotations, "annotation", ("annotations",), values=False)
        self._cross_field()
        self._clustering_fits()
        from beamkube.spec.rules import production_rules

        production_rules(self)

    def _cross_field(self) -> None:
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

    def _clustering_fits(self) -> None:
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
