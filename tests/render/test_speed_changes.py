"""Speed-only changes in the renderer keep their meaning: checked against plain references, not the code.

`args_file_escape` takes a `str.replace` path for ASCII text; the reference is the rule itself (a backslash
before each quote, backslash, `#` and whitespace character, whitespace as `str.isspace` defines it, which is
what `re`'s `\\s` matches in a str pattern). `common_labels` caches its sorted labels: every caller must
still get a dict of its own (metadata and pod templates add to it).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from beamkube.render.beam import args_file_escape
from beamkube.render.names import common_labels
from beamkube.spec.model import AppSpec


def escaped(value: str) -> str:
    return "".join("\\" + c if c in "'\"\\#" or c.isspace() else c for c in value)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=127)),
                 st.text(alphabet="'\"\\# \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u2028ab")))
def test_args_file_escape_backslashes_exactly_the_special_characters(value: str) -> None:
    assert args_file_escape(value) == escaped(value)


def test_args_file_escape_of_a_discovery_loop() -> None:
    loop = """[list_to_atom("app@"++H)||{_,_,_,H}<-inet_res:lookup("_epmd._tcp.app",in,srv)] # x\t'y'"""
    assert args_file_escape(loop) == escaped(loop)
    assert args_file_escape(loop).count("\\") == loop.count('"') + loop.count("'") + 4  # 2 spaces, a tab, '#'


def test_common_labels_are_a_new_dict_every_call() -> None:
    spec = AppSpec.model_validate({"name": "web", "image": "ghcr.io/acme/web:1.2", "labels": {"team": "a"}})
    first = common_labels(spec, "config")
    first["beamkube.io/process"] = "worker"
    second = common_labels(spec, "config")
    assert "beamkube.io/process" not in second
    assert second == {
        "app.kubernetes.io/component": "config",
        "app.kubernetes.io/instance": "web",
        "app.kubernetes.io/managed-by": "beamkube",
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/part-of": "web",
        "app.kubernetes.io/version": "1.2",
        "team": "a",
    }
    assert list(second) == sorted(second)


def test_the_component_label_wins_over_a_spec_label_of_that_name_every_time() -> None:
    # Validation refuses such a label; the renderer's precedence holds anyway (the spec's fields it reads).
    spec: Any = SimpleNamespace(name="web", image="web:1", labels={"app.kubernetes.io/component": "zzz"})
    for _ in range(2):  # the second call is served from the cache
        assert common_labels(spec, "config")["app.kubernetes.io/component"] == "config"
        assert common_labels(spec)["app.kubernetes.io/component"] == "zzz"
