"""kopf's credentials, from the same kubeconfig/in-cluster choice lightkube uses (`kube.config.resolve`).

Role: reads token files and runs exec-credential plugins (subprocess I/O) when kopf logs in. Covered: bearer
tokens (inline or a file, re-read on every login since bound tokens rotate), client certificates (inline or
files, relative paths resolved against the kubeconfig like kubectl does), basic auth, the CA bundle, and
`users[].user.exec` plugins (client.authentication.k8s.io ExecCredential: a token or a client certificate;
its expirationTimestamp makes kopf log in again in time). Secrets are never logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _path(resolved: Any, name: str | None) -> str | None:
    """A kubeconfig file path as kubectl reads it: relative to the kubeconfig file."""
    if not name:
        return None
    return str(resolved.config.abs_file(name)) if hasattr(resolved.config, "abs_file") else name


async def exec_credential(user_exec: Any) -> dict[str, Any]:
    """Run an exec-credential plugin (as lightkube does for its own client) and return its `status`."""
    from lightkube.config.client_adapter import async_check_output
    from lightkube.core.exceptions import ConfigError

    from beamkube.kube.errors import KubeConfigError

    env = dict(os.environ)
    for var in user_exec.env or []:
        env[var.name] = var.value
    command = [user_exec.command, *(user_exec.args or [])]
    try:
        output = await async_check_output(command, env=env)
        status = json.loads(output)["status"]
    except (ConfigError, OSError, ValueError, KeyError, TypeError) as exc:
        raise KubeConfigError(f"kubeconfig exec plugin {user_exec.command}: {exc.__class__.__name__}") from None
    if not isinstance(status, dict):
        raise KubeConfigError(f"kubeconfig exec plugin {user_exec.command}: no status in its ExecCredential")
    return status


def kopf_login_from(resolved: Any) -> Callable[..., Any]:
    """A kopf login handler giving kopf what lightkube uses: the same server, CA, user and namespace."""
    import kopf

    async def login(**_: Any) -> Any:
        cluster, user = resolved.config.cluster, resolved.config.user
        token = user.token
        if not token and user.token_file:
            token = Path(_path(resolved, user.token_file) or "").read_text().strip()  # bound tokens rotate
        cert_data, key_data, expiration = user.client_cert_data, user.client_key_data, None
        if not token and getattr(user, "exec", None):
            status = await exec_credential(user.exec)
            token = status.get("token")
            cert_data = status.get("clientCertificateData") or cert_data
            key_data = status.get("clientKeyData") or key_data
            expiration = status.get("expirationTimestamp")
        return kopf.ConnectionInfo(
            server=str(cluster.server),
            ca_path=_path(resolved, cluster.certificate_auth),
            ca_data=cluster.certificate_auth_data,
            insecure=cluster.insecure or None,
            username=user.username,
            password=user.password,
            token=token,
            certificate_path=_path(resolved, user.client_cert),
            certificate_data=cert_data,
            private_key_path=_path(resolved, user.client_key),
            private_key_data=key_data,
            default_namespace=resolved.namespace,
            expiration=_expiry(expiration),
        )

    return login


def _expiry(text: str | None) -> Any:
    if not text:
        return None
    import datetime

    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
