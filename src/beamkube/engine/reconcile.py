"""The step machine both edges run: cookie → apply up to the gate → migration Jobs → the rest → prune.

Role: network I/O (through `KubeClient` and the edge's hooks). One pass, idempotent and convergent from any
partial state; what differs between `deploy` and the operator is only in `Hooks`:

- `read(obj)`: the live object (deploy: a GET; the operator: its watch-fed cache);
- `job_state(job, live)`: deploy waits for the Job until it ends or `--timeout`; the operator looks once and
  requeues while it runs;
- `check(desired, live)`: the operator refuses cluster-scoped objects that belong to someone else;
- `out(line)`: deploy prints progress; the operator logs nothing per object.

Migration Jobs gate everything ranked after them. A Job recorded as completed (`Options.completed_jobs`) is
not applied again, even after its TTL removed it. A failed Job can be re-run (`Options.retry_failed_jobs`): it
is deleted (foreground, so its pods go first) and created again under the same name; only the current
render's Jobs are kept (prune removes the others), so the history stays bounded.
After the pass, the caller assesses `Result.workloads` with `engine.assess` (deploy waits, the operator
reports).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from beamkube.engine.apply import Applied, converge, stamp
from beamkube.engine.assess import hpa_minimums, job_state
from beamkube.engine.ownership import ensure_cookie_secret
from beamkube.engine.plan import Plan
from beamkube.engine.prune import Lister, prune
from beamkube.kinds import WORKLOAD_KINDS
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import KubeError
from beamkube.kube.resources import JOB, describe, resource_of

COOKIE_WORDS = {
    "created": "created (random cookie)",
    "exists": "exists (kept)",
    "would create": "would be created (random cookie)",
}
Reader = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
JobState = Callable[[dict[str, Any], dict[str, Any] | None], Awaitable[str]]


def reader_for(client: KubeClient) -> Reader:
    """A Reader that GETs each object (the CLI's: one run, no cache worth keeping)."""

    async def read(obj: dict[str, Any]) -> dict[str, Any] | None:
        meta = obj["metadata"]
        return await client.get_or_none(resource_of(obj), str(meta["name"]), meta.get("namespace"))

    return read


async def _look_once(job: dict[str, Any], live: dict[str, Any] | None) -> str:
    return job_state(live)


@dataclass
class Hooks:
    read: Reader
    job_state: JobState = _look_once
    check: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None
    out: Callable[[str], None] | None = None


@dataclass
class Options:
    force: bool = False
    dry_run: bool = False
    prune: bool = True
    cookie: bool = True
    retry_failed_jobs: bool = False
    completed_jobs: frozenset[str] = frozenset()
    owner_uid: str | None = None  # the operator: children of this BeamApp count as the app's own
    lister: Lister | None = None  # how prune finds the app's objects (default: LISTs)
    namespace_absent: bool = False  # dry run into a namespace still to be created: nothing to ask the server


@dataclass
class Result:
    applied: list[Applied] = field(default_factory=list)
    writes: int = 0
    cookie: str = ""
    pruned: list[str] = field(default_factory=list)
    completed_jobs: list[str] = field(default_factory=list)
    waiting_job: str | None = None
    failed_job: str | None = None
    workloads: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    hpa_minimums: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def gated(self) -> bool:
        return self.waiting_job is not None or self.failed_job is not None


async def reconcile(
    client: KubeClient,
    plan: Plan,
    hooks: Hooks,
    options: Options,
    decorate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Result:
    """One pass over `plan` (see the module docstring); `decorate` adds the edge's metadata (ownerReferences)."""
    result = Result(completed_jobs=sorted(options.completed_jobs), hpa_minimums=hpa_minimums(plan.objects))
    desired = {id(o): stamp(decorate(o) if decorate else o) for o in plan.objects}
    say = hooks.out or (lambda _line: None)

    if options.cookie:
        result.cookie = await ensure_cookie_secret(client, plan.spec, dry_run=options.dry_run, read=hooks.read)
        result.writes += result.cookie == "created"
        say(f"  Secret {plan.spec.namespace}/{plan.spec.cookie_secret_name} {COOKIE_WORDS.get(result.cookie, '')}")

    async def converge_one(obj: dict[str, Any]) -> Applied:
        want = desired[id(obj)]
        if options.dry_run and options.namespace_absent and resource_of(want).namespaced:
            # The server cannot dry-run into a namespace that does not exist yet.
            say(f"  {describe(want)} would be created")
            result.applied.append(Applied(describe(want), "created", want))
            return result.applied[-1]
        live = await hooks.read(want)
        if hooks.check is not None:
            hooks.check(want, live)
        applied = await converge(client, want, live, force=options.force, dry_run=options.dry_run)
        result.applied.append(applied)
        result.writes += applied.wrote and not options.dry_run
        say(f"  {applied.description} {applied.action}{' (dry run)' if options.dry_run else ''}")
        return applied

    for obj in plan.before_gate():
        await converge_one(obj)

    for job in plan.jobs:
        name = str(job["metadata"]["name"])
        if name in options.completed_jobs:
            continue  # ran once for this template; never again, even after its TTL removed it
        if options.retry_failed_jobs and not options.dry_run:
            await _delete_if_failed(client, desired[id(job)], hooks, say)
        applied = await converge_one(job)
        if options.dry_run:
            continue
        state = await hooks.job_state(desired[id(job)], applied.live)
        if state == "complete":
            result.completed_jobs = sorted({*result.completed_jobs, name})
            say(f"  Job {plan.spec.namespace}/{name} complete")
        elif state == "failed":
            result.failed_job = result.failed_job or name
        else:
            result.waiting_job = result.waiting_job or name

    for obj in plan.after_gate():
        key = (str(obj["kind"]), str(obj["metadata"]["name"]))
        if result.gated:
            # Migrations first: the workload (and what targets it) does not change until they complete.
            if obj["kind"] in WORKLOAD_KINDS:
                result.workloads[key] = await hooks.read(desired[id(obj)])
            continue
        applied = await converge_one(obj)
        if obj["kind"] in WORKLOAD_KINDS:
            result.workloads[key] = None if options.dry_run else applied.live

    if options.prune and not result.gated:
        keep = list(desired.values())
        result.pruned = await prune(
            client,
            plan.spec.name,
            plan.spec.namespace,
            keep,
            dry_run=options.dry_run,
            owner_uid=options.owner_uid,
            lister=options.lister,
        )
        result.writes += 0 if options.dry_run else len(result.pruned)
        for text in result.pruned:
            say(f"  {text} {'would be pruned' if options.dry_run else 'pruned'}")
    return result


async def _delete_if_failed(
    client: KubeClient, job: dict[str, Any], hooks: Hooks, say: Callable[[str], None], timeout: float = 60.0
) -> None:
    live = await hooks.read(job)
    if live is None or job_state(live) != "failed":
        return
    meta = job["metadata"]
    await client.delete(JOB, str(meta["name"]), meta.get("namespace"), propagation="Foreground")
    say(f"  Job {meta.get('namespace')}/{meta['name']} failed before; deleted to run it again")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await client.get_or_none(JOB, str(meta["name"]), meta.get("namespace")) is not None:
        if loop.time() > deadline:
            raise KubeError(f"Job {meta.get('namespace')}/{meta['name']} still being deleted after {timeout:g}s")
        await asyncio.sleep(0.05)
