"""Benchmark: 1,000 BeamApps against the API double; all Ready, then three no-op resyncs: reads and writes.

Role: benchmark script (network I/O on 127.0.0.1 only). The API double (tests/support/apidouble/, validating
every write against the upstream schemas, with its fake controller) runs in this process; the operator runs as
a separate process (`beamkube operator run`, what a pod would run), so its RSS is its own. Each BeamApp is a
small stateless app (one replica). After every BeamApp reports Ready, the script waits for three resyncs
(the operator logs each one) and counts every request the API double received in that window: writes (goal 0)
and reads (LIST/GET/WATCH; goal: a few dozen at most — watches re-opened when the server ends them — and
independent of the number of apps). The operator runs with `--no-leader-election` (one replica), so Lease
renewals are not part of the count and a renewal starved by the single-threaded double cannot end the run.
`--restart` then replaces the operator with a new process and measures its first pass over the same apps.
Usage:

    .venv/bin/python benchmarks/operator_scale.py [--apps 1000] [--resync 20] [--workers 8] [--restart]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.operator.harness import client_for, cluster  # noqa: E402

from beamkube.operator.crd import beamapp_from_spec  # noqa: E402


def _ready(app: dict[str, Any]) -> bool:
    conditions = ((app.get("status") or {}).get("conditions")) or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--resync", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--operator-log", type=Path, help="keep the operator's log here")
    parser.add_argument("--restart", action="store_true",
                        help="then restart the operator and measure its first pass (each app pruned once)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, cluster(Path(tmp), ready_seconds=0.01) as running:
        log_path = Path(tmp) / "operator.log"
        with log_path.open("w") as log:
            operators: list[subprocess.Popen[bytes]] = []

            def start() -> subprocess.Popen[bytes]:
                operators.append(subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/beamkube"), "operator", "run",
                        "--kubeconfig", str(running.kubeconfig), "--lease-namespace", "beamkube-system",
                        "--health-port", "0", "--workers", str(args.workers), "--resync-seconds", str(args.resync),
                        # One replica: a Lease renewal starved by the single-threaded double must not end the run.
                        "--no-leader-election",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                ))  # fmt: skip
                return operators[-1]

            try:
                asyncio.run(_run(running, start, args, log_path))
            finally:
                for operator in operators:
                    operator.terminate()
                    operator.wait(15)
                if args.operator_log is not None:
                    args.operator_log.write_text(log_path.read_text())


def _ready_names(running: Any) -> set[str]:
    # Straight from the store, without rendering 1,000 objects each second (a harness cost, not the double's).
    store = running.api.store
    with store.lock:
        return {k[3] for k, e in store.entries.items() if k[1] == "beamapps" and _ready(e.obj)}


def _verb(r: Any) -> str:
    if r.method != "GET":
        return r.method
    return "WATCH" if r.params.get("watch") else ("GET" if r.name else "LIST")


def _ready_phase_summary(log: list[Any], timeline: list[tuple[float, int, int]], expired: list[str]) -> None:
    """Requests until every BeamApp was Ready: per verb and kind, failures, latency, progress over time."""
    counts = Counter(f"{_verb(r)} {r.plural}{'/' + r.subresource if r.subresource else ''}" for r in log)
    failed = Counter(f"{r.status} {_verb(r)} {r.plural}" for r in log if r.status >= 400)
    answered = sorted(r.seconds for r in log if _verb(r) != "WATCH")
    print(f"Ready phase requests:      {len(log)} ({', '.join(f'{n} {k}' for k, n in counts.most_common())})")
    print(f"  failed: {sum(failed.values())} ({', '.join(f'{n}x {k}' for k, n in failed.most_common()) or '-'}); "
          f"watches answered 410 Gone: {len(expired)} {dict(Counter(expired)) or ''}")
    if answered:
        def pct(q: float) -> float:
            return answered[min(len(answered) - 1, int(q * len(answered)))] * 1000

        slowest = answered[-1] * 1000
        print(f"  latency in the double: p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, max {slowest:.0f} ms")
    step = max(1, len(timeline) // 10)
    print("  progress: " + ", ".join(f"{t:.0f}s {n} Ready/{q} req" for t, n, q in timeline[::step]))


def _resyncs(log_path: Path) -> int:
    return sum(1 for line in log_path.read_text().splitlines() if "beamkube.operator: resync " in line)


def _alive(operator: subprocess.Popen[bytes], log_path: Path) -> None:
    if operator.poll() is not None:
        tail = "\n".join(log_path.read_text().splitlines()[-20:])
        raise SystemExit(f"the operator exited with {operator.returncode}:\n{tail}")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _double_cpu() -> float:
    """CPU seconds of the API double's thread (its HTTP serving and the fake controller share it)."""
    import threading

    thread = next(t for t in threading.enumerate() if t.name == "apidouble")
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _restarted(running: Any, start: Any, log_path: Path) -> None:
    """A new operator process against the same 1,000 apps: its first pass prunes each app once (the process
    has not pruned them yet). Measured until for 3 s the double had no request and the operator used < 0.1 s of CPU
    (start-up and the initial lists of 1,000 objects are quiet on the wire but busy in the operator)."""
    mark, began, cpu_before = len(running.api.log), time.monotonic(), _double_cpu()
    operator = start()
    quiet_since = time.monotonic()
    seen, busy = mark, 0.0
    while time.monotonic() - quiet_since < 3.0 or len(running.api.log) == mark:
        _alive(operator, log_path)
        if len(running.api.log) != seen or _cpu(operator.pid) - busy > 0.1:
            seen, busy, quiet_since = len(running.api.log), _cpu(operator.pid), time.monotonic()
        await asyncio.sleep(0.2)
    window = list(running.api.log[mark:])
    counts = Counter(f"{_verb(r)} {r.plural}" for r in window)
    writes = sum(1 for r in window if r.is_write and not r.dry_run)
    print(f"restarted operator:        first pass done {quiet_since - began:.1f} s after start (incl. start-up); "
          f"{len(window)} requests, {writes} writes")  # fmt: skip
    print(f"  requests: {', '.join(f'{n} {k}' for k, n in counts.most_common(12))}")
    print(f"  CPU: operator {_cpu(operator.pid):.1f} s, API double {_double_cpu() - cpu_before:.1f} s; "
          f"RSS {_mib(operator.pid, 'VmRSS'):.1f} MiB")  # fmt: skip


