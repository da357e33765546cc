"""beamkube's own error hierarchy.

Role: data only (no I/O). Every error the CLI reports to a user derives from `BeamkubeError` and renders as
one line; the CLI maps the class to an exit code, so no traceback reaches the terminal.
"""

from __future__ import annotations


class BeamkubeError(Exception):
    """Base class: `str(error)` is the one-line message shown to the user."""

    exit_code = 1


class SpecError(BeamkubeError):
    """The spec file is unreadable, malformed or invalid. Message: `FILE:LINE: PATH: what is allowed`."""

    exit_code = 2

    def __init__(self, source: str, line: int | None, path: str, message: str) -> None:
        self.source = source
        self.line = line
        self.path = path
        self.message = message
        where = f"{source}:{line}" if line is not None else source
        field = f" {path}:" if path else ""
        super().__init__(f"{where}:{field} {message}")


class UsageError(BeamkubeError):
    """The command line asks for something impossible (unknown example, bad option combination)."""

    exit_code = 2


class OutputError(BeamkubeError):
    """Writing the result failed (permissions, disk full)."""

    exit_code = 1


def usage_error_line(exc: BaseException) -> str:
    """A click/typer usage error as one line: `render: no such option: --bogus (see beamkube render --help)`."""
    message = " ".join(str(getattr(exc, "format_message", lambda: str(exc))()).split())
    message = message.replace("Value error, ", "").rstrip(".")
    context = getattr(exc, "ctx", None)
    path = str(getattr(context, "command_path", "") or "beamkube")
    command = path.partition(" ")[2]
    where = f"{command}: " if command else ""
    return f"{where}{message[:1].lower()}{message[1:]} (see {path} --help)"


def internal_error_line(exc: BaseException) -> str:
    """An unexpected exception (a beamkube bug) as one line; BEAMKUBE_DEBUG=1 shows the traceback."""
    detail = " ".join(str(exc).split())[:200]
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"internal error ({what}); rerun with BEAMKUBE_DEBUG=1 and report it"
