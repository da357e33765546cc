"""`--kube-version` as a user types it: a real Kubernetes `1.Y` (or `v1.Y.Z`) within the range beamkube supports.

Role: pure. Digits are ASCII only (`int()` would accept `1_0` and full-width `１`), and the range ends at the
newest release whose OpenAPI schemas the test suite validates rendered output against (kubernetes-validate).
"""

from __future__ import annotations

import re

MIN_SUPPORTED = (1, 25)  # policy/v1, autoscaling/v2 and batch/v1 CronJob all exist from here
MAX_SUPPORTED = (1, 37)
_VERSION = re.compile(r"v?([0-9]+)\.([0-9]+)(\.[0-9]+)?", re.ASCII)


def check_kube_version(text: str, option: str = "--kube-version") -> tuple[int, int]:
    """(major, minor), or ValueError with a one-line message naming what is allowed."""
    low, high = (f"{v[0]}.{v[1]}" for v in (MIN_SUPPORTED, MAX_SUPPORTED))
    match = _VERSION.fullmatch(text)
    if match is None or len(text) > 20:
        shown = text if text.isprintable() and len(text) <= 20 else "value"
        raise ValueError(f"{option} {shown} is not a Kubernetes version; use X.Y between {low} and {high}, e.g. 1.33")
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_SUPPORTED:
        raise ValueError(
            f"{option} {text} is older than {low}, the oldest with every API beamkube emits "
            "(policy/v1, autoscaling/v2, batch/v1 CronJob)"
        )
    if version > MAX_SUPPORTED:
        raise ValueError(f"{option} {text} is newer than {high}, the newest beamkube's output is validated against")
    return version


def kube_version_option(text: str) -> tuple[int, int]:
    """`--kube-version` of any command that renders (render, deploy, status, diff, operator run): the same
    versions and messages everywhere, a bad value as a one-line usage error (exit 2)."""
    from beamkube.errors import UsageError

    try:
        return check_kube_version(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
