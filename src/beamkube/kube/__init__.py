"""The Kubernetes client layer: configuration, an async dict-based client with retries, discovery, watch, cache.

Role: network I/O. Importing this package is cheap (lightkube and httpx are imported when a client is built),
but the CLI still imports it only inside cluster commands. Entry points for other layers (deploy, operator):

- `KubeClient.connect(Target(kubeconfig=, context=, namespace=), default_namespace=)` → async client
- `beamkube.kube.client.list_objects(client, api_version, kind, namespace=None)`: every object of a kind
- `beamkube.kube.discovery`: `server_version`, `served_kinds`; `beamkube.kube.cache.Cache`: watch-fed informers
- `beamkube.kube.watch.follow`: list + watch that survives ended streams and 410 Gone
- `beamkube.kube.errors`: the error hierarchy (all `BeamkubeError`s)
"""

from beamkube.kube.client import FIELD_MANAGER, KubeClient
from beamkube.kube.config import Target

__all__ = ["FIELD_MANAGER", "KubeClient", "Target"]
