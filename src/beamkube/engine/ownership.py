"""What belongs to an app: beamkube's labels, and the cookie Secret created once and never rewritten.

Role: the label helpers are pure; `ensure_cookie_secret` does network I/O (through `KubeClient`). An object is
beamkube's for `app` only when it carries both `app.kubernetes.io/managed-by=beamkube` and
`app.kubernetes.io/instance=<app>`; the generated cookie Secret also carries the annotation `beamkube.io/cookie`
(it is never pruned; `destroy --delete-data` removes it).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import AlreadyExists
from beamkube.kube.resources import SECRET
from beamkube.spec.model import AppSpec

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY = "beamkube"
COOKIE_ANNOTATION = "beamkube.io/cookie"
COOKIE_CHARS = 43  # 43 characters from 62 letters and digits: 256 random bits
_COOKIE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_cookie(nbytes: int = 32) -> str:
    """A random Erlang cookie of letters and digits only (CSPRNG). No `-` or `_`: erl reads
    `-setcookie -abc` as a flag (relx/Distillery pass the cookie on the command line) and invents a
    random cookie instead, so the node could never join its peers."""
    del nbytes  # the length is fixed so every cookie carries the same 256 bits
    return "".join(secrets.choice(_COOKIE_ALPHABET) for _ in range(COOKIE_CHARS))


def app_selector(app: str) -> str:
    """The label selector for everything beamkube manages for `app`."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY},{INSTANCE_LABEL}={app}"


def owned_by_beamkube(obj: dict[str, Any], app: str) -> bool:
    """True only when the object carries both of beamkube's labels for this app."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(INSTANCE_LABEL) == app


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name): the identity prune compares (apiVersion may differ between list and render)."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


async def ensure_cookie_secret(
    client: KubeClient,
    spec: AppSpec,
    *,
    dry_run: bool = False,
    token: Callable[[int], str] = new_cookie,
    read: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]] | None = None,
) -> str:
    """Create the cookie Secret if missing; never overwrite. Returns created | exists | would create.
    `read` looks the Secret up (the operator's cache); default: a GET."""
    from beamkube.render.config import generated_cookie_secret

    name = spec.cookie_secret_name
    if read is not None:
        ref = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": spec.namespace}}
        present = await read(ref) is not None
    else:
        present = await client.get_or_none(SECRET, name, spec.namespace) is not None
    if present:
        return "exists"
    if dry_run:
        return "would create"
    cookie = token(32)
    if len(cookie) < 32:
        raise ValueError("cookie generator returned fewer than 32 characters")
    body = generated_cookie_secret(spec, cookie.encode())
    try:
        # POST, not apply: a create can never replace an existing Secret, even if another deploy raced us
        # (or our own earlier attempt succeeded but its answer was lost and the client retried).
        await client.create(body)
    except AlreadyExists:
        return "exists"
    return "created"
