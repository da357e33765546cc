"""Rules on Services, Ingresses and NetworkPolicies that point at nothing or expose too much, and on
StatefulSets' governing Service.

Role: pure (no I/O). "Selects nothing" means nothing in the audited input (info: the target may live in
another file); a Service `targetPort` name that no selected container declares is an error because the
EndpointSlice controller then publishes no endpoint for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.beam import beam_containers
from beamkube.audit.context import Context, as_list, as_map, containers, headless, label_selector_matches
from beamkube.audit.model import Hit, Manifest, Rule, Severity

EXPOSED_TYPES = ("NodePort", "LoadBalancer")


def _backends(ingress: Manifest) -> Iterator[tuple[str, Mapping[str, Any]]]:
    default = as_map(as_map(ingress.spec.get("defaultBackend")).get("service"))
    if default:
        yield "spec.defaultBackend", default
    for i, rule in enumerate(as_list(ingress.spec.get("rules"))):
        for j, path in enumerate(as_list(as_map(as_map(rule).get("http")).get("paths"))):
            service = as_map(as_map(as_map(path).get("backend")).get("service"))
            if service:
                yield f"spec.rules[{i}].http.paths[{j}].backend", service


def ingress_no_tls(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not as_list(m.spec.get("tls")):
        yield Hit("spec.tls is empty: traffic is plain HTTP")


def ingress_dangling(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for where, backend in _backends(m):
        name = str(backend.get("name"))
        service = ctx.get("Service", m.namespace, name)
        if service is None:
            yield Hit(f"{where}: Service {name} is not in the input")
            continue
        port = as_map(backend.get("port"))
        ports = [as_map(p) for p in as_list(service.spec.get("ports"))]
        if "number" in port and port["number"] not in [p.get("port") for p in ports]:
            yield Hit(f"{where}: Service {name} has no port {port['number']}")
        if "name" in port and port["name"] not in [p.get("name") for p in ports]:
            yield Hit(f"{where}: Service {name} has no port named {port['name']}")


def policy_dangling(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not ctx.workloads_selected_by(m):
        yield Hit("spec.podSelector matches no pod in the audited manifests")


def _peers(policy: Manifest) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(as_list(policy.spec.get(direction))):
            for j, peer in enumerate(as_list(as_map(rule).get(key))):
                peer = as_map(peer)
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    yield f"spec.{direction}[{i}].{key}[{j}].podSelector", as_map(peer["podSelector"])


def policy_peer_dangling(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for where, selector in _peers(m):
        if selector and not ctx.any_pod_matches(m.namespace, selector):
            yield Hit(f"{where} matches no pod of namespace {m.namespace} in the audited manifests")


def service_dangling(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if as_map(m.spec.get("selector")) and not ctx.workloads_selected_by(m, plain=True):
        yield Hit("spec.selector matches no pod in the audited manifests")


def service_exposed(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.spec.get("type") in EXPOSED_TYPES:
        yield Hit(f"spec.type {m.spec.get('type')}")


def target_port_missing(ctx: Context, m: Manifest) -> Iterator[Hit]:
    workloads = ctx.workloads_selected_by(m, plain=True)
    if not workloads:
        return
    declared = {
        str(as_map(p).get("name")) for w in workloads for c in containers(w) for p in as_list(c.get("ports"))
    }
    for i, port in enumerate(as_list(m.spec.get("ports"))):
        target = as_map(port).get("targetPort")
        if isinstance(target, str) and not target.isdigit() and target not in declared:
            yield Hit(f"spec.ports[{i}].targetPort {target!r}: no selected container declares a port by that name")


def statefulset_service(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if any(b.distributed for b in beam_containers(ctx, m)):
        return  # BK805 says it for BEAM clusters, with what the node names need
    name = m.spec.get("serviceName")
    if not name:
        yield Hit("spec.serviceName unset: the pods get no stable DNS names")
        return
    service = ctx.get("Service", m.namespace, str(name))
    if service is not None and not headless(service):
        yield Hit(f"spec.serviceName {name} is not a headless Service (clusterIP: None)")


def monitor_dangling(ctx: Context, m: Manifest) -> Iterator[Hit]:
    selector = as_map(m.spec.get("selector"))
    scope = as_map(m.spec.get("namespaceSelector"))
    names = {str(n) for n in as_list(scope.get("matchNames"))} or {m.namespace}
    for service in ctx.by_kind.get("Service", []):
        if (scope.get("any") is True or service.namespace in names) and label_selector_matches(
            selector, as_map(service.metadata.get("labels"))
        ):
            return
    yield Hit("spec.selector matches no Service in the audited manifests")


RULES = [
    Rule("BK709", Severity.INFO, "network", "ServiceMonitor selects no Service",
         "Make spec.selector match the labels of the Service exposing the metrics port (and its namespace).",
         "The Prometheus operator scrapes nothing for it: the app's metrics silently go missing.",
         frozenset({"ServiceMonitor"}), monitor_dangling),
    Rule("BK320", Severity.WARNING, "rollout", "StatefulSet has no headless governing Service",
         "Set spec.serviceName to a Service with clusterIP: None that selects the pods.",
         "The governing Service gives each pod its stable DNS name (pod-0.svc...); without a headless one "
         "the names a StatefulSet exists for do not resolve.",
         frozenset({"StatefulSet"}), statefulset_service),
    Rule("BK702", Severity.WARNING, "network", "Ingress has no TLS",
         "Add spec.tls with the hosts and a certificate Secret (e.g. from cert-manager).",
         "Credentials and session cookies cross the network in clear text.",
         frozenset({"Ingress"}), ingress_no_tls),
    Rule("BK703", Severity.INFO, "network", "Ingress routes to a Service or port that is not there",
         "Point the backend at a Service in the same namespace and one of its declared ports.",
         "The controller answers 503 for that path (or the Service lives in another file).",
         frozenset({"Ingress"}), ingress_dangling),
    Rule("BK704", Severity.INFO, "network", "NetworkPolicy selects no pod",
         "Make spec.podSelector match the labels of the pods it should isolate.",
         "A policy that selects nothing isolates nothing (or its pods are in another file).",
         frozenset({"NetworkPolicy"}), policy_dangling),
    Rule("BK705", Severity.INFO, "network", "Service selects no pod",
         "Make spec.selector match the pod template labels of the workload behind it.",
         "A Service without endpoints refuses every connection (or its pods are in another file).",
         frozenset({"Service"}), service_dangling),
    Rule("BK706", Severity.INFO, "network", "Service is exposed on every node or to the outside",
         "Use type ClusterIP behind an Ingress or Gateway unless the port must be reachable from outside.",
         "NodePort opens the port on every node's address; LoadBalancer gives it a public address.",
         frozenset({"Service"}), service_exposed),
    Rule("BK707", Severity.INFO, "network", "NetworkPolicy rule admits pods that do not exist",
         "Make the peer podSelector match the labels of the client pods (add a namespaceSelector for other "
         "namespaces).",
         "A podSelector peer without namespaceSelector means pods of the policy's own namespace; matching none, "
         "the rule admits nothing and the intended clients are cut off.",
         frozenset({"NetworkPolicy"}), policy_peer_dangling),
    Rule("BK708", Severity.ERROR, "network", "Service targetPort names a port the pods do not declare",
         "Name the container port as the targetPort says, or use the port number.",
         "A named targetPort resolves per pod; pods without that port name get no endpoint, so the Service "
         "has none.",
         frozenset({"Service"}), target_port_missing),
]
