"""An async Kubernetes API client for plain-dict objects, with retries and one error hierarchy.

Role: network I/O. lightkube supplies the configuration and the authenticated HTTP client (kubeconfig, TLS,
tokens, exec plugins, in-cluster account); this class speaks the REST API with JSON dicts because everything
beamkube handles is a rendered dict (including CRD kinds such as VerticalPodAutoscaler) and `diff` needs the
server's JSON unchanged.

Every call retries with capped exponential backoff on 409 races, 429 (honouring Retry-After), 5xx and dropped
connections; what remains is raised as a `beamkube.kube.errors` class. Request and response bodies are never
logged or put in messages (Secrets pass through here).

Usable from any asyncio code (the operator) and from sync code through `asyncio.run` (the CLI):

    async with KubeClient.connect(Target(context="kind-dev"), default_namespace="shop") as client:
        live = await client.get_or_none(DEPLOYMENT, "shop", "shop")
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

from beamkube.kube.config import Resolved, Target, resolve
from beamkube.kube.errors import ApiError, ClusterUnreachable, Gone, NotFound, error_class, is_retryable
from beamkube.kube.resources import ResourceType, describe, resource_for, resource_of
from beamkube.kube.retry import DEFAULT, RetryPolicy

FIELD_MANAGER = "beamkube"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

Sleep = Callable[[float], Awaitable[None]]


def _status_error(status: int, reason_phrase: str, body: bytes, content_type: str, what: str) -> ApiError:
    reason, message, causes = reason_phrase, "", []
    if content_type.startswith("application/json"):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("kind") == "Status":
            reason = str(doc.get("reason") or reason)
            message = str(doc.get("message") or "")
            details = doc.get("details") or {}
            causes = [c for c in details.get("causes") or [] if isinstance(c, dict)]
    cls = error_class(status, reason, causes, message)
    return cls(status, reason, message, what=what, causes=causes)


class KubeClient:
    """Async client bound to one cluster and a default namespace. Close it (or use `async with`)."""

    def __init__(
        self,
        http: Any,
        namespace: str,
        *,
        context: str = "",
        server: str = "",
        policy: RetryPolicy | None = None,
        field_manager: str = FIELD_MANAGER,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.namespace = namespace
        self.context = context
        self.server = server
        self.policy = policy or DEFAULT
        self.field_manager = field_manager
        self._sleep = sleep
        self.retries = 0  # how many retries happened (for progress lines and tests)

    @classmethod
    def connect(
        cls,
        target: Target | None = None,
        *,
        default_namespace: str | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> KubeClient:
        """Resolve `target` (KUBECONFIG, --context, in-cluster) and build a client; no request is made yet."""
        import httpx2
        from lightkube.config import client_adapter

        resolved: Resolved = resolve(target or Target(), default_namespace)
        params = client_adapter.ConnectionParams(timeout=httpx2.Timeout(timeout))
        try:
            http = client_adapter.AsyncClient(resolved.config, params)
        except Exception as exc:  # certificate files, bad CA data: one line, not a traceback
            from beamkube.kube.errors import KubeConfigError

            raise KubeConfigError(f"kubeconfig context {resolved.context}: {exc}") from None
        server = str(resolved.config.cluster.server)
        return cls(http, resolved.namespace, context=resolved.context, server=server, policy=policy)

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- transport ------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """One request with retries; returns the decoded JSON body (or {} when empty)."""
        import httpx2

        content = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = content_type
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.request(method, path, params=params or {}, content=content, headers=headers)
            except httpx2.TransportError as exc:
                if attempt >= self.policy.attempts:
                    where = self.server or "the API server"
                    raise ClusterUnreachable(f"{what}: cannot reach {where} ({exc.__class__.__name__})") from None
                self.retries += 1
                await self._sleep(self.policy.delay(attempt))
                continue
            if response.status_code < 400:
                return response.json() if response.content else {}
            error = _status_error(
                response.status_code,
                response.reason_phrase,
                response.content,
                response.headers.get("content-type", ""),
                what,
            )
            if not is_retryable(error) or attempt >= self.policy.attempts:
                raise error
            self.retries += 1
            await self._sleep(self.policy.delay(attempt, _retry_after(response.headers.get("retry-after"))))

    # --- verbs ----------------------------------------------------------------------------------

    async def get_path(self, path: str, *, what: str) -> dict[str, Any]:
        """GET a non-resource path (`/version`, discovery documents) with the same retries and errors."""
        result: dict[str, Any] = await self._send("GET", path, what=what)
        return result

    def _ns(self, rt: ResourceType, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if rt.namespaced else None

    async def get(self, rt: ResourceType, name: str, namespace: str | None = None) -> dict[str, Any]:
        ns = self._ns(rt, namespace)
        what = f"get {rt.kind} {ns + '/' if ns else ''}{name}"
        result: dict[str, Any] = await self._send("GET", rt.object_path(name, ns), what=what)
        return result

    async def get_or_none(self, rt: ResourceType, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return await self.get(rt, name, namespace)
        except NotFound:
            return None

    async def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        all_namespaces: bool = False,
        page_size: int = 500,
    ) -> tuple[list[dict[str, Any]], str]:
        """All items (following `continue` tokens, `page_size` per request) and the list's resourceVersion."""
        ns = None if all_namespaces else self._ns(rt, namespace)
        params: dict[str, str] = {"limit": str(page_size)}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        items: list[dict[str, Any]] = []
        version = ""
        while True:
            doc = await self._send("GET", rt.collection_path(ns), params=params, what=f"list {rt.plural}")
            for item in doc.get("items") or []:
                # List items omit apiVersion/kind; put them back so callers can treat items as objects.
                item.setdefault("apiVersion", rt.api_version)
                item.setdefault("kind", rt.kind)
                items.append(item)
            meta = doc.get("metadata") or {}
            version = str(meta.get("resourceVersion") or "")
            if not meta.get("continue"):
                return items, version
            params["continue"] = str(meta["continue"])

    async def apply(self, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply `obj` with this client's field manager; returns the object the server holds."""
        rt = resource_of(obj)
        meta = obj.get("metadata") or {}
        ns = self._ns(rt, meta.get("namespace"))
        params = {"fieldManager": self.field_manager}
        if force:
            params["force"] = "true"
        if dry_run:
            params["dryRun"] = "All"
        result: dict[str, Any] = await self._send(
            "PATCH",
            rt.object_path(str(meta["name"]), ns),
            params=params,
            body=obj,
            content_type=APPLY_PATCH,
            what=f"apply {describe(obj)}",
        )
        return result

    async def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST `obj`; raises AlreadyExists when it exists (never retried into an overwrite)."""
        rt = resource_of(obj)
        ns = self._ns(rt, (obj.get("metadata") or {}).get("namespace"))
        params = {"fieldManager": self.field_manager}
        if dry_run:
            params["dryRun"] = "All"
        result: dict[str, Any] = await self._send(
            "POST", rt.collection_path(ns), params=params, body=obj, what=f"create {describe(obj)}"
        )
        return result

    async def patch(
        self,
        rt: ResourceType,
        name: str,
        body: Any,
        *,
        namespace: str | None = None,
        patch_type: str = MERGE_PATCH,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        ns = self._ns(rt, namespace)
        result: dict[str, Any] = await self._send(
            "PATCH",
            rt.object_path(name, ns, subresource),
            params={"fieldManager": field_manager or self.field_manager},
            body=body,
            content_type=patch_type,
            what=f"patch {rt.kind} {ns + '/' if ns else ''}{name}",
        )
        return result

    async def delete(
        self,
        rt: ResourceType,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str = "Background",
        dry_run: bool = False,
    ) -> bool:
        """Delete; False when it was already gone (so a retried or re-run delete is not an error)."""
        ns = self._ns(rt, namespace)
        params = {"propagationPolicy": propagation}
        if dry_run:
            params["dryRun"] = "All"
        try:
            await self._send(
                "DELETE",
                rt.object_path(name, ns),
                params=params,
                what=f"delete {rt.kind} {ns + '/' if ns else ''}{name}",
            )
        except NotFound:
            return False
        return True

    async def watch(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 60,
        all_namespaces: bool = False,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """One watch stream: yields (type, object) until the server ends it; raises Gone on 410.

        This is the raw stream; `beamkube.kube.watch.follow` re-lists and resumes around it.
        """
        import httpx2

        ns = None if all_namespaces else self._ns(rt, namespace)
        params = {"watch": "true", "timeoutSeconds": str(timeout_seconds), "allowWatchBookmarks": "true"}
        if resource_version:
            params["resourceVersion"] = resource_version
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        what = f"watch {rt.plural}"
        timeout = httpx2.Timeout(10.0, read=timeout_seconds + 10.0)
        try:
            async with self.http.stream("GET", rt.collection_path(ns), params=params, timeout=timeout) as response:
                if response.status_code >= 400:
                    body = await response.aread()
                    raise _status_error(
                        response.status_code,
                        response.reason_phrase,
                        body,
                        response.headers.get("content-type", ""),
                        what,
                    )
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind = str(event.get("type", ""))
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        code = int(obj.get("code") or 500)
                        raise error_class(code, str(obj.get("reason") or ""), [], str(obj.get("message") or ""))(
                            code, str(obj.get("reason") or ""), str(obj.get("message") or ""), what=what
                        )
                    yield kind, obj
        except httpx2.TransportError as exc:
            raise ClusterUnreachable(f"{what}: stream broke ({exc.__class__.__name__})") from None


async def list_objects(
    client: KubeClient, api_version: str, kind: str, namespace: str | None = None
) -> list[dict[str, Any]]:
    """Every object of a kind, in `namespace` or (None) in all namespaces: the generic listing for callers that
    know only apiVersion/kind (e.g. `audit --cluster`). Raises UnknownKind for a kind nobody can address."""
    rt = resource_for(api_version, kind)
    items, _ = await client.list(rt, namespace, all_namespaces=namespace is None)
    return items


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


__all__ = ["APPLY_PATCH", "FIELD_MANAGER", "JSON_PATCH", "MERGE_PATCH", "Gone", "KubeClient", "list_objects"]
