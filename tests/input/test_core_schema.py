"""beamkube.safe_yaml's YAML 1.2 core-schema resolver, property-tested against ruamel.yaml (0.18+), whose
`YAML(typ="safe")` loader implements YAML 1.2 independently of PyYAML.

Role: tests (pure). ruamel.yaml documents a few extensions to the core schema, which the spec excludes and
beamkube's resolver therefore treats as strings: `_` digit separators, `0b` binary, signed `0o`/`0x`, merge keys
(`<<`) and timestamps. The generator avoids exactly those, so every other plain scalar must load to the same
value (type and number) from both libraries.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from beamkube.safe_yaml import SPEC_LIMITS, YamlLoadError, load_single

REFERENCE = YAML(typ="safe", pure=True)
REFERENCE.version = (1, 2)

# Pieces that plain scalars of the core schema are made of, plus near misses of each.
PIECES = ["0", "1", "7", "8", "9", "00", "010", "0o", "0x", "1F", "e", "E", "+", "-", ".", "inf", "Inf", "INF",
          "nan", "NaN", "NAN", "true", "True", "TRUE", "tRUE", "false", "FALSE", "null", "Null", "NULL", "nULL", "~",
          "yes", "no", "on", "ON", "Off", "y", "n", "a", "Z"]  # fmt: skip
RUAMEL_EXTENSIONS = re.compile(r"_|0b|[-+]0[ox]|^<<$|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def _ours(text: str) -> Any:
    document = load_single(f"k: {text}\n", "t.yaml", "core", SPEC_LIMITS)
    assert document is not None
    return document.data["k"]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join))
def test_plain_scalars_resolve_as_ruamel_yaml_1_2(text: str) -> None:
    if RUAMEL_EXTENSIONS.search(text):
        return
    try:
        reference = REFERENCE.load(f"k: {text}\n")["k"]
    except YAMLError:  # not a plain scalar at all (`k: -`): both libraries must refuse it
        with pytest.raises(YamlLoadError):
            _ours(text)
        return
    assert _same(_ours(text), reference), (text, _ours(text), reference)


@pytest.mark.parametrize(
    ("text", "value"),
    [("010", 10), ("0o10", 8), ("0x1F", 31), ("-0", 0), ("+12", 12), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0),
     ("ON", "ON"), ("yes", "yes"), ("Off", "Off"), ("~", None), ("", None), ("1:20", "1:20"),
     ("2001-12-14", "2001-12-14"), ("1_000", "1_000"), ("0b101", "0b101"), ("-0x1F", "-0x1F")],
)  # fmt: skip
def test_yaml_1_1_forms_that_change_meaning(text: str, value: Any) -> None:
    """The forms issue 14 found changing meaning, and ruamel.yaml's extensions: the YAML 1.2.2 spec's core
    schema (section 10.3.2) is the authority here, and it makes each of the strings a string."""
    assert _same(_ours(text), value)
