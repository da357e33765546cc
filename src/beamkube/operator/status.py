"""A BeamApp's status: conditions Ready / Progressing / Degraded, replicas and the expected node names.

An app with process types has one workload per process: the status sums their replicas, names every
workload, lists every process's node names, and is Ready only when every workload is (a missing one is not).

Role: pure (no I/O). `build_status` is deterministic for the same inputs and keeps a condition's
`lastTransitionTime` while its status does not change, so a resync that observes nothing new produces a
status equal to the live one and the operator writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beamkube.engine.assess import Assessment, assess_workload
from beamkube.render.beam import node_basename, stable_nodes
from beamkube.render.processes import views
from beamkube.spec.model import AppSpec, Identity

CONDITION_TYPES = ("Ready", "Progressing", "Degraded")


@dataclass(frozen=True)
class Observation:
    """What one reconcile saw: the spec (or why it is invalid), the workload's live status, apply errors."""

    generation: int
    spec: AppSpec | None = None
    spec_error: str | None = None
    workload_kind: str | None = None
    workload: dict[str, Any] | None = None  # the main workload (the only one without process types)
    others: tuple[dict[str, Any] | None, ...] = ()  # the other processes' workloads, in spec order (None: missing)
    apply_error: str | None = None
    waiting_job: str | None = None  # a migration Job still running: the workload waits for it
    failed_job: str | None = None  # a migration Job failed: the workload is not changed
    completed_jobs: list[str] | None = None  # None: unknown here, keep what the status says


def desired_replicas(spec: AppSpec) -> int:
    """Pods the app (or one process's view of it) should have (the HPA may scale above; Ready needs at least
    its minimum)."""
    return spec.autoscaling.min if spec.autoscaling is not None else spec.replicas


def workload_names(spec: AppSpec) -> list[str]:
    """The app's workloads in spec order: `<app>` alone, or `<app>-<process>` per process type."""
    return [names.workload for _view, names in views(spec)]


def expected_nodes(spec: AppSpec) -> list[str]:
    """BEAM node names the pods will take, every process's: one per ordinal for stable identity, else the IP
    pattern; with `rollout.mixedVersions: isolate` the basename carries the image version, as the pods'."""
    nodes: list[str] = []
    for view, names in views(spec):
        if view.identity is Identity.STABLE:
            nodes += stable_nodes(view, names, view.replicas)
        elif (pattern := f"{node_basename(view, names)}@<pod IP>") not in nodes:
            nodes.append(pattern)
    return nodes


