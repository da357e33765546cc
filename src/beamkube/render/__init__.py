"""The renderer: `AppSpec` → Kubernetes objects (plain dicts) in apply order.

Role: pure (no I/O, no Kubernetes client): the CLI, `deploy` and the operator all call `render`. The package
itself imports nothing heavy, so light users of its modules (the auditor uses `render.qos`) do not pay for
the spec models: `render`, `Rendered` and friends are loaded from `render.assemble` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from beamkube.render.assemble import (
        DEFAULT_KUBE_VERSION,
        MIN_KUBE_VERSION,
        Rendered,
        parse_kube_version,
        render,
    )
    from beamkube.render.order import sort_objects

_LAZY = {
    "DEFAULT_KUBE_VERSION": "beamkube.render.assemble",
    "MIN_KUBE_VERSION": "beamkube.render.assemble",
    "Rendered": "beamkube.render.assemble",
    "parse_kube_version": "beamkube.render.assemble",
    "render": "beamkube.render.assemble",
    "sort_objects": "beamkube.render.order",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'beamkube.render' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["DEFAULT_KUBE_VERSION", "MIN_KUBE_VERSION", "Rendered", "parse_kube_version", "render", "sort_objects"]
