"""ConfigMaps (vm.args and plain env) and the optional cookie Secret.

Role: pure (no I/O). The cookie is never rendered from a predictable value: without `--cookie-file` render
only references the Secret, which `deploy` or the operator creates once with random bytes.
"""

from __future__ import annotations

import base64
from typing import Any

from beamkube.render.beam import SSL_DIST_CONF, VM_ARGS_FILE, ssl_dist_conf, vm_args
from beamkube.render.names import Names, metadata
from beamkube.spec.model import AppSpec


def beam_config_map(spec: AppSpec, names: Names, more_vm_args: dict[str, str] | None = None) -> dict[str, Any]:
    """vm.args (and the TLS options); `more_vm_args` adds keys for processes (`<process>.<file>`) and Jobs with
    their own resources (`job-<name>.<file>`), whose +S and busy-wait flags follow their own CPU limit."""
    data = {VM_ARGS_FILE[spec.release.flavour]: vm_args(spec, names)}
    data.update(more_vm_args or {})
    tls = ssl_dist_conf(spec)
    if tls is not None:
        data[SSL_DIST_CONF] = tls
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, names.config_map, "config"),
        "data": dict(sorted(data.items())),
    }


def env_config_map(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    if not spec.env:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, names.env_config_map, "config"),
        "data": dict(sorted(spec.env.items())),
    }


def cookie_secret(spec: AppSpec, names: Names, cookie: bytes, origin: str = "user-supplied") -> dict[str, Any]:
    """The cookie Secret: from a value the user supplied (GitOps, `--cookie-file`) or, with origin
    "generated", from a CSPRNG by deploy/the operator. Its data is never logged."""
    secret_meta = metadata(spec, names.cookie_secret, "cookie")
    secret_meta["annotations"] = {"beamkube.io/cookie": origin}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": secret_meta,
        "type": "Opaque",
        "immutable": True,
        "data": {spec.cluster.cookieKey: base64.b64encode(cookie).decode()},
    }


def generated_cookie_secret(spec: AppSpec, cookie: bytes) -> dict[str, Any]:
    """The Secret deploy/the operator create once (never rendered to output)."""
    return cookie_secret(spec, Names.of(spec), cookie, origin="generated")
