"""Follow objects through list + watch, surviving streams that end, break or answer 410 Gone.

Role: network I/O (through `KubeClient`). `follow` yields a fresh snapshot of the matching objects after the
initial list and after every change. When the watch stream ends it resumes from the last resourceVersion seen;
on 410 Gone (the version is too old) or a broken connection it re-lists and continues, so no change is lost:
the re-list is a complete state, not a delta.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import ApiError, ClusterUnreachable, Gone, is_retryable
from beamkube.kube.resources import ResourceType


async def follow(
    client: KubeClient,
    rt: ResourceType,
    namespace: str | None = None,
    *,
    name: str | None = None,
    label_selector: str | None = None,
    watch_timeout: int = 30,
) -> AsyncGenerator[dict[str, dict[str, Any]], None]:
    """Yield {name: object} snapshots forever (the caller stops iterating, e.g. with a timeout)."""
    field_selector = f"metadata.name={name}" if name else None
    failures = 0
    while True:
        items, version = await client.list(rt, namespace, label_selector=label_selector, field_selector=field_selector)
        state = {str(item["metadata"]["name"]): item for item in items if not name or item["metadata"]["name"] == name}
        yield dict(state)
        while True:
            events = 0
            try:
                async for kind, obj in client.watch(
                    rt,
                    namespace,
                    resource_version=version,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    timeout_seconds=watch_timeout,
                ):
                    failures = 0
                    events += 1
                    meta = obj.get("metadata") or {}
                    version = str(meta.get("resourceVersion") or version)
                    if kind == "BOOKMARK":
                        continue
                    obj_name = str(meta.get("name", ""))
                    if name and obj_name != name:
                        continue  # a server that ignores fieldSelector must not confuse us
                    if kind == "DELETED":
                        state.pop(obj_name, None)
                    else:
                        state[obj_name] = obj
                    yield dict(state)
            except Gone:
                break  # re-list: our resourceVersion has been compacted away
            except (ClusterUnreachable, ApiError) as exc:
                if isinstance(exc, ApiError) and not is_retryable(exc):
                    raise
                failures += 1
                if failures >= client.policy.attempts:
                    raise
                client.retries += 1
                await client._sleep(client.policy.delay(failures))
                break
            # The stream ended normally (server timeout or a dropped watch): resume from `version`, pausing
            # briefly when it carried nothing so a server that closes at once is not hammered.
            if events == 0:
                await client._sleep(0.05)
