"""Benchmark: `beamkube deploy` against the in-process API double (HTTP on 127.0.0.1, fake controller).

Role: benchmark (loopback I/O only). Measures wall time and request counts for a first deploy, a no-op
re-deploy, an image rollout, a diff and a status of the bundled `phoenix-shop` example (namespace pre-created),
and the CLI's start-up (`beamkube --help`, which must not import the Kubernetes client).
Run: PYTHONPATH=. .venv/bin/python benchmarks/ops_deploy.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _cli(*args: str) -> int:
    from beamkube.cli.main import run

    saved = sys.argv
    sys.argv = ["beamkube", *args]
    try:
        run()
        return 0
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds

    import contextlib
    import io

    from tests.support.apidouble import serve

    from beamkube.examples import example_path

    timings: dict[str, list[float]] = {}
    requests: dict[str, list[int]] = {}

    def measure(name: str, running: object, fn: Callable[[], int]) -> None:
        api = running.api  # type: ignore[attr-defined]
        before = len(api.log)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = fn()
        elapsed = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"{name} exited {code}")
        timings.setdefault(name, []).append(elapsed)
        requests.setdefault(name, []).append(len(api.log) - before)

    spec = str(example_path("phoenix-shop"))
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as running:
            os.environ["KUBECONFIG"] = str(running.kubeconfig)
            running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
            # The example names IngressClass nginx: deploy's preflight requires it to exist, as on a cluster.
            ingress_class = {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": {"name": "nginx"},
            }
            running.api.put(ingress_class)
            measure("deploy (first)", running, lambda: _cli("deploy", spec))
            measure("deploy (no-op)", running, lambda: _cli("deploy", spec))
            measure("deploy --image (rollout)", running, lambda: _cli("deploy", spec, "--image", "ghcr.io/x/shop:2"))
            measure("diff", running, lambda: _cli("diff", spec))
            measure("status", running, lambda: _cli("status", spec))

    starts = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "beamkube.cli.main", "--help"], check=True, capture_output=True)
        starts.append(time.perf_counter() - start)

    print(f"beamkube ops against the API double, {rounds} rounds, phoenix-shop example (fake controller: pods")
    print("ready 50 ms after creation, Jobs complete after 50 ms):")
    for name, values in timings.items():
        print(f"  {name:26s} median {statistics.median(values) * 1000:7.1f} ms   requests {requests[name][-1]}")
    print(f"  {'beamkube --help (process)':26s} median {statistics.median(starts) * 1000:7.1f} ms")
    print("command: PYTHONPATH=. .venv/bin/python benchmarks/ops_deploy.py --rounds", rounds)


if __name__ == "__main__":
    main()
