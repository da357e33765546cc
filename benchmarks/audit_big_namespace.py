"""Benchmark: `beamkube audit` on one big namespace (10k and 40k objects in one stream) — linear growth.

Role: benchmark script (writes one generated multi-document YAML file per size to a temporary directory and
runs `beamkube audit FILE -o json --min-severity info` as a subprocess). Every app contributes a
Deployment, a Service, a PodDisruptionBudget, a NetworkPolicy and an HPA, all in namespace `big`, and every
selector also carries a label all objects share (`app.kubernetes.io/part-of: shop`), the case that made
cross-object checks quadratic. Prints a Markdown table: objects, MB, wall and CPU seconds, max RSS, and CPU
µs per object (flat when growth is linear).

    .venv/bin/python benchmarks/audit_big_namespace.py [--sizes 10000,40000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_APP = 5

APP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: big
  labels: {{app.kubernetes.io/part-of: shop, app: app-{i}, team: team-{team}, tier: web}}
  annotations: {{description: "storefront shard {i} of the shop; owned by team {team}; see the runbook"}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app.kubernetes.io/part-of: shop, app: app-{i}}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/part-of: shop, app: app-{i}}}}}
    spec:
      securityContext: {{runAsNonRoot: true, runAsUser: 10001, seccompProfile: {{type: RuntimeDefault}}}}
      topologySpreadConstraints:
        - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway,
           labelSelector: {{matchLabels: {{app: app-{i}}}}}}}
      containers:
        - name: web
          image: registry.example.com/shop/app-{i}:1.{i}.0
          ports: [{{name: http, containerPort: 8080}}]
          env:
            - {{name: MODE, value: prod}}
            - {{name: SHARD, value: "{i}"}}
            - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
            - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
            - {{name: DATABASE_POOL_SIZE, value: "10"}}
            - {{name: CACHE_URL, value: "redis://cache-{i}.big.svc.cluster.local:6379/0"}}
            - {{name: UPSTREAM_URL, value: "http://app-{i}-upstream.big.svc.cluster.local:8080/api/v1"}}
            - {{name: FEATURE_FLAGS, value: "search,checkout,recommendations,reviews,wishlist"}}
            - {{name: LOG_LEVEL, value: info}}
            - {{name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://otel-collector.observability.svc:4317"}}
          resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{cpu: 100m, memory: 128Mi}}}}
          readinessProbe: {{httpGet: {{path: /healthz, port: http}}}}
          livenessProbe: {{httpGet: {{path: /healthz, port: http}}, periodSeconds: 10, failureThreshold: 6}}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                            capabilities: {{drop: [ALL]}}}}
        - name: metrics
          image: registry.example.com/shop/exporter:0.9.{team}
          args: ["--listen=:9102", "--upstream=http://127.0.0.1:8080/metrics", "--interval=15s"]
          ports: [{{name: metrics, containerPort: 9102}}]
          resources: {{requests: {{cpu: 20m, memory: 32Mi}}, limits: {{cpu: 20m, memory: 32Mi}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: metrics}}}}
          livenessProbe: {{httpGet: {{path: /live, port: metrics}}, periodSeconds: 10, failureThreshold: 6}}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                            capabilities: {{drop: [ALL]}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: big
  labels: {{app.kubernetes.io/part-of: shop, app: app-{i}, team: team-{team}, tier: web}}
  annotations: {{description: "storefront shard {i} of the shop; owned by team {team}; see the runbook"}}
spec:
  selector: {{app.kubernetes.io/part-of: shop, app: app-{i}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: app-{i}
  namespace: big
  labels: {{app.kubernetes.io/part-of: shop, app: app-{i}, team: team-{team}, tier: web}}
  annotations: {{description: "storefront shard {i} of the shop; owned by team {team}; see the runbook"}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app.kubernetes.io/part-of: shop, app: app-{i}}}}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: app-{i}
  namespace: big
  labels: {{app.kubernetes.io/part-of: shop, app: app-{i}, team: team-{team}, tier: web}}
  annotations: {{description: "storefront shard {i} of the shop; owned by team {team}; see the runbook"}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/part-of: shop, app: app-{i}}}}}
  policyTypes: [Ingress]
  ingress: [{{ports: [{{port: 8080}}]}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: app-{i}
  namespace: big
  labels: {{app.kubernetes.io/part-of: shop, app: app-{i}, team: team-{team}, tier: web}}
  annotations: {{description: "storefront shard {i} of the shop; owned by team {team}; see the runbook"}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: app-{i}}}
  minReplicas: 3
  maxReplicas: 6
  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]
"""


def generate(path: Path, objects: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(objects // PER_APP):
            out.write("---\n" if i else "")
            out.write(APP.format(i=i, team=i % 40))


def run(path: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system: independent of other load) and the child's max RSS in MiB."""
    beamkube = ROOT / ".venv" / "bin" / "beamkube"
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    proc = subprocess.run(
        [str(beamkube), "audit", str(path), "-o", "json", "--min-severity", "info"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"audit failed ({proc.returncode}): {proc.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_utime + usage.ru_stime - cpu_before, max(usage.ru_maxrss, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,40000")
    args = parser.parse_args()
    print("| objects in one namespace | MB | wall s | CPU s | max RSS MiB | CPU µs per object |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"big-{size}.yaml"
            generate(path, size)
            wall, cpu, rss = run(path)
            mb = os.path.getsize(path) / 1e6
            print(f"| {size:,} | {mb:.1f} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {cpu / size * 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
