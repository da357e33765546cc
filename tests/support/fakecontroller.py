"""A fake kube-controller-manager + kubelet for the API double: Deployments, StatefulSets and Jobs progress.

Role: test support (no network; it writes to the double's `Store` directly, so watchers see its changes).
It runs as a task on the double's event loop, woken by every store change and ticking every few ms; like the
real controllers it looks only at what changed and at the owners of what changed (`fakeindex.ChangeIndex`,
fed by `Store.observers`), plus what is still in progress, so a pass does not grow with the store:

- Deployment → one ReplicaSet per pod-template hash (`deployment.kubernetes.io/revision` annotations, a
  template that returns to an old ReplicaSet bumps its revision, as on a real rollback); the new ReplicaSet is
  scaled to `replicas`, old ones shrink as new pods become available (maxUnavailable 0 style);
  status.observedGeneration/replicas/updatedReplicas/readyReplicas/availableReplicas and conditions.
- StatefulSet → ControllerRevisions (`revision`, `data.spec.template`), pods `<name>-<ordinal>` in Parallel,
  rolling replacement from the highest ordinal (respecting `partition`) once every pod is ready, PVCs from
  volumeClaimTemplates, status.currentRevision/updateRevision/updatedReplicas/readyReplicas.
- Job → one pod; Complete after `job_seconds`, or Failed when its name matches `failing_jobs`.
- Pods become Running/Ready `ready_seconds` after creation, unless their image is in `failing_images`: then
  they crash-loop (waiting CrashLoopBackOff, restartCount growing) with BackOff Events.
- a Deployment rollout not complete after `progress_deadline` (default: its progressDeadlineSeconds) gets
  `Progressing=False/ProgressDeadlineExceeded`.
- HorizontalPodAutoscaler → `hpa_seconds` after creation its target's replicas go up to `minReplicas`, and
  again whenever the HPA or its target changes (not modelled: the real one also re-evaluates every 15 s).
- `paused = True` freezes everything (a controller that is down).

A new controller plugs in the same way: a class with `start()`/`stop()` that appends a wake-up callback to
`Store.listeners` and writes through `Store._replace_entry`/`Store.put` under `Store.lock` (see `_run`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import time
import traceback
from typing import Any

from tests.support.apidouble import Key, RDef, Store, now
from tests.support.fakeindex import ChangeIndex

MANAGER = "kube-controller-manager"
REVISION = "deployment.kubernetes.io/revision"


def _hash(template: Any) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def qos_class(pod_spec: dict[str, Any]) -> str:
    containers = pod_spec.get("containers") or []
    requests_any = limits_any = False
    guaranteed = bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests_any = requests_any or bool(req)
        limits_any = limits_any or bool(lim)
        for name in ("cpu", "memory"):
            if name not in lim or req.get(name, lim[name]) != lim[name]:
                guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if requests_any or limits_any else "BestEffort"


class FakeController:
    def __init__(
        self,
        store: Store,
        *,
        ready_seconds: float = 0.05,
        job_seconds: float = 0.05,
        tick: float = 0.02,
        garbage_collection: bool = False,
        hpa_seconds: float = 0.3,
    ) -> None:
        self.store = store
        # Opt-in (the operator's tests): delete dependents whose owners no longer exist, as the real GC does.
        self.garbage_collection = garbage_collection
        self._hashes: dict[tuple[str, int], str] = {}
        # Objects by kind/owner/uid and what changed, fed by the store's change notifications (as informers).
        self.index = ChangeIndex(store)
        self.visited: collections.Counter[Key] = collections.Counter()  # passes that looked at each object
        self._gc_at = 0.0
        self.ready_seconds = ready_seconds
        self.job_seconds = job_seconds
        self.tick = tick
        self.hpa_seconds = hpa_seconds
        # Seconds before a Deployment rollout that does not complete reports ProgressDeadlineExceeded
        # (None: the Deployment's own progressDeadlineSeconds, 600 by default, as the real controller).
        self.progress_deadline: float | None = None
        self._rolling: dict[tuple[str, int], float] = {}
        self.errors: list[str] = []  # tracebacks of failed passes (tests may assert it stays empty)
        self.failing_images: set[str] = set()
        self.failing_jobs: set[str] = set()
        self.paused = False
        self._born: dict[str, float] = {}  # pod uid → monotonic creation time
        self._event_times: dict[str, float] = {}  # event name → last update (monotonic)
        self._ips = itertools.count(2)
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.garbage_collection:
            self.store.async_gc = True  # deletes cascade through this collector, later, as on a real cluster
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.index.attach()
        self.store.listeners.append(self._poke)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.listeners.remove(self._poke)
        self.index.detach()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _poke(self) -> None:
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)
            self._wake.clear()
            if self.paused:
                continue
            started = time.monotonic()
            with self.store.lock:
                listeners, self.store.listeners = self.store.listeners, []  # our own writes must not re-wake us
                try:
                    self.reconcile()
                except Exception:
                    # A bug here must not silently freeze every workload: record it, log it, keep going.
                    self.errors.append(traceback.format_exc())
                    logging.getLogger("tests.fakecontroller").exception("fake controller pass failed")
                finally:
                    self.store.listeners = listeners
            # The controller shares the double's event loop: leave the API server at least as much time as a
            # pass took, so thousands of objects do not starve its requests.
            spent = time.monotonic() - started
            if spent > self.tick:
                await asyncio.sleep(spent)

    # helpers -------------------------------------------------------------------------------
    def _r(self, group: str, plural: str) -> RDef:
        return self.store.rdefs[(group, plural)]

    def _items(self, group: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        entries = self.store.entries
        return [
            entries[k].obj
            for k in self.index.of_kind((group, plural))
            if k in entries and (namespace is None or k[2] == namespace)
        ]

    def _live(self, group: str, plural: str) -> list[dict[str, Any]]:
        return [o for o in self._items(group, plural) if not o["metadata"].get("deletionTimestamp")]

    def _owned(self, group: str, plural: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid, namespace = owner["metadata"]["uid"], owner["metadata"]["namespace"]
        entries = self.store.entries
        return [
            entries[k].obj
            for k in self.index.owned((group, plural), uid, namespace)
            if k in entries
            and any(r.get("uid") == uid for r in entries[k].obj["metadata"].get("ownerReferences") or [])
        ]

    def _obj(self, key: Key, live: bool = False) -> dict[str, Any] | None:
        entry = self.store.entries.get(key)
        if entry is None or (live and entry.obj["metadata"].get("deletionTimestamp")):
            return None
        return entry.obj

    def _ref(self, owner: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _set_status(self, group: str, plural: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if obj.get("status") == status:
            return
        meta = obj["metadata"]
        body = copy.deepcopy(obj)
        body["status"] = status
        key = (group, plural, meta.get("namespace", ""), meta["name"])
        self.store._replace_entry(
            self._r(group, plural), key, body, MANAGER, with_status=True, dry_run=False, status_only=True
        )

    def _update(self, group: str, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        key = (group, plural, meta.get("namespace", ""), meta["name"])
        self.store._replace_entry(self._r(group, plural), key, obj, MANAGER, with_status=True, dry_run=False)

    def _event(self, involved: dict[str, Any], reason: str, message: str, kind: str = "Normal") -> None:
        meta = involved["metadata"]
        name = f"{meta['name']}.{reason.lower()}"
        existing = self.store.entries.get(("", "events", meta["namespace"], name))
        count = int(existing.obj.get("count", 0)) + 1 if existing else 1
        if existing and time.monotonic() - self._event_times.get(name, 0.0) < 0.2:
            return  # keep event churn low; real kubelets aggregate too
        self._event_times[name] = time.monotonic()
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": meta["namespace"]},
            "involvedObject": {
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "count": count,
            "firstTimestamp": existing.obj["firstTimestamp"] if existing else now(),
            "lastTimestamp": now(),
        }
        self.store.put(self._r("", "events"), body, MANAGER)

    # pods ----------------------------------------------------------------------------------
    def _new_pod(self, owner: dict[str, Any], name: str, template: dict[str, Any], extra: dict[str, str]) -> None:
        labels = {**((template.get("metadata") or {}).get("labels") or {}), **extra}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": owner["metadata"]["namespace"],
                "labels": labels,
                "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                "ownerReferences": [self._ref(owner)],
            },
            "spec": {**copy.deepcopy(template.get("spec") or {}), "nodeName": "node-1"},
            "status": {"phase": "Pending", "qosClass": qos_class(template.get("spec") or {})},
        }
        created = self.store.create(self._r("", "pods"), owner["metadata"]["namespace"], pod, MANAGER)
        self._born[created["metadata"]["uid"]] = time.monotonic()
        self._event(created, "Scheduled", f"Successfully assigned {name} to node-1")

    def _workload(self, key: Key, step: Any) -> None:
        """One visit of a dirty Deployment/ReplicaSet/StatefulSet; it stays dirty (visited again next pass)
        until a visit writes nothing and its status is complete."""
        obj = self._obj(key, live=True)
        if obj is None:
            return  # gone, or being deleted: controllers leave it to the garbage collector
        before = self.store.rv
        step(obj)
        status = obj.get("status") or {}
        want = int((obj.get("spec") or {}).get("replicas") or 0)
        complete = all(int(status.get(k) or 0) == want for k in ("replicas", "readyReplicas"))
        if self.store.rv != before or not complete:
            self.index.mark(key)

    def _pod_failing(self, pod: dict[str, Any]) -> bool:
        return any(c.get("image") in self.failing_images for c in pod["spec"].get("containers") or [])

    def _progress_pod(self, pod: dict[str, Any]) -> None:
        if self._ready(pod) and not self._pod_failing(pod):
            return  # running and ready: nothing moves any more
        uid = pod["metadata"]["uid"]
        born = self._born.setdefault(uid, time.monotonic())
        age = time.monotonic() - born
        status = copy.deepcopy(pod.get("status") or {})
        containers = pod["spec"].get("containers") or []
        job_pod = pod["spec"].get("restartPolicy") == "Never"
        if job_pod:
            return  # job pods are driven by _jobs
        if age < self.ready_seconds:
            return
        status.setdefault("podIP", f"10.244.0.{next(self._ips) % 250 + 2}")
        status.setdefault("hostIP", "192.168.0.10")
        status.setdefault("startTime", now())
        if self._pod_failing(pod):
            restarts = int(age / 0.1)
            status["phase"] = "Running"
            status["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image"),
                    "ready": False,
                    "restartCount": restarts,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": f"back-off restarting failed container {c['name']}",
                        }
                    },
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
                for c in containers
            ]
            self._event(pod, "BackOff", f"Back-off restarting failed container {containers[0]['name']}", "Warning")
        else:
            status["phase"] = "Running"
            status["conditions"] = [{"type": "Ready", "status": "True"}]
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image"),
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": status["startTime"]}},
                }
                for c in containers
            ]
        self._set_status("", "pods", pod, status)

    @staticmethod
    def _ready(pod: dict[str, Any]) -> bool:
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )

    def _scale_pods(
        self,
        owner: dict[str, Any],
        pods: list[dict[str, Any]],
        want: int,
        template: dict[str, Any],
        extra: dict[str, str],
    ) -> None:
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        for pod in sorted(live, key=lambda p: p["metadata"]["name"])[want:]:
            self.store._remove(
                self._r("", "pods"), ("", "pods", pod["metadata"]["namespace"], pod["metadata"]["name"]), "Background"
            )
        names = {p["metadata"]["name"] for p in live}
        index = 0
        for _ in range(max(0, want - len(live))):
            while f"{owner['metadata']['name']}-{index}" in names:
                index += 1
            name = f"{owner['metadata']['name']}-{index}"
            names.add(name)
            self._new_pod(owner, name, template, extra)

    # reconcile -----------------------------------------------------------------------------
    def reconcile(self) -> None:
        """One pass over what changed (`ChangeIndex`: changed objects and the owners of changed dependents)
        and what is still in progress (pending pods, incomplete workloads, running Jobs, waiting HPAs); what
        settled and did not change is not looked at, so a pass does not grow with the store."""
        index = self.index
        for key in self._take(("", "pods")):
            pod = self._obj(key)
            if pod is None:
                continue
            self._progress_pod(pod)
            pod = self._obj(key)
            busy = pod is not None and (not self._ready(pod) or self._pod_failing(pod))
            if busy and pod is not None and pod["spec"].get("restartPolicy") != "Never":
                index.mark(key)  # not yet ready, or crash-looping: look again next pass (Jobs drive theirs)
        # Controllers leave objects being deleted alone (no new pods for a StatefulSet under foreground deletion).
        for key in self._take(("apps", "deployments")):
            self._workload(key, self._deployment)
        for key in self._take(("apps", "replicasets")):
            self._workload(key, self._replicaset)
        for key in self._take(("apps", "statefulsets")):
            self._workload(key, self._statefulset)
        for key in self._take(("batch", "jobs")):
            job = self._obj(key, live=True)
            if job is not None:
                self._job(job)
                if (job := self._obj(key, live=True)) is not None and not self._finished(job):
                    index.mark(key)
        for key in self._take(("autoscaling", "horizontalpodautoscalers")):
            hpa = self._obj(key, live=True)
            if hpa is not None and self._hpa(hpa):
                index.mark(key)
        if self.garbage_collection:
            self._collect_garbage()

    def _take(self, gk: tuple[str, str]) -> list[Key]:
        keys = self.index.take_dirty(gk)
        self.visited.update(keys)
        return keys

    @staticmethod
    def _finished(job: dict[str, Any]) -> bool:
        return any(
            c.get("status") == "True" and c.get("type") in ("Complete", "Failed")
            for c in (job.get("status") or {}).get("conditions") or []
        )

    def _hpa(self, hpa: dict[str, Any]) -> bool:
        """The HPA controller's first move: after `hpa_seconds` it sets the target's replicas to minReplicas
        (through /scale on a real cluster; field manager `horizontal-pod-autoscaler`). True: still waiting
        (visit again); a change of the HPA or of its target makes it dirty again."""
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        plural = {"Deployment": "deployments", "StatefulSet": "statefulsets"}.get(str(ref.get("kind")))
        uid = hpa["metadata"]["uid"]
        self._born.setdefault(uid, time.monotonic())
        if plural is None:
            return False
        if time.monotonic() - self._born[uid] < self.hpa_seconds:
            return True
        target = self.store.get(self._r("apps", plural), hpa["metadata"]["namespace"], str(ref.get("name")))
        minimum = int(spec.get("minReplicas") or 1)
        if target is None or int((target.get("spec") or {}).get("replicas") or 1) >= minimum:
            return False
        body = copy.deepcopy(target)
        body["spec"]["replicas"] = minimum
        meta = body["metadata"]
        key = ("apps", plural, meta.get("namespace", ""), meta["name"])
        self.store._replace_entry(
            self._r("apps", plural), key, body, "horizontal-pod-autoscaler", with_status=False, dry_run=False
        )
        return False

    def _collect_garbage(self) -> None:
        """The garbage collector (`Store.collect_garbage`), lazily as the real one: at most every 0.2 s and
        only after something that can leave garbage (`ChangeIndex.needs_gc`: a deletion, a deletionTimestamp,
        an owner that does not exist); the deletions a pass makes raise it again, so another pass follows."""
        self.index.drain()
        if not self.index.needs_gc or time.monotonic() - self._gc_at < 0.2:
            return
        self._gc_at = time.monotonic()
        self.index.needs_gc = False
        self.store.collect_garbage()

    def _template_hash(self, obj: dict[str, Any]) -> str:
        """`_hash` of the pod template, memoised by (uid, generation): the store bumps generation on every
        spec change, and hashing every workload's template on every tick dominated large runs."""
        meta = obj["metadata"]
        key = (str(meta.get("uid")), int(meta.get("generation") or 0))
        cached = self._hashes.get(key)
        if cached is None:
            cached = self._hashes[key] = _hash((obj.get("spec") or {}).get("template") or {})
        return cached

    def _deployment(self, dep: dict[str, Any]) -> None:
        spec = dep.get("spec") or {}
        template = spec.get("template") or {}
        want = int(spec.get("replicas", 1))
        digest = self._template_hash(dep)
        sets = self._owned("apps", "replicasets", dep)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, 0)) for rs in sets]
        top = max(revisions, default=0)
        current = next((rs for rs in sets if rs["metadata"]["labels"].get("pod-template-hash") == digest), None)
        ns = dep["metadata"]["namespace"]
        if current is None:
            labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": digest}
            rs_template = copy.deepcopy(template)
            rs_template.setdefault("metadata", {})["labels"] = labels
            body = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{dep['metadata']['name']}-{digest}",
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {REVISION: str(top + 1)},
                    "ownerReferences": [self._ref(dep)],
                },
                "spec": {
                    "replicas": want,
                    "selector": {
                        "matchLabels": {**spec.get("selector", {}).get("matchLabels", {}), "pod-template-hash": digest}
                    },
                    "template": rs_template,
                },
            }
            current = self.store.create(self._r("apps", "replicasets"), ns, body, MANAGER)
            sets = self._owned("apps", "replicasets", dep)
        elif int(current["metadata"]["annotations"].get(REVISION, 0)) < top:
            body = copy.deepcopy(current)
            body["metadata"]["annotations"][REVISION] = str(top + 1)  # rolled back to an old template
            self._update("apps", "replicasets", body)
            current = self.store.entries[("apps", "replicasets", ns, current["metadata"]["name"])].obj
        revision = current["metadata"]["annotations"][REVISION]
        if (dep["metadata"].get("annotations") or {}).get(REVISION) != revision:
            body = copy.deepcopy(dep)
            body["metadata"].setdefault("annotations", {})[REVISION] = revision
            self._update("apps", "deployments", body)
            dep = self.store.entries[("apps", "deployments", ns, dep["metadata"]["name"])].obj
        pods_by_rs = {rs["metadata"]["uid"]: self._owned("", "pods", rs) for rs in sets}
        new_pods = pods_by_rs.get(current["metadata"]["uid"], [])
        new_ready = sum(1 for p in new_pods if self._ready(p))
        for rs in sets:
            target = (
                want
                if rs["metadata"]["uid"] == current["metadata"]["uid"]
                else max(0, min(int(rs["spec"].get("replicas", 0)), want - new_ready))
            )
            if int(rs["spec"].get("replicas", 0)) != target:
                body = copy.deepcopy(rs)
                body["spec"]["replicas"] = target
                self._update("apps", "replicasets", body)
        all_pods = [p for pods in pods_by_rs.values() for p in pods]
        ready = sum(1 for p in all_pods if self._ready(p))
        complete = len(new_pods) == want and new_ready == want and len(all_pods) == want
        started = self._rolling.setdefault((dep["metadata"]["uid"], dep["metadata"]["generation"]), time.monotonic())
        deadline = self.progress_deadline or float(dep["spec"].get("progressDeadlineSeconds") or 600)
        stuck = not complete and time.monotonic() - started > deadline
        status = {
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": len(all_pods),
            "updatedReplicas": len(new_pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, want - ready),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if ready >= want else "False",
                    "reason": "MinimumReplicasAvailable" if ready >= want else "MinimumReplicasUnavailable",
                },
                {
                    "type": "Progressing",
                    "status": "False" if stuck else "True",
                    "reason": "ProgressDeadlineExceeded"
                    if stuck
                    else ("NewReplicaSetAvailable" if complete else "ReplicaSetUpdated"),
                    "message": f'ReplicaSet "{current["metadata"]["name"]}" '
                    + (
                        "has timed out progressing."
                        if stuck
                        else ("has successfully progressed." if complete else "is progressing.")
                    ),
                },
            ],
        }
        self._set_status("apps", "deployments", dep, status)

    def _replicaset(self, rs: dict[str, Any]) -> None:
        want = int(rs["spec"].get("replicas", 0))
        pods = self._owned("", "pods", rs)
        self._scale_pods(
            rs,
            pods,
            want,
            rs["spec"]["template"],
            {"pod-template-hash": rs["metadata"]["labels"].get("pod-template-hash", "")},
        )
        pods = self._owned("", "pods", rs)
        ready = sum(1 for p in pods if self._ready(p))
        self._set_status(
            "apps",
            "replicasets",
            rs,
            {
                "replicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"]["generation"],
            },
        )

    def _statefulset(self, sts: dict[str, Any]) -> None:
        spec = sts.get("spec") or {}
        template = spec.get("template") or {}
        want = int(spec.get("replicas", 1))
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        digest = self._template_hash(sts)
        revs = self._owned("apps", "controllerrevisions", sts)
        top = max((int(r.get("revision", 0)) for r in revs), default=0)
        rev_name = f"{name}-{digest}"
        current = next((r for r in revs if r["metadata"]["name"] == rev_name), None)
        if current is None:
            data_template = copy.deepcopy(template)
            data_template["$patch"] = "replace"
            self.store.create(
                self._r("apps", "controllerrevisions"),
                ns,
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {
                        "name": rev_name,
                        "namespace": ns,
                        "labels": dict((spec.get("selector") or {}).get("matchLabels") or {}),
                        "ownerReferences": [self._ref(sts)],
                    },
                    "revision": top + 1,
                    "data": {"spec": {"template": data_template}},
                },
                MANAGER,
            )
        elif int(current.get("revision", 0)) < top:
            body = copy.deepcopy(current)
            body["revision"] = top + 1
            self._update("apps", "controllerrevisions", body)
        for claim in spec.get("volumeClaimTemplates") or []:
            for ordinal in range(want):
                pvc_name = f"{claim['metadata']['name']}-{name}-{ordinal}"
                if ("", "persistentvolumeclaims", ns, pvc_name) not in self.store.entries:
                    self.store.create(
                        self._r("", "persistentvolumeclaims"),
                        ns,
                        {
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "metadata": {
                                "name": pvc_name,
                                "namespace": ns,
                                "labels": dict((spec.get("selector") or {}).get("matchLabels") or {}),
                            },
                            "spec": copy.deepcopy(claim.get("spec") or {}),
                            "status": {"phase": "Bound"},
                        },
                        MANAGER,
                    )
        pods = {p["metadata"]["name"]: p for p in self._owned("", "pods", sts)}
        for pod_name in sorted(pods):
            ordinal = int(pod_name.rsplit("-", 1)[1])
            if ordinal >= want:
                self.store._remove(self._r("", "pods"), ("", "pods", ns, pod_name), "Background")
        for ordinal in range(want):
            pod_name = f"{name}-{ordinal}"
            if pod_name not in pods:
                self._new_pod(
                    sts,
                    pod_name,
                    template,
                    {"controller-revision-hash": rev_name, "statefulset.kubernetes.io/pod-name": pod_name},
                )
        pods = {p["metadata"]["name"]: p for p in self._owned("", "pods", sts)}
        partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0))
        all_ready = len(pods) == want and all(self._ready(p) for p in pods.values())
        stale = sorted(
            (
                int(n.rsplit("-", 1)[1])
                for n, p in pods.items()
                if p["metadata"]["labels"].get("controller-revision-hash") != rev_name
            ),
            reverse=True,
        )
        stale = [o for o in stale if o >= partition]
        if all_ready and stale:
            self.store._remove(self._r("", "pods"), ("", "pods", ns, f"{name}-{stale[0]}"), "Background")
            pods.pop(f"{name}-{stale[0]}")
        updated = sum(1 for p in pods.values() if p["metadata"]["labels"].get("controller-revision-hash") == rev_name)
        ready = sum(1 for p in pods.values() if self._ready(p))
        previous = (sts.get("status") or {}).get("currentRevision", rev_name)
        current_rev = rev_name if updated == want else previous
        self._set_status(
            "apps",
            "statefulsets",
            sts,
            {
                "observedGeneration": sts["metadata"]["generation"],
                "replicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "currentReplicas": sum(
                    1 for p in pods.values() if p["metadata"]["labels"].get("controller-revision-hash") == current_rev
                ),
                "updatedReplicas": updated,
                "currentRevision": current_rev,
                "updateRevision": rev_name,
            },
        )

    def _job(self, job: dict[str, Any]) -> None:
        status = job.get("status") or {}
        if any(
            c.get("status") == "True" and c.get("type") in ("Complete", "Failed")
            for c in status.get("conditions") or []
        ):
            return
        pods = self._owned("", "pods", job)
        name = job["metadata"]["name"]
        if not pods:
            self._new_pod(job, f"{name}-run", job["spec"]["template"], {"job-name": name})
            self._set_status("batch", "jobs", job, {"active": 1, "startTime": now()})
            return
        pod = pods[0]
        if time.monotonic() - self._born.get(pod["metadata"]["uid"], time.monotonic()) < self.job_seconds:
            return
        failing = any(name.startswith(prefix) for prefix in self.failing_jobs)
        container = (pod["spec"].get("containers") or [{"name": "job"}])[0]["name"]
        self._set_status(
            "",
            "pods",
            pod,
            {
                "phase": "Failed" if failing else "Succeeded",
                "qosClass": pod["status"].get("qosClass"),
                "containerStatuses": [
                    {
                        "name": container,
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": 1 if failing else 0,
                                "reason": "Error" if failing else "Completed",
                            }
                        },
                    }
                ],
            },
        )
        if failing:
            self._event(pod, "Failed", "migration exited with status 1", "Warning")
            self._set_status(
                "batch",
                "jobs",
                job,
                {
                    "failed": 1,
                    "conditions": [
                        {
                            "type": "Failed",
                            "status": "True",
                            "reason": "BackoffLimitExceeded",
                            "message": "Job has reached the specified backoff limit",
                        }
                    ],
                },
            )
        else:
            self._set_status(
                "batch",
                "jobs",
                job,
                {"succeeded": 1, "completionTime": now(), "conditions": [{"type": "Complete", "status": "True"}]},
            )
