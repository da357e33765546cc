"""What kind of BEAM project a directory holds, and the facts `init`, `dockerfile` and `ci` need.

Role: `read_project` reads a bounded set of text files from the project (I/O, never writes, never runs
code); `detect` is pure over what was read. Build files are Elixir/Erlang code, not data, so detection is
pattern matching on the usual shapes (`app: :name`, `{release, {name, "vsn"}, ...}`) and every guess carries
the reason shown to the user: a wrong guess must be easy to spot and fix in the generated spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from beamkube.errors import BeamkubeError
from beamkube.scaffold.mistakes import (
    ENV_SCRIPTS,
    MIX_VM_ARGS,
    env_script_warnings,
    phoenix_server_warnings,
    stateful_warnings,
    vm_args_warnings,
)
from beamkube.spec.model import NAME_PATTERN, RELEASE_NAME_PATTERN, Discovery, Identity

MAX_FILE_BYTES = 512 * 1024
MAX_SOURCE_FILES = 400
PHOENIX_PORT = 4000

# Top-level entries whose presence matters to the Dockerfile (what to copy, in which layer).
KNOWN_ENTRIES = (
    "mix.exs",
    "mix.lock",
    "rebar.config",
    "rebar.lock",
    "config",
    "lib",
    "priv",
    "assets",
    "rel",
    "src",
    "include",
    "apps",
    "c_src",
    ".tool-versions",
)
CONFIG_FILES = ("config/config.exs", "config/prod.exs", "config/runtime.exs")


class DetectError(BeamkubeError):
    """The directory is not a project `init` understands."""

    exit_code = 2


@dataclass(frozen=True)
class ProjectFiles:
    """The texts `detect` looks at, keyed by POSIX path relative to the project root."""

    root: str
    texts: dict[str, str]
    entries: frozenset[str]


@dataclass(frozen=True)
class Guess:
    """One detected fact and why it was guessed (printed by `init`)."""

    what: str
    value: str
    why: str


@dataclass(frozen=True)
class Project:
    tool: Literal["mix", "rebar3"]
    app: str
    version: str | None
    release: str
    release_configured: bool
    elixir_version: str | None = None
    elixir_requirement: str | None = None
    otp_version: str | None = None
    otp_minimum: str | None = None
    rebar3_version: str | None = None
    phoenix: bool = False
    web_port: int | None = None
    health_path: str | None = None
    ecto: bool = False
    migrate_eval: str | None = None
    discovery: Discovery | None = None
    identity: Identity = Identity.STATELESS
    umbrella: bool = False
    phx_server: bool = False
    secret_env: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()  # declared dependencies (hex, git or path): none means no hex/rebar downloads
    assets_deploy: bool = False
    entries: frozenset[str] = frozenset()
    config_files: tuple[str, ...] = ()
    guesses: tuple[Guess, ...] = field(default=())

    @property
    def spec_name(self) -> str:
        """The app name as a DNS label (`my_app` → `my-app`), as the spec requires."""
        return dns_label(self.app)


# --- reading (I/O) --------------------------------------------------------------------------------


def read_project(root: Path) -> ProjectFiles:
    """Read the files detection needs. Missing or unreadable files are simply absent."""
    if not root.is_dir():
        raise DetectError(f"{root}: not a directory")
    entries = frozenset(name for name in KNOWN_ENTRIES if (root / name).exists())
    wanted: list[Path] = [root / name for name in ("mix.exs", "rebar.config", ".tool-versions")]
    # Release overlays the pod's env and vm.args would fight (see scaffold/mistakes.py).
    wanted += [root / name for name in (*ENV_SCRIPTS, *MIX_VM_ARGS, "config/vm.args", "config/vm.args.src")]
    config = root / "config"
    if config.is_dir():
        wanted += sorted(config.glob("*.exs")) + sorted(config.glob("*.config")) + sorted(config.glob("*.src"))
    for pattern in ("lib/**/*.ex", "src/*.app.src", "apps/*/src/*.app.src", "apps/*/mix.exs"):
        wanted += sorted(root.glob(pattern))[:MAX_SOURCE_FILES]
    texts: dict[str, str] = {}
    for path in wanted:
        rel = path.relative_to(root).as_posix()
        text = _read_text(path)
        if text is not None:
            texts[rel] = text
    return ProjectFiles(root=str(root), texts=texts, entries=entries)


def _read_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


# --- detection (pure) -----------------------------------------------------------------------------


def detect(files: ProjectFiles) -> Project:
    """The project's facts. Raises `DetectError` when it is neither a mix nor a rebar3 project."""
    if "mix.exs" in files.texts:
        return _detect_mix(files)
    if "rebar.config" in files.texts:
        return _detect_rebar(files)
    raise DetectError(f"{files.root}: no mix.exs or rebar.config found; run `beamkube init` in a mix or rebar3 project")


