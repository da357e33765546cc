"""Rules on how workloads run: resources & QoS, probes, rollout & replicas, disruption budgets, placement,
autoscaling.

Role: pure (no I/O). Each rule is data (`Rule`) plus a check yielding `Hit`s; QoS comes from
`beamkube.render.qos.pod_qos`, quantities from `beamkube.quantity`, as in the renderer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.context import (
    LONG_RUNNING,
    POD_KINDS,
    SCALABLE,
    Context,
    Replicas,
    as_list,
    as_map,
    containers,
    label_selector_matches,
    pod_labels,
    pod_spec,
    pod_template,
)
from beamkube.audit.model import Hit, Manifest, Rule, Severity
from beamkube.quantity import QuantityError, cpu_millicores, memory_bytes
from beamkube.render.qos import pod_qos

PODS = frozenset(POD_KINDS)
LONG = frozenset(LONG_RUNNING)
SCALE = frozenset(SCALABLE)
MIN_BOOT_SECONDS = 30
_VM_PROBE = re.compile(r"(?:^|/)bin/[\w.@-]+$")
_VM_COMMANDS = ("rpc", "eval", "remote", "pid", "ping", "remote_console", "rpcterms", "command")


# ---------------------------------------------------------------- resources & QoS


def _amount(container: Mapping[str, Any], part: str, name: str) -> Any:
    return as_map(as_map(container.get("resources")).get(part)).get(name)


def _valid_amounts(part: Any) -> dict[str, Any]:
    """Only the cpu/memory amounts that parse (BK105 reports the others), so QoS never sees junk."""
    out: dict[str, Any] = {}
    for name, parse in (("cpu", cpu_millicores), ("memory", memory_bytes)):
        value = as_map(part).get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                parse(value)
            except (QuantityError, ArithmeticError, ValueError):
                continue
            out[name] = value
    return out


def qos_class(m: Manifest) -> str:
    """The pod's QoS class (renderer's `pod_qos`) over well-formed resource amounts (memoized per object)."""
    known: str | None = m.__dict__.get("_qos")
    if known is not None:
        return known
    cleaned = []
    for c in containers(m):
        resources = as_map(c.get("resources"))
        parts = {k: _valid_amounts(resources.get(k)) for k in ("requests", "limits") if resources.get(k)}
        cleaned.append({"resources": parts})
    klass: str = pod_qos(cleaned).klass
    m.__dict__["_qos"] = klass
    return klass


def best_effort(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if containers(m) and qos_class(m) == "BestEffort":
        yield Hit("no container sets requests or limits")


def no_memory_limit(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not containers(m) or qos_class(m) == "BestEffort":
        return  # BK101 already says it
    for c in containers(m):
        if _amount(c, "limits", "memory") is None:
            yield Hit(f"container {c.get('name')}")


def memory_overcommit(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        request, limit = _amount(c, "requests", "memory"), _amount(c, "limits", "memory")
        if request is None or limit is None:
            continue
        try:
            if memory_bytes(request) < memory_bytes(limit):
                yield Hit(f"container {c.get('name')}: request {request} < limit {limit}")
        except (QuantityError, TypeError, AttributeError, ArithmeticError, ValueError):
            continue


def no_cpu_request(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not containers(m) or qos_class(m) == "BestEffort":
        return
    for c in containers(m):
        if _amount(c, "requests", "cpu") is None and _amount(c, "limits", "cpu") is None:
            yield Hit(f"container {c.get('name')}")


def bad_amounts(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        for name, parse in (("cpu", cpu_millicores), ("memory", memory_bytes)):
            request, limit = _amount(c, "requests", name), _amount(c, "limits", name)
            try:
                req = parse(request) if request is not None else None
                lim = parse(limit) if limit is not None else None
                if isinstance(request, bool) or isinstance(limit, bool):
                    raise QuantityError("bool")
            except (QuantityError, TypeError, AttributeError, ArithmeticError, ValueError):
                yield Hit(f"container {c.get('name')}: {name} {request if request is not None else limit!r} "
                          "is not a quantity")
                continue
            if req is not None and lim is not None and req > lim:
                yield Hit(f"container {c.get('name')}: {name} request {request} > limit {limit}")


# ---------------------------------------------------------------- probes


def _long_running(m: Manifest) -> bool:
    return m.kind in LONG_RUNNING


def no_readiness(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        if "readinessProbe" not in c:
            yield Hit(f"container {c.get('name')}")


def no_liveness(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        if "livenessProbe" not in c:
            yield Hit(f"container {c.get('name')}")


def same_probes(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        live, ready = c.get("livenessProbe"), c.get("readinessProbe")
        if isinstance(live, Mapping) and live and live == ready:
            yield Hit(f"container {c.get('name')}")


def _probes(c: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c.get(key)
        if isinstance(probe, Mapping):
            yield key, probe


def _exec_words(probe: Mapping[str, Any]) -> list[str]:
    words: list[str] = []
    for part in as_list(as_map(probe.get("exec")).get("command")):
        words.extend(str(part).split())
    return words


def mix_probe(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        for key, probe in _probes(c):
            words = _exec_words(probe)
            if any(w == "mix" or w.endswith("/mix") for w in words):
                yield Hit(f"container {c.get('name')} {key}: {' '.join(words)[:60]}")


def vm_probe(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        for key, probe in _probes(c):
            words = _exec_words(probe)
            for i, word in enumerate(words):
                spawns = word in ("erl", "escript", "elixir", "iex") or word.endswith(("/erl", "/escript"))
                if _VM_PROBE.search(word) and i + 1 < len(words) and words[i + 1] in _VM_COMMANDS:
                    spawns = True
                if spawns:
                    yield Hit(f"container {c.get('name')} {key}: {' '.join(words)[:60]}")
                    break


def hasty_liveness(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in containers(m):
        live = c.get("livenessProbe")
        if not isinstance(live, Mapping) or isinstance(c.get("startupProbe"), Mapping):
            continue
        budget = _int(live.get("initialDelaySeconds"), 0) + _int(live.get("periodSeconds"), 10) * _int(
            live.get("failureThreshold"), 3
        )
        if budget < MIN_BOOT_SECONDS:
            yield Hit(f"container {c.get('name')}: killed after {budget}s without a startupProbe")


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# ---------------------------------------------------------------- rollout & replicas


def single_replica(ctx: Context, m: Manifest) -> Iterator[Hit]:
    replicas = ctx.replicas(m)
    if m.kind in SCALABLE and not replicas.scaled and replicas.low < 2:
        yield Hit(replicas.describe(replicas.low))


def selector_mismatch(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in SCALABLE and m.kind != "DaemonSet":
        return
    selector = m.spec.get("selector")
    labels = pod_labels(m)
    if not isinstance(selector, Mapping) or not selector:
        yield Hit("spec.selector is missing (required by apps/v1)")
    elif not labels:
        yield Hit("the pod template has no labels")
    elif not label_selector_matches(selector, labels):
        yield Hit("spec.selector does not match spec.template.metadata.labels")


def no_containers(ctx: Context, m: Manifest) -> Iterator[Hit]:
    template = pod_template(m)
    if not containers(m):
        stray = " (`containers` sits beside the pod `spec`, not inside it)" if "containers" in template else ""
        yield Hit(f"no containers in the pod template{stray}")


def _scaled(value: Any, replicas: int, round_up: bool) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            share = float(value[:-1]) * replicas / 100
        except ValueError:
            return None
        return math.ceil(share) if round_up else math.floor(share)
    return None


def rolling_update(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind != "Deployment":
        return
    strategy = as_map(m.spec.get("strategy"))
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return
    rolling = as_map(strategy.get("rollingUpdate"))
    replicas = ctx.replicas(m)
    for count in replicas.counts:  # the HPA minimum and the declared replicas, each must roll safely
        unavailable = _scaled(rolling.get("maxUnavailable", "25%"), count, round_up=False)
        surge = _scaled(rolling.get("maxSurge", "25%"), count, round_up=True)
        if unavailable == 0 and surge == 0:
            yield Hit("spec.strategy.rollingUpdate: maxSurge and maxUnavailable are both 0 at "
                      f"{replicas.describe(count)}: the rollout can never progress")
        elif unavailable is not None and count >= 1 and unavailable >= count:
            yield Hit(f"spec.strategy.rollingUpdate.maxUnavailable {rolling.get('maxUnavailable')} may stop all "
                      f"pods at {replicas.describe(count)}")


_STRATEGY_FIELD = {"Deployment": "strategy", "StatefulSet": "updateStrategy", "DaemonSet": "updateStrategy"}
_STRATEGY_TYPES = {
    "Deployment": ("RollingUpdate", "Recreate"),
    "StatefulSet": ("RollingUpdate", "OnDelete"),
    "DaemonSet": ("RollingUpdate", "OnDelete"),
}


def unknown_strategy(ctx: Context, m: Manifest) -> Iterator[Hit]:
    field_name = _STRATEGY_FIELD[m.kind]
    strategy = m.spec.get(field_name)
    if strategy is None:
        return
    kind = as_map(strategy).get("type", "RollingUpdate")
    if kind not in _STRATEGY_TYPES[m.kind]:
        allowed = " or ".join(_STRATEGY_TYPES[m.kind])
        yield Hit(f"spec.{field_name}.type {kind!r} (allowed: {allowed})")


def on_delete(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if as_map(m.spec.get("updateStrategy")).get("type") == "OnDelete":
        yield Hit("spec.updateStrategy.type OnDelete")


def recreate(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind == "Deployment" and as_map(m.spec.get("strategy")).get("type") == "Recreate":
        yield Hit("strategy Recreate")


# ---------------------------------------------------------------- disruption budgets & placement


def no_pdb(ctx: Context, m: Manifest) -> Iterator[Hit]:
    replicas = ctx.replicas(m)
    if m.kind in SCALABLE and replicas.high >= 2 and not ctx.pdbs_for(m):
        yield Hit(_runs(replicas))


def _runs(replicas: Replicas) -> str:
    if replicas.scaled:
        declared = f", replicas {replicas.declared}" if replicas.declared is not None else ""
        return f"HPA minReplicas {replicas.hpa_min}, maxReplicas {replicas.hpa_max}{declared}"
    return replicas.describe(replicas.low)


def _percent(value: Any) -> float | None:
    if isinstance(value, str) and value.endswith("%"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    return None


def pdb_blocks(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = m.spec
    if spec.get("maxUnavailable") in (0, "0%", "0"):
        yield Hit(f"spec.maxUnavailable {spec.get('maxUnavailable')} never allows an eviction")
        return
    min_available = spec.get("minAvailable")
    if min_available is None:
        return
    share = _percent(min_available)
    if share is not None and share >= 100:
        yield Hit(f"spec.minAvailable {min_available} never allows an eviction")
        return
    # The disruption controller's expected count is the sum of the scale of every workload owning a
    # selected pod; the fewest pods they may run (HPA minimum, else replicas) is when the budget bites.
    workloads = [w for w in ctx.workloads_selected_by(m) if w.kind in SCALABLE]
    if not workloads:
        return
    counts = [ctx.replicas(w) for w in workloads]
    expected = sum(r.low for r in counts)
    needed = _scaled(min_available, expected, round_up=True)
    if needed is not None and needed >= expected:
        if len(workloads) == 1:
            what = f"{counts[0].describe(expected)} of {workloads[0].kind} {workloads[0].name}"
        else:
            what = f"{expected} pods of {len(workloads)} workloads"
        yield Hit(f"spec.minAvailable {min_available} >= {what}")


_BUDGET_FIELDS = ("minAvailable", "maxUnavailable")


def pdb_invalid(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = m.spec
    present = [f for f in _BUDGET_FIELDS if spec.get(f) is not None]
    if len(present) == 2:
        yield Hit("spec sets both minAvailable and maxUnavailable (the API allows one)")
    elif not present:
        yield Hit("spec sets neither minAvailable nor maxUnavailable")
    for name in present:
        value = spec[name]
        share = _percent(value)
        if isinstance(value, bool) or not isinstance(value, int | str):
            continue  # a wrong type: BK001 territory for the API server's schema
        if isinstance(value, int) and value < 0:
            yield Hit(f"spec.{name} {value} is negative")
        elif isinstance(value, str) and (share is None or share < 0 or share > 100):
            yield Hit(f"spec.{name} {value!r} is not a percentage between 0% and 100%")


def pdb_unhealthy_policy(ctx: Context, m: Manifest) -> Iterator[Hit]:
    # The field exists from Kubernetes 1.27 (beta, on by default; GA in 1.31).
    unset = m.spec.get("unhealthyPodEvictionPolicy") is None
    if m.api_version == "policy/v1" and ctx.kube_version >= (1, 27) and unset:
        yield Hit("spec.unhealthyPodEvictionPolicy unset (IfHealthyBudget)")


def pdb_orphan(ctx: Context, m: Manifest) -> Iterator[Hit]:
    selector = as_map(m.spec.get("selector"))
    if not selector:
        yield Hit("no selector")
    elif not ctx.workloads_selected_by(m):
        yield Hit("no workload in the audited manifests matches its selector")


def _anti_affinity_terms(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    anti = as_map(as_map(spec.get("affinity")).get("podAntiAffinity"))
    terms = [as_map(t) for t in as_list(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))]
    for weighted in as_list(anti.get("preferredDuringSchedulingIgnoredDuringExecution")):
        terms.append(as_map(as_map(weighted).get("podAffinityTerm")))
    return terms


def malformed_preferred(ctx: Context, m: Manifest) -> Iterator[Hit]:
    affinity = as_map(pod_spec(m).get("affinity"))
    for kind in ("podAntiAffinity", "podAffinity"):
        for term in as_list(as_map(affinity.get(kind)).get("preferredDuringSchedulingIgnoredDuringExecution")):
            term = as_map(term)
            if "podAffinityTerm" not in term or "weight" not in term:
                stray = [k for k in ("labelSelector", "topologyKey") if k in term]
                where = f" ({', '.join(stray)} written outside podAffinityTerm)" if stray else ""
                yield Hit(f"{kind} preferred term without podAffinityTerm and weight{where}")


def no_spread(ctx: Context, m: Manifest) -> Iterator[Hit]:
    replicas = ctx.replicas(m)
    if m.kind not in SCALABLE or replicas.high < 2:
        return
    spec = pod_spec(m)
    if not _anti_affinity_terms(spec) and not as_list(spec.get("topologySpreadConstraints")):
        yield Hit(f"{_runs(replicas)}: pods may share one node")


def spread_mismatch(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = pod_spec(m)
    labels = pod_labels(m)
    for term in _anti_affinity_terms(spec):
        if not term:
            continue  # a malformed preferred term: BK454
        selector = as_map(term.get("labelSelector"))
        if not selector or not label_selector_matches(selector, labels):
            yield Hit("podAntiAffinity labelSelector does not match this pod's labels")
        elif not _term_covers_own_namespace(term, m.namespace):
            yield Hit(f"podAntiAffinity namespaces {as_list(term.get('namespaces'))} leave out the pod's own "
                      f"namespace {m.namespace}")
        if not term.get("topologyKey"):
            yield Hit("podAntiAffinity term without topologyKey")
    for item in as_list(spec.get("topologySpreadConstraints")):
        selector = as_map(as_map(item).get("labelSelector"))
        if not selector or not label_selector_matches(selector, labels):
            yield Hit("topologySpreadConstraints labelSelector does not match this pod's labels")


def _term_covers_own_namespace(term: Mapping[str, Any], namespace: str) -> bool:
    """A term looks at the pod's own namespace unless `namespaces` lists others (a namespaceSelector,
    `{}` meaning all, may add namespaces back: beamkube cannot see namespace labels, so it trusts it)."""
    names = as_list(term.get("namespaces"))
    if not names or "namespaceSelector" in term:
        return True
    return namespace in [str(n) for n in names]


_OLD_TOPOLOGY = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
}


def old_topology(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = pod_spec(m)
    keys = [t.get("topologyKey") for t in _anti_affinity_terms(spec)]
    keys += [as_map(t).get("topologyKey") for t in as_list(spec.get("topologySpreadConstraints"))]
    for key in keys:
        if isinstance(key, str) and key in _OLD_TOPOLOGY:
            yield Hit(f"{key} → {_OLD_TOPOLOGY[key]}")


# ---------------------------------------------------------------- autoscaling


def cpu_metric(hpa: Manifest) -> bool:
    """Whether an HPA (v1, v2beta1, v2beta2 or v2) scales on CPU."""
    if hpa.spec.get("targetCPUUtilizationPercentage") is not None:
        return True
    for metric in as_list(hpa.spec.get("metrics")):
        metric = as_map(metric)
        for key in ("resource", "containerResource"):
            if as_map(metric.get(key)).get("name") == "cpu":
                return True
    return False


def memory_metric(hpa: Manifest) -> bool:
    for metric in as_list(hpa.spec.get("metrics")):
        metric = as_map(metric)
        for key in ("resource", "containerResource"):
            if as_map(metric.get(key)).get("name") == "memory":
                return True
    return False


def hpa_bounds(ctx: Context, m: Manifest) -> Iterator[Hit]:
    low, high = m.spec.get("minReplicas", 1), m.spec.get("maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield Hit(f"minReplicas {low} > maxReplicas {high}")
    if m.spec.get("scaleTargetRef") is None:
        yield Hit("no scaleTargetRef")


def hpa_min_one(ctx: Context, m: Manifest) -> Iterator[Hit]:
    low = m.spec.get("minReplicas", 1)
    if isinstance(low, int) and low < 2:
        yield Hit(f"minReplicas {low}")


def hpa_cpu_without_request(ctx: Context, m: Manifest) -> Iterator[Hit]:
    target = ctx.target_of(m)
    if target is None or not cpu_metric(m):
        return
    for c in containers(target):
        if _amount(c, "requests", "cpu") is None and _amount(c, "limits", "cpu") is None:
            yield Hit(f"container {c.get('name')} of {target.kind} {target.name}")


# Managers that set a workload's replica count without declaring it in a manifest: beamkube sets the initial
# count of an autoscaled workload once, under its own manager (the HPA writes through the /scale subresource).
_NOT_DECLARING = frozenset({"beamkube-initial-replicas"})


def replicas_declared(obj: Mapping[str, Any]) -> bool:
    """Whether a manifest declares `spec.replicas`.

    In a file that is the field's presence. An object read back from a server (it carries managedFields) always
    has `replicas`: the server defaults it to 1 and the HPA rewrites it. There the question is whether an
    applier owns it: a managedFields entry outside the /scale subresource owning `f:spec.f:replicas`, or
    kubectl's client-side last-applied annotation carrying it.
    """
    meta = as_map(obj.get("metadata"))
    managed = meta.get("managedFields")
    if not isinstance(managed, list) or not managed:
        return "replicas" in as_map(obj.get("spec"))
    last_applied = as_map(meta.get("annotations")).get("kubectl.kubernetes.io/last-applied-configuration")
    if isinstance(last_applied, str) and '"replicas"' in last_applied:
        return True
    for entry in managed:
        if not isinstance(entry, Mapping) or entry.get("subresource") or entry.get("manager") in _NOT_DECLARING:
            continue
        if "f:replicas" in as_map(as_map(entry.get("fieldsV1")).get("f:spec")):
            return True
    return False


def hpa_fights_replicas(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind in SCALABLE and ctx.hpas_for(m) and replicas_declared(m.obj):
        yield Hit(f"replicas {m.spec.get('replicas')} and HPA {ctx.hpas_for(m)[0].name}")


def hpa_no_target(ctx: Context, m: Manifest) -> Iterator[Hit]:
    ref = as_map(m.spec.get("scaleTargetRef") or m.spec.get("targetRef"))
    if ref and ctx.target_of(m) is None:
        yield Hit(f"{ref.get('kind')} {ref.get('name')} is not in the audited manifests")


def vpa_fights_hpa(ctx: Context, m: Manifest) -> Iterator[Hit]:
    target = ctx.target_of(m)
    if target is None:
        return
    mode = as_map(m.spec.get("updatePolicy")).get("updateMode", "Auto")
    if mode == "Off":
        return
    for hpa in ctx.hpas_for(target):
        if cpu_metric(hpa) or memory_metric(hpa):
            yield Hit(f"VPA mode {mode} and HPA {hpa.name} both act on {target.kind} {target.name}")


def vpa_misplaced_mode(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if "updateMode" in m.spec:
        policy = m.spec.get("updatePolicy")
        mode = as_map(policy).get("updateMode", "Auto")
        yield Hit(f"spec.updateMode {m.spec['updateMode']!r} is ignored; the VPA runs in mode {mode}")


THEMES = ("resources", "probes", "rollout", "availability", "placement", "autoscaling")

RULES = [
    Rule("BK101", Severity.WARNING, "resources", "Pod is BestEffort (no requests or limits)",
         "Set CPU and memory requests and limits on every container (equal values give Guaranteed QoS).",
         "BestEffort pods are evicted first under node pressure and get no CPU share under contention.",
         PODS, best_effort),
    Rule("BK102", Severity.WARNING, "resources", "Container has no memory limit",
         "Set resources.limits.memory (equal to the request for a BEAM, which rarely returns memory).",
         "Without a limit a growing VM is stopped by the node's OOM killer, possibly taking neighbours with it.",
         PODS, no_memory_limit),
    Rule("BK103", Severity.INFO, "resources", "Memory request is below the limit",
         "Set resources.requests.memory equal to resources.limits.memory.",
         "Memory above the request is overcommitted: the pod is an OOM candidate whenever the node is short.",
         PODS, memory_overcommit),
    Rule("BK104", Severity.WARNING, "resources", "Container has no CPU request",
         "Set resources.requests.cpu (and a limit matched to the schedulers, see BK903).",
         "Without a request the scheduler places the pod anywhere and the container gets the minimum CPU share.",
         PODS, no_cpu_request),
    Rule("BK105", Severity.ERROR, "resources", "Resource amounts are invalid",
         "Use Kubernetes quantities (500m, 2, 512Mi) and keep each request at or below its limit.",
         "The API server rejects a request above its limit or an unparsable quantity.",
         PODS, bad_amounts),
    Rule("BK201", Severity.WARNING, "probes", "Container has no readinessProbe",
         "Add a cheap readinessProbe (httpGet on a health route, or tcpSocket on the web port).",
         "Without one, traffic reaches a node before its applications have started, and during shutdown.",
         LONG, no_readiness),
    Rule("BK202", Severity.INFO, "probes", "Container has no livenessProbe",
         "Add a lenient livenessProbe (period 10s, failureThreshold 6) behind a startupProbe.",
         "A wedged VM is never restarted; OTP supervisors cover crashes inside the VM, not a stuck VM.",
         LONG, no_liveness),
    Rule("BK203", Severity.WARNING, "probes", "livenessProbe is identical to readinessProbe",
         "Make liveness more lenient than readiness (longer period, higher failureThreshold).",
         "A busy node that should only leave the load balancer for a moment is killed instead.",
         LONG, same_probes),
    Rule("BK204", Severity.ERROR, "probes", "Probe runs mix, which a release does not contain",
         "Probe an HTTP route or a TCP port; releases ship bin/<release>, not mix.",
         "`mix` is a build tool: in a release image the command is missing, so the probe always fails "
         "and the kubelet restarts the pod in a loop.",
         PODS, mix_probe),
    Rule("BK205", Severity.WARNING, "probes", "Probe starts a second Erlang VM on every check",
         "Probe an HTTP route or a TCP port instead of bin/<release> rpc|eval|pid, erl or escript.",
         "Each check boots a VM (hundreds of ms of CPU, a distribution connection with the cookie) and can "
         "time out under load, failing a healthy pod.",
         PODS, vm_probe),
    Rule("BK206", Severity.WARNING, "probes", "livenessProbe can kill a node that is still booting",
         "Add a startupProbe (e.g. period 2s, failureThreshold 60) or give liveness at least 30s of slack.",
         "A release that loads config, connects to peers and runs migrations can take tens of seconds to boot.",
         LONG, hasty_liveness),
    Rule("BK301", Severity.WARNING, "rollout", "Workload runs a single replica",
         "Run at least 2 replicas (or an HPA with minReplicas >= 2).",
         "One pod means downtime on every node drain, eviction and crash.",
         SCALE, single_replica),
    Rule("BK302", Severity.ERROR, "rollout", "Selector does not match the pod template",
         "Set spec.selector.matchLabels to labels that spec.template.metadata.labels carries.",
         "apps/v1 requires a selector matching the template's labels; the API server rejects the object.",
         frozenset({*SCALE, "DaemonSet"}), selector_mismatch),
    Rule("BK303", Severity.ERROR, "rollout", "Pod template has no containers",
         "Put `containers:` under spec.template.spec.",
         "A pod without containers is rejected; usually `containers` is indented one level too far out.",
         PODS, no_containers),
    Rule("BK304", Severity.WARNING, "rollout", "Rolling update can stop every pod or never progress",
         "Use maxUnavailable 0 with maxSurge >= 1 (e.g. 50%), or a maxUnavailable below the replica count.",
         "maxUnavailable >= replicas takes the whole app down at once; 0/0 deadlocks the rollout.",
         frozenset({"Deployment"}), rolling_update),
    Rule("BK305", Severity.INFO, "rollout", "Deployment uses the Recreate strategy",
         "Use RollingUpdate unless two versions must never run side by side.",
         "Recreate stops every pod before starting the new ones: each rollout is an outage.",
         frozenset({"Deployment"}), recreate),
    Rule("BK306", Severity.ERROR, "rollout", "Update strategy type is not one the controller knows",
         "Use RollingUpdate or Recreate for a Deployment, RollingUpdate or OnDelete for a StatefulSet or DaemonSet.",
         "The API server rejects any other strategy type.",
         frozenset({"Deployment", "StatefulSet", "DaemonSet"}), unknown_strategy),
    Rule("BK307", Severity.INFO, "rollout", "StatefulSet or DaemonSet only updates pods deleted by hand",
         "Use updateStrategy.type RollingUpdate unless an operator replaces pods itself.",
         "With OnDelete a new template reaches the pods only when someone deletes them: changes silently wait.",
         frozenset({"StatefulSet", "DaemonSet"}), on_delete),
    Rule("BK401", Severity.WARNING, "availability", "No PodDisruptionBudget covers the workload",
         "Add a policy/v1 PodDisruptionBudget with maxUnavailable: 1 selecting the pods.",
         "Node drains and cluster upgrades may then evict every replica at once.",
         SCALE, no_pdb),
    Rule("BK402", Severity.ERROR, "availability", "PodDisruptionBudget blocks every eviction",
         "Use maxUnavailable: 1, or a minAvailable below the (HPA minimum) replica count.",
         "With minAvailable >= replicas (or maxUnavailable 0) node drains hang until someone deletes the budget.",
         frozenset({"PodDisruptionBudget"}), pdb_blocks),
    Rule("BK403", Severity.INFO, "availability", "PodDisruptionBudget selects no workload",
         "Make spec.selector match the pod template labels of the workload it protects.",
         "A budget that selects nothing protects nothing (or its workload is in another file).",
         frozenset({"PodDisruptionBudget"}), pdb_orphan),
    Rule("BK404", Severity.ERROR, "availability", "PodDisruptionBudget policy is missing or invalid",
         "Set exactly one of minAvailable or maxUnavailable, as an integer >= 0 or a percentage 0%-100%.",
         "The API server rejects both fields together, negative values and percentages above 100%; with "
         "neither the budget protects nothing.",
         frozenset({"PodDisruptionBudget"}), pdb_invalid),
    Rule("BK405", Severity.INFO, "availability", "PodDisruptionBudget keeps unhealthy pods from being evicted",
         "Set spec.unhealthyPodEvictionPolicy: AlwaysAllow.",
         "With the default IfHealthyBudget a crash-looping pod that never gets ready counts against the budget "
         "and can block node drains.",
         frozenset({"PodDisruptionBudget"}), pdb_unhealthy_policy),
    Rule("BK451", Severity.WARNING, "placement", "Replicas are not spread across nodes",
         "Add podAntiAffinity on kubernetes.io/hostname or a topologySpreadConstraint selecting the pods.",
         "All replicas of a cluster on one node die together with that node.",
         SCALE, no_spread),
    Rule("BK452", Severity.WARNING, "placement", "Anti-affinity or spread constraint does not select the pods",
         "Use a labelSelector matching spec.template.metadata.labels, and set topologyKey.",
         "A selector that matches no pod of the workload spreads nothing.",
         PODS, spread_mismatch),
    Rule("BK453", Severity.INFO, "placement", "Deprecated failure-domain topology label",
         "Use topology.kubernetes.io/zone or topology.kubernetes.io/region.",
         "failure-domain.beta.kubernetes.io/* labels are deprecated since Kubernetes 1.17.",
         PODS, old_topology),
    Rule("BK454", Severity.ERROR, "placement", "Preferred affinity term is malformed",
         "Wrap labelSelector and topologyKey in podAffinityTerm and add a weight (1-100) to each preferred term.",
         "preferredDuringSchedulingIgnoredDuringExecution takes {weight, podAffinityTerm} items; the API server "
         "rejects terms written like required ones.",
         PODS, malformed_preferred),
    Rule("BK501", Severity.ERROR, "autoscaling", "HPA bounds are invalid",
         "Set scaleTargetRef and keep minReplicas <= maxReplicas.",
         "The API server rejects such an HPA.",
         frozenset({"HorizontalPodAutoscaler"}), hpa_bounds),
    Rule("BK502", Severity.WARNING, "autoscaling", "HPA may scale down to one pod",
         "Set minReplicas to at least 2.",
         "At low load the app shrinks to a single pod: no redundancy and no BEAM cluster.",
         frozenset({"HorizontalPodAutoscaler"}), hpa_min_one),
    Rule("BK503", Severity.ERROR, "autoscaling", "CPU-based HPA targets containers without a CPU request",
         "Set resources.requests.cpu on every container of the target.",
         "CPU utilisation is a percentage of the request; without one the HPA cannot compute it and never scales.",
         frozenset({"HorizontalPodAutoscaler"}), hpa_cpu_without_request),
    Rule("BK504", Severity.WARNING, "autoscaling", "Workload sets replicas while an HPA scales it",
         "Remove spec.replicas from the workload manifest.",
         "Every apply resets the replica count the HPA chose, then the HPA scales again.",
         SCALE, hpa_fights_replicas),
    Rule("BK505", Severity.INFO, "autoscaling", "Autoscaler targets an object that is not in the input",
         "Check scaleTargetRef/targetRef kind and name.",
         "A misspelt target makes the autoscaler do nothing (or the target lives in another file).",
         frozenset({"HorizontalPodAutoscaler", "VerticalPodAutoscaler"}), hpa_no_target),
    Rule("BK506", Severity.ERROR, "autoscaling", "VPA and a CPU/memory HPA act on the same workload",
         "Set the VPA's updatePolicy.updateMode to Off (recommendations only), or scale the HPA on another metric.",
         "The VPA changes requests that the HPA's utilisation is computed from: the two fight.",
         frozenset({"VerticalPodAutoscaler"}), vpa_fights_hpa),
    Rule("BK507", Severity.ERROR, "autoscaling", "VPA updateMode is misplaced",
         "Move updateMode under spec.updatePolicy.",
         "spec.updateMode is not a VPA field: the VPA runs with its default mode Auto and evicts pods to resize them.",
         frozenset({"VerticalPodAutoscaler"}), vpa_misplaced_mode),
]
