"""The console script end to end (a subprocess, so `run()`'s error handling is what is tested)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from beamkube import __version__


def beamkube(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_version_and_help() -> None:
    assert beamkube("--version").stdout.strip() == f"beamkube {__version__}"
    help_text = beamkube("--help").stdout
    for command in ("render", "schema"):
        assert command in help_text


def test_render_example_stdout_and_summary_on_stderr() -> None:
    result = beamkube("render", "--example", "better-together")
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.stdout)]
    assert kinds[-2:] == ["Deployment", "HorizontalPodAutoscaler"]
    assert result.stderr.startswith("better-together: Deployment; QoS beam: Guaranteed;")
    assert "8 objects" in result.stderr


def test_unknown_example_is_one_line_exit_2() -> None:
    result = beamkube("render", "--example", "nope")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--example 'nope' is not bundled; choose one of: astarte-pairing, better-together" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_default_spec_names_the_file(tmp_path: Path) -> None:
    result = beamkube("render", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "beamkube: beamkube.yaml: file not found\n"


def test_bad_kube_version(tmp_path: Path) -> None:
    result = beamkube("render", "--example", "erlang-kv", "--kube-version", "1.21")
    assert result.returncode == 2
    assert "older than 1.25" in result.stderr


def test_cookie_file_renders_secret_and_never_echoes_it(tmp_path: Path) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_text("s3cr3t-cookie-value-0123456789\n")
    result = beamkube("render", "--example", "erlang-kv", "--cookie-file", str(cookie), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "s3cr3t" not in result.stderr and result.stdout == ""
    secret = yaml.safe_load((tmp_path / "o" / "02-secret-kv-erlang-cookie.yaml").read_text())
    assert secret["kind"] == "Secret" and secret["immutable"] is True
    short = tmp_path / "short"
    short.write_text("abc")
    bad = beamkube("render", "--example", "erlang-kv", "--cookie-file", str(short))
    assert bad.returncode == 2 and "at least 16" in bad.stderr and "abc" not in bad.stderr


def test_schema_is_json_schema_with_descriptions() -> None:
    import json

    schema = json.loads(beamkube("schema").stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "name" in schema["required"] and "image" in schema["required"]
    assert schema["additionalProperties"] is False
    assert "description" in schema["properties"]["identity"] or "$ref" in str(schema["properties"]["identity"])


def test_cookie_file_with_leading_dash_is_refused(tmp_path: Path) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_text("-abcdefghijklmnopqrstuvwxyz\n")  # erl would read `-setcookie -abc...` as a flag
    result = beamkube("render", "--example", "erlang-kv", "--cookie-file", str(cookie))
    assert result.returncode == 2 and "leading '-'" in result.stderr and "abcdefgh" not in result.stderr
