"""Start-up benchmark: cold whole-process wall time of the CLI's quick commands, beside the interpreter floor.

Role: benchmark (not a test); runs subprocesses (writes one small manifest to a temporary directory) and
prints each figure with the exact command. Every row is the median of N cold runs of a fresh process, after
one warm-up run that also writes the .pyc files (PYTHONDONTWRITEBYTECODE is removed from the children's
environment: an installed beamkube has its bytecode). CPU time (user + sys) is reported beside wall time
because the other jobs on a shared 2-core machine inflate wall time.

Then the number of modules each command imports and which CLI frameworks (typer, click, argparse) are among
them: `render` and `audit` on a plain command line run from generated tables without any (beamkube.cli.fast).
`--alternatives` adds what the choice of CLI framework costs: importing typer, plain click and argparse, and
`audit` of the same Deployment with its options declared in argparse and in plain click instead of typer
(the same work after parsing), plus `render` without any CLI framework (the floor of the spec, render and YAML work).
Goals (issue 15): --help <= 0.06 s, render --example better-together <= 0.12 s, audit of one Deployment
<= 0.12 s.

    .venv/bin/python benchmarks/startup_bench.py [--runs 11] [--alternatives]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
          resources:
            requests: {cpu: 250m, memory: 256Mi}
            limits: {memory: 256Mi}
"""

# The audit command's work after parsing, shared by the argparse and click variants below.
AUDIT_WORK = """
def work(paths, output, min_severity, kube_version, colour):
    from beamkube.audit import parse_kube_version
    from beamkube.audit.engine import run
    from beamkube.audit.loader import load_inputs
    from beamkube.audit.model import Severity
    from beamkube.audit.report import as_json, sarif, text
    threshold = Severity(min_severity)
    manifests = load_inputs(paths, sys.stdin)
    findings = run(manifests, kube_version=parse_kube_version(kube_version), min_severity=threshold)
    if output == "json":
        report = as_json(findings, len(manifests), threshold, parse_kube_version(kube_version))
    elif output == "sarif":
        report = sarif(findings)
    else:
        report = text(findings, len(manifests), threshold, colour=bool(colour))
    sys.stdout.write(report)
    return 1 if findings else 0
"""

AUDIT_ARGPARSE = (
    "import argparse, sys\n"
    + AUDIT_WORK
    + """
parser = argparse.ArgumentParser(prog="beamkube audit", description="Audit Kubernetes manifests.")
parser.add_argument("paths", nargs="*", metavar="PATH...", help="Files or directories; - reads stdin.")
parser.add_argument("-o", "--output", choices=["text", "json", "sarif"], default="text", help="Report format.")
parser.add_argument("--min-severity", choices=["info", "warning", "error"], default="warning")
parser.add_argument("--kube-version", default="1.33", help="Target Kubernetes version (X.Y).")
parser.add_argument("--color", dest="colour", action=argparse.BooleanOptionalAction, default=None)
parser.add_argument("--list-rules", action="store_true", help="Print the rule catalogue and exit.")
a = parser.parse_args()
sys.exit(work(a.paths, a.output, a.min_severity, a.kube_version, a.colour))
"""
)

AUDIT_CLICK = (
    "import sys, click\n"
    + AUDIT_WORK
    + """
@click.command(name="audit")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("-o", "--output", type=click.Choice(["text", "json", "sarif"]), default="text", help="Report format.")
@click.option("--min-severity", type=click.Choice(["info", "warning", "error"]), default="warning")
@click.option("--kube-version", default="1.33", help="Target Kubernetes version (X.Y).")
@click.option("--color/--no-color", "colour", default=None, help="Colour the text report.")
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue and exit.")
def audit(paths, output, min_severity, kube_version, colour, list_rules):
    sys.exit(work(list(paths), output, min_severity, kube_version, colour))
audit()
"""
)

