"""Services and Ingress: the headless Service BEAM nodes find each other through, and the web Service.

Role: pure (no I/O). The headless Service publishes not-ready addresses (pods must find peers before they
are ready, or a Parallel StatefulSet boots as separate clusters) and declares the epmd and pinned
distribution ports, which also names the SRV records `_dist._tcp.<headless>...`.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, metadata, selector_labels
from beamkube.spec.model import AppSpec


def headless_service(spec: AppSpec, names: Names) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, names.headless, "discovery", extra=spec.objectMeta.headlessService),
        "spec": {
            "clusterIP": "None",
            "ports": [
                {"name": "epmd", "port": spec.cluster.epmdPort, "protocol": "TCP", "targetPort": "epmd"},
                {"name": "dist", "port": spec.cluster.distPort, "protocol": "TCP", "targetPort": "dist"},
            ],
            "publishNotReadyAddresses": True,
            "selector": selector_labels(spec),
            "type": "ClusterIP",
        },
    }


def web_service(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    if spec.web is None:
        return None
    body: dict[str, Any] = {
        "ports": [{"name": "http", "port": spec.web.servicePort, "protocol": "TCP", "targetPort": "http"}],
        "selector": selector_labels(spec, process=names.process),
        "type": spec.web.serviceType,
    }
    if spec.web.serviceType == "LoadBalancer":
        body["externalTrafficPolicy"] = "Local"  # keeps client IPs and skips a second hop
    meta = metadata(spec, names.web_service, "web", extra=spec.objectMeta.webService)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": body}


CERT_MANAGER_CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"
CERT_MANAGER_ISSUER = "cert-manager.io/issuer"


def ingress(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    if spec.web is None or spec.web.ingress is None:
        return None
    rule = spec.web.ingress
    body: dict[str, Any] = {}
    if rule.className is not None:
        body["ingressClassName"] = rule.className
    hosts: dict[str, list[str]] = {rule.host: [rule.path]}
    for extra in rule.extraHosts:
        hosts.setdefault(extra.host, []).extend(extra.paths)  # the spec refuses a host and path routed twice
    body["rules"] = [
        {
            "host": host,
            "http": {
                "paths": [{"backend": _backend(names), "path": path, "pathType": rule.pathType} for path in paths]
            },
        }
        for host, paths in hosts.items()
    ]
    secret = rule.tlsSecret
    if secret is None and rule.certManager is not None:
        secret = f"{spec.name}-tls"
    if secret is not None:
        body["tls"] = [{"hosts": list(hosts), "secretName": secret}]
    meta = metadata(spec, names.app, "web", extra=spec.objectMeta.ingress)
    if rule.certManager is not None:
        issuer = (
            {CERT_MANAGER_CLUSTER_ISSUER: rule.certManager.clusterIssuer}
            if rule.certManager.clusterIssuer is not None
            else {CERT_MANAGER_ISSUER: str(rule.certManager.issuer)}
        )
        meta["annotations"] = dict(sorted({**meta.get("annotations", {}), **issuer}.items()))
        meta = {"annotations": meta.pop("annotations"), **meta}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": body}


def _backend(names: Names) -> dict[str, Any]:
    """A fresh dict per path: shared ones would be dumped as YAML anchors and aliases."""
    return {"service": {"name": names.web_service, "port": {"name": "http"}}}
