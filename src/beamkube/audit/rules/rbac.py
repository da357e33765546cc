"""RBAC rules: wildcards, reading Secrets, exec/attach into pods, creating pods, bindings to cluster-admin
(or to roles that amount to it) and to roles granting exec or Secrets.

Role: pure (no I/O). A rule "grants" a right when its apiGroups, resources and verbs each include it or `*`;
`resourceNames` narrows a Secret grant to named objects, which is what least privilege asks for. The
built-in ClusterRoles are judged by their documented rights: `cluster-admin` everything, `admin` and
`edit` exec/attach and Secrets, `view` neither.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from beamkube.audit.context import Context, as_list, as_map
from beamkube.audit.model import Hit, Manifest, Rule, Severity

ROLES = frozenset({"Role", "ClusterRole"})
BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})
READ = ("get", "list", "watch")
POD_OWNERS = ("pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs")
BUILTIN_POWERS = {"admin": ("exec/attach", "Secrets"), "edit": ("exec/attach", "Secrets")}


def _words(rule: Mapping[str, Any], key: str) -> list[str]:
    return [str(x) for x in as_list(rule.get(key))]


def _grants(rule: Mapping[str, Any], group: str, resource: str, verbs: tuple[str, ...]) -> list[str]:
    groups, resources, allowed = _words(rule, "apiGroups"), _words(rule, "resources"), _words(rule, "verbs")
    if not ({group, "*"} & set(groups)):
        return []
    base = resource.split("/")[0]
    if not ({resource, "*", f"{base}/*"} & set(resources)):
        return []
    return [v for v in verbs if v in allowed or "*" in allowed]


def _rules(role: Manifest) -> list[Mapping[str, Any]]:
    return [as_map(r) for r in as_list(role.obj.get("rules"))]


def secret_readers(role: Manifest) -> list[str]:
    found = []
    for i, rule in enumerate(_rules(role)):
        verbs = _grants(rule, "", "secrets", READ)
        if verbs and not as_list(rule.get("resourceNames")):
            found.append(f"rules[{i}] {'/'.join(verbs)} on every Secret")
    return found


def exec_grants(role: Manifest) -> list[str]:
    found = []
    for i, rule in enumerate(_rules(role)):
        for sub in ("pods/exec", "pods/attach"):
            if _grants(rule, "", sub, ("create", "get")):
                found.append(f"rules[{i}] {sub}")
    return found


def full_wildcard(role: Manifest) -> bool:
    return any({"*"} <= set(_words(r, "resources")) and "*" in _words(r, "verbs") for r in _rules(role))


def secret_access(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for text in secret_readers(m):
        yield Hit(text)


def pod_exec(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for text in exec_grants(m):
        yield Hit(text)


def wildcard(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for i, rule in enumerate(_rules(m)):
        for key in ("apiGroups", "resources", "verbs"):
            if "*" in _words(rule, key):
                yield Hit(f"rules[{i}].{key} contains *")


def create_pods(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for i, rule in enumerate(_rules(m)):
        for resource in POD_OWNERS:
            group = "" if resource == "pods" else ("batch" if resource in ("jobs", "cronjobs") else "apps")
            if _grants(rule, group, resource, ("create",)):
                yield Hit(f"rules[{i}] create {resource}")


def _role_of(ctx: Context, binding: Manifest) -> tuple[str, Manifest | None]:
    ref = as_map(binding.obj.get("roleRef"))
    kind, name = str(ref.get("kind")), str(ref.get("name"))
    namespace = binding.namespace if kind == "Role" else "default"
    return name, ctx.get(kind, namespace, name) if kind == "Role" else ctx.get_cluster(kind, name)


def admin_binding(ctx: Context, m: Manifest) -> Iterator[Hit]:
    name, role = _role_of(ctx, m)
    if name == "cluster-admin" and as_map(m.obj.get("roleRef")).get("kind") == "ClusterRole":
        yield Hit("roleRef ClusterRole cluster-admin")
    elif role is not None and full_wildcard(role):
        yield Hit(f"roleRef {role.kind} {name} grants * on *")


def powerful_binding(ctx: Context, m: Manifest) -> Iterator[Hit]:
    name, role = _role_of(ctx, m)
    kind = as_map(m.obj.get("roleRef")).get("kind")
    if role is None and kind == "ClusterRole" and name in BUILTIN_POWERS:
        yield Hit(f"roleRef built-in ClusterRole {name} grants {' and '.join(BUILTIN_POWERS[name])}")
    elif role is not None and not full_wildcard(role):
        powers = (["exec/attach"] if exec_grants(role) else []) + (["Secrets"] if secret_readers(role) else [])
        if powers:
            yield Hit(f"roleRef {role.kind} {name} grants {' and '.join(powers)}")


RULES = [
    Rule("BK671", Severity.WARNING, "rbac", "Role can read every Secret",
         "Grant get on the named Secrets only (resourceNames), or create them instead of reading them.",
         "Reading all Secrets reads every credential of the namespace (or cluster) and every service account "
         "token stored as a Secret (CIS 5.1.2).",
         ROLES, secret_access),
    Rule("BK672", Severity.WARNING, "rbac", "Role allows exec or attach into pods",
         "Remove pods/exec and pods/attach; use a break-glass role bound only when needed.",
         "Exec into a pod runs commands with the pod's identity, mounted Secrets and the Erlang cookie.",
         ROLES, pod_exec),
    Rule("BK673", Severity.ERROR, "rbac", "Binding grants cluster-admin or every right",
         "Bind a role that lists the resources and verbs the subject needs.",
         "The subjects can do anything, including granting themselves more (CIS 5.1.1).",
         BINDINGS, admin_binding),
    Rule("BK674", Severity.WARNING, "rbac", "Role uses a wildcard",
         "List the API groups, resources and verbs explicitly.",
         "A * also grants whatever new resources and verbs later versions and CRDs add (CIS 5.1.3).",
         ROLES, wildcard),
    Rule("BK675", Severity.INFO, "rbac", "Role can create pods or pod controllers",
         "Grant create on pods and controllers only to what deploys workloads.",
         "Creating a pod can mount any Secret and run as any ServiceAccount of the namespace (CIS 5.1.4).",
         ROLES, create_pods, optional=True),
    Rule("BK676", Severity.WARNING, "rbac", "Binding grants exec into pods or reading every Secret",
         "Bind a narrower role (e.g. view) or narrow the bound role (BK671, BK672).",
         "The subjects get the rights BK671/BK672 describe, through this binding.",
         BINDINGS, powerful_binding),
]
