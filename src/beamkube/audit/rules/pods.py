"""Rules on pod and container fields the peers check and beamkube had no rule for: CPU limit and
request = limit, ephemeral storage, probe ports, container ports, env duplicates and dangling references,
secrets in env, identities (UID/GID, service accounts), host access (hostPath, hostPort, procMount,
sysctls), the legacy seccomp annotation, priority class.

Role: pure (no I/O). Facts carried over from upstream: the Pod Security Standards' baseline sysctl safe set
and procMount rule, the IANA service-name syntax Kubernetes uses for port names (RFC 6335: 1-15 characters,
lowercase letters, digits and '-', at least one letter, no leading, trailing or double '-').
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.context import (
    LONG_RUNNING,
    POD_KINDS,
    Context,
    as_list,
    as_map,
    containers,
    pod_spec,
    pod_template,
)
from beamkube.audit.model import Hit, Manifest, Rule, Severity
from beamkube.audit.rules.platform import _all_containers

PODS = frozenset(POD_KINDS)
LONG = frozenset(LONG_RUNNING)
_SECRET_NAME = re.compile(r"secret|passw(or)?d|token|api[_-]?key|private[_-]?key|credential", re.IGNORECASE)
_COOKIE_NAME = re.compile(r"cookie", re.IGNORECASE)  # BK808 owns the Erlang cookie
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*$")
# Pod Security Standards (baseline): the sysctls allowed without unsafe-sysctl kubelet flags.
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
SENSITIVE_HOST_PATHS = ("/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr", "/var/run/docker.sock",
                        "/run/containerd/containerd.sock", "/var/lib/kubelet")
SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_SECCOMP_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
MIN_HIGH_ID = 10000


def _res(c: Mapping[str, Any], part: str) -> Mapping[str, Any]:
    return as_map(as_map(c.get("resources")).get(part))


def no_cpu_limit(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        if _res(c, "limits").get("cpu") is None and (_res(c, "requests") or _res(c, "limits")):
            yield Hit(f"container {c.get('name')}: resources.limits.cpu unset")


def cpu_request_below_limit(ctx: Context, m: Manifest) -> Iterator[Hit]:
    from beamkube.quantity import QuantityError, cpu_millicores

    for c in containers(m):
        request, limit = _res(c, "requests").get("cpu"), _res(c, "limits").get("cpu")
        if request is None or limit is None:
            continue
        try:
            if cpu_millicores(request) < cpu_millicores(limit):
                yield Hit(f"container {c.get('name')}: resources.requests.cpu {request} < limits.cpu {limit}")
        except (QuantityError, TypeError, AttributeError, ValueError, ArithmeticError):
            continue  # BK105 reports unparsable amounts


def _writes_node_disk(m: Manifest, c: Mapping[str, Any]) -> list[str]:
    """What of the container lands on the node's disk without a size bound."""
    found = []
    if as_map(c.get("securityContext")).get("readOnlyRootFilesystem") is not True:
        found.append("a writable root filesystem")
    volumes = {str(as_map(v).get("name")): as_map(v) for v in as_list(pod_spec(m).get("volumes"))}
    for mount in as_list(c.get("volumeMounts")):
        volume = volumes.get(str(as_map(mount).get("name")), {})
        empty = volume.get("emptyDir")
        if isinstance(empty, Mapping) and empty.get("medium") != "Memory" and empty.get("sizeLimit") is None:
            found.append(f"emptyDir {volume.get('name')} without sizeLimit")
    return found


