"""Cluster operations built on `beamkube.kube`: deploy, status, diff, rollback, destroy.

Role: network I/O. Each module exposes coroutines taking a `KubeClient` and a `Plan` (the spec with CLI
overrides and its rendered objects) and reporting through an `out(line)` callable, so the CLI, tests and the
operator can drive them; `beamkube.cli.ops` wires them to commands with `asyncio.run`.
"""
