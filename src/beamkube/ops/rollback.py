"""`beamkube rollback [--to-revision N]`: put an earlier pod template back, then wait like deploy.

An app with process types has one workload per process, deployed together: a rollback takes every one of
them back one revision (each has its own history, so revision numbers are per workload and `--to-revision`
is refused when there are several). Every target is chosen before anything is applied, so a workload without
an earlier revision stops the rollback with nothing changed.

Role: network I/O. Revisions come from the controllers' own history: a Deployment's ReplicaSets
(`deployment.kubernetes.io/revision`) or a StatefulSet's ControllerRevisions (`.revision`). The old template
is applied with server-side apply as field manager `beamkube`, on top of the rendered workload, so beamkube
keeps owning every field (the next `deploy` rolls forward without ownership conflicts) and nothing other than
the template changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from beamkube.errors import UsageError
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import KubeError
from beamkube.kube.resources import CONTROLLER_REVISION, REPLICASET
from beamkube.ops.common import Plan
from beamkube.ops.rollout import workload_type

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class Revision:
    number: int
    name: str
    template: dict[str, Any]
    images: tuple[str, ...]


def _owned_by(obj: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def _images(template: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(c.get("image", "")) for c in (template.get("spec") or {}).get("containers") or [])


async def revisions(client: KubeClient, plan: Plan, kind: str, live: dict[str, Any]) -> tuple[list[Revision], int]:
    """All revisions (ascending) of the live workload `live` (a `kind`) and its current revision number."""
    ns = plan.spec.namespace
    uid = live["metadata"]["uid"]
    found: list[Revision] = []
    if kind == "Deployment":
        selector = plan.selector_of(str(live["metadata"]["name"]))
        sets, _ = await client.list(REPLICASET, ns, label_selector=selector)
        for rs in sets:
            number = (rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
            if not _owned_by(rs, uid) or number is None:
                continue
            template = copy.deepcopy(rs["spec"]["template"])
            labels = (template.get("metadata") or {}).get("labels") or {}
            labels.pop("pod-template-hash", None)  # added by the Deployment controller, not part of our template
            found.append(Revision(int(number), rs["metadata"]["name"], template, _images(template)))
        current = int((live["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION) or 0)
    else:
        revs, _ = await client.list(CONTROLLER_REVISION, ns)
        current_name = (live.get("status") or {}).get("updateRevision")
        current = 0
        for rev in revs:
            if not _owned_by(rev, uid):
                continue
            template = copy.deepcopy(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
            template.pop("$patch", None)
            found.append(Revision(int(rev.get("revision") or 0), rev["metadata"]["name"], template, _images(template)))
            if rev["metadata"]["name"] == current_name:
                current = int(rev.get("revision") or 0)
    found.sort(key=lambda r: r.number)
    if not current and found:
        current = found[-1].number
    return found, current


def choose(found: list[Revision], current: int, to_revision: int | None) -> Revision:
    """Revision N, or the newest one older than the current revision."""
    listed = ", ".join(str(r.number) for r in found) or "none"
    if to_revision is not None:
        for rev in found:
            if rev.number == to_revision:
                if rev.number == current:
                    raise UsageError(f"revision {to_revision} is already the current revision")
                return rev
        raise UsageError(f"--to-revision {to_revision} not found (revisions: {listed})")
    older = [r for r in found if r.number < current]
    if not older:
        raise UsageError(f"no earlier revision to roll back to (revisions: {listed}, current {current})")
    return older[-1]


@dataclass(frozen=True)
class Step:
    """One workload's rollback: what is applied, from which revision to which."""

    kind: str
    name: str
    body: dict[str, Any]
    target: Revision
    current: int


async def plan_rollback(client: KubeClient, plan: Plan, to_revision: int | None) -> list[Step]:
    """Choose every workload's target revision (main workload first); raises before anything is applied."""
    ns = plan.spec.namespace
    workloads = plan.workloads_main_first
    if to_revision is not None and len(workloads) > 1:
        names = ", ".join(w["metadata"]["name"] for w in workloads)
        raise UsageError(
            f"--to-revision names one workload's revision and {plan.spec.name} has {len(workloads)} ({names}); "
            "without it every workload goes back one revision"
        )
    steps: list[Step] = []
    for workload in workloads:
        kind, name = str(workload["kind"]), str(workload["metadata"]["name"])
        live = await client.get_or_none(workload_type(kind), name, ns)
        if live is None:
            raise KubeError(f"{kind} {ns}/{name} not found: nothing to roll back")
        found, current = await revisions(client, plan, kind, live)
        try:
            target = choose(found, current, to_revision)
        except UsageError as exc:
            raise UsageError(f"{kind} {ns}/{name}: {exc}") if len(workloads) > 1 else exc from None
        body = copy.deepcopy(workload)
        body["spec"]["template"] = target.template
        steps.append(Step(kind, name, body, target, current))
    return steps


async def rollback(
    client: KubeClient, plan: Plan, to_revision: int | None, *, dry_run: bool = False
) -> list[Step]:
    """Apply every workload's chosen revision (see `plan_rollback`); returns the steps applied."""
    steps = await plan_rollback(client, plan, to_revision)
    for step in steps:
        # force: the template fields are beamkube's by design; a rollback must not stop at a conflict that a
        # controller-side edit (e.g. `kubectl set image`) created, since restoring a known state is the point.
        await client.apply(step.body, force=True, dry_run=dry_run)
    return steps
