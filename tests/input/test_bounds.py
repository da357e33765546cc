# ruff: noqa: E501  (a table of exact one-line messages reads better unwrapped)
"""Bounds from Kubernetes and the BEAM on spec fields: each value past a limit is refused at load time with one
line naming file, line, field and the limit (exit 2, nothing written), and each value just inside a limit
renders to manifests that `beamkube audit` passes at error severity and the Kubernetes OpenAPI schema accepts.

Role: tests; writes specs under tmp_path and runs the real CLI entry point in-process. The limits themselves
come from outside beamkube: int32/int64 and IsValidUserID (k8s.io/apimachinery validation), 1 MiB ConfigMap
data and 256 KiB annotations, erl's 1024 schedulers and 255-character atoms, robfig/cron's standard parser
ranges (the CronJob controller's), and distribution/reference's image grammar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from beamkube.spec.model import AppSpec
from tests.input.helpers import HEAD, beamkube, one_line_error

Capture = pytest.CaptureFixture[str]
TOP = ", ".join(sorted(AppSpec.__struct_fields__))
ST = HEAD + "identity: stable\n"

# (id, spec text, the one line after "beamkube: ")
CASES = [
    ("cpu-schedulers", HEAD + "resources:\n  limits: {cpu: '9999999', memory: 1Gi}\n  requests: {cpu: '1', memory: 1Gi}\n",
     'beamkube.yaml:4: resources.limits.cpu: 9999999 would start 9999999 schedulers; the BEAM runs at most 1024 (erl +S), so the CPU limit may be at most 1024'),
    ("cpu-1025", HEAD + "resources:\n  limits: {cpu: '1025', memory: 1Gi}\n  requests: {cpu: '1', memory: 1Gi}\n",
     'beamkube.yaml:4: resources.limits.cpu: 1025 would start 1025 schedulers; the BEAM runs at most 1024 (erl +S), so the CPU limit may be at most 1024'),
    ("release-name-300", HEAD + "release: {name: " + "a" * 300 + "}\n",
     'beamkube.yaml:3: release.name: makes node names of up to 340 characters (aaaaaaaaaaaaaaaaaaaa...@ffffffffffffffffffff...); an Erlang node name is an atom of at most 255'),
    ("release-name-stable-long", ST + "namespace: " + "n" * 63 + "\nclusterDomain: " + "d" * 100 + ".example\nrelease: {name: " + "r" * 60 + "}\n",
     'beamkube.yaml:6: release.name: makes node names of up to 256 characters (rrrrrrrrrrrrrrrrrrrr...@app-2.app-headless.n...); an Erlang node name is an atom of at most 255'),
    ("partition-int32", ST + "rollout: {partition: 2147483648}\n",
     'beamkube.yaml:4: rollout.partition: 2147483648 is out of range; must be <= 2147483647'),
    ("maxskew-int32", HEAD + "placement:\n  spread:\n    - {maxSkew: 99999999999}\n",
     'beamkube.yaml:5: placement.spread[0].maxSkew: 99999999999 is out of range; must be <= 2147483647'),
    ("runasuser-int64", HEAD + "security: {runAsUser: 9223372036854775808}\n",
     'beamkube.yaml:3: security.runAsUser: 9223372036854775808 is out of range; must be <= 2147483647'),
    ("runasuser-int32", HEAD + "security: {runAsUser: 2147483648}\n",
     'beamkube.yaml:3: security.runAsUser: 2147483648 is out of range; must be <= 2147483647'),
    ("fsgroup-int32", HEAD + "security: {fsGroup: 4294967296}\n",
     'beamkube.yaml:3: security.fsGroup: 4294967296 is out of range; must be <= 2147483647'),
    ("deadline-int64", HEAD + "jobs:\n  - {name: m, eval: A.m(), activeDeadlineSeconds: 9223372036854775808}\n",
     'beamkube.yaml:4: jobs[0].activeDeadlineSeconds: 9223372036854775808 is out of range; must be <= 9223372036854775807'),
    ("maxunavailable-150", HEAD + "rollout: {maxUnavailable: '150%'}\n",
     'beamkube.yaml:3: rollout.maxUnavailable: must be an integer from 0 to 2147483647 or a percentage from 0% to 100%'),
    ("maxsurge-101", HEAD + "rollout: {maxSurge: '101%'}\n",
     'beamkube.yaml:3: rollout.maxSurge: must be an integer from 0 to 2147483647 or a percentage from 0% to 100%'),
    ("maxsurge-int32", HEAD + "rollout: {maxSurge: 3000000000}\n",
     'beamkube.yaml:3: rollout.maxSurge: must be an integer from 0 to 2147483647 or a percentage from 0% to 100%'),
    ("pdb-int32", HEAD + "disruption: {maxUnavailable: 3000000000}\n",
     'beamkube.yaml:3: disruption.maxUnavailable: 3000000000 must be an integer from 0 to 2147483647 or a percentage to 100%'),
    ("pdb-150", HEAD + "disruption: {minAvailable: '150%'}\n",
     "beamkube.yaml:3: disruption.minAvailable: '150%' must be an integer from 0 to 2147483647 or a percentage to 100%"),
    ("cron-minute-60", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '60 * * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '60 * * * *' is not a cron schedule: minute '60': 60 is outside 0-59"),
    ("cron-hour-24", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 24 * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 24 * * *' is not a cron schedule: hour '24': 24 is outside 0-23"),
    ("cron-dom-0", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 0 0 * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 0 0 * *' is not a cron schedule: day of month '0': 0 is outside 1-31"),
    ("cron-month-13", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 0 1 13 *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 0 1 13 *' is not a cron schedule: month '13': 13 is outside 1-12"),
    ("cron-dow-7", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 0 * * 7'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 0 * * 7' is not a cron schedule: day of week '7': 7 is outside 0-6"),
    ("cron-step-0", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '*/0 * * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '*/0 * * * *' is not a cron schedule: minute '*/0': the step after / must be a positive number, not '0'"),
    ("cron-backwards", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 5-1 * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 5-1 * * *' is not a cron schedule: hour '5-1': the range 5-1 runs backwards"),
    ("cron-word", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 noon * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 noon * * *' is not a cron schedule: hour 'noon': 'noon' is not a number"),
    ("cron-six-fields", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '0 0 0 * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '0 0 0 * * *' is not a cron schedule of five fields like '15 3 * * *', or @hourly/@daily/@weekly/@monthly/@yearly"),
    ("cron-tz", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: 'CRON_TZ=UTC 0 0 * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: 'CRON_TZ=UTC 0 0 * * *' is not a cron schedule of five fields like '15 3 * * *', or @hourly/@daily/@weekly/@monthly/@yearly"),
    ("cron-question-minute", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '? * * * *'}\n",
     "beamkube.yaml:4: jobs[0].schedule: '? * * * *' is not a cron schedule: minute '?': ? is only allowed in day of month and day of week"),
    ("image-uppercase", "name: app\nimage: ghcr.io/Acme/App:1.0\n",
     "beamkube.yaml:2: image: 'ghcr.io/Acme/App:1.0': the repository path must be lowercase (acme/app)"),
    ("image-typographic", "name: app\nimage: “ghcr.io/acme/app:1.0”\n",
     'beamkube.yaml:2: image: \'“ghcr.io/acme/app:1.0”\' contains typographic quotes; write the reference without them (or with plain \' or ")'),
    ("image-single-typographic", "name: app\nimage: ‘ghcr.io/acme/app:1.0’\n",
     'beamkube.yaml:2: image: \'‘ghcr.io/acme/app:1.0’\' contains typographic quotes; write the reference without them (or with plain \' or ")'),
    ("image-bad-tag", "name: app\nimage: ghcr.io/acme/app:-1\n",
     "beamkube.yaml:2: image: 'ghcr.io/acme/app:-1' is not an image reference like ghcr.io/acme/app:1.2.3 or ghcr.io/acme/app@sha256:<digest>"),
    ("image-bad-digest", "name: app\nimage: ghcr.io/acme/app@sha256:abc\n",
     "beamkube.yaml:2: image: 'ghcr.io/acme/app@sha256:abc': a digest is sha256: and 64 hex digits (or sha384: 96, sha512: 128)"),
    ("image-trailing-colon", "name: app\nimage: 'ghcr.io/acme/app:'\n",
     "beamkube.yaml:2: image: 'ghcr.io/acme/app:' is not an image reference like ghcr.io/acme/app:1.2.3 or ghcr.io/acme/app@sha256:<digest>"),
    ("image-unicode", "name: app\nimage: ghcr.io/acme/äpp:1\n",
     "beamkube.yaml:2: image: 'ghcr.io/acme/äpp:1' contains characters an image reference cannot have (only ASCII letters, digits, ./:-_@)"),
    ("env-10mb", HEAD + "env:\n  BIG: '" + "x" * (2 * 1024 * 1024) + "'\n",
     'beamkube.yaml:3: env: holds 2,097,155 bytes; a ConfigMap holds at most 1,048,576 (1 MiB)'),
    ("annotations-300k", HEAD + "annotations:\n  acme.io/blob: '" + "x" * (300 * 1024) + "'\n",
     'beamkube.yaml:3: annotations: hold 307,212 bytes; Kubernetes allows 262,144 in total'),
    ("pdb-90-percent-of-3", HEAD + "disruption: {minAvailable: '90%'}\n",
     'beamkube.yaml:3: disruption.minAvailable: 90% of 3 pods rounds up to 3: no pod is evictable (node drains would hang); use a lower value'),
    ("pdb-maxunavailable-0", HEAD + "disruption: {maxUnavailable: 0}\n",
     'beamkube.yaml:3: disruption.maxUnavailable: 0 never allows an eviction (node drains would hang); use 1 or more'),
    ("pdb-maxunavailable-0pct", HEAD + "disruption: {maxUnavailable: '0%'}\n",
     'beamkube.yaml:3: disruption.maxUnavailable: 0% never allows an eviction (node drains would hang); use 1 or more'),
    ("pdb-percent-of-hpa-min", HEAD + "autoscaling: {min: 2, max: 5, cpu: 60}\ndisruption: {minAvailable: '60%'}\n",
     'beamkube.yaml:4: disruption.minAvailable: 60% of 2 pods rounds up to 2: no pod is evictable (node drains would hang); use a lower value'),
    ("prestop-longer-than-grace", HEAD + "preStopSleepSeconds: 60\nterminationGracePeriodSeconds: 30\n",
     'beamkube.yaml:3: preStopSleepSeconds: 60 is not shorter than terminationGracePeriodSeconds (30): the pod would be killed before init:stop runs'),
    ("prestop-equal-grace", HEAD + "preStopSleepSeconds: 30\nterminationGracePeriodSeconds: 30\n",
     'beamkube.yaml:3: preStopSleepSeconds: 30 is not shorter than terminationGracePeriodSeconds (30): the pod would be killed before init:stop runs'),
    ("static-peers-short", ST + "replicas: 5\ncluster: {discovery: static, maxReplicas: 3}\n",
     'beamkube.yaml:5: cluster.maxReplicas: 3 lists fewer static peers than the 5 pods that can run; the pods past the list would never be connected'),
    ("static-peers-short-hpa", ST + "replicas: 2\nautoscaling: {min: 2, max: 6, cpu: 60}\ncluster: {discovery: static, maxReplicas: 4}\n",
     'beamkube.yaml:6: cluster.maxReplicas: 4 lists fewer static peers than the 6 pods that can run; the pods past the list would never be connected'),
    ("hpa-cpu-without-cpu-request", HEAD + "resources:\n  requests: {memory: 1Gi}\n  limits: {memory: 1Gi}\nautoscaling: {cpu: 60}\n",
     "beamkube.yaml:6: autoscaling.cpu: scales on CPU utilisation, a percentage of the CPU request, but resources set no CPU request or limit (audit BK503); set resources.requests.cpu"),
    ("pdb-min-with-zero-replicas", HEAD + "replicas: 0\ndisruption: {minAvailable: 1}\n",
     "beamkube.yaml:4: disruption.minAvailable: 1 cannot be met with replicas: 0 (audit BK402); remove disruption while the app is scaled to 0"),
    ("liveness-mix", HEAD + "probes:\n  liveness: {exec: [mix, run, -e, 'Health.check()']}\n",
     'beamkube.yaml:4: probes.liveness.exec: runs mix, which a release image does not contain (the probe would always fail); use bin/app rpc, an http probe or a tcp probe'),
    ("readiness-mix-path", HEAD + "probes:\n  readiness: {exec: ['/usr/local/bin/mix health']}\n",
     'beamkube.yaml:4: probes.readiness.exec: runs mix, which a release image does not contain (the probe would always fail); use bin/app rpc, an http probe or a tcp probe'),
    ("typo-required-image", "name: app\nimgae: ghcr.io/acme/app:1\n",
     f"beamkube.yaml:2: imgae: unknown field; did you mean 'image'? allowed here: {TOP}"),
    ("typo-required-name", "nmae: app\nimage: ghcr.io/acme/app:1\n",
     f"beamkube.yaml:1: nmae: unknown field; did you mean 'name'? allowed here: {TOP}"),
    ("typo-nested-required", HEAD + "cluster:\n  tls: {secretNme: x}\n",
     "beamkube.yaml:4: cluster.tls.secretNme: unknown field; did you mean 'secretName'? allowed here: secretName, verify"),
    ("k8s-deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n",
     'beamkube.yaml:1: is a Kubernetes Deployment manifest (apps/v1), not a beamkube spec; check it with beamkube audit, or start a spec with beamkube init'),
    ("beamapp", "apiVersion: beamkube.io/v1alpha1\nkind: BeamApp\nmetadata: {name: x}\nspec: {name: x, image: y}\n",
     'beamkube.yaml:1: is a BeamApp custom resource, not a beamkube spec; its spec: section is one (copy that into beamkube.yaml, or kubectl apply the resource for the operator)'),
    ("helm-values", "replicaCount: 1\nimage:\n  repository: nginx\n  tag: ''\nservice: {type: ClusterIP}\n",
     "beamkube.yaml:1: looks like a Helm chart's values.yaml, not a beamkube spec; a spec needs name and image (a reference like ghcr.io/acme/app:1.2.3), see beamkube init"),
    ("helm-values-min", "image: {repository: nginx, tag: '1.0'}\n",
     "beamkube.yaml:1: looks like a Helm chart's values.yaml, not a beamkube spec; a spec needs name and image (a reference like ghcr.io/acme/app:1.2.3), see beamkube init"),
    ("k8s-list", "apiVersion: v1\nkind: List\nitems: []\n",
     'beamkube.yaml:1: is a Kubernetes List manifest (v1), not a beamkube spec; check it with beamkube audit, or start a spec with beamkube init'),
    ("dict-value-in-str", HEAD + "env: {A: {b: 1}}\n",
     'beamkube.yaml:3: env.A: expected a string, got a mapping'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_past_the_limit(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    (tmp_path / "beamkube.yaml").write_text(text, encoding="utf-8")
    outcome = beamkube(monkeypatch, capsys, "render", "beamkube.yaml", "--out", "out", cwd=tmp_path)
    one_line_error(outcome, expected)
    assert not (tmp_path / "out").exists()


# Values just inside each limit: they must render, and what renders must pass audit at error severity.
INSIDE = [
    ("cpu-1024", HEAD + "resources:\n  limits: {cpu: '1024', memory: 1Gi}\n  requests: {cpu: '1', memory: 1Gi}\n"),
    ("memory-1Pi", HEAD + "resources:\n  limits: {cpu: '1', memory: 1Pi}\n  requests: {cpu: '1', memory: 1Gi}\n"),
    ("release-name-long-stateless", HEAD + "release: {name: " + "a" * 200 + "}\n"),
    ("partition-int32-max", ST + "rollout: {partition: 2147483647}\n"),
    ("maxskew-int32-max", HEAD + "placement:\n  spread:\n    - {maxSkew: 2147483647}\n"),
    ("runasuser-int32-max", HEAD + "security: {runAsUser: 2147483647, runAsGroup: 2147483647, fsGroup: 2147483647}\n"),
    ("maxunavailable-100pct", HEAD + "rollout: {maxUnavailable: '100%', maxSurge: '0%'}\n"),
    ("pdb-50pct-of-3", HEAD + "disruption: {minAvailable: '50%'}\n"),
    ("pdb-min-2-of-3", HEAD + "disruption: {minAvailable: 2}\n"),
    ("pdb-maxunavailable-10pct", HEAD + "disruption: {maxUnavailable: '10%'}\n"),
    ("cron-names-ranges-steps", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '*/15 1-5/2 ? JAN-jun mon,FRI'}\n"),
    ("cron-descriptor", HEAD + "jobs:\n  - {name: r, eval: R.run(), schedule: '@midnight'}\n"),
    ("image-registry-port-digest", "name: app\nimage: registry.local:5000/team/app_x__y-z:1.0-rc.1@sha256:" + "a" * 64 + "\n"),
    ("image-docker-hub-short", "name: app\nimage: nginx\n"),
    ("image-uppercase-domain", "name: app\nimage: GHCR.io/acme/app:V1\n"),
    ("prestop-under-grace", HEAD + "preStopSleepSeconds: 29\nterminationGracePeriodSeconds: 30\n"),
    ("static-peers-equal", ST + "replicas: 5\ncluster: {discovery: static, maxReplicas: 5}\n"),
    ("liveness-release-rpc", HEAD + "probes:\n  liveness: {exec: [bin/app, rpc, 'Health.check()']}\n"),
    ("env-just-under-1mib", HEAD + "env:\n  BIG: '" + "x" * (1024 * 1024 - 100) + "'\n"),
]  # fmt: skip


@pytest.mark.parametrize("text", [c[1] for c in INSIDE], ids=[c[0] for c in INSIDE])
def test_inside_the_limit_renders_and_passes_audit(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    (tmp_path / "beamkube.yaml").write_text(text, encoding="utf-8")
    rendered = beamkube(monkeypatch, capsys, "render", "-q", "beamkube.yaml", cwd=tmp_path)
    assert rendered.code == 0, rendered.err
    audited = beamkube(monkeypatch, capsys, "audit", "--min-severity", "error", "-", stdin=rendered.out.encode())
    assert audited.code == 0, audited.out + audited.err
    _schema_valid(list(yaml.safe_load_all(rendered.out)))


def _schema_valid(objects: list[dict[str, Any]]) -> None:
    """The upstream OpenAPI schemas (kubernetes-validate, strict) accept every object: int32/int64 formats too."""
    import kubernetes_validate

    for obj in objects:
        if obj and obj.get("apiVersion", "").startswith(("v1", "apps/", "batch/", "policy/", "networking.k8s.io/")):
            kubernetes_validate.validate(obj, "1.33", strict=True)
