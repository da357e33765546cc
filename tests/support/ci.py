"""Whether the tests run in CI, whatever form the CI variable takes.

Role: test support, reads the environment only. CI systems set `CI=true`, `CI=1`, `CI=True` or `CI=yes`;
an unset or empty variable, `0`, `false` or `no` means a developer's machine.
"""

from __future__ import annotations

import os

_FALSE = {"", "0", "false", "no", "off"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in _FALSE
