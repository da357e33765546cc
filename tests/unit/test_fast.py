"""The fast path's parser against typer/click themselves: either exactly typer's keyword arguments, or deferral.

The reference is the typer app: for each command line, the real typer app runs with the command's body
replaced by a recorder, so what typer/click would pass to the body (types included: Path, the Enum member,
list or None) is compared with what `beamkube.cli.fast.parse` builds from the generated table. Where click
refuses a command line (unknown option, missing value, bad choice, extra argument...), the fast parser must
defer. Command lines come from the table (valid and nearly valid forms) and from hostile text.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beamkube.cli import _startup_cache as cache
from beamkube.cli import fast, startup
from beamkube.cli.main import app_for

HERE = Path(__file__)
REFUSED = "refused"


def typer_kwargs(command: str, argv: list[str]) -> dict[str, Any] | str:
    """What the typer app passes to the command's body for `beamkube COMMAND ARGV...`, or REFUSED."""
    module_name, _, function = cache.FAST[command]["impl"].partition(":")
    module = importlib.import_module(module_name)
    recorded: list[dict[str, Any]] = []
    original = getattr(module, function)
    setattr(module, function, lambda **kwargs: recorded.append(kwargs))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            app_for((startup.module_for([command]) or "",))([command, *argv], prog_name="beamkube",
                                                             standalone_mode=False)
    except Exception:  # click's usage errors (and what click raises on input it cannot take)
        return REFUSED
    finally:
        setattr(module, function, original)
    return recorded[0] if recorded else REFUSED  # `--help` answers without calling the body


def typed(value: Any) -> Any:
    """`value` with its types spelled out: `Format.yaml == "yaml"` must not pass for equal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, Enum):
        return (type(value).__qualname__, value.name)
    return (type(value).__name__, value)


def check(command: str, argv: list[str]) -> bool:
    """Assert the property for one command line; True when the fast parser took it."""
    parsed = fast.parse(cache.FAST[command]["params"], argv)
    reference = typer_kwargs(command, argv)
    if parsed is None:
        return False
    assert reference != REFUSED, f"typer refuses {argv}, the fast parser took it: {parsed}"
    assert typed(parsed) == typed(reference), argv
    return True


VALUES = ["a", "x.yaml", str(HERE), str(HERE.parent), "-", "", "--", "-x", "=", "a=b", "é", "1.33", "--help",
          "json", "yaml", "text", "sarif", "info", "error", "kustomize", "BK308", "-o", "--out", "-q"]


@st.composite
def command_lines(draw: st.DrawFn, command: str) -> list[str]:
    """Tokens built from the command's own table: its flags (right and wrong forms), values, positionals."""
    params = cache.FAST[command]["params"]
    argv: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        param = draw(st.sampled_from(params))
        value = draw(st.sampled_from(list(param["choices"] or []) + VALUES))
        if param["argument"]:
            argv.append(value)
            continue
        flag = draw(st.sampled_from(param["opts"] + param["secondary"]))
        form = draw(st.sampled_from(["plain", "plain", "equals", "alone", "attached"]))
        if param["flag"] or form == "alone":
            argv.append(flag)
        elif form == "equals":
            argv.append(f"{flag}={value}")
        elif form == "attached":
            argv.append(flag + value)
        else:
            argv += [flag, value]
    return argv


HOSTILE = st.lists(st.one_of(st.sampled_from(VALUES), st.text(max_size=8)), max_size=6)


@pytest.mark.parametrize("command", sorted(cache.FAST))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_parse_is_typers_or_defers(command: str, data: st.DataObject) -> None:
    check(command, data.draw(st.one_of(command_lines(command), HOSTILE)))


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("render", []),
        ("render", ["--example", "better-together"]),
        ("render", ["spec.yaml", "-o", "json", "-q", "--kube-version=1.30"]),
        ("render", ["-q", str(HERE), "--out", "o", "--format", "helm", "--cookie-from", "sealed:x.yaml"]),
        ("render", ["-"]),
        ("audit", ["deploy.yaml"]),
        ("audit", ["a.yaml", "-o", "sarif", "b.yaml", "--min-severity", "info", "--no-color", "--color"]),
        ("audit", ["--enable", "BK308,BK675", "--enable=all", "-", "--kube-version", "1.29"]),
        ("audit", ["--cluster", "-n", "shop", "-n", "web", "--context", "kind", "--kubeconfig", "k"]),
        ("audit", ["--list-rules"]),
        ("audit", ["--print-rbac"]),
    ],
)
def test_the_everyday_command_lines_take_the_fast_path(command: str, argv: list[str]) -> None:
    assert check(command, argv), f"deferred to typer: {argv}"


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("render", ["--bogus"]),
        ("render", ["a.yaml", "b.yaml"]),
        ("render", ["-o", "xml"]),
        ("render", ["--example"]),
        ("render", ["--", "-weird.yaml"]),
        ("render", ["-qo", "json"]),
        ("render", ["--quiet=yes"]),
        ("render", ["--outx", "d"]),
        ("render", ["--help"]),
        ("audit", ["--min-severity", "loud", "a.yaml"]),
        ("audit", ["-ojson", "a.yaml"]),
        ("audit", ["--enable", "--cluster"]),
        ("audit", ["--colour", "a.yaml"]),
    ],
)
def test_what_click_refuses_or_reads_its_own_way_is_left_to_typer(command: str, argv: list[str]) -> None:
    assert fast.parse(cache.FAST[command]["params"], argv) is None
    assert not startup.run_fast([command, *argv])


def test_a_shell_completion_request_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_BEAMKUBE_COMPLETE", "bash_complete")
    assert not startup.run_fast(["audit", "a.yaml"])


def test_the_table_covers_every_parameter_typer_declares() -> None:
    import typer.main

    for command, entry in cache.FAST.items():
        click_command = typer.main.get_command(app_for((startup.module_for([command]) or "",))).commands[command]
        assert [row["name"] for row in entry["params"]] == [p.name for p in click_command.params]