def dns_label(name: str) -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower().replace("_", "-")).strip("-")
    label = re.sub(r"-{2,}", "-", label)[:40].rstrip("-")
    if not label or not re.fullmatch(NAME_PATTERN, label):
        label = ("app-" + label).rstrip("-")[:40] if label else "app"
    return label


def _release_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not re.fullmatch(RELEASE_NAME_PATTERN, cleaned):
        cleaned = "app_" + cleaned
    return cleaned


def _strip_elixir_comments(text: str) -> str:
    # A `#` starts a comment unless inside a string; build files rarely put `#` in strings, but keep
    # `"#{...}"` interpolation intact by only stripping `#` that follow whitespace or start a line.
    return re.sub(r"(^|\s)#(?!\{).*$", r"\1", text, flags=re.MULTILINE)


def _strip_erlang_comments(text: str) -> str:
    return re.sub(r"%.*$", "", text, flags=re.MULTILINE)


def _tool_versions(files: ProjectFiles) -> dict[str, str]:
    versions: dict[str, str] = {}
    for line in files.texts.get(".tool-versions", "").splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2:
            versions[parts[0]] = parts[1]
    return versions


def _detect_mix(files: ProjectFiles) -> Project:
    mix = _strip_elixir_comments(files.texts["mix.exs"])
    guesses: list[Guess] = [Guess("build tool", "mix", "mix.exs")]
    app_match = re.search(r"\bapp:\s*:([a-z_][a-zA-Z0-9_]*)", mix)
    umbrella = re.search(r"\bapps_path:", mix) is not None
    if app_match is None and not umbrella:
        raise DetectError(f"{files.root}/mix.exs: no `app: :name` in project/0")
    releases = _mix_releases(mix)
    if releases:
        release = releases[0]
        guesses.append(Guess("release", release, "first entry of `releases:` in mix.exs"))
        configured = True
    elif app_match is not None:
        release = app_match.group(1)
        guesses.append(Guess("release", release, "no `releases:` in mix.exs; mix release defaults to the app name"))
        configured = False
    else:
        raise DetectError(f"{files.root}/mix.exs: an umbrella project needs a `releases:` entry to build a release")
    app = app_match.group(1) if app_match is not None else release
    version = _first(r"\bversion:\s*\"([^\"]+)\"", mix)
    versions = _versions(files, guesses, elixir_req=_first(r"\belixir:\s*\"([^\"]+)\"", mix))
    deps = set(re.findall(r"\{\s*:([a-z_][a-z0-9_]*)\s*,", mix))
    for child in sorted(k for k in files.texts if re.fullmatch(r"apps/[^/]+/mix\.exs", k)):
        deps |= set(re.findall(r"\{\s*:([a-z_][a-z0-9_]*)\s*,", _strip_elixir_comments(files.texts[child])))
    phoenix = "phoenix" in deps
    web_port: int | None = None
    health: str | None = None
    if phoenix:
        web_port, why = _phoenix_port(files)
        guesses.append(Guess("web port", str(web_port), why))
        health, why = _health_route(files)
        guesses.append(Guess("health route", health or "none", why))
    ecto = "ecto_sql" in deps
    migrate: str | None = None
    if ecto:
        migrate, why = _migrate_eval(files, app)
        guesses.append(Guess("migration job", migrate, why))
    discovery, identity, why = _discovery(files, deps)
    guesses.append(Guess("discovery", discovery.value if discovery else "beamkube default", why))
    if "libcluster" in deps:
        guesses += _libcluster_mismatches(files, dns_label(app), _release_name(release))
    runtime = _strip_elixir_comments(files.texts.get("config/runtime.exs", ""))
    phx_server = phoenix and "PHX_SERVER" in runtime
    if phx_server:
        why = "config/runtime.exs starts the endpoint only when PHX_SERVER is set"
        guesses.append(Guess("env", "PHX_SERVER=true", why))
    secret_env = _secret_env(runtime)
    if secret_env:
        why = "read in config/runtime.exs; values belong in a Secret"
        guesses.append(Guess("secretEnv", ", ".join(secret_env), why))
    guesses += _mistakes(files, "mix", deps, identity is Identity.STATELESS, phoenix=phoenix, phx_server=phx_server)
    return Project(
        tool="mix",
        app=app,
        version=version,
        release=_release_name(release),
        release_configured=configured,
        elixir_version=versions.elixir,
        elixir_requirement=versions.elixir_requirement,
        otp_version=versions.otp,
        phoenix=phoenix,
        web_port=web_port,
        health_path=health,
        ecto=ecto,
        migrate_eval=migrate,
        discovery=discovery,
        identity=identity,
        umbrella=umbrella,
        phx_server=phx_server,
        secret_env=secret_env,
        deps=tuple(sorted(deps)),
        assets_deploy='"assets.deploy"' in mix and "assets" in files.entries,
        entries=files.entries,
        config_files=tuple(name for name in CONFIG_FILES if name in files.texts),
        guesses=tuple(guesses),
    )


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


