"""The double's object store: objects, defaults, validation-free writes, history (apply and deletes are in
`lifecycle`).

Role: test support (in memory, thread-safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.apidouble.base import (
    BUILTIN,
    TYPED_QUANTITIES,
    ApiFailure,
    RDef,
    field_match,
    label_match,
    now,
)
from tests.support.apidouble.fields import (
    Path_,
    _get_path,
    fields_v1,
    owned_leaves,
)
from tests.support.apidouble.schema import (
    IMMUTABLE,
    apply_defaults,
    canonicalise,
)

# --- the store ---------------------------------------------------------------------------------------

Key = tuple[str, str, str, str]  # (group, plural, namespace, name)


@dataclass
class Entry:
    obj: dict[str, Any]
    owners: dict[Path_, str] = field(default_factory=dict)  # leaf path → manager
    applied: dict[str, set[Path_]] = field(default_factory=dict)  # SSA manager → paths it applied
    operations: dict[str, str] = field(default_factory=dict)  # manager → Apply | Update
    co_owners: dict[Path_, set[str]] = field(default_factory=dict)  # other managers that applied the same value


@dataclass
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[int, str, dict[str, Any]]]
    group: str
    plural: str


class StoreCore:
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
        # Told of every change, under the lock: (resource, ADDED|MODIFIED|DELETED, the stored object, which
        # observers must not mutate). An informer-style controller keeps its indexes from these.
        self.observers: list[Callable[[RDef, str, dict[str, Any]], None]] = []
        self._ips = itertools.count(10)
        self.version = "1.33"  # the Kubernetes minor the double pretends to be (schemas, /version)
        self.crd_schemas: dict[tuple[str, str], dict[str, Any]] = {}  # (group, plural) → openAPIV3Schema
        self.async_gc = False  # True: a garbage collector (the fake controller) removes dependents later
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
        for path, managers in entry.co_owners.items():
            for manager in managers:
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
        for observer in list(self.observers):
            observer(rdef, kind, obj)
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

    def _finish(self, rdef: RDef, entry: Entry, old: dict[str, Any] | None) -> None:
        if (rdef.group, rdef.plural) in TYPED_QUANTITIES:
            entry.obj = canonicalise(entry.obj)
        meta = entry.obj["metadata"]
        self._defaults(rdef, entry.obj)
        apply_defaults(rdef.kind, entry.obj)
        if old is not None:
            for path in IMMUTABLE.get(rdef.kind, ()):
                if _get_path(old, path) is not None and _get_path(old, path) != _get_path(entry.obj, path):
                    raise ApiFailure(
                        422,
                        "Invalid",
                        f'{rdef.kind} "{meta.get("name")}" is invalid: {".".join(path)}: Invalid value: '
                        "field is immutable",
                        [{"reason": "FieldValueInvalid", "message": "field is immutable", "field": ".".join(path)}],
                    )
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
        rendered = self._render(entry)
        if entry.obj["metadata"].get("deletionTimestamp") and not entry.obj["metadata"].get("finalizers"):
            self._remove(rdef, key, "Background")  # the last finalizer is gone: the deletion completes
        return rendered
