"""`beamkube audit --jobs N` (forked workers reading files) reports exactly what `--jobs 1` does.

Role: tests (write a corpus to tmp_path; run the CLI in-process, whose workers are real forked processes).
The corpus spreads related objects over files (a workload in one, its Service, PDB, NetworkPolicy and HPA in
others), so cross-object rules only agree if the rules see the whole input; reports, exit codes and the one-line
errors (a YAML error in a worker's file, a missing path, an empty file) must be byte-identical, and identical
from run to run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from beamkube.audit import parallel, split
from tests.audit.helpers import FIXTURES, SEEDS, fixture
from tests.audit.test_cli import Cli, cli, env  # noqa: F401  (env is a fixture)


def _corpus(root: Path) -> list[Path]:
    """Fixture objects dealt round-robin into files (related objects land in different files), the
    fixtures with their PDBs and NetworkPolicies dropped (cross-object findings), and the seeds."""
    objects = [o for name in ("web", "erlang-kv", "better-together", "astarte-pairing") for o in fixture(name)]
    dropped = [o for o in fixture("erlang-kv") if o["kind"] not in ("PodDisruptionBudget", "NetworkPolicy")]
    for o in dropped:
        o["metadata"]["namespace"] = "bare"
    files: list[Path] = []
    for n in range(4):
        path = root / "dealt" / f"part-{n}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all((objects + dropped)[n::4], sort_keys=False))
        files.append(path)
    seeds = root / "seeds"
    seeds.mkdir()
    for seed in sorted(SEEDS.glob("*.yaml")):
        (seeds / seed.name).write_text(seed.read_text())
    return [*files, seeds, FIXTURES / "good-web.yaml"]


_LOAD_FILE = parallel._load_file


def _spy_load_file(path: str) -> list[tuple[object, int]]:
    """`parallel._load_file` that logs the reading pid (module-level: the pool pickles it by name)."""
    with open(os.environ["BK_READERS"], "a") as log:
        log.write(f"{os.getpid()}\n")
    return _LOAD_FILE(path)


_LOAD_PART = split.load_part


def _spy_load_part(part: split.Part) -> list[tuple[object, int]]:
    with open(os.environ["BK_READERS"], "a") as log:
        log.write(f"{os.getpid()}\n")
    return _LOAD_PART(part)


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The size threshold off, and the pids that read files logged (so a test knows workers ran)."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "PART_BYTES", 300)  # the corpus' files are cut into parts too
    monkeypatch.setattr(parallel, "_load_file", _spy_load_file)
    monkeypatch.setattr(split, "load_part", _spy_load_part)


def _readers(path: Path) -> set[str]:
    return set(path.read_text().split()) if path.exists() else set()


@pytest.mark.parametrize("output", ["json", "text", "sarif"])
def test_parallel_report_is_the_serial_one(
    env: Cli, forced: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str  # noqa: F811
) -> None:
    inputs = [str(p) for p in _corpus(tmp_path)]
    log = tmp_path / "readers"
    monkeypatch.setenv("BK_READERS", str(log))
    args = ["-o", output, "--min-severity", "info", *inputs]
    serial = cli(*env, "--jobs", "1", *args)
    assert not _readers(log)  # --jobs 1: no worker
    first = cli(*env, "--jobs", "3", *args)
    workers = _readers(log)
    assert len(workers - {str(os.getpid())}) >= 1  # forked workers read some files (this process the first)
    again = cli(*env, "--jobs", "2", *args)
    assert serial == first == again
    assert serial[0] == 1 and serial[1].count("\n") > 50
    if output == "json":  # what makes the comparison worth something: findings that need another file
        assert '"rule": "BK3' in serial[1] and "bare" in serial[1]


@pytest.mark.parametrize(
    "damage",
    [
        ("seeds/000-pdb.yaml", "kind: Deployment\nmetadata: {name: [unclosed\n"),  # a YAML error in a worker
        ("seeds/000-probes.yaml", "just text\n"),  # not a Kubernetes object
        ("seeds/000-priority.yaml", ""),  # no object at all (inside a directory: skipped, not an error)
    ],
)
def test_errors_are_the_serial_ones(
    env: Cli, forced: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: tuple[str, str]  # noqa: F811
) -> None:
    inputs = [str(p) for p in _corpus(tmp_path)]
    (tmp_path / damage[0]).write_text(damage[1])
    monkeypatch.setenv("BK_READERS", str(tmp_path / "readers"))
    serial = cli(*env, "--jobs", "1", *inputs)
    assert serial == cli(*env, "--jobs", "2", *inputs)
    if damage[1]:
        assert serial[0] == 2 and serial[2].count("\n") == 1 and damage[0].split("/")[1] in serial[2]


def test_first_error_in_argument_order_wins(env: Cli, forced: None, tmp_path: Path,  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = [str(p) for p in _corpus(tmp_path)]
    (tmp_path / "dealt" / "part-2.yaml").write_text("a: [\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("---\n")
    monkeypatch.setenv("BK_READERS", str(tmp_path / "readers"))
    for order in ([*inputs, str(tmp_path / "missing.yaml")], [str(empty), *inputs], [str(tmp_path / "nope"), *inputs]):
        serial = cli(*env, "--jobs", "1", *order)
        assert serial[0] == 2
        assert serial == cli(*env, "--jobs", "4", *order), order


def test_one_small_file_starts_no_process(env: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    started: list[int] = []
    monkeypatch.setattr(parallel, "_load_file", lambda path: started.append(1) or [])
    code, out, _err = cli(*env, "--jobs", "8", str(FIXTURES / "good-web.yaml"), str(FIXTURES / "good-erlang-kv.yaml"))
    assert code == 0 and "No findings" in out and not started


# One stream with what a cut must respect: a block scalar whose indented lines look like markers, a `...` end,
# a List (item lines), an alias (the reference constructor inside a part), documents of every size.
TRICKY = """apiVersion: v1
kind: ConfigMap
metadata: {name: script}
data:
  run.sh: |
    echo start
    ---
    --- not a marker: indented
    ...
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: b}
...
--- # a comment after the marker
apiVersion: v1
kind: ConfigMap
metadata: &meta {name: shared, labels: {x: "1"}}
data: {copy: *meta}
"""


def _stream(tmp_path: Path, body: str, copies: int = 40) -> Path:
    deployment = yaml.safe_dump(fixture("web")[0], sort_keys=False)
    path = tmp_path / "stream.yaml"
    path.write_text("---\n".join([TRICKY, deployment] * copies) + body)
    return path


@pytest.mark.parametrize(
    "tail",
    [
        "",
        '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {a: "open\n---\nstill open"}\n',
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\ndata: [1,\n---\n2]\n",  # a flow across it
        "---\nkind: Pod\n",  # not an object (no apiVersion): the line must be the file's
        "--- |\nroot block scalar in column 0 (libyaml: an error)\n---\nx\n",
    ],
)
def test_a_stream_cut_at_markers_reads_as_one(
    env: Cli, forced: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: str  # noqa: F811
) -> None:
    path = _stream(tmp_path, tail)
    monkeypatch.setenv("BK_READERS", str(tmp_path / "readers"))
    parts = split.cut(str(path), path.stat().st_size, 300)
    assert len(parts) > 20 and all(p.start == 0 or path.read_bytes()[p.start:p.start + 3] == b"---" for p in parts)
    serial = cli(*env, "--jobs", "1", "-o", "json", "--min-severity", "info", str(path))
    assert serial == cli(*env, "--jobs", "2", "-o", "json", "--min-severity", "info", str(path))
    assert serial[0] == (2 if tail else 1)
    if not tail:
        lines = {f["line"] for f in json.loads(serial[1])["findings"]}
        assert max(lines) > path.read_text().count("\n") * 0.9  # lines of the last parts are the file's


def test_other_line_breaks_are_not_cut(tmp_path: Path) -> None:
    path = _stream(tmp_path, "")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert split.cut(str(path), path.stat().st_size, 300) == [split.whole(str(path))]
