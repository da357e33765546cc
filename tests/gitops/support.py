"""Helpers for the GitOps tests: run the real CLI, read what it wrote, compare with `render`.

Role: test support (subprocesses and temp files).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from beamkube.gitops.ordering import ARGO_KEYS, HELM_KEYS, strip
from tests.support.ci import in_ci


def require(tool: str) -> str:
    """The tool's path; CI fails without it (scripts/install-system or the machine image provide it)."""
    path = shutil.which(tool)
    if path is None:
        if in_ci():
            pytest.fail(f"{tool} is not installed")
        pytest.skip(f"{tool} is not installed")
    return path


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def rendered(*args: str) -> list[dict[str, Any]]:
    """What `render -o json` prints (the reference the GitOps output must reproduce)."""
    items: list[dict[str, Any]] = json.loads(cli("render", *args, "-o", "json", "-q").stdout)["items"]
    return items


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    kubectl = require("kubectl")
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]


def without_gitops_annotations(obj: dict[str, Any]) -> dict[str, Any]:
    return strip(obj, (*ARGO_KEYS, *HELM_KEYS))


def key(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj["kind"]), str(obj["metadata"]["name"])
