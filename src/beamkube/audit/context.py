"""What rules may ask about the whole input: pod templates, label-selector matches, HPA/VPA targets.

Role: pure (no I/O). Built once per audit; the selector indexes keep cross-object rules (PDB, Service,
NetworkPolicy against workloads) linear in the number of objects: a selector is filed under one of its
`matchLabels` pairs, so a pod only meets selectors that could match it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beamkube.audit.model import Manifest

POD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod"}
)
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod"})
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
DEFAULT_KUBE_VERSION = (1, 33)


_EMPTY: Mapping[str, Any] = {}


def as_map(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:  # the fast path: what the YAML loader builds (an ABC check costs ~10x more)
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _memo(m: Manifest, key: str) -> Any:
    return m.__dict__.get(key)


def _keep(m: Manifest, key: str, value: Any) -> Any:
    m.__dict__[key] = value  # a frozen dataclass blocks setattr, not its __dict__: a per-object memo
    return value


def pod_template(m: Manifest) -> Mapping[str, Any]:
    """The pod template (`metadata` + `spec`) of any pod-owning kind; a Pod is its own template."""
    found = _memo(m, "_template")
    if found is not None:
        return found  # type: ignore[no-any-return]
    if m.kind == "Pod":
        template: Mapping[str, Any] = m.obj
    elif m.kind == "CronJob":
        template = as_map(as_map(as_map(m.spec.get("jobTemplate")).get("spec")).get("template"))
    else:
        template = as_map(m.spec.get("template"))
    return _keep(m, "_template", template)  # type: ignore[no-any-return]


def pod_spec(m: Manifest) -> Mapping[str, Any]:
    found = _memo(m, "_pod_spec")
    if found is not None:
        return found  # type: ignore[no-any-return]
    return _keep(m, "_pod_spec", as_map(pod_template(m).get("spec")))  # type: ignore[no-any-return]


def pod_labels(m: Manifest) -> Mapping[str, Any]:
    found = _memo(m, "_pod_labels")
    if found is not None:
        return found  # type: ignore[no-any-return]
    labels = as_map(as_map(pod_template(m).get("metadata")).get("labels"))
    return _keep(m, "_pod_labels", labels)  # type: ignore[no-any-return]


def containers(m: Manifest) -> list[Mapping[str, Any]]:
    found = _memo(m, "_containers")
    if found is not None:
        return found  # type: ignore[no-any-return]
    items = [c for c in as_list(pod_spec(m).get("containers")) if isinstance(c, Mapping)]
    return _keep(m, "_containers", items)  # type: ignore[no-any-return]


def headless(service: Manifest) -> bool:
    """A headless Service (clusterIP: None): its DNS name resolves to the pods themselves."""
    return service.spec.get("clusterIP") == "None"


def label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A `LabelSelector` (matchLabels + matchExpressions) against labels; `{}` matches everything."""
    for key, value in as_map(selector.get("matchLabels")).items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_map(expr)
        key, op = str(expr.get("key")), expr.get("operator")
        values = [str(v) for v in as_list(expr.get("values"))]
        present = key in labels
        current = str(labels.get(key)) if present else None
        if op == "In" and current not in values:
            return False
        if op == "NotIn" and present and current in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def service_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A Service's plain selector; an empty one selects nothing (endpoints are managed by hand)."""
    return bool(selector) and all(key in labels and str(labels[key]) == str(v) for key, v in selector.items())


@dataclass
class _SelectorIndex:
    """Selectors filed under the one `matchLabels` pair of theirs that the fewest pods carry (chosen once
    every pod is known), plus those with no pair to file under: a pod meets only selectors filed under one
    of its own pairs, so a label every object shares (`app.kubernetes.io/part-of`) costs nothing."""

    keyed: dict[tuple[str, str, str], list[Manifest]] = field(default_factory=dict)
    scan: dict[str, list[Manifest]] = field(default_factory=dict)
    pending: list[tuple[Manifest, Mapping[str, Any]]] = field(default_factory=list)

    def add(self, m: Manifest, match_labels: Mapping[str, Any]) -> None:
        self.pending.append((m, match_labels))

    def finish(self, pods: _PodIndex) -> None:
        for m, match_labels in self.pending:
            if match_labels:
                key, value = min(
                    ((str(k), str(v)) for k, v in match_labels.items()),
                    key=lambda pair: (len(pods.by_pair.get((m.namespace, *pair), ())), pair),
                )
                self.keyed.setdefault((m.namespace, key, value), []).append(m)
            else:
                self.scan.setdefault(m.namespace, []).append(m)
        self.pending = []

    def candidates(self, namespace: str, labels: Mapping[str, Any]) -> list[Manifest]:
        found: list[Manifest] = list(self.scan.get(namespace, []))
        for key, value in labels.items():
            found.extend(self.keyed.get((namespace, str(key), str(value)), []))
        return found


