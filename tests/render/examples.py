"""Shared inputs for the render tests: the bundled examples, loaded and rendered.

Role: test helper; reads the packaged example files (file I/O).
"""

from __future__ import annotations

from typing import Any

from beamkube.examples import example_names, example_path
from beamkube.render import render
from beamkube.spec import load_spec
from beamkube.spec.model import AppSpec

EXAMPLES = example_names()


def example_spec(name: str) -> AppSpec:
    return load_spec(example_path(name))


def rendered(name: str, kube_version: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    spec = example_spec(name)
    if kube_version is None:
        return render(spec).objects
    return render(spec, kube_version=kube_version).objects
