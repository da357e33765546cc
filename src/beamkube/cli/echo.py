"""`echo`: what `typer.echo` (click's `echo`) writes, without importing typer or click.

Role: I/O edge (writes stdout or stderr). The command bodies print through this so they run the same with and
without typer on the import path (`beamkube.cli.fast`).

It reproduces click 8's `echo` for text: append the newline, strip ANSI colour codes unless `color` is True
(or None on a terminal), write, flush. Click re-wraps a stream it considers misconfigured (no encoding or
errors attribute, or an ASCII encoding, which it replaces by UTF-8 with `errors="replace"`): for such a
stream this hands the message to click itself, so the bytes are click's in every case.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the fast path
if TYPE_CHECKING:
    from typing import TextIO

# click.utils's `_ansi_re`, applied only when an escape character is present (the common case skips `re`).
_ANSI = r"\033\[[;?0-9]*[a-zA-Z]"


def _click_keeps(stream: TextIO) -> bool:
    """Whether click would write to `stream` as it is (click._compat `_force_correct_text_stream`)."""
    encoding = getattr(stream, "encoding", None)
    if encoding is None or getattr(stream, "errors", None) is None or sys.platform.startswith("win"):
        return False
    import codecs

    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return False


def _strip_ansi(stream: TextIO, color: bool | None) -> bool:
    """click.utils `should_strip_ansi`: a given `color` decides; else strip unless a terminal (or Jupyter)."""
    if color is not None:
        return not color
    try:
        tty = stream.isatty()
    except Exception:  # click treats any failure as "not a terminal"
        tty = False
    return not tty and not type(stream).__module__.startswith("ipykernel.")


def echo(message: str = "", *, nl: bool = True, err: bool = False, color: bool | None = None) -> None:
    """Print `message` (and a newline) to stdout, or stderr with `err`, exactly as `typer.echo` would."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no console (pythonw): click prints nothing
        return
    if not _click_keeps(stream):
        import typer

        typer.echo(message, nl=nl, err=err, color=color)
        return
    out = message + "\n" if nl else message
    if out:
        if "\033" in out and _strip_ansi(stream, color):
            import re

            out = re.sub(_ANSI, "", out)
        stream.write(out)
    stream.flush()
