"""Rules on Jobs and CronJobs, and on restart policies of every pod-owning kind.

Role: pure (no I/O). The cron syntax accepted is the one the CronJob controller parses (robfig/cron's
standard five fields, `@hourly`-style macros, an optional `CRON_TZ=`/`TZ=` prefix); restart policies are
those the API server validates per kind (Always for long-running controllers, Never or OnFailure for Jobs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.context import Context, as_map, pod_spec
from beamkube.audit.model import Hit, Manifest, Rule, Severity

_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_NAMES = {
    3: ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    4: ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"),
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_ALLOWED_RESTART = {
    "Job": ("Never", "OnFailure"),
    "CronJob": ("Never", "OnFailure"),
    "Deployment": ("Always",),
    "StatefulSet": ("Always",),
    "DaemonSet": ("Always",),
    "ReplicaSet": ("Always",),
    "ReplicationController": ("Always",),
}


def _value(text: str, field: int) -> int | None:
    names = _NAMES.get(field, ())
    if text.upper() in names:
        return names.index(text.upper()) + (1 if field == 3 else 0)
    return int(text) if text.isdigit() else None


def _field_ok(text: str, field: int) -> bool:
    low, high = _RANGES[field]
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return False
        if base in ("*", "?"):
            continue
        bounds = base.split("-")
        if len(bounds) > 2:
            return False
        values = [_value(b, field) for b in bounds]
        if any(v is None or not low <= v <= high for v in values):
            return False
        if len(values) == 2 and values[0] is not None and values[1] is not None and values[0] > values[1]:
            return False
    return True


def cron_problem(schedule: Any) -> str | None:
    """Why the CronJob controller would refuse `schedule`, or None."""
    if not isinstance(schedule, str) or not schedule.strip():
        return "schedule is empty or not a string"
    text = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", schedule.strip())
    if text.startswith("@"):
        return None if text in _MACROS or text.startswith("@every ") else f"unknown macro {text.split()[0]}"
    fields = text.split()
    if len(fields) != 5:
        return f"{len(fields)} fields; a schedule has 5 (minute hour day-of-month month day-of-week)"
    for index, part in enumerate(fields):
        if not _field_ok(part, index):
            name = ("minute", "hour", "day-of-month", "month", "day-of-week")[index]
            return f"{name} {part!r} is out of range {_RANGES[index][0]}-{_RANGES[index][1]}"
    return None


def bad_schedule(ctx: Context, m: Manifest) -> Iterator[Hit]:
    problem = cron_problem(m.spec.get("schedule"))
    if problem is not None:
        yield Hit(f"spec.schedule {str(m.spec.get('schedule'))[:40]!r}: {problem}")


def no_deadline(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.spec.get("startingDeadlineSeconds") is None:
        yield Hit("spec.startingDeadlineSeconds unset")


def restart_policy(ctx: Context, m: Manifest) -> Iterator[Hit]:
    allowed = _ALLOWED_RESTART.get(m.kind)
    policy = pod_spec(m).get("restartPolicy")
    if allowed is None:
        return
    if m.kind in ("Job", "CronJob") and policy is None:
        yield Hit("spec.template.spec.restartPolicy unset (the API requires Never or OnFailure for Job pods)")
    elif policy is not None and policy not in allowed:
        yield Hit(f"spec.template.spec.restartPolicy {policy!r} (allowed for a {m.kind}: {' or '.join(allowed)})")


def job_ttl(ctx: Context, m: Manifest) -> Iterator[Hit]:
    owners = as_map(m.metadata).get("ownerReferences")
    if isinstance(owners, list) and any(isinstance(o, Mapping) and o.get("kind") == "CronJob" for o in owners):
        return  # the CronJob's history limits clean it up
    if m.spec.get("ttlSecondsAfterFinished") is None:
        yield Hit("spec.ttlSecondsAfterFinished unset")


RULES = [
    Rule("BK316", Severity.INFO, "rollout", "CronJob has no starting deadline",
         "Set spec.startingDeadlineSeconds (e.g. 300).",
         "After a controller outage a CronJob without a deadline may count 100 missed runs and stop "
         "scheduling altogether; with one, late runs are skipped cleanly.",
         frozenset({"CronJob"}), no_deadline),
    Rule("BK317", Severity.ERROR, "rollout", "Restart policy is not allowed for the kind",
         "Use restartPolicy Never or OnFailure for Job and CronJob pods, Always (or unset) for the others.",
         "The API server rejects the object (a Job pod that restarts Always never completes).",
         frozenset(_ALLOWED_RESTART), restart_policy),
    Rule("BK318", Severity.INFO, "rollout", "Job is never cleaned up",
         "Set spec.ttlSecondsAfterFinished (e.g. 86400) on Jobs that are not created by a CronJob.",
         "Finished Jobs and their pods stay until someone deletes them, filling the namespace and etcd.",
         frozenset({"Job"}), job_ttl),
    Rule("BK319", Severity.ERROR, "rollout", "CronJob schedule is not valid cron",
         "Write five fields (minute hour day-of-month month day-of-week) within range, or a macro like @daily.",
         "The API server rejects the CronJob (or the controller never schedules it).",
         frozenset({"CronJob"}), bad_schedule),
]
