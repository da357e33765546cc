"""An in-process Kubernetes API double speaking real HTTP, built on kmock, for ops and operator tests.

Role: test support (network I/O on 127.0.0.1 only). kmock supplies the HTTP server, request parsing, API
discovery (`/api`, `/apis`, `/apis/<group>/<version>`) and its reaction DSL; kmock's own emulator is too loose
for beamkube (see ../shared/testing-notes.md), so `ApiDouble` routes every known resource to `Store`, a small
but faithful object store:

- uid, resourceVersion (one global counter), generation (bumped on spec changes), creationTimestamp;
- POST answers 201, 409 AlreadyExists when the object exists, 404 when the namespace does not;
- errors are `Status` objects served as `application/json` (what lightkube and httpx clients expect);
- server-side apply (`application/apply-patch+yaml`) creates missing objects, tracks field ownership per
  manager (metadata.managedFields), removes fields a manager stopped applying, answers 409 with
  `FieldManagerConflict` causes unless `force=true`; merge, strategic-merge and JSON patches and PUT record
  "Update" ownership; `dryRun=All` computes the answer without storing it;
- a stale `metadata.resourceVersion` in PUT/PATCH bodies is a 409 Conflict;
- the namespace in the URL goes into metadata; label selectors (equality, `!=`, `in`, `notin`, existence)
  and field selectors (`a.b=c`, `!=`) are honoured for list and watch;
- watch honours `resourceVersion` (replays history, 410 Gone when it was compacted away) and
  `timeoutSeconds`; `status` is only written through the `/status` subresource for kinds that have one;
- DELETE cascades to dependents by ownerReferences (background/foreground) unless `Orphan`; finalizers
  leave a deletionTimestamp;
- a few server defaults (Service clusterIP/sessionAffinity/type, pod-template dnsPolicy/schedulerName,
  Deployment progressDeadlineSeconds) so `diff` has defaulted fields to ignore.

Scriptable faults (`fail`, `drop_watches`, `gone_watches`, `compact`) and a request log (`log`, `writes()`) let
tests inject 409/429/500s, dropped watches and 410 Gone and count write requests.

Use from sync tests (server in a background thread with its own loop):

    with serve(tmp_path) as running:        # running.kubeconfig, running.api (ApiDouble), running.controller
        ...KUBECONFIG=running.kubeconfig...

or from async tests (kopf in the same loop):

    async with ApiDouble() as api, kmock.Server(api) as server:
        api.write_kubeconfig(path, str(server.url))
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import datetime
import hashlib
import itertools
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
import yaml

# --- resource registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RDef:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    status: bool = True  # has a /status subresource (main-resource writes then ignore `status`)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTIN: tuple[RDef, ...] = (
    RDef("", "v1", "Namespace", "namespaces", False),
    RDef("", "v1", "Pod", "pods"),
    RDef("", "v1", "Service", "services"),
    RDef("", "v1", "ConfigMap", "configmaps", status=False),
    RDef("", "v1", "Secret", "secrets", status=False),
    RDef("", "v1", "ServiceAccount", "serviceaccounts", status=False),
    RDef("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    RDef("", "v1", "Event", "events", status=False),
    RDef("", "v1", "LimitRange", "limitranges", status=False),
    RDef("", "v1", "Endpoints", "endpoints", status=False),
    RDef("apps", "v1", "Deployment", "deployments"),
    RDef("apps", "v1", "StatefulSet", "statefulsets"),
    RDef("apps", "v1", "ReplicaSet", "replicasets"),
    RDef("apps", "v1", "ControllerRevision", "controllerrevisions", status=False),
    RDef("batch", "v1", "Job", "jobs"),
    RDef("batch", "v1", "CronJob", "cronjobs"),
    RDef("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    RDef("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    RDef("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler", "verticalpodautoscalers"),
    RDef("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", status=False),
    RDef("networking.k8s.io", "v1", "Ingress", "ingresses"),
    RDef("rbac.authorization.k8s.io", "v1", "Role", "roles", status=False),
    RDef("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", status=False),
    RDef("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, status=False),
    RDef("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, status=False),
    RDef("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, status=False),
    RDef("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    RDef("coordination.k8s.io", "v1", "Lease", "leases", status=False),
)

SYSTEM_META = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp")


class ApiFailure(Exception):
    """Raised inside the store; rendered as a Status object."""

    def __init__(self, code: int, reason: str, message: str, causes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.causes = code, reason, message, causes or []

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            body["details"] = {"causes": self.causes}
        return body


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- selectors ---------------------------------------------------------------------------------------


def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_match(selector: str | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (equality-, set-based and existence requirements)."""
    if not selector:
        return True
    for req in _split_selector(selector):
        if m := re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\((.*)\)", req):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
        elif "!=" in req:
            key, value = (s.strip() for s in req.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in req:
            key, value = (s.strip() for s in re.split(r"==?", req, maxsplit=1))
            if labels.get(key) != value:
                return False
        elif req.startswith("!"):
            if req[1:].strip() in labels:
                return False
        elif req not in labels:
            return False
    return True


def _dig(obj: dict[str, Any], dotted: str) -> Any:
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def field_match(selector: str | None, obj: dict[str, Any]) -> bool:
    if not selector:
        return True
    for req in _split_selector(selector):
        negate = "!=" in req
        key, value = (s.strip() for s in re.split(r"!=|==?", req, maxsplit=1))
        actual = _dig(obj, key)
        actual_text = "" if actual is None else str(actual)
        if (actual_text == value) == negate:
            return False
    return True


# --- field ownership (server-side apply) --------------------------------------------------------------

Path_ = tuple[str, ...]


def leaves(value: Any, prefix: Path_ = ()) -> dict[Path_, Any]:
    """Leaf paths of a JSON value: dict keys recurse; lists, scalars and empty dicts are leaves."""
    if isinstance(value, dict) and value:
        out: dict[Path_, Any] = {}
        for key, sub in value.items():
            out.update(leaves(sub, (*prefix, key)))
        return out
    return {prefix: value} if prefix else {}


def owned_leaves(obj: dict[str, Any], with_status: bool) -> dict[Path_, Any]:
    """Leaves a manager can own: not apiVersion/kind, not name/namespace/system metadata, status optionally."""
    body = {
        k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status") or (k == "status" and with_status)
    }
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("name", "namespace", *SYSTEM_META)}
    body["metadata"] = meta
    return leaves(body)


