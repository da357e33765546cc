"""The published JSON Schema (`beamkube schema`) and the loader agree: every bundled example and every
generated valid spec passes the schema, and field-level mistakes (types, enums, ranges, patterns, unknown
fields) that the loader rejects are rejected by the schema too, so an editor flags them before beamkube does.

Role: tests; pure.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings

from beamkube.errors import SpecError
from beamkube.examples import example_path
from beamkube.spec import load_spec_text
from beamkube.spec.model import AppSpec
from beamkube.spec.schema import spec_json_schema

from .examples import EXAMPLES
from .strategies import app_spec
from .test_bad_specs import CASES

VALIDATOR = jsonschema.Draft202012Validator(spec_json_schema())
# Cases the schema can express (a single field's type, enum, range, pattern or an unknown field); cross-field
# rules, YAML syntax and file problems are the loader's alone.
FIELD_KINDS = ("unknown-", "wrong-type", "out-of-range", "bad-enum", "bad-name", "name-too-long", "bad-cpu", "bad-cron")
FIELD_LEVEL = [c for c in CASES if c[0].startswith((*FIELD_KINDS, "missing-name"))]


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_pass_the_published_schema(example: str) -> None:
    data = yaml.safe_load(example_path(example).read_text(encoding="utf-8"))
    assert list(VALIDATOR.iter_errors(data)) == []


@pytest.mark.parametrize(("spec_text", "expected"), [c[1:] for c in FIELD_LEVEL], ids=[c[0] for c in FIELD_LEVEL])
def test_schema_rejects_what_the_loader_rejects(spec_text: str, expected: str) -> None:
    with pytest.raises(SpecError):
        load_spec_text(spec_text, "beamkube.yaml")
    assert not VALIDATOR.is_valid(yaml.safe_load(spec_text)), expected


def test_enough_field_level_cases() -> None:
    assert len(FIELD_LEVEL) >= 12


@settings(max_examples=30, deadline=None, derandomize=True)
@given(app_spec())
def test_specs_the_model_accepts_pass_the_schema(raw: dict[str, Any]) -> None:
    try:
        AppSpec.model_validate(raw)
    except ValueError:
        return
    errors = [e.message for e in VALIDATOR.iter_errors(raw)]
    assert errors == []
