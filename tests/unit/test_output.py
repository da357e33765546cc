"""Serialisation and atomic writes: nothing half-written, nothing of the user's deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from beamkube.errors import OutputError
from beamkube.examples import example_path
from beamkube.output import dump_json, dump_yaml, write_atomic, write_objects
from beamkube.render import render
from beamkube.spec import load_spec


def objects() -> list[dict[str, object]]:
    return render(load_spec(example_path("erlang-kv"))).objects


def test_yaml_round_trips_and_vm_args_is_a_block() -> None:
    text = dump_yaml(objects())
    assert list(yaml.safe_load_all(text)) == objects()
    assert "vm.args.src: |" in text  # multi-line strings read like the files they are


def test_json_is_a_kubernetes_list() -> None:
    data = json.loads(dump_json(objects()))
    assert data["kind"] == "List" and data["items"] == objects()


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]


def test_write_atomic_into_a_file_path_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    with pytest.raises(OutputError):
        write_atomic(blocker / "x.yaml", "data")
    assert blocker.read_text() == "keep me"


def test_write_objects_prunes_only_its_own_stale_files(tmp_path: Path) -> None:
    # written by an older beamkube for this app (before .beamkube-files): adopted by its labels, then pruned
    mine_stale = tmp_path / "09-deployment-old.yaml"
    mine_stale.write_text(
        "metadata:\n  labels:\n    app.kubernetes.io/managed-by: beamkube\n    app.kubernetes.io/instance: kv\n"
        "  namespace: data\n"
    )
    # another app's file: beamkube wrote it, but not for this app (issue 14: it used to be deleted)
    other_app = tmp_path / "08-deployment-shop.yaml"
    other_app.write_text("metadata:\n  labels:\n    app.kubernetes.io/managed-by: beamkube\n"
                         "    app.kubernetes.io/instance: shop\n  namespace: default\n")  # fmt: skip
    users = tmp_path / "10-deployment-handwritten.yaml"
    users.write_text("metadata:\n  labels:\n    team: ops\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    written = write_objects(tmp_path, objects(), "yaml")
    assert not mine_stale.exists()
    assert users.exists() and notes.exists() and other_app.exists()
    assert written[0].name == "01-serviceaccount-kv.yaml"
    assert yaml.safe_load(written[-1].read_text())["kind"] == "StatefulSet"
