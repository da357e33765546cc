"""Render benchmark: cold `beamkube render --example better-together` wall time (median of N subprocess runs)
and 1,000 varied specs validated, rendered and dumped to YAML in one process.

Role: benchmark (not a test); runs subprocesses and prints its numbers and the command that produced them.
Goals from issue 15: one cold render <= 0.12 s wall, 1,000 specs validated, rendered and dumped <= 1 s, on
the 2-core machines: measured phase by phase (wall and CPU of each) and spec by spec. The children run with
bytecode writing allowed (an installed beamkube has its .pyc files); benchmarks/startup_bench.py has the
other start-up figures and the interpreter floor.

    .venv/bin/python benchmarks/render_bench.py [--runs 15] [--specs 1000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from beamkube.examples import example_names, example_path
from beamkube.output import dump_yaml
from beamkube.render import render
from beamkube.spec.model import AppSpec

COLD_GOAL = 0.12
BATCH_GOAL = 1.0


def _script() -> str:
    found = Path(sys.executable).with_name("beamkube")
    return str(found) if found.exists() else (shutil.which("beamkube") or "beamkube")


def cold_render(runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) time of the installed console script, output discarded (as a user or CI
    runs it). CPU time is reported too because other jobs on a shared 2-core machine inflate wall time."""
    command = [_script(), "render", "--example", "better-together"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, check=True, capture_output=True, env=env)  # warm the page cache and .pyc files
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def varied_specs(count: int, seed: int = 2) -> list[dict[str, Any]]:
    """`count` specs derived from the bundled examples: names, namespaces, images, replicas, resources,
    env, discovery and autoscaling vary, so no two renders are alike."""
    rng = random.Random(seed)
    bases = [yaml.safe_load(example_path(name).read_text(encoding="utf-8")) for name in example_names()]
    specs = []
    for index in range(count):
        spec = dict(bases[index % len(bases)])
        spec["name"] = f"{spec['name'][:30]}-{index}"
        spec["namespace"] = f"team-{rng.randrange(50)}"
        spec["image"] = f"registry.example.com/app-{index}:{rng.randrange(1, 99)}.{rng.randrange(10)}.0"
        if "autoscaling" not in spec:
            # A static peer list bounds the replicas (cluster.maxReplicas): stay within it.
            most = (spec.get("cluster") or {}).get("maxReplicas") or 8
            spec["replicas"] = rng.randrange(1, most + 1)
        cpu = rng.choice(["250m", "500m", "1", "2", "3"])
        spec["resources"] = {
            "requests": {"cpu": cpu, "memory": f"{rng.randrange(1, 8) * 256}Mi"},
            "limits": {"cpu": cpu},
        }
        spec["env"] = {f"APP_SETTING_{k}": str(rng.random()) for k in range(rng.randrange(4))}
        specs.append(spec)
    return specs


def batch(specs: list[dict[str, Any]]) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of each phase over all the specs (validate every spec, render every model, dump
    every object list: everything stays alive until the end), and the bytes written."""
    walls, cpus = [time.perf_counter()], [time.process_time()]
    models = [AppSpec.model_validate(raw) for raw in specs]
    walls.append(time.perf_counter())
    cpus.append(time.process_time())
    results = [render(model).objects for model in models]
    walls.append(time.perf_counter())
    cpus.append(time.process_time())
    size = sum(len(dump_yaml(objects)) for objects in results)
    walls.append(time.perf_counter())
    cpus.append(time.process_time())
    return [b - a for a, b in itertools.pairwise(walls)], [b - a for a, b in itertools.pairwise(cpus)], size


def pipeline(specs: list[dict[str, Any]]) -> tuple[float, float, int]:
    """Wall and CPU seconds of validate → render → dump spec by spec, keeping only the YAML text (as a batch
    render to files or an operator's reconcile loop does), and the bytes written. Holding every model and
    object list alive, as `batch` does to time the phases apart, makes the garbage collector's full passes
    walk ever more objects; this is the same work without that."""
    wall, cpu = time.perf_counter(), time.process_time()
    texts = [dump_yaml(render(AppSpec.model_validate(raw)).objects) for raw in specs]
    return time.perf_counter() - wall, time.process_time() - cpu, sum(len(text) for text in texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="Batches to run; the median one is reported.")
    args = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    times, cpus = cold_render(args.runs)
    median = statistics.median(times)
    print(f"$ {_script()} render --example better-together  ({args.runs} runs)")
    print(
        f"cold render: median {median:.3f} s wall, min {min(times):.3f} s, max {max(times):.3f} s; "
        f"median CPU {statistics.median(cpus):.3f} s (goal <= {COLD_GOAL} s wall: "
        f"{'met' if median <= COLD_GOAL else 'MISSED'})"
    )

    specs = varied_specs(args.specs)
    batch(specs[:20])  # warm-up: first-use costs (schema caches) belong to the cold number, not this one
    runs = sorted((batch(specs) for _ in range(args.repeat)), key=lambda run: sum(run[0]))
    walls, cpus, size = runs[len(runs) // 2]
    total = sum(walls)
    print(f"$ {sys.executable} benchmarks/render_bench.py --specs {args.specs}  (median of {args.repeat} batches)")
    parts = ", ".join(
        f"{name} {wall:.3f} s (CPU {cpu:.3f})"
        for name, wall, cpu in zip(("validate", "render", "YAML dump"), walls, cpus, strict=True)
    )
    print(
        f"{args.specs} specs, phase by phase: {total:.3f} s total ({parts}; {size / 1e6:.1f} MB; "
        f"CPU {sum(cpus):.3f} s) (goal <= {BATCH_GOAL} s: {'met' if total <= BATCH_GOAL else 'MISSED'})"
    )
    flows = sorted(pipeline(specs) for _ in range(args.repeat))
    wall, cpu, size = flows[len(flows) // 2]
    print(
        f"{args.specs} specs, spec by spec (validate → render → dump, YAML kept): {wall:.3f} s "
        f"(CPU {cpu:.3f} s; {size / 1e6:.1f} MB) (goal <= {BATCH_GOAL} s: {'met' if wall <= BATCH_GOAL else 'MISSED'})"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
