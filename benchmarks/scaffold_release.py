"""Benchmark: how long the scaffold path takes with real releases on this machine.

Role: benchmark script (process, file and namespace I/O; needs root for the boot part). Prints, per fixture:
the generators (detect + spec + Dockerfile + workflow, in-process), replaying the Dockerfile's builder stage
with Debian's toolchain (cold, fresh directory), and the time from the container command to the first answer
of `bin/<release> pid` when started read-only as the rendered pod, and to a clean exit after SIGTERM.

Run: .venv/bin/python benchmarks/scaffold_release.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.scaffold.test_release_boot import launch, render_json
from tests.support.releases import FIXTURES, rendered_container, replay_builder

from beamkube.scaffold.ci import workflow
from beamkube.scaffold.detect import detect, read_project
from beamkube.scaffold.dockerfile import build_plan, choose_versions, dockerfile
from beamkube.scaffold.spec_file import spec_yaml
from beamkube.spec import load_spec_text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print(f"command: .venv/bin/python benchmarks/scaffold_release.py --runs {runs}")
    for fixture in ("mix_app", "rebar_app"):
        started = time.perf_counter()
        project = detect(read_project(FIXTURES / fixture))
        text = spec_yaml(project)
        spec = load_spec_text(text)
        versions, _ = choose_versions(project)
        dockerfile(spec, project, versions)
        workflow(spec, project, versions, spec_path="beamkube.yaml")
        generate_ms = (time.perf_counter() - started) * 1000
        builds, answers, totals = [], [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="bk-bench-") as scratch:
                work = Path(scratch) / "build"
                work.mkdir()
                plan = build_plan(project, versions)
                t0 = time.perf_counter()
                replay_builder(FIXTURES / fixture, plan, work)
                builds.append(time.perf_counter() - t0)
                objects = render_json(text, Path(scratch))
                pod_spec, container = rendered_container(objects)
                run, _, _ = launch(spec, objects, pod_spec, container, work / plan.release_dir, Path(scratch))
                assert run.facts.get("exit") == "0", run.output
                answers.append(int(run.facts["boot_ms"]))
                totals.append(run.seconds)
        print(
            f"{fixture}: generate {generate_ms:.1f} ms; builder replay median {statistics.median(builds):.2f} s; "
            f"first answer median {statistics.median(answers)} ms (min {min(answers)}, max {max(answers)}); "
            f"start→SIGTERM→exit whole run median {statistics.median(totals):.2f} s  [{runs} runs]"
        )


if __name__ == "__main__":
    main()
