"""The fast manifest loader (`beamkube.kube_yaml`) reads every stream exactly as the reference does.

Role: tests (hypothesis; pure, no I/O). The reference is `safe_yaml.load_documents(..., "kube", ...)`: PyYAML's
composer and SafeConstructor with beamkube's limits. Streams are generated as text, so plain scalars reach the
resolver unquoted (YAML 1.1 lookalikes, octals, sexagesimals, merge keys, `=`), in block and flow style, with
anchors, tags, List items and damage to the text; the two loaders must yield the same documents (values, types,
key order, lines, List item lines) and then fail with the same one-line error, if any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beamkube import kube_yaml, safe_yaml
from beamkube.safe_yaml import MANIFEST_LIMITS, Limits, YamlLoadError

PLAIN = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "Null", "", "0", "010", "0o17", "0x1F", "0b101",
    "1_000", "-12", "+7", "1:30", "190:20:30", "1.5", "-.5", "1e3", "1.0e+3", ".inf", "-.Inf", ".NaN", "2001-12-14",
    "12:30:00", "<<", "=", "app", "image:tag", "a b", "9" * 40, "-", "0.", "._", "1__0", "0xZZ", "Y", "nO", "é", "50%",
]  # fmt: skip
QUOTED = ['"yes"', "'010'", '"a\\tb"', "'it''s'", '""', '"9999999999999999999999999999999999999999"']
KEYS = ["name", "kind", "items", "apiVersion", "yes", "1", "~", "<<", "=", "items", "a b", "metadata"]
TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!custom", "!", "!!map", "!!seq"]


# What the fast path builds itself (the rest it hands to the reference): no tags, anchors, merge keys or `=`.
CLEAN = [p for p in PLAIN if p not in ("<<", "=", "9" * 40, "-")]  # `key: -` is a syntax error
CLEAN_KEYS = [k for k in KEYS if k not in ("<<", "=")]


def _scalar(draw: st.DrawFn, clean: bool = False) -> str:
    choice = draw(st.integers(0, 7 if clean else 9))
    if choice < 6:
        return draw(st.sampled_from(CLEAN if clean else PLAIN))
    if choice < 8:
        return draw(st.sampled_from(QUOTED))
    if choice == 8:
        return f"{draw(st.sampled_from(TAGS))} {draw(st.sampled_from(PLAIN[:20]))}"
    return draw(st.sampled_from(["*a", "&a x", "|\n  block\n  text", ">-\n  folded"]))


@st.composite
def block(draw: st.DrawFn, indent: int = 0, depth: int = 0, clean: bool = False) -> str:
    """A block mapping or sequence as text, values mixing plain scalars, flow collections and nesting."""
    pad = " " * indent
    lines = []
    sequence = depth > 0 and draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        head = f"{pad}- " if sequence else f"{pad}{draw(st.sampled_from(CLEAN_KEYS if clean else KEYS))}: "
        kind = draw(st.integers(0, 5 if depth < 3 else 2))
        if kind <= 2:
            value = _scalar(draw, clean)
            if value.startswith(("|", ">")):
                value = value.replace("\n", "\n" + pad)
            lines.append(head + value)
        elif kind == 3:
            words = [v for v in (CLEAN if clean else PLAIN)[:30] if v] + QUOTED  # `[, x]` is not YAML
            flow = draw(st.lists(st.sampled_from(words), max_size=3))
            lines.append(head + ("[" + ", ".join(flow) + "]" if draw(st.booleans()) else
                                 "{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(flow)) + "}"))
        else:
            anchor = "" if clean else draw(st.sampled_from(["", "", "", "&a ", "!!map "]))
            lines.append(head.rstrip() + (" " + anchor.strip() if anchor else ""))
            lines.append(draw(block(indent + 2, depth + 1, clean)))
    return "\n".join(lines)


@st.composite
def stream(draw: st.DrawFn, clean: bool = False) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 4))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            documents.append("")  # an empty document
        elif shape == 1:
            documents.append(_scalar(draw, clean))
        elif shape == 2:  # a List, whose item lines the audit reports
            count = draw(st.integers(0, 3))
            items = "\n".join(f"- kind: Pod\n  n: {draw(st.sampled_from(CLEAN))}" for _ in range(count))
            documents.append(f"apiVersion: v1\nkind: List\nitems:\n{items}" if items else "kind: List\nitems: []")
        else:
            documents.append(draw(block(clean=clean)))
    separator = draw(st.sampled_from(["\n---\n", "\n...\n---\n", "\n--- \n"]))
    return draw(st.sampled_from(["", "---\n", "%YAML 1.1\n---\n"])) + separator.join(documents) + "\n"


def _outcome(documents: Any) -> tuple[list[tuple[int, str, list[int]]], str | None]:
    """What a loader yields (repr keeps types, key order and NaN comparable) and the error it ends with."""
    seen: list[tuple[int, str, list[int]]] = []
    try:
        for line, data, item_lines in documents:
            seen.append((line, repr(data), item_lines))
    except YamlLoadError as exc:
        return seen, f"{exc} syntax={exc.syntax}"
    return seen, None


def _both(text: str, limits: Limits = MANIFEST_LIMITS) -> tuple[Any, Any]:
    fast = _outcome((d.line, d.data, d.item_lines) for d in kube_yaml.load_manifest_documents(text, "s.yaml", limits))
    reference = _outcome(
        (d.line, d.data, kube_yaml._item_lines(d.node))
        for d in safe_yaml.load_documents(text, "s.yaml", "kube", limits)
    )
    return fast, reference


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(stream())
def test_generated_streams_load_as_the_reference_does(text: str) -> None:
    fast, reference = _both(text)
    assert fast == reference, text


@SETTINGS
@given(stream(clean=True))
def test_clean_streams_never_leave_the_fast_path(text: str) -> None:
    """Valid manifests as tools write them are built by the fast path itself (so the tests above test it)."""
    reference = safe_yaml.load_documents
    handed_over: list[str] = []

    def spy(*args: Any) -> Any:
        handed_over.append(args[0])
        return reference(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(safe_yaml, "load_documents", spy)
        documents = kube_yaml.load_manifest_documents(text, "s.yaml", MANIFEST_LIMITS)
        fast = _outcome((d.line, d.data, d.item_lines) for d in documents)
    reference_outcome = _both(text)[1]
    assert fast == reference_outcome, text
    assert not handed_over or reference_outcome[1] is not None, text  # only an error is handed over


DAMAGE = [":", "-", " ", "\t", "[", "{", "'", '"', "&", "*", "\n", "!", "\x07"]


@SETTINGS
@given(stream(clean=True), st.integers(0, 10_000), st.sampled_from(DAMAGE))
def test_damaged_streams_fail_as_the_reference_does(text: str, position: int, character: str) -> None:
    at = position % (len(text) + 1)
    damaged = text[:at] + character + text[at:]
    fast, reference = _both(damaged)
    assert fast == reference, damaged


@SETTINGS
@given(stream(), st.integers(1, 4), st.integers(1, 40))
def test_limits_are_the_references(text: str, depth: int, nodes: int) -> None:
    fast, reference = _both(text, Limits(max_bytes=MANIFEST_LIMITS.max_bytes, max_depth=depth, max_nodes=nodes))
    assert fast == reference, text


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\nb: &x [1, 2]\nc: *x\n---\nd: 3\n",  # an alias in the middle document
        "a: 1\n---\nb: [1\n---\nc: 2\n",  # a syntax error after a good document
        "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",  # a merge key
        "x: " + "[" * 200 + "]" * 200 + "\n",  # deeper than MANIFEST_LIMITS
        "n: " + "9" * 40 + "\n",  # an integer over the length limit
        "a: \x07\n",  # a control character
        "? [a, b]\n: c\n",  # a complex key
    ],
)
def test_what_the_fast_path_hands_over(text: str) -> None:
    fast, reference = _both(text)
    assert fast == reference
    assert reference[1] is not None or "*x" in text or "<<" in text


GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.yaml"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_the_fast_path_agrees_with_pyyaml_on_rendered_manifests(path: Path) -> None:
    """Independent of beamkube's constructor: PyYAML's own C SafeLoader reads these (timestamp-free) the same."""
    text = path.read_text()
    mine = [d.data for d in kube_yaml.load_manifest_documents(text, path.name, MANIFEST_LIMITS)]
    assert mine == list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    assert len(mine) > 3
