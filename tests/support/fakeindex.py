"""The fake controller's informer-style indexes: objects by kind, by owner and by uid, and the dirty set.

Role: test support (in memory; fed by `Store.observers` under the store's lock, read by the fake controller
under the same lock). A real kube-controller-manager does not look at every object on every change: its
informers hand each controller the objects that changed, and a controller enqueues the owner of a changed
dependent (a Pod's ReplicaSet, a ReplicaSet's Deployment). This index does the same for the fake controller,
so a pass costs what changed, not the size of the store: with 1,000 BeamApps, rebuilding a whole-store index
after every write and visiting every workload on every pass made the double's CPU grow quadratically.

What is dirty: an object of a kind the controller drives when it changes; the owners (two levels: a Pod's
ReplicaSet and that ReplicaSet's Deployment) of anything that changes or goes away; the HPAs whose scale
target changes. `needs_gc` is raised by what can leave garbage or unblock a foreground deletion: a deletion,
a deletionTimestamp, an ownerReference naming an object that does not exist.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tests.support.apidouble import Key, RDef, Store

GK = tuple[str, str]  # (group, plural)

# The kinds the fake controller drives (each is visited when dirty).
DRIVEN: frozenset[GK] = frozenset(
    {
        ("", "pods"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("batch", "jobs"),
        ("autoscaling", "horizontalpodautoscalers"),
    }
)
SCALE_TARGETS = {"deployments": "Deployment", "statefulsets": "StatefulSet"}


def _summary(gk: GK, obj: dict[str, Any]) -> dict[str, Any]:
    """What the index keeps of a change (the object itself is read from the store when visited)."""
    meta = obj.get("metadata") or {}
    return {
        "uid": meta.get("uid"),
        "owners": tuple(str(r.get("uid")) for r in meta.get("ownerReferences") or []),
        "deleting": bool(meta.get("deletionTimestamp")),
        "target": (obj.get("spec") or {}).get("scaleTargetRef") if gk[1] == "horizontalpodautoscalers" else None,
    }


class ChangeIndex:
    """Indexes of the store kept current from its change notifications, and the keys a pass must visit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_kind: dict[GK, set[Key]] = {}
        self.by_owner: dict[tuple[GK, str], set[Key]] = {}  # (dependent's kind, owner uid) → dependents
        self.owners_of: dict[Key, tuple[str, ...]] = {}  # key → owner uids
        self.keys_by_uid: dict[str, Key] = {}
        self.uid_of: dict[Key, str] = {}
        self.hpas_by_target: dict[tuple[str, str, str], set[Key]] = {}  # (namespace, kind, name) → HPA keys
        self.target_of: dict[Key, tuple[str, str, str]] = {}
        self.dirty: dict[GK, set[Key]] = {gk: set() for gk in DRIVEN}
        self.needs_gc = False
        self.seen = 0  # notifications taken in (tests: a pass's cost does not grow with the store)
        self._pending: deque[tuple[GK, str, Key, dict[str, Any]]] = deque()

    # feeding -------------------------------------------------------------------------------
    def attach(self) -> None:
        """Index what is stored now (everything dirty, as an informer's first list), then follow changes."""
        with self.store.lock:
            for key, entry in self.store.entries.items():
                gk = (key[0], key[1])
                self._apply(gk, "ADDED", key, _summary(gk, entry.obj))
            self.store.observers.append(self._observe)

    def detach(self) -> None:
        with self.store.lock:
            if self._observe in self.store.observers:
                self.store.observers.remove(self._observe)

    def _observe(self, rdef: RDef, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key: Key = (rdef.group, rdef.plural, meta.get("namespace", "") if rdef.namespaced else "", meta["name"])
        gk = (rdef.group, rdef.plural)
        self._pending.append((gk, kind, key, _summary(gk, obj)))

    def drain(self) -> None:
        """Take in the changes since the last call (the caller holds the store's lock)."""
        while self._pending:
            gk, kind, key, summary = self._pending.popleft()
            self._apply(gk, kind, key, summary)

    def _apply(self, gk: GK, kind: str, key: Key, summary: dict[str, Any]) -> None:
        self.seen += 1
        owners: tuple[str, ...] = summary["owners"]
        for uid in self.owners_of.pop(key, ()):
            self.by_owner.get((gk, uid), set()).discard(key)
        old_uid = self.uid_of.pop(key, None)
        if old_uid is not None and self.keys_by_uid.get(old_uid) == key:
            del self.keys_by_uid[old_uid]
        if kind == "DELETED":
            self.by_kind.get(gk, set()).discard(key)
            self._untarget(key)
            self.needs_gc = True
        else:
            self.by_kind.setdefault(gk, set()).add(key)
            self.owners_of[key] = owners
            for uid in owners:
                self.by_owner.setdefault((gk, uid), set()).add(key)
            if summary["uid"]:
                self.keys_by_uid[str(summary["uid"])] = key
                self.uid_of[key] = str(summary["uid"])
            if summary["deleting"] or any(uid not in self.keys_by_uid for uid in owners):
                self.needs_gc = True
            if gk == ("autoscaling", "horizontalpodautoscalers"):
                self._retarget(key, summary["target"] or {})
        if gk in DRIVEN:
            self.dirty[gk].add(key)
        for uid in owners:
            self._dirty_owner(uid, depth=2)
        if gk[1] in SCALE_TARGETS:
            for hpa in self.hpas_by_target.get((key[2], SCALE_TARGETS[gk[1]], key[3]), ()):
                self.dirty[("autoscaling", "horizontalpodautoscalers")].add(hpa)

    def _dirty_owner(self, uid: str, depth: int) -> None:
        owner = self.keys_by_uid.get(uid)
        if owner is None or depth == 0:
            return
        gk = (owner[0], owner[1])
        if gk in DRIVEN:
            self.dirty[gk].add(owner)
        for above in self.owners_of.get(owner, ()):
            self._dirty_owner(above, depth - 1)

    def _retarget(self, key: Key, ref: dict[str, Any]) -> None:
        self._untarget(key)
        target = (key[2], str(ref.get("kind")), str(ref.get("name")))
        self.target_of[key] = target
        self.hpas_by_target.setdefault(target, set()).add(key)

    def _untarget(self, key: Key) -> None:
        target = self.target_of.pop(key, None)
        if target is not None:
            self.hpas_by_target.get(target, set()).discard(key)

    # reading -------------------------------------------------------------------------------
    def take_dirty(self, gk: GK) -> list[Key]:
        """The keys of one kind to visit now, in name order (the set is emptied; re-mark what stays busy)."""
        self.drain()
        keys = sorted(self.dirty[gk])
        self.dirty[gk].clear()
        return keys

    def mark(self, key: Key) -> None:
        self.dirty[(key[0], key[1])].add(key)

    def owned(self, gk: GK, owner_uid: str, namespace: str) -> list[Key]:
        """Keys of `gk` objects naming `owner_uid` among their ownerReferences, in `namespace`, by name."""
        self.drain()
        return sorted(k for k in self.by_owner.get((gk, owner_uid), ()) if k[2] == namespace)

    def of_kind(self, gk: GK) -> list[Key]:
        self.drain()
        return sorted(self.by_kind.get(gk, ()))