def _mix_releases(mix: str) -> list[str]:
    """Release names from `releases: [name: [...]]` or a `defp releases do [name: ...]` helper."""
    inline = re.search(r"\breleases:\s*\[\s*([a-z_][a-zA-Z0-9_]*):", mix)
    if inline:
        return [inline.group(1)]
    call = re.search(r"\breleases:\s*([a-z_][a-zA-Z0-9_]*)\(\)", mix)
    if call:
        # Both `defp releases do [...] end` and `defp releases, do: [...]`.
        body = re.search(
            rf"defp?\s+{call.group(1)}(?:\(\))?\s*(?:,\s*do:|\s+do)\s*\[\s*([a-z_][a-zA-Z0-9_]*):", mix
        )
        if body:
            return [body.group(1)]
    return []


@dataclass(frozen=True)
class Versions:
    elixir: str | None = None
    elixir_requirement: str | None = None
    otp: str | None = None
    rebar3: str | None = None


def _versions(files: ProjectFiles, guesses: list[Guess], *, elixir_req: str | None) -> Versions:
    tools = _tool_versions(files)
    elixir: str | None = None
    if "elixir" in tools:
        # asdf's `1.16.2-otp-26` names the OTP it was compiled for; the image tag wants `1.16.2`.
        elixir = tools["elixir"].split("-otp-", 1)[0]
        guesses.append(Guess("elixir", elixir, f".tool-versions: elixir {tools['elixir']}"))
    elif elixir_req:
        guesses.append(Guess("elixir", elixir_req, "mix.exs `elixir:` requirement (no exact version found)"))
    otp = tools.get("erlang")
    if otp:
        guesses.append(Guess("erlang/otp", otp, f".tool-versions: erlang {otp}"))
    rebar3 = tools.get("rebar")
    if rebar3:
        guesses.append(Guess("rebar3", rebar3, f".tool-versions: rebar {rebar3}"))
    return Versions(elixir=elixir, elixir_requirement=elixir_req, otp=otp, rebar3=rebar3)


def _phoenix_port(files: ProjectFiles) -> tuple[int, str]:
    runtime = _strip_elixir_comments(files.texts.get("config/runtime.exs", ""))
    env_default = re.search(r"System\.get_env\(\s*\"PORT\"\s*(?:\)\s*\|\|\s*|,\s*)\"?(\d{2,5})\"?", runtime)
    if env_default:
        return int(env_default.group(1)), "config/runtime.exs: default of System.get_env(\"PORT\")"
    for name in ("config/runtime.exs", "config/prod.exs", "config/config.exs"):
        text = _strip_elixir_comments(files.texts.get(name, ""))
        match = re.search(r"\bhttp:\s*\[[^\]]*?\bport:\s*(\d{2,5})", text, flags=re.DOTALL)
        if match:
            return int(match.group(1)), f"{name}: endpoint http port"
    return PHOENIX_PORT, "Phoenix default (no port found in config/runtime.exs, prod.exs or config.exs)"


_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY$|DATABASE_URL)")


def _secret_env(runtime: str) -> tuple[str, ...]:
    """Variables runtime.exs reads that look like credentials (RELEASE_COOKIE is beamkube's own)."""
    names = re.findall(r"System\.(?:get_env|fetch_env!?)\(\s*\"([A-Z_][A-Z0-9_]*)\"", runtime)
    found = sorted({n for n in names if _SECRET_NAME.search(n) and n != "RELEASE_COOKIE"})
    return tuple(found)


