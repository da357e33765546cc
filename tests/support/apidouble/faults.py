"""Scripted faults, the request log and URL parsing of the API double.

Role: test support (pure).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

# --- faults and the request log ----------------------------------------------------------------------


@dataclass
class Fault:
    status: int
    method: str | None = None
    plural: str | None = None
    name: str | None = None
    times: int = 1
    reason: str = ""
    message: str = "injected fault"
    retry_after: float | None = None
    commit: bool = False  # perform the request, then answer with the error (a lost response)
    hits: int = 0
    dry_run: bool | None = None  # None: any request; False: only real writes; True: only dry runs

    def matches(self, method: str, plural: str | None, name: str | None, dry_run: bool = False) -> bool:
        return (
            self.times > 0
            and (self.dry_run is None or self.dry_run == dry_run)
            and (self.method is None or self.method.upper() == method)
            and (self.plural is None or self.plural == plural)
            and (self.name is None or self.name == name)
        )


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    params: dict[str, str]
    plural: str | None
    namespace: str | None
    name: str | None
    subresource: str | None
    content_type: str
    status: int
    at: float = 0.0  # time.monotonic() when the request arrived (benchmarks: requests over time)
    seconds: float = 0.0  # time spent answering it (a watch: until its stream started)

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    @property
    def dry_run(self) -> bool:
        return self.params.get("dryRun") == "All"


_PATH = re.compile(
    r"^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?"
    r"(?:/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?)?$"
)


def parse_path(path: str) -> tuple[str, str, str | None, str | None, str | None, str | None] | None:
    """(group, version, namespace, plural, name, subresource) of a resource URL, or None."""
    m = _PATH.match(path)
    if not m:
        return None
    group, version = ("", "v1") if m.group("cv") else (m.group("g"), m.group("v"))
    ns, plural, name, sub = m.group("ns"), m.group("plural"), m.group("name"), m.group("sub")
    if ns is not None and plural is None:
        # /api/v1/namespaces/foo is the Namespace object "foo", not a namespace scope.
        return group, version, None, "namespaces", ns, None
    if plural == "namespaces" and ns is None and name is not None and sub is not None and group == "":
        return group, version, None, "namespaces", name, sub
    return group, version, ns, plural, name, sub



@dataclass(frozen=True)
class _Body:
    raw: bytes

    def json(self) -> Any:
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            return yaml.safe_load(self.raw)  # apply bodies may be YAML


