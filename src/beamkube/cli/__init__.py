"""The `beamkube` command line: one module per command group, each registering its commands.

Role: I/O edge (terminal, files). Command modules import only typer at load time; the work they call is
imported inside the command, so `beamkube --help` and `beamkube render` start fast.
"""
