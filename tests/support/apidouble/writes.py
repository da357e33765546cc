"""Plain writes of the double's store: create, replace (PUT), merge/JSON patch, and the test helper `put`.

Role: test support (in memory, thread-safe).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.support.apidouble.base import (
    SYSTEM_META,
    TYPED_QUANTITIES,
    ApiFailure,
    RDef,
)
from tests.support.apidouble.fields import (
    json_patch,
    merge_patch,
)
from tests.support.apidouble.schema import (
    canonicalise,
)
from tests.support.apidouble.store import Entry, Key, StoreCore


class StoreWrites(StoreCore):
    """Create, replace and patch (managers recorded as "Update" owners)."""

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
        kept = ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp")
        for name in kept:
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
            canonicalise(obj) if (rdef.group, rdef.plural) in TYPED_QUANTITIES else obj,
            dict(current.owners),
            {m: set(p) for m, p in current.applied.items()},
            dict(current.operations),
            {p: set(m) for p, m in current.co_owners.items()},
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

