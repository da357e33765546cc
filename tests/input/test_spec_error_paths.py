"""Where a spec error points, now that validation stops at the first mistake (msgspec): mapping keys are
named (msgspec's own message says only `[...]`), the line is the offending key's, the first mistake in the
document is the one reported, and YAML mapping keys that are not text are read as JSON writes them (as the
API server and sigs.k8s.io/yaml do).

Role: tests; pure (spec text in, `SpecError` out).
"""

from __future__ import annotations

import pytest

from beamkube.errors import SpecError
from beamkube.spec import load_spec_text
from beamkube.spec.model import AppSpec

HEAD = "name: app\nimage: ghcr.io/acme/app:1.0\n"

CASES = [
    (
        "env-value-among-others",
        HEAD + "env:\n  A: x\n  B: y\n  C: 3\n  D: z\n",
        6,
        "env.C",
        "3 is not a string (quote it)",
    ),
    (
        "process-field-among-processes",
        HEAD + "processes:\n  web: {}\n  worker:\n    command: [bin/w]\n    replicas: -1\n  cron: {}\n",
        7,
        "processes.worker.replicas",
        "-1 is out of range; must be >= 0",
    ),
    (
        "rule-inside-a-process",
        HEAD + "processes:\n  web: {}\n  worker:\n    autoscaling: {min: 3, max: 2, cpu: 50}\n",
        6,
        "processes.worker.autoscaling.min",
        "3 is above max (2); min must not exceed max",
    ),
    (
        "list-in-list",
        HEAD + "placement:\n  nodeAffinity:\n    required:\n      - matchExpressions:\n"
        "          - {key: a, operator: In}\n",
        7,
        "placement.nodeAffinity.required[0].matchExpressions[0].values",
        "operator In needs at least one value",
    ),
    (
        "first-mistake-in-document-order",
        HEAD + "web: {port: 0}\nreplicas: many\n",  # the model declares replicas before web
        3,
        "web.port",
        "0 is out of range; must be >= 1",
    ),
    (
        "number-key-read-as-text",
        HEAD + "env:\n  1: one\n",
        4,
        "env.1",
        "'1' is not a variable name (letters, digits, '_'; no leading digit)",
    ),
    (
        "key-of-a-nested-mapping",
        HEAD + "objectMeta:\n  webService:\n    annotations: {ok: x, 'no spaces allowed': y}\n",
        5,
        "objectMeta.webService.annotations.no spaces allowed",
        "'no spaces allowed' is not a Kubernetes annotation key ([prefix/]name, name ≤ 63 chars)",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_error_names_the_key_and_its_line(text: str, line: int, path: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "beamkube.yaml")
    assert (caught.value.line, caught.value.path, caught.value.message) == (line, path, message)


def test_a_text_key_is_not_reported_as_a_number() -> None:
    spec = load_spec_text(HEAD + "labels:\n  1: a\n", "beamkube.yaml")
    assert spec.labels == {"1": "a"}  # the label key "1" Kubernetes would receive


def test_model_copy_replaces_without_revalidating_or_touching_the_original() -> None:
    spec = AppSpec.model_validate({"name": "app", "image": "x:1", "replicas": 2})
    view = spec.model_copy(update={"replicas": 0, "web": None})
    assert (view.replicas, view.web, spec.replicas, spec.web is not None) == (0, None, 2, True)
    # the same update through validation is refused: probes default to the web port, and web is gone
    with pytest.raises(ValueError, match="web"):
        AppSpec.model_validate({**spec.model_dump(), "web": None, "probes": {"readiness": {"http": {"path": "/"}}}})


def test_a_dump_validates_back_to_the_same_spec() -> None:
    from beamkube.examples import example_names, example_path

    for name in example_names():
        spec = load_spec_text(example_path(name).read_text(encoding="utf-8"), name)
        assert AppSpec.model_validate(spec.model_dump()) == spec, name
