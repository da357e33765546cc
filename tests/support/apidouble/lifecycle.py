"""Server-side apply, DELETE with propagation and finalizers, the garbage collector, watch subscriptions.

Role: test support (in memory, thread-safe).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from tests.support.apidouble.base import DEFAULTED_FIELDS, TYPED_QUANTITIES, ApiFailure, RDef, now
from tests.support.apidouble.fields import _del_path, _get_path, _set_path, owned_leaves
from tests.support.apidouble.schema import (
    canonicalise,
)
from tests.support.apidouble.store import Entry, Key, Subscriber
from tests.support.apidouble.writes import StoreWrites

END_OF_STREAM = "END"  # queued by `end_watches`: the stream closes


class Store(StoreWrites):
    """Objects, field ownership, history and watchers; every method is thread-safe and synchronous."""

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
            if (rdef.group, rdef.plural) in TYPED_QUANTITIES:
                config = canonicalise(config)  # the server compares and stores quantities canonically
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
                    {p: set(m) for p, m in current.co_owners.items()},
                )
            conflicts = []
            for path, value in wanted.items():
                owner = entry.owners.get(path)
                if owner is None or owner == manager:
                    continue
                # Equal values are shared ownership, except fields the server stores as its default: sending one
                # conflicts with a manager that sent it too (seen on a real 1.28 server, PriorityClass.globalDefault).
                if _get_path(entry.obj, path) != value or (rdef.kind, path) in DEFAULTED_FIELDS:
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
                sharing = entry.co_owners.get(path, set()) - {manager}
                entry.co_owners.pop(path, None)
                if entry.owners.get(path) == manager and sharing:
                    entry.owners[path] = sorted(sharing)[0]  # the other owner keeps the field
                    if len(sharing) > 1:
                        entry.co_owners[path] = set(sorted(sharing)[1:])
                elif entry.owners.get(path) == manager:
                    _del_path(entry.obj, path)
                    entry.owners.pop(path)
                elif path in entry.co_owners:
                    entry.co_owners[path].discard(manager)
            for path, value in wanted.items():
                owner = entry.owners.get(path)
                if owner is not None and owner != manager and not force and _get_path(entry.obj, path) == value:
                    entry.co_owners.setdefault(path, set()).add(manager)  # shared: both applied this value
                    continue
                if not (value == {} and isinstance(_get_path(entry.obj, path), dict)):
                    _set_path(entry.obj, path, value)  # an empty map merges into an existing one
                entry.owners[path] = manager
                entry.co_owners.pop(path, None)
            entry.applied[manager] = set(wanted)
            entry.operations[manager] = "Apply"
            result = self._commit(rdef, key, entry, before, dry_run)
            return result, created

    def delete(
        self, rdef: RDef, namespace: str, name: str, *, propagation: str = "Background", dry_run: bool = False
    ) -> dict[str, Any]:
        """DELETE as the API server does it. With `async_gc` (a garbage collector runs: the fake controller's),
        Foreground marks the object (deletionTimestamp + the `foregroundDeletion` finalizer) and the collector
        removes its dependents first, then it; Background removes it now and its dependents later; Orphan
        strips the ownerReferences from its dependents. Without `async_gc` the cascade is immediate."""
        with self.lock:
            key, entry = self._current(rdef, namespace, name)
            obj = self._render(entry)
            if dry_run:
                return obj
            meta = entry.obj["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if self.async_gc and propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                meta["finalizers"] = [*finalizers, "foregroundDeletion"]
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now()
                    self.rv += 1
                    meta["resourceVersion"] = str(self.rv)
                    self._emit(rdef, "MODIFIED", entry.obj)
                return self._render(entry)
            self._remove(rdef, key, propagation)
            return obj

    def _remove(self, rdef: RDef, key: Key, propagation: str) -> None:
        entry = self.entries.pop(key)
        self.rv += 1
        entry.obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit(rdef, "DELETED", entry.obj)
        if self.async_gc and propagation != "Orphan":
            return  # the garbage collector finds dependents whose owners are gone (no scan of the store here)
        uid = entry.obj["metadata"]["uid"]
        dependents = [
            k for k, dep in self.entries.items()
            if any(r.get("uid") == uid for r in dep.obj["metadata"].get("ownerReferences") or [])
        ]  # fmt: skip
        if propagation == "Orphan":
            for dep_key in dependents:
                dep = self.entries[dep_key]
                refs = [r for r in dep.obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                body = copy.deepcopy(dep.obj)
                body["metadata"]["ownerReferences"] = refs
                self._replace_entry(self.rdefs[(dep_key[0], dep_key[1])], dep_key, body, "garbage-collector",
                                    with_status=True, dry_run=False)  # fmt: skip
            return
        for dep_key in dependents:
            if dep_key in self.entries:
                self._remove(self.rdefs[(dep_key[0], dep_key[1])], dep_key, propagation)

    def collect_garbage(self) -> None:
        """One pass of the garbage collector (called by the fake controller): objects under foreground
        deletion lose their dependents, then themselves; dependents whose owners are all gone are deleted."""
        with self.lock:
            uids = {e.obj["metadata"].get("uid") for e in self.entries.values()}
            for key, entry in list(self.entries.items()):
                if key not in self.entries:
                    continue
                meta = entry.obj["metadata"]
                rdef = self.rdefs[(key[0], key[1])]
                refs = meta.get("ownerReferences") or []
                if refs and not any(r.get("uid") in uids for r in refs):
                    self.delete(rdef, key[2], key[3], propagation="Background")
                    continue
                if meta.get("deletionTimestamp") and "foregroundDeletion" in (meta.get("finalizers") or []):
                    uid = meta.get("uid")
                    waiting = [
                        k for k, dep in self.entries.items()
                        if any(r.get("uid") == uid for r in dep.obj["metadata"].get("ownerReferences") or [])
                    ]  # fmt: skip
                    for dep_key in waiting:
                        dep_meta = self.entries[dep_key].obj["metadata"]
                        if not dep_meta.get("deletionTimestamp"):
                            self.delete(self.rdefs[(dep_key[0], dep_key[1])], dep_key[2], dep_key[3],
                                        propagation="Foreground")  # fmt: skip
                    if not waiting:
                        rest = [f for f in meta["finalizers"] if f != "foregroundDeletion"]
                        if rest:
                            meta["finalizers"] = rest
                        else:
                            self._remove(rdef, key, "Background")

    def remove_finalizers_and_delete(self, rdef: RDef, namespace: str, name: str) -> None:
        with self.lock:
            key, _entry = self._current(rdef, namespace, name)
            self._remove(rdef, key, "Background")

    def compact(self) -> None:
        """Forget all history: watches resuming from any earlier resourceVersion get 410 Gone."""
        with self.lock:
            self.history.clear()
            self.compacted_before = self.rv

    def end_watches(self) -> None:
        """End every open watch stream now (an API server restarting, a proxy's idle timeout): clients resume
        from their last resourceVersion, and meet 410 Gone if it was compacted."""
        with self.lock:
            for sub in self.subscribers:
                with contextlib.suppress(RuntimeError):  # loop closed
                    sub.loop.call_soon_threadsafe(sub.queue.put_nowait, (0, END_OF_STREAM, {}))

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


