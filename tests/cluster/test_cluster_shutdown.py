"""`shutdown.drain` and `rollout.mixedVersions` as rendered, and what the audit makes of them.

Role: unit tests of the pure renderer and auditor (no I/O). The real-node behaviour is in
test_cluster_rollout.py; here: the hook's shape (no quoting of the expression, the drain under its own
timeout), that the audit (BK907) counts the drain's timeout into the preStop time, and that the versioned
node basename reaches every place that dials nodes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from beamkube.audit import Severity, audit_objects
from beamkube.cluster_config import Library, cluster_config
from beamkube.render import render
from beamkube.spec.model import AppSpec


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    workload = next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))
    return dict(workload["spec"]["template"]["spec"]["containers"][0])


@pytest.mark.parametrize(("flavour", "verb"), [("mix", "rpc"), ("relx", "eval"), ("distillery", "rpc")])
def test_drain_is_the_release_command_under_its_own_timeout(flavour: str, verb: str) -> None:
    expression = """Kv.drain(%{reason: "it's \\"shutdown\\""})"""
    spec = AppSpec.model_validate({
        "name": "kv", "image": "x/kv:1", "release": {"flavour": flavour}, "terminationGracePeriodSeconds": 60,
        "shutdown": {"drain": {"rpc": expression, "timeoutSeconds": 25}},
    })  # fmt: skip
    command = _container(render(spec).objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    # Positional: the shell never parses it. relx's eval (erl_call -e) needs a form ending with a dot.
    assert command[4:] == ["/app/bin/kv", verb, expression + ("." if flavour == "relx" else "")]
    assert re.fullmatch(r'timeout 25 "\$@"; sleep 5', command[2])


def test_audit_counts_the_drain_timeout_against_the_grace_period() -> None:
    base = {"name": "kv", "image": "x/kv:1", "shutdown": {"drain": {"rpc": "Kv.drain()", "timeoutSeconds": 30}}}
    ok = render(AppSpec.model_validate({**base, "terminationGracePeriodSeconds": 60})).objects
    assert not [f for f in audit_objects(ok) if f.rule.id == "BK907"]
    assert not [f for f in audit_objects(ok) if f.severity is Severity.ERROR]
    tight = render(AppSpec.model_validate({**base, "terminationGracePeriodSeconds": 40})).objects
    hits = [f for f in audit_objects(tight) if f.rule.id == "BK907"]
    assert hits and "5s left for init:stop after a 35s preStop" in hits[0].message


def test_isolate_versions_the_basename_everywhere_a_node_is_dialled() -> None:
    spec = AppSpec.model_validate({
        "name": "kv", "image": "registry/kv:2.3.1", "identity": "stable", "replicas": 2,
        "rollout": {"mixedVersions": "isolate"}, "cluster": {"discovery": "static"},
    })  # fmt: skip
    objects = render(spec).objects
    env = {e["name"]: e.get("value") for e in _container(objects)["env"]}
    assert env["RELEASE_NODE"] == "kv-2_3_1@$(POD_NAME).kv-headless.default.svc.cluster.local"
    vm_args = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "kv-beam")
    text = next(iter(vm_args["data"].values()))
    assert "kv-2_3_1@kv-0.kv-headless" in text and "'kv@" not in text.replace("\\", "")
    assert ':"kv-2_3_1@kv-1.kv-headless.default.svc.cluster.local"' in cluster_config(spec, Library.LIBCLUSTER).snippet
    allow = AppSpec.model_validate({**spec.model_dump(exclude_none=True), "rollout": {"mixedVersions": "allow"}})
    allow_env = {e["name"]: e.get("value") for e in _container(render(allow).objects)["env"]}
    assert allow_env["RELEASE_NODE"].startswith("kv@")
