"""Benchmark: time from the last pod's start to a full mesh, for 3, 5 and 10 pods and each discovery.

Role: benchmark with system I/O (root: network namespaces, real Erlang nodes, the test cluster DNS). Figures
per row, measured from the moment the last pod's process is spawned:
- `up`: until every node answers an rpc from a hidden control node (its VM has booted);
- `mesh`: until every node's nodes() lists every other node;
- `mesh-up`: the clustering itself, once the VMs are up.
Pods are started together, as a Parallel StatefulSet or a Deployment does; the DNS already has their records
when they start (publishNotReadyAddresses), which is the goal's condition. Uses the spec defaults except
`pollIntervalMs` (see --poll-ms; the spec's minimum is 500 ms, the default 5000 ms).

Run: sudo .venv/bin/python benchmarks/cluster_mesh.py [--sizes 3,5,10] [--runs 3] [--poll-ms 500]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.beam import RenderedApp, running_cluster
from tests.support.kubeapi import api_cluster

from beamkube.render import render
from beamkube.spec.model import AppSpec

SPECS: dict[str, dict[str, Any]] = {
    "dns": {"name": "web", "namespace": "shop", "image": "x/web:1"},
    "dnssrv": {"name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable",
               "release": {"flavour": "relx"}, "web": None},
    "static": {"name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable",
               "release": {"flavour": "relx"}, "web": None, "cluster": {"discovery": "static"}},
    # EndpointSlices from the API double through the TLS bridge; the Service's DNS records are withheld.
    "kubernetes": {"name": "chat", "namespace": "chat", "image": "x/chat:1", "cluster": {"discovery": "kubernetes"}},
}  # fmt: skip


def measure(kind: str, size: int, poll_ms: int) -> tuple[float, float]:
    spec_data = dict(SPECS[kind])
    cluster_opts: dict[str, Any] = {**spec_data.get("cluster", {}), "pollIntervalMs": poll_ms}
    if kind == "static":
        cluster_opts["maxReplicas"] = size
    spec = AppSpec.model_validate({**spec_data, "replicas": size, "cluster": cluster_opts})
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    with contextlib.ExitStack() as stack:
        if kind == "kubernetes":
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bkt-bench-")))
            cluster = stack.enter_context(api_cluster(app, scratch)).cluster
        else:
            cluster = stack.enter_context(running_cluster(app))
        pods = cluster.start_pods([app.pod_name(i) for i in range(size)])
        last_start = time.monotonic()  # start_pods returns once every process is spawned
        nodes = sorted(p.node for p in pods)
        assert cluster.control is not None
        while any(view is None for view in cluster.control.nodes(nodes, timeout_ms=200).values()):
            time.sleep(0.01)
        up = time.monotonic() - last_start
        cluster.wait_mesh(set(nodes), timeout=30)
        return up, time.monotonic() - last_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,5,10")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--poll-ms", type=int, default=500)
    parser.add_argument("--kinds", default="dns,dnssrv,static,kubernetes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"pollIntervalMs={args.poll_ms}; median (min-max) of {args.runs} runs, seconds after the last pod start")
    print("up = every node answers over distribution (VM booted); mesh = every nodes() lists all the others")
    print(f"{'discovery':<10} {'pods':>4} {'up':>7} {'mesh':>7} {'min':>7} {'max':>7} {'mesh-up':>8}")
    for kind in args.kinds.split(","):
        for size in sizes:
            runs = [measure(kind, size, args.poll_ms) for _ in range(args.runs)]
            ups, meshes = [u for u, _ in runs], [m for _, m in runs]
            print(f"{kind:<10} {size:>4} {statistics.median(ups):>7.3f} {statistics.median(meshes):>7.3f} "
                  f"{min(meshes):>7.3f} {max(meshes):>7.3f} {statistics.median(m - u for u, m in runs):>8.3f}",
                  flush=True)  # fmt: skip

if __name__ == "__main__":
    main()
