"""Which cluster to talk to: kubeconfig (KUBECONFIG, --kubeconfig, --context) or in-cluster service account.

Role: reads files and environment variables (no network). lightkube parses kubeconfig files and builds the
authenticated HTTP client (tokens, client certificates, exec plugins, CA bundles); this module decides the
precedence, merges a colon-separated KUBECONFIG like kubectl (first file wins for each name) and turns every
configuration problem into a one-line `KubeConfigError`.

Precedence: `--kubeconfig` > `KUBECONFIG` > `~/.kube/config` > in-cluster (`KUBERNETES_SERVICE_HOST` and the
mounted service-account token). Namespace: `--namespace` > the caller's default (the spec's namespace) > the
context's namespace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.kube.errors import KubeConfigError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class Target:
    """What the user asked for on the command line."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class Resolved:
    """The chosen configuration: lightkube's SingleConfig (opaque here), its context name and namespace."""

    config: Any
    context: str
    namespace: str
    source: str


def _kubeconfig_paths(target: Target) -> list[Path]:
    if target.kubeconfig is not None:
        return [target.kubeconfig]
    env = os.environ.get("KUBECONFIG", "")
    if env.strip():
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    default = Path("~/.kube/config").expanduser()
    return [default] if default.is_file() else []


def _merge(paths: list[Path]) -> tuple[dict[str, Any], Path]:
    import yaml

    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    first: Path | None = None
    for path in paths:
        if not path.is_file():
            continue
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise KubeConfigError(f"kubeconfig {path}: cannot be read ({exc.__class__.__name__})") from None
        if not isinstance(doc, dict):
            raise KubeConfigError(f"kubeconfig {path}: not a kubeconfig mapping")
        first = first or path
        for section in ("clusters", "contexts", "users"):
            known = {entry.get("name") for entry in merged[section]}
            for entry in doc.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") not in known:
                    merged[section].append(entry)
        if not merged.get("current-context") and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    if first is None:
        listed = ", ".join(str(p) for p in paths)
        raise KubeConfigError(f"kubeconfig not found: {listed}")
    return merged, first


def resolve(target: Target, default_namespace: str | None = None) -> Resolved:
    """Pick the cluster configuration; raises KubeConfigError with what to fix."""
    from lightkube.config.kubeconfig import KubeConfig
    from lightkube.core.exceptions import ConfigError

    paths = _kubeconfig_paths(target)
    try:
        if paths:
            merged, first = _merge(paths)
            kubeconfig = KubeConfig.from_dict(merged, fname=first)
            source = str(first)
        elif os.environ.get("KUBERNETES_SERVICE_HOST") and (SERVICE_ACCOUNT_DIR / "token").is_file():
            if target.context:
                raise KubeConfigError("--context needs a kubeconfig; running in-cluster there is none")
            kubeconfig = KubeConfig.from_service_account(SERVICE_ACCOUNT_DIR)
            source = "in-cluster service account"
        else:
            raise KubeConfigError(
                "no cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a pod with a service account"
            )
        single = kubeconfig.get(context_name=target.context)
    except ConfigError as exc:
        raise KubeConfigError(f"kubeconfig: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise KubeConfigError(f"kubeconfig: malformed ({exc.__class__.__name__}: {exc})") from None
    if single is None or single.user is None:
        # lightkube needs a user entry even for anonymous access; say so instead of failing later.
        raise KubeConfigError(f"kubeconfig context {target.context or '(current)'} has no user entry")
    namespace = target.namespace or default_namespace or single.namespace
    return Resolved(config=single, context=single.context_name, namespace=namespace, source=source)
