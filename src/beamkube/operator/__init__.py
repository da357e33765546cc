"""The beamkube operator: the `BeamApp` custom resource and the controller that reconciles it.

Role: package marker. `crd` (pure) builds the CustomResourceDefinition from the spec models, `status` (pure)
computes conditions, `reconcile` and `runner` talk to the API server (network I/O), `manifests` (pure)
renders the operator's own Deployment and RBAC.
"""

GROUP = "beamkube.io"
VERSION = "v1alpha1"
KIND = "BeamApp"
PLURAL = "beamapps"
SINGULAR = "beamapp"
CRD_NAME = f"{PLURAL}.{GROUP}"

__all__ = ["CRD_NAME", "GROUP", "KIND", "PLURAL", "SINGULAR", "VERSION"]
