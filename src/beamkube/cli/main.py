"""Entry point: hands a command to the one command-group module that defines it; errors become one line.

Role: I/O edge. `run()` is the console script. `--version` and `[COMMAND...] --help` come from a generated cache
without importing typer (`beamkube.cli.startup`), and so do `render` and `audit` on a plain command line
(`beamkube.cli.fast`); any other command gets a typer app holding only its own module, so start-up pays for
one module's options, not all of them. A `BeamkubeError` prints
`beamkube: <message>` on stderr and exits with its code (2 for bad input); no traceback reaches the user.
`app` (the full typer app, every command) is built on first access.

Registering: a new command is one line in its module's `register(app)`; a new command-group module is one
line in `COMMAND_MODULES`. Then regenerate the start-up cache with `python -m beamkube.cli.startup` (until
then the CLI is correct but slow, and tests/unit/test_startup.py fails).
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache

from beamkube import __version__
from beamkube.errors import BeamkubeError

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing would cost `--help` ~2 ms
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import typer

# Each module defines `register(app)`; order is the order in `--help`.
COMMAND_MODULES = ("render", "audit", "ops", "operator", "scaffold", "cluster", "beam")


def build_app(modules: Sequence[str] = COMMAND_MODULES) -> typer.Typer:
    """The typer app with the commands of `modules` (all of them by default)."""
    import typer

    app = typer.Typer(
        name="beamkube",
        help="Run BEAM (Erlang/Elixir/Gleam) applications on Kubernetes from a short beamkube.yaml.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"beamkube {__version__}")
            raise typer.Exit()

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    ) -> None:
        """Run BEAM applications on Kubernetes."""

    for module in modules:
        importlib.import_module(f"beamkube.cli.{module}").register(app)
    return app


@cache
def app_for(modules: tuple[str, ...]) -> typer.Typer:
    # Built once per process: register() adds to module-level sub-apps (operator, ci), so not twice.
    return build_app(modules)


def __getattr__(name: str) -> Any:
    if name == "app":
        return app_for(COMMAND_MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """Console-script entry point."""
    from beamkube.cli import startup

    args = sys.argv[1:]
    if startup.serve_fast(args, __version__) or startup.run_fast(args):
        return
    module = startup.module_for(args)
    app = app_for((module,) if module else COMMAND_MODULES)
    import typer

    try:
        # Without standalone mode typer *returns* the code of `typer.Exit(n)` and turns Ctrl-C into
        # Exit(130): pass both on instead of exiting 0.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            if code == 130:
                typer.echo("beamkube: interrupted", err=True)
            sys.exit(code)
    except BeamkubeError as exc:
        typer.echo(f"beamkube: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("beamkube: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("beamkube: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        from beamkube.errors import internal_error_line, usage_error_line

        # typer may vendor click (typer._click): recognise its usage errors by shape, not by class.
        code = getattr(exc, "exit_code", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and hasattr(exc, "show"):
            exc.show()  # bare `beamkube`: the help text is the answer
            sys.exit(code if isinstance(code, int) else 2)
        if hasattr(exc, "format_message") and isinstance(code, int):
            typer.echo(f"beamkube: {usage_error_line(exc)}", err=True)
            sys.exit(code)
        typer.echo(f"beamkube: {internal_error_line(exc)}", err=True)  # a bug: one line, details on request
        if os.environ.get("BEAMKUBE_DEBUG"):
            raise
        sys.exit(1)


if __name__ == "__main__":
    run()
