"""Checks only a live cluster can answer (`beamkube audit --cluster`): node names against each running pod's
real DNS identity, one cookie across a BEAM cluster's pods, and not-ready pods in the headless Service's
EndpointSlices.

Role: pure (no I/O). They read `status` (pod IP, Ready condition) and EndpointSlices, which manifests in
files do not carry, so on files they stay silent. The cookie is never read: pods are compared by where their
cookie comes from (Secret name and key, ConfigMap, or a digest of a literal) and by the cookie hash annotation
beamkube's renderer puts in the pod template, because `audit --cluster` holds no right to read Secrets.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.beam import ENV_REFERENCE, beam_containers
from beamkube.audit.context import Context, as_list, as_map, headless, pod_spec
from beamkube.audit.model import Hit, Manifest, Rule, Severity

COOKIE_ENV = re.compile(r"COOKIE", re.IGNORECASE)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _live_fields(pod: Manifest) -> dict[str, str]:
    status = as_map(pod.obj.get("status"))
    return {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "status.podIP": str(status.get("podIP") or ""),
        "spec.nodeName": str(pod.spec.get("nodeName") or ""),
    }


def _env_values(pod: Manifest, container: Mapping[str, Any]) -> dict[str, str | None]:
    """Each env var's value in this pod (fieldRefs resolved from the live pod; None: not knowable)."""
    fields = _live_fields(pod)
    values: dict[str, str | None] = {"HOSTNAME": str(pod.spec.get("hostname") or pod.name)}
    for item in as_list(container.get("env")):
        item = as_map(item)
        name = str(item.get("name"))
        source = as_map(item.get("valueFrom"))
        if not source:
            raw = str(item.get("value") or "")
            values[name] = ENV_REFERENCE.sub(
                lambda m: str(values.get(next(g for g in m.groups() if g)) or m.group(0)), raw
            )
        elif "fieldRef" in source:
            values[name] = fields.get(str(as_map(source["fieldRef"]).get("fieldPath")))
        else:
            values[name] = None
    return values


def _identities(pod: Manifest) -> set[str]:
    """Host names under which this pod is reachable: its IP, its name, and the StatefulSet-style
    `hostname.subdomain.namespace.svc[.cluster.local]` when it has a subdomain."""
    fields = _live_fields(pod)
    host = str(pod.spec.get("hostname") or pod.name)
    found = {fields["status.podIP"], host}
    subdomain = pod.spec.get("subdomain")
    if subdomain:
        base = f"{host}.{subdomain}.{pod.namespace}.svc"
        found |= {f"{host}.{subdomain}", f"{host}.{subdomain}.{pod.namespace}", base, f"{base}.cluster.local"}
    return {f for f in found if f}


def node_identity(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not as_map(m.obj.get("status")).get("podIP"):
        return  # not a running pod (or a manifest from a file)
    for b in beam_containers(ctx, m):
        if not b.distributed:
            continue
        values = _env_values(m, b.container)
        node = values.get("RELEASE_NODE")
        if not node or "@" not in node or "$" in node:
            continue
        host = node.split("@", 1)[1]
        if host not in _identities(m):
            yield Hit(f"container {b.name}: node {node} but the pod is {', '.join(sorted(_identities(m)))}")


def _cookie_source(pod: Manifest) -> str | None:
    parts = []
    for container in as_list(pod_spec(pod).get("containers")):
        for item in as_list(as_map(container).get("env")):
            item = as_map(item)
            if not COOKIE_ENV.search(str(item.get("name"))):
                continue
            ref = as_map(as_map(item.get("valueFrom")).get("secretKeyRef"))
            if ref:
                parts.append(f"Secret {ref.get('name')} key {ref.get('key')}")
            elif item.get("value") is not None:
                digest = hashlib.sha256(str(item.get("value")).encode()).hexdigest()[:8]
                parts.append(f"a literal (digest {digest})")
    annotations = as_map(pod.metadata.get("annotations"))
    for key, value in sorted(annotations.items()):
        if "cookie" in str(key).lower():
            parts.append(f"{key}={value}")
    return "; ".join(parts) or None


def _beam_pods(ctx: Context, service: Manifest) -> list[Manifest]:
    return [
        w for w in ctx.workloads_selected_by(service, plain=True)
        if w.kind == "Pod" and any(b.distributed for b in beam_containers(ctx, w))
    ]


def cookie_split(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not headless(m):
        return
    groups: dict[str, list[str]] = {}
    for pod in _beam_pods(ctx, m):
        source = _cookie_source(pod)
        if source is not None:
            groups.setdefault(source, []).append(pod.name)
    if len(groups) > 1:
        parts = [f"{', '.join(sorted(pods)[:3])} use {source}" for source, pods in sorted(groups.items())]
        yield Hit(f"the cluster's pods take their cookie from {len(groups)} places: {'; '.join(parts)}")


def _ready(pod: Manifest) -> bool:
    for condition in as_list(as_map(pod.obj.get("status")).get("conditions")):
        if as_map(condition).get("type") == "Ready":
            return as_map(condition).get("status") == "True"
    return False


def hidden_not_ready(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if not headless(m):
        return
    slices = ctx.by_label("EndpointSlice", m.namespace, SERVICE_NAME_LABEL, m.name)
    if not slices:
        return  # no live EndpointSlices in the input
    published = {
        str(address)
        for s in slices
        for endpoint in as_list(s.obj.get("endpoints"))
        for address in as_list(as_map(endpoint).get("addresses"))
    }
    for pod in _beam_pods(ctx, m):
        ip = str(as_map(pod.obj.get("status")).get("podIP") or "")
        if ip and not _ready(pod) and ip not in published:
            yield Hit(f"pod {pod.name} ({ip}) is not ready and missing from the EndpointSlices of {m.name}")


RULES = [
    Rule("BK851", Severity.ERROR, "live", "Running node's name does not match the pod's DNS identity",
         "Derive RELEASE_NODE from the pod (status.podIP, or the StatefulSet pod's "
         "hostname.subdomain.namespace.svc) as `beamkube render` does.",
         "Peers connect to the host part of the node name: a name that is not this pod's IP or DNS name "
         "reaches another pod or nothing, so the node never joins (or joins as someone else).",
         frozenset({"Pod"}), node_identity),
    Rule("BK852", Severity.ERROR, "live", "Pods of one BEAM cluster take their cookie from different places",
         "Point every pod at the same cookie Secret and key, then restart the pods that still hold the old one.",
         "Nodes with different cookies refuse each other: the cluster splits (typically in the middle of a "
         "rollout that changed the cookie).",
         frozenset({"Service"}), cookie_split),
    Rule("BK853", Severity.WARNING, "live", "Headless Service's EndpointSlices leave out pods that are not ready",
         "Set publishNotReadyAddresses: true on the headless Service used for discovery.",
         "Booting nodes cannot be found by their peers until they are ready, and readiness often waits for "
         "the cluster: discovery stalls; DNS for not-ready pods disappears.",
         frozenset({"Service"}), hidden_not_ready),
]
