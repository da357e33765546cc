"""`render --out DIR` as a transaction over a directory it shares with the user and other apps: it writes
only its own files, removes only what it wrote earlier for the same app, and a failure at any point leaves
the previous set byte for byte.

Role: tests; renders into tmp_path through the real CLI entry point. Failures are injected by making the
operating-system call fail (os.fsync while staging, os.replace while committing), as a full disk would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.input.helpers import beamkube, one_line_error, tree

Capture = pytest.CaptureFixture[str]
SHOP = "name: shop\nimage: ghcr.io/acme/shop:1.0\n"
CART = "name: cart\nimage: ghcr.io/acme/cart:1.0\n"
JOB = "jobs:\n  - {name: migrate, eval: Shop.Release.migrate()}\n"


def _render(monkeypatch: pytest.MonkeyPatch, capsys: Capture, tmp_path: Path, spec: str, *extra: str):  # type: ignore[no-untyped-def]
    (tmp_path / "beamkube.yaml").write_text(spec)
    return beamkube(monkeypatch, capsys, "render", "beamkube.yaml", "-q", "--out", "out", *extra, cwd=tmp_path)


def _files(tmp_path: Path) -> dict[str, bytes]:
    return tree(tmp_path / "out")


def test_second_app_leaves_the_first_apps_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    shop = {k: v for k, v in _files(tmp_path).items() if k != ".beamkube-files"}
    assert _render(monkeypatch, capsys, tmp_path, CART).code == 0
    after = _files(tmp_path)
    assert all(after[name] == data for name, data in shop.items())
    assert any("cart" in name for name in after)
    record = json.loads(after[".beamkube-files"])
    assert sorted(record["apps"]) == ["default/cart", "default/shop"]


def test_rerender_removes_only_its_own_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP + JOB).code == 0
    (tmp_path / "out" / "notes.md").write_text("mine")
    (tmp_path / "out" / "99-job-mine.yaml").write_text("app.kubernetes.io/managed-by: beamkube\n")
    job_files = [n for n in _files(tmp_path) if "-job-" in n and n != "99-job-mine.yaml"]
    assert job_files
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    after = _files(tmp_path)
    assert not any(name in after for name in job_files)
    assert after["notes.md"] == b"mine" and "99-job-mine.yaml" in after


def test_edited_stale_file_is_kept_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP + JOB).code == 0
    job = next(n for n in _files(tmp_path) if "-job-" in n)
    (tmp_path / "out" / job).write_text("# edited by hand\n")
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP)
    assert outcome.code == 0
    assert outcome.err == f"beamkube: warning: out/{job} was edited since beamkube wrote it; left in place\n"
    assert (tmp_path / "out" / job).read_text() == "# edited by hand\n"


def test_user_file_with_a_beamkube_name_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    first = sorted(n for n in _files(tmp_path) if n[0].isdigit())[0]
    (tmp_path / "out").rename(tmp_path / "reference")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / first).write_text("kind: ConfigMap  # the user's own\n")
    before = _files(tmp_path)
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP)
    one_line_error(outcome, f"out/{first}: exists and beamkube did not write it; it is left alone (remove it, "
                   "or render into another --out directory)", code=1)  # fmt: skip
    assert _files(tmp_path) == before


def test_file_of_another_app_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    record = tmp_path / "out" / ".beamkube-files"
    data = json.loads(record.read_text())
    data["apps"]["other/thing"] = data["apps"].pop("default/shop")
    record.write_text(json.dumps(data))
    before = _files(tmp_path)
    name = sorted(data["apps"]["other/thing"])[0]
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP)
    one_line_error(outcome, f"out/{name}: exists and beamkube wrote it for app other/thing; it is left alone "
                   "(remove it, or render into another --out directory)", code=1)  # fmt: skip
    assert _files(tmp_path) == before


@pytest.mark.parametrize("when", ["staging", "commit"])
def test_failure_midway_leaves_previous_set(
    when: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP + JOB).code == 0
    before = _files(tmp_path)
    calls = {"n": 0}
    real = os.fsync if when == "staging" else os.replace

    def failing(*args: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real(*args)  # type: ignore[operator]

    monkeypatch.setattr(os, "fsync" if when == "staging" else "replace", failing)
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP + "replicas: 5\n")
    monkeypatch.undo()
    tail = "the previous files are unchanged" if when == "staging" else "the previous files are back"
    one_line_error(outcome, f"out: cannot write (No space left on device); {tail}", code=1)
    assert _files(tmp_path) == before
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".beamkube-staging-")]


def test_yaml_to_json_replaces_the_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    assert _render(monkeypatch, capsys, tmp_path, SHOP, "-o", "json").code == 0
    names = [n for n in _files(tmp_path) if n != ".beamkube-files"]
    assert names and all(n.endswith(".json") for n in names)


def test_legacy_files_of_the_same_app_are_adopted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """A directory rendered before the record existed: the same app's files (by name pattern and labels) are
    replaced, another app's are left."""
    assert _render(monkeypatch, capsys, tmp_path, SHOP + JOB).code == 0
    (tmp_path / "out" / ".beamkube-files").unlink()
    other = "app.kubernetes.io/managed-by: beamkube\napp.kubernetes.io/instance: cart\nnamespace: default\n"
    (tmp_path / "out" / "42-service-cart.yaml").write_text(other)
    assert _render(monkeypatch, capsys, tmp_path, SHOP).code == 0
    after = _files(tmp_path)
    assert not any("-job-" in n for n in after)
    assert after["42-service-cart.yaml"] == other.encode()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("{not json", "unreadable"),
        ('{"apps": []}', "not in its format"),
        ('{"apps": {"a/b": {"x": 1}}}', "not in its format"),
    ],
)
def test_corrupt_record_changes_nothing(
    record: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".beamkube-files").write_text(record)
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP)
    what = "unreadable" if message == "unreadable" else "not in its format"
    one_line_error(outcome, f"out/.beamkube-files: beamkube's record of the files it wrote is {what}; remove it", 1)
    assert _files(tmp_path) == {".beamkube-files": record.encode()}


def test_out_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    (tmp_path / "out").write_text("x")
    one_line_error(_render(monkeypatch, capsys, tmp_path, SHOP), "out: exists and is not a directory", code=1)
    assert (tmp_path / "out").read_text() == "x"


def test_out_below_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    (tmp_path / "blocker").write_text("x")
    (tmp_path / "beamkube.yaml").write_text(SHOP)
    outcome = beamkube(monkeypatch, capsys, "render", "-q", "--out", "blocker/out", cwd=tmp_path)
    one_line_error(outcome, "blocker/out: cannot create the directory (Not a directory)", code=1)


def test_invalid_spec_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP + "replicas: -1\n")
    one_line_error(outcome, "beamkube.yaml:3: replicas: -1 is out of range; must be >= 0")
    assert not (tmp_path / "out").exists()


def test_failure_into_a_new_directory_leaves_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    real = os.fsync

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    outcome = _render(monkeypatch, capsys, tmp_path, SHOP)
    monkeypatch.setattr(os, "fsync", real)
    one_line_error(outcome, "out: cannot write (Input/output error); the previous files are unchanged", code=1)
    assert not (tmp_path / "out").exists()
