# ruff: noqa: E501  (tables of exact one-line messages read better unwrapped)
"""The command line's own input: usage errors as one line (exit 2), `render -`, SPEC with --example,
unreadable SPEC paths, --kube-version, --cookie-file, and a bug never shown as a traceback.

Role: tests; runs the real console entry point in-process, files under tmp_path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.input.helpers import HEAD, beamkube, one_line_error

Capture = pytest.CaptureFixture[str]
MP = pytest.MonkeyPatch


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["render", "--bogus"], "render: no such option: --bogus (Possible options: --out) (see beamkube render --help)"),
        (["render", "-o", "xml"],
         "render: invalid value for '-o' / '--output': 'xml' is not one of 'yaml', 'json' (see beamkube render --help)"),
        (["nosuch"], "no such command 'nosuch' (see beamkube --help)"),
        (["render", "a.yaml", "b.yaml"], "render: got unexpected extra argument(s) (b.yaml) (see beamkube render --help)"),
        (["audit", "--min-severity", "fatal", "-"],
         "audit: invalid value for '--min-severity': 'fatal' is not one of 'info', 'warning', 'error' "
         "(see beamkube audit --help)"),
        (["render", "--example", "erlang-kv", "x.yaml"], "give either SPEC (x.yaml) or --example erlang-kv, not both"),
        (["render", "--example", "nope"], None),
    ],
    ids=["unknown-option", "bad-choice", "unknown-command", "extra-argument", "audit-bad-choice", "spec-and-example",
         "unknown-example"],
)  # fmt: skip
def test_usage_errors_are_one_line(args: list[str], expected: str | None, tmp_path: Path, monkeypatch: MP,
                                   capsys: Capture) -> None:  # fmt: skip
    outcome = beamkube(monkeypatch, capsys, *args, cwd=tmp_path)
    if expected is None:  # the example list is not ours to pin; the shape is
        assert outcome.code == 2 and outcome.err.count("\n") == 1 and outcome.err.startswith("beamkube: ")
        assert "Traceback" not in outcome.err and outcome.out == ""
    else:
        one_line_error(outcome, expected)


def test_render_dash_reads_stdin_like_a_file(tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    spec = HEAD + "replicas: 2\n"
    (tmp_path / "beamkube.yaml").write_text(spec)
    from_file = beamkube(monkeypatch, capsys, "render", "-q", "beamkube.yaml", cwd=tmp_path)
    from_stdin = beamkube(monkeypatch, capsys, "render", "-q", "-", stdin=spec.encode(), cwd=tmp_path)
    assert from_file.code == from_stdin.code == 0
    assert from_stdin.out == from_file.out and from_stdin.out


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (b"", "<stdin>: is empty; expected a mapping with at least name and image"),
        (b"name: app\nimage: [x\n",
         "<stdin>:3: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence started on line 2)"),
        (HEAD.encode() + b"replicas: -3\n", "<stdin>:3: replicas: -3 is out of range; must be >= 0"),
    ],
    ids=["empty", "broken-yaml", "invalid-field"],
)  # fmt: skip
def test_render_dash_errors_name_stdin(stdin: bytes, expected: str, monkeypatch: MP, capsys: Capture) -> None:
    one_line_error(beamkube(monkeypatch, capsys, "render", "-", stdin=stdin), expected)


def test_unreadable_spec_paths(tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    (tmp_path / "plain").write_text("x")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    (tmp_path / "adir").mkdir()
    cases = {
        "plain/beamkube.yaml": "plain/beamkube.yaml: cannot be read (Not a directory)",
        "dangling.yaml": "dangling.yaml: file not found",
        "adir": "adir: is a directory, expected a beamkube.yaml file",
        "missing.yaml": "missing.yaml: file not found",
    }
    for path, expected in cases.items():
        one_line_error(beamkube(monkeypatch, capsys, "render", path, cwd=tmp_path), expected)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("99.99", "--kube-version 99.99 is newer than 1.37, the newest beamkube's output is validated against"),
        ("1.99", "--kube-version 1.99 is newer than 1.37, the newest beamkube's output is validated against"),
        ("1_0.3_0", "--kube-version 1_0.3_0 is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("１.３３", "--kube-version １.３３ is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("1.33 ", "--kube-version 1.33  is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("1", "--kube-version 1 is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("", "--kube-version  is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("1.21", "--kube-version 1.21 is older than 1.25, the oldest with every API beamkube emits (policy/v1, "
                 "autoscaling/v2, batch/v1 CronJob)"),
    ],
)  # fmt: skip
def test_kube_version_refused(version: str, expected: str, monkeypatch: MP, capsys: Capture) -> None:
    outcome = beamkube(monkeypatch, capsys, "render", "--example", "erlang-kv", "--kube-version", version)
    one_line_error(outcome, expected)


@pytest.mark.parametrize("version", ["1.25", "1.37", "v1.33.2", "1.33.0"])
def test_kube_version_accepted(version: str, monkeypatch: MP, capsys: Capture) -> None:
    outcome = beamkube(monkeypatch, capsys, "render", "-q", "--example", "erlang-kv", "--kube-version", version)
    assert outcome.code == 0, outcome.err


def _render_with_cookie(tmp_path: Path, monkeypatch: MP, capsys: Capture, cookie: bytes) -> Any:
    (tmp_path / "cookie").write_bytes(cookie)
    return beamkube(monkeypatch, capsys, "render", "-q", "--example", "erlang-kv", "--cookie-file", "cookie",
                    cwd=tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        (b"short", "the cookie has 5 characters; it needs at least 16 and at most 255"),
        (b"x" * 300, "the cookie has 300 characters; it needs at least 16 and at most 255"),
        (b"quoted'cookie-value-123", "the cookie must be printable ASCII without spaces, quotes, backslashes or a leading '-'"),
        (b"-leading-dash-cookie-1", "the cookie must be printable ASCII without spaces, quotes, backslashes or a leading '-'"),
        ("caf\u00e9-cookie-value-xyz".encode(), "the cookie must be printable ASCII without spaces, quotes, backslashes or a leading '-'"),
        (b"two words in cookie 0123", "the cookie must be printable ASCII without spaces, quotes, backslashes or a leading '-'"),
    ],
    ids=["short", "long", "quote", "dash", "non-ascii", "space"],
)  # fmt: skip
def test_cookie_file_refused(cookie: bytes, expected: str, tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    outcome = _render_with_cookie(tmp_path, monkeypatch, capsys, cookie)
    one_line_error(outcome, f"--cookie-file cookie: {expected}")


def test_cookie_file_unreadable(tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    (tmp_path / "cookie").mkdir()
    outcome = beamkube(monkeypatch, capsys, "render", "--example", "erlang-kv", "--cookie-file", "cookie", cwd=tmp_path)
    one_line_error(outcome, "--cookie-file cookie: cannot be read (Is a directory)")


@pytest.mark.parametrize("cookie", [b"a" * 16, b"abcdefghijklmnopq", b"passwordpassword", b"0123456789abcdefXYZ"])
def test_weak_cookie_warns_but_renders(cookie: bytes, tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    outcome = _render_with_cookie(tmp_path, monkeypatch, capsys, cookie)
    assert outcome.code == 0
    assert outcome.err == (
        "beamkube: warning: --cookie-file cookie: the cookie looks guessable; anyone who guesses it can run code on "
        "every node (generate one: head -c 32 /dev/urandom | base64)\n"
    )
    assert cookie.decode() not in outcome.err


def _pod_hash(text: str) -> str:
    workload = next(d for d in yaml.safe_load_all(text) if d and d["kind"] in ("StatefulSet", "Deployment"))
    return str(workload["spec"]["template"]["metadata"]["annotations"]["beamkube.io/config-hash"])


def test_cookie_change_rolls_the_pods(tmp_path: Path, monkeypatch: MP, capsys: Capture) -> None:
    first = _render_with_cookie(tmp_path, monkeypatch, capsys, b"Zq8#kP2vLx9@mN4wRt7Y")
    again = _render_with_cookie(tmp_path, monkeypatch, capsys, b"Zq8#kP2vLx9@mN4wRt7Y")
    second = _render_with_cookie(tmp_path, monkeypatch, capsys, b"Hj3$uE6pQa1!cV5bWs0K")
    plain = beamkube(monkeypatch, capsys, "render", "-q", "--example", "erlang-kv")
    assert first.code == again.code == second.code == plain.code == 0
    assert _pod_hash(first.out) == _pod_hash(again.out)  # deterministic
    assert _pod_hash(first.out) != _pod_hash(second.out)  # a new cookie rolls the pods
    assert _pod_hash(plain.out) not in (_pod_hash(first.out), _pod_hash(second.out))
    # the pod template carries neither the cookie nor its plain digest
    template = first.out.split("kind: StatefulSet", 1)[1]
    assert "Zq8#kP2vLx9" not in template
    assert hashlib.sha256(b"Zq8#kP2vLx9@mN4wRt7Y").hexdigest()[:16] not in first.out


def test_a_bug_is_one_line_not_a_traceback(monkeypatch: MP, capsys: Capture) -> None:
    import beamkube.render as render_package

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(render_package, "render", broken)
    outcome = beamkube(monkeypatch, capsys, "render", "--example", "erlang-kv")
    one_line_error(
        outcome, "internal error (RuntimeError: boom second line); rerun with BEAMKUBE_DEBUG=1 and report it", code=1
    )


@pytest.mark.parametrize("command", [["deploy"], ["status"], ["diff"], ["operator", "run"]])
@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("foo", "--kube-version foo is not a Kubernetes version; use X.Y between 1.25 and 1.37, e.g. 1.33"),
        ("1.99", "--kube-version 1.99 is newer than 1.37, the newest beamkube's output is validated against"),
    ],
)
def test_cluster_commands_refuse_a_bad_kube_version_like_render(
    command: list[str], version: str, expected: str, tmp_path: Path, monkeypatch: MP, capsys: Capture
) -> None:
    """Refused before any cluster is contacted (the kubeconfig points nowhere), with render's own message;
    these commands used to end in `internal error (ValueError ...)` with exit 1."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    spec = tmp_path / "beamkube.yaml"
    spec.write_text("name: shop\nimage: ghcr.io/acme/shop:1.0.0\n")
    args = [*command, "--kube-version", version] + ([] if command[0] == "operator" else [str(spec)])
    one_line_error(beamkube(monkeypatch, capsys, *args), expected)
