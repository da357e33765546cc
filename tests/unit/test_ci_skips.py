"""In CI a skip is a failure (tests/conftest.py), whatever form the CI variable takes; e2e may still skip.

Role: tests of the suite's own configuration; runs pytest in-process on generated test files (pytester).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ci import in_ci

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n    e2e: real cluster\n"
CONFTEST = (Path(__file__).resolve().parents[1] / "conftest.py").read_text()
TESTS = """
import pytest

def test_skips():
    pytest.skip("erl is not installed")

@pytest.mark.e2e
def test_needs_cluster():
    pytest.skip("needs a real cluster")

@pytest.mark.xfail(reason="known")
def test_expected():
    assert False
"""


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_skip_fails_in_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("CI", value)
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*test_skips skipped in CI (*erl is not installed*"])


@pytest.mark.parametrize("value", ["", "false"])
def test_a_skip_stays_a_skip_on_a_laptop(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("CI", value)
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(skipped=2, xfailed=1)


def test_a_module_level_skip_fails_in_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("import pytest\npytest.skip('no podman', allow_module_level=True)\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI (*no podman*"])


def test_in_ci_reads_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    monkeypatch.setenv("CI", " TRUE ")
    assert in_ci()
