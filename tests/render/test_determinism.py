"""Determinism: the same spec gives byte-identical output across runs, processes and hash seeds (YAML, JSON
and `--out` files), and reordering the keys of the spec's own maps (env, labels, selectors) changes nothing.

Role: tests; runs the console script in subprocesses and writes under tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from beamkube.output import dump_json, dump_yaml
from beamkube.render import render
from beamkube.spec import load_spec_text
from beamkube.spec.model import AppSpec

from .examples import EXAMPLES, example_spec, rendered

SCRIPT = str(Path(sys.executable).with_name("beamkube"))


def _cli(*args: str, seed: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([SCRIPT, *args], capture_output=True, env=env, cwd=cwd, timeout=60, check=True)


ALL_EXAMPLES = """
import json, sys
from beamkube.examples import example_names, example_path
from beamkube.output import dump_yaml
from beamkube.render import render
from beamkube.spec import load_spec
print(json.dumps({n: dump_yaml(render(load_spec(example_path(n))).objects) for n in example_names()}))
"""


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_output_is_identical_across_processes_and_hash_seeds(seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-c", ALL_EXAMPLES], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    texts = json.loads(result.stdout)
    assert sorted(texts) == EXAMPLES
    for example, text in texts.items():
        # compared with this process's rendering (not the golden files, whose drift test_golden reports)
        assert text == dump_yaml(rendered(example)), f"{example} differs with PYTHONHASHSEED={seed}"
    # and through the console script itself
    cli = _cli("render", "--example", "erlang-kv", "-q", seed=seed).stdout
    assert cli == dump_yaml(rendered("erlang-kv")).encode()


def test_json_and_out_directory_are_identical_across_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "999"):
        directory = tmp_path / seed
        json_out = _cli("render", "--example", "phoenix-shop", "-o", "json", "-q", seed=seed).stdout
        _cli("render", "--example", "phoenix-shop", "--out", str(directory), "-q", seed=seed)
        files = {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
        outputs.append((json_out, files))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == dump_json(rendered("phoenix-shop")).encode()
    assert len([name for name in outputs[0][1] if name != ".beamkube-files"]) == len(rendered("phoenix-shop"))


@pytest.mark.parametrize("example", EXAMPLES)
def test_repeated_renders_in_one_process_are_identical(example: str) -> None:
    spec = example_spec(example)
    first = dump_yaml(render(spec).objects)
    for _ in range(3):
        assert dump_yaml(render(spec).objects) == first
        assert dump_yaml(render(example_spec(example)).objects) == first


def test_key_order_of_user_maps_does_not_matter() -> None:
    raw = example_spec("phoenix-shop").model_dump(mode="json", exclude_none=True)
    raw["labels"] = {"team": "checkout", "cost-center": "42", "tier": "web"}
    raw["annotations"] = {"a.example.com/x": "1", "b.example.com/y": "2"}
    raw["placement"]["nodeSelector"] = {"pool": "beam", "disk": "ssd"}
    raw["env"] = {"PHX_HOST": "shop.example.com", "POOL_SIZE": "10", "ECTO_IPV6": "false"}
    shuffled = dict(reversed(list(raw.items())))
    for key in ("labels", "annotations", "env"):
        shuffled[key] = dict(reversed(list(raw[key].items())))
    shuffled["placement"] = {
        **raw["placement"],
        "nodeSelector": dict(reversed(list(raw["placement"]["nodeSelector"].items()))),
    }
    first = dump_yaml(render(AppSpec.model_validate(raw)).objects)
    assert dump_yaml(render(AppSpec.model_validate(shuffled)).objects) == first
    # and the same through YAML text, as a user would write it
    assert dump_yaml(render(load_spec_text(yaml.safe_dump(shuffled, sort_keys=False))).objects) == first
