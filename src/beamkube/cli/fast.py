"""The fast path: parse a command's options from the generated table and call its body, without typer or click.

Role: I/O edge (runs the command, writes its errors on stderr). `beamkube.cli.fast_table` records, from typer's
own click objects, each fast command's parameters (option flags, choices, multiple, flags, the argument's
nargs, the value click passes when an option is absent, the conversion typer then applies) in
`_startup_cache.FAST`. `parse` understands only the plain forms: `--long VALUE`, `--long=VALUE`, `-s VALUE`,
flags, repeated options, positionals interleaved with options. Anything else (an unknown or abbreviated
option, a missing value, a value that starts with `-`, a bad choice, `--`, bundled short options, too many
positionals, an unreadable path, a shell-completion request) returns None, and the typer app answers with
click's own message. tests/unit/test_fast.py checks with hypothesis that a parse is either None or exactly
the keyword arguments typer passes to the same body.

Failures end as `beamkube.cli.main.run` ends them on the typer path: `beamkube: <message>` on stderr and the
error's exit code, Ctrl-C as `beamkube: interrupted` (130), a closed pipe as exit 1.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the fast path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

# The answer of a conversion that click would refuse (or that this parser does not model): typer decides.
DEFER = object()


def _convert(param: Mapping[str, Any], value: str) -> object:
    """What click's parameter type returns for `value`, or DEFER where click would fail."""
    kind = param["type"]
    if kind == "choice":
        return value if value in param["choices"] else DEFER
    if kind == "path":  # typer's TyperPath(exists=False, readable=True): only an existing unreadable path fails
        try:
            os.stat(value)
        except OSError:
            return value
        except ValueError:  # an embedded NUL: let click say what it says
            return DEFER
        return value if os.access(value, os.R_OK) else DEFER
    return value  # "str"


def _typer_value(param: Mapping[str, Any], raw: Any) -> Any:
    """What typer's convertor makes of click's value (typer.main `generate_*_convertor`)."""
    listed = param["listed"]
    if listed is not None:
        if raw is None or (listed == "none-if-empty" and len(raw) == 0):
            return None
        return [_typer_scalar(param, item) for item in raw]
    return _typer_scalar(param, raw)


def _typer_scalar(param: Mapping[str, Any], raw: Any) -> Any:
    convert = param["convert"]
    if convert is None or raw is None:
        return raw
    if convert == "path":
        from pathlib import Path

        return Path(raw)
    import importlib

    module, _, name = convert.removeprefix("enum:").partition(":")
    enum = getattr(importlib.import_module(module), name)
    return next((member for member in enum if str(member.value) == str(raw)), None)


def parse(params: Sequence[Mapping[str, Any]], argv: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments for the command's body, or None when typer must parse `argv`."""
    by_flag: dict[str, tuple[Mapping[str, Any], bool]] = {}
    for param in params:
        by_flag.update({flag: (param, True) for flag in param["opts"]})
        by_flag.update({flag: (param, False) for flag in param["secondary"]})
    given: dict[str, Any] = {}
    positionals: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token[:1] != "-" or token == "-":  # click: an option has a prefix and more
            positionals.append(token)
            continue
        if token.startswith("--"):
            name, equals, attached = token.partition("=")
        elif len(token) == 2:
            name, equals, attached = token, "", ""
        else:  # `-ovalue`, `-o=value`, bundled flags: click's rules, not modelled here
            return None
        found = by_flag.get(name)
        if found is None:  # includes `--`, `--help` and every unknown option
            return None
        param, primary = found
        if param["flag"]:
            if equals:
                return None
            value: object = primary
        elif equals:
            value = _convert(param, attached)
        elif index < len(argv) and argv[index][:1] != "-":
            value = _convert(param, argv[index])
            index += 1
        else:
            return None
        if value is DEFER:
            return None
        if param["multiple"]:
            given.setdefault(param["name"], []).append(value)
        else:
            given[param["name"]] = value
    arguments = [param for param in params if param["argument"]]
    if len(arguments) > 1:
        return None
    for param in arguments:
        if param["nargs"] == -1:
            values = [_convert(param, token) for token in positionals]
            if DEFER in values:
                return None
            if values:
                given[param["name"]] = tuple(values)
        elif len(positionals) > 1:
            return None
        elif positionals:
            value = _convert(param, positionals[0])
            if value is DEFER:
                return None
            given[param["name"]] = value
    if positionals and not arguments:
        return None
    kwargs: dict[str, Any] = {}
    for param in params:
        name = param["name"]
        if name not in given:
            if param["required"]:
                return None
            raw = param["absent"]
        else:
            raw = tuple(given[name]) if param["multiple"] else given[name]
        kwargs[name] = _typer_value(param, raw)
    return kwargs


def run_fast(args: Sequence[str], table: Mapping[str, Mapping[str, Any]]) -> bool:
    """Run `beamkube ARGS` here when the table has the command and `parse` understands the rest; else False."""
    entry = table.get(args[0]) if args else None
    if entry is None or any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return False
    kwargs = parse(entry["params"], args[1:])
    if kwargs is None:
        return False
    import importlib

    module, _, function = entry["impl"].partition(":")
    body = getattr(importlib.import_module(module), function)
    try:
        body(**kwargs)
    except SystemExit:
        raise
    except BaseException as exc:
        sys.exit(failure_code(exc))
    return True


class _PacifyFlush:
    """click's `PacifyFlushWrapper`: after a closed pipe, the interpreter's final flush must not fail again."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            import errno

            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def failure_code(exc: BaseException) -> int:
    """Report `exc` as `run()` does after typer (one line on stderr) and return the exit code."""
    import errno

    from beamkube.cli.echo import echo
    from beamkube.errors import BeamkubeError

    if isinstance(exc, BeamkubeError):
        echo(f"beamkube: {exc}", err=True)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):  # typer: Exit(130)
        echo("beamkube: interrupted", err=True)
        return 130
    if isinstance(exc, EOFError):  # typer: a newline, then Abort
        echo(err=True)
        echo("beamkube: aborted", err=True)
        return 130
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        sys.stdout = _PacifyFlush(sys.stdout)
        sys.stderr = _PacifyFlush(sys.stderr)
        return 1
    if not isinstance(exc, Exception):
        raise exc
    from beamkube.errors import internal_error_line, usage_error_line

    code = getattr(exc, "exit_code", None)
    if hasattr(exc, "format_message") and isinstance(code, int):
        echo(f"beamkube: {usage_error_line(exc)}", err=True)
        return code
    echo(f"beamkube: {internal_error_line(exc)}", err=True)
    if os.environ.get("BEAMKUBE_DEBUG"):
        raise exc
    return 1