def _get_path(obj: Any, path: Path_) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _set_path(obj: dict[str, Any], path: Path_, value: Any) -> None:
    for part in path[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = obj[part] = {}
        obj = nxt
    obj[path[-1]] = copy.deepcopy(value)


def _del_path(obj: dict[str, Any], path: Path_) -> None:
    parents = []
    current: Any = obj
    for part in path[:-1]:
        if not isinstance(current, dict) or part not in current:
            return
        parents.append((current, part))
        current = current[part]
    if isinstance(current, dict):
        current.pop(path[-1], None)
        # Drop maps left empty by the removal (SSA does not leave `{}` behind for fields it removed).
        for parent, key in reversed(parents):
            if parent[key] == {}:
                del parent[key]
            else:
                break


def fields_v1(paths: list[Path_]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return root


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 subset: add, replace, remove, test."""
    result = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).split("/")[1:]]
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op.get("value"):
                raise ApiFailure(422, "Invalid", f"test operation failed at {op['path']}")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(copy.deepcopy(op["value"]))
                elif kind == "add":
                    parent.insert(int(last), copy.deepcopy(op["value"]))
                else:
                    parent[int(last)] = copy.deepcopy(op["value"])
            else:
                if kind == "replace" and last not in parent:
                    raise ApiFailure(422, "Invalid", f"replace of missing path {op['path']}")
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            elif last in parent:
                del parent[last]
            else:
                raise ApiFailure(422, "Invalid", f"remove of missing path {op['path']}")
        else:
            raise ApiFailure(400, "BadRequest", f"unsupported JSON patch op {kind}")
    return result


# --- the store ---------------------------------------------------------------------------------------

Key = tuple[str, str, str, str]  # (group, plural, namespace, name)


@dataclass
class Entry:
    obj: dict[str, Any]
    owners: dict[Path_, str] = field(default_factory=dict)  # leaf path → manager
    applied: dict[str, set[Path_]] = field(default_factory=dict)  # SSA manager → paths it applied
    operations: dict[str, str] = field(default_factory=dict)  # manager → Apply | Update


@dataclass
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[int, str, dict[str, Any]]]
    group: str
    plural: str


class Store:
    """Objects, field ownership, history and watchers; every method is thread-safe and synchronous."""

    def __init__(self, history: int = 2000) -> None:
        self.lock = threading.RLock()
        self.rdefs: dict[tuple[str, str], RDef] = {}
        self.entries: dict[Key, Entry] = {}
        self.rv = 0
        self.history: deque[tuple[int, str, str, str, dict[str, Any]]] = deque(maxlen=history)
        self.compacted_before = 0  # resourceVersions <= this are gone (410)
        self.subscribers: list[Subscriber] = []
        self.listeners: list[Callable[[], None]] = []  # woken after every change (the fake controller)
        self._ips = itertools.count(10)
        for rdef in BUILTIN:
            self.rdefs[(rdef.group, rdef.plural)] = rdef
        self.put(
            self.rdef("", "namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}
        )

    # registry
    def rdef(self, group: str, plural: str) -> RDef:
        try:
            return self.rdefs[(group, plural)]
        except KeyError:
            raise ApiFailure(404, "NotFound", f"the server could not find the requested resource ({plural})") from None

    def rdef_for_kind(self, api_version: str, kind: str) -> RDef:
        for rdef in self.rdefs.values():
            if rdef.api_version == api_version and rdef.kind == kind:
                return rdef
        raise KeyError(f"{api_version} {kind}")

    # reading
    def get(self, rdef: RDef, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            entry = self.entries.get((rdef.group, rdef.plural, namespace if rdef.namespaced else "", name))
            return self._render(entry) if entry else None

    def list(
        self, rdef: RDef, namespace: str | None, labels: str | None = None, fields: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            items = []
            for (group, plural, ns, _name), entry in sorted(self.entries.items()):
                if (group, plural) != (rdef.group, rdef.plural):
                    continue
                if namespace and rdef.namespaced and ns != namespace:
                    continue
                obj = entry.obj
                if label_match(labels, (obj.get("metadata") or {}).get("labels") or {}) and field_match(fields, obj):
                    items.append(self._render(entry))
            return items, self.rv

    def objects(self, plural: str, namespace: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
        """Test helper: stored objects of a resource (by plural), optionally in one namespace."""
        with self.lock:
            return [
                self._render(e)
                for (g, p, ns, _), e in sorted(self.entries.items())
                if p == plural and (group is None or g == group) and (namespace is None or ns == namespace)
            ]

    def _render(self, entry: Entry) -> dict[str, Any]:
        obj = copy.deepcopy(entry.obj)
        by_manager: dict[str, list[Path_]] = {}
        for path, manager in entry.owners.items():
            by_manager.setdefault(manager, []).append(path)
        if by_manager:
            obj["metadata"]["managedFields"] = [
                {
                    "manager": manager,
                    "operation": entry.operations.get(manager, "Update"),
                    "apiVersion": obj.get("apiVersion"),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": fields_v1(paths),
                }
                for manager, paths in sorted(by_manager.items())
            ]
        return obj

    # writing (internal helpers keep the lock held by the caller)
    def _key(self, rdef: RDef, namespace: str, name: str) -> Key:
        return (rdef.group, rdef.plural, namespace if rdef.namespaced else "", name)

    def _emit(self, rdef: RDef, kind: str, obj: dict[str, Any]) -> None:
        rendered = copy.deepcopy(obj)
        if self.history.maxlen is not None and len(self.history) == self.history.maxlen:
            # The oldest event falls out: resuming from before it must be a 410, not a silent gap.
            self.compacted_before = max(self.compacted_before, self.history[0][0])
        self.history.append((self.rv, rdef.group, rdef.plural, kind, rendered))
        for sub in list(self.subscribers):
            if (sub.group, sub.plural) == (rdef.group, rdef.plural):
                with contextlib.suppress(RuntimeError):  # loop closed
                    sub.loop.call_soon_threadsafe(sub.queue.put_nowait, (self.rv, kind, rendered))
        for listener in list(self.listeners):
            listener()

    def _check_namespace(self, rdef: RDef, namespace: str) -> None:
        if rdef.namespaced and ("", "namespaces", "", namespace) not in self.entries:
            raise ApiFailure(404, "NotFound", f'namespaces "{namespace}" not found')

    def _defaults(self, rdef: RDef, obj: dict[str, Any]) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if rdef.kind == "Service":
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if "clusterIP" not in spec:
                spec["clusterIP"] = f"10.96.0.{next(self._ips) % 250 + 2}"
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if rdef.kind in ("Deployment", "StatefulSet", "Job", "ReplicaSet"):
            pod = (spec.get("template") or {}).get("spec")
            if isinstance(pod, dict):
                pod.setdefault("dnsPolicy", "ClusterFirst")
                pod.setdefault("schedulerName", "default-scheduler")
        if rdef.kind == "Deployment":
            spec.setdefault("progressDeadlineSeconds", 600)

    def _finish(self, rdef: RDef, entry: Entry, old: dict[str, Any] | None) -> None:
        meta = entry.obj["metadata"]
        self._defaults(rdef, entry.obj)
        if old is None:
            meta["generation"] = 1
        else:
            changed = {k: v for k, v in entry.obj.items() if k not in ("metadata", "status")} != {
                k: v for k, v in old.items() if k not in ("metadata", "status")
            }
            meta["generation"] = int(old["metadata"].get("generation", 1)) + (1 if changed else 0)

    def _new_meta(self, rdef: RDef, obj: dict[str, Any], namespace: str) -> None:
        meta = obj.setdefault("metadata", {})
        if rdef.namespaced:
            if meta.get("namespace") not in (None, namespace):
                raise ApiFailure(
                    400, "BadRequest", "the namespace of the provided object does not match the namespace sent"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        if not meta.get("name"):
            raise ApiFailure(422, "Invalid", "metadata.name: Required value")
        obj["apiVersion"], obj["kind"] = rdef.api_version, rdef.kind
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        for stale in ("resourceVersion", "managedFields", "deletionTimestamp", "generation"):
            meta.pop(stale, None)

    def _stale(self, body: dict[str, Any], current: dict[str, Any]) -> bool:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        return bool(wanted) and str(wanted) != str(current["metadata"]["resourceVersion"])

    def _record_update(self, entry: Entry, before: dict[str, Any], manager: str, with_status: bool) -> None:
        old, new = owned_leaves(before, with_status), owned_leaves(entry.obj, with_status)
        for path in set(old) - set(new):
            entry.owners.pop(path, None)
        changed = [p for p in new if p not in old or old[p] != new[p]]
        for path in changed:
            entry.owners[path] = manager
        if changed:
            entry.operations.setdefault(manager, "Update")

    def _commit(self, rdef: RDef, key: Key, entry: Entry, old: dict[str, Any] | None, dry_run: bool) -> dict[str, Any]:
        self._finish(rdef, entry, old)
        if old is not None and entry.obj == old:
            return self._render(entry)  # a no-op write keeps the resourceVersion (as the API server does)
        if dry_run:
            entry.obj["metadata"]["resourceVersion"] = (old or {}).get("metadata", {}).get("resourceVersion", "")
            return self._render(entry)
        self.rv += 1
        entry.obj["metadata"]["resourceVersion"] = str(self.rv)
        self.entries[key] = entry
        self._emit(rdef, "ADDED" if old is None else "MODIFIED", entry.obj)
        return self._render(entry)

    def put(self, rdef: RDef, obj: dict[str, Any], manager: str = "test") -> dict[str, Any]:
        """Test/controller helper: create or replace an object as `manager`, bypassing conflicts."""
        with self.lock:
            meta = obj.setdefault("metadata", {})
            namespace = str(meta.get("namespace") or "")
            key = self._key(rdef, namespace, str(meta["name"]))
            if key in self.entries:
                current = self.entries[key]
                body = copy.deepcopy(obj)
                body["metadata"] = {
                    **current.obj["metadata"],
                    **{k: v for k, v in meta.items() if k not in SYSTEM_META},
                }
                if "status" not in obj and "status" in current.obj:
                    body["status"] = copy.deepcopy(current.obj["status"])
                return self._replace_entry(rdef, key, body, manager, with_status=True, dry_run=False)
            return self.create(rdef, namespace, obj, manager)

    def create(
        self, rdef: RDef, namespace: str, body: dict[str, Any], manager: str, dry_run: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            obj = copy.deepcopy(body)
            self._new_meta(rdef, obj, namespace)
            self._check_namespace(rdef, namespace)
            key = self._key(rdef, namespace, obj["metadata"]["name"])
            if key in self.entries:
                raise ApiFailure(409, "AlreadyExists", f'{rdef.plural} "{obj["metadata"]["name"]}" already exists')
            entry = Entry(obj)
            self._record_update(entry, {"metadata": {}}, manager, with_status=True)
            return self._commit(rdef, key, entry, None, dry_run)

    def _current(self, rdef: RDef, namespace: str, name: str) -> tuple[Key, Entry]:
        key = self._key(rdef, namespace, name)
        if key not in self.entries:
            raise ApiFailure(404, "NotFound", f'{rdef.plural} "{name}" not found')
        return key, self.entries[key]

    def _replace_entry(
        self,
        rdef: RDef,
        key: Key,
        body: dict[str, Any],
        manager: str,
        with_status: bool,
        dry_run: bool,
        status_only: bool = False,
    ) -> dict[str, Any]:
        current = self.entries[key]
        before = current.obj
        obj = copy.deepcopy(body)
        # Identity and system fields come from the stored object, never from the client.
        obj["apiVersion"], obj["kind"] = rdef.api_version, rdef.kind
        obj.setdefault("metadata", {})
        for name in ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"):
            if name in before["metadata"]:
                obj["metadata"][name] = before["metadata"][name]
            else:
                obj["metadata"].pop(name, None)
        obj["metadata"].pop("managedFields", None)
        if status_only:
            kept = copy.deepcopy(before)
            if "status" in obj:
                kept["status"] = obj["status"]
            else:
                kept.pop("status", None)
            obj = kept
        elif rdef.status and not with_status:
            if "status" in before:
                obj["status"] = copy.deepcopy(before["status"])
            else:
                obj.pop("status", None)
        entry = Entry(
            obj, dict(current.owners), {m: set(p) for m, p in current.applied.items()}, dict(current.operations)
        )
        self._record_update(entry, before, manager, with_status=status_only or not rdef.status)
        if dry_run:
            return self._commit(rdef, key, entry, before, True)
        return self._commit(rdef, key, entry, before, False)

    def replace(
        self,
        rdef: RDef,
        namespace: str,
        name: str,
        body: dict[str, Any],
        manager: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            key, entry = self._current(rdef, namespace, name)
            self._refuse_stale(rdef, name, body, entry.obj)
            return self._replace_entry(
                rdef, key, body, manager, with_status=False, dry_run=dry_run, status_only=subresource == "status"
            )

    def _refuse_stale(self, rdef: RDef, name: str, body: dict[str, Any], live: dict[str, Any]) -> None:
        """409, as the API server answers a write carrying an outdated resourceVersion."""
        if self._stale(body, live):
            raise ApiFailure(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rdef.plural} "{name}": '
                "the object has been modified; please apply your changes to the latest version",
            )

    def patch(
        self,
        rdef: RDef,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        manager: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            key, entry = self._current(rdef, namespace, name)
            current = copy.deepcopy(entry.obj)
            if patch_type == "json":
                result = json_patch(current, body)
            else:  # merge and strategic-merge (lists replaced: close enough for the kinds tests patch)
                if isinstance(body, dict):
                    self._refuse_stale(rdef, name, body, entry.obj)
                result = merge_patch(current, body)
            return self._replace_entry(
                rdef, key, result, manager, with_status=False, dry_run=dry_run, status_only=subresource == "status"
            )

    def apply(
        self,
        rdef: RDef,
        namespace: str,
        name: str,
        config: dict[str, Any],
        manager: str,
        *,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Server-side apply; returns (object, created)."""
        with self.lock:
            meta = config.get("metadata") or {}
            if meta.get("name") not in (None, name):
                raise ApiFailure(400, "BadRequest", "the name of the object does not match the name in the URL")
            if rdef.namespaced and meta.get("namespace") not in (None, namespace):
                raise ApiFailure(400, "BadRequest", "the namespace of the object does not match the URL")
            if config.get("kind") not in (None, rdef.kind) or config.get("apiVersion") not in (None, rdef.api_version):
                raise ApiFailure(400, "BadRequest", f"apply body is {config.get('kind')}, the URL is {rdef.plural}")
            with_status = subresource == "status" or not rdef.status
            wanted = owned_leaves(config, with_status)
            if subresource == "status":
                wanted = {p: v for p, v in wanted.items() if p[0] == "status"}
            key = self._key(rdef, namespace, name)
            created = key not in self.entries
            if created:
                self._check_namespace(rdef, namespace)
                obj: dict[str, Any] = {"apiVersion": rdef.api_version, "kind": rdef.kind, "metadata": {"name": name}}
                self._new_meta(rdef, obj, namespace)
                entry = Entry(obj)
                before = None
            else:
                current = self.entries[key]
                if self._stale(config, current.obj):
                    raise ApiFailure(
                        409,
                        "Conflict",
                        f'Operation cannot be fulfilled on {rdef.plural} "{name}": the object has been modified',
                    )
                before = current.obj
                entry = Entry(
                    copy.deepcopy(current.obj),
                    dict(current.owners),
                    {m: set(p) for m, p in current.applied.items()},
                    dict(current.operations),
                )
            conflicts = []
            for path, value in wanted.items():
                owner = entry.owners.get(path)
                if owner is not None and owner != manager and _get_path(entry.obj, path) != value:
                    conflicts.append((path, owner))
            if conflicts and not force:
                causes = [
                    {
                        "type": "FieldManagerConflict",
                        "message": f'conflict with "{owner}"',
                        "field": "." + ".".join(path),
                    }
                    for path, owner in conflicts
                ]
                names = ", ".join(f'"{owner}"' for owner in sorted({owner for _, owner in conflicts}))
                raise ApiFailure(
                    409,
                    "Conflict",
                    f"Apply failed with {len(conflicts)} conflict(s): conflict with {names} using {rdef.api_version}: "
                    + ", ".join(c["field"] for c in causes),
                    causes,
                )
            for path in entry.applied.get(manager, set()) - set(wanted):
                if entry.owners.get(path) == manager:
                    _del_path(entry.obj, path)
                    entry.owners.pop(path)
            for path, value in wanted.items():
                _set_path(entry.obj, path, value)
                entry.owners[path] = manager
            entry.applied[manager] = set(wanted)
            entry.operations[manager] = "Apply"
            result = self._commit(rdef, key, entry, before, dry_run)
            return result, created

    def delete(
        self, rdef: RDef, namespace: str, name: str, *, propagation: str = "Background", dry_run: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            key, entry = self._current(rdef, namespace, name)
            obj = self._render(entry)
            if dry_run:
                return obj
            if entry.obj["metadata"].get("finalizers"):
                if not entry.obj["metadata"].get("deletionTimestamp"):
                    entry.obj["metadata"]["deletionTimestamp"] = now()
                    self.rv += 1
                    entry.obj["metadata"]["resourceVersion"] = str(self.rv)
                    self._emit(rdef, "MODIFIED", entry.obj)
                return self._render(entry)
            self._remove(rdef, key, propagation)
            return obj

    def _remove(self, rdef: RDef, key: Key, propagation: str) -> None:
        entry = self.entries.pop(key)
        self.rv += 1
        entry.obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit(rdef, "DELETED", entry.obj)
        if propagation == "Orphan":
            return
        uid = entry.obj["metadata"]["uid"]
        for dep_key, dep in list(self.entries.items()):
            refs = dep.obj["metadata"].get("ownerReferences") or []
            if dep_key in self.entries and any(r.get("uid") == uid for r in refs):
                self._remove(self.rdefs[(dep_key[0], dep_key[1])], dep_key, propagation)

    def remove_finalizers_and_delete(self, rdef: RDef, namespace: str, name: str) -> None:
        with self.lock:
            key, _entry = self._current(rdef, namespace, name)
            self._remove(rdef, key, "Background")

    def compact(self) -> None:
        """Forget all history: watches resuming from any earlier resourceVersion get 410 Gone."""
        with self.lock:
            self.history.clear()
            self.compacted_before = self.rv

    def subscribe(self, sub: Subscriber) -> list[tuple[int, str, dict[str, Any]]]:
        """Register a watcher; returns the retained history of its resource (caller filters by version)."""
        with self.lock:
            self.subscribers.append(sub)
            return [
                (rv, kind, obj)
                for rv, group, plural, kind, obj in self.history
                if (group, plural) == (sub.group, sub.plural)
            ]

    def unsubscribe(self, sub: Subscriber) -> None:
        with self.lock, contextlib.suppress(ValueError):
            self.subscribers.remove(sub)


# --- faults and the request log ----------------------------------------------------------------------


@dataclass
class Fault:
    status: int
    method: str | None = None
    plural: str | None = None
    name: str | None = None
    times: int = 1
    reason: str = ""
    message: str = "injected fault"
    retry_after: float | None = None
    commit: bool = False  # perform the request, then answer with the error (a lost response)
    hits: int = 0

    def matches(self, method: str, plural: str | None, name: str | None) -> bool:
        return (
            self.times > 0
            and (self.method is None or self.method.upper() == method)
            and (self.plural is None or self.plural == plural)
            and (self.name is None or self.name == name)
        )


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    params: dict[str, str]
    plural: str | None
    namespace: str | None
    name: str | None
    subresource: str | None
    content_type: str
    status: int

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    @property
    def dry_run(self) -> bool:
        return self.params.get("dryRun") == "All"


_PATH = re.compile(
    r"^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?"
    r"(?:/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?)?$"
)


def parse_path(path: str) -> tuple[str, str, str | None, str | None, str | None, str | None] | None:
    """(group, version, namespace, plural, name, subresource) of a resource URL, or None."""
    m = _PATH.match(path)
    if not m:
        return None
    group, version = ("", "v1") if m.group("cv") else (m.group("g"), m.group("v"))
    ns, plural, name, sub = m.group("ns"), m.group("plural"), m.group("name"), m.group("sub")
    if ns is not None and plural is None:
        # /api/v1/namespaces/foo is the Namespace object "foo", not a namespace scope.
        return group, version, None, "namespaces", ns, None
    if plural == "namespaces" and ns is None and name is not None and sub is not None and group == "":
        return group, version, None, "namespaces", name, sub
    return group, version, ns, plural, name, sub


@attrs.define(kw_only=True)
class ApiDouble(kmock.KubernetesScaffold):  # type: ignore[misc]
    """The HTTP face of `Store`, plus faults and the request log (see the module docstring)."""

    store: Store = attrs.field(factory=Store)
    faults: list[Fault] = attrs.field(factory=list)
    log: list[Logged] = attrs.field(factory=list)
    watch_drops: list[int] = attrs.field(factory=list)  # each: close the next watch after N events
    watch_gones: int = 0  # answer the next N watches with a 410 Gone ERROR event
    open_watches: int = 0
    ignore_label_selectors: bool = False  # behave like kmock's emulator (a server that widens lists)
    # Subresources served by a plug-in instead of the store, e.g. {"exec": ...} (tests/support/podexec.py).
    subresource_handlers: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for rdef in self.store.rdefs.values():
            self._declare(rdef)

    def _declare(self, rdef: RDef) -> None:
        self.resources[kmock.resource(rdef.group, rdef.version, rdef.plural)] = kmock.ResourceInfo(
            kind=rdef.kind,
            namespaced=rdef.namespaced,
            verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
            subresources=["status"] if rdef.status else [],
        )

    async def _serve_version(self, request: Any) -> Any:
        # kmock answers /api/v1 with groupVersion "/v1"; clients expect "v1" for the core group.
        doc = await super()._serve_version(request)
        if isinstance(doc, dict) and str(doc.get("groupVersion", "")).startswith("/"):
            doc["groupVersion"] = doc["groupVersion"][1:]
        return doc

    # scripting API
    def register(
        self, group: str, version: str, kind: str, plural: str, *, namespaced: bool = True, status: bool = True
    ) -> RDef:
        """Serve a custom resource (e.g. the operator's CRD) with the same semantics as built-ins."""
        rdef = RDef(group, version, kind, plural, namespaced, status)
        with self.store.lock:
            self.store.rdefs[(group, plural)] = rdef
        self._declare(rdef)
        return rdef

    def unregister(self, group: str, plural: str) -> None:
        """Stop serving a resource (a cluster without that API, e.g. no VPA CRDs): its URLs answer 404."""
        with self.store.lock:
            rdef = self.store.rdefs.pop((group, plural))
        self.resources.pop(kmock.resource(rdef.group, rdef.version, rdef.plural), None)

    def fail(
        self,
        status: int,
        method: str | None = None,
        plural: str | None = None,
        *,
        name: str | None = None,
        times: int = 1,
        reason: str = "",
        message: str = "injected fault",
        retry_after: float | None = None,
        commit: bool = False,
    ) -> Fault:
        """Answer the next `times` matching requests with `status` (commit=True: do the write first)."""
        fault = Fault(status, method, plural, name, times, reason, message, retry_after, commit)
        self.faults.append(fault)
        return fault

    def drop_watches(self, after_events: int = 0, times: int = 1) -> None:
        """Close the next `times` watch streams after `after_events` events (a dropped connection)."""
        self.watch_drops.extend([after_events] * times)

    def gone_watches(self, times: int = 1) -> None:
        """Answer the next `times` watches (that carry a resourceVersion) with 410 Gone."""
        self.watch_gones += times

    def compact(self) -> None:
        self.store.compact()

    def writes(self, plural: str | None = None, *, include_dry_run: bool = False) -> list[Logged]:
        return [
            r
            for r in self.log
            if r.is_write and (plural is None or r.plural == plural) and (include_dry_run or not r.dry_run)
        ]

    def objects(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.store.objects(plural, namespace)

    def get(self, plural: str, namespace: str, name: str, group: str | None = None) -> dict[str, Any] | None:
        for obj in self.store.objects(plural, namespace, group):
            if obj["metadata"]["name"] == name:
                return obj
        return None

    def put(self, obj: dict[str, Any], manager: str = "test") -> dict[str, Any]:
        """Store `obj` directly (creating its namespace-less kind or namespaced object) as `manager`."""
        rdef = self.store.rdef_for_kind(obj["apiVersion"], obj["kind"])
        return self.store.put(rdef, copy.deepcopy(obj), manager)

    def write_kubeconfig(self, path: Path, server: str, namespace: str = "default") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": server.rstrip("/")}}],
            "users": [{"name": "tester", "user": {"token": "double-token"}}],
            "contexts": [
                {"name": "double", "context": {"cluster": "double", "user": "tester", "namespace": namespace}}
            ],
            "current-context": "double",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # HTTP
    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # Resource URLs are served here, before kmock parses the request: its parser cannot handle some
        # valid paths (POST /api/v1/namespaces). Everything else (discovery, /version, DSL reactions) is kmock's.
        path = raw.path
        parsed = parse_path(path)
        if parsed is None or parsed[3] is None or (parsed[0], parsed[3]) not in self.store.rdefs:
            return await super().__call__(raw)
        group, _version, namespace, plural, name, sub = parsed
        if sub is not None and sub in self.subresource_handlers:
            return await self.subresource_handlers[sub](raw, group, namespace or "", plural, name or "")
        method = str(raw.method).upper()
        params = dict(raw.query)
        content_type = raw.headers.get("Content-Type", "")
        request = _Body(await raw.read())

        def record(status: int) -> None:
            self.log.append(Logged(method, path, params, plural, namespace, name, sub, content_type, status))

        fault = next((f for f in self.faults if f.matches(method, plural, name)), None)
        if fault is not None:
            fault.times -= 1
            fault.hits += 1
            if fault.commit:
                with contextlib.suppress(ApiFailure):
                    self._serve(method, group, namespace or "", plural, name, sub, params, content_type, request)
            record(fault.status)
            reason = fault.reason or {409: "Conflict", 429: "TooManyRequests", 410: "Gone"}.get(
                fault.status, "InternalError"
            )
            response = self._status(ApiFailure(fault.status, reason, fault.message))
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        try:
            if method == "GET" and params.get("watch") in ("true", "1"):
                record(200)
                return await self._watch(raw, group, plural, namespace, params)
            status, body = self._serve(method, group, namespace or "", plural, name, sub, params, content_type, request)
        except ApiFailure as exc:
            record(exc.code)
            return self._status(exc)
        record(status)
        return aiohttp.web.json_response(body, status=status, content_type="application/json")

    def _status(self, exc: ApiFailure) -> aiohttp.web.Response:
        # Plain application/json: clients look for exactly that before decoding a Status.
        return aiohttp.web.Response(
            body=json.dumps(exc.status()).encode(), status=exc.code, content_type="application/json"
        )

    def _serve(
        self,
        method: str,
        group: str,
        namespace: str,
        plural: str,
        name: str | None,
        sub: str | None,
        params: dict[str, str],
        content_type: str,
        request: Any,
    ) -> tuple[int, Any]:
        store = self.store
        rdef = store.rdef(group, plural)
        dry_run = params.get("dryRun") == "All"
        manager = params.get("fieldManager") or "unknown"
        body = request.json()
        if method == "GET" and name is None:
            labels = None if self.ignore_label_selectors else params.get("labelSelector")
            items, rv = store.list(rdef, namespace or None, labels, params.get("fieldSelector"))
            return 200, {
                "apiVersion": rdef.api_version,
                "kind": f"{rdef.kind}List",
                "metadata": {"resourceVersion": str(rv)},
                "items": items,
            }
        if name is None and method != "POST":
            raise ApiFailure(405, "MethodNotAllowed", f"{method} on a collection is not supported by the double")
        if method == "GET":
            assert name is not None
            obj = store.get(rdef, namespace, name)
            if obj is None:
                raise ApiFailure(404, "NotFound", f'{plural} "{name}" not found')
            return 200, obj
        if method == "POST":
            if not isinstance(body, dict):
                raise ApiFailure(400, "BadRequest", "body must be a JSON object")
            return 201, store.create(rdef, namespace, body, manager, dry_run)
        assert name is not None
        if method == "PUT":
            if not isinstance(body, dict):
                raise ApiFailure(400, "BadRequest", "body must be a JSON object")
            return 200, store.replace(rdef, namespace, name, body, manager, subresource=sub, dry_run=dry_run)
        if method == "PATCH":
            if content_type.startswith("application/apply-patch"):
                if "fieldManager" not in params:
                    raise ApiFailure(422, "Invalid", "fieldManager is required for apply requests")
                config = body if isinstance(body, dict) else yaml.safe_load(request.raw)
                obj, created = store.apply(
                    rdef,
                    namespace,
                    name,
                    config,
                    manager,
                    force=params.get("force") == "true",
                    dry_run=dry_run,
                    subresource=sub,
                )
                return (201 if created else 200), obj
            kind = "json" if content_type.startswith("application/json-patch") else "merge"
            return 200, store.patch(rdef, namespace, name, kind, body, manager, subresource=sub, dry_run=dry_run)
        if method == "DELETE":
            options = body if isinstance(body, dict) else {}
            propagation = params.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
            return 200, store.delete(rdef, namespace, name, propagation=propagation, dry_run=dry_run)
        raise ApiFailure(405, "MethodNotAllowed", f"{method} is not supported")

    async def _watch(
        self, raw: Any, group: str, plural: str, namespace: str | None, params: dict[str, str]
    ) -> aiohttp.web.StreamResponse:
        store = self.store
        rdef = store.rdef(group, plural)
        labels, fields = params.get("labelSelector"), params.get("fieldSelector")
        since = params.get("resourceVersion") or ""
        timeout = float(params.get("timeoutSeconds") or 300)
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(raw)

        def visible(obj: dict[str, Any]) -> bool:
            meta = obj.get("metadata") or {}
            if namespace and rdef.namespaced and meta.get("namespace") != namespace:
                return False
            return label_match(labels, meta.get("labels") or {}) and field_match(fields, obj)

        async def send(kind: str, obj: dict[str, Any]) -> None:
            await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

        if since and since != "0" and self.watch_gones > 0:
            self.watch_gones -= 1
            await send("ERROR", ApiFailure(410, "Expired", "too old resource version (injected)").status())
            await response.write_eof()
            return response
        drop_after = self.watch_drops.pop(0) if self.watch_drops else None
        sub = Subscriber(asyncio.get_running_loop(), asyncio.Queue(), group, plural)
        history = store.subscribe(sub)
        self.open_watches += 1
        sent = 0
        try:
            last = 0
            if since and since != "0":
                version = int(since)
                if version < store.compacted_before:
                    await send("ERROR", ApiFailure(410, "Expired", f"too old resource version: {since}").status())
                    return response
                last = version
                for rv, kind, obj in history:
                    if rv > last and visible(obj):
                        if drop_after is not None and sent >= drop_after:
                            return response
                        await send(kind, obj)
                        sent += 1
                    last = max(last, rv)
            else:
                items, rv_now = store.list(rdef, namespace, labels, fields)
                for obj in items:
                    if drop_after is not None and sent >= drop_after:
                        return response
                    await send("ADDED", obj)
                    sent += 1
                last = rv_now
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0 or (drop_after is not None and sent >= drop_after):
                    return response
                try:
                    rv, kind, obj = await asyncio.wait_for(sub.queue.get(), timeout=remaining)
                except TimeoutError:
                    return response
                if rv <= last:
                    continue
                last = rv
                if visible(obj):
                    await send(kind, obj)
                    sent += 1
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        finally:
            self.open_watches -= 1
            store.unsubscribe(sub)
            with contextlib.suppress(Exception):
                await response.write_eof()


@dataclass(frozen=True)
class _Body:
    raw: bytes

    def json(self) -> Any:
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            return yaml.safe_load(self.raw)  # apply bodies may be YAML


# --- running it --------------------------------------------------------------------------------------


@dataclass
class Running:
    api: ApiDouble
    url: str
    kubeconfig: Path
    loop: asyncio.AbstractEventLoop
    controller: Any = None

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the server's loop and return its result (for controller knobs needing the loop)."""
        done: asyncio.Future[Any] = asyncio.run_coroutine_threadsafe(_as_coro(fn), self.loop)  # type: ignore[assignment]
        return done.result(timeout=10)


async def _as_coro(fn: Callable[[], Any]) -> Any:
    return fn()


@contextlib.contextmanager
def serve(
    tmp_path: Path, *, controller: bool = True, namespace: str = "default", **controller_options: Any
) -> Iterator[Running]:
    """Run an ApiDouble (and, by default, the fake controller) on 127.0.0.1 in a background thread."""
    from tests.support.fakecontroller import FakeController

    ready = threading.Event()
    stop: dict[str, Any] = {}
    box: dict[str, Any] = {}

    async def main() -> None:
        api = ApiDouble()
        async with api, kmock.Server(api) as server:
            ctl = None
            if controller:
                ctl = FakeController(api.store, **controller_options)
                ctl.start()
            box["running"] = Running(api, str(server.url), tmp_path / "kubeconfig", asyncio.get_running_loop(), ctl)
            stop["event"] = asyncio.Event()
            ready.set()
            await stop["event"].wait()
            if ctl is not None:
                await ctl.stop()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surface start-up failures to the test thread
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=thread_main, name="apidouble", daemon=True)
    thread.start()
    if not ready.wait(10) or "error" in box:
        raise RuntimeError(f"API double did not start: {box.get('error')!r}")
    running: Running = box["running"]
    running.api.write_kubeconfig(running.kubeconfig, running.url, namespace)
    try:
        yield running
    finally:
        running.loop.call_soon_threadsafe(stop["event"].set)
        thread.join(10)


def secret_value(secret: dict[str, Any], key: str) -> bytes:
    """Decode one key of a Secret (tests compare cookies without printing them)."""
    return base64.b64decode(secret["data"][key])


def template_hash(template: Any) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
