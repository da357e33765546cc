"""Recognising BEAM containers in arbitrary manifests, and reading what the VM will be told.

Role: pure (no I/O). A container is a BEAM node when it shows one of: env `RELEASE_*`/`ERL_*`/`RELX_*`/
`REPLACE_OS_VARS`, a mounted ConfigMap key named like `vm.args`, port 4369 or a port named epmd, an image
named elixir/erlang, or a command `bin/<release> start|foreground`. Its emulator flags are gathered from the
vm.args ConfigMaps it mounts, `ERL_AFLAGS`/`ERL_FLAGS`/`ERL_ZFLAGS` and its command line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from beamkube.audit.context import Context, as_list, as_map, containers, pod_spec
from beamkube.audit.model import Manifest
from beamkube.quantity import QuantityError, cpu_millicores

EPMD_PORT = 4369
FLAG_ENV = ("ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS")
_START = re.compile(r"(?:^|[\s/'\"])bin/[\w.@-]+['\"]?\s+(start|foreground|start_iex|daemon|console)\b")
ENV_REFERENCE = re.compile(r"\$\((\w+)\)|\$\{(\w+)\}|\$(\w+)")  # $(VAR), ${VAR}, $VAR
_IMAGE = re.compile(r"(?:^|/)(elixir|erlang)(?::|@|$)")
IDENTITY_FIELDS = {"metadata.name": "name", "status.podIP": "ip", "status.podIPs": "ip"}


@dataclass(frozen=True)
class EnvVar:
    """`source`: value | field | secret | configmap | resource | unknown. `value` only for literal sources."""

    name: str
    source: str
    value: str | None = None
    field_path: str | None = None


@dataclass
class BeamContainer:
    name: str
    container: Mapping[str, Any]
    env: dict[str, EnvVar]
    env_complete: bool  # False when envFrom names an object not in the input
    vm_args: list[tuple[Manifest | None, str, str]]  # (ConfigMap, key, text); ConfigMap None if not in input
    flags: list[str]
    flags_complete: bool  # False when a mounted vm.args is not in the input
    flavour: str  # mix | relx | distillery | unknown
    distributed: bool
    signs: list[str] = field(default_factory=list)

    def flag_values(self, flag: str) -> list[str]:
        index = self.__dict__.get("_flag_index")
        if index is None:  # built once: rules ask for a dozen flags per container
            index = {}
            for i, tok in enumerate(self.flags[:-1]):
                index.setdefault(tok, []).append(self.flags[i + 1])
            self.__dict__["_flag_index"] = index
        return list(index.get(flag, ()))

    def kernel_param(self, param: str) -> list[str]:
        return [
            self.flags[i + 2]
            for i, tok in enumerate(self.flags[:-2])
            if tok == "-kernel" and self.flags[i + 1] == param
        ]

    def node_names(self) -> list[tuple[str, str, bool]]:
        """(where, value, short) for each way a node name is set; a fieldRef value reads as `$(FIELD:path)`."""
        names: list[tuple[str, str, bool]] = []
        node = self.env.get("RELEASE_NODE")
        if node is not None:
            if node.source == "value" and node.value is not None:
                names.append(("env RELEASE_NODE", node.value, False))
            elif node.source == "field" and node.field_path:
                names.append(("env RELEASE_NODE", f"$(FIELD:{node.field_path})", False))
        for flag in ("-name", "-sname"):
            for value in self.flag_values(flag):
                names.append((f"{flag} in {self.flag_origin()}", value, flag == "-sname"))
        return names

    def flag_origin(self) -> str:
        return "vm.args" if self.vm_args else "the command line"

    def dist_ports(self) -> list[int]:
        """Pinned distribution ports (inet_dist_listen_min..max or ERL_DIST_PORT); [] when unpinned."""
        ports: list[int] = []
        low, high = self.kernel_param("inet_dist_listen_min"), self.kernel_param("inet_dist_listen_max")
        try:
            if low:
                start = int(low[0])
                end = int(high[0]) if high else start
                ports.extend(range(start, min(end, start + 64) + 1))
        except ValueError:
            pass
        dist_env = self.env.get("ERL_DIST_PORT")
        if dist_env is not None and dist_env.value and dist_env.value.isdigit():
            ports.append(int(dist_env.value))
        for port in as_list(self.container.get("ports")):
            port = as_map(port)
            if port.get("name") == "dist" and isinstance(port.get("containerPort"), int):
                ports.append(port["containerPort"])
        return sorted(set(ports))

    def schedulers(self) -> list[int]:
        """The schedulers count(s) given with `+S N[:M]`."""
        values: list[int] = []
        for i, tok in enumerate(self.flags):
            text = None
            if tok == "+S" and i + 1 < len(self.flags):
                text = self.flags[i + 1]
            elif tok.startswith("+S") and tok[2:3].isdigit():
                text = tok[2:]
            if text is not None:
                head = text.split(":", 1)[0]
                if head.isdigit():
                    values.append(int(head))
        return values

    def busy_wait_off(self) -> bool:
        return "none" in self.flag_values("+sbwt")


def cpu_limit_cores(container: Mapping[str, Any]) -> int | None:
    limit = as_map(as_map(container.get("resources")).get("limits")).get("cpu")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, str | int | float):
        return None
    try:
        return max(1, math.ceil(cpu_millicores(limit) / 1000))
    except (QuantityError, ArithmeticError, ValueError):
        return None


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.extend(stripped.split())
    return out


def command_tokens(container: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for part in as_list(container.get("command")) + as_list(container.get("args")):
        out.extend(str(part).split())
    return out


def _env(ctx: Context, m: Manifest, container: Mapping[str, Any]) -> tuple[dict[str, EnvVar], bool]:
    env: dict[str, EnvVar] = {}
    complete = True
    for ref in as_list(container.get("envFrom")):
        ref = as_map(ref)
        prefix = str(ref.get("prefix") or "")
        cm_ref = as_map(ref.get("configMapRef"))
        secret_ref = as_map(ref.get("secretRef"))
        if cm_ref:
            cm = ctx.get("ConfigMap", m.namespace, str(cm_ref.get("name", "")))
            if cm is None:
                complete = False
                continue
            for key, value in as_map(cm.obj.get("data")).items():
                env[prefix + str(key)] = EnvVar(prefix + str(key), "configmap", str(value))
        elif secret_ref:
            secret = ctx.get("Secret", m.namespace, str(secret_ref.get("name", "")))
            if secret is None:
                complete = False
                continue
            keys = list(as_map(secret.obj.get("data"))) + list(as_map(secret.obj.get("stringData")))
            for key in keys:
                env[prefix + str(key)] = EnvVar(prefix + str(key), "secret")
    for item in as_list(container.get("env")):
        item = as_map(item)
        name = str(item.get("name", ""))
        source = as_map(item.get("valueFrom"))
        if not source:
            env[name] = EnvVar(name, "value", str(item.get("value", "")) if item.get("value") is not None else "")
        elif "fieldRef" in source:
            env[name] = EnvVar(name, "field", field_path=str(as_map(source["fieldRef"]).get("fieldPath", "")))
        elif "secretKeyRef" in source:
            env[name] = EnvVar(name, "secret")
        elif "configMapKeyRef" in source:
            ref = as_map(source["configMapKeyRef"])
            cm = ctx.get("ConfigMap", m.namespace, str(ref.get("name", "")))
            value = as_map(cm.obj.get("data")).get(str(ref.get("key"))) if cm is not None else None
            env[name] = EnvVar(name, "configmap", str(value) if value is not None else None)
        elif "resourceFieldRef" in source:
            env[name] = EnvVar(name, "resource")
        else:
            env[name] = EnvVar(name, "unknown")
    return env, complete


def _mounted_vm_args(
    ctx: Context, m: Manifest, container: Mapping[str, Any]
) -> list[tuple[Manifest | None, str, str]]:
    mounted = {str(as_map(v).get("name")) for v in as_list(container.get("volumeMounts"))}
    found: list[tuple[Manifest | None, str, str]] = []
    for volume in as_list(pod_spec(m).get("volumes")):
        volume = as_map(volume)
        source = as_map(volume.get("configMap"))
        if not source or str(volume.get("name")) not in mounted:
            continue
        cm = ctx.get("ConfigMap", m.namespace, str(source.get("name", "")))
        items = [str(as_map(i).get("key")) for i in as_list(source.get("items"))]
        data = as_map(cm.obj.get("data")) if cm is not None else {}
        keys = items or list(data)
        for key in keys:
            if "vm.args" in key:
                found.append((cm, key, str(data.get(key, "")) if cm is not None else ""))
    return found


def _flavour(env: Mapping[str, EnvVar], vm_keys: list[str], command: list[str]) -> str:
    if any(k in env for k in ("REPLACE_OS_VARS", "RELEASE_MUTABLE_DIR", "RELEASE_CONFIG_DIR")):
        return "distillery"
    if any(k.startswith("RELX_") for k in env) or "VMARGS_PATH" in env or any(k.endswith(".src") for k in vm_keys):
        return "relx"
    mix_env = ("RELEASE_NODE", "RELEASE_TMP", "RELEASE_DISTRIBUTION", "RELEASE_VM_ARGS", "RELEASE_COOKIE")
    if any(k in env for k in mix_env):
        return "mix"
    match = _START.search(" ".join(command))
    if match and match.group(1) in ("start", "start_iex", "daemon"):
        return "mix"
    return "unknown"


def _signs(
    container: Mapping[str, Any], env: Mapping[str, EnvVar], vm_args: list[Any], command: list[str]
) -> list[str]:
    signs: list[str] = []
    beam_env = sorted(
        k for k in env if k.startswith(("RELEASE_", "ERL_", "RELX_")) or k in ("REPLACE_OS_VARS", "ERLANG_COOKIE")
    )
    if beam_env:
        signs.append(f"env {beam_env[0]}")
    if vm_args:
        signs.append("vm.args mounted")
    for port in as_list(container.get("ports")):
        port = as_map(port)
        if port.get("containerPort") == EPMD_PORT or port.get("name") == "epmd":
            signs.append("port 4369")
            break
    if _IMAGE.search(str(container.get("image", "")).split("@")[0].rsplit(":", 1)[0] or ""):
        signs.append("elixir/erlang image")
    if _START.search(" ".join(command)):
        signs.append("release start command")
    return signs


def beam_containers(ctx: Context, m: Manifest) -> list[BeamContainer]:
    """The BEAM containers of a pod-owning object (memoised per object)."""
    key = ("beam", id(m))
    cached = ctx.cache.get(key)
    if cached is not None:
        result: list[BeamContainer] = cached
        return result
    out: list[BeamContainer] = []
    for container in containers(m):
        env, env_complete = _env(ctx, m, container)
        vm_args = _mounted_vm_args(ctx, m, container)
        command = command_tokens(container)
        signs = _signs(container, env, vm_args, command)
        if not signs:
            continue
        flags: list[str] = []
        for _cm, _key, text in vm_args:
            flags.extend(tokens(text))
        for name in FLAG_ENV:
            var = env.get(name)
            if var is not None and var.value:
                flags.extend(var.value.split())
        flags.extend(command)
        distribution = env.get("RELEASE_DISTRIBUTION")
        off = distribution is not None and distribution.value == "none"
        wants = (
            any(k in env for k in ("RELEASE_NODE", "RELEASE_COOKIE", "ERLANG_COOKIE"))
            or any(f in flags for f in ("-name", "-sname", "-setcookie"))
            or (distribution is not None and distribution.value in ("name", "sname"))
            or "port 4369" in signs
        )
        out.append(
            BeamContainer(
                name=str(container.get("name", "")),
                container=container,
                env=env,
                env_complete=env_complete,
                vm_args=vm_args,
                flags=flags,
                flags_complete=all(cm is not None for cm, _k, _t in vm_args),
                flavour=_flavour(env, [k for _c, k, _t in vm_args], command),
                distributed=wants and not off,
                signs=signs,
            )
        )
    ctx.cache[key] = out
    return out


def variables(text: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in ENV_REFERENCE.finditer(text)]


def identity_sources(text: str, env: Mapping[str, EnvVar], depth: int = 0) -> set[str]:
    """Which pod identities (`name`, `ip`) a value is built from, following env references."""
    found: set[str] = set()
    if "$(hostname" in text or "`hostname" in text:
        found.add("name")
    for field_ref in re.findall(r"\$\(FIELD:([\w.]+)\)", text):
        if field_ref in IDENTITY_FIELDS:
            found.add(IDENTITY_FIELDS[field_ref])
    if depth > 4:
        return found
    for name in variables(text):
        if name == "HOSTNAME" and name not in env:
            found.add("name")  # the kubelet sets HOSTNAME to the pod's name
            continue
        var = env.get(name)
        if var is None:
            continue
        if var.source == "field" and var.field_path in IDENTITY_FIELDS:
            found.add(IDENTITY_FIELDS[var.field_path])
        elif var.value is not None and var.source in ("value", "configmap"):
            found |= identity_sources(var.value, env, depth + 1)
    return found


def expand(text: str, env: Mapping[str, EnvVar], depth: int = 0) -> str:
    """`text` with literal env references replaced (others kept), to see a node name's host part."""
    if depth > 4:
        return text

    def one(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        var = env.get(name)
        if var is not None and var.value is not None and var.source in ("value", "configmap"):
            return expand(var.value, env, depth + 1)
        return match.group(0)

    return ENV_REFERENCE.sub(one, text)