def workload_progress(workload: dict[str, Any] | None) -> tuple[int, bool]:
    """(ready replicas, whether the controller has seen the latest workload spec)."""
    if workload is None:
        return 0, False
    status = workload.get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    generation = (workload.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    seen = generation is None or observed is None or observed >= generation
    return ready, bool(seen)


def build_status(obs: Observation, previous: dict[str, Any] | None, now: str) -> dict[str, Any]:
    """The status to write. `previous` is the live status (for transition times); `now` an RFC 3339 time."""
    previous = previous or {}
    status: dict[str, Any] = {"observedGeneration": obs.generation}
    if obs.spec is None:
        message = obs.spec_error or "invalid spec"
        conditions = {
            "Ready": ("False", "InvalidSpec", message),
            "Progressing": ("False", "InvalidSpec", "nothing applied until the spec is fixed"),
            "Degraded": ("True", "InvalidSpec", message),
        }
        # Keep what the last valid spec reported about the running workload: it is still running.
        for key in ("readyReplicas", "replicas", "workload", "nodes", "completedJobs"):
            if key in previous:
                status[key] = previous[key]
        status["conditions"] = _conditions(conditions, previous, obs.generation, now)
        return _ordered(status)
    spec = obs.spec
    wants = [desired_replicas(view) for view, _names in views(spec)]
    lives = (obs.workload, *obs.others, *[None] * (len(wants) - 1 - len(obs.others)))  # unobserved: not ready
    want = sum(wants)
    ready = sum(workload_progress(live)[0] for live in lives)
    # The same rule as `deploy`'s rollout wait, per workload: observedGeneration, updated and available replicas
    # for at least the replicas it runs (HPA minimum), updateRevision, ProgressDeadlineExceeded → Degraded.
    pairs = zip(lives, wants, strict=True)
    per_workload = [assess_workload(live, n) if live is not None else None for live, n in pairs]
    assessment = _combined(per_workload)
    status["readyReplicas"] = ready
    status["replicas"] = want
    names = workload_names(spec)
    status["workload"] = f"{obs.workload_kind}/{', '.join(names)}" if obs.workload_kind else ", ".join(names)
    status["nodes"] = expected_nodes(spec)
    completed = obs.completed_jobs if obs.completed_jobs is not None else previous.get("completedJobs")
    if completed:
        status["completedJobs"] = sorted(completed)
    if obs.failed_job is not None:
        message = f"Job {obs.failed_job} failed; the workload was not changed (fix the spec to retry)"
        conditions = {
            "Ready": ("False", "JobFailed", message),
            "Progressing": ("False", "JobFailed", message),
            "Degraded": ("True", "JobFailed", message),
        }
    elif obs.waiting_job is not None and obs.apply_error is None:
        message = f"waiting for Job {obs.waiting_job} before changing {status['workload']}"
        conditions = {
            "Ready": ("False", "WaitingForJob", message),
            "Progressing": ("True", "WaitingForJob", message),
            "Degraded": ("False", "AsExpected", ""),
        }
    elif obs.apply_error is not None:
        conditions = {
            "Ready": ("False", "ApplyFailed", obs.apply_error),
            "Progressing": ("False", "ApplyFailed", obs.apply_error),
            "Degraded": ("True", "ApplyFailed", obs.apply_error),
        }
    elif assessment is not None and assessment.failed:
        message = f"{status['workload']}: {assessment.line}"
        conditions = {
            "Ready": ("False", assessment.reason or "RolloutFailed", message),
            "Progressing": ("False", assessment.reason or "RolloutFailed", message),
            "Degraded": ("True", assessment.reason or "RolloutFailed", message),
        }
    elif assessment is not None and assessment.done:
        conditions = {
            "Ready": ("True", "AllReplicasReady", f"{ready}/{want} replicas ready"),
            "Progressing": ("False", "RolloutComplete", "the workload runs the latest spec"),
            "Degraded": ("False", "AsExpected", ""),
        }
    else:
        conditions = {
            "Ready": ("False", "ReplicasNotReady", f"{ready}/{want} replicas ready"),
            "Progressing": ("True", "RollingOut", f"waiting for {status['workload']}: {ready}/{want} ready"),
            "Degraded": ("False", "AsExpected", ""),
        }
    status["conditions"] = _conditions(conditions, previous, obs.generation, now)
    return _ordered(status)


def _combined(assessments: list[Assessment | None]) -> Assessment | None:
    """One assessment for all of an app's workloads: the first failed one, else the first not complete (a
    missing workload: None), else the main one, complete."""
    for item in assessments:
        if item is not None and item.failed:
            return item
    for item in assessments:
        if item is None or not item.done:
            return item
    return assessments[0]


def _conditions(
    wanted: dict[str, tuple[str, str, str]], previous: dict[str, Any], generation: int, now: str
) -> list[dict[str, Any]]:
    before = {c.get("type"): c for c in previous.get("conditions") or [] if isinstance(c, dict)}
    out = []
    for kind in CONDITION_TYPES:
        state, reason, message = wanted[kind]
        old = before.get(kind) or {}
        since = old.get("lastTransitionTime") if old.get("status") == state and old.get("lastTransitionTime") else now
        out.append(
            {
                "lastTransitionTime": since,
                "message": message,
                "observedGeneration": generation,
                "reason": reason,
                "status": state,
                "type": kind,
            }
        )
    return out


def _ordered(status: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(status.items()))


def status_differs(live: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Whether writing `wanted` would change anything (ignores fields other writers own, like kopf's)."""
    live = live or {}
    return any(live.get(key) != value for key, value in wanted.items()) or any(
        key not in wanted for key in live if key in ("readyReplicas", "replicas", "workload", "nodes", "completedJobs")
    )


def ready(status: dict[str, Any] | None) -> bool:
    for condition in (status or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False
