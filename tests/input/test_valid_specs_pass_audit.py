"""Whatever `render` accepts, `beamkube audit` passes at error severity: valid-by-field specs from
tests/render/strategies.py (every field varied within what the model accepts, cross-field rules left to the
model) go through the real CLI, and each one that renders is audited.

Role: tests (hypothesis), in-process through stdin. This property found that a CPU-based HPA without any CPU
request or limit (audit BK503) and a minAvailable budget on an app with replicas: 0 (BK402) rendered; both
are now spec errors (beamkube.spec.bounds).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from tests.input.test_fuzz import _assert_clean, _cli
from tests.render.strategies import app_spec


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(app_spec())
def test_every_rendered_spec_passes_audit_at_error(spec: dict[str, Any]) -> None:
    code, out, err = _cli("render", "-q", "-", stdin=yaml.safe_dump(spec).encode())
    _assert_clean(code, err)
    if code == 0:
        audit_code, report, audit_err = _cli("audit", "--min-severity", "error", "-", stdin=out.encode())
        assert audit_code == 0, f"rendered but audit fails at error severity:\n{report}{audit_err}"
