"""Command group `scaffold` (being built; registers nothing yet).

Role: I/O edge.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """No commands yet."""