# A whole path segment, so `/products/status-page` is not mistaken for a probe endpoint.
_HEALTH_SEGMENTS = frozenset(
    {"health", "healthz", "healthcheck", "health_check", "livez", "readyz", "ready", "live", "alive", "ping", "status"}
)
_ROUTE = re.compile(r"^\s*(get|forward)\s+\"(/[^\"]*)\"")
_SCOPE = re.compile(r"^\s*scope\s+\"(/[^\"]*)\"(.*)\bdo\s*$")
_BLOCK = re.compile(r"\bdo\s*$")
_END = re.compile(r"^\s*end\b")


def _health_route(files: ProjectFiles) -> tuple[str | None, str]:
    """The first GET/forward route whose path looks like a health check, with its `scope` prefixes."""
    routers = sorted(k for k in files.texts if k.startswith("lib/") and k.endswith("router.ex"))
    for name in routers:
        stack: list[str] = []
        for line in _strip_elixir_comments(files.texts[name]).splitlines():
            scope = _SCOPE.match(line)
            if scope:
                stack.append(scope.group(1))
                continue
            route = _ROUTE.match(line)
            if route and _HEALTH_SEGMENTS.intersection(route.group(2).lower().strip("/").split("/")):
                path = "/" + "/".join(p.strip("/") for p in [*stack, route.group(2)] if p.strip("/"))
                return path, f"{name}: `{route.group(1)} \"{route.group(2)}\"`"
            if _END.match(line):
                if stack:
                    stack.pop()
            elif _BLOCK.search(line):
                stack.append("")
    return None, "no health-like route in the router: probes stay TCP on the web port"


def _migrate_eval(files: ProjectFiles, app: str) -> tuple[str, str]:
    for name in sorted(files.texts):
        if not (name.startswith("lib/") and PurePosixPath(name).name == "release.ex"):
            continue
        text = files.texts[name]
        module = re.search(r"defmodule\s+([A-Z][\w.]*\.Release)\s+do", text)
        if module and re.search(r"\bdef\s+migrate\b", text):
            return f"{module.group(1)}.migrate()", f"ecto_sql dep; {name} defines {module.group(1)}.migrate/0"
    # Without a Release module, the same steps inline (they only need the app's config loaded).
    expr = (
        f"Application.load(:{app}); "
        f"for repo <- Application.fetch_env!(:{app}, :ecto_repos), "
        "do: {:ok, _, _} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :up, all: true))"
    )
    return expr, "ecto_sql dep, no Release.migrate/0 found: Ecto.Migrator inline"


_STRATEGIES = (
    ("Kubernetes.DNSSRV", Discovery.DNSSRV, Identity.STABLE),
    ("Kubernetes.DNS", Discovery.DNS, Identity.STATELESS),
    ("Kubernetes", Discovery.KUBERNETES, Identity.STATELESS),
)


def _discovery(files: ProjectFiles, deps: set[str]) -> tuple[Discovery | None, Identity, str]:
    if "libcluster" in deps:
        sources = sorted(k for k in files.texts if k.startswith(("config/", "lib/")))
        for name in sources:
            text = _strip_elixir_comments(files.texts[name])
            found = re.search(r"Cluster\.Strategy\.([A-Za-z.]+)", text)
            if not found:
                continue
            strategy = found.group(1).rstrip(".")
            for suffix, discovery, identity in _STRATEGIES:
                if strategy == suffix:
                    note = " (SRV records need a StatefulSet: identity stable)" if identity is Identity.STABLE else ""
                    return discovery, identity, f"libcluster Cluster.Strategy.{strategy} in {name}{note}"
            return (
                Discovery.DNS,
                Identity.STATELESS,
                f"libcluster Cluster.Strategy.{strategy} in {name} has no Kubernetes equivalent; using DNS",
            )
        return Discovery.DNS, Identity.STATELESS, "libcluster dep without a strategy in config/ or lib/; using DNS"
    if "dns_cluster" in deps:
        return Discovery.DNS, Identity.STATELESS, "dns_cluster dep (reads DNS_CLUSTER_QUERY, which beamkube sets)"
    return None, Identity.STATELESS, "no libcluster/dns_cluster dep: beamkube's own DNS discovery loop"


