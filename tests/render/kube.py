"""Checks the render tests apply to rendered objects: strict upstream schemas, the Pod Security "restricted"
profile, name and label syntax, and cross-object consistency (selectors, targets, ports).

Role: test helper; reads the JSON schemas bundled with `kubernetes-validate` and `schemas/` (file I/O, cached).
The schemas are the ones `kubernetes_validate.validate(..., strict=True)` uses; validators are built once per
(version, kind) so the property test can validate hundreds of objects in a second.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv_utils
import referencing
from packaging.version import Version

SCHEMA_DIR = Path(__file__).parent / "schemas"
# Custom resources without an upstream schema: (apiVersion, kind) → our file in schemas/.
CRD_SCHEMAS = {("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"): "verticalpodautoscaler-autoscaling-v1.json"}

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

POD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")
# Pod Security "restricted" (Kubernetes docs, Pod Security Standards): the only volume types allowed.
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
)


class SchemaMissing(AssertionError):
    """No schema for (kind, apiVersion) in a Kubernetes version: the API is gone there, a failure."""


def newest_versions(count: int = 3) -> list[str]:
    """The newest `count` minor versions kubernetes-validate bundles, e.g. ['1.35', '1.36', '1.37']."""
    minors = sorted({kv_utils.major_minor(v) for v in kv_utils.all_versions()}, key=Version)
    return minors[-count:]


def _schema_dir(version: str) -> str:
    """The bundled directory kubernetes-validate picks for `version` in strict mode."""
    full = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) == version]
    if not full:
        raise SchemaMissing(f"kubernetes-validate bundles no schemas for {version}")
    return f"v{full[-1]}-local-strict"


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    crd = CRD_SCHEMAS.get((api_version, kind))
    if crd is not None:
        schema = json.loads((SCHEMA_DIR / crd).read_text(encoding="utf-8"))
        return jsonschema.Draft202012Validator(schema)
    directory = _schema_dir(version)
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # same mapping as kubernetes-validate
    try:
        schema = kv_utils.schema_contents(f"kubernetes-json-schema/{directory}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise SchemaMissing(f"no {kind} {api_version} schema in Kubernetes {version}") from None
    definitions = kv_utils.schema_contents(f"kubernetes-json-schema/{directory}/_definitions.json", version)
    registry: referencing.Registry[Any] = referencing.Registry()
    registry = referencing.Resource.from_contents(schema) @ registry
    registry = referencing.Resource.from_contents(definitions) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def schema_errors(obj: dict[str, Any], version: str) -> list[str]:
    """Strict-schema violations of `obj` in Kubernetes `version` (raises SchemaMissing if the API is gone)."""
    validator = _validator(version, obj["apiVersion"], obj["kind"])
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    return [
        f"{where} ({version}): {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)
    ]


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod spec inside a workload-like object (none for other kinds)."""
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "Job"):
        yield obj["spec"]["template"]["spec"]
    elif kind == "CronJob":
        yield obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Pod Security Standards "restricted" (which includes "baseline") checks for one pod spec."""
    bad: list[str] = []
    pod_sc = pod.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            bad.append(f"{host} is set")
    for volume in pod.get("volumes") or []:
        types = set(volume) - {"name"}
        if not types <= RESTRICTED_VOLUME_TYPES:
            bad.append(f"volume {volume['name']} has a disallowed type {sorted(types)}")
    if pod_sc.get("runAsUser") == 0:
        bad.append("pod runAsUser is 0")
    if pod_sc.get("sysctls"):
        bad.append("pod sets sysctls")
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in ("RuntimeDefault", "Localhost"):
        bad.append(f"pod seccompProfile {pod_seccomp}")
    containers = [*(pod.get("initContainers") or []), *pod["containers"], *(pod.get("ephemeralContainers") or [])]
    for c in containers:
        sc = c.get("securityContext") or {}
        name = c["name"]
        if sc.get("privileged"):
            bad.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            bad.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            bad.append(f"{name}: runAsUser is 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            bad.append(f"{name}: seccompProfile is {seccomp}, not RuntimeDefault/Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{name}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            bad.append(f"{name}: adds capabilities {caps['add']}")
        if sc.get("procMount", "Default") != "Default":
            bad.append(f"{name}: procMount")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            bad.append(f"{name}: hostProcess")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                bad.append(f"{name}: hostPort {port['hostPort']}")
    return bad


def _label_problems(labels: dict[str, str], where: str) -> list[str]:
    bad = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
            bad.append(f"{where}: label key prefix {key!r}")
        if not name or len(name) > 63 or not LABEL_NAME.match(name):
            bad.append(f"{where}: label key {key!r}")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            bad.append(f"{where}: label value {key}={value!r}")
    return bad


def name_and_label_problems(obj: dict[str, Any]) -> list[str]:
    """Object names are DNS labels (≤ 63; Services DNS-1035; ≤ 52 where Kubernetes appends a suffix to make
    pod or Job names), every object carries the app.kubernetes.io labels, and label syntax is valid."""
    kind, meta = obj["kind"], obj["metadata"]
    name = meta["name"]
    where = f"{kind}/{name}"
    bad: list[str] = []
    limit = 52 if kind in ("CronJob", "StatefulSet") else 63
    pattern = DNS_1035 if kind == "Service" else DNS_LABEL
    if len(name) > limit or not pattern.match(name):
        bad.append(f"{where}: name is not a DNS label of at most {limit} characters")
    if "namespace" in meta and (len(meta["namespace"]) > 63 or not DNS_LABEL.match(meta["namespace"])):
        bad.append(f"{where}: namespace {meta['namespace']!r}")
    labels = meta.get("labels") or {}
    bad += [f"{where}: missing label {k}" for k in REQUIRED_LABELS if k not in labels]
    if labels.get("app.kubernetes.io/managed-by") != "beamkube":
        bad.append(f"{where}: managed-by is not beamkube")
    bad += _label_problems(labels, where)
    for pod in pod_specs(obj):
        for c in pod["containers"]:
            if not DNS_LABEL.match(c["name"]):
                bad.append(f"{where}: container name {c['name']!r}")
            env_names = [e["name"] for e in c.get("env") or []]
            dupes = sorted({n for n in env_names if env_names.count(n) > 1})
            if dupes:
                bad.append(f"{where}: duplicate env names {dupes} (server-side apply rejects them)")
            port_names = [p["name"] for p in c.get("ports") or []]
            port_numbers = [p["containerPort"] for p in c.get("ports") or []]
            if len(set(port_names)) != len(port_names) or len(set(port_numbers)) != len(port_numbers):
                bad.append(f"{where}: duplicate container ports {c.get('ports')}")
            for port_name in port_names:
                if len(port_name) > 15 or not PORT_NAME.match(port_name):
                    bad.append(f"{where}: port name {port_name!r} is not an IANA service name")
        volume_names = [v["name"] for v in pod.get("volumes") or []]
        if len(set(volume_names)) != len(volume_names):
            bad.append(f"{where}: duplicate volumes {volume_names}")
    template_labels = _template_labels(obj)
    if template_labels is not None:
        bad += _label_problems(template_labels, f"{where} template")
    return bad


def _template_labels(obj: dict[str, Any]) -> dict[str, str] | None:
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "Job"):
        return dict(obj["spec"]["template"]["metadata"]["labels"])
    if kind == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
    return None


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def consistency_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Cross-object facts an apply would not catch: each workload's selector selects its own pods and no other
    workload's; the headless Service and the NetworkPolicy select every workload's pods (one BEAM cluster);
    other Services, PDBs and autoscalers select or point at exactly one workload whose container declares
    the ports they target; Jobs are selected by no workload; objects share one namespace, and no two objects
    have the same kind and name."""
    bad: list[str] = []
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    if len(set(keys)) != len(keys):
        bad.append(f"duplicate objects: {keys}")
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
    if not workloads:
        return [*bad, "no workload rendered"]
    pods = {w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"] for w in workloads}
    for work in workloads:
        name = work["metadata"]["name"]
        for other, labels in pods.items():
            selected = _matches(work["spec"]["selector"]["matchLabels"], labels)
            if other == name and not selected:
                bad.append(f"workload {name}: selector does not match its pod template")
            if other != name and selected:
                bad.append(f"workload {name}: selector also selects the pods of {other}")
        bad += _workload_problems(work, objects)
    namespaces = {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]}
    if len(namespaces) > 1:
        bad.append(f"objects in several namespaces: {sorted(namespaces)}")
    for obj in objects:
        kind, spec = obj["kind"], obj.get("spec") or {}
        where = f"{kind}/{obj['metadata']['name']}"
        if kind == "Service":
            chosen = [w for w in workloads if _matches(spec["selector"], pods[w["metadata"]["name"]])]
            wanted = len(workloads) if spec.get("clusterIP") == "None" else 1
            if len(chosen) != wanted:
                bad.append(f"{where}: selects the pods of {len(chosen)} workloads, expected {wanted}")
            for work in chosen:
                port_names = _port_names(work)
                for port in spec["ports"]:
                    target = port.get("targetPort", port["port"])
                    if isinstance(target, str) and target not in port_names:
                        bad.append(
                            f"{where}: targetPort {target} is not a container port of {work['metadata']['name']}"
                        )
        if kind in ("PodDisruptionBudget", "NetworkPolicy"):
            selector = spec.get("selector", spec.get("podSelector", {}))["matchLabels"]
            chosen = [w for w in workloads if _matches(selector, pods[w["metadata"]["name"]])]
            wanted = len(workloads) if kind == "NetworkPolicy" else 1
            if len(chosen) != wanted:
                bad.append(f"{where}: selects the pods of {len(chosen)} workloads, expected {wanted}")
        if kind in ("Job", "CronJob"):
            job_labels = _template_labels(obj) or {}
            for work in workloads:
                if _matches(work["spec"]["selector"]["matchLabels"], job_labels):
                    bad.append(f"{where}: its pods would be selected by {work['metadata']['name']} (and its Services)")
            policies = [o["spec"]["podSelector"]["matchLabels"] for o in objects if o["kind"] == "NetworkPolicy"]
            if not any(_matches(selector, job_labels) for selector in policies):
                bad.append(f"{where}: no NetworkPolicy selects its pods (they would accept any traffic)")
        if kind in ("HorizontalPodAutoscaler", "VerticalPodAutoscaler"):
            ref = spec["scaleTargetRef" if kind == "HorizontalPodAutoscaler" else "targetRef"]
            target = next(
                (w for w in workloads if (w["kind"], w["metadata"]["name"]) == (ref["kind"], ref["name"])), None
            )
            if target is None:
                bad.append(f"{where}: its target is not a rendered workload")
            elif kind == "HorizontalPodAutoscaler":
                if spec["minReplicas"] > spec["maxReplicas"]:
                    bad.append(f"{where}: minReplicas > maxReplicas")
                if "replicas" in target["spec"]:
                    bad.append(f"{target['metadata']['name']} sets replicas although an HPA manages them")
        if kind == "PodDisruptionBudget" and isinstance(spec.get("minAvailable"), int):
            work = next(w for w in workloads if _matches(spec["selector"]["matchLabels"], pods[w["metadata"]["name"]]))
            hpa = next(
                (
                    o
                    for o in objects
                    if o["kind"] == "HorizontalPodAutoscaler"
                    and o["spec"]["scaleTargetRef"]["name"] == work["metadata"]["name"]
                ),
                None,
            )
            floor = hpa["spec"]["minReplicas"] if hpa else work["spec"].get("replicas", 1)
            if floor > 0 and spec["minAvailable"] >= floor:  # with no pods there is nothing to evict
                bad.append(f"{where}: minAvailable {spec['minAvailable']} ≥ {floor} replicas blocks every eviction")
        if kind == "Ingress":
            for rule in spec["rules"]:
                for path in rule["http"]["paths"]:
                    svc = path["backend"]["service"]["name"]
                    if ("Service", svc) not in {(o["kind"], o["metadata"]["name"]) for o in objects}:
                        bad.append(f"{where}: backend Service {svc} is not rendered")
    return bad


