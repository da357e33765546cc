"""The spec's string patterns mean what the published JSON Schema says they mean, in ECMA-262 (the regex
dialect JSON Schema 2020-12 names, and the one editors run): Node's own RegExp engine is the reference.

msgspec matches a pattern with Python's `re.search`, in which `$` also matches before a final newline;
beamkube validates with `\\Z` instead (spec/base.py) and publishes `$`. Python's jsonschema package would not
catch a difference here, because it uses `re` too. Strings ending in a newline, with inner newlines, non-ASCII
letters and the characters the patterns single out are the interesting inputs.

Role: tests; runs `node` once per example batch (no network, no files).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beamkube.spec.base import exact
from beamkube.spec.schema import spec_json_schema

NODE = shutil.which("node")
# Reads [[pattern, text], ...] as JSON and prints, for each, whether ECMA-262 `pattern` (u flag) matches.
NODE_SCRIPT = """
let input = ""; process.stdin.on("data", d => input += d).on("end", () => {
  const pairs = JSON.parse(input);
  process.stdout.write(JSON.stringify(pairs.map(([p, s]) => new RegExp(p, "u").test(s))));
});
"""


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


PATTERNS = sorted(_patterns(spec_json_schema()))


def _ecma(pairs: list[tuple[str, str]]) -> list[bool]:
    if NODE is None:
        pytest.skip("node is not installed (scripts/install-system installs nodejs)")
    done = subprocess.run(
        [NODE, "-e", NODE_SCRIPT], input=json.dumps(pairs), capture_output=True, text=True, timeout=60, check=True
    )
    result: list[bool] = json.loads(done.stdout)
    return result


def _python(pattern: str, text: str) -> bool:
    return re.search(exact(pattern), text) is not None


SAMPLES = ["app", "app\n", "\napp", "a\nb", "ghcr.io/acme/app:1.0\n", "500m\n", "/data\n", "@daily\n", "", "\n"]
TEXT = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(alphabet=st.sampled_from("az09-_./:@*%\n \tÄ"), max_size=12),
    st.text(alphabet=st.sampled_from("az09-_./:@*%\n \tÄ"), max_size=12).map(lambda s: s + "\n"),
)


def test_every_published_pattern_is_checked() -> None:
    assert len(PATTERNS) >= 12
    assert all(p.endswith("$") or p == "^/" for p in PATTERNS), "published patterns end with $ (ECMA, RE2)"


def test_a_trailing_newline_fails_every_anchored_pattern_in_both_engines() -> None:
    pairs = [(p, s) for p in PATTERNS for s in SAMPLES]
    assert [_python(p, s) for p, s in pairs] == _ecma(pairs)
    # the case that differs between Python's `$` and ECMA's: beamkube sides with ECMA
    assert re.search(r"^[a-z]+$", "app\n") and not _python(r"^[a-z]+$", "app\n")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(PATTERNS), TEXT), min_size=1, max_size=40))
def test_validation_and_the_published_schema_agree(pairs: list[tuple[str, str]]) -> None:
    assert [_python(p, s) for p, s in pairs] == _ecma(pairs)
