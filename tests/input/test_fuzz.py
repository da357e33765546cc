"""Fuzzing the input side: mutated specs into `render`, mutated manifests into `audit`, through the real
console entry point. Whatever the input: never a traceback or an internal error, exit 0, 1 or 2, at most one
line on stderr per problem, and every spec that renders yields manifests that `audit` passes at error
severity (beamkube must not emit what it rejects).

Role: tests (hypothesis); in-process, files only through stdin. Seeds are the bundled examples and their
rendered manifests; mutations replace values with hostile ones (huge or negative integers, YAML 1.1 lookalikes,
typographic quotes, percentages past 100, wrong types), drop or misspell keys, and damage the text itself.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beamkube.cli.main import run
from beamkube.examples import example_path

EXAMPLES = sorted(p.stem for p in Path(example_path("erlang-kv")).parent.glob("*.yaml"))
SEEDS = {name: yaml.safe_load(Path(example_path(name)).read_text()) for name in EXAMPLES}
HOSTILE: list[Any] = [
    0, -1, 1, 2, 3, 1024, 1025, 65535, 65536, 2**31 - 1, 2**31, 2**63, 10**40, -(2**31), 0.5, float("inf"),
    True, False, None, "", " ", "0", "010", "ON", "yes", "~", "150%", "100%", "0%", "90%", "9999999", "1Pi",
    "“ghcr.io/acme/app:1”", "GHCR.io/Acme/App:1", "a" * 300, "x\ny", "\u0000", "60 * * * *", "*/0 * * * *",
    "@reboot", "-", "mix", ["mix", "test"], [], {}, {"x": 1}, ["a", "b"], "../../etc/passwd", "é", "TZ=UTC 0 0 * * *",
]  # fmt: skip
# Same-type replacements keep most mutants loadable, so many reach render and then audit.
HOSTILE_INTS = [v for v in HOSTILE if type(v) is int]
HOSTILE_STRS = [v for v in HOSTILE if type(v) is str]
KEYS = ["name", "image", "replicas", "kind", "imgae", "replica", "apiVersion", "<<", "spec", "schedule", "maxSkew"]


def _cli(*args: str, stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["beamkube", *args]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """`seed` with one or two edits: a value replaced (mostly by one of the same type), a key dropped or added."""
    import copy

    data = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 2))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace"] * 6 + ["drop", "add"]))
        if action == "replace":
            current = parent[path[-1]]
            pool = HOSTILE_INTS if type(current) is int else HOSTILE_STRS if type(current) is str else HOSTILE
            same_type = draw(st.booleans()) or draw(st.booleans())
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(pool if same_type else HOSTILE)))
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = copy.deepcopy(draw(st.sampled_from(HOSTILE)))
    return data


def _text(data: Any, damage: int, position: float) -> bytes:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
    cut = int(len(text) * position)
    if damage == 1:  # truncated
        return text[:cut]
    if damage == 2:  # a byte inserted (YAML syntax, binary)
        return text[:cut] + bytes([int(position * 255) or 1]) + text[cut:]
    if damage == 3:  # an alias bomb appended
        return (
            text
            + b"x: &a [1,1,1,1,1,1,1,1,1]\n"
            + b"".join(
                b"x%d: &a%d [" % (i, i) + b",".join([b"*a" if i == 0 else b"*a%d" % (i - 1)] * 9) + b"]\n"
                for i in range(8)
            )
        )
    return text


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert all(line.startswith("beamkube: ") for line in err.splitlines()), err


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), damage=st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2, 3]), position=st.floats(0, 1))
def test_mutated_specs_never_crash_and_what_renders_passes_audit(data: st.DataObject, damage: int,
                                                                  position: float) -> None:  # fmt: skip
    seed = SEEDS[data.draw(st.sampled_from(EXAMPLES))]
    spec = data.draw(mutated(seed))
    code, out, err = _cli("render", "-q", "-", stdin=_text(spec, damage, position))
    _assert_clean(code, err)
    if code == 0:
        audit_code, report, audit_err = _cli("audit", "--min-severity", "error", "-", stdin=out.encode())
        assert audit_code == 0, f"rendered but audit fails at error severity:\n{report}{audit_err}"
    else:
        assert out == "" and err.count("\n") == 1, err


RENDERED = {name: [d for d in yaml.safe_load_all(_cli("render", "-q", "--example", name, stdin=b"")[1]) if d]
            for name in EXAMPLES}  # fmt: skip


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), damage=st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2, 3]), position=st.floats(0, 1))
def test_mutated_manifests_never_crash_audit(data: st.DataObject, damage: int, position: float) -> None:
    objects = RENDERED[data.draw(st.sampled_from(EXAMPLES))]
    index = data.draw(st.integers(0, len(objects) - 1))
    victim = data.draw(mutated(objects[index]))
    stream = [*objects[:index], victim, *objects[index + 1 :]]
    text = b"---\n".join(_text(obj, 0, 0) for obj in stream)
    if damage:
        text = _text({"items": stream, "kind": "List", "apiVersion": "v1"}, damage, position)
    code, _, err = _cli("audit", "--min-severity", "error", "-", stdin=text)
    _assert_clean(code, err)
