"""JSON Schema of `beamkube.yaml`, generated from the models (editors, `beamkube schema`, the CRD).

Role: pure (no I/O).
"""

from __future__ import annotations

from typing import Any

from beamkube.spec.model import AppSpec

SCHEMA_ID = "https://beamkube.io/schema/v1alpha1/beamkube.json"


def spec_json_schema() -> dict[str, Any]:
    schema = AppSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema
