"""Benchmark: `beamkube audit` vs checkov on 1,000 and 10,000 generated Deployments, side by side.

Role: benchmark script (writes generated manifests to a temporary directory, runs both tools as
subprocesses). For each size both tools read the same directory (files of 100 Deployments each) and write
JSON to /dev/null; the script reports wall time and peak memory of each run, measured two ways:
`wait4`'s max RSS of the largest single process, and the peak of the summed RSS of the whole process tree
(sampled every 20 ms from /proc, which also counts worker processes). checkov runs fully offline:
`--skip-download` (no policy or guideline download from the Bridgecrew platform) and `BC_SKIP_MAPPING=TRUE`
(no download of the check-ID mapping), so its figure is checking time, not network time. Usage:

    .venv/bin/python benchmarks/audit_vs_checkov.py [--sizes 1000,10000] [--checkov PATH] [--jobs 1,2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_FILE = 100

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
  labels: {{app: app-{i}, tier: {tier}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app-{i}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxUnavailable: 0, maxSurge: 50%}}
  template:
    metadata:
      labels: {{app: app-{i}, tier: {tier}}}
    spec:
      terminationGracePeriodSeconds: {grace}
      securityContext: {{runAsNonRoot: true, runAsUser: 65534, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: app
          image: registry.example.com/team-{ns}/app-{i}:{tag}
          imagePullPolicy: IfNotPresent
          command: ["/app/bin/app_{i}", "start"]
          ports:
            - {{name: http, containerPort: 4000}}
            - {{name: epmd, containerPort: 4369}}
          env:
            - name: POD_IP
              valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}
            - {{name: RELEASE_DISTRIBUTION, value: name}}
            - {{name: RELEASE_NODE, value: "app_{i}@$(POD_IP)"}}
            - name: RELEASE_COOKIE
              valueFrom: {{secretKeyRef: {{name: app-{i}-cookie, key: cookie}}}}
            - {{name: RELEASE_TMP, value: /tmp/release}}
          resources:
            requests: {{cpu: {cpu}, memory: 256Mi}}
            limits: {{cpu: {cpu}, memory: 256Mi}}
          readinessProbe: {{httpGet: {{path: /health, port: http}}, periodSeconds: 5}}
          livenessProbe: {{tcpSocket: {{port: http}}, periodSeconds: 10, failureThreshold: 6}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: {ro}
            capabilities: {{drop: [ALL]}}
          volumeMounts: [{{name: tmp, mountPath: /tmp}}]
      volumes: [{{name: tmp, emptyDir: {{}}}}]
"""


def generate(directory: Path, count: int) -> None:
    """`count` Deployments of BEAM apps with varied settings, PER_FILE per multi-document file."""
    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, PER_FILE):
        docs = []
        for i in range(start, min(start + PER_FILE, count)):
            docs.append(
                DEPLOYMENT.format(
                    i=i,
                    ns=i % 17,
                    tier=("web", "worker", "api")[i % 3],
                    replicas=1 + i % 4,
                    grace=(10, 30, 45)[i % 3],
                    tag=("latest", f"1.{i % 50}.0")[i % 5 != 0],
                    cpu=("500m", "1", "2")[i % 3],
                    ro=("true", "false")[i % 7 == 0],
                )
            )
        (directory / f"deployments-{start // PER_FILE:04d}.yaml").write_text("---\n".join(docs))


@dataclass
class Measure:
    seconds: float
    max_rss_mib: float  # largest single process (wait4)
    tree_peak_mib: float  # peak of the summed RSS of the process tree (sampled)
    exit_code: int
    cpu_seconds: float = 0.0  # user + system of the process (and its waited-for children): load-independent
    # Context switches of the process (and waited-for children): voluntary ones are waits (I/O, a pipe, a
    # worker), involuntary ones are the scheduler taking the CPU away (a loaded machine): they tell why the
    # wall time exceeds the CPU time.
    waits: int = 0
    preempted: int = 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss_kib(root: int) -> int:
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE"}


