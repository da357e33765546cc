"""Rules on the object envelope: apiVersion for the kind, the shape of `metadata`, label syntax, namespace.

Role: pure (no I/O). The served group/versions per kind are facts of the upstream API (current versions;
removed betas stay known so BK751 names their replacement instead of this rule calling them unknown).
Label syntax follows apimachinery's validation: a value is at most 63 characters of `[A-Za-z0-9_.-]`
beginning and ending alphanumeric; a key is an optional DNS-subdomain prefix (<= 253) and a `/`, then a
name with the value's rules (1-63 characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from beamkube.audit.context import POD_KINDS, Context
from beamkube.audit.model import CLUSTER_SCOPED, Hit, Manifest, Rule, Severity
from beamkube.audit.rules.platform import API_CHANGES

_CORE = ("ConfigMap", "Secret", "Service", "ServiceAccount", "Pod", "Namespace", "PersistentVolumeClaim",
         "PersistentVolume", "ReplicationController", "Endpoints", "LimitRange", "ResourceQuota", "Event", "Node")
SERVED: dict[str, frozenset[str]] = {
    **{kind: frozenset({"v1"}) for kind in _CORE},
    **{k: frozenset({"apps/v1"}) for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                           "ControllerRevision")},
    "Job": frozenset({"batch/v1"}),
    "CronJob": frozenset({"batch/v1"}),
    "HorizontalPodAutoscaler": frozenset({"autoscaling/v2", "autoscaling/v1"}),
    "PodDisruptionBudget": frozenset({"policy/v1"}),
    "NetworkPolicy": frozenset({"networking.k8s.io/v1"}),
    "Ingress": frozenset({"networking.k8s.io/v1"}),
    "IngressClass": frozenset({"networking.k8s.io/v1"}),
    "EndpointSlice": frozenset({"discovery.k8s.io/v1"}),
    "PriorityClass": frozenset({"scheduling.k8s.io/v1"}),
    "RuntimeClass": frozenset({"node.k8s.io/v1"}),
    "Lease": frozenset({"coordination.k8s.io/v1"}),
    "StorageClass": frozenset({"storage.k8s.io/v1"}),
    "CustomResourceDefinition": frozenset({"apiextensions.k8s.io/v1"}),
    **{k: frozenset({"rbac.authorization.k8s.io/v1"}) for k in ("Role", "RoleBinding", "ClusterRole",
                                                                "ClusterRoleBinding")},
    "VerticalPodAutoscaler": frozenset({"autoscaling.k8s.io/v1", "autoscaling.k8s.io/v1beta2"}),
}
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$")


def wrong_api_version(ctx: Context, m: Manifest) -> Iterator[Hit]:
    served = SERVED.get(m.kind)
    if served is None or m.api_version in served or (m.api_version, m.kind) in API_CHANGES:
        return
    allowed = " or ".join(sorted(served))
    yield Hit(f"apiVersion {m.api_version!r} does not serve kind {m.kind} (use {allowed})")


def bad_metadata(ctx: Context, m: Manifest) -> Iterator[Hit]:
    meta = m.obj.get("metadata")
    if not isinstance(meta, Mapping):
        shape = "missing" if meta is None else f"a {type(meta).__name__.replace('list', 'sequence')}"
        yield Hit(f"metadata is {shape}, not a mapping")
        return
    if not meta.get("name") and not meta.get("generateName"):
        yield Hit("metadata.name is missing")
    for key in ("labels", "annotations"):
        if meta.get(key) is not None and not isinstance(meta.get(key), Mapping):
            yield Hit(f"metadata.{key} is not a mapping")


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix must be a lowercase DNS subdomain"
    if not _LABEL_NAME.match(name):
        return "name must be 1-63 characters of letters, digits, '-', '_', '.', starting and ending alphanumeric"
    return None


def _labels(m: Manifest) -> Iterator[tuple[str, Mapping[str, object]]]:
    own = m.metadata.get("labels")
    yield "metadata.labels", own if isinstance(own, Mapping) else {}
    template = m.spec.get("template")
    if isinstance(template, Mapping) and isinstance(template.get("metadata"), Mapping):
        labels = template["metadata"].get("labels")
        if isinstance(labels, Mapping):
            yield "spec.template.metadata.labels", labels


def bad_labels(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for where, labels in _labels(m):
        for key, value in labels.items():
            problem = _label_key_problem(str(key))
            if problem is not None:
                yield Hit(f"{where} key {str(key)[:70]!r}: {problem}")
            if value is None or isinstance(value, bool | int | float):
                yield Hit(f"{where}.{key}: value must be a string (quote {value!r})")
            elif not _LABEL_VALUE.match(str(value)):
                yield Hit(f"{where}.{key}: value must be at most 63 characters of letters, digits, '-', '_', '.', "
                          "starting and ending alphanumeric")


def default_namespace(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in SERVED or m.kind in CLUSTER_SCOPED:
        return
    namespace = m.metadata.get("namespace")
    if namespace is None:
        yield Hit("metadata.namespace unset: it lands in kubectl's current namespace (often default)")
    elif namespace == "default":
        yield Hit("metadata.namespace default")


def name_label_mismatch(ctx: Context, m: Manifest) -> Iterator[Hit]:
    labels = m.metadata.get("labels")
    value = labels.get(NAME_LABEL) if isinstance(labels, Mapping) else None
    if value is not None and str(value) != m.name:
        yield Hit(f"metadata.labels[{NAME_LABEL}] {value!r} is not metadata.name {m.name!r}")


NAME_LABEL = "app.kubernetes.io/name"
ANY = frozenset({"*"})

RULES = [
    Rule("BK002", Severity.ERROR, "input", "Label key or value is not valid",
         "Use label values of at most 63 characters of letters, digits, '-', '_' and '.', starting and ending "
         "alphanumeric (quote numbers and booleans); keys are [prefix/]name.",
         "The API server rejects the object; a label that never applies also breaks every selector using it.",
         ANY, bad_labels),
    Rule("BK006", Severity.INFO, "input", "app.kubernetes.io/name label differs from the object's name",
         "Set the label to metadata.name, or use app.kubernetes.io/instance for the release name.",
         "Tools that group objects by app (dashboards, Polaris) then show the object under another app.",
         frozenset(POD_KINDS), name_label_mismatch, optional=True),
    Rule("BK003", Severity.INFO, "input", "Object is not given its own namespace",
         "Set metadata.namespace to the app's namespace (not default).",
         "The default namespace mixes unrelated apps under one set of policies, quotas and RBAC (CIS 5.7.4); an "
         "unset namespace depends on whoever applies the file.",
         ANY, default_namespace),
    Rule("BK004", Severity.ERROR, "input", "apiVersion does not serve this kind",
         "Use the apiVersion named in the message (e.g. apps/v1 for a Deployment).",
         "The API server answers \"no matches for kind\": nothing of the object is applied, and every other "
         "check of it was made against a kind the server will not create.",
         ANY, wrong_api_version),
    Rule("BK005", Severity.ERROR, "input", "metadata is not a mapping with a name",
         "Write metadata as a mapping with at least name: (and namespace:, labels:, annotations: as mappings).",
         "The API server rejects the object; beamkube cannot know its name, namespace or labels, so every "
         "cross-object rule misses it.",
         ANY, bad_metadata),
]