async def _run(running: Any, start: Any, args: argparse.Namespace, log_path: Path) -> None:
    operator = start()
    pid = operator.pid
    client = client_for(running)
    await asyncio.sleep(2.0)  # operator start-up (imports, lease, cache's first lists) is not measured
    apps = [
        beamapp_from_spec(
            {"name": f"app-{i:04d}", "namespace": "apps", "image": "ghcr.io/acme/app:1.0.0", "replicas": 1}
        )
        for i in range(args.apps)
    ]
    started = time.monotonic()
    for chunk in range(0, len(apps), 50):
        await asyncio.gather(*(client.create(app) for app in apps[chunk : chunk + 50]))
    pending = {a["metadata"]["name"] for a in apps}
    timeline: list[tuple[float, int, int]] = []  # (seconds, apps Ready, requests so far)
    while pending and time.monotonic() - started < args.timeout:
        _alive(operator, log_path)
        pending -= _ready_names(running)
        timeline.append((time.monotonic() - started, args.apps - len(pending), len(running.api.log)))
        await asyncio.sleep(1.0)
    all_ready = time.monotonic() - started
    ready_phase = [r for r in running.api.log if r.at >= started]
    await asyncio.sleep(2.0)  # the last status echoes settle
    first = _resyncs(log_path)
    while _resyncs(log_path) == first:  # start counting at a resync boundary
        _alive(operator, log_path)
        await asyncio.sleep(0.2)
    mark = len(running.api.log)
    begin = _resyncs(log_path)
    while _resyncs(log_path) < begin + 3:
        _alive(operator, log_path)
        await asyncio.sleep(0.2)
    await asyncio.sleep(min(5.0, args.resync / 2))  # the third resync's reconciles finish
    window = list(running.api.log[mark:])
    writes = [r for r in window if r.is_write]
    reads = [r for r in window if not r.is_write]
    rss, hwm = _mib(pid, "VmRSS"), _mib(pid, "VmHWM")
    operator_cpu = _cpu(pid)
    double_cpu = _double_cpu()
    await client.aclose()
    print(f"command: .venv/bin/python benchmarks/operator_scale.py --apps {args.apps} --resync {args.resync:g} "
          f"--workers {args.workers}")  # fmt: skip
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    ready = f"{args.apps - len(pending)}/{args.apps}"
    print(f"BeamApps Ready:            {ready} after {all_ready:.1f} s (API double validating every write)")
    _ready_phase_summary(ready_phase, timeline, running.api.expired_watches)
    print(f"3 no-op resyncs:           {len(writes)} writes, {len(reads)} reads in total")
    for r in reads[:40]:
        print(f"  read: {r.method} {r.path}{'?watch' if r.params.get('watch') else ''}")
    print(f"operator RSS:              {rss:.1f} MiB now, peak (VmHWM) {hwm:.1f} MiB")
    errors = running.controller.errors if running.controller is not None else []
    if errors:
        print(f"fake controller: {len(errors)} failed passes; first:\n{errors[0]}")
    print(f"CPU: operator {operator_cpu:.1f} s; API double (HTTP + fake controller) {double_cpu:.1f} s; "
          f"this process in all {sum(os.times()[:2]):.1f} s")  # fmt: skip
    if args.restart:
        operator.terminate()
        operator.wait(15)
        await _restarted(running, start, log_path)


if __name__ == "__main__":
    main()
