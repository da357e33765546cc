"""The endpoints and EndpointSlice controllers of kube-controller-manager, for the API double.

Role: test support (no network; it reads and writes the double's `Store` from a background thread, woken by
every store change). What it reproduces, because clustering depends on it:
- one `Endpoints` and one `EndpointSlice` per address family for every Service with a selector, named after
  the Service (slices `<service>-<suffix>`, with generateName-style suffixes in the real controller);
- the objects carry the *Service's* labels, not the pods' (the real controllers copy them: a label selector
  over Endpoints matches Service labels); slices also get `kubernetes.io/service-name` and
  `endpointslice.kubernetes.io/managed-by`, and Endpoints get `endpoints.kubernetes.io/managed-by`
  (Kubernetes ≥ 1.33 — older servers omit it, which no consumer relies on);
- pods are endpoints when they match the selector, have an IP, and are ready — or not ready when the Service
  has `publishNotReadyAddresses` (then Endpoints list them under `addresses` and slices mark them ready, as
  the real controllers do); otherwise not-ready pods go to `notReadyAddresses` / `ready: false`;
- `hostname` is set only when the pod's `spec.hostname` is set and `spec.subdomain` names the Service
  (StatefulSet pods of their governing Service); `targetRef` names the pod with its namespace and uid
  (libcluster 3.5's Endpoints parser pattern-matches `targetRef.namespace` and crashes without it);
- ports come from the Service's ports with named `targetPort`s resolved against the pod's containerPorts.
Not modelled: topology hints, the 1000-endpoint split into several slices, `serving`/`terminating` of
terminating pods (pods are deleted at once here), mirroring of selector-less Endpoints, and Endpoints
validation (a real server rejects loopback IPs with 422; tests use pod-namespace or 192.0.2.0/24 addresses).
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import threading
from typing import Any

from tests.support.apidouble import ApiDouble, ApiFailure, RDef, Store, label_match

MANAGER = "endpoint-controller"
SLICE_MANAGER = "endpointslice-controller.k8s.io"
SERVICE_NAME = "kubernetes.io/service-name"


def serve_endpoint_slices(api: ApiDouble) -> RDef:
    """Serve `discovery.k8s.io/v1` EndpointSlices (the double's built-ins lack them)."""
    if ("discovery.k8s.io", "endpointslices") in api.store.rdefs:
        return api.store.rdefs[("discovery.k8s.io", "endpointslices")]
    return api.register("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", status=False)


def _selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _family(ip: str) -> str:
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def _ports(service: dict[str, Any], pod: dict[str, Any]) -> list[dict[str, Any]]:
    named: dict[str, int] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if "name" in port:
                named[port["name"]] = int(port["containerPort"])
    out = []
    for port in service["spec"].get("ports") or []:
        target = port.get("targetPort", port["port"])
        number = named.get(target) if isinstance(target, str) else int(target)
        if number is None:
            continue  # a named targetPort the pod does not declare: not an endpoint port for it
        item = {"port": number, "protocol": port.get("protocol", "TCP")}
        if "name" in port:
            item["name"] = port["name"]
        out.append(item)
    return out


def desired(service: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(Endpoints, EndpointSlices) the real controllers would write for `service` and `pods`."""
    meta = service["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    labels = dict(meta.get("labels") or {})
    publish = bool(service["spec"].get("publishNotReadyAddresses"))
    selector = _selector_text(service["spec"]["selector"])
    members = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        pmeta = pod["metadata"]
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pmeta.get("deletionTimestamp") or not label_match(selector, pmeta.get("labels") or {}):
            continue
        if pmeta.get("namespace") != namespace:
            continue
        spec = pod.get("spec") or {}
        hostname = spec.get("hostname") if spec.get("subdomain") == name else None
        ref = {"kind": "Pod", "name": pmeta["name"], "namespace": namespace, "uid": pmeta.get("uid", "")}
        members.append((ip, hostname, ref, publish or _ready(pod), spec.get("nodeName"), _ports(service, pod)))
    ready_addresses, not_ready = [], []
    for ip, hostname, ref, ready, node, _ in members:
        address: dict[str, Any] = {"ip": ip, "targetRef": ref}
        if hostname:
            address["hostname"] = hostname
        if node:
            address["nodeName"] = node
        (ready_addresses if ready else not_ready).append(address)
    subset: dict[str, Any] = {}
    if ready_addresses:
        subset["addresses"] = ready_addresses
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    ports = members[0][5] if members else []
    if subset and ports:
        subset["ports"] = ports
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**labels, "endpoints.kubernetes.io/managed-by": "endpoint-controller"},
        },
        "subsets": [subset] if subset else [],
    }
    slices = []
    for family in ("IPv4", "IPv6"):
        chosen = [m for m in members if _family(m[0]) == family]
        families = service["spec"].get("ipFamilies") or ["IPv4"]
        if not chosen and family not in families:
            continue
        items = []
        for ip, hostname, ref, ready, node, _ in chosen:
            item: dict[str, Any] = {
                "addresses": [ip],
                "conditions": {"ready": ready, "serving": ready, "terminating": False},
                "targetRef": ref,
            }
            if hostname:
                item["hostname"] = hostname
            if node:
                item["nodeName"] = node
            items.append(item)
        slices.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-{family.lower()}",
                    "namespace": namespace,
                    "labels": {
                        **labels,
                        SERVICE_NAME: name,
                        "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER,
                    },
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Service", "name": name, "uid": meta.get("uid", ""),
                         "controller": True, "blockOwnerDeletion": True}
                    ],
                },
                "addressType": family,
                "endpoints": items,
                "ports": chosen[0][5] if chosen else [],
            }
        )  # fmt: skip
    return endpoints, slices


class EndpointsController:
    """Keeps Endpoints and EndpointSlices in step with Services and Pods (see the module docstring)."""

    def __init__(self, api: ApiDouble) -> None:
        self.api = api
        self.store: Store = api.store
        self.slices = serve_endpoint_slices(api)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="endpoints-controller", daemon=True)
        self.syncs = 0

    def __enter__(self) -> EndpointsController:
        self.store.listeners.append(self._wake.set)
        self._thread.start()
        self._wake.set()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        with contextlib.suppress(ValueError):
            self.store.listeners.remove(self._wake.set)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if not self._stop.is_set():
                self.sync()

    def sync(self) -> None:
        """One reconcile of every Service (idempotent: unchanged objects are not rewritten)."""
        store = self.store
        services = [s for s in store.objects("services", group="") if (s.get("spec") or {}).get("selector")]
        pods = store.objects("pods", group="")
        endpoints_rdef = store.rdef("", "endpoints")
        for service in services:
            endpoints, slices = desired(service, pods)
            self._write(endpoints_rdef, endpoints, MANAGER)
            for item in slices:
                self._write(self.slices, item, SLICE_MANAGER)
        live = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in services}
        for stale in store.objects("endpointslices", group="discovery.k8s.io"):
            owner = (stale["metadata"].get("labels") or {}).get(SERVICE_NAME)
            if owner is not None and (stale["metadata"]["namespace"], owner) not in live:
                with contextlib.suppress(ApiFailure):
                    store.delete(self.slices, stale["metadata"]["namespace"], stale["metadata"]["name"])
        self.syncs += 1

    def _write(self, rdef: RDef, obj: dict[str, Any], manager: str) -> None:
        meta = obj["metadata"]
        current = self.store.get(rdef, meta["namespace"], meta["name"])
        if current is not None and _same(current, obj):
            return
        with contextlib.suppress(ApiFailure):  # the namespace went away meanwhile
            self.store.put(rdef, copy.deepcopy(obj), manager)


def _same(live: dict[str, Any], want: dict[str, Any]) -> bool:
    if (live["metadata"].get("labels") or {}) != want["metadata"]["labels"]:
        return False
    return all(live.get(k) == v for k, v in want.items() if k not in ("metadata", "apiVersion", "kind"))