def _libcluster_mismatches(files: ProjectFiles, spec_name: str, release: str) -> list[Guess]:
    """libcluster's DNS strategies name the headless Service and the node basename themselves; if they differ
    from what beamkube renders (`<name>-headless`, the release name), the nodes never find each other."""
    warnings: list[Guess] = []
    for name in sorted(k for k in files.texts if k.startswith(("config/", "lib/"))):
        text = _strip_elixir_comments(files.texts[name])
        if "Cluster.Strategy." not in text:
            continue
        service = _first(r"\bservice:\s*\"([^\"]+)\"", text)
        if service is not None and service != f"{spec_name}-headless":
            why = f"libcluster `service: \"{service}\"` in {name}; beamkube renders {spec_name}-headless: change one"
            warnings.append(Guess("warning", "service name", why))
        basename = _first(r"\b(?:application_name|kubernetes_node_basename):\s*\"([^\"]+)\"", text)
        if basename is not None and basename != release:
            why = f"libcluster node basename \"{basename}\" in {name}; node names start with {release}@: change one"
            warnings.append(Guess("warning", "node basename", why))
    return warnings


def _rebar_deps(config: str) -> tuple[str, ...]:
    """Names of the top-level entries of `{deps, [...]}` (`name` or `{name, ...}`); () when there are none."""
    start = re.search(r"\{\s*deps\s*,\s*\[", config)
    if start is None:
        return ()
    depth, index, items, current = 1, start.end(), [], ""
    while index < len(config) and depth:
        char = config[index]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if depth == 1 and char == ",":
            items.append(current)
            current = ""
        elif depth:
            current += char
        index += 1
    items.append(current)
    names = []
    for item in (i.strip().lstrip("{").strip() for i in items):
        match = re.match(r"'?([a-z][a-zA-Z0-9_@]*)'?", item)
        if match:
            names.append(match.group(1))
        elif item:
            names.append(item[:40])
    return tuple(sorted(names))


def _detect_rebar(files: ProjectFiles) -> Project:
    config = _strip_erlang_comments(files.texts["rebar.config"])
    guesses: list[Guess] = [Guess("build tool", "rebar3", "rebar.config")]
    release_match = re.search(r"\{\s*release\s*,\s*\{\s*'?([a-z][a-zA-Z0-9_]*)'?\s*,\s*\"([^\"]+)\"", config)
    app_sources = sorted(k for k in files.texts if k.endswith(".app.src"))
    app_name: str | None = None
    for name in app_sources:
        found = re.search(r"\{\s*application\s*,\s*'?([a-z][a-zA-Z0-9_]*)'?", _strip_erlang_comments(files.texts[name]))
        if found:
            app_name = found.group(1)
            break
    if release_match:
        release, version = release_match.group(1), release_match.group(2)
        guesses.append(Guess("release", release, "rebar.config relx `{release, {Name, Vsn}, ...}`"))
        configured = True
    elif app_name:
        release, version = app_name, None
        why = f"no relx release in rebar.config; the app in {app_sources[0]} (add a relx section)"
        guesses.append(Guess("release", release, why))
        configured = False
    else:
        raise DetectError(f"{files.root}/rebar.config: no relx release and no src/*.app.src to name one")
    guesses.append(Guess("migration job", "none", "relx `eval` needs a running node, so no eval Job is proposed"))
    versions = _versions(files, guesses, elixir_req=None)
    deps = set(re.findall(r"\{\s*'?([a-z][a-z0-9_]*)'?\s*,", config)) | set(re.findall(r"\b(khepri|ra)\b", config))
    guesses += _mistakes(files, "rebar3", deps, True, phoenix=False, phx_server=False)
    minimum = _first(r"\{\s*minimum_otp_vsn\s*,\s*\"([^\"]+)\"", config)
    if minimum:
        guesses.append(Guess("erlang/otp minimum", minimum, "rebar.config minimum_otp_vsn"))
    return Project(
        tool="rebar3",
        app=app_name or release,
        version=version,
        release=_release_name(release),
        release_configured=configured,
        otp_version=versions.otp,
        otp_minimum=minimum,
        rebar3_version=versions.rebar3,
        deps=_rebar_deps(config),
        entries=files.entries,
        guesses=(*guesses, Guess("discovery", "beamkube default", "Erlang project: beamkube's own discovery loop")),
    )


def _mistakes(
    files: ProjectFiles, tool: str, deps: set[str], stateless: bool, *, phoenix: bool, phx_server: bool
) -> list[Guess]:
    found = [
        *env_script_warnings(files.texts),
        *vm_args_warnings(files.texts, tool),
        *stateful_warnings(files.texts, deps, stateless),
        *phoenix_server_warnings(files.texts, phoenix, phx_server),
    ]
    return [Guess("warning", what, why) for what, why in found]
