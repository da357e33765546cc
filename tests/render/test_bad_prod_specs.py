# ruff: noqa: E501  (a table of exact one-line messages: splitting them would hide what the user sees)
"""Malformed production-app specs (sidecars, volumes, placement, processes, vm.args, overrides) through the
real CLI: each exits 2 with one line naming file, line, field path and what is allowed, and no traceback.

Role: tests; writes spec files under pytest's tmp_path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from beamkube.cli.main import run

HEAD = "name: app\nimage: ghcr.io/acme/app:1.0\n"

# (id, spec text, expected stderr line without the "beamkube: " prefix)
CASES: list[tuple[str, str, str]] = [
    (
        "sidecar-named-beam",
        HEAD + "sidecars:\n  - {name: beam, image: x:1}\n",
        "beamkube.yaml:4: sidecars[0].name: 'beam' is the name of a container beamkube renders; choose another",
    ),
    (
        "init-named-job",
        HEAD + "initContainers:\n  - {name: job, image: x:1}\n",
        "beamkube.yaml:4: initContainers[0].name: 'job' is the name of a container beamkube renders; choose another",
    ),
    (
        "container-names-twice",
        HEAD + "sidecars:\n  - {name: proxy, image: x:1}\ninitContainers:\n  - {name: proxy, image: y:1}\n",
        "beamkube.yaml:4: sidecars[0].name: 'proxy' names two containers; names must be unique",
    ),
    (
        "sidecar-mounts-unknown-volume",
        HEAD + "sidecars:\n  - name: proxy\n    image: x:1\n    volumeMounts: [{name: certs, mountPath: /certs}]\n",
        "beamkube.yaml:6: sidecars[0].volumeMounts[0].name: 'certs' is not a volume of the pod; declare it under volumes (known: tmp)",
    ),
    (
        "sidecar-probe-without-port",
        HEAD + "sidecars:\n  - name: proxy\n    image: x:1\n    probes:\n      readiness: {http: {path: /ready}}\n",
        "beamkube.yaml:7: sidecars[0].probes.readiness: needs an explicit port number (the sidecar's own port)",
    ),
    (
        "sidecar-port-is-dist",
        HEAD + "sidecars:\n  - name: proxy\n    image: x:1\n    ports: [{name: admin, containerPort: 9000}]\n",
        "beamkube.yaml:6: sidecars[0].ports[0].containerPort: 9000 is already cluster.distPort in this pod",
    ),
    (
        "sidecar-port-name-http",
        HEAD + "sidecars:\n  - name: proxy\n    image: x:1\n    ports: [{name: http, containerPort: 8081}]\n",
        "beamkube.yaml:6: sidecars[0].ports[0].name: 'http' is already a port name in this pod",
    ),
    (
        "init-with-probes",
        HEAD + "initContainers:\n  - name: wait\n    image: x:1\n    probes:\n      readiness: {tcp: {port: 5432}}\n",
        "beamkube.yaml:6: initContainers[0].probes: init containers run to completion and take no probes; use sidecars",
    ),
    (
        "volume-two-sources",
        HEAD + "volumes:\n  - {name: certs, secret: a, configMap: b, mountPath: /certs}\n",
        "beamkube.yaml:4: volumes[0]: a volume needs exactly one of secret, configMap, persistentVolumeClaim, csi, emptyDir",
    ),
    (
        "volume-own-name",
        HEAD + "volumes:\n  - {name: tmp, emptyDir: {}}\n",
        "beamkube.yaml:4: volumes[0].name: 'tmp' is a volume beamkube mounts itself (beam-config, data, dist-tls, tmp)",
    ),
    (
        "volume-over-beamkube-config",
        HEAD + "volumes:\n  - {name: cfg, configMap: mine, mountPath: /etc/beamkube/extra}\n",
        "beamkube.yaml:4: volumes[0].mountPath: /etc/beamkube/extra is inside /etc/beamkube, which beamkube mounts",
    ),
    (
        "volume-duplicate-name",
        HEAD + "volumes:\n  - {name: a, secret: s1}\n  - {name: a, secret: s2}\n",
        "beamkube.yaml:5: volumes[1].name: 'a' names two volumes; names must be unique",
    ),
    (
        "envfrom-both",
        HEAD + "envFrom:\n  - {secret: a, configMap: b}\n",
        "beamkube.yaml:4: envFrom[0]: an envFrom entry needs exactly one of secret, configMap",
    ),
    (
        "pull-secret-bad-name",
        HEAD + "imagePullSecrets: [My_Registry]\n",
        "beamkube.yaml:3: imagePullSecrets[0]: 'My_Registry' is not a Secret name (a DNS label)",
    ),
    (
        "toleration-exists-with-value",
        HEAD + "placement:\n  tolerations:\n    - {key: dedicated, operator: Exists, value: beam}\n",
        "beamkube.yaml:5: placement.tolerations[0].value: must be unset with operator Exists",
    ),
    (
        "toleration-seconds-without-noexecute",
        HEAD
        + "placement:\n  tolerations:\n    - {key: spot, value: 'true', effect: NoSchedule, tolerationSeconds: 30}\n",
        "beamkube.yaml:5: placement.tolerations[0].tolerationSeconds: only applies to effect NoExecute",
    ),
    (
        "node-affinity-in-without-values",
        HEAD + "placement:\n  nodeAffinity:\n    required:\n      - matchExpressions: [{key: pool, operator: In}]\n",
        "beamkube.yaml:6: placement.nodeAffinity.required[0].matchExpressions[0].values: operator In needs at least one value",
    ),
    (
        "sa-existing-with-annotations",
        HEAD
        + "serviceAccount:\n  existing: shared\n  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/x'}\n",
        "beamkube.yaml:5: serviceAccount.annotations: beamkube does not create or change an existing ServiceAccount; set these on it directly",
    ),
    (
        "object-meta-own-label",
        HEAD + "objectMeta:\n  webService:\n    labels: {app.kubernetes.io/component: lb}\n",
        "beamkube.yaml:5: objectMeta.webService.labels.app.kubernetes.io/component: is set by beamkube on every object (selectors depend on it); remove it",
    ),
    (
        "cert-manager-both-issuers",
        HEAD + "web:\n  ingress:\n    host: a.example.com\n    certManager: {clusterIssuer: le, issuer: local}\n",
        "beamkube.yaml:6: web.ingress.certManager: certManager needs exactly one of clusterIssuer, issuer",
    ),
    (
        "ingress-path-twice",
        HEAD
        + "web:\n  ingress:\n    host: a.example.com\n    extraHosts:\n      - {host: a.example.com, paths: [/]}\n",
        "beamkube.yaml:7: web.ingress.extraHosts[0].paths[0]: a.example.com/ is routed twice",
    ),
    (
        "vmargs-sets-name",
        HEAD + "release:\n  vmArgs: ['+K true', '-name app@127.0.0.1']\n",
        "beamkube.yaml:4: release.vmArgs[1]: -name is set by beamkube: the node name comes from RELEASE_NODE (pod IP or pod DNS name)",
    ),
    (
        "vmargs-sets-cookie",
        HEAD + "release:\n  vmArgs: ['-setcookie secret']\n",
        "beamkube.yaml:4: release.vmArgs[0]: -setcookie is set by beamkube: the cookie comes from the cookie Secret (cluster.cookieSecret)",
    ),
    (
        "vmargs-dist-port",
        HEAD + "release:\n  vmArgs: ['-kernel inet_dist_listen_min 9100']\n",
        "beamkube.yaml:4: release.vmArgs[0]: -kernel inet_dist_listen_min is set by beamkube: set cluster.distPort instead",
    ),
    (
        "vmargs-schedulers",
        HEAD + "release:\n  vmArgs: ['+S 8:8']\n",
        "beamkube.yaml:4: release.vmArgs[0]: +S is set by beamkube: beamkube matches +S to resources.limits.cpu",
    ),
    (
        "job-env-reserved",
        HEAD + "jobs:\n  - name: migrate\n    eval: A.m()\n    env: {RELEASE_NODE: x}\n",
        "beamkube.yaml:6: jobs[0].env.RELEASE_NODE: 'RELEASE_NODE' is set by beamkube; choose another name (reserved: BEAMKUBE_*, DNS_CLUSTER_QUERY, ERL_CRASH_DUMP, ERL_CRASH_DUMP_SECONDS, ERL_MAX_PORTS, HOME, POD_IP, POD_NAME, POD_NAMESPACE, RELEASE_CONFIG_DIR, RELEASE_COOKIE, RELEASE_DISTRIBUTION, RELEASE_MUTABLE_DIR, RELEASE_NODE, RELEASE_TMP, RELEASE_VM_ARGS, RELX_OUT_FILE_PATH, REPLACE_OS_VARS, VMARGS_PATH)",
    ),
    (
        "process-bad-name",
        HEAD + "processes:\n  Web: {}\n",
        "beamkube.yaml:4: processes.Web: 'Web' is not a process name (a DNS label: a-z, 0-9, '-', starting with a letter)",
    ),
    (
        # found by tests/input/test_valid_specs_pass_audit.py: the process's own resources had no CPU (BK503)
        "process-cpu-hpa-without-cpu",
        HEAD + "autoscaling: {cpu: 50}\nprocesses:\n  web: {}\n  worker:\n    resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n",
        "beamkube.yaml:7: processes.worker.resources: process 'worker' scales on CPU utilisation, a percentage of the CPU request, but its resources set no CPU request or limit (audit BK503); set resources.requests.cpu",
    ),
    (
        "process-own-cpu-hpa-without-cpu",
        HEAD + "resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\nprocesses:\n  web:\n    autoscaling: {cpu: 50}\n",
        "beamkube.yaml:6: processes.web.autoscaling.cpu: process 'web' scales on CPU utilisation, a percentage of the CPU request, but its resources set no CPU request or limit (audit BK503); set resources.requests.cpu",
    ),
    (
        "process-too-long",
        "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nimage: x:1\nprocesses:\n  background-jobs: {}\n",
        "beamkube.yaml:4: processes.background-jobs: 'background-jobs' is too long for app 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': the workload name '<name>-<process>' may have at most 52 characters",
    ),
    (
        "process-no-web",
        HEAD + "processes:\n  api: {}\n  worker: {}\n",
        "beamkube.yaml:3: processes: exactly one process must serve web (web: true, or the process named 'web'); found none",
    ),
    (
        "process-two-web",
        HEAD + "processes:\n  web: {}\n  admin: {web: true}\n",
        "beamkube.yaml:3: processes: exactly one process must serve web (web: true, or the process named 'web'); found web, admin",
    ),
    (
        "process-web-but-null",
        HEAD + "web: null\nprocesses:\n  web: {}\n",
        "beamkube.yaml:5: processes.web.web: serves web, but the top-level web is null",
    ),
    (
        "process-static-discovery",
        HEAD + "identity: stable\ncluster: {discovery: static}\nprocesses:\n  web: {}\n  worker: {}\n",
        "beamkube.yaml:4: cluster.discovery: static lists one StatefulSet's ordinals; with several processes use dnssrv (or dns), which see every process's pods through the shared headless Service",
    ),
    (
        "process-env-reserved",
        HEAD + "processes:\n  web: {}\n  worker:\n    env: {RELEASE_COOKIE: x}\n",
        "beamkube.yaml:6: processes.worker.env.RELEASE_COOKIE: 'RELEASE_COOKIE' is set by beamkube; choose another name (reserved: BEAMKUBE_*, DNS_CLUSTER_QUERY, ERL_CRASH_DUMP, ERL_CRASH_DUMP_SECONDS, ERL_MAX_PORTS, HOME, POD_IP, POD_NAME, POD_NAMESPACE, RELEASE_CONFIG_DIR, RELEASE_COOKIE, RELEASE_DISTRIBUTION, RELEASE_MUTABLE_DIR, RELEASE_NODE, RELEASE_TMP, RELEASE_VM_ARGS, RELX_OUT_FILE_PATH, REPLACE_OS_VARS, VMARGS_PATH)",
    ),
    (
        "process-inherits-web-probe",
        HEAD + "probes:\n  readiness: {http: {path: /ready}}\nprocesses:\n  web: {}\n  worker: {}\n",
        "beamkube.yaml:7: processes.worker: inherits probes.readiness, which uses the web port, but does not serve web; set its probes",
    ),
    (
        "override-no-patch",
        HEAD + "overrides:\n  - {kind: Deployment}\n",
        "beamkube.yaml:4: overrides[0]: an override needs exactly one of patch, jsonPatch",
    ),
    (
        "override-both-patches",
        HEAD
        + "overrides:\n  - kind: Service\n    name: app\n    patch: {metadata: {annotations: {a: b}}}\n    jsonPatch: [{op: add, path: /metadata/labels/x, value: y}]\n",
        "beamkube.yaml:4: overrides[0]: an override needs exactly one of patch, jsonPatch",
    ),
    (
        "override-bad-kind",
        HEAD + "overrides:\n  - {kind: deployment, patch: {}}\n",
        "beamkube.yaml:4: overrides[0].kind: 'deployment' is not a Kubernetes kind (CamelCase, e.g. Deployment)",
    ),
    (
        "override-unknown-kind",
        HEAD + "overrides:\n  - kind: StatefulSet\n    patch: {spec: {replicas: 5}}\n",
        "beamkube.yaml:4: overrides[0].kind: targets nothing: no StatefulSet is rendered (kinds: ConfigMap, Deployment, NetworkPolicy, PodDisruptionBudget, Service, ServiceAccount)",
    ),
    (
        "override-unknown-name",
        HEAD + "overrides:\n  - kind: Service\n    name: app-web\n    patch: {metadata: {annotations: {a: b}}}\n",
        "beamkube.yaml:5: overrides[0].name: targets nothing: no Service 'app-web' (rendered: app, app-headless)",
    ),
    (
        "override-ambiguous",
        HEAD + "overrides:\n  - kind: Service\n    patch: {metadata: {annotations: {a: b}}}\n",
        "beamkube.yaml:4: overrides[0]: 2 Service objects are rendered (app, app-headless); set name",
    ),
    (
        "override-selector",
        HEAD + "overrides:\n  - kind: Deployment\n    patch: {spec: {selector: {matchLabels: {tier: web}}}}\n",
        "beamkube.yaml:4: overrides[0]: changes spec.selector, which beamkube owns; selectors are immutable and tie the workload to the headless Service and the NetworkPolicy",
    ),
    (
        "override-cookie-env",
        HEAD
        + "overrides:\n  - kind: Deployment\n    patch:\n      spec:\n        template:\n          spec:\n            containers:\n              - name: beam\n                env: [{name: RELEASE_COOKIE, value: secret}]\n",
        "beamkube.yaml:4: overrides[0]: changes env RELEASE_COOKIE of container beam, which beamkube owns; node name, cookie and release env come from the spec (cluster.*, release.*)",
    ),
    (
        "override-node-name",
        HEAD
        + "overrides:\n  - kind: Deployment\n    jsonPatch:\n      - {op: replace, path: /spec/template/spec/containers/0/env/3/value, value: app@localhost}\n",
        "beamkube.yaml:4: overrides[0]: changes env RELEASE_NODE of container beam, which beamkube owns; node name, cookie and release env come from the spec (cluster.*, release.*)",
    ),
    (
        "override-dist-port",
        HEAD
        + "overrides:\n  - kind: Deployment\n    patch:\n      spec:\n        template:\n          spec:\n            containers:\n              - name: beam\n                ports: [{containerPort: 9000, name: dist, protocol: UDP}]\n",
        "beamkube.yaml:4: overrides[0]: changes ports dist of container beam, which beamkube owns; set cluster.distPort / cluster.epmdPort",
    ),
    (
        "override-headless",
        HEAD
        + "overrides:\n  - kind: Service\n    name: app-headless\n    patch: {spec: {publishNotReadyAddresses: false}}\n",
        "beamkube.yaml:4: overrides[0]: changes spec of the headless Service, which beamkube owns; set cluster.* (ports) or objectMeta.headlessService (labels, annotations)",
    ),
    (
        "override-networkpolicy-opens-dist",
        HEAD
        + "overrides:\n  - kind: NetworkPolicy\n    jsonPatch:\n      - op: add\n        path: /spec/ingress/-\n        value: {ports: [{port: 9000, protocol: TCP}]}\n",
        "beamkube.yaml:4: overrides[0]: changes distribution exposure: a NetworkPolicy rule opening epmd/dist (or every port), which beamkube owns; distribution must stay reachable from the app's own pods only",
    ),
    (
        "override-vm-args",
        HEAD + "overrides:\n  - kind: ConfigMap\n    name: app-beam\n    patch: {data: {vm.args: '-name x'}}\n",
        "beamkube.yaml:4: overrides[0]: changes data of the generated vm.args, which beamkube owns; set release.vmArgs or cluster.*",
    ),
    (
        "override-jsonpatch-missing-path",
        HEAD
        + "overrides:\n  - kind: Deployment\n    jsonPatch:\n      - {op: remove, path: /spec/template/spec/hostNetwork}\n",
        "beamkube.yaml:6: overrides[0].jsonPatch[0]: remove /spec/template/spec/hostNetwork: can't remove a non-existent object 'hostNetwork'",
    ),
    (
        "override-jsonpatch-test-fails",
        HEAD
        + "overrides:\n  - kind: Deployment\n    jsonPatch:\n      - {op: test, path: /spec/replicas, value: 5}\n      - {op: replace, path: /spec/replicas, value: 6}\n",
        "beamkube.yaml:6: overrides[0].jsonPatch[0]: test /spec/replicas: the value is 3, not 5",
    ),
    (
        "override-changes-nothing",
        HEAD + "overrides:\n  - kind: Deployment\n    patch: {spec: {replicas: 3}}\n",
        "beamkube.yaml:4: overrides[0]: changes nothing in Deployment app",
    ),
    (
        "override-list-item-without-key",
        HEAD
        + "overrides:\n  - kind: Deployment\n    patch:\n      spec:\n        template:\n          spec:\n            containers: [{image: other:1}]\n",
        "beamkube.yaml:5: overrides[0].patch: spec.template.spec.containers: every item needs its merge key 'name' (got {'image': 'other:1'})",
    ),
    (
        "override-unsupported-directive",
        HEAD
        + "overrides:\n  - kind: Deployment\n    patch:\n      spec:\n        template:\n          spec:\n            $setElementOrder/containers: [{name: beam}]\n",
        "beamkube.yaml:5: overrides[0].patch: spec.template.spec.$setElementOrder/containers: directive $setElementOrder/containers is not supported; use jsonPatch",
    ),
    (
        "override-removes-beam-container",
        HEAD
        + "overrides:\n  - kind: Deployment\n    patch:\n      spec:\n        template:\n          spec:\n            containers: [{name: beam, $patch: delete}]\n",
        "beamkube.yaml:4: overrides[0]: changes container beam (removed or renamed), which beamkube owns; patch the container's fields, not its name",
    ),
]


@pytest.mark.parametrize(("spec_text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_production_spec_is_one_line_exit_2(
    spec_text: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "beamkube.yaml").write_text(spec_text, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["beamkube", "render", "beamkube.yaml"])
    with pytest.raises(SystemExit) as exit_info:
        run()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert captured.err == f"beamkube: {expected}\n"
    assert "\n" not in captured.err.rstrip("\n") and "Traceback" not in captured.err


def test_at_least_twenty_cases_over_every_new_area() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)
    for area in ("sidecar-", "volume-", "toleration-", "process-", "vmargs-", "override-"):
        assert sum(i.startswith(area) for i in ids) >= 2, area
