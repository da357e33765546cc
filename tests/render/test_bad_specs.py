"""Malformed specs through the real CLI: each gives exit code 2 and exactly one line naming file, line, field
path and what is allowed, and no traceback.

Most cases run `beamkube.cli.main.run()` in-process (the console script's own entry point, with its error
handling); a few run the installed script as a subprocess to prove the process-level behaviour too.

Role: tests; writes spec files under pytest's tmp_path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beamkube.cli.main import run
from beamkube.spec.model import AppSpec

HEAD = "name: app\nimage: ghcr.io/acme/app:1.0\n"
TOP_FIELDS = ", ".join(sorted(AppSpec.__struct_fields__))

# (id, spec text or None for "no file", expected stderr line without the "beamkube: " prefix)
CASES: list[tuple[str, str | None, str]] = [
    ("missing-file", None, "beamkube.yaml: file not found"),
    ("empty-file", "", "beamkube.yaml: is empty; expected a mapping with at least name and image"),
    ("only-comments", "# todo\n", "beamkube.yaml: is empty; expected a mapping with at least name and image"),
    (
        "list-not-mapping",
        "- name: app\n- image: x\n",
        "beamkube.yaml:1: expected a mapping with at least name and image, got a list",
    ),
    (
        "scalar-not-mapping",
        "my-app\n",
        "beamkube.yaml:1: expected a mapping with at least name and image, got a string ('my-app')",
    ),
    (
        "yaml-unclosed-flow",
        "name: app\nimage: [x\n",
        "beamkube.yaml:3: not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence started on line 2)",
    ),
    (
        "yaml-tab-indent",
        "name: app\n\timage: x\n",
        "beamkube.yaml:2: not valid YAML: found a tab character that violates indentation "
        "(while scanning a plain scalar started on line 1)",
    ),
    (
        "yaml-duplicate-key",
        HEAD + "replicas: 2\nreplicas: 5\n",
        "beamkube.yaml:4: replicas: duplicate key (first set on line 3); keep one",
    ),
    (
        "unknown-top-field-typo",
        HEAD + "replica: 3\n",
        f"beamkube.yaml:3: replica: unknown field; did you mean 'replicas'? allowed here: {TOP_FIELDS}",
    ),
    (
        "unknown-nested-field-typo",
        HEAD + "web:\n  prot: 4000\n",
        "beamkube.yaml:4: web.prot: unknown field; did you mean 'port'? allowed here: "
        "ingress, port, servicePort, serviceType",
    ),
    (
        "unknown-field-in-list-item",
        HEAD + "jobs:\n  - name: migrate\n    evaluate: A.b()\n",
        "beamkube.yaml:5: jobs[0].evaluate: unknown field; did you mean 'eval'? allowed here: "
        "activeDeadlineSeconds, backoffLimit, command, concurrencyPolicy, env, eval, name, resources, schedule, "
        "secretEnv",
    ),
    ("missing-name", "image: x:1\n", "beamkube.yaml:1: name: is required"),
    ("wrong-type-word", HEAD + "replicas: three\n", "beamkube.yaml:3: replicas: 'three' is not an integer"),
    ("wrong-type-bool", HEAD + "replicas: true\n", "beamkube.yaml:3: replicas: true is not an integer"),
    # YAML 1.2 core schema: `yes` is a string, not the boolean true of YAML 1.1.
    ("wrong-type-yes-is-text", HEAD + "replicas: yes\n", "beamkube.yaml:3: replicas: 'yes' is not an integer"),
    ("wrong-type-quoted", HEAD + "replicas: '3'\n", "beamkube.yaml:3: replicas: '3' is not an integer"),
    ("wrong-type-float", HEAD + "replicas: 2.5\n", "beamkube.yaml:3: replicas: 2.5 is not an integer"),
    (
        "wrong-type-env-value",
        HEAD + "env:\n  POOL_SIZE: 10\n",
        "beamkube.yaml:4: env.POOL_SIZE: 10 is not a string (quote it)",
    ),
    (
        "wrong-type-probe-true",
        HEAD + "probes:\n  readiness: true\n",
        "beamkube.yaml:4: probes.readiness: true is not allowed; expected a mapping or false",
    ),
    (
        "wrong-type-probe-port-name",
        HEAD + "probes:\n  liveness:\n    tcp: {port: http}\n",
        "beamkube.yaml:5: probes.liveness.tcp.port: 'http' is not allowed; expected an integer or 'web' or 'dist'",
    ),
    (
        "out-of-range-in-union",
        HEAD + "probes:\n  liveness:\n    tcp: {port: 70000}\n",
        "beamkube.yaml:5: probes.liveness.tcp.port: 70000 is out of range; must be <= 65535",
    ),
    ("wrong-type-env-list", HEAD + "env: [A, B]\n", "beamkube.yaml:3: env: expected a mapping, got a list"),
    (
        "out-of-range-replicas",
        HEAD + "replicas: 5000\n",
        "beamkube.yaml:3: replicas: 5000 is out of range; must be <= 1000",
    ),
    (
        "out-of-range-port",
        HEAD + "cluster:\n  distPort: 70000\n",
        "beamkube.yaml:4: cluster.distPort: 70000 is out of range; must be <= 65535",
    ),
    (
        "out-of-range-ticktime",
        HEAD + "cluster: {netTicktime: 1}\n",
        "beamkube.yaml:3: cluster.netTicktime: 1 is out of range; must be >= 2",
    ),
    (
        "bad-enum-identity",
        HEAD + "identity: stateful\n",
        "beamkube.yaml:3: identity: 'stateful' is not allowed; expected 'stateless' or 'stable'",
    ),
    (
        "bad-enum-flavour",
        HEAD + "release:\n  flavour: elixir\n",
        "beamkube.yaml:4: release.flavour: 'elixir' is not allowed; expected 'mix', 'relx' or 'distillery'",
    ),
    (
        "bad-enum-vpa-mode",
        HEAD + "vpa: {updateMode: Auto}\n",
        "beamkube.yaml:3: vpa.updateMode: 'Auto' is not allowed; expected 'Off', 'Initial', 'Recreate' or "
        "'InPlaceOrRecreate'",
    ),
    (
        "bad-name",
        "name: My_App\nimage: x:1\n",
        "beamkube.yaml:1: name: 'My_App' is not a DNS label: lowercase letters, digits and '-', starting with a letter",
    ),
    (
        "name-too-long",
        "name: " + "a" * 41 + "\nimage: x:1\n",
        "beamkube.yaml:1: name: '" + "a" * 41 + "' is too long; at most 40 characters",
    ),
    (
        "bad-cpu-quantity",
        HEAD + "resources:\n  limits: {cpu: lots}\n",
        "beamkube.yaml:4: resources.limits.cpu: 'lots' is not a CPU quantity like 500m, 1 or 2.5",
    ),
    (
        "bad-cron",
        HEAD + "jobs:\n  - {name: report, eval: R.run(), schedule: every day}\n",
        "beamkube.yaml:4: jobs[0].schedule: 'every day' is not a cron schedule of five fields like '15 3 * * *', "
        "or @hourly/@daily/@weekly/@monthly/@yearly",
    ),
    (
        "bad-label-value",
        HEAD + "labels:\n  team: platform team\n",
        "beamkube.yaml:4: labels.team: 'platform team' is not a Kubernetes label value "
        "(≤ 63 of A-Z a-z 0-9 - _ . , alphanumeric at both ends)",
    ),
    (
        "label-owned-by-beamkube",
        HEAD + "labels:\n  app.kubernetes.io/name: shop\n",
        "beamkube.yaml:4: labels.app.kubernetes.io/name: is set by beamkube on every object (selectors depend on it); "
        "remove it",
    ),
    (
        "cross-storage-on-stateless",
        HEAD + "storage: {size: 1Gi}\n",
        "beamkube.yaml:3: storage: needs identity: stable (volumeClaimTemplates belong to a StatefulSet)",
    ),
    (
        "cross-dnssrv-on-stateless",
        HEAD + "cluster:\n  discovery: dnssrv\n",
        "beamkube.yaml:4: cluster.discovery: dnssrv needs identity: stable (per-pod DNS names); use dns",
    ),
    (
        "cross-hpa-min-above-max",
        HEAD + "autoscaling:\n  max: 2\n  min: 5\n  cpu: 50\n",
        "beamkube.yaml:5: autoscaling.min: 5 is above max (2); min must not exceed max",
    ),
    (
        "cross-hpa-without-metric",
        HEAD + "autoscaling: {min: 2, max: 4}\n",
        "beamkube.yaml:3: autoscaling: needs at least one of cpu, pods, external",
    ),
    (
        "cross-request-above-limit",
        HEAD + "resources:\n  requests: {cpu: '2', memory: 1Gi}\n  limits: {cpu: '1', memory: 1Gi}\n",
        "beamkube.yaml:4: resources.requests.cpu: 2 is above limits.cpu (1); a request must not exceed its limit",
    ),
    (
        "cross-recreate-on-statefulset",
        HEAD + "identity: stable\nrollout: {strategy: Recreate}\n",
        "beamkube.yaml:4: rollout.strategy: Recreate is for Deployments; a StatefulSet uses RollingUpdate",
    ),
    (
        "cross-probe-on-missing-web",
        HEAD + "web: null\nprobes:\n  readiness: {http: {path: /health}}\n",
        "beamkube.yaml:5: probes.readiness: uses the web port but web is null",
    ),
    (
        "cross-probe-two-handlers",
        HEAD + "probes:\n  liveness:\n    http: {path: /}\n    tcp: {port: web}\n",
        "beamkube.yaml:4: probes.liveness: a probe needs exactly one of http, tcp, exec",
    ),
    (
        "cross-vpa-fights-cpu-hpa",
        HEAD + "autoscaling: {cpu: 50}\nvpa: {updateMode: Recreate}\n",
        "beamkube.yaml:4: vpa.updateMode: must be Off while autoscaling on cpu (they would fight)",
    ),
    (
        "cross-duplicate-job",
        HEAD + "jobs:\n  - {name: migrate, eval: A.m()}\n  - {name: migrate, eval: A.n()}\n",
        "beamkube.yaml:5: jobs[1].name: duplicate job name 'migrate'",
    ),
    (
        "cross-cronjob-name-too-long",
        "name: " + "a" * 40 + "\nimage: x:1\njobs:\n  - {name: nightly-report, eval: R.run(), schedule: '@daily'}\n",
        "beamkube.yaml:4: jobs[0].name: 'nightly-report' is too long for app '"
        + "a" * 40
        + "': the CronJob name '<name>-<job>' may have at most 52 characters",
    ),
    (
        "cross-secret-env-shadows-beamkube",
        HEAD + "secretEnv:\n  - {name: RELEASE_COOKIE, secret: mine, key: cookie}\n",
        "beamkube.yaml:4: secretEnv[0].name: 'RELEASE_COOKIE' is set by beamkube; choose another name (reserved: "
        "BEAMKUBE_*, DNS_CLUSTER_QUERY, ERL_CRASH_DUMP, ERL_CRASH_DUMP_SECONDS, ERL_MAX_PORTS, HOME, POD_IP, "
        "POD_NAME, POD_NAMESPACE, RELEASE_CONFIG_DIR, RELEASE_COOKIE, RELEASE_DISTRIBUTION, RELEASE_MUTABLE_DIR, "
        "RELEASE_NODE, RELEASE_TMP, RELEASE_VM_ARGS, RELX_OUT_FILE_PATH, REPLACE_OS_VARS, VMARGS_PATH)",
    ),
    (
        "cross-metrics-on-dist-port",
        HEAD + "metrics: {port: 9000}\n",
        "beamkube.yaml:3: metrics.port: 9000 is a distribution port; use another port",
    ),
    (
        "cross-pdb-blocks-evictions",
        HEAD + "replicas: 2\ndisruption: {minAvailable: 2}\n",
        "beamkube.yaml:4: disruption.minAvailable: 2 leaves no pod of 2 evictable (node drains would hang); "
        "use a lower value",
    ),
    (
        "cross-same-ports",
        HEAD + "web: {port: 9000}\n",
        "beamkube.yaml:3: web.port: 9000 is a distribution port (cluster.distPort/epmdPort); use another port",
    ),
]


@pytest.mark.parametrize(("spec_text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_is_one_line_exit_2(
    spec_text: str | None,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    if spec_text is not None:
        (tmp_path / "beamkube.yaml").write_text(spec_text, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["beamkube", "render", "beamkube.yaml"])
    with pytest.raises(SystemExit) as exit_info:
        run()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert captured.err == f"beamkube: {expected}\n"


def test_enough_cases_and_kinds() -> None:
    """The brief asks for at least 20 malformed specs covering these kinds of mistakes."""
    ids = [c[0] for c in CASES]
    assert len(ids) >= 20
    for kind in ("missing-file", "empty-file", "list-not-mapping", "yaml-", "unknown-", "wrong-type", "out-of-range",
                 "bad-enum", "cross-"):  # fmt: skip
        assert any(i.startswith(kind) for i in ids), kind


@pytest.mark.parametrize("case", ["yaml-unclosed-flow", "unknown-top-field-typo", "cross-hpa-min-above-max"])
def test_installed_script_prints_no_traceback(case: str, tmp_path: Path) -> None:
    _, spec_text, expected = next(c for c in CASES if c[0] == case)
    assert spec_text is not None
    (tmp_path / "beamkube.yaml").write_text(spec_text, encoding="utf-8")
    script = Path(sys.executable).with_name("beamkube")
    result = subprocess.run([str(script), "render"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"beamkube: {expected}\n"
    assert "Traceback" not in result.stderr
