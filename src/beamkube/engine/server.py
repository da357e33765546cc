"""Know the server: which Kubernetes it is, and so which version to render for.

Role: network I/O (one GET /version per client, cached by `kube.discovery`). The rendered objects must be
valid for the server they go to: a 1.28 server rejects `lifecycle.preStop.sleep` (1.30+) with a schema error,
so every command that talks to a cluster renders for the server's minor unless `--kube-version` says
otherwise, and refuses a server older than the oldest version beamkube renders for, in one line.
"""

from __future__ import annotations

from beamkube.kube.client import KubeClient
from beamkube.kube.discovery import ServerVersion, server_version
from beamkube.kube.errors import UnsupportedServer


def minimum() -> tuple[int, int]:
    from beamkube.render import MIN_KUBE_VERSION

    return tuple(MIN_KUBE_VERSION)  # type: ignore[return-value]


def check_supported(version: ServerVersion) -> None:
    low = minimum()
    if version.pair < low:
        raise UnsupportedServer(
            f"the cluster runs Kubernetes {version} ({version.git_version}); beamkube needs {low[0]}.{low[1]} or newer"
        )


async def render_version(client: KubeClient, override: tuple[int, int] | None = None) -> tuple[int, int]:
    """The Kubernetes version to render for: `override` (--kube-version) or the server's own minor."""
    version = await server_version(client)
    check_supported(version)
    return override or version.pair
