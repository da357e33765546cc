"""Every YAML block of docs/spec.md is valid: a full spec, or a fragment that validates and renders once
added to `name`/`image`. Documentation that shows a refused field would teach the mistake.

Role: tests; reads docs/spec.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from beamkube.render import render
from beamkube.spec import load_spec_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
HEAD = "name: shop\nimage: ghcr.io/acme/shop:1.4.2\n"


def test_the_doc_has_an_example_for_every_new_field() -> None:
    text = "\n".join(BLOCKS)
    for field in ("imagePullSecrets", "tolerations", "nodeAffinity", "objectMeta", "envFrom", "sidecars",
                  "initContainers", "volumes", "serviceAccount", "extraHosts", "certManager", "processes",
                  "overrides", "jsonPatch"):  # fmt: skip
        assert f"{field}:" in text, field


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_yaml_block_is_a_valid_spec(block: str) -> None:
    data = yaml.safe_load(block)
    text = block if "name" in data and "image" in data else HEAD + block
    spec = load_spec_text(text, "docs/spec.md")
    assert render(spec, kube_version=(1, 33)).objects
