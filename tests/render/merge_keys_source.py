"""Derive the strategic-merge list keys from the upstream OpenAPI that `kubernetes-validate` bundles: for
every kind beamkube renders, each list field whose schema says `x-kubernetes-patch-strategy: merge`, with its
`x-kubernetes-patch-merge-key` (None for lists of scalars, merged as sets).

Role: test helper and generator (reads the bundled schemas). `python -m tests.render.merge_keys_source`
prints `src/beamkube/render/merge_keys.py`; tests/render/test_overrides.py checks the shipped table equals
what the schemas of the newest bundled versions say.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate

from beamkube.render.order import KIND_ORDER

SCHEMA_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def definitions(version: str) -> dict[str, Any]:
    path = SCHEMA_ROOT / f"v{version}.0-local" / "_definitions.json"
    defs: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["$defs"]
    return defs


def _root(defs: dict[str, Any], kind: str) -> str | None:
    """The definition of the API version beamkube emits for `kind` (v1, or autoscaling/v2 for the HPA)."""
    for name in sorted(defs):
        if name.endswith((f".v1.{kind}", f".autoscaling.v2.{kind}")) and kind != "HorizontalPodAutoscaler":
            return name
        if name.endswith(f".autoscaling.v2.{kind}"):
            return name
    return None


def _walk(defs: dict[str, Any], schema: dict[str, Any], path: str, out: dict[str, Any], seen: tuple[str, ...]) -> None:
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen or len(seen) > 12:
            return
        _walk(defs, defs[name], path, out, (*seen, name))
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            _walk(defs, sub, path, out, seen)
    for field, sub in sorted((schema.get("properties") or {}).items()):
        child = f"{path}.{field}" if path else field
        strategy = str(sub.get("x-kubernetes-patch-strategy", ""))
        if "merge" in strategy.split(",") and not child.startswith("status."):
            out[child] = sub.get("x-kubernetes-patch-merge-key")
        items = sub.get("items")
        if isinstance(items, dict):
            _walk(defs, items, child, out, seen)
        _walk(defs, sub, child, out, seen)


def merge_keys(version: str) -> dict[str, dict[str, str | None]]:
    defs = definitions(version)
    table: dict[str, dict[str, str | None]] = {}
    for kind in KIND_ORDER:
        root = _root(defs, kind)
        if root is None:
            continue
        out: dict[str, Any] = {}
        _walk(defs, defs[root], "", out, (root,))
        table[kind] = dict(sorted(out.items()))
    return table


def module_text(version: str) -> str:
    lines = [
        f'"""Strategic-merge list keys per kind, generated from the upstream OpenAPI schemas of Kubernetes {version}',
        "(as bundled by kubernetes-validate) by `python -m tests.render.merge_keys_source`.",
        "",
        "Role: data only. A list field listed here is merged item by item on its merge key (None: a list of",
        "scalars, merged as a set); every other list is replaced, as `kubectl patch --type strategic` does.",
        "Do not edit by hand: regenerate, and tests/render/test_overrides.py checks it matches the schemas.",
        '"""',
        "",
        "MERGE_KEYS: dict[str, dict[str, str | None]] = {",
    ]
    for kind, fields in merge_keys(version).items():
        lines.append(f"    {kind!r}: {{")
        lines += [f"        {path!r}: {key!r}," for path, key in fields.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(module_text(sys.argv[1] if len(sys.argv) > 1 else "1.37"))
