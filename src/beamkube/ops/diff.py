"""`beamkube diff`: what `deploy` would change, as a unified diff of live vs. server-dry-run objects.

Role: `compute` does network I/O (GET + dry-run apply per object, a prune listing); `clean` and `render_diff`
are pure. Comparing the live object with the *server's* dry-run result (not with the raw rendered dict) makes
defaulted fields (clusterIP, dnsPolicy, ...) cancel out; server-managed fields (managedFields,
resourceVersion, uid, generation, creationTimestamp, status, ...) are stripped from both sides. Secret values
are masked: the diff says a key changed, never what it contains.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from beamkube.engine.apply import stamp
from beamkube.engine.ownership import object_key
from beamkube.engine.prune import find_owned
from beamkube.kube.client import KubeClient
from beamkube.kube.errors import FieldManagerConflict, NotFound
from beamkube.kube.resources import SECRET, describe, resource_of
from beamkube.ops.common import Plan

SERVER_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
SERVER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
    "beamkube.io/applied-hash",  # a digest of the applied object: the rest of the diff already shows the change
)


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without server-set fields, with Secret values replaced by a short digest."""
    import copy

    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            meta.pop("annotations", None)
    if out.get("kind") == "Secret":
        for section in ("data", "stringData"):
            if isinstance(out.get(section), dict):
                out[section] = {
                    k: f"<secret sha256:{hashlib.sha256(str(v).encode()).hexdigest()[:8]}>"
                    for k, v in sorted(out[section].items())
                }
    return out


def _yaml(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    import yaml

    return str(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False)).splitlines(keepends=True)


@dataclass
class DiffResult:
    changes: list[tuple[str, str]] = field(default_factory=list)  # (description, diff text)
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.changed or self.pruned)


def render_diff(description: str, live: dict[str, Any] | None, wanted: dict[str, Any] | None) -> str:
    before = _yaml(clean(live) if live is not None else None)
    after = _yaml(clean(wanted) if wanted is not None else None)
    lines = difflib.unified_diff(before, after, f"live/{description}", f"deploy/{description}", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


async def compute(client: KubeClient, plan: Plan, *, force: bool = False) -> DiffResult:
    result = DiffResult()
    spec = plan.spec
    for rendered in plan.objects:
        obj = stamp(rendered)  # exactly what deploy would apply
        desc = describe(obj)
        meta = obj["metadata"]
        live = await client.get_or_none(resource_of(obj), meta["name"], meta.get("namespace"))
        try:
            wanted = await client.apply(obj, force=force, dry_run=True)
        except FieldManagerConflict as conflict:
            # Show what a forced deploy would do, and say that a plain deploy would stop here.
            wanted = await client.apply(obj, force=True, dry_run=True)
            desc = f"{desc} (conflicts on {', '.join(conflict.fields) or 'fields'}: deploy needs --force-conflicts)"
        except NotFound:
            wanted = obj  # namespace or API missing: the server cannot dry-run; show the rendered object
        text = render_diff(desc, live, wanted)
        if not text:
            result.unchanged += 1
            continue
        (result.created if live is None else result.changed).append(desc)
        result.changes.append((desc, text))
    cookie = await client.get_or_none(SECRET, spec.cookie_secret_name, spec.namespace)
    if cookie is None:
        desc = f"Secret {spec.namespace}/{spec.cookie_secret_name}"
        result.created.append(desc)
        result.changes.append((desc, f"+++ deploy/{desc}\n+ (created by deploy with a random cookie)\n"))
    kept = {object_key(o) for o in plan.objects}
    for stale in await find_owned(client, spec.name, spec.namespace):
        if object_key(stale) not in kept:
            desc = describe(stale)
            result.pruned.append(desc)
            result.changes.append((desc, render_diff(desc, stale, None)))
    return result


def summary(result: DiffResult) -> str:
    return (
        f"{len(result.created)} to create, {len(result.changed)} to change, {len(result.pruned)} to prune, "
        f"{result.unchanged} unchanged"
    )
