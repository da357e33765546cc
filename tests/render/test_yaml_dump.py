"""`dump_yaml` writes the structure itself for speed and asks PyYAML only for each string's scalar form: its
output must be byte-identical to PyYAML's block style, for rendered apps and for arbitrary JSON-like data, and
must load back to the same objects.

Role: tests; pure.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from beamkube.output import _pyyaml, dump_yaml
from beamkube.render import render
from beamkube.spec.model import AppSpec

from .strategies import app_spec

tricky_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["yes", "Off", "null", "~", "10", "1e3", "0x1F", "- a", "a: b", "#x", " x", "x ", "", "|", "a\n", "\n", "x\n\n"]
    ),
)
keys = st.one_of(st.text(max_size=10), st.sampled_from(["app.kubernetes.io/name", "on", "- k", "1"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), tricky_text)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.dictionaries(keys, json_like, max_size=5), min_size=1, max_size=3))
def test_same_bytes_as_pyyaml_for_any_json_like_documents(documents: list[dict[str, Any]]) -> None:
    text = dump_yaml(documents)
    assert text == _pyyaml(documents)
    assert list(yaml.safe_load_all(text)) == documents


@settings(max_examples=20, deadline=None, derandomize=True)
@given(app_spec())
def test_same_bytes_as_pyyaml_for_rendered_apps(raw: dict[str, Any]) -> None:
    try:
        spec = AppSpec.model_validate(raw)
    except ValueError:
        return
    objects = render(spec).objects
    assert dump_yaml(objects) == _pyyaml(objects)


# Strings the emitter classifies itself (names, tags, paths, numbers-as-text, YAML 1.1 booleans): each must be
# written exactly as PyYAML writes it, as a value and as a key.
simple_text = st.one_of(
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./:-]{0,12}", fullmatch=True),
    st.sampled_from(
        ["yes", "NO", "On", "off", "True", "null", "Null", "1.27", "1e3", "0x1F", "0o17", "0b101", "12:30", "1_000",
         "2024-01-02", "1.4.2", "250m", "v1", "a:b", "http://x.y/z", ".inf", "a-", "a.", "1:2:3", "+1", "007"]
    ),
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(simple_text, min_size=1, max_size=6))
def test_simple_strings_are_written_as_pyyaml_writes_them(values: list[str]) -> None:
    documents = [{"plain": values, **{value: value for value in values}}]
    assert dump_yaml(documents) == _pyyaml(documents)
