"""Mistakes real projects make that beamkube's pods would silently undo or suffer from, found in the project's
files: each is a `Guess("warning", ...)` that `init` prints with the fix.

Role: pure (no I/O) over the texts `detect.read_project` read. What is checked, and why it matters in a pod:
- `rel/env.sh.eex` (mix) or `rel/env.sh` exporting RELEASE_NODE, RELEASE_COOKIE, RELEASE_DISTRIBUTION or
  ERL_AFLAGS: the start script sources it after the pod env is set, so its value wins over beamkube's (a
  Fly.io-style `RELEASE_NODE=...@$FLY_PRIVATE_IP` gives every pod a name no peer resolves);
- a user `rel/vm.args.eex` / `rel/vm.args.src` (mix) or relx `vm_args`/`vm_args_src`: beamkube points
  RELEASE_VM_ARGS / VMARGS_PATH at its own file, so those lines are ignored; they belong in release.vmArgs;
- Mnesia, Khepri or Ra with `identity: stateless`: Deployment pods get a new node name and no disk each
  rollout, so the data and the cluster membership are lost; they need a StatefulSet with storage;
- a Phoenix release whose endpoint never starts: without `server: true` or phx.gen.release's PHX_SERVER
  check in config/runtime.exs, `bin/<app> start` boots without serving HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ENV_SCRIPTS = ("rel/env.sh.eex", "rel/env.sh")
MIX_VM_ARGS = ("rel/vm.args.eex", "rel/vm.args.src", "rel/vm.args")
OWNED_EXPORTS = ("RELEASE_NODE", "RELEASE_COOKIE", "RELEASE_DISTRIBUTION", "ERL_AFLAGS")
STATEFUL_LIBS = ("mnesia", "khepri", "ra")
# vm.args lines beamkube writes itself: not worth moving to release.vmArgs (the spec refuses them anyway).
OWNED_VM_ARGS = ("-name", "-sname", "-setcookie", "-cookie", "-proto_dist", "-ssl_dist_optfile", "+Q", "+S")


def _code_lines(text: str, comment: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(comment)]


def env_script_warnings(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(what, why-with-fix) for env scripts that override beamkube's env."""
    found: list[tuple[str, str]] = []
    for name in ENV_SCRIPTS:
        text = texts.get(name)
        if text is None:
            continue
        assigned: list[str] = []
        for line in _code_lines(text, "#"):
            for var in OWNED_EXPORTS:
                sets = re.search(rf"(^|[\s;])(export\s+)?{var}=", line) or re.search(rf"\bexport\s+{var}\b", line)
                if sets and var not in assigned:
                    assigned.append(var)
        for var in assigned:
            found.append(
                (
                    f"{name} sets {var}",
                    f"the release start script sources {name} after the pod env, so its {var} wins over the "
                    f"one beamkube sets; delete that line (beamkube sets {var} for every pod)",
                )
            )
    return found


def vm_args_warnings(texts: dict[str, str], tool: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if tool == "mix":
        files = [name for name in MIX_VM_ARGS if name in texts]
    else:
        config = texts.get("rebar.config", "")
        files = re.findall(r"\{\s*vm_args(?:_src)?\s*,\s*\"([^\"]+)\"", config)
    for name in files:
        lines = [
            line.strip()
            for line in _code_lines(texts.get(name, ""), "#" if tool == "mix" else "%")
            if not line.lstrip().startswith("##") and not line.strip().split()[0].startswith(OWNED_VM_ARGS)
        ]
        if not lines:  # only what beamkube sets itself: nothing is lost
            continue
        found.append(
            (
                f"{name} is replaced",
                "beamkube points the release at its own generated vm.args (node name, cookie, pinned "
                f"distribution port), so {name} is not read in the pod; move these lines to release.vmArgs "
                f"in beamkube.yaml: {', '.join(lines[:6])}",
            )
        )
    return found


def stateful_warnings(texts: dict[str, str], deps: Iterable[str], stateless: bool) -> list[tuple[str, str]]:
    if not stateless:
        return []
    deps = set(deps)
    used: list[str] = [lib for lib in ("khepri", "ra") if lib in deps]
    code = "\n".join(v for k, v in texts.items() if k.startswith(("lib/", "src/", "apps/")) or k == "mix.exs")
    if re.search(r"(:mnesia\b|\bmnesia:)", code):
        used.insert(0, "mnesia")
    if not used:
        return []
    libs = "/".join(used)
    return [
        (
            f"{libs} with a Deployment",
            f"{libs} keeps its data and cluster membership under the node name, but identity: stateless gives "
            "every pod a new name (its IP) and no disk each rollout; set identity: stable with storage: "
            "{size: 1Gi} (a StatefulSet with stable names and a volume per pod)",
        )
    ]


def phoenix_server_warnings(texts: dict[str, str], phoenix: bool, phx_server: bool) -> list[tuple[str, str]]:
    if not phoenix or phx_server:
        return []
    config = "\n".join(texts.get(name, "") for name in ("config/prod.exs", "config/runtime.exs"))
    if re.search(r"\bserver:\s*true\b", config):
        return []
    return [
        (
            "Phoenix endpoint off",
            "neither `server: true` nor a PHX_SERVER check in config/runtime.exs: `bin/<app> start` boots "
            'without serving HTTP; run `mix phx.gen.release` (it adds the check), then set PHX_SERVER: "true" '
            "in env",
        )
    ]