@dataclass
class _PodIndex:
    """Pod-owning objects by (namespace, label, value) of their pod template: a selector with matchLabels
    only meets the pods that carry its rarest pair, so resolving every selector stays ~linear."""

    by_pair: dict[tuple[str, str, str], list[Manifest]] = field(default_factory=dict)
    by_ns: dict[str, list[Manifest]] = field(default_factory=dict)

    def add(self, m: Manifest, labels: Mapping[str, Any]) -> None:
        self.by_ns.setdefault(m.namespace, []).append(m)
        for key, value in labels.items():
            self.by_pair.setdefault((m.namespace, str(key), str(value)), []).append(m)

    def candidates(self, namespace: str, match_labels: Mapping[str, Any]) -> list[Manifest]:
        if not match_labels:
            return self.by_ns.get(namespace, [])
        lists = [self.by_pair.get((namespace, str(k), str(v)), []) for k, v in match_labels.items()]
        return min(lists, key=len)


@dataclass(frozen=True)
class Replicas:
    """How many pods a workload may run, resolved like the controllers: `spec.replicas` (API default 1)
    unless an HPA scales it, and then the HPA's bounds as well as any replicas still written in the
    manifest (applied on every `kubectl apply` until the HPA scales again)."""

    declared: int | None
    hpa_min: int | None = None
    hpa_max: int | None = None

    @property
    def scaled(self) -> bool:
        return self.hpa_min is not None

    @property
    def counts(self) -> list[int]:
        """The replica counts a check must hold for: the HPA minimum and the declared count."""
        if not self.scaled:
            return [1 if self.declared is None else self.declared]
        found = [self.hpa_min or 1] + ([self.declared] if self.declared is not None else [])
        return sorted(set(found))

    @property
    def low(self) -> int:
        return min(self.counts)

    @property
    def high(self) -> int:
        """The most pods it may run (the HPA maximum included)."""
        return max([*self.counts, self.hpa_max or 0])

    def describe(self, count: int) -> str:
        if self.scaled and count == self.hpa_min:
            return f"HPA minReplicas {count}"
        return f"replicas {count}" + (" (unset: the API default)" if self.declared is None else "")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def selects_all(owner: Manifest, selector: Any) -> bool:
    """policy/v1 PDBs: an empty selector (`{}`) selects every pod of the namespace; policy/v1beta1 ones
    select none (the upstream API docs of PodDisruptionBudgetSpec.selector)."""
    return isinstance(selector, Mapping) and not selector and owner.api_version != "policy/v1beta1"


