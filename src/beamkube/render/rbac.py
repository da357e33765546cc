"""ServiceAccount, and for API-based discovery (libcluster's Kubernetes strategy) a least-privilege Role.

Role: pure (no I/O). Only `kubernetes` discovery gets API rights: read Endpoints (what libcluster 3.5 still
lists) and EndpointSlices (what replaces them), in the app's namespace only.
"""

from __future__ import annotations

from typing import Any

from beamkube.render.names import Names, metadata
from beamkube.spec.extras import ObjectMeta
from beamkube.spec.model import AppSpec, Discovery


def service_account(spec: AppSpec, names: Names) -> dict[str, Any] | None:
    """The pods' ServiceAccount (with the spec's annotations, e.g. a cloud IAM role), or None when the spec
    names an existing one (beamkube neither creates nor changes it)."""
    if spec.serviceAccount.existing is not None:
        return None
    extra = ObjectMeta(labels=spec.serviceAccount.labels, annotations=spec.serviceAccount.annotations)
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(spec, names.service_account, "identity", extra=extra),
        "automountServiceAccountToken": spec.effective_discovery is Discovery.KUBERNETES,
    }


def discovery_rbac(spec: AppSpec, names: Names) -> list[dict[str, Any]]:
    if spec.effective_discovery is not Discovery.KUBERNETES:
        return []
    role_name = f"{names.app}-discovery"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata(spec, role_name, "discovery"),
        "rules": [
            {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": metadata(spec, role_name, "discovery"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
        "subjects": [{"kind": "ServiceAccount", "name": names.service_account, "namespace": spec.namespace}],
    }
    return [role, binding]
