"""Scaffolding: from a mix or rebar3 project to `beamkube.yaml`, a Dockerfile and a CI workflow.

Role: `detect.read_project` reads a project's files (I/O, read-only); everything else here is a pure
generator returning text. The CLI (`beamkube.cli.scaffold`) does the writing.
"""
