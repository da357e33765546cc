"""checkov (the mainstream manifest checker installable here) over every example's rendered output: no failed
Kubernetes check except the allow-list below, each justified in docs/checkov.md. A digest-pinned variant with
`imagePullPolicy: Always` shows the two image checks on that list are the user's choice, not beamkube's.

Role: tests; writes manifests under tmp_path and runs `.venv-tools/bin/checkov` (a subprocess, no network:
`--skip-download`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from beamkube.output import write_objects
from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.support.ci import in_ci

from .examples import EXAMPLES, example_spec

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
DOCS = ROOT / "docs" / "checkov.md"
DIGEST = "ghcr.io/acme/shop@sha256:" + "0123456789abcdef" * 4

# check id → the examples whose output may fail it (None: any). Justifications: docs/checkov.md.
ALLOWED: dict[str, set[str] | None] = {
    "CKV_K8S_15": None,  # imagePullPolicy Always: IfNotPresent is the default for pinned tags
    "CKV_K8S_43": None,  # image digest: the examples pin tags; the spec accepts digests
    "CKV_K8S_35": None,  # secrets as env: release scripts read RELEASE_COOKIE; secretEnv is explicit
    "CKV_K8S_38": {"chat-libcluster"},  # SA token: only libcluster's Kubernetes strategy gets one
}


def _checkov_results(directory: Path) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        if in_ci():
            pytest.fail(f"{CHECKOV} is missing: run scripts/install --with-tools")
        pytest.skip("checkov not installed (scripts/install --with-tools)")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--skip-download", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert reports and all(r["check_type"] == "kubernetes" for r in reports)
    failed: list[dict[str, Any]] = []
    for item in reports:
        assert item["summary"]["parsing_errors"] == 0, item["summary"]
        assert item["summary"]["passed"] > 100, "checkov ran suspiciously few checks"
        failed += item["results"]["failed_checks"]
    return failed


@pytest.fixture(scope="module")
def failed_checks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("checkov")
    for name in EXAMPLES:
        write_objects(out / name, render(example_spec(name)).objects, "yaml")
    pinned = example_spec("phoenix-shop").model_dump(mode="json", exclude_none=True)
    pinned.update(image=DIGEST, imagePullPolicy="Always")
    write_objects(out / "pinned", render(AppSpec.model_validate(pinned)).objects, "yaml")
    return _checkov_results(out)


def _example_of(check: dict[str, Any]) -> str:
    return str(check["file_path"]).strip("/").split("/")[0]


def test_no_failed_check_outside_the_allow_list(failed_checks: list[dict[str, Any]]) -> None:
    unexpected = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})"
        for c in failed_checks
        if c["check_id"] not in ALLOWED
        or (ALLOWED[c["check_id"]] is not None and _example_of(c) not in (ALLOWED[c["check_id"]] or set()))
    ]
    assert unexpected == [], "\n".join(unexpected)


def test_image_checks_pass_when_the_user_pins_a_digest(failed_checks: list[dict[str, Any]]) -> None:
    pinned = {c["check_id"] for c in failed_checks if _example_of(c) == "pinned"}
    assert "CKV_K8S_43" not in pinned
    assert "CKV_K8S_15" not in pinned
    # ... while the tag-pinned examples do fail them, so the allow-list entries are not dead.
    assert {"CKV_K8S_15", "CKV_K8S_43"} <= {c["check_id"] for c in failed_checks if _example_of(c) != "pinned"}


def test_every_allowed_check_is_justified_in_the_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for check_id in ALLOWED:
        assert f"`{check_id}`" in text, f"{check_id} has no justification in {DOCS}"
