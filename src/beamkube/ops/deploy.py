"""`beamkube deploy`: the engine's pass with a terminal edge: progress lines, blocking waits, exit codes.

Role: network I/O. The steps are `engine.reconcile`'s; this edge adds what a command needs:
1. preflight before any write: every API served, the namespace there (created when missing), a server-side
   dry run of the whole plan (schema of the server's version, immutable fields, ownership conflicts);
2. the namespace is created when missing;
3. the engine's pass: cookie once, everything up to the gate, each migration Job awaited within `--timeout`
   (a failed one stops the deploy before the workload changes; `--retry-migrations` runs it again), then the
   workloads and what targets them, then prune;
4. every workload's rollout is awaited with `engine.assess`'s rule (HPA minimum, available replicas,
   updateRevision, ProgressDeadlineExceeded → failed) within what is left of `--timeout`.
Every step converges from any partial state, so a re-run after Ctrl-C or a failure completes the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beamkube.engine.apply import Applied, stamp
from beamkube.engine.plan import Plan
from beamkube.engine.preflight import preflight
from beamkube.engine.reconcile import Hooks, Options, reader_for, reconcile
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists
from beamkube.ops.rollout import Out, ProgressLine, time_left, wait_job, wait_workloads


@dataclass
class DeployOptions:
    force_conflicts: bool = False
    dry_run: bool = False
    wait: bool = True
    timeout: float = 300.0  # one budget for migration Jobs and the rollout
    prune: bool = True
    retry_migrations: bool = False


@dataclass
class DeployResult:
    applied: list[Applied] = field(default_factory=list)
    cookie: str = ""
    pruned: list[str] = field(default_factory=list)
    namespace_created: bool = False
    rollout: str = ""


async def create_namespace(client: KubeClient, name: str) -> bool:
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "beamkube"}},
    }
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
    left = time_left(options.timeout)
    mode = " (server dry run)" if options.dry_run else ""
    version = f"Kubernetes {plan.kube_version[0]}.{plan.kube_version[1]}"
    out(f"Deploying {spec.name} to namespace {ns} ({client.context or 'in-cluster'}, {version}){mode}")
    # The dry run sends exactly what the engine will apply (stamped, without server-default fields).
    exists = await preflight(client, [stamp(o) for o in plan.objects], ns, force=options.force_conflicts)
    if not exists:
        result.namespace_created = options.dry_run or await create_namespace(client, ns)
        if result.namespace_created:
            out(f"  Namespace {ns} {'would be created' if options.dry_run else 'created'}")

    async def job_done(job: dict[str, Any], _live: dict[str, Any] | None) -> str:
        await wait_job(
            client, job["metadata"]["name"], ns, timeout=left(), progress=progress, out=out, budget=options.timeout
        )
        return "complete"

    engine_options = Options(
        force=options.force_conflicts,
        dry_run=options.dry_run,
        prune=options.prune,
        retry_failed_jobs=options.retry_migrations,
        namespace_absent=not exists,
    )
    hooks = Hooks(read=reader_for(client), job_state=job_done, out=out)
    done = await reconcile(client, plan, hooks, engine_options)
    result.applied, result.pruned, result.cookie = done.applied, done.pruned, done.cookie
    if options.dry_run or not options.wait:
        return result
    result.rollout = await wait_workloads(
        client, plan, done.workloads, left=left, progress=progress, out=out, budget=options.timeout
    )
    out(f"Rollout complete: {result.rollout}")
    return result

