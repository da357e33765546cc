"""Entry point: builds the Typer app from the command-group modules and turns errors into one line.

Role: I/O edge. `run()` is the console script: a `BeamkubeError` prints `beamkube: <message>` on stderr and
exits with its code (2 for bad input); no traceback reaches the user.
"""

from __future__ import annotations

import importlib
import sys

import typer

from beamkube import __version__
from beamkube.errors import BeamkubeError

# Each module defines `register(app)`; order is the order in `--help`.
COMMAND_MODULES = ("render", "audit", "ops", "operator", "scaffold", "cluster", "beam")

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


for _module in COMMAND_MODULES:
    importlib.import_module(f"beamkube.cli.{_module}").register(app)


def run() -> None:
    """Console-script entry point."""
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
        import click

        # typer may vendor click (typer._click): recognise its usage errors by shape, not by class.
        code = getattr(exc, "exit_code", None)
        if isinstance(exc, click.ClickException) or (hasattr(exc, "show") and isinstance(code, int)):
            exc.show()
            sys.exit(code if isinstance(code, int) else 2)
        raise


if __name__ == "__main__":
    run()
