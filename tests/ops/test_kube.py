"""The client layer and the API double it is tested against: config, retries, SSA semantics, watches."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from beamkube.kube import KubeClient, Target
from beamkube.kube.errors import (
    AlreadyExists,
    Conflict,
    FieldManagerConflict,
    KubeConfigError,
    NotFound,
    ServerError,
    TooManyRequests,
)
from beamkube.kube.resources import resource_for
from beamkube.kube.retry import RetryPolicy
from tests.support.apidouble import Running, serve

CM = resource_for("v1", "ConfigMap")
FAST = RetryPolicy(attempts=4, base=0.001, cap=0.01)


@pytest.fixture()
def bare(tmp_path: Path) -> Iterator[Running]:
    with serve(tmp_path, controller=False) as running:
        yield running


def run(running: Running, work: Callable[[KubeClient], Awaitable[Any]], **kw: Any) -> Any:
    async def main() -> Any:
        client = KubeClient.connect(Target(kubeconfig=running.kubeconfig), policy=kw.get("policy", FAST))
        async with client:
            return await work(client)

    return asyncio.run(main())


def cm(name: str, data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", **meta},
        "data": data or {"a": "1"},
    }


def test_create_get_conflicts_and_errors_are_typed(bare: Running):
    async def work(c: KubeClient) -> None:
        created = await c.create(cm("x"))
        meta = created["metadata"]
        assert meta["uid"] and meta["resourceVersion"] and meta["generation"] == 1 and meta["creationTimestamp"]
        assert bare.api.log[-1].status == 201
        with pytest.raises(AlreadyExists):
            await c.create(cm("x"))
        with pytest.raises(NotFound) as missing:
            await c.get(CM, "nope")
        assert str(missing.value) == 'get ConfigMap default/nope: not found (404): configmaps "nope" not found'
        with pytest.raises(NotFound):  # namespace from the URL must exist, as on a real server
            await c.create({**cm("y"), "metadata": {"name": "y", "namespace": "ghost"}})
        stale = {**created, "data": {"a": "2"}}
        stale["metadata"] = {**meta, "resourceVersion": "1"}
        with pytest.raises(Conflict):
            await c.patch(CM, "x", stale)

    run(bare, work)
    # 409 stale-version conflicts are retried (attempts=4) before giving up.
    assert len([r for r in bare.api.log if r.method == "PATCH"]) == 4


def test_retries_429_and_5xx_then_gives_up_with_one_line(bare: Running):
    bare.api.fail(429, "GET", "configmaps", times=2, retry_after=0.001)
    bare.api.fail(503, "GET", "configmaps", times=1)

    async def ok(c: KubeClient) -> int:
        await c.list(CM, "default")
        return c.retries

    assert run(bare, ok) == 3
    bare.api.fail(500, "GET", "configmaps", times=10)

    async def fails(c: KubeClient) -> None:
        await c.list(CM, "default")

    with pytest.raises(ServerError) as err:
        run(bare, fails)
    assert "\n" not in str(err.value) and "server error (500)" in str(err.value)
    bare.api.faults.clear()
    bare.api.fail(429, "GET", "configmaps", times=10)
    with pytest.raises(TooManyRequests):
        run(bare, fails)


def test_server_side_apply_owns_fields_removes_dropped_ones_and_reports_conflicts(bare: Running):
    async def work(c: KubeClient) -> None:
        first = await c.apply(cm("s", {"a": "1", "b": "2"}, labels={"l": "1"}))
        assert bare.api.log[-1].status == 201  # apply created the missing object
        same = await c.apply(cm("s", {"a": "1", "b": "2"}, labels={"l": "1"}))
        assert same["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]  # no-op
        dropped = await c.apply(cm("s", {"a": "1"}, labels={"l": "1"}))
        assert dropped["data"] == {"a": "1"}  # b no longer applied by beamkube → removed
        other = KubeClient(c.http, "default", policy=FAST, field_manager="someone")
        await other.apply(cm("s", {"c": "3"}))
        with pytest.raises(FieldManagerConflict) as conflict:
            await other.apply(cm("s", {"a": "9"}))
        assert conflict.value.fields == [".data.a"]
        assert 'conflict with "beamkube"' in conflict.value.message
        assert len([r for r in bare.api.log if r.method == "PATCH" and r.params["fieldManager"] == "someone"]) == 2
        forced = await other.apply(cm("s", {"a": "9", "c": "3"}), force=True)
        assert forced["data"] == {"a": "9", "c": "3"}
        managers = {m["manager"]: m["fieldsV1"] for m in forced["metadata"]["managedFields"]}
        assert managers["someone"]["f:data"] == {"f:a": {}, "f:c": {}}
        assert "f:data" not in managers["beamkube"]  # ownership moved with force
        dry = await c.apply(cm("s", {"a": "1"}), dry_run=True, force=True)
        assert dry["data"]["a"] == "1"
        assert (await c.get(CM, "s"))["data"]["a"] == "9"  # dry run stored nothing

    run(bare, work)


def test_label_and_field_selectors_and_namespaces_are_honoured(bare: Running):
    bare.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})

    async def work(c: KubeClient) -> None:
        await c.create(cm("a", labels={"app": "x", "tier": "web"}))
        await c.create(cm("b", labels={"app": "x"}))
        await c.create({**cm("c"), "metadata": {"name": "c", "namespace": "other", "labels": {"app": "x"}}})
        names = lambda items: sorted(i["metadata"]["name"] for i in items[0])  # noqa: E731
        assert names(await c.list(CM, "default", label_selector="app=x")) == ["a", "b"]
        assert names(await c.list(CM, "default", label_selector="app=x,tier!=web")) == ["b"]
        assert names(await c.list(CM, "default", label_selector="tier in (web,db)")) == ["a"]
        assert names(await c.list(CM, "default", label_selector="!tier,app")) == ["b"]
        assert names(await c.list(CM, "default", field_selector="metadata.name=b")) == ["b"]
        assert names(await c.list(CM, all_namespaces=True, label_selector="app=x")) == ["a", "b", "c"]

    run(bare, work)


def test_watch_replays_from_a_version_and_times_out(bare: Running):
    async def work(c: KubeClient) -> list[tuple[str, str]]:
        _, version = await c.list(CM, "default")
        await c.create(cm("w1"))
        await c.delete(CM, "w1")
        seen = [
            (kind, obj["metadata"]["name"])
            async for kind, obj in c.watch(CM, "default", resource_version=version, timeout_seconds=1)
        ]
        return seen

    assert run(bare, work) == [("ADDED", "w1"), ("DELETED", "w1")]


def test_delete_cascades_to_dependents_and_is_idempotent(bare: Running):
    async def work(c: KubeClient) -> None:
        owner = await c.create(cm("owner"))
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
        await c.create(cm("child", ownerReferences=[ref]))
        assert await c.delete(CM, "owner") is True
        assert await c.get_or_none(CM, "child") is None
        assert await c.delete(CM, "owner") is False

    run(bare, work)


def write_config(path: Path, contexts: dict[str, str], current: str) -> Path:
    import yaml

    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [{"name": n, "cluster": {"server": url}} for n, url in contexts.items()],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": n, "context": {"cluster": n, "user": "u", "namespace": f"ns-{n}"}} for n in contexts
                ],
            }
        )
    )
    return path


def test_kubeconfig_precedence_contexts_and_merging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from beamkube.kube.config import resolve

    a = write_config(tmp_path / "a", {"one": "https://one.example:6443"}, "one")
    b = write_config(tmp_path / "b", {"two": "https://two.example:6443", "one": "https://shadowed:1"}, "two")
    monkeypatch.setenv("KUBECONFIG", f"{a}{os.pathsep}{b}")
    chosen = resolve(Target())
    assert (chosen.context, chosen.namespace) == ("one", "ns-one")  # first file's current-context
    two = resolve(Target(context="two"), default_namespace="shop")
    assert (two.context, two.namespace, two.config.cluster.server) == ("two", "shop", "https://two.example:6443")
    assert resolve(Target(context="one")).config.cluster.server == "https://one.example:6443"  # first wins
    assert resolve(Target(context="two", namespace="cli"), "shop").namespace == "cli"
    assert resolve(Target(kubeconfig=b)).context == "two"  # --kubeconfig beats KUBECONFIG
    with pytest.raises(KubeConfigError, match="Context 'nope' not found"):
        resolve(Target(context="nope"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(KubeConfigError, match="kubeconfig not found"):
        resolve(Target())


def test_in_cluster_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import beamkube.kube.config as config

    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("tok")
    (sa / "namespace").write_text("apps")
    (sa / "ca.crt").write_text("")
    monkeypatch.setattr(config, "SERVICE_ACCOUNT_DIR", sa)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    chosen = config.resolve(Target())
    assert chosen.source == "in-cluster service account"
    assert (chosen.namespace, chosen.config.cluster.server) == ("apps", "https://10.0.0.1:443")
    with pytest.raises(KubeConfigError, match="--context needs a kubeconfig"):
        config.resolve(Target(context="x"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(KubeConfigError, match="no cluster configured"):
        config.resolve(Target())


def test_cli_start_does_not_import_the_kubernetes_client():
    code = (
        "import sys, beamkube.cli.main\n"
        "heavy = [m for m in ('lightkube', 'httpx2', 'beamkube.kube', 'beamkube.ops') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_retry_policy_is_capped_and_honours_retry_after():
    policy = RetryPolicy(base=0.5, cap=4.0, jitter=0.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=60.0) == 4.0


def test_double_in_the_callers_event_loop_serves_discovery_and_custom_resources(tmp_path: Path):
    import kmock

    from tests.support.apidouble import ApiDouble

    async def main() -> None:
        async with ApiDouble() as api, kmock.Server(api) as server:
            api.register("beamkube.io", "v1alpha1", "BeamApp", "beamapps")
            http = server.client
            core = await (await http.get("/api/v1")).json()
            assert core["groupVersion"] == "v1" and "pods" in {r["name"] for r in core["resources"]}
            group = await (await http.get("/apis/beamkube.io/v1alpha1")).json()
            assert [(r["name"], r["kind"], r["namespaced"]) for r in group["resources"]] == [
                ("beamapps", "BeamApp", True),
                ("beamapps/status", "BeamApp", True),
            ]
            body = {"apiVersion": "beamkube.io/v1alpha1", "kind": "BeamApp", "metadata": {"name": "a"}, "spec": {}}
            created = await http.post("/apis/beamkube.io/v1alpha1/namespaces/default/beamapps", json=body)
            assert created.status == 201
            patched = await http.patch(
                "/apis/beamkube.io/v1alpha1/namespaces/default/beamapps/a/status",
                json={"status": {"phase": "Ready"}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            obj = await patched.json()
            assert obj["status"] == {"phase": "Ready"} and obj["metadata"]["generation"] == 1
            ignored = await http.patch(
                "/apis/beamkube.io/v1alpha1/namespaces/default/beamapps/a",
                json={"status": {"phase": "Lost"}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            assert (await ignored.json())["status"] == {"phase": "Ready"}  # status only via /status

    asyncio.run(main())
