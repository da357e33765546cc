"""The `BeamApp` CustomResourceDefinition, its spec schema generated from the same spec models.

Role: pure (no I/O). msgspec emits JSON Schema (draft 2020-12: `$ref`s, `anyOf` for optional fields,
`additionalProperties: false`, `const`); the API server wants a *structural* OpenAPI v3 schema. The
conversion below inlines every `$ref`, turns `X | None` into `nullable: true`, `int | str` into
`x-kubernetes-int-or-string`, and keeps `x-kubernetes-preserve-unknown-fields` for the one shape OpenAPI
cannot type (a probe that is an object or `false`). The operator still validates with the models, so what the
schema cannot say (cross-field rules) becomes a Degraded condition with the CLI's message.
"""

from __future__ import annotations

import copy
from typing import Any

from beamkube.operator import CRD_NAME, GROUP, KIND, PLURAL, SINGULAR, VERSION
from beamkube.spec.model import NAME_PATTERN
from beamkube.spec.schema import model_json_schema

# Fields of beamkube.yaml that a BeamApp takes from its metadata (or its apiVersion) instead of its spec.
METADATA_FIELDS = ("apiVersion", "name", "namespace")
# JSON Schema keys that carry no meaning for the API server and only bloat the CRD.
_DROPPED_KEYS = frozenset({"title", "$schema", "$id", "$defs"})
APP_NAME_MAX = 40


def spec_schema() -> dict[str, Any]:
    """The structural OpenAPI v3 schema of `BeamApp.spec` (beamkube.yaml without name/namespace/apiVersion)."""
    source = model_json_schema()
    defs: dict[str, Any] = source.get("$defs", {})
    root = {k: v for k, v in source.items() if k not in _DROPPED_KEYS}
    root["properties"] = {k: v for k, v in root["properties"].items() if k not in METADATA_FIELDS}
    root["required"] = [name for name in root.get("required", []) if name not in METADATA_FIELDS]
    return _structural(root, defs)


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    node = _resolve(node, defs)
    if "anyOf" in node:
        return _union(node, defs)
    out: dict[str, Any] = {}
    for key in sorted(node):
        value = node[key]
        if key in _DROPPED_KEYS:
            continue
        if key == "additionalProperties" and isinstance(value, bool):
            # `false` is implied by pruning; `true` is spelled x-kubernetes-preserve-unknown-fields.
            if value:
                out["x-kubernetes-preserve-unknown-fields"] = True
            continue
        if key == "properties":
            out[key] = {name: _structural(sub, defs) for name, sub in sorted(value.items())}
        elif key in ("items", "additionalProperties"):
            out[key] = _structural(value, defs)
        elif key == "const":
            out["enum"] = [value]
        elif key == "required":
            if value:
                out[key] = sorted(value)
        elif key == "default":
            if value is not None:
                out[key] = value
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Inline a `$ref`; keys next to it (description, default) win over the referenced definition's."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    merged = {k: v for k, v in target.items() if k not in ("title",)}
    merged.update({k: v for k, v in node.items() if k != "$ref"})
    return _resolve(merged, defs)


