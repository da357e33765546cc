"""Real-world YAML is messy: whatever type a field has, the auditor reports findings, never a traceback.
Every field of the fixtures is replaced, one at a time, with values of the wrong type."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.audit.helpers import audit, fixture

WRONG: list[Any] = [None, "x", 7, True, [], {}, [None], {"x": None}]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from _paths(item, (*path, index))


def _set(root: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        root = root[step]
    root[path[-1]] = value


@pytest.mark.parametrize("baseline", ["better-together", "erlang-kv", "astarte-pairing", "web"])
def test_wrong_types_never_crash(baseline: str) -> None:
    objects = fixture(baseline)
    checked = 0
    for index, obj in enumerate(objects):
        for path in _paths(obj):
            if path[0] in ("apiVersion", "kind"):
                continue
            for number, wrong in enumerate(WRONG):
                if (checked + number) % 6:  # a sixth of the combinations keeps the test within seconds
                    continue
                mutated = copy.deepcopy(objects)
                _set(mutated[index], path, copy.deepcopy(wrong))
                audit(mutated)  # strict: a crash in any rule raises here
            checked += 1
    assert checked > 50


def test_wrong_types_never_crash_the_rules_of_other_kinds() -> None:
    """The same on the fixture cases' own objects (RBAC, CronJob, Job, Ingress, ServiceMonitor, ConfigMap...)."""
    from beamkube.audit import Severity, audit_objects
    from tests.audit.test_cases import CASES, build

    checked = 0
    for case in CASES:
        if "objects" not in case:
            continue
        objects = build(case, "fail")
        for index, obj in enumerate(objects):
            for path in _paths(obj):
                if path[0] in ("apiVersion", "kind"):
                    continue
                for number, wrong in enumerate(WRONG):
                    if (checked + number) % 4:
                        continue
                    mutated = copy.deepcopy(objects)
                    _set(mutated[index], path, copy.deepcopy(wrong))
                    audit_objects(mutated, min_severity=Severity.INFO, strict=True, enable=frozenset({"ALL"}))
                checked += 1
    assert checked > 200
