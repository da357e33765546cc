"""One readiness rule per kind, the same for `deploy` and the operator's Ready/Degraded conditions.

Role: pure (object → Assessment). A workload is rolled out only when its controller says so for the replicas
the app will actually run:

- the controller has observed the latest generation (`status.observedGeneration >= metadata.generation`);
- the replicas to wait for are `spec.replicas`, raised to the HPA's `minReplicas` when an HPA owns the
  replica count (the rendered workload then omits `replicas`, the server defaults it to 1 and the HPA
  controller scales it up shortly after: "1/1 ready" right after the apply is not done);
- Deployments: every wanted replica updated and *available*, no old replicas left, and a
  `Progressing=False/ProgressDeadlineExceeded` condition is a failure, not a wait;
- StatefulSets: ready *and available* replicas (minReadySeconds counts), updated replicas and
  `currentRevision == updateRevision` (or the partition's share when a partition is set);
- Jobs: complete, failed or running from their conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Assessment:
    """`state` is complete, progressing or failed; `line` is the one-line progress text."""

    state: str
    line: str
    desired: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    generation: int = 0
    observed: int = 0
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.state == "complete"

    @property
    def failed(self) -> bool:
        return self.state == "failed"


def _counts(obj: dict[str, Any]) -> dict[str, int]:
    status = obj.get("status") or {}
    return {k: int(status.get(k) or 0) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")}


def assess_workload(obj: dict[str, Any], min_replicas: int | None = None) -> Assessment:
    """Readiness of a Deployment or StatefulSet; `min_replicas`: the HPA minimum when an HPA targets it."""
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, obj.get("metadata") or {}
    replicas = int(spec["replicas"]) if spec.get("replicas") is not None else 1
    want = max(replicas, min_replicas or 0)
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    c = _counts(obj)
    line = (
        f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')}: {c['updatedReplicas']}/{want} updated, "
        f"{c['readyReplicas']}/{want} ready, {c['availableReplicas']}/{want} available "
        f"(generation {generation}, observed {observed})"
    )
    numbers = (want, c["updatedReplicas"], c["readyReplicas"], c["availableReplicas"], generation, observed)
    seen = observed >= generation
    if obj.get("kind") == "StatefulSet":
        partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
        if partition > 0:
            rolled = c["updatedReplicas"] >= max(0, want - partition)
        else:
            rolled = c["updatedReplicas"] >= want and status.get("currentRevision") == status.get("updateRevision")
        done = seen and rolled and c["readyReplicas"] >= want and c["availableReplicas"] >= want
        done = done and c["replicas"] == replicas and replicas >= want
        return Assessment("complete" if done else "progressing", line, *numbers)
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            failed = line + ": progress deadline exceeded"
            return Assessment("failed", failed, *numbers, reason="ProgressDeadlineExceeded")
    done = seen and c["updatedReplicas"] >= want and c["availableReplicas"] >= want
    done = done and c["replicas"] == replicas and replicas >= want
    return Assessment("complete" if done else "progressing", line, *numbers)


def job_state(obj: dict[str, Any] | None) -> str:
    """complete, failed or running (a Job not there yet is running: it is about to be created)."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("status") == "True" and cond.get("type") == "Complete":
            return "complete"
        if cond.get("status") == "True" and cond.get("type") == "Failed":
            return "failed"
    return "running"


def hpa_minimums(objects: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(kind, name) of each HPA target → its minReplicas (1 when unset, the server's default)."""
    found: dict[tuple[str, str], int] = {}
    for obj in objects:
        if obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        spec = obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        found[(str(ref.get("kind")), str(ref.get("name")))] = int(spec.get("minReplicas") or 1)
    return found
