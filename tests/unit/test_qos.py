"""The first talk's "QoS Summary" table, row by row, plus the quantity parser it relies on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from beamkube.quantity import QuantityError, cpu_millicores, memory_bytes, parse_quantity
from beamkube.render.qos import pod_qos


def container(requests: dict[str, Any] | None = None, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    return {"name": "beam", "resources": resources}


@pytest.mark.parametrize(
    ("requests", "limits", "klass", "affinity"),
    [
        # Requests | Limits | Class | CPU Affinity  (the talk's table)
        (None, None, "BestEffort", False),
        ({"cpu": "250m", "memory": "200Mi"}, None, "Burstable", False),
        ({"cpu": "250m", "memory": "200Mi"}, {"cpu": "500m", "memory": "200Mi"}, "Burstable", False),
        (None, {"cpu": "500m", "memory": "200Mi"}, "Guaranteed", False),  # requests default to limits
        ({"cpu": "500m", "memory": "200Mi"}, {"cpu": "500m", "memory": "200Mi"}, "Guaranteed", False),
        ({"cpu": "2", "memory": "1Gi"}, {"cpu": "2000m", "memory": "1024Mi"}, "Guaranteed", True),
        (None, {"cpu": "1", "memory": "1Gi"}, "Guaranteed", True),
        # limits on memory only: not Guaranteed (cpu must be limited too)
        (None, {"memory": "200Mi"}, "Burstable", False),
    ],
)
def test_talk_qos_table(
    requests: dict[str, Any] | None, limits: dict[str, Any] | None, klass: str, affinity: bool
) -> None:
    qos = pod_qos([container(requests, limits)])
    assert (qos.klass, qos.cpu_affinity) == (klass, affinity)


def test_pod_qos_is_the_weakest_container() -> None:
    guaranteed = container(limits={"cpu": "1", "memory": "1Gi"})
    assert pod_qos([guaranteed, container()]).klass == "Burstable"
    assert pod_qos([guaranteed, guaranteed]).klass == "Guaranteed"
    assert pod_qos([]).klass == "BestEffort"


def test_str_mentions_exclusive_cpus_only_with_affinity() -> None:
    assert str(pod_qos([container(limits={"cpu": "1", "memory": "1Gi"})])) == "Guaranteed (exclusive CPUs)"
    assert str(pod_qos([container(limits={"cpu": "1500m", "memory": "1Gi"})])) == "Guaranteed"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1Gi", Decimal(2**30)),
        ("1k", Decimal(1000)),
        ("1.5", Decimal("1.5")),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_cpu_and_memory_units() -> None:
    assert cpu_millicores("1") == 1000
    assert cpu_millicores("0.1") == 100
    assert cpu_millicores("1.0005") == 1001  # rounded up like the kubelet
    assert memory_bytes("200Mi") == 200 * 2**20
    assert memory_bytes("262144k") == 262_144_000  # the talk's VPA recommendation


@pytest.mark.parametrize("bad", ["", "one", "1Xi", "--1", "1 Gi"])
def test_not_a_quantity(bad: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(bad)
