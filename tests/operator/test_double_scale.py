"""The API double and its fake controller at operator scale: a pass costs what changed, not the store's size.

With 1,000 BeamApps the double was starved by its own fake controller, which rebuilt a whole-store index after
every write and examined every workload on every pass (O(N) per event, O(N²) in all). These tests pin the
informer-style behaviour a real kube-controller-manager has: only changed objects and the owners of changed
dependents are looked at.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.support.apidouble import Running, serve


def _deployment(name: str, namespace: str = "apps") -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/app:1.0.0"}]},
            },
        },
    }


def _available(running: Running, name: str) -> bool:
    store = running.api.store
    with store.lock:
        entry = store.entries.get(("apps", "deployments", "apps", name))
        return entry is not None and (entry.obj.get("status") or {}).get("availableReplicas") == 1


def _wait(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _visited(running: Running) -> dict[tuple[str, str, str, str], int]:
    with running.api.store.lock:
        return dict(running.controller.visited)


def test_a_new_workload_does_not_make_the_controller_look_at_settled_ones(tmp_path: Path) -> None:
    with serve(tmp_path, ready_seconds=0.01, garbage_collection=True) as running:
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        settled = [f"old-{i:02d}" for i in range(40)]
        for name in settled:
            running.api.put(_deployment(name))
        _wait(lambda: all(_available(running, n) for n in settled), "40 Deployments available")
        time.sleep(0.3)  # the last status echoes and a garbage-collector pass settle
        before = _visited(running)
        running.api.put(_deployment("new"))
        _wait(lambda: _available(running, "new"), "the new Deployment available")
        time.sleep(0.3)
        after = _visited(running)
    delta = {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)}
    assert delta, "the controller did visit the new Deployment's objects"
    names = {key[3] for key in delta}
    assert all(name.startswith("new") for name in names), f"settled objects were visited: {sorted(names)}"
    assert ("apps", "deployments", "apps", "new") in delta
    assert any(key[1] == "pods" for key in delta) and any(key[1] == "replicasets" for key in delta)
    assert not running.controller.errors


def test_a_pod_change_reaches_its_replicaset_and_deployment(tmp_path: Path) -> None:
    # The owners of a changed dependent are enqueued two levels up (Pod → ReplicaSet → Deployment): deleting a
    # pod the controller does not itself touch still gets it replaced and the Deployment's status right.
    with serve(tmp_path, ready_seconds=0.01, garbage_collection=True) as running:
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        running.api.put(_deployment("web"))
        _wait(lambda: _available(running, "web"), "web available")
        [pod] = running.api.objects("pods", "apps")
        store = running.api.store
        store.delete(store.rdef("", "pods"), "apps", pod["metadata"]["name"])
        old = pod["metadata"]["uid"]
        _wait(lambda: any(p["metadata"]["uid"] != old for p in running.api.objects("pods", "apps")), "a new pod")
        _wait(lambda: _available(running, "web"), "web available again")
        assert not running.controller.errors


def test_a_dependent_whose_owner_is_gone_is_collected(tmp_path: Path) -> None:
    # The garbage collector runs only after something that can leave garbage; an object created naming an owner
    # that does not exist is such a thing (the real collector deletes it too).
    with serve(tmp_path, ready_seconds=0.01, garbage_collection=True) as running:
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        orphan = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "orphan",
                "namespace": "apps",
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "gone", "uid": "no-such-uid"}],
            },
        }
        running.api.put(orphan)
        _wait(lambda: running.api.get("configmaps", "apps", "orphan") is None, "the orphan collected", timeout=5)
