"""The API double checked by clients beamkube did not write (kubectl) and by its own documented contract:
pagination, bookmarks, /scale, immutable fields, RBAC answers."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from beamkube.kube import KubeClient, Target
from beamkube.kube.cache import Informer
from beamkube.kube.errors import Forbidden, Invalid
from beamkube.kube.resources import DEPLOYMENT, resource_for
from tests.support.apidouble import Running

CONFIGMAP = resource_for("v1", "ConfigMap")


def _configmaps(cluster: Running, count: int) -> None:
    for i in range(count):
        cluster.api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "shop"}})


def test_lists_are_paginated_with_continue_tokens(cluster: Running) -> None:
    _configmaps(cluster, 7)

    async def main() -> list[str]:
        async with KubeClient.connect(Target(kubeconfig=cluster.kubeconfig), default_namespace="shop") as client:
            items, _ = await client.list(CONFIGMAP, "shop", page_size=2)
            return [i["metadata"]["name"] for i in items]

    mark = len(cluster.api.log)
    assert asyncio.run(main()) == [f"cm-{i}" for i in range(7)]
    pages = [r for r in cluster.api.log[mark:] if r.plural == "configmaps"]
    assert len(pages) == 4 and sum(1 for r in pages if r.params.get("continue")) == 3


def test_kubectl_pages_through_a_list(cluster: Running, kubectl: str) -> None:
    _configmaps(cluster, 5)
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", "shop", "get", "configmaps", "--chunk-size=2",
         "-o", "name"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"configmap/cm-{i}" for i in range(5)]


def test_idle_watches_get_bookmarks_that_move_the_resource_version(cluster: Running) -> None:
    cluster.api.bookmark_seconds = 0.1

    async def main() -> tuple[str, str]:
        async with KubeClient.connect(Target(kubeconfig=cluster.kubeconfig), default_namespace="shop") as client:
            informer = Informer(client, CONFIGMAP, label_selector="team=a", namespace="shop")
            task = asyncio.ensure_future(informer.run())
            await informer.synced.wait()
            before = informer.version
            _configmaps(cluster, 3)  # changes the informer's selector filters out
            await asyncio.sleep(0.6)
            task.cancel()
            return before, informer.version

    before, after = asyncio.run(main())
    assert int(after) > int(before)  # advanced by bookmarks alone: no event matched


def test_kubectl_scale_goes_through_the_scale_subresource(cluster: Running, shop_spec: Path, cli, kubectl: str):
    assert cli("deploy", str(shop_spec), "--no-wait").code == 0
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", "shop", "scale", "deployment/shop", "--replicas=4"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert any(r.subresource == "scale" for r in cluster.api.log)
    assert cluster.api.get("deployments", "shop", "shop")["spec"]["replicas"] == 4
    managers = {m["manager"] for m in cluster.api.get("deployments", "shop", "shop")["metadata"]["managedFields"]}
    # Named after the User-Agent as a real server does (kubectl's is its binary name, here kubectl.1.33).
    assert any(m.startswith("kubectl") for m in managers), managers
    # replicas now belong to kubectl: deploy stops in preflight (nothing written) until told to take them back.
    refused = cli("deploy", str(shop_spec), "--no-wait")
    assert refused.code == 1 and 'conflict with "kubectl' in refused.err and ".spec.replicas" in refused.err
    assert cli("deploy", str(shop_spec), "--no-wait", "--force-conflicts").code == 0
    assert cluster.api.get("deployments", "shop", "shop")["spec"]["replicas"] == 2


def test_immutable_selector_is_a_422(cluster: Running, shop_spec: Path, cli) -> None:
    assert cli("deploy", str(shop_spec), "--no-wait").code == 0
    live = cluster.api.get("deployments", "shop", "shop")
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "other"}}, "template": live["spec"]["template"]}}  # fmt: skip

    async def main() -> None:
        async with KubeClient.connect(Target(kubeconfig=cluster.kubeconfig), default_namespace="shop") as client:
            await client.apply(body, force=True)

    with pytest.raises(Invalid, match="field is immutable"):
        asyncio.run(main())


def test_rbac_rules_answer_403_like_the_authorizer(cluster: Running) -> None:
    cluster.api.rbac_rules = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]

    async def main() -> None:
        async with KubeClient.connect(Target(kubeconfig=cluster.kubeconfig), default_namespace="shop") as client:
            assert await client.get_or_none(DEPLOYMENT, "nope", "shop") is None  # get is allowed: 404
            with pytest.raises(Forbidden, match='cannot list resource "deployments" in API group "apps"'):
                await client.list(DEPLOYMENT, "shop")

    asyncio.run(main())


def test_the_kubectl_dispatcher_sees_the_pretended_version(cluster: Running, kubectl: str) -> None:
    """/usr/bin/kubectl picks the client matching the server's version: it must read the double's /version."""
    import json
    import shutil

    dispatcher = shutil.which("kubectl") or "/usr/bin/kubectl"
    cluster.api.store.version = "1.28"
    _configmaps(cluster, 1)
    shown = subprocess.run(
        [dispatcher, "--kubeconfig", str(cluster.kubeconfig), "version", "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    server = json.loads(shown.stdout)["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "28")
    got = subprocess.run(
        [dispatcher, "--kubeconfig", str(cluster.kubeconfig), "-n", "shop", "get", "cm", "-o", "name"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["configmap/cm-0"]
