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
    def workloads_main_first(self) -> list[dict[str, Any]]:
        """The workloads with the main one first, then by name (the order status and rollback report them)."""
        main = self.workload["metadata"]["name"]
        return sorted(self.workloads, key=lambda w: (w["metadata"]["name"] != main, w["metadata"]["name"]))

    @property
    def workload(self) -> dict[str, Any]:
        named = [o for o in self.workloads if o["metadata"]["name"] == self.spec.name]
        return (named or self.workloads)[0]

    @property
    def selector(self) -> str:
        """Label selector of the app's main BEAM pods (the main workload's selector)."""
        return _selector(self.workload["spec"]["selector"]["matchLabels"])

    def selector_of(self, name: str) -> str:
        """Label selector of workload `name`'s pods (the main workload's when `name` is not one of them)."""
        chosen = next((w for w in self.workloads if w["metadata"]["name"] == name), self.workload)
        return _selector(chosen["spec"]["selector"]["matchLabels"])

    @property
    def nodes_selector(self) -> str:
        """Label selector of every BEAM pod of the app across its process types: the labels that all workload
        selectors share (`rpc --all` must reach the worker nodes too, not only the web ones)."""
        selectors = [dict(w["spec"]["selector"]["matchLabels"]) for w in self.workloads]
        shared = {k: v for k, v in selectors[0].items() if all(s.get(k) == v for s in selectors[1:])}
        return _selector(shared)

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == "Job"]

    def before_gate(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if rank(str(o.get("kind"))) < GATE_RANK]

    def after_gate(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if rank(str(o.get("kind"))) > GATE_RANK]


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def build_plan(spec: AppSpec, kube_version: tuple[int, int]) -> Plan:
    from beamkube.render import render

    rendered = render(spec, kube_version=kube_version)
    return Plan(spec=spec, objects=rendered.objects, workload_kind=rendered.workload_kind, kube_version=kube_version)
