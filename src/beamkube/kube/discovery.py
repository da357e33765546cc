"""What the API server is and serves: `/version` and API discovery, read once per client.

Role: network I/O (through `KubeClient.get_path`). Results are cached on the client object, so a command or an
operator process asks each question once. Generic: nothing here knows about beamkube's objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from beamkube.kube.client import KubeClient
from beamkube.kube.errors import KubeError, NotFound


@dataclass(frozen=True)
class ServerVersion:
    major: int
    minor: int
    git_version: str

    @property
    def pair(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_version(doc: dict[str, object]) -> ServerVersion:
    """`/version` → ServerVersion. Managed clusters report minors such as "28+"; the digits are what count."""
    git = str(doc.get("gitVersion") or "")
    major_text = re.sub(r"\D", "", str(doc.get("major") or ""))
    minor_text = re.sub(r"\D", "", str(doc.get("minor") or ""))
    if not (major_text and minor_text):
        found = re.match(r"v?(\d+)\.(\d+)", git)
        if found is None:
            raise KubeError(f"the API server's /version does not say which Kubernetes it is ({git or 'empty'})")
        major_text, minor_text = found.group(1), found.group(2)
    return ServerVersion(int(major_text), int(minor_text), git or f"v{major_text}.{minor_text}")


async def server_version(client: KubeClient) -> ServerVersion:
    cached: ServerVersion | None = getattr(client, "_server_version", None)
    if cached is None:
        cached = parse_version(await client.get_path("/version", what="read the server version"))
        client._server_version = cached  # type: ignore[attr-defined]
    return cached


MISSING_TTL = 300.0  # seconds before an API found missing is asked about again (a CRD installed meanwhile)


async def served_kinds(client: KubeClient, api_version: str) -> dict[str, str]:
    """{kind: plural} of the top-level resources `api_version` serves; empty when the group/version is not
    served at all (a CRD that is not installed). Served APIs are remembered for the client's life, missing
    ones for MISSING_TTL seconds (a long-running operator notices a CRD installed later)."""
    import time

    cache: dict[str, tuple[float, dict[str, str]]] = client.__dict__.setdefault("_discovery", {})
    if api_version in cache:
        seen, kinds = cache[api_version]
        if kinds or time.monotonic() - seen < MISSING_TTL:
            return kinds
    path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    try:
        doc = await client.get_path(path, what=f"discover {api_version}")
    except NotFound:
        doc = {}
    kinds = {
        str(r.get("kind")): str(r.get("name"))
        for r in doc.get("resources") or []
        if isinstance(r, dict) and "/" not in str(r.get("name", ""))
    }
    cache[api_version] = (time.monotonic(), kinds)
    return kinds
