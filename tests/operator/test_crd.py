"""The BeamApp CRD: valid for apiextensions v1, structural, and faithful to the spec models."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from beamkube.examples import example_names, example_path
from beamkube.operator.crd import beamapp_crd, beamapp_from_spec, beamapp_schema, spec_from_beamapp, spec_schema
from beamkube.spec.load import parse_spec
from beamkube.spec.model import AppSpec, Cluster
from tests.operator.structural import structural_problems, to_json_schema


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(to_json_schema(beamapp_schema()))


def test_crd_validates_against_apiextensions_v1_schema() -> None:
    crd = beamapp_crd()
    kubernetes_validate.validate(crd, "1.33", strict=True)
    broken = copy.deepcopy(crd)
    broken["spec"]["scope"] = 42
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33", strict=True)


def test_crd_shape_names_subresource_and_printer_columns() -> None:
    crd = beamapp_crd()
    assert crd["metadata"]["name"] == "beamapps.beamkube.io"
    (version,) = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert crd["spec"]["names"]["kind"] == "BeamApp"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert [c for c in columns if c in ("Ready", "Replicas", "Workload", "Age")] == [
        "Ready",
        "Replicas",
        "Workload",
        "Age",
    ]


def test_generated_schema_is_structural() -> None:
    schema = beamapp_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert structural_problems(schema) == []
    nodes = _walk(schema)
    assert not any("$ref" in n or "const" in n or "title" in n for n in nodes)
    assert not any("additionalProperties" in n and "properties" in n for n in nodes)


def test_structural_checker_catches_each_rule() -> None:
    cases: dict[str, dict[str, Any]] = {
        "has no type": {"type": "object", "properties": {"a": {"description": "untyped"}}},
        "$ref is not allowed": {"type": "object", "properties": {"a": {"$ref": "#/x", "type": "string"}}},
        "mutually exclusive": {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}},
        },
        "additionalProperties: false": {
            "type": "object",
            "properties": {"a": {"type": "object", "additionalProperties": False}},
        },
        "type is not allowed inside anyOf": {
            "type": "object",
            "properties": {"a": {"type": "string", "anyOf": [{"type": "string"}, {"type": "integer"}]}},
        },
        "default 'x' does not validate": {"type": "object", "properties": {"a": {"type": "integer", "default": "x"}}},
        "only name and generateName": {
            "type": "object",
            "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}},
        },
        "the root must be of type object": {"type": "string"},
    }
    for expected, schema in cases.items():
        problems = structural_problems(schema)
        assert any(expected in p for p in problems), (expected, problems)
    int_or_string = {
        "type": "object",
        "properties": {"a": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}},
    }
    assert structural_problems(int_or_string) == []


def test_schema_conversions_nullable_int_or_string_preserve_and_defaults() -> None:
    props = spec_schema()["properties"]
    assert "name" not in props and "namespace" not in props and "apiVersion" not in props
    assert spec_schema()["required"] == ["image"]
    assert props["web"]["nullable"] is True and props["web"]["type"] == "object"
    assert props["replicas"]["default"] == 3
    surge = props["rollout"]["properties"]["maxSurge"]
    assert surge["x-kubernetes-int-or-string"] is True and surge["default"] == "50%"
    readiness = props["probes"]["properties"]["readiness"]
    assert readiness["x-kubernetes-preserve-unknown-fields"] is True
    assert readiness["nullable"] is True
    preserved = [n for n in _walk(spec_schema()) if n.get("x-kubernetes-preserve-unknown-fields")]
    # The three probes (object or false) wherever Probes appears (top level, sidecars, init containers,
    # processes), a process's autoscaling/disruption (object or false), and the free-form override patches.
    assert len(preserved) == 3 * 4 + 2 + 2
    discovery = props["cluster"]["properties"]["discovery"]
    assert discovery["enum"] == ["dns", "dnssrv", "kubernetes", "static", "none"]
    assert discovery["nullable"] is True
    assert props["env"]["type"] == "object"
    assert props["env"]["additionalProperties"] == {"type": "string"}


def test_every_model_field_reaches_the_schema() -> None:
    props = spec_schema()["properties"]
    expected = set(AppSpec.__struct_fields__) - {"name", "namespace", "apiVersion"}
    assert set(props) == expected
    assert set(props["cluster"]["properties"]) == set(Cluster.__struct_fields__)


@pytest.mark.parametrize("name", example_names())
def test_each_example_as_a_beamapp_validates(name: str) -> None:
    data = yaml.safe_load(example_path(name).read_text())
    app = beamapp_from_spec(data)
    errors = sorted(_validator().iter_errors(app), key=str)
    assert errors == []
    assert app["metadata"]["name"] == data["name"]
    # round trip: the operator gets back exactly the spec the CLI would load
    assert parse_spec(spec_from_beamapp(app)) == parse_spec(data)


def test_schema_rejects_what_the_models_reject() -> None:
    data = yaml.safe_load(example_path("phoenix-shop").read_text())
    validator = _validator()
    bad_values = [
        ("replicas", -1),
        ("identity", "pet"),
        ("imagePullPolicy", "Sometimes"),
        ("replicaz", 3),
    ]
    for field, value in bad_values:
        app = beamapp_from_spec({**data, field: value})
        assert list(validator.iter_errors(app)), f"{field}={value!r} should be rejected"
    app = beamapp_from_spec({**data, "web": None, "probes": {"readiness": False}})
    assert list(validator.iter_errors(app)) == []
    app = beamapp_from_spec({**data, "rollout": {"maxSurge": 1, "maxUnavailable": "25%"}})
    assert list(validator.iter_errors(app)) == []
    missing_image = beamapp_from_spec({k: v for k, v in data.items() if k != "image"})
    assert [e.message for e in validator.iter_errors(missing_image)] == ["'image' is a required property"]


def test_crd_is_deterministic() -> None:
    assert yaml.safe_dump(beamapp_crd()) == yaml.safe_dump(beamapp_crd())