def _port_names(work: dict[str, Any]) -> dict[str, int]:
    pod = work["spec"]["template"]["spec"]
    # Native sidecars (init containers that keep running) serve ports too.
    containers = [
        *pod["containers"],
        *(c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always"),
    ]
    return {p["name"]: p["containerPort"] for c in containers for p in c.get("ports") or [] if "name" in p}


def _workload_problems(work: dict[str, Any], objects: list[dict[str, Any]]) -> list[str]:
    bad: list[str] = []
    name = work["metadata"]["name"]
    container = work["spec"]["template"]["spec"]["containers"][0]
    port_names = _port_names(work)
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(key) or {}
        for handler in ("httpGet", "tcpSocket"):
            port = (probe.get(handler) or {}).get("port")
            if isinstance(port, str) and port not in port_names:
                bad.append(f"{name}: {key} uses port {port}, which the container does not declare")
    if work["kind"] == "StatefulSet":
        headless = [
            o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == work["spec"]["serviceName"]
        ]
        if not headless or headless[0]["spec"].get("clusterIP") != "None":
            bad.append(f"{name}: StatefulSet serviceName is not a rendered headless Service")
    pod = work["spec"]["template"]["spec"]
    for each in [*pod["containers"], *(pod.get("initContainers") or [])]:
        for res in ("cpu", "memory"):
            limits = each.get("resources", {}).get("limits", {})
            requests = each.get("resources", {}).get("requests", {})
            if res in limits and res in requests and _quantity(requests[res]) > _quantity(limits[res]):
                bad.append(f"{name}/{each['name']}: {res} request {requests[res]} exceeds its limit {limits[res]}")
    return bad


_SUFFIX = {
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def _quantity(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    assert match, text
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def all_problems(objects: list[dict[str, Any]], versions: list[str]) -> list[str]:
    """Every check above over one rendering."""
    problems: list[str] = []
    for obj in objects:
        for version in versions:
            problems += schema_errors(obj, version)
        problems += name_and_label_problems(obj)
        for pod in pod_specs(obj):
            problems += [f"{obj['kind']}/{obj['metadata']['name']}: {p}" for p in restricted_violations(pod)]
    return problems + consistency_problems(objects)
