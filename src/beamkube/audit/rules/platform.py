"""Rules on the platform side: restricted securityContext, images, NetworkPolicy, API versions.

Role: pure (no I/O). The removed/deprecated API table lists, per group/version and kind, the Kubernetes
minor that deprecated it, the one that removed it and the replacement (facts from the upstream
deprecation guide); `--kube-version` decides which apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from beamkube.audit.beam import beam_containers
from beamkube.audit.context import LONG_RUNNING, POD_KINDS, Context, as_list, as_map, pod_spec
from beamkube.audit.model import Hit, Manifest, Rule, Severity

PODS = frozenset(POD_KINDS)
_CONTAINER_ONLY = ("allowPrivilegeEscalation", "readOnlyRootFilesystem", "privileged", "capabilities", "procMount")
MUTABLE_TAGS = frozenset({"latest", "snapshot", "master", "main", "dev", "develop", "edge", "nightly", "stable"})


# ---------------------------------------------------------------- securityContext


def _all_containers(m: Manifest) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] | None = m.__dict__.get("_all_containers")
    if found is None:
        spec = pod_spec(m)
        items = as_list(spec.get("initContainers")) + as_list(spec.get("containers"))
        found = m.__dict__["_all_containers"] = [c for c in items if isinstance(c, Mapping)]  # per-object memo
    return found


def _sc(c: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_map(c.get("securityContext"))


def escalation(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        if _sc(c).get("allowPrivilegeEscalation") is not False:
            yield Hit(f"container {c.get('name')}")


def root_user(ctx: Context, m: Manifest) -> Iterator[Hit]:
    pod = as_map(pod_spec(m).get("securityContext"))
    for c in _all_containers(m):
        sc = _sc(c)
        non_root = sc.get("runAsNonRoot", pod.get("runAsNonRoot"))
        user = sc.get("runAsUser", pod.get("runAsUser"))
        if user == 0 or (non_root is not True and not (isinstance(user, int) and user > 0)):
            yield Hit(f"container {c.get('name')}")


def writable_root(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        if _sc(c).get("readOnlyRootFilesystem") is not True:
            yield Hit(f"container {c.get('name')}")


def capabilities(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        caps = as_map(_sc(c).get("capabilities"))
        drop = [str(x).upper() for x in as_list(caps.get("drop"))]
        added = [str(x).upper() for x in as_list(caps.get("add")) if str(x).upper() != "NET_BIND_SERVICE"]
        if "ALL" not in drop:
            yield Hit(f"container {c.get('name')} does not drop ALL")
        if added:
            yield Hit(f"container {c.get('name')} adds {', '.join(added)}")


def seccomp(ctx: Context, m: Manifest) -> Iterator[Hit]:
    pod_profile = as_map(as_map(pod_spec(m).get("securityContext")).get("seccompProfile")).get("type")
    for c in _all_containers(m):
        profile = as_map(_sc(c).get("seccompProfile")).get("type", pod_profile)
        if profile not in ("RuntimeDefault", "Localhost"):
            yield Hit(f"container {c.get('name')}: seccompProfile {profile or 'unset'}")


def privileged(ctx: Context, m: Manifest) -> Iterator[Hit]:
    spec = pod_spec(m)
    for c in _all_containers(m):
        if _sc(c).get("privileged") is True:
            yield Hit(f"container {c.get('name')} is privileged")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is True:
            yield Hit(f"{key}: true")
    # Windows host-process containers run as processes on the node (baseline profile forbids them).
    if as_map(as_map(spec.get("securityContext")).get("windowsOptions")).get("hostProcess") is True:
        yield Hit("spec.securityContext.windowsOptions.hostProcess: true")
    for c in _all_containers(m):
        if as_map(_sc(c).get("windowsOptions")).get("hostProcess") is True:
            yield Hit(f"container {c.get('name')} windowsOptions.hostProcess: true")


def misplaced_security(ctx: Context, m: Manifest) -> Iterator[Hit]:
    pod = as_map(pod_spec(m).get("securityContext"))
    wrong = [key for key in _CONTAINER_ONLY if key in pod]
    if wrong:
        yield Hit(f"spec.securityContext has {', '.join(wrong)}, which only exist per container")


# ---------------------------------------------------------------- images


def _tag(image: str) -> str | None:
    if "@" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def image_tag(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        image = str(c.get("image", ""))
        tag = _tag(image)
        if tag is None or tag == "latest":
            yield Hit(f"container {c.get('name')}: {image}")


def mutable_tag(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        image = str(c.get("image", ""))
        tag = _tag(image)
        if tag is not None and tag != "latest" and tag.lower() in MUTABLE_TAGS:
            yield Hit(f"container {c.get('name')}: {image}")


def pull_policy(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for c in _all_containers(m):
        image = str(c.get("image", ""))
        tag = _tag(image)
        mutable = tag is None or tag.lower() in MUTABLE_TAGS
        if mutable and c.get("imagePullPolicy") in ("IfNotPresent", "Never"):
            yield Hit(f"container {c.get('name')}: {image} with imagePullPolicy {c.get('imagePullPolicy')}")


# ---------------------------------------------------------------- NetworkPolicy


def no_network_policy(ctx: Context, m: Manifest) -> Iterator[Hit]:
    if m.kind not in LONG_RUNNING or any(b.distributed for b in beam_containers(ctx, m)):
        return  # distributed BEAM pods get the sharper BK810
    ingress = [p for p in ctx.policies_for(m) if "Ingress" in _policy_types(p)]
    if not ingress:
        yield Hit("no NetworkPolicy selects the pods for ingress")


def _policy_types(policy: Manifest) -> list[str]:
    types = as_list(policy.spec.get("policyTypes"))
    if types:
        return [str(t) for t in types]
    return ["Ingress", "Egress"] if "egress" in policy.spec else ["Ingress"]


# ---------------------------------------------------------------- API versions


@dataclass(frozen=True)
class ApiChange:
    deprecated: tuple[int, int] | None
    removed: tuple[int, int]
    replacement: str


_APPS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
API_CHANGES: dict[tuple[str, str], ApiChange] = {
    **{
        ("extensions/v1beta1", k): ApiChange((1, 8), (1, 16), "apps/v1")
        for k in ("Deployment", "DaemonSet", "ReplicaSet")
    },
    ("extensions/v1beta1", "NetworkPolicy"): ApiChange((1, 9), (1, 16), "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ApiChange((1, 11), (1, 16), "Pod Security Admission"),
    ("extensions/v1beta1", "Ingress"): ApiChange((1, 14), (1, 22), "networking.k8s.io/v1"),
    **{("apps/v1beta1", k): ApiChange((1, 9), (1, 16), "apps/v1") for k in ("Deployment", "StatefulSet")},
    **{("apps/v1beta2", k): ApiChange((1, 9), (1, 16), "apps/v1") for k in _APPS},
    ("networking.k8s.io/v1beta1", "Ingress"): ApiChange((1, 19), (1, 22), "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ApiChange((1, 19), (1, 22), "networking.k8s.io/v1"),
    **{
        ("rbac.authorization.k8s.io/v1beta1", k): ApiChange((1, 17), (1, 22), "rbac.authorization.k8s.io/v1")
        for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
    },
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ApiChange((1, 14), (1, 22), "scheduling.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ApiChange(
        (1, 16), (1, 22), "apiextensions.k8s.io/v1"
    ),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ApiChange((1, 22), (1, 25), "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ApiChange((1, 23), (1, 26), "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ApiChange((1, 21), (1, 25), "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ApiChange((1, 21), (1, 25), "Pod Security Admission (namespace labels)"),
    ("batch/v1beta1", "CronJob"): ApiChange((1, 21), (1, 25), "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ApiChange((1, 21), (1, 25), "discovery.k8s.io/v1"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ApiChange((1, 22), (1, 25), "node.k8s.io/v1"),
}


def _v(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def removed_api(ctx: Context, m: Manifest) -> Iterator[Hit]:
    change = API_CHANGES.get((m.api_version, m.kind))
    if change is not None and ctx.kube_version >= change.removed:
        yield Hit(
            f"{m.api_version} {m.kind} was removed in Kubernetes {_v(change.removed)}; use {change.replacement}"
        )


def deprecated_api(ctx: Context, m: Manifest) -> Iterator[Hit]:
    change = API_CHANGES.get((m.api_version, m.kind))
    if change is None or change.deprecated is None:
        return
    if change.deprecated <= ctx.kube_version < change.removed:
        yield Hit(
            f"{m.api_version} {m.kind} is deprecated since {_v(change.deprecated)} and removed in "
            f"{_v(change.removed)}; use {change.replacement}"
        )


ANY = frozenset({"*"})

RULES = [
    Rule("BK601", Severity.WARNING, "security", "Container allows privilege escalation",
         "Set securityContext.allowPrivilegeEscalation: false on every container.",
         "Required by the Pod Security restricted profile; setuid binaries could otherwise gain privileges.",
         PODS, escalation),
    Rule("BK602", Severity.WARNING, "security", "Container may run as root",
         "Set runAsNonRoot: true and a non-zero runAsUser (e.g. 65534) in the pod securityContext.",
         "Required by the restricted profile; a BEAM release needs no root.",
         PODS, root_user),
    Rule("BK603", Severity.WARNING, "security", "Root filesystem is writable",
         "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the release writes.",
         "A read-only root stops an intruder from altering the release (see BK905 for the paths a BEAM needs).",
         PODS, writable_root),
    Rule("BK604", Severity.WARNING, "security", "Capabilities are not dropped",
         "Set securityContext.capabilities.drop: [ALL] (add back only NET_BIND_SERVICE if needed).",
         "Required by the restricted profile.",
         PODS, capabilities),
    Rule("BK605", Severity.WARNING, "security", "No seccomp profile",
         "Set securityContext.seccompProfile.type: RuntimeDefault (pod or container).",
         "Required by the restricted profile; limits the syscalls a compromised process can make.",
         PODS, seccomp),
    Rule("BK606", Severity.ERROR, "security", "Pod is privileged or shares host namespaces",
         "Remove privileged: true, hostNetwork/hostPID/hostIPC and windowsOptions.hostProcess.",
         "These give the pod the node: forbidden by the baseline and restricted profiles.",
         PODS, privileged),
    Rule("BK607", Severity.ERROR, "security", "Container-only fields in the pod securityContext",
         "Move allowPrivilegeEscalation, readOnlyRootFilesystem, privileged and capabilities into each "
         "container's securityContext.",
         "PodSecurityContext has no such fields: the API server rejects them (or drops them without strict "
         "validation), so the hardening never applies.",
         PODS, misplaced_security),
    Rule("BK651", Severity.WARNING, "image", "Image is untagged or uses :latest",
         "Pin a version tag (or a digest), e.g. ghcr.io/acme/app:1.4.2.",
         "Pods of one ReplicaSet may run different builds, and a rollback cannot go back to a known version.",
         PODS, image_tag),
    Rule("BK652", Severity.INFO, "image", "Image tag looks mutable",
         "Use an immutable version tag or a digest instead of snapshot/master/dev-style tags.",
         "A moving tag makes what runs depend on when each node pulled it.",
         PODS, mutable_tag),
    Rule("BK653", Severity.WARNING, "image", "Mutable tag with a pull policy that keeps stale images",
         "Pin the tag, or set imagePullPolicy: Always for a moving tag.",
         "With IfNotPresent/Never each node keeps whatever build it pulled first.",
         PODS, pull_policy),
    Rule("BK701", Severity.INFO, "network", "No NetworkPolicy selects the pods",
         "Add a NetworkPolicy with policyTypes [Ingress] that admits only the expected clients.",
         "Without one every pod in the cluster can connect to these pods.",
         PODS, no_network_policy),
    Rule("BK751", Severity.ERROR, "api", "API version is removed in the target Kubernetes version",
         "Move the object to the replacement API version named in the message.",
         "The API server no longer serves this group/version: applying the manifest fails.",
         ANY, removed_api),
    Rule("BK752", Severity.WARNING, "api", "API version is deprecated in the target Kubernetes version",
         "Move the object to the replacement API version before upgrading.",
         "It still works, but the next upgrades remove it.",
         ANY, deprecated_api),
]
