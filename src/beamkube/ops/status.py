"""`beamkube status`: each workload's rollout state and its pods (ready, restarts, age, QoS, BEAM node name).

Role: `collect` does network I/O (a GET and a pod list per workload); `pod_row`, `beam_node_name`,
`format_table` are pure. An app with process types has one workload per process (`<app>-<process>`): each is
reported, the main one (named after the app, or the first) also as `workload` in the JSON document, and a
process whose workload is missing while others exist is reported as `missing` rather than hidden.
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


def _workload_doc(kind: str, name: str, live: dict[str, Any] | None, min_replicas: int | None) -> dict[str, Any]:
    if live is None:
        return {"kind": kind, "name": name, "state": "missing", "desired": 0, "updated": 0, "ready": 0,
                "available": 0, "generation": 0, "observedGeneration": 0, "revision": "", "images": []}  # fmt: skip
    progress = progress_of(live, min_replicas)
    annotations = live["metadata"].get("annotations") or {}
    status = live.get("status") or {}
    revision = annotations.get("deployment.kubernetes.io/revision") or status.get("updateRevision") or ""
    return {
        "kind": kind,
        "name": name,
        "state": progress.state,
        "desired": progress.desired,
        "updated": progress.updated,
        "ready": progress.ready,
        "available": progress.available,
        "generation": progress.generation,
        "observedGeneration": progress.observed,
        "revision": str(revision),
        "images": sorted({c.get("image", "") for c in live["spec"]["template"]["spec"].get("containers") or []}),
    }


async def collect(client: KubeClient, plan: Plan, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The status document (`-o json` prints it as is)."""
    from beamkube.engine.assess import hpa_minimums

    now = now or datetime.datetime.now(datetime.UTC)
    spec = plan.spec
    minimums = hpa_minimums(plan.objects)
    docs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for workload in plan.workloads_main_first:
        kind, name = str(workload["kind"]), str(workload["metadata"]["name"])
        live = await client.get_or_none(workload_type(kind), name, spec.namespace)
        docs.append(_workload_doc(kind, name, live, minimums.get((kind, name))))
        if live is None:
            continue
        pods, _ = await client.list(POD, spec.namespace, label_selector=plan.selector_of(name))
        rows.extend({**pod_row(p, now), "workload": name} for p in pods)
    if all(doc["state"] == "missing" for doc in docs):
        main = docs[0]
        raise KubeError(f"{main['kind']} {spec.namespace}/{main['name']} not found: is {spec.name} deployed here?")
    return {
        "app": spec.name,
        "namespace": spec.namespace,
        "workload": docs[0],
        "workloads": docs,
        "pods": sorted(rows, key=lambda r: str(r["name"])),
    }


def format_table(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for w in doc.get("workloads") or [doc["workload"]]:
        if w["state"] == "missing":
            lines.append(f"{w['kind']} {doc['namespace']}/{w['name']}: missing (not deployed, or deleted)")
            continue
        lines += [
            f"{w['kind']} {doc['namespace']}/{w['name']}: {w['state']} — {w['updated']}/{w['desired']} updated, "
            f"{w['ready']}/{w['desired']} ready, {w['available']}/{w['desired']} available "
            f"(generation {w['generation']}, observed {w['observedGeneration']}, revision {w['revision'] or '-'})",
            f"image: {', '.join(w['images'])}",
        ]
    several = len(doc.get("workloads") or []) > 1
    headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "QOS", "BEAM NODE"] + (["WORKLOAD"] if several else [])
    rows = [
        [p["name"], p["ready"], p["status"], str(p["restarts"]), p["age"], p["qos"], p["node"] or "-"]
        + ([str(p.get("workload", ""))] if several else [])
        for p in doc["pods"]
    ]
    if not rows:
        lines.append("no pods")
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines) + "\n"