def no_ephemeral_limit(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        if _res(c, "limits").get("ephemeral-storage") is not None:
            continue
        writes = _writes_node_disk(m, c)
        if writes:
            yield Hit(f"container {c.get('name')}: {', '.join(writes)} and no resources.limits.ephemeral-storage")


def _declared_ports(c: Mapping[str, Any]) -> tuple[set[str], set[int]]:
    names, numbers = set(), set()
    for port in as_list(c.get("ports")):
        port = as_map(port)
        if isinstance(port.get("name"), str):
            names.add(port["name"])
        if isinstance(port.get("containerPort"), int):
            numbers.add(port["containerPort"])
    return names, numbers


def _probe_ports(c: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = as_map(c.get(key))
        for handler in ("httpGet", "tcpSocket", "grpc"):
            if handler in probe and "port" in as_map(probe[handler]):
                yield f"{key}.{handler}.port", as_map(probe[handler])["port"]


def probe_named_port_missing(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        names, _ = _declared_ports(c)
        for where, port in _probe_ports(c):
            if isinstance(port, str) and not port.isdigit() and port not in names:
                yield Hit(f"container {c.get('name')} {where} {port!r} is not a declared port name")


def probe_number_undeclared(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        _, numbers = _declared_ports(c)
        for where, port in _probe_ports(c):
            number = int(port) if isinstance(port, str) and port.isdigit() else port
            if isinstance(number, int) and not isinstance(number, bool) and number not in numbers:
                yield Hit(f"container {c.get('name')} {where} {number} is not in its ports")


def bad_container_ports(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        seen_names: set[str] = set()
        seen_numbers: set[tuple[Any, Any]] = set()
        for port in as_list(c.get("ports")):
            port = as_map(port)
            name, number = port.get("name"), port.get("containerPort")
            if isinstance(name, str):
                if len(name) > 15 or not _PORT_NAME.match(name):
                    yield Hit(f"container {c.get('name')} port name {name!r}: 1-15 lowercase letters, digits, '-'")
                if name in seen_names:
                    yield Hit(f"container {c.get('name')} port name {name!r} declared twice")
                seen_names.add(name)
            if isinstance(number, int) and not isinstance(number, bool):
                if not 1 <= number <= 65535:
                    yield Hit(f"container {c.get('name')} containerPort {number} is outside 1-65535")
                key = (number, str(port.get("protocol", "TCP")))
                if key in seen_numbers:
                    yield Hit(f"container {c.get('name')} containerPort {number}/{key[1]} declared twice")
                seen_numbers.add(key)


def duplicate_env(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        seen: set[str] = set()
        for item in as_list(c.get("env")):
            name = as_map(item).get("name")
            if isinstance(name, str):
                if name in seen:
                    yield Hit(f"container {c.get('name')} env {name} is set twice (the last one wins)")
                seen.add(name)


def dangling_env_ref(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for item in as_list(c.get("env")):
            source = as_map(as_map(item).get("valueFrom"))
            for ref_key, kind, data_keys in (("configMapKeyRef", "ConfigMap", ("data", "binaryData")),
                                             ("secretKeyRef", "Secret", ("data", "stringData"))):
                ref = as_map(source.get(ref_key))
                if not ref or ref.get("optional") is True:
                    continue
                target = ctx.get(kind, m.namespace, str(ref.get("name", "")))
                if target is None:
                    continue  # not in the input: it may be created elsewhere
                keys = {k for part in data_keys for k in as_map(target.obj.get(part))}
                if str(ref.get("key")) not in {str(k) for k in keys}:
                    yield Hit(f"container {c.get('name')} env {as_map(item).get('name')}: {kind} "
                              f"{ref.get('name')} has no key {ref.get('key')!r}")


def _literal_env(c: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for item in as_list(c.get("env")):
        item = as_map(item)
        name, value = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(value, str):
            yield name, value


def secret_in_env(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for name, value in _literal_env(c):
            if _SECRET_NAME.search(name) and not _COOKIE_NAME.search(name) and value and "$(" not in value:
                yield Hit(f"container {c.get('name')} env {name} has a literal value")  # never print it


def secret_through_env(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for item in as_list(c.get("env")):
            item = as_map(item)
            name = str(item.get("name"))
            if "secretKeyRef" in as_map(item.get("valueFrom")) and not _COOKIE_NAME.search(name):
                yield Hit(f"container {c.get('name')} env {name} from a Secret")
        for source in as_list(c.get("envFrom")):
            if "secretRef" in as_map(source):
                yield Hit(f"container {c.get('name')} envFrom Secret {as_map(as_map(source)['secretRef']).get('name')}")


def _ids(m: Manifest, c: Mapping[str, Any]) -> dict[str, Any]:
    pod = as_map(pod_spec(m).get("securityContext"))
    sc = as_map(c.get("securityContext"))
    return {key: sc.get(key, pod.get(key)) for key in ("runAsUser", "runAsGroup")}


def root_group(ctx: Context, m: Manifest) -> Iterator[Hit]:
    pod = as_map(pod_spec(m).get("securityContext"))
    for c in _all_containers(m):
        if _ids(m, c)["runAsGroup"] == 0:
            yield Hit(f"container {c.get('name')}: runAsGroup 0")
    if pod.get("fsGroup") == 0:
        yield Hit("spec.securityContext.fsGroup 0")
    if 0 in as_list(pod.get("supplementalGroups")):
        yield Hit("spec.securityContext.supplementalGroups contains 0")


def low_ids(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for key, value in _ids(m, c).items():
            if value is None:
                yield Hit(f"container {c.get('name')}: {key} unset (the image decides)")
            elif isinstance(value, int) and 0 < value < MIN_HIGH_ID:
                yield Hit(f"container {c.get('name')}: {key} {value} < {MIN_HIGH_ID}")


def legacy_seccomp(ctx: Context, m: Manifest) -> Iterator[Hit]:
    annotations = as_map(as_map(pod_template(m).get("metadata")).get("annotations"))
    for key in annotations:
        if key == SECCOMP_ANNOTATION or str(key).startswith(CONTAINER_SECCOMP_PREFIX):
            yield Hit(f"annotation {key}")


def automount_token(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = pod_spec(m)
    if spec.get("automountServiceAccountToken") is False:
        return
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    sa = ctx.get("ServiceAccount", m.namespace, account)
    if spec.get("automountServiceAccountToken") is None and sa is not None and \
            sa.obj.get("automountServiceAccountToken") is False:
        return
    if ctx.bound_service_accounts().get((m.namespace, account)):
        return  # a RoleBinding in the input grants it rights: the pod uses the API and needs the token
    yield Hit(f"ServiceAccount {account} has no RoleBinding in the input, yet its token is mounted")


def host_port(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for port in as_list(c.get("ports")):
            port = as_map(port)
            if port.get("hostPort") not in (None, 0) and port.get("containerPort") not in (4369,):
                yield Hit(f"container {c.get('name')} hostPort {port.get('hostPort')}")


def unmasked_proc(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        if as_map(c.get("securityContext")).get("procMount") not in (None, "Default"):
            yield Hit(f"container {c.get('name')} securityContext.procMount "
                      f"{as_map(c.get('securityContext')).get('procMount')}")


def host_path(ctx: Context, m: Manifest) -> Iterator[Hit]:
    writable = {
        str(as_map(mount).get("name"))
        for c in _all_containers(m)
        for mount in as_list(c.get("volumeMounts"))
        if as_map(mount).get("readOnly") is not True
    }
    for volume in as_list(pod_spec(m).get("volumes")):
        volume = as_map(volume)
        source = volume.get("hostPath")
        if not isinstance(source, Mapping):
            continue
        path = str(source.get("path", "")).rstrip("/") or "/"
        notes = []
        if any(path == p or path.startswith(p + "/") for p in SENSITIVE_HOST_PATHS if p != "/") or path == "/":
            notes.append("sensitive host path")
        if path.endswith(".sock"):
            notes.append("a container runtime or daemon socket")
        if str(volume.get("name")) in writable:
            notes.append("mounted writable")
        extra = f" ({', '.join(notes)})" if notes else ""
        yield Hit(f"volume {volume.get('name')} hostPath {path}{extra}")


def unsafe_sysctls(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for item in as_list(as_map(pod_spec(m).get("securityContext")).get("sysctls")):
        name = str(as_map(item).get("name"))
        if name not in SAFE_SYSCTLS:
            yield Hit(f"spec.securityContext.sysctls {name}")


def _account(m: Manifest) -> str | None:
    spec = pod_spec(m)
    value = spec.get("serviceAccountName") or spec.get("serviceAccount")
    return str(value) if value else None


def default_account(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if _account(m) in (None, "default"):
        yield Hit("spec.serviceAccountName " + ("unset (default)" if _account(m) is None else "default"))


def deprecated_account_field(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = pod_spec(m)
    if "serviceAccount" in spec:
        other = spec.get("serviceAccountName")
        clash = f" (serviceAccountName {other!r} differs)" if other and other != spec["serviceAccount"] else ""
        yield Hit(f"spec.serviceAccount {spec['serviceAccount']!r}{clash}")


def missing_account(ctx: Context, m: Manifest) -> Iterator[Hit]:
    account = _account(m)
    if account not in (None, "default") and ctx.get("ServiceAccount", m.namespace, str(account)) is None:
        yield Hit(f"ServiceAccount {account} is not in the input")


def low_ports(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for port in as_list(c.get("ports")):
            number = as_map(port).get("containerPort")
            if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 1024:
                yield Hit(f"container {c.get('name')} containerPort {number}")


def ssh_port(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        for port in as_list(c.get("ports")):
            port = as_map(port)
            if port.get("containerPort") == 22 and port.get("protocol", "TCP") == "TCP":
                yield Hit(f"container {c.get('name')} containerPort 22")


_PEM_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")


def secret_in_configmap(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for key, value in as_map(m.obj.get("data")).items():
        text = str(value) if value is not None else ""
        if _SECRET_NAME.search(str(key)) and not _COOKIE_NAME.search(str(key)) and text.strip():
            yield Hit(f"data key {key}")  # never the value
        elif _PEM_KEY.search(text):
            yield Hit(f"data key {key} holds a PEM private key")


def no_priority(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not pod_spec(m).get("priorityClassName"):
        yield Hit("spec.priorityClassName unset")


RULES = [
    Rule("BK106", Severity.INFO, "resources", "Container has no CPU limit",
         "Set resources.limits.cpu (equal to the request for Guaranteed QoS; match +S to it, see BK903).",
         "Without a limit a busy VM takes every idle core of the node; its schedulers (+S) then follow the "
         "node's core count, not what the pod was sized for.",
         PODS, no_cpu_limit),
    Rule("BK107", Severity.INFO, "resources", "CPU request is below the CPU limit",
         "Set resources.requests.cpu equal to resources.limits.cpu.",
         "CPU above the request is shared with neighbours: latency varies with node load, and the pod is not "
         "Guaranteed QoS.",
         PODS, cpu_request_below_limit),
    Rule("BK108", Severity.INFO, "resources", "Container writes to node disk without an ephemeral-storage limit",
         "Set resources.limits.ephemeral-storage, or a sizeLimit on each emptyDir and a read-only root.",
         "Unbounded writes (logs, crash dumps, tmp files) fill the node's disk and get every pod on it evicted.",
         PODS, no_ephemeral_limit),
    Rule("BK207", Severity.ERROR, "probes", "Probe uses a port name the container does not declare",
         "Name the port in the container's ports, or probe the port number.",
         "The kubelet cannot resolve the name: the probe fails on every check, so the pod never gets ready "
         "(readiness) or is restarted forever (liveness).",
         PODS, probe_named_port_missing),
    Rule("BK208", Severity.INFO, "probes", "Probe port is not among the container's ports",
         "Declare the probed port in the container's ports (with a name, and probe the name).",
         "An undeclared port often means the probe checks the wrong port; declared ports document it.",
         PODS, probe_number_undeclared),
    Rule("BK312", Severity.ERROR, "rollout", "Container ports are invalid",
         "Use unique port names of 1-15 lowercase letters, digits and '-', unique numbers in 1-65535.",
         "The API server rejects invalid or duplicate names; a Service targetPort by name then matches nothing.",
         PODS, bad_container_ports),
    Rule("BK313", Severity.WARNING, "rollout", "Environment variable is set twice",
         "Keep one entry per env name.",
         "Only the last one takes effect; a `kubectl apply` of a strategic merge keyed by name may even keep "
         "the wrong one.",
         PODS, duplicate_env),
    Rule("BK314", Severity.ERROR, "rollout", "env refers to a key its ConfigMap or Secret does not have",
         "Fix the key name, add the key, or mark the reference optional: true.",
         "The kubelet cannot start the container (CreateContainerConfigError) until the key exists.",
         PODS, dangling_env_ref),
    Rule("BK315", Severity.INFO, "security", "Secret read through an environment variable",
         "Mount the Secret as a file (volume) where the program can read it from a file.",
         "Environment variables leak into child processes, crash reports and `kubectl describe`-style "
         "debugging (CIS 5.4.1). The Erlang cookie is exempt: erl puts it on its own command line either way.",
         PODS, secret_through_env),
    Rule("BK608", Severity.WARNING, "security", "Container runs with the root group",
         "Set runAsGroup (and fsGroup) to a non-zero group, e.g. 65534.",
         "Group 0 can read and write files owned by root's group on volumes and in the image.",
         PODS, root_group),
    Rule("BK609", Severity.INFO, "security", "Container runs with a low or unset user or group ID",
         "Set runAsUser and runAsGroup to IDs of 10000 or more (e.g. 65534).",
         "Low IDs collide with host users (a container escape lands as a real host user); unset IDs take "
         "whatever the image says.",
         PODS, low_ids),
    Rule("BK610", Severity.WARNING, "security", "Legacy seccomp annotation",
         "Set securityContext.seccompProfile.type: RuntimeDefault and remove the annotation.",
         "The seccomp.security.alpha.kubernetes.io annotations are deprecated since 1.19 and ignored by "
         "kubelets from 1.25 on: the profile they name is not applied.",
         PODS, legacy_seccomp),
    Rule("BK611", Severity.INFO, "security", "Service account token is mounted but not needed",
         "Set automountServiceAccountToken: false on the pod (or its ServiceAccount).",
         "A token the app never uses lets anyone who gets into the container talk to the API server as it (with "
         "no binding, only to the discovery APIs: hence info, not warning).",
         PODS, automount_token),
    Rule("BK612", Severity.WARNING, "security", "Container binds a hostPort",
         "Remove hostPort; expose the port through a Service.",
         "A hostPort opens the port on the node's address and limits the pod to one per node.",
         PODS, host_port),
    Rule("BK613", Severity.ERROR, "security", "Secret-looking environment variable has a literal value",
         "Take the value from a Secret (valueFrom.secretKeyRef) or a mounted Secret file.",
         "The value sits in the manifest, in version control and in every `kubectl get -o yaml`.",
         PODS, secret_in_env),
    Rule("BK614", Severity.ERROR, "security", "ConfigMap holds a secret",
         "Move the value into a Secret (and mount or reference the Secret).",
         "ConfigMaps are readable by anyone who may read the namespace's configuration and are not encrypted "
         "at rest; the value also sits in version control. (The Erlang cookie is BK808.)",
         frozenset({"ConfigMap"}), secret_in_configmap),
    Rule("BK615", Severity.ERROR, "security", "Container unmasks /proc",
         "Remove securityContext.procMount (or set it to Default).",
         "procMount Unmasked exposes host kernel interfaces that the runtime hides; forbidden by the baseline "
         "Pod Security profile.",
         PODS, unmasked_proc),
    Rule("BK616", Severity.INFO, "security", "Pod uses the namespace's default ServiceAccount",
         "Create a ServiceAccount for the app and set spec.serviceAccountName.",
         "Every pod of the namespace shares the default account: rights granted to one are granted to all.",
         PODS, default_account),
    Rule("BK617", Severity.WARNING, "security", "Pod uses the deprecated serviceAccount field",
         "Use spec.serviceAccountName (and drop spec.serviceAccount).",
         "spec.serviceAccount is a deprecated alias; when the two differ, serviceAccountName wins.",
         PODS, deprecated_account_field),
    Rule("BK618", Severity.ERROR, "security", "Pod mounts a hostPath volume",
         "Use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead of the node's filesystem.",
         "hostPath gives the pod the node's files (the container runtime socket is the node itself); forbidden "
         "by the baseline Pod Security profile.",
         PODS, host_path),
    Rule("BK619", Severity.INFO, "security", "Pod names a ServiceAccount that is not in the input",
         "Add the ServiceAccount to the manifests, or fix the name.",
         "The pod is not created until the account exists (or it lives in another file).",
         PODS, missing_account),
    Rule("BK620", Severity.INFO, "security", "Container uses a privileged port (below 1024)",
         "Listen on a port of 1024 or more; map 80/443 on the Service.",
         "A non-root process needs NET_BIND_SERVICE for it, which the restricted profile only allows as an "
         "explicit add.",
         PODS, low_ports),
    Rule("BK621", Severity.WARNING, "security", "Container exposes the SSH port",
         "Remove port 22; use `kubectl exec` (or the BEAM remote console) instead of an SSH server.",
         "An SSH server in a pod is a second way in, outside Kubernetes' authentication and audit.",
         PODS, ssh_port),
    Rule("BK622", Severity.ERROR, "security", "Pod sets an unsafe sysctl",
         "Remove the sysctl or use one of the safe set (e.g. net.ipv4.ip_local_port_range).",
         "Sysctls outside the safe set affect the whole node or other pods; the kubelet refuses them unless "
         "allowed, and the baseline Pod Security profile forbids them.",
         PODS, unsafe_sysctls),
    Rule("BK308", Severity.INFO, "rollout", "Pod has no priority class",
         "Set spec.priorityClassName (beamkube's spec: priority.className or priority.value).",
         "Without one the pod has the cluster's default priority and is among the first preempted when the "
         "cluster is full.",
         LONG, no_priority, optional=True),
]
