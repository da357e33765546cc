"""`beamkube status`: the workload's rollout state and its pods (ready, restarts, age, QoS, BEAM node name).

Role: `collect` does network I/O (two GETs and a list); `pod_row`, `beam_node_name`, `format_table` are pure.
The BEAM node name is what the pod's `beam` container gets in RELEASE_NODE, with `$(VAR)` references expanded
from the container's env and the downward-API fields the pod reports (pod name, namespace, IP).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import KubeError
from beamkube.kube.resources import POD
from beamkube.ops.common import Plan
from beamkube.ops.rollout import progress_of, workload_type

NODE_ENV = "RELEASE_NODE"


def _parse_time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


def human_age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _field(pod: dict[str, Any], path: str) -> str:
    current: Any = pod
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    return "" if current is None else str(current)


def beam_node_name(pod: dict[str, Any], container: str = "beam") -> str:
    """RELEASE_NODE of `container` with `$(VAR)` expanded; empty when not distributed or not yet known."""
    containers = (pod.get("spec") or {}).get("containers") or []
    chosen = next((c for c in containers if c.get("name") == container), containers[0] if containers else None)
    if chosen is None:
        return ""
    values: dict[str, str] = {}
    for env in chosen.get("env") or []:
        name = str(env.get("name", ""))
        if "value" in env:
            values[name] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: values.get(m.group(1), m.group(0)), str(env["value"])
            )
        elif (env.get("valueFrom") or {}).get("fieldRef"):
            values[name] = _field(pod, str(env["valueFrom"]["fieldRef"].get("fieldPath", "")))
    node = values.get(NODE_ENV, "")
    if "$(" in node or node.endswith("@"):
        return ""  # a referenced value (e.g. the pod IP) is not assigned yet
    return node


def pod_row(pod: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    reason = status.get("phase", "Unknown")
    for c in containers:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            reason = str(waiting["reason"])
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    created = _parse_time(str(pod["metadata"].get("creationTimestamp", "")))
    age = max(0, int((now - created).total_seconds())) if created else 0
    return {
        "name": pod["metadata"]["name"],
        "ready": f"{ready}/{total}",
        "status": reason,
        "restarts": restarts,
        "age": human_age(age),
        "ageSeconds": age,
        "qos": status.get("qosClass", ""),
        "podIP": status.get("podIP", ""),
        "node": beam_node_name(pod),
    }


async def collect(client: KubeClient, plan: Plan, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The status document (`-o json` prints it as is)."""
    now = now or datetime.datetime.now(datetime.UTC)
    spec = plan.spec
    workload = plan.workload
    rt = workload_type(plan.workload_kind)
    live = await client.get_or_none(rt, workload["metadata"]["name"], spec.namespace)
    if live is None:
        raise KubeError(f"{plan.workload_kind} {spec.namespace}/{spec.name} not found: is {spec.name} deployed here?")
    from beamkube.engine.assess import hpa_minimums

    progress = progress_of(live, hpa_minimums(plan.objects).get((plan.workload_kind, live['metadata']['name'])))
    pods, _ = await client.list(POD, spec.namespace, label_selector=plan.selector)
    annotations = live["metadata"].get("annotations") or {}
    status = live.get("status") or {}
    revision = annotations.get("deployment.kubernetes.io/revision") or status.get("updateRevision") or ""
    return {
        "app": spec.name,
        "namespace": spec.namespace,
        "workload": {
            "kind": plan.workload_kind,
            "name": live["metadata"]["name"],
            "state": progress.state,
            "desired": progress.desired,
            "updated": progress.updated,
            "ready": progress.ready,
            "available": progress.available,
            "generation": progress.generation,
            "observedGeneration": progress.observed,
            "revision": str(revision),
            "images": sorted({c.get("image", "") for c in live["spec"]["template"]["spec"].get("containers") or []}),
        },
        "pods": [pod_row(p, now) for p in sorted(pods, key=lambda p: p["metadata"]["name"])],
    }


def format_table(doc: dict[str, Any]) -> str:
    w = doc["workload"]
    lines = [
        f"{w['kind']} {doc['namespace']}/{w['name']}: {w['state']} — {w['updated']}/{w['desired']} updated, "
        f"{w['ready']}/{w['desired']} ready, {w['available']}/{w['desired']} available "
        f"(generation {w['generation']}, observed {w['observedGeneration']}, revision {w['revision'] or '-'})",
        f"image: {', '.join(w['images'])}",
    ]
    headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "QOS", "BEAM NODE"]
    rows = [
        [p["name"], p["ready"], p["status"], str(p["restarts"]), p["age"], p["qos"], p["node"] or "-"]
        for p in doc["pods"]
    ]
    if not rows:
        lines.append("no pods")
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines) + "\n"
