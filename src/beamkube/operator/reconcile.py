"""Reconcile one BeamApp: render it, apply the children that differ, create the cookie, prune, report status.

Role: network I/O (through `beamkube.kube.client.KubeClient`). The pass itself is `engine.reconcile`, the one
`deploy` runs; this edge adds ownership (ownerReferences / owner labels), the status conditions, the memory
of completed migration Jobs and the cluster-scoped prune. Level-triggered and idempotent: the same BeamApp
reconciled twice writes nothing the second time. Live objects come from the watch-fed `kube.cache.Cache`
when the runner gives one (reads per no-op resync do not grow with the number of children), else from GETs.

An invalid spec is not an exception to retry: it becomes the Degraded condition carrying the message
`beamkube render` would print (`parse_spec`'s `SpecError`), and nothing is applied.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from beamkube.engine.preflight import missing_apis
from beamkube.engine.prune import prunable_types
from beamkube.errors import SpecError
from beamkube.kube.cache import Cache
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists, KubeError, PreflightFailed
from beamkube.kube.resources import ResourceType, register, resource_of
from beamkube.operator import GROUP, KIND, PLURAL, VERSION
from beamkube.operator.children import CLUSTER_SCOPED_KINDS, OWNER_NAME, OWNER_NAMESPACE, decorate, owned_by
from beamkube.operator.crd import spec_from_beamapp
from beamkube.operator.status import Observation, build_status, status_differs, workload_names
from beamkube.spec.load import parse_spec

log = logging.getLogger("beamkube.operator")

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

    def __init__(
        self,
        client: KubeClient,
        clock: Callable[[], str] = now_rfc3339,
        *,
        cache: Cache | None = None,
        kube_version: tuple[int, int] | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.kube_version = kube_version
        self.cookies: set[tuple[str, str]] = set()  # cookie Secrets known to exist
        self.clock = clock
        self.pruned_once: set[str] = set()
        self.prune_pending: set[str] = set()
        # Called with (app, status) after every reconcile; the controller uses it to ignore the echo event.
        self.status_written: Callable[[dict[str, Any], dict[str, Any]], None] | None = None

    async def read(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The live object: from the watch-fed cache when it covers the kind, else a GET. The cookie Secret
        (never cached or read: RBAC gives the operator only `create` on Secrets) is probed once per app and spec
        generation."""
        meta = obj["metadata"]
        secret_key = (str(meta.get("namespace")), str(meta["name"]))
        if obj["kind"] == "Secret":
            if secret_key not in self.cookies and not await self._cookie_exists(obj):
                return None  # the engine creates it (POST: never a replace)
            self.cookies.add(secret_key)
            return {"metadata": dict(meta)}  # it exists; beamkube never reads its data
        informer = self.cache.informer(str(obj["apiVersion"]), str(obj["kind"])) if self.cache else None
        if informer is not None:
            return informer.get(meta.get("namespace"), str(meta["name"]))
        return await self.client.get_or_none(resource_of(obj), str(meta["name"]), meta.get("namespace"))

    async def _cookie_exists(self, ref: dict[str, Any]) -> bool:
        """Whether the cookie Secret exists, learnt from a dry-run create (409 AlreadyExists when it does;
        nothing is stored, and RBAC authorizes a dry run like the real request), so the operator's ClusterRole
        needs only `create` on Secrets: it never reads one (see `beamkube.operator.manifests.cluster_role`)."""
        meta = ref["metadata"]
        name = {"name": meta["name"], "namespace": meta["namespace"]}
        probe = {"apiVersion": "v1", "kind": "Secret", "metadata": name}
        try:
            await self.client.create(probe, dry_run=True)
        except AlreadyExists:
            return True
        return False

    async def _list(self, rt: ResourceType, namespace: str, app: str) -> list[dict[str, Any]]:
        from beamkube.engine.ownership import INSTANCE_LABEL, app_selector

        informer = self.cache.informer(rt.api_version, rt.kind) if self.cache else None
        if informer is None:
            items, _ = await self.client.list(rt, namespace, label_selector=app_selector(app))
            return items
        # From the informer's label index: a prune of one app among 1,000 does not scan every cached object.
        return informer.by_label(namespace, INSTANCE_LABEL, app)

    async def reconcile(self, app: dict[str, Any]) -> Outcome:
        """Reconcile the BeamApp `app` names. It is read again first (from the cache when there is one): the
        queued body may be behind a delete, and applying children of a deleted BeamApp would re-create what
        the garbage collector just removed."""
        from beamkube.engine.plan import build_plan
        from beamkube.engine.reconcile import Hooks, Options
        from beamkube.engine.reconcile import reconcile as run_engine
        from beamkube.engine.server import render_version

        outcome = Outcome()
        cached = app["metadata"]
        fresh = await self.read({"apiVersion": BEAMAPP.api_version, "kind": KIND, "metadata": cached})
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
        plan = build_plan(spec, await render_version(self.client, self.kube_version))
        uid = str(meta.get("uid"))
        if not live_status:
            # Status first for a BeamApp nobody has reconciled: "no status" then always means "nothing
            # applied yet", so such an app needs no prune (18 LISTs saved per new app).
            first = Observation(generation=generation, spec=spec, workload_kind=plan.workload_kind)
            live_status = app["status"] = await self._write_status(app, first, outcome)
            self.pruned_once.add(uid)
        # A failed prune stays pending: the status written below already carries the new generation.
        cookie_key = (spec.namespace, spec.cookie_secret_name)
        if uid not in self.pruned_once or live_status.get("observedGeneration") != generation:
            self.prune_pending.add(uid)
            self.cookies.discard(cookie_key)  # a new generation looks at the cookie Secret again
        job_names = {o["metadata"]["name"] for o in plan.jobs}
        completed = frozenset(set(live_status.get("completedJobs") or []) & job_names)
        prune_now = uid in self.prune_pending
        hooks = Hooks(read=self.read, check=lambda want, live: self._check_owner(want, live, app))
        # force: the operator is the controller of its children; hand edits are reverted like any drift.
        options = Options(force=True, prune=prune_now, completed_jobs=completed, owner_uid=uid, lister=self._list)
        apply_error: str | None = None
        result = None
        try:
            # Preflight as deploy does (discovery is cached on the client: no request per resync): an API the
            # cluster does not serve stops the app before its first write, not halfway through.
            missing = await missing_apis(self.client, plan.objects)
            if missing:
                raise PreflightFailed(
                    f"the cluster does not serve {', '.join(missing)} (install the CRDs or drop it from the spec); "
                    "nothing was changed"
                )
            result = await run_engine(self.client, plan, hooks, options, decorate=lambda o: decorate(o, app))
            outcome.writes += result.writes
            outcome.pruned.extend(result.pruned)
            if result.cookie in ("created", "exists"):
                self.cookies.add(cookie_key)
            if self.cache is not None:
                for applied in result.applied:
                    informer = self.cache.informer(str(applied.live.get("apiVersion")), str(applied.live.get("kind")))
                    if applied.wrote and informer is not None:
                        informer.remember(applied.live)
            if prune_now and not result.gated:
                await self._prune_cluster_scoped(plan.objects, app, outcome)
                self.pruned_once.add(uid)
                self.prune_pending.discard(uid)
        except KubeError as exc:
            apply_error = str(exc)
            outcome.error = apply_error
        lives: list[dict[str, Any] | None] = []
        for name in workload_names(spec):  # spec order: the main workload first, as build_status expects
            want = next((w for w in plan.workloads if w["metadata"]["name"] == name), None)
            live = result.workloads.get((plan.workload_kind, name)) if result is not None else None
            if want is not None and (result is None or (plan.workload_kind, name) not in result.workloads):
                live = await self.read(decorate(want, app))
            lives.append(live)
        observation = Observation(
            generation=generation,
            spec=spec,
            workload_kind=plan.workload_kind,
            workload=lives[0],
            others=tuple(lives[1:]),
            apply_error=apply_error,
            waiting_job=result.waiting_job if result else None,
            failed_job=result.failed_job if result else None,
            completed_jobs=result.completed_jobs if result else sorted(completed),
        )
        status = await self._write_status(app, observation, outcome)
        outcome.ready = apply_error is None and any(
            c["type"] == "Ready" and c["status"] == "True" for c in status["conditions"]
        )
        return outcome

    def _check_owner(self, want: dict[str, Any], live: dict[str, Any] | None, app: dict[str, Any]) -> None:
        if live is not None and want["kind"] in CLUSTER_SCOPED_KINDS and not owned_by(live, app):
            raise OwnershipConflict(
                f"{want['kind']} {want['metadata']['name']} exists and is not owned by {app_source(app)}; "
                "rename the app or delete that object"
            )

    async def refresh_status(
        self, app: dict[str, Any], previous: dict[str, Any] | None, workloads: dict[str, dict[str, Any]]
    ) -> bool:
        """Recompute the status from the workloads seen in watch events (by name), without reading or applying
        anything. Returns False when that is not enough (the spec changed since the last full reconcile, the
        spec is invalid, the last reconcile failed, a process's workload has not been seen yet): the caller
        then runs a full reconcile."""
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
        seen = [workloads.get(name) for name in workload_names(spec)]
        if any(live is None for live in seen):
            return False
        observation = Observation(
            generation=generation,
            spec=spec,
            workload_kind=str(seen[0].get("kind") if seen[0] is not None else ""),
            workload=seen[0],
            others=tuple(seen[1:]),
        )
        await self._write_status({**app, "status": previous}, observation, Outcome())
        return True

    async def _prune_cluster_scoped(
        self, objects: list[dict[str, Any]], app: dict[str, Any], outcome: Outcome
    ) -> None:
        """Cluster-scoped children (which the engine's namespaced prune never touches) no longer rendered,
        found by their owner labels. Never Secrets or PVCs (those are namespaced and never prunable)."""
        deleted = await self._delete_cluster_scoped(app, {(o["kind"], o["metadata"]["name"]) for o in objects})
        outcome.writes += len(deleted)
        outcome.pruned.extend(deleted)

    async def _cluster_scoped_of(self, rt: ResourceType, app: dict[str, Any]) -> list[dict[str, Any]]:
        """Cluster-scoped objects of `rt` carrying `app`'s owner labels: from the cache when it holds the kind
        (cluster-scoped kinds are cached whole), else one LIST. A restarted operator prunes every app once: a
        LIST per app and kind there was N requests on every start (1,000 apps: 1,000 LISTs of PriorityClasses)."""
        informer = self.cache.informer(rt.api_version, rt.kind) if self.cache else None
        if informer is None:
            items, _ = await self.client.list(rt, label_selector=_owner_selector(app))
            return items
        meta = app["metadata"]
        want = {OWNER_NAMESPACE: meta["namespace"], OWNER_NAME: meta["name"]}
        return [
            item
            for item in informer.values()
            if all((item["metadata"].get("labels") or {}).get(k) == v for k, v in want.items())
        ]

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
        return await self._delete_cluster_scoped({"metadata": {"namespace": namespace, "name": name}}, set())

    async def _delete_cluster_scoped(self, app: dict[str, Any], wanted: set[tuple[str, str]]) -> list[str]:
        """Delete `app`'s cluster-scoped children that are not `wanted` (kind, name); returns "Kind name"s."""
        deleted = []
        for rt in prunable_types(namespaced=False):
            for item in await self._cluster_scoped_of(rt, app):
                name = str(item["metadata"]["name"])
                if (rt.kind, name) not in wanted and owned_by(item, app) and await self.client.delete(rt, name):
                    deleted.append(f"{rt.kind} {name}")
        return deleted


    async def sweep_orphans(self) -> list[str]:
        """Cluster-scoped children whose BeamApp no longer exists (deleted while no operator was running):
        each candidate's owner is confirmed gone with a GET before its child is deleted."""
        deleted = []
        apps = self.cache.informer(BEAMAPP.api_version, KIND) if self.cache else None
        for rt in prunable_types(namespaced=False):
            informer = self.cache.informer(rt.api_version, rt.kind) if self.cache else None
            if informer is not None:
                owned = {OWNER_NAMESPACE, OWNER_NAME}
                items = [i for i in informer.values() if owned <= set(i["metadata"].get("labels") or {})]
            else:
                items, _ = await self.client.list(rt, label_selector=f"{OWNER_NAMESPACE},{OWNER_NAME}")
            for item in items:
                labels = item["metadata"].get("labels") or {}
                namespace, name = labels.get(OWNER_NAMESPACE), labels.get(OWNER_NAME)
                if not namespace or not name or (apps is not None and apps.get(namespace, name) is not None):
                    continue  # the owner is there (the cache says so without a request)
                if await self.client.get_or_none(BEAMAPP, name, namespace):
                    continue
                if await self.client.delete(rt, item["metadata"]["name"]):
                    deleted.append(f"{rt.kind} {item['metadata']['name']}")
        return deleted


def _owner_selector(app: dict[str, Any]) -> str:
    return f"{OWNER_NAMESPACE}={app['metadata']['namespace']},{OWNER_NAME}={app['metadata']['name']}"
