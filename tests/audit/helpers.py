"""Helpers for the audit tests: load fixtures, find objects in them, run the auditor.

Role: test support (reads fixture files).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from beamkube.audit import Finding, Severity, audit_objects

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SEEDS = HERE / "seeds"

_cache: dict[str, list[dict[str, Any]]] = {}


def fixture(name: str) -> list[dict[str, Any]]:
    """A fresh deep copy of fixtures/good-<name>.yaml's objects."""
    if name not in _cache:
        text = (FIXTURES / f"good-{name}.yaml").read_text()
        _cache[name] = [d for d in yaml.safe_load_all(text) if d]
    return copy.deepcopy(_cache[name])


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name):
            return obj
    raise KeyError(f"{kind} {name}")


def drop(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> None:
    objects.remove(find(objects, kind, name))


def workload(objects: list[dict[str, Any]]) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            return obj
    raise KeyError("workload")


def pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = workload(objects)["spec"]["template"]["spec"]
    return spec


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    first: dict[str, Any] = pod(objects)["containers"][0]
    return first


def set_env(objects: list[dict[str, Any]], name: str, value: str | None) -> None:
    """Set (or with None remove) a literal env var on the first container."""
    env = container(objects)["env"]
    env[:] = [e for e in env if e["name"] != name]
    if value is not None:
        env.append({"name": name, "value": value})


def vm_args_map(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            for key in obj.get("data", {}):
                if "vm.args" in key:
                    return obj, key
    raise KeyError("vm.args")


def edit_vm_args(objects: list[dict[str, Any]], drop_prefix: str | None = None, add: str | None = None) -> None:
    cm, key = vm_args_map(objects)
    lines = cm["data"][key].splitlines()
    if drop_prefix is not None:
        lines = [line for line in lines if not line.startswith(drop_prefix)]
    if add is not None:
        lines.append(add)
    cm["data"][key] = "\n".join(lines) + "\n"


def ids(findings: list[Finding]) -> set[str]:
    return {f.rule.id for f in findings}


def audit(objects: list[dict[str, Any]], kube: tuple[int, int] = (1, 33)) -> list[Finding]:
    return audit_objects(objects, kube_version=kube, min_severity=Severity.INFO, strict=True)
