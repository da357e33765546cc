"""Every production-app field reaches the published JSON Schema (`beamkube schema`) with a description, so
an editor explains it; and the production example validates against that schema.

Role: tests; pure.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from beamkube.examples import example_path
from beamkube.spec.schema import spec_json_schema

NEW_TOP = ("imagePullSecrets", "envFrom", "sidecars", "initContainers", "volumes", "serviceAccount", "objectMeta",
           "processes", "overrides")  # fmt: skip
NEW_MODELS = ("CertManager", "Container", "ContainerPort", "Csi", "EmptyDir", "EnvFrom", "IngressHost",
              "NodeAffinity", "NodeRequirement", "NodeTerm", "ObjectMeta", "ObjectMetaGroups", "Override",
              "PreferredNodeTerm", "Process", "ServiceAccountSpec", "Toleration", "Volume", "VolumeMount")  # fmt: skip
CHANGED = (("Placement", ("tolerations", "nodeAffinity")), ("Ingress", ("pathType", "extraHosts", "certManager")),
           ("Job", ("resources", "env", "secretEnv")))  # fmt: skip


def _described(node: dict[str, Any]) -> bool:
    return bool(node.get("description")) or any(_described(n) for n in node.get("anyOf", []) if isinstance(n, dict))


def test_every_new_field_has_a_description() -> None:
    schema = spec_json_schema()
    defs = schema["$defs"]
    missing = [f"AppSpec.{f}" for f in NEW_TOP if not _described(schema["properties"][f])]
    for model in NEW_MODELS:
        for field, body in defs[model]["properties"].items():
            if not _described(body):
                missing.append(f"{model}.{field}")
    for model, fields in CHANGED:
        missing += [f"{model}.{f}" for f in fields if not _described(defs[model]["properties"][f])]
    assert missing == []


def test_the_production_example_passes_the_published_schema() -> None:
    data = yaml.safe_load(example_path("phoenix-prod").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(spec_json_schema()).validate(data)
