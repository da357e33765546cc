"""beamkube's own output passes its audit; the rules page is generated; the auditor stays pure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beamkube.audit import Severity, audit_objects
from beamkube.audit.docs import rules_markdown
from beamkube.examples import example_names, example_path
from beamkube.render import render
from beamkube.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_examples_are_bundled() -> None:
    assert len(example_names()) >= 5


@pytest.mark.parametrize("kube", [(1, 25), (1, 33)])
@pytest.mark.parametrize("name", example_names())
def test_rendered_examples_pass_the_audit(name: str, kube: tuple[int, int]) -> None:
    objects = render(load_spec(example_path(name)), kube_version=kube).objects
    findings = audit_objects(objects, kube_version=kube, min_severity=Severity.WARNING)
    assert [f"{f.rule.id} {f.manifest.ref}: {f.message}" for f in findings] == []


def test_rendered_cookie_secret_passes_too() -> None:
    objects = render(load_spec(example_path("erlang-kv")), cookie=b"0123456789abcdefXYZ").objects
    assert any(o["kind"] == "Secret" for o in objects)
    assert audit_objects(objects, min_severity=Severity.WARNING) == []


def test_rules_page_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "audit-rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "run: python -m beamkube.audit.docs docs/audit-rules.md"


def test_audit_imports_no_kubernetes_client() -> None:
    code = (
        "import sys, beamkube.audit, beamkube.audit.loader, beamkube.audit.report, beamkube.audit.docs, "
        "beamkube.cli.audit\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('lightkube', 'kubernetes', 'kopf', 'httpx'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