class Context:
    """The whole audited input, indexed for the questions rules ask."""

    def __init__(self, manifests: Sequence[Manifest], kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION):
        self.manifests = list(manifests)
        self.kube_version = kube_version
        self.by_kind: dict[str, list[Manifest]] = {}
        self._named: dict[tuple[str, str, str], Manifest] = {}
        self._pdbs = _SelectorIndex()
        self._services = _SelectorIndex()
        self._policies = _SelectorIndex()
        self._scalers: dict[tuple[str, str, str], list[Manifest]] = {}
        self._pods = _PodIndex()
        self.cache: dict[tuple[object, ...], Any] = {}  # memo for helpers: (what, id or key...)
        for m in self.manifests:
            self.by_kind.setdefault(m.kind, []).append(m)
            self._named.setdefault((m.kind, m.namespace, m.name), m)
            if m.kind in POD_KINDS:
                self._pods.add(m, pod_labels(m))
            if m.kind == "PodDisruptionBudget":
                selector = as_map(m.spec.get("selector"))
                self._pdbs.add(m, as_map(selector.get("matchLabels")))
            elif m.kind == "Service":
                self._services.add(m, as_map(m.spec.get("selector")))
            elif m.kind == "NetworkPolicy":
                selector = as_map(m.spec.get("podSelector"))
                self._policies.add(m, as_map(selector.get("matchLabels")))
            elif m.kind in ("HorizontalPodAutoscaler", "VerticalPodAutoscaler"):
                ref = as_map(m.spec.get("scaleTargetRef") or m.spec.get("targetRef"))
                key = (str(ref.get("kind", "")), m.namespace, str(ref.get("name", "")))
                self._scalers.setdefault(key, []).append(m)
        for index in (self._pdbs, self._services, self._policies):
            index.finish(self._pods)

    def get(self, kind: str, namespace: str, name: str) -> Manifest | None:
        return self._named.get((kind, namespace, name))

    def get_cluster(self, kind: str, name: str) -> Manifest | None:
        """A cluster-scoped object by name (its namespace, if written, is ignored as the API server does)."""
        key = ("cluster", 0)
        if key not in self.cache:
            self.cache[key] = {(m.kind, m.name): m for m in reversed(self.manifests)}
        found: Manifest | None = self.cache[key].get((kind, name))
        return found

    def any_pod_matches(self, namespace: str, selector: Mapping[str, Any]) -> bool:
        """Whether a LabelSelector matches a pod-owning object of the namespace (through the pod index)."""
        pool = self._pods.candidates(namespace, as_map(selector.get("matchLabels")))
        return any(label_selector_matches(selector, pod_labels(w)) for w in pool)

    def by_label(self, kind: str, namespace: str, key: str, value: str) -> list[Manifest]:
        """Objects of `kind` in `namespace` whose metadata label `key` is `value` (indexed once per kind/key)."""
        cache_key = ("label", kind, key)  # the pair itself: hashes of two pairs can collide
        index: dict[tuple[str, str], list[Manifest]] | None = self.cache.get(cache_key)
        if index is None:
            index = {}
            for m in self.by_kind.get(kind, []):
                found = as_map(m.metadata.get("labels")).get(key)
                if found is not None:
                    index.setdefault((m.namespace, str(found)), []).append(m)
            self.cache[cache_key] = index
        return index.get((namespace, value), [])

    def target_of(self, scaler: Manifest) -> Manifest | None:
        ref = as_map(scaler.spec.get("scaleTargetRef") or scaler.spec.get("targetRef"))
        return self.get(str(ref.get("kind", "")), scaler.namespace, str(ref.get("name", "")))

    def hpas_for(self, m: Manifest) -> list[Manifest]:
        return [s for s in self._scalers.get((m.kind, m.namespace, m.name), []) if s.kind == "HorizontalPodAutoscaler"]

    def vpas_for(self, m: Manifest) -> list[Manifest]:
        return [s for s in self._scalers.get((m.kind, m.namespace, m.name), []) if s.kind == "VerticalPodAutoscaler"]

    def replicas(self, m: Manifest) -> Replicas:
        declared = _count(m.spec.get("replicas"))
        hpas = self.hpas_for(m)
        if not hpas:
            return Replicas(declared)
        low = _count(hpas[0].spec.get("minReplicas"))
        return Replicas(declared, 1 if low is None else low, _count(hpas[0].spec.get("maxReplicas")))

    def bound_service_accounts(self) -> dict[tuple[str, str], list[Manifest]]:
        """(namespace, name) of every ServiceAccount a RoleBinding or ClusterRoleBinding in the input names."""
        key = ("bound", 0)
        if key not in self.cache:
            found: dict[tuple[str, str], list[Manifest]] = {}
            for binding in self.by_kind.get("RoleBinding", []) + self.by_kind.get("ClusterRoleBinding", []):
                for subject in as_list(binding.obj.get("subjects")):
                    subject = as_map(subject)
                    if subject.get("kind") == "ServiceAccount":
                        where = str(subject.get("namespace") or binding.namespace)
                        found.setdefault((where, str(subject.get("name"))), []).append(binding)
            self.cache[key] = found
        bound: dict[tuple[str, str], list[Manifest]] = self.cache[key]
        return bound

    def pdbs_for(self, m: Manifest) -> list[Manifest]:
        labels = pod_labels(m)
        found = []
        for p in self._pdbs.candidates(m.namespace, labels):
            selector = p.spec.get("selector")
            if selects_all(p, selector) or (
                isinstance(selector, Mapping) and selector and label_selector_matches(selector, labels)
            ):
                found.append(p)
        return found

    def services_for(self, m: Manifest) -> list[Manifest]:
        labels = pod_labels(m)
        return [
            s
            for s in self._services.candidates(m.namespace, labels)
            if service_selector_matches(as_map(s.spec.get("selector")), labels)
        ]

    def policies_for(self, m: Manifest) -> list[Manifest]:
        labels = pod_labels(m)
        return [
            p
            for p in self._policies.candidates(m.namespace, labels)
            if label_selector_matches(as_map(p.spec.get("podSelector")), labels)
        ]

    def workloads_selected_by(self, selector_owner: Manifest, plain: bool = False) -> list[Manifest]:
        """Pod-owning objects in the owner's namespace whose pod labels its selector matches: a Service's
        plain selector (`plain`), a NetworkPolicy's podSelector, a PDB's selector (empty: all pods in
        policy/v1, none in v1beta1; absent: none)."""
        key = ("selected", id(selector_owner))
        if key in self.cache:
            cached: list[Manifest] = self.cache[key]
            return cached
        namespace = selector_owner.namespace
        result: list[Manifest]
        if plain:
            selector = as_map(selector_owner.spec.get("selector"))
            pool = self._pods.candidates(namespace, selector) if selector else []
            result = [w for w in pool if service_selector_matches(selector, pod_labels(w))]
        elif selector_owner.kind == "PodDisruptionBudget":
            raw = selector_owner.spec.get("selector")
            if selects_all(selector_owner, raw):
                result = list(self._pods.by_ns.get(namespace, []))
            elif isinstance(raw, Mapping) and raw:
                pool = self._pods.candidates(namespace, as_map(raw.get("matchLabels")))
                result = [w for w in pool if label_selector_matches(raw, pod_labels(w))]
            else:
                result = []
        else:
            selector = as_map(selector_owner.spec.get("podSelector"))
            pool = self._pods.candidates(namespace, as_map(selector.get("matchLabels")))
            result = [w for w in pool if label_selector_matches(selector, pod_labels(w))]
        self.cache[key] = result
        return result
