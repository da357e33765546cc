"""beamkube: run BEAM (Erlang/Elixir/Gleam) applications on Kubernetes from a short spec.

Role: package root; no I/O, no heavy imports (the CLI's start-up time depends on it).
"""

__version__ = "0.1.0"
