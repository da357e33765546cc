"""BEAM-specific rules: node naming, the cookie, the headless Service, who can reach epmd and the
distribution port, clustered state, schedulers, busy-waiting, writable paths and shutdown time.

Role: pure (no I/O). Only containers `beamkube.audit.beam` recognises as BEAM nodes are checked, so these
rules stay silent on other workloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.beam import (
    EPMD_PORT,
    BeamContainer,
    beam_containers,
    cpu_limit_cores,
    expand,
    identity_sources,
    tokens,
    variables,
)
from beamkube.audit.context import LONG_RUNNING, POD_KINDS, Context, as_list, as_map, headless, pod_spec
from beamkube.audit.model import Hit, Manifest, Rule, Severity
from beamkube.audit.rules.workload import cpu_metric

PODS = frozenset(POD_KINDS)
LONG = frozenset(LONG_RUNNING)
MIN_SHUTDOWN_SECONDS = 15
DEFAULT_GRACE = 30
COOKIE_ENV = re.compile(r"COOKIE", re.IGNORECASE)
_STATE_WORDS = re.compile(r"mnesia|rabbitmq|khepri|\bra_|couchdb|riak|emqx", re.IGNORECASE)
_EPMD_NAMES = frozenset({"epmd", "dist", "erlang-dist", "distribution", "erlang"})


def _key(value: Any) -> str | int | None:
    """A port number or name usable in a set; other types (malformed input) become None."""
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _epmd_name(value: Any) -> bool:
    return isinstance(value, str) and value in _EPMD_NAMES


def _distributed(ctx: Context, m: Manifest) -> list[BeamContainer]:
    return [b for b in beam_containers(ctx, m) if b.distributed]


def _host(value: str) -> str | None:
    return value.split("@", 1)[1] if "@" in value else None


# ---------------------------------------------------------------- naming


def literal_node_name(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in _distributed(ctx, m):
        for where, value, _short in b.node_names():
            host = _host(value)
            if host is None:
                continue
            if not identity_sources(host, b.env) and not any(v not in b.env for v in variables(host)):
                yield Hit(f"{where} = {expand(value, b.env)} in container {b.name}")


def short_names(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in _distributed(ctx, m):
        distribution = b.env.get("RELEASE_DISTRIBUTION")
        if distribution is not None and distribution.value == "sname":
            yield Hit(f"RELEASE_DISTRIBUTION=sname in container {b.name}")
            continue
        names = b.node_names()
        if any(short for _w, _v, short in names):
            yield Hit(f"-sname in container {b.name}")
            continue
        node = b.env.get("RELEASE_NODE")
        if b.flavour == "mix" and node is not None and distribution is None and not b.flag_values("-name"):
            yield Hit(f"RELEASE_NODE without RELEASE_DISTRIBUTION=name in container {b.name} (mix defaults to sname)")
            continue
        for where, value, _short in names:
            host = _host(value)
            if host is None:
                continue
            shown = expand(host, b.env)
            if identity_sources(host, b.env) == {"name"} and "." not in shown:
                yield Hit(f"{where}: host {shown} is a bare pod name in container {b.name}")


def pod_dns_without_statefulset(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind == "StatefulSet" and m.spec.get("serviceName"):
        return
    if m.kind in ("Job", "CronJob", "Pod"):
        return
    spec = pod_spec(m)
    if spec.get("hostname") and spec.get("subdomain"):
        return
    for b in _distributed(ctx, m):
        for where, value, _short in b.node_names():
            host = _host(value)
            if host is None:
                continue
            shown = expand(host, b.env)
            if "name" in identity_sources(host, b.env) and "ip" not in identity_sources(host, b.env) and "." in shown:
                yield Hit(f"{where} = {expand(value, b.env)} on a {m.kind}")


def undefined_variable(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in _distributed(ctx, m):
        if not b.env_complete:
            continue
        for where, value, _short in b.node_names():
            missing = [v for v in variables(value) if v not in b.env and v != "HOSTNAME" and not v.startswith("FIELD")]
            if missing:
                yield Hit(f"{where} uses {', '.join('$' + v for v in missing)}, not set in container {b.name}")


# ---------------------------------------------------------------- headless Service


def no_headless(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in LONG_RUNNING or not _distributed(ctx, m):
        return
    if m.kind == "StatefulSet":
        name = m.spec.get("serviceName")
        if not name:
            yield Hit("StatefulSet has no serviceName")
            return
        service = ctx.get("Service", m.namespace, str(name))
        if service is not None and not headless(service):
            yield Hit(f"serviceName {name} is not headless (clusterIP: None)")
        if service is not None or any(headless(s) for s in ctx.services_for(m)):
            return
        yield Hit(f"serviceName {name} is not in the audited manifests")
        return
    if not any(headless(s) for s in ctx.services_for(m)):
        yield Hit("no Service with clusterIP: None selects the pods")


def _beam_service(ctx: Context, service: Manifest) -> bool:
    """A headless Service meant for Erlang distribution: it selects distributed BEAM pods, or its name or
    ports say epmd/dist."""
    if not headless(service):
        return False
    if any(_distributed(ctx, w) for w in ctx.workloads_selected_by(service, plain=True)):
        return True
    if "epmd" in service.name or "erlang" in service.name:
        return True
    for port in as_list(service.spec.get("ports")):
        port = as_map(port)
        if port.get("port") == EPMD_PORT or _epmd_name(port.get("name")):
            return True
    return False


def not_ready_hidden(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if _beam_service(ctx, m) and m.spec.get("publishNotReadyAddresses") is not True:
        yield Hit("publishNotReadyAddresses is not true")


def _ports_of_selected(ctx: Context, service: Manifest) -> list[int]:
    ports: list[int] = []
    for w in ctx.workloads_selected_by(service, plain=True):
        for b in _distributed(ctx, w):
            ports.extend(b.dist_ports())
    return sorted(set(ports))


def headless_ports(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not _beam_service(ctx, m):
        return
    ports = [as_map(p) for p in as_list(m.spec.get("ports"))]
    numbers = {_key(p.get("port")) for p in ports} | {_key(p.get("targetPort")) for p in ports}
    names = {_key(p.get("name")) for p in ports} | {_key(p.get("targetPort")) for p in ports}
    missing = []
    if EPMD_PORT not in numbers and "epmd" not in names:
        missing.append("epmd (4369)")
    dist = _ports_of_selected(ctx, m)
    has_dist = "dist" in names or any(p in numbers for p in dist) or any(
        isinstance(n, int) and n != EPMD_PORT for n in numbers
    )
    if not has_dist:
        missing.append("dist")
    if missing:
        yield Hit(f"missing port(s): {', '.join(missing)}")


# ---------------------------------------------------------------- cookie


def _literal_setcookie(text_tokens: list[str], env: Mapping[str, Any] | None) -> bool:
    for i, tok in enumerate(text_tokens[:-1]):
        if tok == "-setcookie":
            value = text_tokens[i + 1]
            names = variables(value)
            if not names:
                return True
            if env is not None:
                for name in names:
                    var = env.get(name)
                    if var is not None and var.source in ("value", "configmap"):
                        return True
    return False


def cookie_literal(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind == "ConfigMap":
        for key, value in sorted(as_map(m.obj.get("data")).items()):
            if COOKIE_ENV.search(str(key)):
                yield Hit(f"ConfigMap key {key}")
            elif isinstance(value, str) and _literal_setcookie(tokens(value), None):
                yield Hit(f"-setcookie with a literal value in key {key}")
        return
    for b in beam_containers(ctx, m):
        for name, var in sorted(b.env.items()):
            if COOKIE_ENV.search(name) and var.source == "value" and var.value:
                yield Hit(f"env {name} has a literal value in container {b.name}")
            elif COOKIE_ENV.search(name) and var.source == "configmap":
                yield Hit(f"env {name} comes from a ConfigMap in container {b.name}")
        command_flags = [t for t in b.flags]
        if _literal_setcookie(command_flags, b.env):
            yield Hit(f"-setcookie resolves to a literal in container {b.name}")


# ---------------------------------------------------------------- exposure


def _exposes_dist(ports: list[Mapping[str, Any]], dist: list[int]) -> list[str]:
    found = []
    for p in ports:
        values = {p.get("port"), p.get("targetPort"), p.get("nodePort")}
        named = _epmd_name(p.get("name")) or _epmd_name(p.get("targetPort"))
        if EPMD_PORT in values or named or any(d in values for d in dist):
            found.append(str(p.get("name") or p.get("port")))
    return found


def dist_exposed(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind == "Service":
        kind = m.spec.get("type", "ClusterIP")
        if kind not in ("LoadBalancer", "NodePort") and not m.spec.get("externalIPs"):
            return
        exposed = _exposes_dist([as_map(p) for p in as_list(m.spec.get("ports"))], _ports_of_selected(ctx, m))
        if exposed:
            yield Hit(f"{kind} Service exposes {', '.join(exposed)}")
        return
    beams = beam_containers(ctx, m)
    if not beams:
        return
    if pod_spec(m).get("hostNetwork") is True and any(b.distributed for b in beams):
        yield Hit("hostNetwork: true puts epmd and distribution on the node's network")
    for b in beams:
        for port in as_list(b.container.get("ports")):
            port = as_map(port)
            number = port.get("containerPort")
            is_dist = number == EPMD_PORT or _epmd_name(port.get("name")) or number in b.dist_ports()
            if is_dist and port.get("hostPort"):
                yield Hit(f"hostPort {port.get('hostPort')} for {port.get('name') or number} in container {b.name}")


def _peer_outside(peer: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    from beamkube.audit.context import label_selector_matches

    if "ipBlock" in peer or "namespaceSelector" in peer:
        return True
    selector = peer.get("podSelector")
    return not isinstance(selector, Mapping) or not selector or not label_selector_matches(selector, labels)


def _rule_opens(rule: Mapping[str, Any], dist: list[int], labels: Mapping[str, Any]) -> bool:
    peers = [as_map(p) for p in as_list(rule.get("from"))]
    if peers and not any(_peer_outside(p, labels) for p in peers):
        return False
    ports = [as_map(p) for p in as_list(rule.get("ports"))]
    if not ports:
        return True
    for p in ports:
        port, end = p.get("port"), p.get("endPort")
        if port in (EPMD_PORT, "epmd", "dist") or port in dist:
            return True
        if isinstance(port, int) and isinstance(end, int) and any(port <= d <= end for d in [EPMD_PORT, *dist]):
            return True
    return False


def dist_unfenced(ctx: Context, m: Manifest) -> Iterator[Hit]:
    beams = _distributed(ctx, m)
    if m.kind not in LONG_RUNNING or not beams:
        return
    from beamkube.audit.context import pod_labels

    labels = pod_labels(m)
    policies = [p for p in ctx.policies_for(m) if "Ingress" in _types(p)]
    if not policies:
        yield Hit("no NetworkPolicy restricts ingress to epmd (4369) and the distribution port")
        return
    dist = sorted({port for b in beams for port in b.dist_ports()})
    for policy in policies:
        for rule in as_list(policy.spec.get("ingress")):
            if _rule_opens(as_map(rule), dist, labels):
                yield Hit(f"NetworkPolicy {policy.name} admits other clients to epmd/distribution")
                break


def _types(policy: Manifest) -> list[str]:
    types = as_list(policy.spec.get("policyTypes"))
    if types:
        return [str(t) for t in types]
    return ["Ingress", "Egress"] if "egress" in policy.spec else ["Ingress"]


def dist_unpinned(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in LONG_RUNNING:
        return
    for b in _distributed(ctx, m):
        if b.flags_complete and not b.dist_ports() and b.env.get("ERL_DIST_PORT") is None:
            yield Hit(f"container {b.name}")


# ---------------------------------------------------------------- runtime


def state_on_deployment(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in ("Deployment", "ReplicaSet"):
        return
    spec = pod_spec(m)
    claims = [str(as_map(v).get("name")) for v in as_list(spec.get("volumes")) if "persistentVolumeClaim" in as_map(v)]
    beams = beam_containers(ctx, m)
    for c in as_list(spec.get("containers")):
        c = as_map(c)
        image = str(c.get("image", ""))
        is_beam = any(b.name == c.get("name") for b in beams)
        words = " ".join([image, *(str(as_map(e).get("name", "")) for e in as_list(c.get("env")))])
        beam = next((b for b in beams if b.name == c.get("name")), None)
        if beam is not None:
            words += " " + " ".join(beam.flags)
        match = _STATE_WORDS.search(words)
        if match and (is_beam or "rabbitmq" in image.lower()):
            yield Hit(f"container {c.get('name')} keeps {match.group(0).lower()} state keyed on the node name")
        elif is_beam and claims and beam is not None and beam.distributed:
            yield Hit(f"clustered container {c.get('name')} mounts a PersistentVolumeClaim ({claims[0]})")


def busy_wait(ctx: Context, m: Manifest) -> Iterator[Hit]:
    hpas = [h for h in ctx.hpas_for(m) if cpu_metric(h)]
    if not hpas:
        return
    for b in beam_containers(ctx, m):
        if b.flags_complete and not b.busy_wait_off():
            yield Hit(f"HPA {hpas[0].name} scales on CPU; container {b.name} busy-waits")


def schedulers_mismatch(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in beam_containers(ctx, m):
        cores = cpu_limit_cores(b.container)
        for count in b.schedulers():
            if cores is not None and count != cores:
                yield Hit(f"+S {count} with a CPU limit of {cores} core(s) in container {b.name}")


def schedulers_unset(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in LONG_RUNNING:
        return
    for b in beam_containers(ctx, m):
        if b.flags_complete and cpu_limit_cores(b.container) is not None and not b.schedulers():
            yield Hit(f"container {b.name} relies on OTP's CPU-quota detection")


_WRITABLE_SOURCES = ("emptyDir", "persistentVolumeClaim", "hostPath", "ephemeral", "nfs")
_RELEASE_DIR = {"mix": "RELEASE_TMP", "relx": "RELX_OUT_FILE_PATH", "distillery": "RELEASE_MUTABLE_DIR"}


def _writable_mounts(m: Manifest, container: Mapping[str, Any]) -> list[str]:
    kinds = {}
    for volume in as_list(pod_spec(m).get("volumes")):
        volume = as_map(volume)
        kinds[str(volume.get("name"))] = any(k in volume for k in _WRITABLE_SOURCES)
    return [
        str(as_map(mount).get("mountPath", "")).rstrip("/") or "/"
        for mount in as_list(container.get("volumeMounts"))
        if kinds.get(str(as_map(mount).get("name"))) and not as_map(mount).get("readOnly")
    ]


def _under(path: str, mounts: list[str]) -> bool:
    path = path.rstrip("/")
    return any(path == mount or path.startswith(mount + "/") or mount == "/" for mount in mounts)


def _read_only_root(m: Manifest, container: Mapping[str, Any]) -> bool:
    return as_map(container.get("securityContext")).get("readOnlyRootFilesystem") is True


def release_dir_read_only(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in beam_containers(ctx, m):
        if not _read_only_root(m, b.container) or b.flavour not in _RELEASE_DIR:
            continue
        var = _RELEASE_DIR[b.flavour]
        env = b.env.get(var)
        value = env.value if env is not None else None
        if not value:
            yield Hit(f"{var} is not set in container {b.name} ({b.flavour} release)")
        elif not _under(value, _writable_mounts(m, b.container)):
            yield Hit(f"{var}={value} is not on a writable volume in container {b.name}")


def crash_dump_read_only(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for b in beam_containers(ctx, m):
        if not _read_only_root(m, b.container):
            continue
        env = b.env.get("ERL_CRASH_DUMP")
        value = env.value if env is not None else None
        if not value:
            yield Hit(f"ERL_CRASH_DUMP is not set in container {b.name}")
        elif value != "/dev/null" and not _under(value.rsplit("/", 1)[0] or "/", _writable_mounts(m, b.container)):
            yield Hit(f"ERL_CRASH_DUMP={value} is not on a writable volume in container {b.name}")


def _pre_stop_seconds(container: Mapping[str, Any]) -> int:
    pre_stop = as_map(as_map(container.get("lifecycle")).get("preStop"))
    sleep = as_map(pre_stop.get("sleep")).get("seconds")
    if isinstance(sleep, int):
        return sleep
    words = [str(w) for w in as_list(as_map(pre_stop.get("exec")).get("command"))]
    text = " ".join(words)
    match = re.search(r"\bsleep\s+(\d+)", text)
    # A drain hook (beamkube's shutdown.drain: `timeout N <release> rpc ...; sleep S`) may use up to N more.
    drain = re.search(r"\btimeout\s+(?:-\S+\s+)*(\d+)", text)
    return (int(match.group(1)) if match else 0) + (int(drain.group(1)) if drain else 0)


def short_grace(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in LONG_RUNNING:
        return
    beams = beam_containers(ctx, m)
    if not beams:
        return
    grace = pod_spec(m).get("terminationGracePeriodSeconds", DEFAULT_GRACE)
    if not isinstance(grace, int):
        return
    pre_stop = max(_pre_stop_seconds(b.container) for b in beams)
    if grace - pre_stop < MIN_SHUTDOWN_SECONDS:
        extra = f" after a {pre_stop}s preStop" if pre_stop else ""
        yield Hit(f"{max(grace - pre_stop, 0)}s left for init:stop{extra}")


WORKLOADS = frozenset(LONG_RUNNING)

RULES = [
    Rule("BK801", Severity.ERROR, "beam", "Node name is not derived from the pod's identity",
         "Build the node name from the downward API: RELEASE_NODE=app@$(POD_IP) with POD_IP from status.podIP, "
         "or app@$(POD_NAME).<headless>.<ns>.svc.cluster.local on a StatefulSet.",
         "Every replica gets the same node name: nodes refuse each other and only one can join the cluster.",
         PODS, literal_node_name),
    Rule("BK802", Severity.WARNING, "beam", "Node uses short names (sname)",
         "Use long names: RELEASE_DISTRIBUTION=name (mix) or -name in vm.args, with an IP or a FQDN host.",
         "Short names need every pod's bare host name to resolve on every other pod, which Kubernetes DNS does "
         "not provide; mix releases default to sname.",
         PODS, short_names),
    Rule("BK803", Severity.ERROR, "beam", "Node name uses a pod DNS name the workload does not publish",
         "Run it as a StatefulSet with serviceName set to a headless Service, or name nodes after $(POD_IP).",
         "Only StatefulSet pods (or pods with hostname+subdomain) get <pod>.<service>.<ns>.svc records; peers "
         "cannot resolve the node.",
         PODS, pod_dns_without_statefulset),
    Rule("BK804", Severity.WARNING, "beam", "Node name uses a variable the container does not set",
         "Define the variable in the container's env (e.g. from the downward API).",
         "REPLACE_OS_VARS/relx substitute an unset variable with an empty string, giving a broken node name.",
         PODS, undefined_variable),
    Rule("BK805", Severity.WARNING, "beam", "No headless Service for the BEAM cluster",
         "Add a Service with clusterIP: None selecting the pods (and set it as the StatefulSet's serviceName).",
         "DNS discovery (libcluster DNS, dns_cluster) and pod DNS names need a headless Service.",
         WORKLOADS, no_headless),
    Rule("BK806", Severity.WARNING, "beam", "Headless Service hides pods that are not ready",
         "Set publishNotReadyAddresses: true on the headless Service.",
         "Nodes must find their peers before they are ready; otherwise a StatefulSet started in Parallel "
         "forms separate clusters and a restarted node cannot rejoin before its readiness probe passes.",
         frozenset({"Service"}), not_ready_hidden),
    Rule("BK807", Severity.WARNING, "beam", "Headless Service does not declare epmd and distribution ports",
         "Declare port 4369 named epmd and the pinned distribution port named dist.",
         "SRV discovery (_dist._tcp...), service meshes and NetworkPolicies work from declared ports.",
         frozenset({"Service"}), headless_ports),
    Rule("BK808", Severity.ERROR, "beam", "Erlang cookie is not taken from a Secret",
         "Put the cookie in a Secret and reference it with env valueFrom.secretKeyRef (RELEASE_COOKIE), or "
         "-setcookie ${VAR} with VAR from the Secret.",
         "Anyone who can read the manifest, the ConfigMap or the repository can connect to the cluster and run "
         "any code on it.",
         frozenset({*POD_KINDS, "ConfigMap"}), cookie_literal),
    Rule("BK809", Severity.ERROR, "beam", "epmd or the distribution port is exposed outside the cluster",
         "Expose only the web port through LoadBalancer/NodePort; drop hostPort/hostNetwork for 4369 and dist.",
         "Erlang distribution is remote code execution for whoever knows (or guesses) the cookie.",
         frozenset({*POD_KINDS, "Service"}), dist_exposed),
    Rule("BK810", Severity.WARNING, "beam", "epmd/distribution reachable from outside the app",
         "Add a NetworkPolicy admitting 4369 and the dist port only from the app's own pods (podSelector).",
         "Without it any pod in the cluster can reach the distribution port and try the cookie.",
         WORKLOADS, dist_unfenced),
    Rule("BK811", Severity.INFO, "beam", "Distribution port is not pinned",
         "Pin it: -kernel inet_dist_listen_min 9000 -kernel inet_dist_listen_max 9000 in vm.args.",
         "A random port cannot be named in a Service, a NetworkPolicy or a mesh configuration.",
         WORKLOADS, dist_unpinned),
    Rule("BK901", Severity.WARNING, "beam", "Clustered state on a Deployment",
         "Use a StatefulSet with a headless Service and node names from the pod name "
         "(app@$(POD_NAME).<headless>.<ns>.svc.cluster.local) and volumeClaimTemplates.",
         "Mnesia, RabbitMQ and similar key their data on the node name, which changes with every Deployment "
         "pod: a restarted pod is a stranger to the cluster and its data is orphaned.",
         frozenset({"Deployment", "ReplicaSet"}), state_on_deployment),
    Rule("BK902", Severity.WARNING, "beam", "CPU-based HPA with scheduler busy-waiting on",
         "Add +sbwt none +sbwtdcpu none +sbwtdio none to vm.args (or ERL_AFLAGS).",
         "Idle schedulers spin before sleeping: the CPU the HPA sees is inflated and it scales out for nothing.",
         WORKLOADS, busy_wait),
    Rule("BK903", Severity.WARNING, "beam", "Schedulers do not match the CPU limit",
         "Set +S N:N with N = the CPU limit rounded up to whole cores.",
         "More schedulers than cores under a CFS quota means throttling and latency spikes; fewer wastes CPU.",
         PODS, schedulers_mismatch),
    Rule("BK904", Severity.INFO, "beam", "Schedulers are not set for a CPU-limited container",
         "Set +S N:N with N = the CPU limit rounded up.",
         "OTP 23+ reads the CFS quota, but some 25-27 builds regressed (otp#8450); an explicit +S is certain.",
         WORKLOADS, schedulers_unset),
    Rule("BK905", Severity.ERROR, "beam", "Read-only root filesystem without a writable release directory",
         "Mount an emptyDir at /tmp and set RELEASE_TMP=/tmp/release (mix), RELX_OUT_FILE_PATH=/tmp (relx: it "
         "must already exist) or RELEASE_MUTABLE_DIR=/tmp/release (Distillery).",
         "The start script writes generated vm.args/sys.config there; on a read-only root the release fails to "
         "boot.",
         PODS, release_dir_read_only),
    Rule("BK906", Severity.WARNING, "beam", "Read-only root filesystem without a writable crash dump path",
         "Set ERL_CRASH_DUMP=/tmp/erl_crash.dump with an emptyDir at /tmp.",
         "The crash dump that explains a VM crash cannot be written.",
         PODS, crash_dump_read_only),
    Rule("BK907", Severity.WARNING, "beam", "Termination grace period too short for an OTP shutdown",
         f"Give init:stop at least {MIN_SHUTDOWN_SECONDS}s after the preStop hook "
         "(terminationGracePeriodSeconds >= preStop + 15, e.g. 45).",
         "SIGTERM makes the VM stop applications in order (supervisor shutdown timeouts, draining connections, "
         "handing over state); the kubelet sends SIGKILL when the grace period ends.",
         WORKLOADS, short_grace),
]
