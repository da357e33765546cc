"""Every name the rendered objects share, computed in one place so they can never disagree.

Role: pure (no I/O). The chain the second talk relies on lives here: pod name → pod DNS name → BEAM node
name → headless Service → StatefulSet `serviceName`, for any namespace and cluster domain.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from beamkube.spec.extras import ObjectMeta
from beamkube.spec.model import AppSpec, Identity

MANAGED_BY = "beamkube"
CONFIG_DIR = "/etc/beamkube"
TLS_DIR = "/etc/beamkube/tls"
TMP_DIR = "/tmp"
RELEASE_TMP = "/tmp/release"
CRASH_DUMP = "/tmp/erl_crash.dump"
CONTAINER = "beam"
# The pod label that tells one process type's pods from another's (only with `processes:`).
PROCESS_LABEL = "beamkube.io/process"


@dataclass(frozen=True)
class Names:
    app: str
    namespace: str
    release: str
    headless: str
    web_service: str
    config_map: str
    env_config_map: str
    service_account: str
    cookie_secret: str
    cluster_domain: str
    # With `processes:`: the process this view renders.
    process: str | None = None

    @classmethod
    def of(cls, spec: AppSpec, process: str | None = None) -> Names:
        return cls(
            app=spec.name,
            namespace=spec.namespace,
            release=spec.release_name,
            headless=f"{spec.name}-headless",
            web_service=spec.name,
            config_map=f"{spec.name}-beam",
            env_config_map=f"{spec.name}-env",
            service_account=spec.serviceAccount.existing or spec.name,
            cookie_secret=spec.cookie_secret_name,
            cluster_domain=spec.clusterDomain,
            process=process,
        )

    @property
    def workload(self) -> str:
        """The workload's name: `<app>`, or `<app>-<process>` with process types."""
        return self.app if self.process is None else f"{self.app}-{self.process}"

    @property
    def headless_fqdn(self) -> str:
        """The headless Service's DNS name (the first talk's SVC_NAME.NAMESPACE.svc.cluster.local)."""
        return f"{self.headless}.{self.namespace}.svc.{self.cluster_domain}"

    def srv_query(self, port_name: str = "dist") -> str:
        """The SRV name Kubernetes publishes for a named port of the headless Service."""
        return f"_{port_name}._tcp.{self.headless_fqdn}"

    def pod_name(self, ordinal: int) -> str:
        """A StatefulSet pod's name (deterministic: `<workload>-<ordinal>`, the workload being `<app>` or,
        with process types, `<app>-<process>`)."""
        return f"{self.workload}-{ordinal}"

    def pod_fqdn(self, ordinal: int) -> str:
        return f"{self.pod_name(ordinal)}.{self.headless_fqdn}"

    def stable_node(self, ordinal: int) -> str:
        """The BEAM node name of StatefulSet pod `ordinal`."""
        return f"{self.release}@{self.pod_fqdn(ordinal)}"

    def node_name_env(self, identity: Identity) -> str:
        """RELEASE_NODE as a Kubernetes env value (`$(VAR)` refers to env set earlier in the container)."""
        if identity is Identity.STABLE:
            return f"{self.release}@$(POD_NAME).{self.headless_fqdn}"
        return f"{self.release}@$(POD_IP)"


def selector_labels(spec: AppSpec, component: str = "node", process: str | None = None) -> dict[str, str]:
    """Labels that select the app's BEAM pods (never the version: selectors are immutable); with `process`,
    only that process type's pods (every process's pods share component `node`, which the headless Service
    and the NetworkPolicy select)."""
    labels = {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": spec.name,
        "app.kubernetes.io/name": spec.name,
    }
    if process is not None:
        labels[PROCESS_LABEL] = process
    return labels


def common_labels(spec: AppSpec, component: str | None = None) -> dict[str, str]:
    """`app.kubernetes.io/*` labels on every object, plus the spec's own labels (a new dict each call)."""
    base = _app_labels(tuple(spec.labels.items()), spec.name, spec.image)
    if not component:
        return dict(base)
    labels = dict(base)
    labels["app.kubernetes.io/component"] = component  # over a spec label of that name, as always
    return dict(sorted(labels.items()))


@lru_cache(maxsize=1024)  # ~12 calls per render with the same spec: build the app's labels once
def _app_labels(own: tuple[tuple[str, str], ...], name: str, image: str) -> tuple[tuple[str, str], ...]:
    labels = dict(own)  # sorted once, below
    labels.update(
        {
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": name,
        }
    )
    version = image_version(image)
    if version:
        labels["app.kubernetes.io/version"] = version
    return tuple(sorted(labels.items()))


@lru_cache(maxsize=4096)  # called for every object's labels; an app has one image
def image_version(image: str) -> str | None:
    """The image tag as a label value, or None for untagged/digest-only images."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    tag = last.rsplit(":", 1)[1]
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.")
    return cleaned or None


def priority_class_name(spec: AppSpec) -> str | None:
    """The PriorityClass the pods use: the one the spec names, or the one beamkube creates. A PriorityClass is
    cluster-scoped, so the created one carries the namespace: two apps of the same name must not share it."""
    if spec.priority is None:
        return None
    if spec.priority.className is not None:
        return spec.priority.className
    name = f"{spec.namespace}-{spec.name}-priority"
    if len(name) > 63:  # keep it a DNS label: a digest of the namespace stands in for it
        digest = hashlib.sha256(spec.namespace.encode()).hexdigest()[:8]
        name = f"{spec.name}-{digest}-priority"
    return name


def metadata(
    spec: AppSpec,
    name: str,
    component: str | None = None,
    *,
    extra: ObjectMeta | None = None,
    process: str | None = None,
) -> dict[str, Any]:
    """Metadata for a namespaced object the app owns; `extra` adds the spec's labels/annotations for its group."""
    labels = common_labels(spec, component)
    if extra is not None and extra.labels:
        labels = dict(sorted({**extra.labels, **labels}.items()))
    if process is not None:
        labels = dict(sorted({**labels, PROCESS_LABEL: process}.items()))
    meta: dict[str, Any] = {}
    if extra is not None and extra.annotations:
        meta["annotations"] = dict(sorted(extra.annotations.items()))
    meta.update({"labels": labels, "name": name, "namespace": spec.namespace})
    return meta
