"""The application spec: models (`model`) and loading with file/line-aware errors (`load`).

Role: re-exports; no I/O on import.
"""

from beamkube.spec.load import load_spec, load_spec_text, parse_spec
from beamkube.spec.model import AppSpec

__all__ = ["AppSpec", "load_spec", "load_spec_text", "parse_spec"]
