"""The `overrides` escape hatch: patches over rendered objects, then beamkube's invariants checked again.

Role: pure (no I/O). A strategic-merge patch (`patch`) merges maps recursively, deletes a key set to null
and merges the lists the upstream OpenAPI marks `x-kubernetes-patch-strategy: merge` on their
`x-kubernetes-patch-merge-key` (see `merge_keys`, generated from the schemas); every other list is
replaced, as `kubectl patch --type strategic` does. Written here because no kept Python library implements
strategic merge (tests compare it with kubectl's). Two deliberate differences from kubectl: new list items are
appended after the existing ones (kubectl puts them first, which breaks env entries that refer to earlier
ones with `$(VAR)`), and directives other than `$patch: delete|replace` are refused. `jsonPatch` is RFC 6902
through the `jsonpatch` library.

A patch that targets no rendered object, changes nothing, or breaks what the BEAM cluster depends on (the
workload selector, the cookie and node-name env, the distribution ports, the headless Service, the
NetworkPolicy's distribution rule, the generated vm.args) raises `OverrideError` naming the override.
"""

from __future__ import annotations

import copy
from typing import Any

from beamkube.render.merge_keys import MERGE_KEYS
from beamkube.render.order import sort_objects
from beamkube.spec.model import OWN_LABELS, RESERVED_ENV, AppSpec, FieldError

Loc = tuple[str | int, ...]
_DELETE = object()


class OverrideError(FieldError):
    """An override that cannot apply; `loc` is its path from the spec root (`overrides[2].patch`)."""


