"""Spec-layer benchmark: what a cold process pays to import the spec models and loader and to validate its
first spec, and the cost of validating 1,000 specs in one process.

Role: benchmark (not a test); runs fresh interpreters as subprocesses (bytecode writing allowed, as for an
installed beamkube) and prints its numbers with the command that produced them. CPU time (user + sys) is
reported beside wall time because the 2-core machines are shared. Runs against whichever `beamkube` the
interpreter imports, so the same script measures an older tree too (`PYTHONPATH=<tree>/src`).

    .venv/bin/python benchmarks/spec_bench.py [--runs 15] [--specs 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHILD = """
import json, sys, time
before = set(sys.modules)
wall, cpu = time.perf_counter(), time.process_time()
import beamkube.spec.load
imported = (time.perf_counter() - wall, time.process_time() - cpu)
from beamkube.examples import example_path
wall, cpu = time.perf_counter(), time.process_time()
beamkube.spec.load.load_spec(example_path("better-together"))
first = (time.perf_counter() - wall, time.process_time() - cpu)
print(json.dumps({"import": imported, "first": first, "modules": len(set(sys.modules) - before)}))
"""


def cold(runs: int) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, env=env)  # write .pyc files
    return [
        json.loads(subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, env=env).stdout)
        for _ in range(runs)
    ]


def batch(count: int, repeat: int) -> float:
    """Median seconds to validate `count` varied specs with the loader's `parse_spec`."""
    sys.path.insert(0, str(Path(__file__).parent))
    from render_bench import varied_specs

    from beamkube.spec import parse_spec

    specs = varied_specs(count)
    for raw in specs[:20]:
        parse_spec(raw)  # first-use costs belong to the cold figure
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for raw in specs:
            parse_spec(raw)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import beamkube

    print(f"beamkube from {Path(beamkube.__file__).parent}; load average {os.getloadavg()[0]:.2f}")
    results = cold(args.runs)

    def median(key: str, index: int) -> float:
        return statistics.median(float(r[key][index]) for r in results)

    print(f"$ {sys.executable} -c 'import beamkube.spec.load; load_spec(better-together)'  ({args.runs} runs)")
    print(
        f"import spec layer: median {median('import', 0) * 1000:.1f} ms wall, {median('import', 1) * 1000:.1f} ms "
        f"CPU, {statistics.median(int(r['modules']) for r in results)} modules (msgspec and yaml included)"
    )
    print(f"first validation: median {median('first', 0) * 1000:.1f} ms wall, {median('first', 1) * 1000:.1f} ms CPU")
    seconds = batch(args.specs, args.repeat)
    print(f"$ {sys.executable} benchmarks/spec_bench.py --specs {args.specs}  (median of {args.repeat})")
    print(f"{args.specs} specs validated with parse_spec: {seconds:.3f} s ({seconds / args.specs * 1e6:.0f} µs each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
