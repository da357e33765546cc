"""Process types (`processes:`): one view of the spec per process, so each process's workload, HPA, PDB,
VPA and vm.args render through the same code as a single-process app.

Role: pure (no I/O). A view is the spec with the process's replicas, resources, autoscaler, budget, probes
and command in place of the top-level ones (unset process fields inherit them; `false` turns an inherited
autoscaler or budget off), and `web` kept only for the process that serves it. The views share the app's
name, so every process joins the same headless Service, cookie and BEAM cluster; their `Names` carry the
process, whose label (`beamkube.io/process`) the workload selectors add.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names
from beamkube.spec.model import AppSpec
from beamkube.spec.rules import serves_web


def process_view(spec: AppSpec, name: str) -> AppSpec:
    process = spec.processes[name]
    update: dict[str, Any] = {
        "replicas": spec.replicas if process.replicas is None else process.replicas,
        "resources": process.resources or spec.resources,
        "probes": process.probes or spec.probes,
        "web": spec.web if serves_web(name, process.web) else None,
    }
    if process.autoscaling is not None:
        update["autoscaling"] = process.autoscaling or None
    if process.disruption is not None:
        update["disruption"] = process.disruption or None
    if process.command is not None:
        update["release"] = spec.release.model_copy(update={"command": list(process.command)})
    return spec.model_copy(update=update)


def views(spec: AppSpec) -> list[tuple[AppSpec, Names]]:
    """(view, names) per process in spec order; the spec itself for a single-process app."""
    if not spec.processes:
        return [(spec, Names.of(spec))]
    return [(process_view(spec, name), Names.of(spec, name)) for name in spec.processes]