def _union(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    # Mappings before constants (`a mapping (...) or `false``), whatever order the generator chose.
    branches = sorted((_resolve(b, defs) for b in node["anyOf"]), key=lambda b: "const" in b or "enum" in b)
    nullable = any(b.get("type") == "null" for b in branches)
    rest = [b for b in branches if b.get("type") != "null"]
    outer = {k: v for k, v in node.items() if k != "anyOf"}
    types = {b.get("type") for b in rest}
    if len(rest) == 1:
        merged = {**rest[0], **outer}
        out = _structural(merged, defs)
    elif types == {"integer", "string"}:
        # The one shape the API server accepts with types inside anyOf (like IntOrString in core types).
        out = _structural(outer, defs)
        out["x-kubernetes-int-or-string"] = True
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if isinstance(out.get("default"), bool):
            del out["default"]
    else:
        # e.g. a probe: an object or `false`. OpenAPI cannot type this; the models check it in the operator.
        out = _structural(outer, defs)
        out["x-kubernetes-preserve-unknown-fields"] = True
        if "description" not in out:
            shapes = " or ".join(_shape(b) for b in rest)
            out["description"] = f"{shapes} (checked by the operator, which reports mistakes as Degraded)."
    if nullable:
        out["nullable"] = True
        if out.get("default") is None:
            out.pop("default", None)
    return dict(sorted(out.items()))


def _shape(branch: dict[str, Any]) -> str:
    if "const" in branch:
        return f"`{str(branch['const']).lower()}`"
    if "enum" in branch:
        return " or ".join(f"`{str(value).lower()}`" for value in branch["enum"])
    if branch.get("type") == "object":
        fields = ", ".join(sorted(branch.get("properties", {})))
        return f"a mapping ({fields})"
    return f"a {branch.get('type', 'value')}"


def status_schema() -> dict[str, Any]:
    condition = {
        "type": "object",
        "required": ["status", "type"],
        "properties": {
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "message": {"type": "string", "maxLength": 32768},
            "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
            "reason": {"type": "string", "maxLength": 1024},
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "type": {"type": "string", "maxLength": 316},
        },
    }
    return {
        "type": "object",
        "description": "Observed state, written by the beamkube operator.",
        "properties": {
            "conditions": {
                "type": "array",
                "description": "Ready, Progressing and Degraded.",
                "items": condition,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            "completedJobs": {
                "type": "array",
                "description": "Migration Jobs (named by a digest of their template) that completed: never re-run, "
                "even after the TTL controller removed them.",
                "items": {"type": "string"},
            },
            "nodes": {
                "type": "array",
                "description": "Expected BEAM node names (a pattern for stateless apps, one per pod for stable).",
                "items": {"type": "string"},
            },
            "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
            "readyReplicas": {"type": "integer", "format": "int32", "minimum": 0},
            "replicas": {"type": "integer", "format": "int32", "minimum": 0},
            "workload": {"type": "string", "description": "Kind/name of the app's workload."},
        },
    }


def beamapp_schema() -> dict[str, Any]:
    """The whole openAPIV3Schema of a BeamApp (apiVersion, kind, metadata, spec, status)."""
    return {
        "type": "object",
        "description": "A BEAM (Erlang/Elixir/Gleam) application, rendered and applied by the beamkube operator. "
        "metadata.name is the app name, metadata.namespace its namespace; spec is beamkube.yaml without them.",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(),
            "status": status_schema(),
        },
        "x-kubernetes-validations": [
            {
                # Rendered names like `<app>-headless` and StatefulSet pod names must stay within 63.
                "rule": f"self.metadata.name.size() <= {APP_NAME_MAX} && self.metadata.name.matches('{NAME_PATTERN}')",
                "message": f"metadata.name must be a DNS label of at most {APP_NAME_MAX} characters "
                f"matching {NAME_PATTERN}",
            }
        ],
    }


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    {"name": "Replicas", "type": "integer", "jsonPath": ".status.readyReplicas", "description": "Ready pods."},
    {"name": "Desired", "type": "integer", "jsonPath": ".spec.replicas", "priority": 1},
    {"name": "Workload", "type": "string", "jsonPath": ".status.workload"},
    {"name": "Image", "type": "string", "jsonPath": ".spec.image", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def beamapp_crd() -> dict[str, Any]:
    """The CustomResourceDefinition `beamapps.beamkube.io` (apiextensions.k8s.io/v1)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "labels": {"app.kubernetes.io/managed-by": "beamkube", "app.kubernetes.io/part-of": "beamkube"},
            "name": CRD_NAME,
        },
        "spec": {
            "group": GROUP,
            "names": {
                "categories": ["beamkube"],
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "shortNames": ["bapp"],
                "singular": SINGULAR,
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": beamapp_schema()},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                }
            ],
        },
    }


def beamapp_from_spec(data: dict[str, Any]) -> dict[str, Any]:
    """A BeamApp object for a beamkube.yaml mapping: name/namespace move to metadata, the rest is the spec."""
    spec = {k: copy.deepcopy(v) for k, v in data.items() if k not in METADATA_FIELDS}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": data.get("name"), "namespace": data.get("namespace", "default")},
        "spec": spec,
    }


def spec_from_beamapp(body: dict[str, Any]) -> dict[str, Any]:
    """The beamkube.yaml mapping a BeamApp stands for (the inverse of `beamapp_from_spec`)."""
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    data: dict[str, Any] = {"name": meta.get("name"), "namespace": meta.get("namespace") or "default"}
    data.update({k: v for k, v in spec.items() if k not in METADATA_FIELDS})
    return data
