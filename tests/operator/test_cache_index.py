"""The informer's label index (`Informer.by_label`) stays equal to a scan of what the server holds, through
creates, relabels, deletes and a 410 re-list, fed by the API double's real list and watch streams.

The operator's prune of one app reads its children through this index: a scan of every cached object for each
app and kind made a restarted operator's first pass over 1,000 apps quadratic.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from beamkube.kube import KubeClient, Target
from beamkube.kube.cache import Informer
from beamkube.kube.resources import resource_for
from tests.support.apidouble import serve

CONFIGMAP = resource_for("v1", "ConfigMap")
LABEL = "app.kubernetes.io/instance"


def _cm(name: str, namespace: str, app: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if app is not None:
        meta["labels"] = {LABEL: app}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}}


def _server_view(running: Any, namespace: str, app: str) -> list[str]:
    return sorted(
        o["metadata"]["name"]
        for o in running.api.objects("configmaps", namespace)
        if (o["metadata"].get("labels") or {}).get(LABEL) == app
    )


async def _settled(informer: Informer, running: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    want = str(running.api.store.rv)
    while informer.version != want or not informer.synced.is_set():
        assert time.monotonic() < deadline, "the informer did not catch up"
        await asyncio.sleep(0.02)


def test_label_index_follows_the_watch(tmp_path: Path) -> None:
    with serve(tmp_path, controller=False) as running:
        running.api.bookmark_seconds = 0.05  # the informer's version reaches the store's even without events
        for ns in ("a", "b"):
            running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(6):
            running.api.put(_cm(f"x-{i}", "a" if i % 2 else "b", "x" if i < 4 else "y"))

        async def main() -> None:
            async with KubeClient.connect(Target(kubeconfig=running.kubeconfig)) as client:
                informer = Informer(client, CONFIGMAP)
                task = asyncio.ensure_future(informer.run())
                await informer.synced.wait()

                def check() -> None:
                    for ns in ("a", "b"):
                        for app in ("x", "y", "z"):
                            got = sorted(o["metadata"]["name"] for o in informer.by_label(ns, LABEL, app))
                            assert got == _server_view(running, ns, app), (ns, app)

                check()  # the index is built from the initial list
                running.api.put(_cm("x-0", "b", "z"))  # relabelled: leaves x, joins z
                running.api.put(_cm("x-1", "a", None))  # label removed
                running.api.put(_cm("new", "a", "y"))
                store = running.api.store
                store.delete(store.rdef("", "configmaps"), "b", "x-2")
                await _settled(informer, running)
                check()
                # The stream ends and its resume is answered 410: the informer re-lists, the index is rebuilt.
                running.api.gone_watches(1)
                running.api.end_watches()
                running.api.put(_cm("after", "b", "x"))
                await _settled(informer, running)
                check()
                assert informer.lists >= 2
                task.cancel()

        asyncio.run(main())
