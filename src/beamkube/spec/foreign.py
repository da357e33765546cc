"""Recognise documents that are not a beamkube spec but are often passed as one.

Role: pure. A Kubernetes manifest, a BeamApp custom resource or a Helm chart's values file fails validation
with a list of unknown fields; naming what the file is (and what to do with it) is the useful message.
"""

from __future__ import annotations

import re
from typing import Any

# Keys of the values.yaml that `helm create` writes.
HELM_KEYS = frozenset(
    {
        "replicaCount", "nameOverride", "fullnameOverride", "serviceAccount", "podAnnotations", "podLabels",
        "podSecurityContext", "securityContext", "imagePullSecrets", "service", "nodeSelector", "tolerations",
        "affinity", "volumeMounts", "volumes",
    }
)  # fmt: skip


def recognise_foreign(data: dict[str, Any]) -> str | None:
    """A one-line explanation when `data` is a known non-spec document, else None."""
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if isinstance(kind, str) and re.fullmatch(r"[A-Z][A-Za-z0-9]{0,62}", kind):
        if kind == "BeamApp" and isinstance(data.get("spec"), dict):
            return (
                "is a BeamApp custom resource, not a beamkube spec; its spec: section is one "
                "(copy that into beamkube.yaml, or kubectl apply the resource for the operator)"
            )
        version = f" ({api_version})" if isinstance(api_version, str) and api_version else ""
        return (
            f"is a Kubernetes {kind} manifest{version}, not a beamkube spec; "
            "check it with beamkube audit, or start a spec with beamkube init"
        )
    image = data.get("image")
    helm_image = isinstance(image, dict) and ("repository" in image or "tag" in image)
    # Only keys that are not also spec fields count (a spec has imagePullSecrets, serviceAccount, volumes too).
    from beamkube.spec.model import AppSpec

    if helm_image or len((HELM_KEYS - set(AppSpec.__struct_fields__)) & set(data)) >= 2:
        return (
            "looks like a Helm chart's values.yaml, not a beamkube spec; "
            "a spec needs name and image (a reference like ghcr.io/acme/app:1.2.3), see beamkube init"
        )
    return None
