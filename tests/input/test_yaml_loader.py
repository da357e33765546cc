"""The safe YAML loader through the real CLI: hostile or surprising YAML in a spec (`render`) or a manifest
stream (`audit`) gives one line `FILE:LINE: ...`, exit 2, no traceback, and never a silent change of meaning.

Role: tests; writes inputs under tmp_path. The subprocess tests run the installed console script under an
address-space and time limit, so a regression to exponential alias expansion fails instead of eating the box.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.input.helpers import HEAD, beamkube, one_line_error

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x:1\n"
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(8)
)
DEEP = "x: " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_BLOCK = "".join(" " * i + "a:\n" for i in range(200)) + " " * 200 + "b\n"
LONG_INT = "1" * 5000
NUL = "control character #x0000 is not allowed (binary data?)"
Capture = pytest.CaptureFixture[str]

# (id, spec text, expected message after "beamkube: ")
SPEC_CASES = [
    ("int-5000-digits", HEAD + f"replicas: {LONG_INT}\n",
     "beamkube.yaml:3: an integer of 5000 digits is too long (at most 32); quote it if it is text"),
    ("recursive-alias", HEAD + "release:\n  command: &c [bin/app, *c]\n",
     "beamkube.yaml:4: a recursive alias (an anchor used inside itself)"),
    ("alias-bomb-9x9", HEAD + "release:\n  x: 1\n" + BOMB,
     "beamkube.yaml:10: aliases expand to more than 200,000 nodes (an alias bomb?)"),
    ("flow-nesting-3000", HEAD + DEEP, "beamkube.yaml:3: nested deeper than 1000 levels"),
    ("block-nesting-200", HEAD + DEEP_BLOCK, "beamkube.yaml:67: nested deeper than 64 levels"),
    ("binary-tag", HEAD + "env: {KEY: !!binary aGVsbG8=}\n", "beamkube.yaml:3: the tag !!binary is not supported here"),
    ("python-tag", HEAD + "env: {KEY: !!python/object/apply:os.system [id]}\n",
     "beamkube.yaml:3: the tag !!python/object/apply:os.system is not supported here"),
    ("timestamp-tag", HEAD + "env: {DAY: !!timestamp 2001-12-14}\n",
     "beamkube.yaml:3: the tag !!timestamp is not supported here"),
    ("set-tag", HEAD + "env: !!set {A, B}\n", "beamkube.yaml:3: the tag !!set is not supported here"),
    ("explicit-bool-yes", HEAD + "imagePullPolicy: Always\nrelease: {name: !!bool yes}\n",
     "beamkube.yaml:4: yes is not true or false"),
    ("explicit-merge", HEAD + "base: &b {replicas: 2}\nx: {!!merge <<: *b}\n",
     "beamkube.yaml:4: the tag !!merge is not supported here"),
    ("second-document", HEAD + "---\nname: other\n",
     "beamkube.yaml:4: a second YAML document (the first starts on line 1); keep one"),
    ("not-utf8", HEAD + "env: {A: caf\xe9}\n", "beamkube.yaml:3: not UTF-8 text (binary data?)"),
    ("nul-byte", HEAD + "env: {A: \x00}\n",
     f"beamkube.yaml:3: not valid YAML: {NUL}"),
    ("unhashable-key", HEAD + "? [a, b]\n: 1\n",
     "beamkube.yaml:3: not valid YAML: found unhashable key (while constructing a mapping started on line 1)"),
    ("merge-key-is-a-field", HEAD + "labels: &l {team: a}\n<<: *l\n",
     "beamkube.yaml:4: <<: unknown field; allowed here: " + ", ".join(sorted(
         __import__("beamkube.spec.model", fromlist=["AppSpec"]).AppSpec.__struct_fields__))),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES])
def test_hostile_spec_yaml(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    (tmp_path / "beamkube.yaml").write_bytes(text.encode("latin-1") if "\xe9" in text else text.encode())
    outcome = beamkube(monkeypatch, capsys, "render", "beamkube.yaml", cwd=tmp_path)
    one_line_error(outcome, expected)


def test_oversized_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    (tmp_path / "beamkube.yaml").write_text(HEAD + "# " + "x" * (4 * 1024 * 1024) + "\n")
    outcome = beamkube(monkeypatch, capsys, "render", "beamkube.yaml", cwd=tmp_path)
    one_line_error(outcome, "beamkube.yaml: is larger than 4,194,304 bytes; a spec is a short file")


def _rendered(monkeypatch: pytest.MonkeyPatch, capsys: Capture, tmp_path: Path, text: str) -> list[dict[str, Any]]:
    (tmp_path / "beamkube.yaml").write_text(text)
    outcome = beamkube(monkeypatch, capsys, "render", "-q", "beamkube.yaml", cwd=tmp_path)
    assert outcome.code == 0, outcome.err
    return [d for d in yaml.safe_load_all(outcome.out) if d]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind)


def test_yaml_1_1_surprises_keep_their_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    """YAML 1.1 would make `010` 8, `ON` true (and so 'True' after a str()), and reformat a date: the core
    schema keeps what the user wrote."""
    spec = HEAD + "replicas: 010\nenv:\n  FLAG: ON\n  LEGACY: yes\n  DAY: 2001-12-14\n  TIME: 1:20\n"
    objects = _rendered(monkeypatch, capsys, tmp_path, spec)
    assert _by_kind(objects, "Deployment")["spec"]["replicas"] == 10
    data = next(o for o in objects if o["kind"] == "ConfigMap" and "FLAG" in o.get("data", {}))["data"]
    assert data == {"DAY": "2001-12-14", "FLAG": "ON", "LEGACY": "yes", "TIME": "1:20"}


def test_trailing_document_marker_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    objects = _rendered(monkeypatch, capsys, tmp_path, "---\n" + HEAD + "replicas: 2\n---\n")
    assert _by_kind(objects, "Deployment")["spec"]["replicas"] == 2


def test_octal_and_hex_are_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    objects = _rendered(monkeypatch, capsys, tmp_path, HEAD + "replicas: 0o3\npreStopSleepSeconds: 0x0A\n")
    assert _by_kind(objects, "Deployment")["spec"]["replicas"] == 3


AUDIT_CASES = [
    ("int-5000-digits", POD + f"  priority: {LONG_INT}\n",
     "m.yaml:9: an integer of 5000 digits is too long (at most 32); quote it if it is text"),
    ("recursive-alias", POD + "      args: &a [x, *a]\n", "m.yaml:9: a recursive alias (an anchor used inside itself)"),
    ("flow-nesting-3000", POD + "  " + DEEP.replace("x:", "extra:"), "m.yaml:9: nested deeper than 1000 levels"),
    ("binary-tag", POD + "      args: [!!binary aGVsbG8=]\n", "m.yaml:9: the tag !!binary is not supported here"),
    ("python-tag", POD + "      args: [!!python/name:os.system x]\n",
     "m.yaml:9: the tag !!python/name:os.system is not supported here"),
]  # fmt: skip


def _bomb_manifest() -> str:
    """A Pod whose container args hold the 9x9 billion laughs (9**9 strings once expanded)."""
    anchors = "".join(
        f"  x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 9 if i else ['"lol"'] * 9) + "]\n" for i in range(9)
    )
    return POD.replace("spec:\n", "spec:\n" + anchors) + "      args: *x8\n"


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in AUDIT_CASES], ids=[c[0] for c in AUDIT_CASES])
def test_hostile_manifest_yaml(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    (tmp_path / "m.yaml").write_text(text)
    outcome = beamkube(monkeypatch, capsys, "audit", "m.yaml", cwd=tmp_path)
    one_line_error(outcome, expected)


def test_alias_bomb_in_audit_container_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    (tmp_path / "m.yaml").write_text(_bomb_manifest())
    outcome = beamkube(monkeypatch, capsys, "audit", "m.yaml", cwd=tmp_path)
    one_line_error(outcome, "m.yaml:12: aliases expand to more than 2,000,000 nodes (an alias bomb?)")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "-:1: not UTF-8 text (binary data?)"),
        (POD.encode() + b"---\n\xff\xfe\x00binary\n", "-:10: not UTF-8 text (binary data?)"),
        (POD.encode() + b"      args: [\x00]\n", f"-:9: invalid YAML/JSON: {NUL}"),
    ],
    ids=["png", "binary-after-object", "nul-in-utf8"],
)
def test_binary_stdin_for_audit(data: bytes, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    one_line_error(beamkube(monkeypatch, capsys, "audit", "-", stdin=data), expected)


def test_binary_stdin_for_render(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    outcome = beamkube(monkeypatch, capsys, "render", "-", stdin=b"\x00\x01\x02\xff")
    one_line_error(outcome, "<stdin>:1: not UTF-8 text (binary data?)")


def _limited(args: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The console script with 1 GiB of address space and 20 s: the 9x9 bomb expanded is ~3.9 GB."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    script = Path(sys.executable).with_name("beamkube")
    return subprocess.run(
        [str(script), *args], input=stdin, cwd=cwd, capture_output=True, timeout=20, preexec_fn=limit, check=False
    )


@pytest.mark.parametrize("command", ["render", "audit"])
@pytest.mark.parametrize("payload", ["bomb", "deep"])
def test_bombs_under_memory_and_time_limit(command: str, payload: str, tmp_path: Path) -> None:
    if command == "render":
        text = HEAD + ("release:\n  x: 1\n" + BOMB if payload == "bomb" else DEEP)
    else:
        text = _bomb_manifest() if payload == "bomb" else POD + "  " + DEEP.replace("x:", "extra:")
    result = _limited([command, "-"], text.encode(), tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert ("alias bomb" in err) if payload == "bomb" else ("nested deeper" in err)