def apply_overrides(spec: AppSpec, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [copy.deepcopy(obj) for obj in objects]
    for index, override in enumerate(spec.overrides):
        loc: Loc = ("overrides", index)
        matches = [i for i, obj in enumerate(out) if obj["kind"] == override.kind and _named_as(obj, override.name)]
        if not matches:
            same_kind = sorted(o["metadata"]["name"] for o in out if o["kind"] == override.kind)
            if same_kind:
                raise OverrideError(
                    (*loc, "name"),
                    f"targets nothing: no {override.kind} {override.name!r} (rendered: {', '.join(same_kind)})",
                )
            kinds = ", ".join(sorted({o["kind"] for o in out}))
            raise OverrideError((*loc, "kind"), f"targets nothing: no {override.kind} is rendered (kinds: {kinds})")
        if len(matches) > 1:
            names = ", ".join(sorted(out[i]["metadata"]["name"] for i in matches))
            raise OverrideError(loc, f"{len(matches)} {override.kind} objects are rendered ({names}); set name")
        before = out[matches[0]]
        if override.patch is not None:
            after = strategic_merge(before, override.patch, MERGE_KEYS.get(override.kind, {}), (*loc, "patch"))
        else:
            assert override.jsonPatch is not None
            after = json_patch(before, override.jsonPatch, (*loc, "jsonPatch"))
        if after == before:
            raise OverrideError(loc, f"changes nothing in {override.kind} {before['metadata']['name']}")
        check_invariants(spec, before, after, loc)
        out[matches[0]] = after
    return sort_objects(rename_jobs(out))


def rename_jobs(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A Job's name carries a digest of its pod template (templates are immutable): recompute it for a
    patched template, so a changed override makes a new Job instead of a rejected update."""
    from beamkube.render.pod import config_hash
    from beamkube.spec.model import JOB_DIGEST_LEN

    for obj in objects:
        if obj["kind"] != "Job":
            continue
        base = str(obj["metadata"]["name"]).rsplit("-", 1)[0]
        obj["metadata"]["name"] = f"{base}-{config_hash(obj['spec']['template'])[:JOB_DIGEST_LEN]}"
    return objects


def _named_as(obj: dict[str, Any], name: str | None) -> bool:
    """A Job also answers to its name without the template digest (`<app>-<job>`), which the user knows."""
    actual = str(obj["metadata"]["name"])
    return name is None or actual == name or (obj["kind"] == "Job" and actual.rsplit("-", 1)[0] == name)


def json_patch(obj: dict[str, Any], operations: list[dict[str, Any]], loc: Loc) -> dict[str, Any]:
    import jsonpatch
    import jsonpointer

    doc = copy.deepcopy(obj)
    for index, operation in enumerate(operations):
        try:
            result = jsonpatch.JsonPatch([operation]).apply(doc)
        except jsonpatch.JsonPatchTestFailed:
            actual = jsonpointer.resolve_pointer(doc, str(operation.get("path")), None)
            raise OverrideError(
                (*loc, index), f"test {operation.get('path')}: the value is {actual!r}, not {operation.get('value')!r}"
            ) from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise OverrideError(
                (*loc, index), f"{operation.get('op', '?')} {operation.get('path', '?')}: {exc}"
            ) from None
        except (TypeError, KeyError, AttributeError) as exc:  # e.g. a non-string path
            raise OverrideError((*loc, index), f"is not an RFC 6902 operation ({exc})") from None
        if not isinstance(result, dict):
            raise OverrideError((*loc, index), "replaces the whole object; patch its fields instead")
        doc = result
    return doc


def strategic_merge(
    obj: dict[str, Any], patch: dict[str, Any], keys: dict[str, str | None], loc: Loc
) -> dict[str, Any]:
    merged = _merge_map(obj, patch, "", keys, loc)
    if merged is _DELETE:
        raise OverrideError(loc, "deletes the whole object; overrides patch objects, they do not remove them")
    assert isinstance(merged, dict)
    return merged


def _merge_map(original: Any, patch: dict[str, Any], path: str, keys: dict[str, str | None], loc: Loc) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        where = f"{path}.{key}" if path else key
        if key.startswith("$"):
            if key == "$patch":
                raise OverrideError(loc, f"{where}: {value!r} is not a directive here; use delete or replace")
            raise OverrideError(loc, f"{where}: directive {key} is not supported; use jsonPatch")
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            child = _merge_map(result.get(key), value, where, keys, loc)
            if child is _DELETE:
                result.pop(key, None)
            else:
                result[key] = child
        elif isinstance(value, list) and where in keys:
            result[key] = _merge_list(result.get(key) or [], value, where, keys, loc)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(original: list[Any], patch: list[Any], path: str, keys: dict[str, str | None], loc: Loc) -> list[Any]:
    merge_key = keys[path]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" and len(item) == 1 for item in patch):
        return [copy.deepcopy(item) for item in patch if not (isinstance(item, dict) and item.get("$patch"))]
    if merge_key is None:  # a list of scalars: a set union in original order
        return [*original, *(copy.deepcopy(v) for v in patch if v not in original)]
    result = [copy.deepcopy(item) for item in original]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise OverrideError(loc, f"{path}: every item needs its merge key {merge_key!r} (got {item!r})")
        at = next(
            (i for i, old in enumerate(result) if isinstance(old, dict) and old.get(merge_key) == item[merge_key]), None
        )
        if item.get("$patch") == "delete":
            if at is None:
                raise OverrideError(loc, f"{path}: deletes {merge_key} {item[merge_key]!r}, which is not there")
            del result[at]
            continue
        merged = _merge_map(result[at] if at is not None else {}, item, path, keys, loc)
        if at is None:
            result.append(merged)
        else:
            result[at] = merged
    return result


# --- invariants -------------------------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    template = _get(obj, "spec", "jobTemplate", "spec", "template") if obj["kind"] == "CronJob" else None
    pod = _get(template or _get(obj, "spec", "template") or {}, "spec") or {}
    containers = pod.get("containers")
    return [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []


def _named(items: Any, name: str, key: str = "name") -> Any:
    return next((i for i in items or [] if isinstance(i, dict) and i.get(key) == name), None)


def check_invariants(spec: AppSpec, before: dict[str, Any], after: dict[str, Any], loc: Loc) -> None:
    """Refuse a patched object that breaks what beamkube (and the BEAM cluster) relies on."""

    def refuse(what: str) -> None:
        advice = next((text for word, text in _ADVICE.items() if word in what), "set it through the spec's fields")
        raise OverrideError(loc, f"changes {what}, which beamkube owns; {advice}")

    for field in ("apiVersion", "kind"):
        if after.get(field) != before.get(field):
            refuse(field)
    for field in ("name", "namespace"):
        if _get(after, "metadata", field) != _get(before, "metadata", field):
            refuse(f"metadata.{field}")
    for label in OWN_LABELS:
        if (_get(after, "metadata", "labels") or {}).get(label) != (_get(before, "metadata", "labels") or {}).get(
            label
        ):
            refuse(f"label {label}")
    kind = before["kind"]
    if kind in ("Deployment", "StatefulSet"):
        if _get(after, "spec", "selector") != _get(before, "spec", "selector"):
            refuse("spec.selector")
        labels_after = _get(after, "spec", "template", "metadata", "labels") or {}
        for key, value in (_get(before, "spec", "selector", "matchLabels") or {}).items():
            if labels_after.get(key) != value:
                refuse(f"selector label {key} of the pod template")
        if _get(after, "spec", "serviceName") != _get(before, "spec", "serviceName"):
            refuse("spec.serviceName")
    if kind in ("Deployment", "StatefulSet", "Job", "CronJob"):
        _check_containers(before, after, refuse)
    if kind == "Service" and _get(before, "spec", "clusterIP") == "None":
        if after.get("spec") != before.get("spec"):
            refuse("spec of the headless Service")
    elif kind == "Service" and _get(after, "spec", "selector") != _get(before, "spec", "selector"):
        refuse("spec.selector")
    if kind == "NetworkPolicy":
        _check_network_policy(spec, before, after, refuse)
    if (
        kind == "ConfigMap"
        and before["metadata"]["name"] == f"{spec.name}-beam"
        and after.get("data") != before.get("data")
    ):
        refuse("data of the generated vm.args")
    if kind == "Secret" and after.get("data") != before.get("data"):
        refuse("data of the cookie Secret")
    if kind == "PodDisruptionBudget" and _get(after, "spec", "selector") != _get(before, "spec", "selector"):
        refuse("spec.selector")
    if kind == "HorizontalPodAutoscaler" and _get(after, "spec", "scaleTargetRef") != _get(
        before, "spec", "scaleTargetRef"
    ):
        refuse("spec.scaleTargetRef")


# Advice by what the patch touched (first match wins).
_ADVICE = {
    "env ": "node name, cookie and release env come from the spec (cluster.*, release.*)",
    "selector": "selectors are immutable and tie the workload to the headless Service and the NetworkPolicy",
    "ports ": "set cluster.distPort / cluster.epmdPort",
    "vm.args": "set release.vmArgs or cluster.*",
    "container ": "patch the container's fields, not its name",
    "distribution": "distribution must stay reachable from the app's own pods only",
    "headless": "set cluster.* (ports) or objectMeta.headlessService (labels, annotations)",
    "label ": "set labels/objectMeta for extra labels",
}


def _check_containers(before: dict[str, Any], after: dict[str, Any], refuse: Any) -> None:
    new = {c.get("name"): c for c in _containers(after)}
    for old in _containers(before):
        name = old.get("name")
        if name not in ("beam", "job"):
            continue
        current = new.get(name)
        if current is None:
            refuse(f"container {name} (removed or renamed)")
            return
        for var in old.get("env") or []:
            owned = var.get("name") in RESERVED_ENV or str(var.get("name", "")).startswith("BEAMKUBE_")
            if owned and _named(current.get("env"), var["name"]) != var:
                refuse(f"env {var['name']} of container {name}")
        for var in current.get("env") or []:
            if var.get("name") in RESERVED_ENV and _named(old.get("env"), var["name"]) is None:
                refuse(f"env {var['name']} of container {name}")
        for port_name in ("epmd", "dist"):
            if _named(current.get("ports"), port_name) != _named(old.get("ports"), port_name):
                refuse(f"ports {port_name} of container {name}")


def _check_network_policy(spec: AppSpec, before: dict[str, Any], after: dict[str, Any], refuse: Any) -> None:
    if _get(after, "spec", "podSelector") != _get(before, "spec", "podSelector"):
        refuse("spec.podSelector of the NetworkPolicy")
    rules_before = _get(before, "spec", "ingress") or []
    rules_after = _get(after, "spec", "ingress") or []
    if not rules_after or rules_after[0] != rules_before[0]:
        refuse("distribution rule (spec.ingress[0]) of the NetworkPolicy")
    dist_ports = {spec.cluster.distPort, spec.cluster.epmdPort}
    for rule in rules_after[1:]:
        ports = rule.get("ports") if isinstance(rule, dict) else None
        if not ports or any(isinstance(p, dict) and p.get("port") in dist_ports for p in ports):
            refuse("distribution exposure: a NetworkPolicy rule opening epmd/dist (or every port)")
    if "Ingress" not in (_get(after, "spec", "policyTypes") or []):
        refuse("distribution exposure: policyTypes without Ingress")
