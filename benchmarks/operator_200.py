"""Benchmark: 200 BeamApps created at once; time until all report Ready, and the operator's peak memory.

Role: benchmark script (network I/O on 127.0.0.1 only). The API double (tests/support/apidouble.py, with its
fake controller making StatefulSets/Deployments progress) runs in this process; the operator runs as a
separate process (`beamkube operator run`, what a pod would run), so its peak RSS (VmHWM from /proc) is its
own. The BeamApps cycle through three bundled examples (a stateless libcluster app with API discovery, two
StatefulSet apps), renamed app-000..app-199 in one namespace, and are created concurrently over HTTP.
Then the script waits two resync periods and counts write requests (must be 0: nothing changed). Usage:

    .venv/bin/python benchmarks/operator_200.py [--apps 200] [--workers 4] [--resync 60] [--log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.operator.harness import client_for, cluster, example_app  # noqa: E402

EXAMPLES = ("chat-libcluster", "erlang-kv", "astarte-pairing")


def _ready(app: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in condition_list(app))


def condition_list(app: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((app.get("status") or {}).get("conditions")) or [])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--resync", type=float, default=60.0, help="Operator resync period (its default).")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--log", type=Path, help="Write the operator's log here.")
    args = parser.parse_args()
    sink = args.log.open("w") if args.log else contextlib.nullcontext(subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp, cluster(Path(tmp)) as running, sink as stderr:
        operator = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/beamkube"), "operator", "run",
                "--kubeconfig", str(running.kubeconfig), "--lease-namespace", "beamkube-system",
                "--health-port", "0", "--workers", str(args.workers), "--resync-seconds", str(args.resync),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
        try:
            asyncio.run(_run(running, operator.pid, args))
        finally:
            operator.terminate()
            operator.wait(15)


async def _run(running: object, pid: int, args: argparse.Namespace) -> None:
    from tests.support.apidouble import Running

    assert isinstance(running, Running)
    client = client_for(running)
    await asyncio.sleep(2.0)  # operator start-up (imports, lease, first list) is not what is measured
    idle_rss = rss_mib(pid)
    apps = []
    for index in range(args.apps):
        app = example_app(EXAMPLES[index % len(EXAMPLES)])
        app["metadata"] = {"name": f"app-{index:03d}", "namespace": "apps"}
        apps.append(app)
    peak = {"rss": idle_rss}
    stop = threading.Event()

    def sample() -> None:  # VmHWM is the true peak; sampling only shows the curve's shape
        while not stop.wait(0.1):
            peak["rss"] = max(peak["rss"], rss_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    mark = len(running.api.log)
    started = time.monotonic()
    await asyncio.gather(*(client.create(app) for app in apps))
    created = time.monotonic() - started
    names = [a["metadata"]["name"] for a in apps]
    pending = set(names)
    first_ready = None
    while pending and time.monotonic() - started < args.timeout:
        # One list per poll (not one lookup per app): the double shares this process's CPU.
        ready = {a["metadata"]["name"] for a in running.api.objects("beamapps", "apps") if _ready(a)}
        pending -= ready
        if first_ready is None and len(pending) < len(names):
            first_ready = time.monotonic() - started
        await asyncio.sleep(0.2)
    all_ready = time.monotonic() - started
    writes = [r for r in running.api.log[mark:] if r.is_write and r.plural != "leases"]
    requests = len(running.api.log) - mark
    # Two resyncs with nothing changed: zero writes expected.
    quiet_mark = len(running.api.log)
    await asyncio.sleep(args.resync * 2 + 1)
    quiet_writes = [r for r in running.api.log[quiet_mark:] if r.is_write and r.plural != "leases"]
    quiet_reads = len(running.api.log) - quiet_mark - len(quiet_writes)
    stop.set()
    hwm = peak_rss_mib(pid)
    cpu_operator = cpu_seconds(pid)
    cpu_double = sum(os.times()[:2])
    await client.aclose()
    objects = sum(len(running.api.objects(p, "apps")) for p in ("statefulsets", "deployments", "pods"))
    print(f"command: .venv/bin/python benchmarks/operator_200.py --apps {args.apps} --workers {args.workers} "
          f"--resync {args.resync}")  # fmt: skip
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"BeamApps: {args.apps} ({', '.join(EXAMPLES)} cycled); workloads+pods in the double: {objects}")
    print(f"create requests done:     {created:6.2f} s")
    print(f"first BeamApp Ready:      {first_ready if first_ready is not None else float('nan'):6.2f} s")
    print(f"all BeamApps Ready:       {all_ready:6.2f} s" + (f"  ({len(pending)} NOT ready)" if pending else ""))
    print(f"API requests until Ready: {requests} ({len(writes)} writes)")
    print(f"no-change resync x2:      {len(quiet_writes)} writes, {quiet_reads} reads")
    print(f"operator RSS: idle {idle_rss:.1f} MiB, peak (VmHWM) {hwm:.1f} MiB")
    print(f"CPU: operator {cpu_operator:.1f} s, API double + fake controller + this script {cpu_double:.1f} s")


if __name__ == "__main__":
    main()
