"""Serving resource requests and watches for ApiDouble: validation per pretended version, pagination,
bookmarks.

Role: test support (network I/O on 127.0.0.1 only).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any

import aiohttp.web
import yaml

from tests.support.apidouble.base import ApiFailure, RDef, field_match, label_match
from tests.support.apidouble.lifecycle import END_OF_STREAM, Store
from tests.support.apidouble.schema import (
    TYPED_PATCH,
    crd_undeclared,
    schema_problems,
)
from tests.support.apidouble.store import Subscriber

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


class Serving:
    """Resource requests (GET/LIST/POST/PUT/PATCH/DELETE), validation and watches; mixed into ApiDouble."""

    store: Store
    validate: bool
    bookmark_seconds: float
    ignore_label_selectors: bool
    watch_gones: int
    watch_drops: list[int]
    open_watches: int
    expired_watches: list[str]

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
        agent: str = "unknown",
    ) -> tuple[int, Any]:
        store = self.store
        rdef = store.rdef(group, plural)
        dry_run = params.get("dryRun") == "All"
        manager = params.get("fieldManager") or agent
        body = request.json()
        if method == "GET" and name is None:
            labels = None if self.ignore_label_selectors else params.get("labelSelector")
            items, rv = store.list(rdef, namespace or None, labels, params.get("fieldSelector"))
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            # Pagination as the API server does it: `limit` items, then an opaque `continue` token (here the
            # offset and the list's resourceVersion; a token whose version was compacted away is 410).
            start, limit = 0, int(params.get("limit") or 0)
            if params.get("continue"):
                offset, _, version = base64.b64decode(params["continue"]).decode().partition(":")
                if int(version or 0) < store.compacted_before:
                    raise ApiFailure(410, "Expired", "the provided continue parameter is too old")
                start = int(offset)
            if limit and len(items) > start + limit:
                meta["continue"] = base64.b64encode(f"{start + limit}:{rv}".encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = items[start : start + limit] if limit else items[start:]
            return 200, {"apiVersion": rdef.api_version, "kind": f"{rdef.kind}List", "metadata": meta, "items": items}
        if name is None and method != "POST":
            raise ApiFailure(405, "MethodNotAllowed", f"{method} on a collection is not supported by the double")
        if sub == "scale" and name is not None:
            return self._scale(method, rdef, namespace, name, body, manager)
        if method == "GET":
            assert name is not None
            obj = store.get(rdef, namespace, name)
            if obj is None:
                raise ApiFailure(404, "NotFound", f'{plural} "{name}" not found')
            return 200, obj
        if method == "POST":
            if not isinstance(body, dict):
                raise ApiFailure(400, "BadRequest", "body must be a JSON object")
            self._validate(rdef, body, params, apply=False)
            return 201, store.create(rdef, namespace, body, manager, dry_run)
        assert name is not None
        if method == "PUT":
            if not isinstance(body, dict):
                raise ApiFailure(400, "BadRequest", "body must be a JSON object")
            if sub is None:
                self._validate(rdef, body, params, apply=False)
            return 200, store.replace(rdef, namespace, name, body, manager, subresource=sub, dry_run=dry_run)
        if method == "PATCH":
            if content_type.startswith("application/apply-patch"):
                if "fieldManager" not in params:
                    raise ApiFailure(422, "Invalid", "fieldManager is required for apply requests")
                config = body if isinstance(body, dict) else yaml.safe_load(request.raw)
                if sub is None:
                    self._validate(rdef, config, params, apply=True)
                    trial, _ = store.apply(
                        rdef, namespace, name, config, manager, force=params.get("force") == "true", dry_run=True
                    )
                    self._validate(rdef, trial, params, apply=False, whole=True)
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

    def _scale(
        self, method: str, rdef: RDef, namespace: str, name: str, body: Any, manager: str
    ) -> tuple[int, Any]:
        """The /scale subresource (autoscaling/v1 Scale) of Deployments, StatefulSets and ReplicaSets."""
        if rdef.kind not in SCALABLE:
            raise ApiFailure(404, "NotFound", f"the server could not find the requested resource ({rdef.plural}/scale)")
        obj = self.store.get(rdef, namespace, name)
        if obj is None:
            raise ApiFailure(404, "NotFound", f'{rdef.plural} "{name}" not found')
        if method in ("PUT", "PATCH"):
            replicas = ((body or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                message = f'Scale "{name}" is invalid: spec.replicas: must be a non-negative int'
                raise ApiFailure(422, "Invalid", message)
            obj = self.store.patch(rdef, namespace, name, "merge", {"spec": {"replicas": replicas}}, manager)
        elif method != "GET":
            raise ApiFailure(405, "MethodNotAllowed", f"{method} on /scale")
        labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        meta = obj["metadata"]
        return 200, {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta},
            "spec": {"replicas": int((obj.get("spec") or {}).get("replicas") or 0)},
            "status": {
                "replicas": int((obj.get("status") or {}).get("replicas") or 0),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            },
        }

    def _validate(
        self, rdef: RDef, body: dict[str, Any], params: dict[str, str], *, apply: bool, whole: bool = False
    ) -> None:
        """Answer like the pretended version's API server: undeclared fields in an apply are a typed-patch
        failure (HTTP 500 on 1.28), in a create/update with fieldValidation=Strict a 400; other schema
        violations of the resulting object a 422."""
        if not self.validate:
            return
        where = f'{rdef.kind} "{(body.get("metadata") or {}).get("name", "")}"'
        crd = self.store.crd_schemas.get((rdef.group, rdef.plural))
        if crd is not None:
            undeclared, other = crd_undeclared(crd, body), []
        else:
            undeclared, other = schema_problems({**body, "apiVersion": rdef.api_version, "kind": rdef.kind},
                                                self.store.version)  # fmt: skip
        if whole:
            undeclared = []  # defaults and server fields of the merged object were checked as the body
        if undeclared and apply:
            raise ApiFailure(500, "InternalError", f"{TYPED_PATCH} ({rdef.api_version}, Kind={rdef.kind}) "
                             f"{'; '.join(undeclared)}")  # fmt: skip
        if undeclared and params.get("fieldValidation") == "Strict":
            raise ApiFailure(400, "BadRequest", f"strict decoding error: {'; '.join(undeclared)}")
        if other and (whole or not apply):
            raise ApiFailure(422, "Invalid", f"{where} is invalid: {'; '.join(other)}")

    async def _watch(
        self, raw: Any, group: str, plural: str, namespace: str | None, params: dict[str, str]
    ) -> aiohttp.web.StreamResponse:
        store = self.store
        rdef = store.rdef(group, plural)
        labels, fields = params.get("labelSelector"), params.get("fieldSelector")
        since = params.get("resourceVersion") or ""
        timeout = float(params.get("timeoutSeconds") or 300)
        bookmarks = params.get("allowWatchBookmarks") == "true"
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        try:
            await response.prepare(raw)
        except ConnectionResetError:
            return response  # the client gave up before the stream started (a starved double)

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
                    self.expired_watches.append(plural)
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
                wait = min(remaining, self.bookmark_seconds) if bookmarks else remaining
                try:
                    rv, kind, obj = await asyncio.wait_for(sub.queue.get(), timeout=wait)
                except TimeoutError:
                    if bookmarks and asyncio.get_running_loop().time() < deadline:
                        # A BOOKMARK carries only the current resourceVersion: a watcher that resumes from it
                        # skips history it does not need and is less likely to meet 410 Gone.
                        await send("BOOKMARK", {"kind": rdef.kind, "apiVersion": rdef.api_version,
                                                "metadata": {"resourceVersion": str(last)}})  # fmt: skip
                        continue
                    return response
                if kind == END_OF_STREAM:
                    return response
                if rv <= last:
                    continue
                last = rv  # events this watch filters out still move its version (bookmarks report it)
                if visible(obj):
                    await send(kind, obj)
                    sent += 1
        except ConnectionResetError:
            return response  # the client went away: nothing to finish
        finally:
            self.open_watches -= 1
            store.unsubscribe(sub)
            with contextlib.suppress(Exception):
                await response.write_eof()