def measure(command: list[str], env: dict[str, str] | None = None) -> Measure:
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=sink, env={**os.environ, **(env or {})})
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(seconds, usage.ru_maxrss / 1024, max(peak, usage.ru_maxrss) / 1024, process.returncode, cpu,
                   usage.ru_nvcsw, usage.ru_nivcsw)


def describe(m: Measure) -> str:
    return (f"    {m.seconds:8.2f} s  cpu {m.cpu_seconds:7.2f} s  max RSS {m.max_rss_mib:7.1f} MiB"
            f"  tree peak {m.tree_peak_mib:7.1f} MiB  exit {m.exit_code}"
            f"  switches: {m.waits} waits, {m.preempted} preempted  load {os.getloadavg()[0]:.1f}")


def count_checkov_resources(checkov: str, directory: Path) -> str:
    """A separate run that reads checkov's own summary, to show it saw every object."""
    import json

    out = subprocess.run(
        [checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet", "--compact",
         "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **OFFLINE_ENV},
    ).stdout
    try:
        summary = json.loads(out).get("summary", {})
    except ValueError:
        return "unknown"
    return f"{summary.get('resource_count', '?')} resources, {summary.get('failed', '?')} failed checks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--checkov", default=str(ROOT / ".venv-tools" / "bin" / "checkov"))
    parser.add_argument("--beamkube", default=str(ROOT / ".venv" / "bin" / "beamkube"))
    parser.add_argument("--keep", action="store_true", help="Keep the generated manifests.")
    parser.add_argument(
        "--jobs", default="", help="Also run beamkube with each of these --jobs values (e.g. 1,2; default: its own)."
    )
    parser.add_argument(
        "--checkov-max", type=int, default=10**9,
        help="Run checkov only on sizes up to this (on a loaded 2-core machine 10,000 took over 40 minutes).",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    work = Path(tempfile.mkdtemp(prefix="bk-audit-bench-"))
    rows: list[tuple[int, Measure, Measure | None]] = []
    try:
        for size in sizes:
            directory = work / f"d{size}"
            generate(directory, size)
            ours = [args.beamkube, "audit", str(directory), "-o", "json", "--min-severity", "info"]
            theirs = [args.checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
                      "--skip-download"]
            print(f"\n{size} Deployments in {len(list(directory.iterdir()))} files ({directory})")
            for jobs in [j for j in args.jobs.split(",") if j]:
                print(f"  beamkube: {' '.join(ours)} --jobs {jobs}")
                print(describe(measure([*ours, "--jobs", jobs])))
            print(f"  beamkube: {' '.join(ours)}")
            b = measure(ours)
            print(describe(b))
            if size > args.checkov_max:
                print("  checkov:  not run (--checkov-max)")
                rows.append((size, b, None))
                continue
            print(f"  checkov:  BC_SKIP_MAPPING=TRUE {' '.join(theirs)}")
            c = measure(theirs, OFFLINE_ENV)
            print(describe(c))
            rows.append((size, b, c))
            if size <= 1000:
                print(f"  checkov summary: {count_checkov_resources(args.checkov, directory)}")
        print("\n| Deployments | beamkube audit | checkov | speed-up | CPU beamkube / checkov | CPU speed-up "
              "| beamkube peak | checkov peak | memory ratio |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, b, theirs_run in rows:
            if theirs_run is None:
                print(f"| {size:,} | {b.seconds:.2f} s | – | – | {b.cpu_seconds:.2f} s / – | – | "
                      f"{b.tree_peak_mib:.0f} MiB | – | – |")
                continue
            c = theirs_run
            print(
                f"| {size:,} | {b.seconds:.2f} s | {c.seconds:.1f} s | {c.seconds / b.seconds:.1f}x | "
                f"{b.cpu_seconds:.2f} s / {c.cpu_seconds:.1f} s | {c.cpu_seconds / max(b.cpu_seconds, 1e-9):.1f}x | "
                f"{b.tree_peak_mib:.0f} MiB | {c.tree_peak_mib:.0f} MiB | {b.tree_peak_mib / c.tree_peak_mib:.2f} |"
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
