"""The plan: the desired objects for one app on one server version, split at the migration gate.

Role: pure (rendering only). Objects are in apply order (`beamkube.kinds`); everything ranked after the Job
rank (workloads and what targets them: HPA, VPA, CronJob, Ingress) waits until the migration Jobs completed.
An app may have several workloads (process types); `workload` is the one named after the app, or the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beamkube.kinds import GATE_RANK, WORKLOAD_KINDS, rank
from beamkube.spec.model import AppSpec


@dataclass(frozen=True)
class Plan:
    spec: AppSpec
    objects: list[dict[str, Any]]
    workload_kind: str
    kube_version: tuple[int, int] = (0, 0)

    @property
    def workloads(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") in WORKLOAD_KINDS]

    @property
    def workload(self) -> dict[str, Any]:
        named = [o for o in self.workloads if o["metadata"]["name"] == self.spec.name]
        return (named or self.workloads)[0]

    @property
    def selector(self) -> str:
        """Label selector of the app's main BEAM pods (the main workload's selector)."""
        labels = self.workload["spec"]["selector"]["matchLabels"]
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == "Job"]

    def before_gate(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if rank(str(o.get("kind"))) < GATE_RANK]

    def after_gate(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if rank(str(o.get("kind"))) > GATE_RANK]


def build_plan(spec: AppSpec, kube_version: tuple[int, int]) -> Plan:
    from beamkube.render import render

    rendered = render(spec, kube_version=kube_version)
    return Plan(spec=spec, objects=rendered.objects, workload_kind=rendered.workload_kind, kube_version=kube_version)
