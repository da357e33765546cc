"""The CLI's fast start: `--help` and `--version` without typer, and the one module a command needs.

Role: reads the `beamkube.cli` sources (to check the cache is current) and writes to stdout; `python -m
beamkube.cli.startup` regenerates the cache file `_startup_cache.py` (file I/O).

Why: importing typer and all the command modules costs several times the interpreter's own start before any
work (benchmarks/startup_bench.py). So the help of the root and of every command is served from text
generated from the typer app itself (`generate()`); `render` and `audit` on a plain command line run from
their generated parameter tables without typer (`beamkube.cli.fast`); any other command is handed to a typer
app that holds only its own module. The cache records a digest of the `beamkube/cli` sources: when any of
them changes without a regeneration, the digest no longer matches and everything goes through the full typer
app (slow, never wrong), and `tests/unit/test_startup.py` fails until the cache is regenerated.
"""

from __future__ import annotations

import os
import sys
import zlib

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the `--help` path
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

CACHE_FILE = "_startup_cache.py"
REGENERATE = "python -m beamkube.cli.startup"
# click wraps help text at min(terminal columns, 80) - 2: the cached texts hold for terminals >= 80 wide.
HELP_COLUMNS = 80


def source_digest() -> str:
    """CRC-32 of every `beamkube/cli/*.py` but the cache, in name order (a staleness check, not security)."""
    here = os.path.dirname(os.path.abspath(__file__))
    digest = 0
    for name in sorted(os.listdir(here)):
        if name.endswith(".py") and name != CACHE_FILE:
            with open(os.path.join(here, name), "rb") as source:
                digest = zlib.crc32(name.encode() + b"\0" + source.read(), digest)
    return f"{digest:08x}"


def _current_cache() -> Any:
    """The generated cache module when it matches the sources, else None."""
    try:
        from beamkube.cli import _startup_cache as cache
    except ImportError:
        return None
    try:
        if source_digest() != cache.DIGEST:
            return None
    except OSError:
        return None
    return cache


def _terminal_columns() -> int:
    """What `shutil.get_terminal_size()` (which click uses) would return, without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else HELP_COLUMNS


def _invoked_as_beamkube() -> bool:
    """click names the program after argv[0]; the cache holds the console script's name."""
    main = sys.modules.get("__main__")
    return os.path.basename(sys.argv[0]) == "beamkube" and not getattr(main, "__package__", None)


def serve_fast(args: Sequence[str], version: str) -> bool:
    """Answer `beamkube --version` and `beamkube [COMMAND...] --help` here; False when typer must answer."""
    if list(args) == ["--version"]:
        sys.stdout.write(f"beamkube {version}\n")
        return True
    path = list(args[:-1])
    if not args or args[-1] != "--help" or any(part.startswith("-") for part in path):
        return False
    if _terminal_columns() >= HELP_COLUMNS and _invoked_as_beamkube():
        cache = _current_cache()
        text = cache.HELP.get(" ".join(path)) if cache is not None else None
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return True
    return False


def module_for(args: Sequence[str]) -> str | None:
    """The one command module the command in `args` needs, or None (unknown command, root options, stale
    cache): then the full app answers, with click's own messages."""
    if not args or args[0].startswith("-"):
        return None
    cache = _current_cache()
    return cache.COMMANDS.get(args[0]) if cache is not None else None


def run_fast(args: Sequence[str]) -> bool:
    """Run a command without typer when the cache has its parameter table and the command line is plain
    (`beamkube.cli.fast`); False when typer must run it."""
    if not args or args[0].startswith("-"):
        return False
    cache = _current_cache()
    if cache is None or args[0] not in cache.FAST:
        return False
    from beamkube.cli.fast import run_fast as run

    return run(args, cache.FAST)


def generate() -> str:
    """The cache file's text, from the full typer app: each module's commands, and the help of the root and of
    every command and group at 80 columns."""
    import pprint

    import typer

    from beamkube.cli.fast_table import fast_tables
    from beamkube.cli.main import COMMAND_MODULES, app_for

    commands: dict[str, str] = {}
    for module in COMMAND_MODULES:
        group = typer.main.get_command(app_for((module,)))
        for name in group.commands:  # type: ignore[attr-defined]
            commands.setdefault(name, module)
    lines = [
        f'"""Generated by `{REGENERATE}` from the typer app: do not edit.',
        "",
        "Role: data only. See `beamkube.cli.startup` for what it is and when it is used.",
        '"""',
        "",
        f'DIGEST = "{source_digest()}"',
        "",
        "COMMANDS = {",
        *(f'    "{name}": "{module}",' for name, module in commands.items()),
        "}",
        "",
        "HELP = {",
    ]
    for path in command_paths():
        lines.append(f'    "{" ".join(path)}": (')
        lines += [f"        {line!r}" for line in help_text(path).splitlines(keepends=True)]
        lines.append("    ),")
    tables = pprint.pformat(fast_tables(COMMAND_MODULES), width=116, sort_dicts=False)
    lines += ["}", "", "# Each fast command's body and parameters, from typer's click objects (fast_table).",
              f"FAST = {tables}", ""]
    return "\n".join(lines)


def command_paths() -> list[tuple[str, ...]]:
    """The root, then every command and group of the full app, depth first, as typer lists them."""
    import typer

    from beamkube.cli.main import COMMAND_MODULES, app_for

    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app_for(COMMAND_MODULES)), ())
    return paths


def help_text(path: Sequence[str] = ()) -> str:
    """What the full typer app prints for `beamkube PATH... --help` on an 80-column terminal."""
    import contextlib
    import io

    from beamkube.cli.main import COMMAND_MODULES, app_for

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_COLUMNS)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            app_for(COMMAND_MODULES)([*path, "--help"], prog_name="beamkube", standalone_mode=False)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return buffer.getvalue()


def main() -> None:
    """Write the cache next to this module."""
    from pathlib import Path

    from beamkube.output import write_atomic

    path = Path(__file__).resolve().with_name(CACHE_FILE)
    write_atomic(path, generate())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
