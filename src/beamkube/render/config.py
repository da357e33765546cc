"""ConfigMaps (vm.args and plain env) and the optional cookie Secret.

Role: pure (no I/O). The cookie is never rendered from a predictable value: without `--cookie-file` render
only references the Secret, which `deploy` or the operator creates once with random bytes. A cookie given
with `--cookie-file` also goes, as a salted digest, into the pods' config hash: a new cookie rolls the pods
(the procedure that keeps the cluster whole while it does is in docs/input.md).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
from collections import Counter
from typing import Any

from beamkube.render.beam import SSL_DIST_CONF, VM_ARGS_FILE, beam_config_files, ssl_dist_conf, vm_args
from beamkube.render.names import Names, metadata
from beamkube.spec.model import AppSpec

# erl takes the cookie as an atom (at most 255 characters); shorter than 16 is guessable.
COOKIE_MIN, COOKIE_MAX = 16, 255


def beam_config_map(
    spec: AppSpec, names: Names, more_vm_args: dict[str, str] | None = None, *, app_vm_args: str | None = None
) -> dict[str, Any]:
    """vm.args (and the TLS options); `more_vm_args` adds keys for processes (`<process>.<file>`) and Jobs with
    their own resources (`job-<name>.<file>`), whose +S and busy-wait flags follow their own CPU limit.
    `app_vm_args` is `vm_args(spec, names)` when the caller already has it."""
    own = vm_args(spec, names) if app_vm_args is None else app_vm_args
    data = {VM_ARGS_FILE[spec.release.flavour]: own, **beam_config_files(spec)}
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


def cookie_digest(spec: AppSpec, cookie: bytes) -> str:
    """What the pod template carries of the cookie: a digest salted with the app's identity (the cookie
    itself stays in the Secret)."""
    salt = f"beamkube-cookie\0{spec.namespace}/{spec.name}\0".encode()
    return hashlib.sha256(salt + cookie).hexdigest()


def cookie_problem(cookie: bytes) -> str | None:
    """Why erl or beamkube refuses `cookie`, or None."""
    if not COOKIE_MIN <= len(cookie) <= COOKIE_MAX:
        return f"the cookie has {len(cookie)} characters; it needs at least {COOKIE_MIN} and at most {COOKIE_MAX}"
    if cookie.startswith(b"-") or not all(33 <= b < 127 and b not in b"'\"\\" for b in cookie):
        return "the cookie must be printable ASCII without spaces, quotes, backslashes or a leading '-'"
    return None


def cookie_entropy_bits(cookie: bytes) -> float:
    """Shannon entropy of the cookie's characters times its length: a cheap bound on how guessable it is
    (`aaaaaaaaaaaaaaaa` scores 0, 16 random base64 characters about 56, 44 about 210)."""
    counts = Counter(cookie)
    return -sum(n * math.log2(n / len(cookie)) for n in counts.values()) if cookie else 0.0


def cookie_is_weak(cookie: bytes) -> bool:
    """Few distinct characters, little entropy, or a run like abcdefgh / 12345678."""
    steps = [b - a for a, b in itertools.pairwise(cookie)]
    longest = run = 0
    for previous, step in zip([None, *steps], steps, strict=False):
        run = run + 1 if step == previous and step in (-1, 0, 1) else 1
        longest = max(longest, run)
    return len(set(cookie)) < 8 or cookie_entropy_bits(cookie) < 48 or longest >= 7
