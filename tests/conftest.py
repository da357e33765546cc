"""Suite-wide pytest hooks: in CI no test may skip itself.

Role: test configuration, no I/O. CI runs every tier this machine can run (root, Erlang, network namespaces,
checkov, image builds), so a skip there means a missing install step, not an optional tier: it is turned into a
failure whatever form the CI variable takes (`true`, `1`, `yes`, ...). Only tests marked `e2e` (they need a real
cluster and an explicit opt-in) may skip in CI.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.support.ci import in_ci

ALLOWED_TO_SKIP_IN_CI = "e2e"


def _ci_failure(report: Any, what: str) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{what} skipped in CI ({reason}); CI must run it: install what it needs in scripts/"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not in_ci() or item.get_closest_marker(ALLOWED_TO_SKIP_IN_CI):
        return
    if hasattr(report, "wasxfail"):  # an expected failure is not a skip
        return
    _ci_failure(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and "e2e" not in collector.nodeid.split("/"):
        _ci_failure(report, collector.nodeid)
