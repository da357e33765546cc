"""Reconcile one BeamApp: render it, apply the children that differ, create the cookie, prune, report status.

Role: network I/O (through `beamkube.kube.client.KubeClient`). Level-triggered and idempotent: the same
BeamApp reconciled twice writes nothing the second time, and a reconcile interrupted at any point (operator
restarted) is completed by the next one. Reads come before every write: a child is applied only when the live
object lacks what is desired (`children.needs_apply`), the status is patched only when it differs.

An invalid spec is not an exception to retry: it becomes the Degraded condition carrying the message
`beamkube render` would print (`parse_spec`'s `SpecError`), and nothing is applied.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from beamkube.errors import SpecError
from beamkube.kube.apply import new_cookie, prune
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists, KubeError
from beamkube.kube.resources import ResourceType, prunable_types, register, resource_of
from beamkube.operator import GROUP, KIND, PLURAL, VERSION
from beamkube.operator.children import (
    CLUSTER_SCOPED_KINDS,
    OWNER_NAME,
    OWNER_NAMESPACE,
    desired_child,
    needs_apply,
    owned_by,
)
from beamkube.operator.crd import spec_from_beamapp
from beamkube.operator.status import Observation, build_status, status_differs
from beamkube.render import render
from beamkube.render.config import generated_cookie_secret
from beamkube.render.order import KIND_ORDER, apply_key
from beamkube.spec.load import parse_spec
from beamkube.spec.model import AppSpec

log = logging.getLogger("beamkube.operator")
JOB_RANK = KIND_ORDER.index("Job")

BEAMAPP = register(ResourceType(f"{GROUP}/{VERSION}", KIND, PLURAL, True))


class OwnershipConflict(KubeError):
    """A cluster-scoped child (e.g. a PriorityClass) exists and belongs to someone else."""


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def app_source(app: dict[str, Any]) -> str:
    meta = app.get("metadata") or {}
    return f"BeamApp {meta.get('namespace', 'default')}/{meta.get('name', '?')}"


@dataclass
class Outcome:
    """What one reconcile did (for logs, tests and the benchmark)."""

    writes: int = 0
    ready: bool = False
    error: str | None = None
    pruned: list[str] = field(default_factory=list)
    gone: bool = False  # the BeamApp no longer exists (or is being deleted): nothing was done
    invalid_spec: bool = False  # waits for the next edit; retrying cannot help


class Reconciler:
    """Reconciles BeamApps with one client. `pruned_once` remembers apps pruned since this process started,
    so a restarted operator prunes each app once even when its generation did not change."""

    def __init__(self, client: KubeClient, clock: Callable[[], str] = now_rfc3339) -> None:
        self.client = client
        self.clock = clock
        self.pruned_once: set[str] = set()
        self.prune_pending: set[str] = set()
        # Called with (app, status) after every reconcile; the controller uses it to ignore the echo event.
        self.status_written: Callable[[dict[str, Any], dict[str, Any]], None] | None = None

    async def reconcile(self, app: dict[str, Any]) -> Outcome:
        """Reconcile the BeamApp `app` names. It is read again first: the watch cache may be behind a delete,
        and applying children of a deleted BeamApp would re-create what the garbage collector just removed."""
        outcome = Outcome()
        cached = app["metadata"]
        fresh = await self.client.get_or_none(BEAMAPP, cached["name"], cached.get("namespace"))
        if fresh is None or (fresh.get("metadata") or {}).get("deletionTimestamp"):
            outcome.gone = True
            return outcome
        app = fresh
        meta = app["metadata"]
        generation = int(meta.get("generation") or 0)
        live_status = app.get("status") or {}
        try:
            spec = parse_spec(spec_from_beamapp(app), app_source(app))
        except SpecError as exc:
            outcome.error = str(exc)
            outcome.invalid_spec = True
            observation = Observation(generation=generation, spec_error=str(exc))
            await self._write_status(app, observation, outcome)
            return outcome
        rendered = render(spec)
        desired = [desired_child(obj, app) for obj in rendered.objects]
        workload_live: dict[str, Any] | None = None
        apply_error: str | None = None
        uid = str(meta.get("uid"))
        if not live_status:
            # Status first for a BeamApp nobody has reconciled: "no status" then always means "nothing
            # applied yet", so such an app needs no prune (18 LISTs saved per new app).
            first = Observation(generation=generation, spec=spec, workload_kind=rendered.workload_kind)
            live_status = app["status"] = await self._write_status(app, first, outcome)
            self.pruned_once.add(uid)
        # A failed prune stays pending: the status written below already carries the new generation.
        if uid not in self.pruned_once or live_status.get("observedGeneration") != generation:
            self.prune_pending.add(uid)
        job_names = {o["metadata"]["name"] for o in desired if o["kind"] == "Job"}
        completed = sorted(set(live_status.get("completedJobs") or []) & job_names)
        waiting_job: str | None = None
        failed_job: str | None = None
        try:
            await self._ensure_cookie(spec, outcome)  # before the pods that mount it
            for obj in desired:
                name = obj["metadata"]["name"]
                is_workload = obj["kind"] == rendered.workload_kind and name == spec.name
                if obj["kind"] == "Job":
                    if name in completed:
                        continue  # ran once for this template; never again, even after its TTL removed it
                    state = _job_state(await self._converge(obj, app, outcome))
                    if state == "Complete":
                        completed.append(name)
                    elif state == "Failed":
                        failed_job = failed_job or name
                    else:
                        waiting_job = waiting_job or name
                elif (waiting_job or failed_job) and apply_key(obj)[0] > JOB_RANK:
                    # Like `beamkube deploy`: migrations finish before the workload (and what targets it) changes.
                    if is_workload:
                        workload_live = await self.client.get_or_none(resource_of(obj), name, spec.namespace)
                else:
                    live = await self._converge(obj, app, outcome)
                    if is_workload:
                        workload_live = live
            if uid in self.prune_pending and not (waiting_job or failed_job):
                await self._prune(spec, app, desired, outcome)
                self.pruned_once.add(uid)
                self.prune_pending.discard(uid)
        except KubeError as exc:
            apply_error = str(exc)
            outcome.error = apply_error
        observation = Observation(
            generation=generation,
            spec=spec,
            workload_kind=rendered.workload_kind,
            workload=workload_live,
            apply_error=apply_error,
            waiting_job=waiting_job,
            failed_job=failed_job,
            completed_jobs=completed,
        )
        status = await self._write_status(app, observation, outcome)
        outcome.ready = apply_error is None and any(
            c["type"] == "Ready" and c["status"] == "True" for c in status["conditions"]
        )
        return outcome

    async def refresh_status(
        self, app: dict[str, Any], previous: dict[str, Any] | None, workload: dict[str, Any]
    ) -> bool:
        """Recompute the status from a workload seen in a watch event, without reading or applying anything.
        Returns False when that is not enough (the spec changed since the last full reconcile, the spec is
        invalid, the last reconcile failed): the caller then runs a full reconcile."""
        previous = previous or {}
        generation = int(app["metadata"].get("generation") or 0)
        conditions = previous.get("conditions") or []
        degraded = any(c.get("type") == "Degraded" and c.get("status") == "True" for c in conditions)
        waiting = any(c.get("reason") == "WaitingForJob" for c in conditions)
        if previous.get("observedGeneration") != generation or degraded or waiting:
            return False
        try:
            spec = parse_spec(spec_from_beamapp(app), app_source(app))
        except SpecError:
            return False
        observation = Observation(
            generation=generation, spec=spec, workload_kind=str(workload.get("kind")), workload=workload
        )
        await self._write_status({**app, "status": previous}, observation, Outcome())
        return True

    async def _converge(self, obj: dict[str, Any], app: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
        rt = resource_of(obj)
        meta = obj["metadata"]
        live = await self.client.get_or_none(rt, meta["name"], meta.get("namespace"))
        if live is not None and obj["kind"] in CLUSTER_SCOPED_KINDS and not owned_by(live, app):
            raise OwnershipConflict(
                f"{obj['kind']} {meta['name']} exists and is not owned by {app_source(app)}; "
                "rename the app or delete that object"
            )
        if not needs_apply(obj, live):
            assert live is not None
            return live
        outcome.writes += 1
        # force: the operator is the controller of its children; hand edits are reverted like any drift.
        return await self.client.apply(obj, force=True)

    async def _ensure_cookie(self, spec: AppSpec, outcome: Outcome) -> None:
        """The cookie Secret, created once with random bytes (never rewritten). Whether it exists is learnt
        from a dry-run create (409 AlreadyExists when it does; nothing is stored, and RBAC authorizes a dry
        run like the real request), so the operator's ClusterRole needs only `create` on Secrets: it can
        never read one (see `beamkube.operator.manifests.cluster_role`)."""
        try:
            await self.client.create(generated_cookie_secret(spec, new_cookie(32).encode()), dry_run=True)
        except AlreadyExists:
            return
        try:
            await self.client.create(generated_cookie_secret(spec, new_cookie(32).encode()))
        except AlreadyExists:
            return  # another operator (or deploy) won the race
        outcome.writes += 1

    async def _prune(self, spec: AppSpec, app: dict[str, Any], desired: list[dict[str, Any]], outcome: Outcome) -> None:
        """Delete this BeamApp's children that are no longer rendered: namespaced ones with `deploy`'s prune
        (restricted to children of this BeamApp's uid), cluster-scoped ones (which `prune` never touches) by
        their owner labels. Never Secrets or PVCs."""
        uid = str(app["metadata"]["uid"])
        deleted = await prune(self.client, spec.name, spec.namespace, desired, owner_uid=uid)
        wanted = {(o["kind"], o["metadata"]["name"]) for o in desired}
        for rt in prunable_types():
            if rt.namespaced:
                continue
            items, _ = await self.client.list(rt, label_selector=_owner_selector(app))
            for item in items:
                name = str(item["metadata"]["name"])
                if (rt.kind, name) not in wanted and owned_by(item, app) and await self.client.delete(rt, name):
                    deleted.append(f"{rt.kind} {name}")
        outcome.writes += len(deleted)
        outcome.pruned.extend(deleted)

    async def _write_status(self, app: dict[str, Any], obs: Observation, outcome: Outcome) -> dict[str, Any]:
        live = app.get("status") or {}
        status = build_status(obs, live, self.clock())
        # Recorded before the write: its watch echo can be processed before the PATCH response returns.
        if self.status_written is not None:
            self.status_written(app, status)
        if status_differs(live, status):
            outcome.writes += 1
            meta = app["metadata"]
            await self.client.patch(
                BEAMAPP, meta["name"], {"status": status}, namespace=meta["namespace"], subresource="status"
            )
        return status

    async def cleanup_cluster_scoped(self, namespace: str, name: str) -> list[str]:
        """After a BeamApp is deleted: delete its cluster-scoped children (no ownerReference can reach them)."""
        app = {"metadata": {"namespace": namespace, "name": name}}
        deleted = []
        for rt in prunable_types():
            if rt.namespaced:
                continue
            items, _ = await self.client.list(rt, label_selector=_owner_selector(app))
            for item in items:
                if owned_by(item, app) and await self.client.delete(rt, item["metadata"]["name"]):
                    deleted.append(f"{rt.kind} {item['metadata']['name']}")
        return deleted


    async def sweep_orphans(self) -> list[str]:
        """Cluster-scoped children whose BeamApp no longer exists (deleted while no operator was running):
        each candidate's owner is confirmed gone with a GET before its child is deleted."""
        deleted = []
        for rt in prunable_types():
            if rt.namespaced:
                continue
            items, _ = await self.client.list(rt, label_selector=f"{OWNER_NAMESPACE},{OWNER_NAME}")
            for item in items:
                labels = item["metadata"].get("labels") or {}
                namespace, name = labels.get(OWNER_NAMESPACE), labels.get(OWNER_NAME)
                if not namespace or not name or await self.client.get_or_none(BEAMAPP, name, namespace):
                    continue
                if await self.client.delete(rt, item["metadata"]["name"]):
                    deleted.append(f"{rt.kind} {item['metadata']['name']}")
        return deleted


def _job_state(job: dict[str, Any]) -> str:
    """Complete, Failed or Running, from a Job's conditions."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
            return str(condition["type"])
    return "Running"


def _owner_selector(app: dict[str, Any]) -> str:
    return f"{OWNER_NAMESPACE}={app['metadata']['namespace']},{OWNER_NAME}={app['metadata']['name']}"
