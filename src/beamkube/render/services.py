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
        "metadata": metadata(spec, names.headless, "discovery"),
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
        "selector": selector_labels(spec),
        "type": spec.web.serviceType,
    }
    if spec.web.serviceType == "LoadBalancer":
        body["externalTrafficPolicy"] = "Local"  # keeps client IPs and skips a second hop
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(spec, names.web_service, "web"), "spec": body}


def ingress(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    if spec.web is None or spec.web.ingress is None:
        return None
    rule = spec.web.ingress
    body: dict[str, Any] = {}
    if rule.className is not None:
        body["ingressClassName"] = rule.className
    body["rules"] = [
        {
            "host": rule.host,
            "http": {
                "paths": [
                    {
                        "backend": {"service": {"name": names.web_service, "port": {"name": "http"}}},
                        "path": rule.path,
                        "pathType": "Prefix",
                    }
                ]
            },
        }
    ]
    if rule.tlsSecret is not None:
        body["tls"] = [{"hosts": [rule.host], "secretName": rule.tlsSecret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(spec, names.app, "web"),
        "spec": body,
    }
