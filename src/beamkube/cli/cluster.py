"""Command group `cluster`: `beamkube cluster-config` prints the libcluster/dns_cluster snippet for a spec.

Role: I/O edge (reads the spec, writes stdout). The generator is `beamkube.cluster_config` (pure).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer


class LibraryChoice(str, Enum):
    libcluster = "libcluster"
    dns_cluster = "dns_cluster"


def register(app: typer.Typer) -> None:
    app.command("cluster-config")(cluster_config_command)


def cluster_config_command(
    spec_path: Path = typer.Argument(Path("beamkube.yaml"), metavar="[SPEC]", help="The app spec."),
    library: LibraryChoice = typer.Option(
        LibraryChoice.libcluster, "--library", help="The clustering library the app uses."
    ),
    example: str | None = typer.Option(None, "--example", help="Use a bundled example instead of SPEC."),
) -> None:
    """Print the Elixir config for libcluster or dns_cluster matching the rendered pods."""
    from beamkube.cluster_config import Library, cluster_config
    from beamkube.examples import example_path
    from beamkube.spec import load_spec

    spec = load_spec(example_path(example) if example else spec_path)
    typer.echo(cluster_config(spec, Library(library.value)).text(), nl=False)
