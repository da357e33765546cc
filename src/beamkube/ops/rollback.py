"""`beamkube rollback [--to-revision N]`: put an earlier pod template back, then wait like deploy.

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


async def revisions(client: KubeClient, plan: Plan, live: dict[str, Any]) -> tuple[list[Revision], int]:
    """All revisions (ascending) and the current revision number."""
    ns = plan.spec.namespace
    uid = live["metadata"]["uid"]
    found: list[Revision] = []
    if plan.workload_kind == "Deployment":
        sets, _ = await client.list(REPLICASET, ns, label_selector=plan.selector)
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


async def rollback(
    client: KubeClient, plan: Plan, to_revision: int | None, *, dry_run: bool = False
) -> tuple[Revision, int]:
    """Apply the chosen revision's template; returns (revision, previous current revision number)."""
    ns = plan.spec.namespace
    name = plan.workload["metadata"]["name"]
    live = await client.get_or_none(workload_type(plan.workload_kind), name, ns)
    if live is None:
        raise KubeError(f"{plan.workload_kind} {ns}/{name} not found: nothing to roll back")
    found, current = await revisions(client, plan, live)
    target = choose(found, current, to_revision)
    body = copy.deepcopy(plan.workload)
    body["spec"]["template"] = target.template
    # force: the template fields are beamkube's by design; a rollback must not stop at a conflict that a
    # controller-side edit (e.g. `kubectl set image`) created, since restoring a known state is the point.
    await client.apply(body, force=True, dry_run=dry_run)
    return target, current