RENDER_NO_FRAMEWORK = """
import sys
from beamkube.examples import example_path
from beamkube.output import dump
from beamkube.render import parse_kube_version, render
from beamkube.spec import load_spec
result = render(load_spec(example_path("better-together")), kube_version=parse_kube_version("1.33"))
sys.stdout.write(dump(result.objects, "yaml"))
"""


MODULES = ("typer", "click", "argparse", "msgspec", "yaml")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(commands: list[list[str]], runs: int) -> list[tuple[float, float, float]]:
    """Median wall, minimum wall and median CPU seconds of `runs` cold runs of each command (output
    discarded). The commands take turns, run by run, so a burst of load on the shared machine hits them all
    alike instead of whichever happened to be running."""
    env = _env()
    for command in commands:  # warm-up: page cache and .pyc files
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, command in enumerate(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            walls[index].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[index].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return [(statistics.median(w), min(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def imported(command: list[str]) -> tuple[int, list[str]]:
    """How many modules `command` imports, and which CLI frameworks among them (from -X importtime)."""
    env = _env() | {"PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    modules.discard("package")  # the header line
    return len(modules), sorted(m for m in modules if m in ("typer", "click", "argparse", "rich"))


def _script() -> str:
    found = Path(sys.executable).with_name("beamkube")
    if not found.exists():
        raise SystemExit(f"no console script at {found}: run scripts/install")
    return str(found)


def _shown(command: list[str]) -> str:
    return " ".join(c if " " not in c and "\n" not in c else repr(c.strip()[:40] + "...") for c in command)


def report(rows: list[tuple[str, list[str], float | None]], runs: int) -> None:
    """Measure the rows (label, command, goal) together; the first row is the floor."""
    results = measure([command for _, command, _ in rows], runs)
    floor = results[0][0]
    for (label, command, goal), (median, low, cpu) in zip(rows, results, strict=True):
        verdict = "" if goal is None else f"  goal <= {goal:.2f} s: {'met' if median <= goal else 'MISSED'}"
        times = f"median {median:.3f} s  min {low:.3f} s  CPU {cpu:.3f} s  x{median / floor:.1f} floor"
        print(f"{label:<34} {times}{verdict}")
        print(f"    $ {_shown(command)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--alternatives", action="store_true", help="Also measure click, argparse, no framework.")
    args = parser.parse_args()
    python, beamkube, runs = sys.executable, _script(), args.runs

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(f"median of {runs} cold runs each, the commands of a table taking turns\n")
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "deployment.yaml"
        manifest.write_text(DEPLOYMENT)
        floor = ("python -S -c pass (the floor)", [python, "-S", "-c", "pass"], None)
        rows: list[tuple[str, list[str], float | None]] = [
            floor,
            ("python -c pass", [python, "-c", "pass"], None),
            ("beamkube --help", [beamkube, "--help"], 0.06),
            ("beamkube --version", [beamkube, "--version"], 0.06),
            ("beamkube render --example", [beamkube, "render", "--example", "better-together"], 0.12),
            ("beamkube audit (one Deployment)", [beamkube, "audit", str(manifest)], 0.12),
            ("beamkube render --help", [beamkube, "render", "--help"], None),
        ]
        report(rows, runs)
        print("\nmodules imported (a count, not a time: the shared machine does not change it)")
        for label, command, _ in rows[2:]:
            count, frameworks = imported(command)
            print(f"{label:<34} {count:>4} modules; CLI frameworks: {', '.join(frameworks) or 'none'}")
        if args.alternatives:
            print("\nalternatives (what the CLI framework costs)")
            rows = [floor] + [(f"import {m}", [python, "-c", f"import {m}"], None) for m in MODULES]
            rows += [
                ("audit, options in argparse", [python, "-c", AUDIT_ARGPARSE, str(manifest)], 0.12),
                ("audit, options in plain click", [python, "-c", AUDIT_CLICK, str(manifest)], 0.12),
                ("render, no CLI framework", [python, "-c", RENDER_NO_FRAMEWORK], 0.12),
            ]
            report(rows, runs)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
