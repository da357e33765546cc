"""A watch-fed cache of objects, one informer per kind (as controller-runtime's informers do).

Role: network I/O (one paginated LIST, then one long-lived WATCH per kind, through `KubeClient`). Each
`Informer` keeps {(namespace, name): object} for its kind and label selector: it lists once, then follows the
watch from the list's resourceVersion (bookmarks keep that version fresh), resumes a stream the server ended,
and re-lists only on 410 Gone or a broken connection. Readers look objects up in memory, so the cost of
reading N objects of K kinds is K lists and K watches, not N×K GETs.

`remember(obj)` records an object a write just returned: a reader right after the write sees it even before
its watch event arrives (events carrying an older resourceVersion never replace a newer object).
`by_label(namespace, label, value)` answers from an index per label (built on first use, then kept current),
so finding one app's objects among thousands does not scan them all (client-go's Indexers).
With `strip_managed_fields` the cached copies drop `metadata.managedFields` (controller-runtime's
TransformStripManagedFields): for a reader that never looks at field ownership it is most of each object's size.
Generic: it knows Kubernetes (resourceVersions, 410), not beamkube.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import ApiError, ClusterUnreachable, Forbidden, Gone, NotFound, is_retryable
from beamkube.kube.resources import ResourceType

log = logging.getLogger("beamkube.kube.cache")
Key = tuple[str, str]


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _rv(obj: dict[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:  # resourceVersions are opaque; the API server's are integers, treat others as unknown
        return 0


class Informer:
    def __init__(
        self,
        client: KubeClient,
        rt: ResourceType,
        label_selector: str | None = None,
        namespace: str | None = None,
        *,
        strip_managed_fields: bool = False,
    ) -> None:
        self.client, self.rt, self.label_selector = client, rt, label_selector
        self._keep = without_managed_fields if strip_managed_fields else (lambda obj: obj)
        self.namespace = namespace if rt.namespaced else None  # None: all namespaces
        self.objects: dict[Key, dict[str, Any]] = {}
        self._indexes: dict[str, dict[tuple[str, str], set[Key]]] = {}  # label → (namespace, value) → keys
        self.synced = asyncio.Event()
        self.version = ""
        self.lists = 0
        self.watches = 0
        self.available = True  # False: the API is not served or RBAC forbids listing it; readers fall back

    def key(self, obj: dict[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        return (str(meta.get("namespace") or "") if self.rt.namespaced else "", str(meta.get("name")))

    def get(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.objects.get(((namespace or "") if self.rt.namespaced else "", name))

    def remember(self, obj: dict[str, Any]) -> None:
        key = self.key(obj)
        held = self.objects.get(key)
        if held is None or _rv(obj) >= _rv(held):
            self._put(key, self._keep(obj))

    def by_label(self, namespace: str | None, label: str, value: str) -> list[dict[str, Any]]:
        """Objects in `namespace` whose `label` is `value` (cluster-scoped kinds: namespace ignored)."""
        index = self._indexes.get(label)
        if index is None:
            index = self._indexes[label] = {}
            for key, obj in self.objects.items():
                self._index_one(index, label, key, obj)
        scope = (namespace or "") if self.rt.namespaced else ""
        return [self.objects[k] for k in sorted(index.get((scope, value), ()))]

    @staticmethod
    def _index_one(index: dict[tuple[str, str], set[Key]], label: str, key: Key, obj: dict[str, Any]) -> None:
        found = ((obj.get("metadata") or {}).get("labels") or {}).get(label)
        if found is not None:
            index.setdefault((key[0], str(found)), set()).add(key)

    def _unindex(self, key: Key) -> None:
        held = self.objects.get(key)
        if held is None:
            return
        labels = (held.get("metadata") or {}).get("labels") or {}
        for label, index in self._indexes.items():
            if label in labels:
                index.get((key[0], str(labels[label])), set()).discard(key)

    def _put(self, key: Key, obj: dict[str, Any]) -> None:
        self._unindex(key)
        self.objects[key] = obj
        for label, index in self._indexes.items():
            self._index_one(index, label, key, obj)

    def _drop(self, key: Key) -> None:
        self._unindex(key)
        self.objects.pop(key, None)

    async def _list(self) -> None:
        items, self.version = await self.client.list(
            self.rt, self.namespace, label_selector=self.label_selector, all_namespaces=self.namespace is None
        )
        self.lists += 1
        self.objects = {self.key(item): self._keep(item) for item in items}
        self._indexes = {}  # rebuilt on first use from the fresh state
        self.synced.set()

    async def run(self) -> None:
        """List, then watch forever (cancel the task to stop)."""
        failures = 0
        try:
            await self._list()
        except (NotFound, Forbidden) as exc:
            # Not served (a CRD not installed) or not ours to list: this kind is simply not cached.
            log.info("not caching %s: %s", self.rt.plural, exc)
            self.available = False
            self.synced.set()
            return
        while True:
            try:
                self.watches += 1
                events = 0
                async for kind, obj in self.client.watch(
                    self.rt,
                    self.namespace,
                    resource_version=self.version,
                    label_selector=self.label_selector,
                    timeout_seconds=300,
                    all_namespaces=self.namespace is None,
                ):
                    failures = 0
                    events += 1
                    self.version = str((obj.get("metadata") or {}).get("resourceVersion") or self.version)
                    if kind == "BOOKMARK":
                        continue
                    if kind == "DELETED":
                        self._drop(self.key(obj))
                    else:
                        self.remember(obj)
                if events == 0:
                    await asyncio.sleep(0.05)  # a server that ends streams at once is not hammered
            except Gone:
                await self._list()  # our version was compacted away: a fresh, complete state
            except (ClusterUnreachable, ApiError) as exc:
                if isinstance(exc, ApiError) and not is_retryable(exc):
                    raise
                failures += 1
                log.warning("watch %s: %s", self.rt.plural, exc)
                await asyncio.sleep(min(30.0, 0.2 * 2**failures))
                with contextlib.suppress(ClusterUnreachable, ApiError):
                    await self._list()


class InformerSet:
    """The informers of one kind: one for all namespaces, or one per watched namespace."""

    def __init__(self, informers: list[Informer]) -> None:
        self.members = informers

    def _for(self, namespace: str | None) -> Informer | None:
        for informer in self.members:
            if informer.namespace is None or informer.namespace == namespace:
                return informer
        return None

    @property
    def available(self) -> bool:
        return all(informer.available for informer in self.members)

    def get(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        informer = self._for(namespace)
        return informer.get(namespace, name) if informer is not None else None

    def remember(self, obj: dict[str, Any]) -> None:
        informer = self._for((obj.get("metadata") or {}).get("namespace"))
        if informer is not None:
            informer.remember(obj)

    def values(self) -> list[dict[str, Any]]:
        return [obj for informer in self.members for obj in informer.objects.values()]

    def by_label(self, namespace: str | None, label: str, value: str) -> list[dict[str, Any]]:
        informer = self._for(namespace)
        return informer.by_label(namespace, label, value) if informer is not None else []


class Cache:
    """Informers for several kinds (in `namespaces`, or all); `start()` returns once every initial list is in."""

    def __init__(
        self,
        client: KubeClient,
        kinds: list[tuple[ResourceType, str | None]],
        namespaces: tuple[str, ...] = (),
        *,
        strip_managed_fields: bool = False,
    ) -> None:
        self.informers: dict[tuple[str, str], InformerSet] = {}
        for rt, selector in kinds:
            scopes: list[str | None] = list(namespaces) if namespaces and rt.namespaced else [None]
            members = [Informer(client, rt, selector, ns, strip_managed_fields=strip_managed_fields) for ns in scopes]
            self.informers[(rt.api_version, rt.kind)] = InformerSet(members)
        self._tasks: list[asyncio.Task[None]] = []

    def informer(self, api_version: str, kind: str) -> InformerSet | None:
        """The informers of a kind, or None when that kind is not cached (then read it from the server)."""
        found = self.informers.get((api_version, kind))
        return found if found is not None and found.available else None

    def _all(self) -> list[Informer]:
        return [i for group in self.informers.values() for i in group.members]

    async def start(self) -> None:
        self._tasks = [asyncio.ensure_future(i.run()) for i in self._all()]
        synced = asyncio.ensure_future(asyncio.gather(*(i.synced.wait() for i in self._all())))
        while not synced.done():
            pending: list[asyncio.Future[Any]] = [synced, *(t for t in self._tasks if not t.done())]
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failed = [t for t in self._tasks if t.done() and not t.cancelled() and t.exception() is not None]
            if failed:
                synced.cancel()
                await self.stop()
                failed[0].result()  # raises the informer's error (e.g. the API server unreachable)
        # An informer that found its kind not served or not allowed has ended: that kind is read directly.

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def requests(self) -> int:
        """LIST and WATCH requests made so far (for the benchmark)."""
        return sum(i.lists + i.watches for i in self._all())
