"""Rollout progress, waiting, and the report printed when a rollout or a migration Job fails.

Role: `progress_of` and `describe_pod` are pure; `wait_*` and `failure_report` do network I/O.
Waiting follows the object through list + watch (`kube.watch.follow`), so a dropped watch or a 410 Gone costs a
re-list, never a missed update. Done is `engine.assess`'s rule, the one the operator's Ready condition uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from beamkube.engine.assess import Assessment, assess_workload, hpa_minimums, job_state
from beamkube.engine.plan import Plan
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import KubeError, RolloutFailed, RolloutTimeout
from beamkube.kube.resources import DEPLOYMENT, EVENT, JOB, POD, STATEFULSET, ResourceType
from beamkube.kube.watch import follow

Progress = Assessment  # the progress of a rollout is the engine's assessment of the workload


def progress_of(obj: dict[str, Any], min_replicas: int | None = None) -> Assessment:
    return assess_workload(obj, min_replicas)


Out = Callable[[str], None]


class ProgressLine:
    """Writes progress: rewritten in place on a terminal, one line per change otherwise (CI logs)."""

    def __init__(self, write: Callable[[str], None], tty: bool) -> None:
        self._write = write
        self._tty = tty
        self._last = ""

    def update(self, line: str) -> None:
        if line == self._last:
            return
        self._last = line
        if self._tty:
            self._write(f"\r\x1b[2K{line}")
        else:
            self._write(line + "\n")

    def finish(self) -> None:
        if self._tty and self._last:
            self._write("\n")
        self._last = ""


async def wait_rollout(
    client: KubeClient,
    kind: str,
    name: str,
    namespace: str,
    *,
    timeout: float,
    progress: ProgressLine,
    out: Out,
    selector: str,
    min_replicas: int | None = None,
    budget: float | None = None,
) -> Progress:
    """Wait for the workload's rollout (`min_replicas`: the HPA's minimum); on failure or timeout print the
    report and raise."""
    rt = STATEFULSET if kind == "StatefulSet" else DEPLOYMENT
    last: Progress | None = None
    try:
        async with asyncio.timeout(timeout):
            async with contextlib.aclosing(follow(client, rt, namespace, name=name)) as snapshots:
                async for snapshot in snapshots:
                    obj = snapshot.get(name)
                    if obj is None:
                        progress.finish()
                        raise KubeError(f"{kind} {namespace}/{name} disappeared while waiting for its rollout")
                    last = progress_of(obj, min_replicas)
                    progress.update(last.line)
                    if last.done:
                        progress.finish()
                        return last
                    if last.failed:
                        break
    except TimeoutError:
        pass
    progress.finish()
    await failure_report(client, namespace, selector, {name}, out)
    summary = last.line if last else f"{kind} {namespace}/{name}: no status yet"
    if last is not None and last.failed:
        raise RolloutFailed(f"rollout failed: {summary}")
    raise RolloutTimeout(f"rollout not complete after {budget or timeout:g}s: {summary}")


def time_left(timeout: float) -> Callable[[], float]:
    """What is left of one `--timeout` budget shared by several waits. Never below a moment: a spent budget
    still looks once, so the timeout report shows the real state."""
    deadline = time.monotonic() + timeout
    return lambda: max(0.05, deadline - time.monotonic())


async def wait_workloads(
    client: KubeClient,
    plan: Plan,
    workloads: Iterable[tuple[str, str]],
    *,
    left: Callable[[], float],
    progress: ProgressLine,
    out: Out,
    budget: float,
) -> str:
    """Wait for each (kind, name) workload's rollout in turn, with the HPA minimum that targets it and its own
    pods for the failure report, within what `left` says is left; returns their progress lines, `; `-joined."""
    minimums = hpa_minimums(plan.objects)
    lines = []
    for kind, name in workloads:
        final = await wait_rollout(
            client,
            kind,
            name,
            plan.spec.namespace,
            timeout=left(),
            progress=progress,
            out=out,
            selector=plan.selector_of(name),
            min_replicas=minimums.get((kind, name)),
            budget=budget,
        )
        lines.append(final.line)
    return "; ".join(lines)


async def wait_job(
    client: KubeClient,
    name: str,
    namespace: str,
    *,
    timeout: float,
    progress: ProgressLine,
    out: Out,
    budget: float | None = None,
) -> None:
    """Wait until the Job completes; print its pods and events and raise when it fails or times out."""
    state = "running"
    try:
        async with asyncio.timeout(timeout):
            async with contextlib.aclosing(follow(client, JOB, namespace, name=name)) as snapshots:
                async for snapshot in snapshots:
                    obj = snapshot.get(name)
                    if obj is None:
                        raise KubeError(f"Job {namespace}/{name} disappeared while waiting for it")
                    state = job_state(obj)
                    progress.update(f"Job {namespace}/{name}: {state}")
                    if state != "running":
                        break
    except TimeoutError:
        state = "timeout"
    progress.finish()
    if state == "complete":
        return
    await failure_report(client, namespace, f"job-name={name}", {name}, out)
    if state == "failed":
        raise RolloutFailed(f"Job {namespace}/{name} failed; the workload was not updated")
    raise RolloutTimeout(
        f"Job {namespace}/{name} not complete after {budget or timeout:g}s; the workload was not updated"
    )


def describe_pod(pod: dict[str, Any]) -> str:
    """`name  phase  ready 0/1  restarts 4  beam: CrashLoopBackOff (back-off ...)`."""
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    total = len((pod.get("spec") or {}).get("containers") or []) or len(containers)
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    details = []
    for c in containers:
        state = c.get("state") or {}
        if "waiting" in state:
            w = state["waiting"] or {}
            details.append(
                f"{c.get('name')}: {w.get('reason', 'Waiting')}" + (f" ({w['message']})" if w.get("message") else "")
            )
        elif "terminated" in state:
            t = state["terminated"] or {}
            details.append(f"{c.get('name')}: {t.get('reason', 'Terminated')} exit {t.get('exitCode', '?')}")
    text = f"{pod['metadata']['name']}  {status.get('phase', 'Unknown')}  ready {ready}/{total}  restarts {restarts}"
    return text + ("  " + "; ".join(details) if details else "")


async def failure_report(
    client: KubeClient, namespace: str, selector: str, also: set[str], out: Out, events: int = 10
) -> None:
    """Print the pods matching `selector` with their states, and the most recent related events."""
    try:
        pods, _ = await client.list(POD, namespace, label_selector=selector)
        names = {p["metadata"]["name"] for p in pods} | set(also)
        # ReplicaSet names start with the Deployment's name; include their events too.
        all_events, _ = await client.list(EVENT, namespace)
    except KubeError as exc:
        out(f"(could not collect pods and events: {exc})")
        return
    out(f"Pods ({selector}):" if pods else f"No pods match {selector}.")
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        out("  " + describe_pod(pod))
    related = [
        e
        for e in all_events
        if (e.get("involvedObject") or {}).get("name") in names
        or any(str((e.get("involvedObject") or {}).get("name", "")).startswith(n + "-") for n in also)
    ]
    related.sort(key=lambda e: (str(e.get("lastTimestamp") or e.get("eventTime") or ""), e["metadata"]["name"]))
    if related:
        out("Recent events:")
    for e in related[-events:]:
        inv = e.get("involvedObject") or {}
        when = e.get("lastTimestamp") or e.get("eventTime") or ""
        out(
            f"  {when} {e.get('type', '')} {e.get('reason', '')} {inv.get('kind', '')}/{inv.get('name', '')}: "
            f"{e.get('message', '')}"
        )


def workload_type(kind: str) -> ResourceType:
    return STATEFULSET if kind == "StatefulSet" else DEPLOYMENT
