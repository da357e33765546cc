"""`beamkube deploy`: render, server-side apply in order, cookie once, migrations first, prune, wait.

Role: network I/O. The order of steps is what makes a re-run after Ctrl-C or a failure safe (idempotent):
1. the namespace exists (created when missing and allowed);
2. the cookie Secret is created if missing, never touched when present;
3. everything ranked before the workload (config, Services, RBAC, migration Jobs) is applied;
4. each migration Job is awaited: a failed migration stops the deploy before the workload changes;
5. the workload and what targets it (HPA, Ingress, ...) are applied;
6. objects beamkube created for this app and no longer rendered are pruned;
7. the rollout is awaited with a progress line; a timeout prints pod states and events and fails.
Every step converges from any partial state: apply is declarative, create-if-missing tolerates "already
exists", Jobs are named by a digest of their template (same spec → same Job, already complete), and prune only
removes what the current render no longer contains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beamkube.kube.apply import ApplyResult, apply_one, ensure_cookie_secret, prune
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import Forbidden, NotFound
from beamkube.kube.resources import NAMESPACE, describe
from beamkube.ops.common import Plan
from beamkube.ops.rollout import Out, ProgressLine, wait_job, wait_rollout

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass
class DeployOptions:
    force_conflicts: bool = False
    dry_run: bool = False
    wait: bool = True
    timeout: float = 300.0
    job_timeout: float | None = None  # default: the Job's activeDeadlineSeconds + slack
    prune: bool = True


@dataclass
class DeployResult:
    applied: list[ApplyResult] = field(default_factory=list)
    cookie: str = ""
    pruned: list[str] = field(default_factory=list)
    namespace_created: bool = False
    rollout: str = ""


async def ensure_namespace(client: KubeClient, name: str, *, dry_run: bool) -> bool:
    """Create the namespace when it is missing; True when it was (or would be) created."""
    try:
        if await client.get_or_none(NAMESPACE, name) is not None:
            return False
    except Forbidden:
        return False  # namespace-scoped credentials cannot read namespaces; assume it exists
    if not dry_run:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "beamkube"}},
        }
        from beamkube.kube.errors import AlreadyExists

        try:
            await client.create(body)
        except AlreadyExists:
            return False
    return True


async def deploy(
    client: KubeClient, plan: Plan, options: DeployOptions, out: Out, progress: ProgressLine
) -> DeployResult:
    spec = plan.spec
    ns = spec.namespace
    result = DeployResult()
    mode = " (server dry run)" if options.dry_run else ""
    out(f"Deploying {spec.name} to namespace {ns} ({client.context or 'in-cluster'}){mode}")
    result.namespace_created = await ensure_namespace(client, ns, dry_run=options.dry_run)
    if result.namespace_created:
        out(f"  Namespace {ns} {'would be created' if options.dry_run else 'created'}")
    result.cookie = await ensure_cookie_secret(client, spec, dry_run=options.dry_run)
    out(f"  Secret {ns}/{spec.cookie_secret_name} {_cookie_words(result.cookie)}")

    first_workload = next(i for i, o in enumerate(plan.objects) if o["kind"] in WORKLOAD_KINDS)
    before, after = plan.objects[:first_workload], plan.objects[first_workload:]

    async def apply_all(objects: list[dict[str, Any]]) -> None:
        for obj in objects:
            try:
                applied = await apply_one(client, obj, force=options.force_conflicts, dry_run=options.dry_run)
            except NotFound:
                if options.dry_run and result.namespace_created:
                    # The server cannot dry-run into a namespace that does not exist yet.
                    out(f"  {describe(obj)} would be created")
                    continue
                raise
            result.applied.append(applied)
            out(f"  {applied.description} {applied.action}{' (dry run)' if options.dry_run else ''}")

    await apply_all(before)
    if not options.dry_run:
        for job in (o for o in before if o["kind"] == "Job"):
            deadline = options.job_timeout or float(job["spec"].get("activeDeadlineSeconds") or 600) + 60
            await wait_job(client, job["metadata"]["name"], ns, timeout=deadline, progress=progress, out=out)
            out(f"  Job {ns}/{job['metadata']['name']} complete")
    await apply_all(after)

    if options.prune:
        result.pruned = await prune(client, spec.name, ns, plan.objects, dry_run=options.dry_run)
        for text in result.pruned:
            out(f"  {text} {'would be pruned' if options.dry_run else 'pruned'}")

    if options.dry_run or not options.wait:
        return result
    workload = plan.workload
    final = await wait_rollout(
        client,
        workload["kind"],
        workload["metadata"]["name"],
        ns,
        timeout=options.timeout,
        progress=progress,
        out=out,
        selector=plan.selector,
    )
    result.rollout = final.line
    out(f"Rollout complete: {final.line}")
    return result


def _cookie_words(state: str) -> str:
    return {
        "created": "created (random cookie)",
        "exists": "exists (kept)",
        "would create": "would be created (random cookie)",
    }.get(state, state)
