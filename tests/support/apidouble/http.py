"""The HTTP face of the store: kmock scaffold, discovery and /version for the pretended version, RBAC, faults.

Role: test support (network I/O on 127.0.0.1 only).
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
import yaml

from tests.support.apidouble.base import ApiFailure, RDef
from tests.support.apidouble.faults import Fault, Logged, _Body, parse_path
from tests.support.apidouble.lifecycle import Store
from tests.support.apidouble.serving import SCALABLE, Serving

# The API server's short names for the kinds kubectl users type (`kubectl get cm`).
SHORT_NAMES = {
    "configmaps": ["cm"], "services": ["svc"], "pods": ["po"], "namespaces": ["ns"], "serviceaccounts": ["sa"],
    "persistentvolumeclaims": ["pvc"], "events": ["ev"], "endpoints": ["ep"], "limitranges": ["limits"],
    "deployments": ["deploy"], "statefulsets": ["sts"], "replicasets": ["rs"], "cronjobs": ["cj"],
    "poddisruptionbudgets": ["pdb"], "horizontalpodautoscalers": ["hpa"], "verticalpodautoscalers": ["vpa"],
    "networkpolicies": ["netpol"], "ingresses": ["ing"], "priorityclasses": ["pc"], "storageclasses": ["sc"],
    "customresourcedefinitions": ["crd", "crds"],
}  # fmt: skip


@attrs.define(kw_only=True)
class ApiDouble(Serving, kmock.KubernetesScaffold):  # type: ignore[misc]
    """The HTTP face of `Store`, plus faults and the request log (see the module docstring)."""

    store: Store = attrs.field(factory=Store)
    faults: list[Fault] = attrs.field(factory=list)
    log: list[Logged] = attrs.field(factory=list)
    watch_drops: list[int] = attrs.field(factory=list)  # each: close the next watch after N events
    watch_gones: int = 0  # answer the next N watches with a 410 Gone ERROR event
    open_watches: int = 0
    expired_watches: list[str] = attrs.field(factory=list)  # plural of each watch answered 410 (history gone)
    ignore_label_selectors: bool = False  # behave like kmock's emulator (a server that widens lists)
    # Subresources served by a plug-in instead of the store, e.g. {"exec": ...} (tests/support/podexec.py).
    subresource_handlers: dict[str, Any] = attrs.field(factory=dict)
    validate: bool = True  # check writes against the pretended version's upstream schemas
    bookmark_seconds: float = 1.0  # idle watches asking for bookmarks get one this often
    # RBAC on demand: None allows everything; a list of PolicyRules (as in a Role/ClusterRole) allows only
    # what they grant, everything else is 403 Forbidden as the real authorizer answers.
    rbac_rules: list[dict[str, Any]] | None = None

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for rdef in self.store.rdefs.values():
            self._declare(rdef)

    def _declare(self, rdef: RDef) -> None:
        self.resources[kmock.resource(rdef.group, rdef.version, rdef.plural)] = kmock.ResourceInfo(
            kind=rdef.kind,
            singular=rdef.kind.lower(),  # kubectl maps `deployment` through singularName
            shortnames=SHORT_NAMES.get(rdef.plural, []),
            namespaced=rdef.namespaced,
            verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
            subresources=[*(["status"] if rdef.status else []), *(["scale"] if rdef.kind in SCALABLE else [])],
        )

    async def _serve_server_version(self, request: Any) -> Any:
        major, minor = self.store.version.split(".")
        return {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{major}.{minor}.0",
            "platform": "linux/amd64",
        }

    async def _serve_version(self, request: Any) -> Any:
        # kmock answers /api/v1 with groupVersion "/v1"; clients expect "v1" for the core group.
        doc = await super()._serve_version(request)
        if isinstance(doc, dict) and str(doc.get("groupVersion", "")).startswith("/"):
            doc["groupVersion"] = doc["groupVersion"][1:]
        return doc

    # scripting API
    def register(
        self,
        group: str,
        version: str,
        kind: str,
        plural: str,
        *,
        namespaced: bool = True,
        status: bool = True,
        schema: dict[str, Any] | None = None,
    ) -> RDef:
        """Serve a custom resource (e.g. the operator's CRD) with the same semantics as built-ins; with its
        structural `schema` (openAPIV3Schema), applies naming undeclared fields are rejected."""
        rdef = RDef(group, version, kind, plural, namespaced, status)
        with self.store.lock:
            self.store.rdefs[(group, plural)] = rdef
            if schema is not None:
                self.store.crd_schemas[(group, plural)] = schema
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
        dry_run: bool | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests with `status` (commit=True: do the write first;
        dry_run=False: only real writes, True: only server-side dry runs)."""
        fault = Fault(status, method, plural, name, times, reason, message, retry_after, commit, dry_run=dry_run)
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

    def end_watches(self) -> None:
        """Close every open watch stream (clients resume from their last resourceVersion)."""
        self.store.end_watches()

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
        denied = self._forbidden(method, group, namespace, plural, name, sub, params)
        content_type = raw.headers.get("Content-Type", "")
        # Without ?fieldManager= the API server names the manager after the User-Agent ("kubectl/v1.33..." →
        # "kubectl"), as `kubectl scale` and `kubectl edit` writes show up in managedFields.
        agent = raw.headers.get("User-Agent", "unknown").split("/")[0] or "unknown"
        arrived = time.monotonic()
        request = _Body(await raw.read())

        def record(status: int) -> None:
            self.log.append(Logged(method, path, params, plural, namespace, name, sub, content_type, status,
                                   arrived, time.monotonic() - arrived))  # fmt: skip

        if denied is not None:
            record(403)
            return self._status(denied)
        is_dry = params.get("dryRun") == "All"
        fault = next((f for f in self.faults if f.matches(method, plural, name, is_dry)), None)
        if fault is not None:
            fault.times -= 1
            fault.hits += 1
            if fault.commit:
                with contextlib.suppress(ApiFailure):
                    self._serve(method, group, namespace or "", plural, name, sub, params, content_type, request, agent)
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
            status, body = self._serve(
                method, group, namespace or "", plural, name, sub, params, content_type, request, agent
            )
        except ApiFailure as exc:
            record(exc.code)
            return self._status(exc)
        record(status)
        return aiohttp.web.json_response(body, status=status, content_type="application/json")

    def _forbidden(
        self,
        method: str,
        group: str,
        namespace: str | None,
        plural: str,
        name: str | None,
        sub: str | None,
        params: dict[str, str],
    ) -> ApiFailure | None:
        if self.rbac_rules is None:
            return None
        if method == "GET":
            verb = "watch" if params.get("watch") in ("true", "1") else ("get" if name else "list")
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())
        resource = f"{plural}/{sub}" if sub else plural
        for rule in self.rbac_rules:
            if (
                any(g in ("*", group) for g in rule.get("apiGroups") or [])
                and any(r in ("*", resource) for r in rule.get("resources") or [])
                and any(v in ("*", verb) for v in rule.get("verbs") or [])
                and (not rule.get("resourceNames") or (name is not None and name in rule["resourceNames"]))
            ):
                return None
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        named = f' "{name}"' if name else ""
        qualified = f"{resource}.{group}" if group else resource
        return ApiFailure(
            403,
            "Forbidden",
            f'{qualified}{named} is forbidden: User "system:serviceaccount:tester" cannot {verb} resource '
            f'"{resource}" in API group "{group}"{where}',
        )

    def _status(self, exc: ApiFailure) -> aiohttp.web.Response:
        # Plain application/json: clients look for exactly that before decoding a Status.
        return aiohttp.web.Response(
            body=json.dumps(exc.status()).encode(), status=exc.code, content_type="application/json"
        )

