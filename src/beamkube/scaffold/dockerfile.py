"""`beamkube dockerfile`: a multi-stage Dockerfile and .dockerignore matching the rendered manifests.

Role: pure (no I/O). The builder stage is a list of `Step`s so tests can replay it (the COPY/RUN order is
the dependency cache) with the real toolchain; the runtime stage takes every value the pod relies on from
the renderer itself: the release root, the container command (`render.pod.release_command`), the numeric
user of the securityContext and the container ports. Facts behind the choices:
- the release bundles its own erts, so the runtime image needs no Erlang, only the shared libraries erts was
  linked against (libssl, ncurses/tinfo, libstdc++ for NIFs): builder and runtime share one DEBIAN_VERSION
  (the second talk: "keep Debian versions in sync, or dependencies will kill you");
- no tini: the start scripts `exec` down to beam.smp, so the BEAM is PID 1 and receives SIGTERM itself,
  which it turns into `init:stop()` since OTP 19.3/20 (checked in tests: `bin/<name> pid` is the started
  process, and SIGTERM exits 0); epmd is the only child it forks and lives as long as the pod;
- relx start scripts substitute `${VAR}` with awk: Debian slim ships mawk (Priority: required).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from beamkube.errors import UsageError
from beamkube.render.pod import container_ports, release_command
from beamkube.scaffold.detect import Project
from beamkube.spec.model import AppSpec, Flavour

# A combination published by hexpm (hexpm/elixir builds on hexpm/erlang of the same OTP and Debian tag).
DEFAULT_ELIXIR = "1.17.3"
DEFAULT_OTP = "27.3"
DEFAULT_DEBIAN = "bookworm-20250224-slim"
DEFAULT_REBAR3 = "3.24.0"
BUILD_DIR = "/build"

# Runtime shared libraries by Debian release (the t64 rename came with trixie).
RUNTIME_PACKAGES = {
    "bullseye": ("ca-certificates", "libncurses6", "libssl1.1", "libstdc++6"),
    "bookworm": ("ca-certificates", "libncurses6", "libssl3", "libstdc++6"),
    "trixie": ("ca-certificates", "libncurses6", "libssl3t64", "libstdc++6"),
}
DEBIAN_TAG = re.compile(r"^(?P<codename>[a-z]+)(-(?P<date>\d{8}))?(-slim)?$")
VERSION = re.compile(r"^\d+(\.\d+){0,3}(-rc\.?\d+)?$")


@dataclass(frozen=True)
class Step:
    """One builder instruction. `tooling` marks steps that fetch build tools from the network (apt, hex,
    rebar3): everything else runs the same in a test that replays the stage offline."""

    instruction: str
    args: str
    comment: str | None = None
    tooling: bool = False
    lint_ignore: str | None = None
    sources: tuple[str, ...] = ()
    dest: str = ""


@dataclass(frozen=True)
class Versions:
    elixir: str
    otp: str
    debian: str
    rebar3: str = DEFAULT_REBAR3

    @property
    def codename(self) -> str:
        match = DEBIAN_TAG.match(self.debian)
        assert match is not None  # checked by `choose_versions`
        return match.group("codename")


@dataclass(frozen=True)
class Plan:
    """The builder stage and where it leaves the release (relative to BUILD_DIR)."""

    builder_image: str
    steps: tuple[Step, ...]
    release_dir: str
    args: tuple[tuple[str, str], ...]


def choose_versions(
    project: Project, *, elixir: str | None = None, otp: str | None = None, debian: str | None = None
) -> tuple[Versions, list[str]]:
    """Exact versions for the image tags: options, then .tool-versions, then the defaults. Returns notes
    for the user about each choice."""
    notes: list[str] = []
    chosen_elixir = elixir or project.elixir_version or DEFAULT_ELIXIR
    chosen_otp = otp or project.otp_version or DEFAULT_OTP
    chosen_debian = debian or DEFAULT_DEBIAN
    for label, value in (("--elixir", chosen_elixir), ("--otp", chosen_otp)):
        if not VERSION.match(value):
            raise UsageError(f"{label} {value!r}: expected an exact version like 1.17.3 or 27.3")
    match = DEBIAN_TAG.match(chosen_debian)
    if match is None or match.group("codename") not in RUNTIME_PACKAGES:
        raise UsageError(
            f"--debian {chosen_debian!r}: expected <codename>[-YYYYMMDD][-slim] with codename one of "
            + ", ".join(sorted(RUNTIME_PACKAGES))
        )
    if project.tool == "mix" and not (elixir or project.elixir_version):
        notes.append(f"elixir {chosen_elixir}: default (no .tool-versions; mix.exs asks {project.elixir_requirement})")
    if not (otp or project.otp_version):
        notes.append(f"erlang/otp {chosen_otp}: default (no .tool-versions)")
    if not debian:
        notes.append(f"debian {chosen_debian}: default; builder and runtime both use it")
    return Versions(chosen_elixir, chosen_otp, chosen_debian, project.rebar3_version or DEFAULT_REBAR3), notes


def _copy(project: Project, sources: tuple[str, ...], dest: str, comment: str | None = None) -> list[Step]:
    present = tuple(s for s in sources if s in project.entries or s in project.config_files)
    if not present:
        return []
    return [Step("COPY", f"{' '.join(present)} {dest}", comment, sources=present, dest=dest)]


def _apt(packages: tuple[str, ...], why: str) -> Step:
    return Step(
        "RUN",
        "apt-get update \\\n && apt-get install -y --no-install-recommends "
        + " ".join(packages)
        + " \\\n && rm -rf /var/lib/apt/lists/*",
        comment=why,
        tooling=True,
        # Pinning apt versions breaks the build as soon as Debian's archive moves on; the dated base image
        # is the pin.
        lint_ignore="DL3008",
    )


def _toolchain(project: Project) -> list[Step]:
    """A C compiler and git only when something can need them: dependencies (NIFs, git deps) or c_src/."""
    if not project.deps and "c_src" not in project.entries:
        return []
    return [_apt(("build-essential", "git"), "C compiler and git for NIF and git dependencies")]


def _mix_plan(project: Project, versions: Versions) -> Plan:
    image = "hexpm/elixir:${ELIXIR_VERSION}-erlang-${OTP_VERSION}-debian-${DEBIAN_VERSION}"
    steps: list[Step] = [
        *_toolchain(project),
        Step("WORKDIR", BUILD_DIR),
        Step("ENV", "MIX_ENV=prod"),
    ]
    if project.deps:
        # Build args are in RUN's environment and unset unless given: `--build-arg HEX_MIRROR=<url>` points
        # Hex (and `mix local.hex`/`local.rebar`) at a mirror; without it hex.pm is used.
        steps.append(Step("ARG", "HEX_MIRROR", "Optional: a Hex mirror (hex.pm unreachable from the build)"))
        steps.append(Step("RUN", "mix local.hex --force && mix local.rebar --force", tooling=True))
    first = ("mix.exs", "mix.lock", "apps") if project.umbrella else ("mix.exs", "mix.lock")
    why = "Dependencies first: these layers are rebuilt only when mix.exs/mix.lock change"
    steps += _copy(project, first, "./", why)
    steps.append(Step("RUN", "mix deps.get --only prod"))
    steps += _copy(project, ("config/config.exs", "config/prod.exs"), "config/")
    steps.append(Step("RUN", "mix deps.compile"))
    for entry in ("priv", "lib"):
        steps += _copy(project, (entry,), f"{entry}/")
    if project.assets_deploy:
        steps += _copy(project, ("assets",), "assets/")
        steps.append(Step("RUN", "mix assets.deploy"))
    steps.append(Step("RUN", "mix compile"))
    steps += _copy(project, ("config/runtime.exs",), "config/", "Runtime config last: changing it skips recompiling")
    steps += _copy(project, ("rel",), "rel/")
    steps.append(Step("RUN", f"mix release {project.release}" if project.release_configured else "mix release"))
    args = (("ELIXIR_VERSION", versions.elixir), ("OTP_VERSION", versions.otp), ("DEBIAN_VERSION", versions.debian))
    return Plan(image, tuple(steps), f"_build/prod/rel/{project.release}", args)


def _rebar_plan(project: Project, versions: Versions) -> Plan:
    image = "hexpm/erlang:${OTP_VERSION}-debian-${DEBIAN_VERSION}"
    steps: list[Step] = [
        Step("ARG", "REBAR3_VERSION"),
        *_toolchain(project),
        Step(
            "ARG",
            "REBAR3_URL=https://github.com/erlang/rebar3/releases/download/${REBAR3_VERSION}/rebar3",
            "hexpm/erlang images carry no rebar3; --build-arg REBAR3_URL=<url> fetches it from elsewhere",
        ),
        # DL3020 (COPY for local files): hadolint cannot see that the build arg holds a URL.
        Step("ADD", "${REBAR3_URL} /usr/local/bin/rebar3", tooling=True, lint_ignore="DL3020"),
        Step("RUN", "chmod 0755 /usr/local/bin/rebar3", tooling=True),
        Step("WORKDIR", BUILD_DIR),
    ]
    if project.deps:
        steps.append(Step("ARG", "HEX_CDN", "Optional: a Hex mirror for rebar3 (--build-arg HEX_CDN=<url>)"))
    why = "Dependencies first: rebuilt only when rebar.config/rebar.lock change"
    steps += _copy(project, ("rebar.config", "rebar.lock"), "./", why)
    steps.append(Step("RUN", "rebar3 as prod compile --deps_only"))
    for entry in ("apps", "src", "include", "priv", "config", "rel"):
        steps += _copy(project, (entry,), f"{entry}/")
    # Force a self-contained release whatever the profile says: no symlinks into _build, erts included.
    steps.append(Step("RUN", f"rebar3 as prod release -n {project.release} --dev-mode false --include-erts true"))
    args = (("OTP_VERSION", versions.otp), ("DEBIAN_VERSION", versions.debian), ("REBAR3_VERSION", versions.rebar3))
    return Plan(image, tuple(steps), f"_build/prod/rel/{project.release}", args)


def _merge_runs(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """Consecutive RUNs with nothing copied between them gain nothing from separate layers (hadolint DL3059)."""
    merged: list[Step] = []
    for step in steps:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and step.instruction == previous.instruction == "RUN"
            and not (step.tooling or previous.tooling or step.comment or step.lint_ignore or previous.lint_ignore)
        ):
            merged[-1] = Step("RUN", f"{previous.args} \\\n && {step.args}", previous.comment)
        else:
            merged.append(step)
    return tuple(merged)


def build_plan(project: Project, versions: Versions) -> Plan:
    plan = _mix_plan(project, versions) if project.tool == "mix" else _rebar_plan(project, versions)
    return Plan(plan.builder_image, _merge_runs(plan.steps), plan.release_dir, plan.args)


def check_matches(spec: AppSpec, project: Project) -> None:
    """The spec and the project must describe the same release, or the image would not run."""
    expected = Flavour.MIX if project.tool == "mix" else Flavour.RELX
    if spec.release.flavour is not expected:
        raise UsageError(
            f"release.flavour is {spec.release.flavour.value} but this is a {project.tool} project "
            f"(expected {expected.value}); fix beamkube.yaml or pass --project"
        )
    if spec.release_name != project.release:
        raise UsageError(
            f"release name {spec.release_name!r} in the spec differs from the project's release "
            f"{project.release!r}; the image would have no bin/{spec.release_name}"
        )


def _render_step(step: Step) -> str:
    lines: list[str] = []
    if step.comment:
        lines.append(f"# {step.comment}")
    if step.lint_ignore:
        lines.append(f"# hadolint ignore={step.lint_ignore}")
    lines.append(f"{step.instruction} {step.args}")
    return "\n".join(lines)


def dockerfile(spec: AppSpec, project: Project, versions: Versions) -> str:
    """The Dockerfile text."""
    check_matches(spec, project)
    plan = build_plan(project, versions)
    root = spec.release.root
    user = f"{spec.security.runAsUser}:{spec.security.runAsGroup}"
    ports = " ".join(str(p["containerPort"]) for p in container_ports(spec))
    packages = RUNTIME_PACKAGES[versions.codename]
    out = [
        "# syntax=docker/dockerfile:1",
        f"# Generated by `beamkube dockerfile` for {spec.name} (release {spec.release_name}); regenerate it after",
        "# changing beamkube.yaml. Builder and runtime share DEBIAN_VERSION: the release carries its own erts,",
        "# linked against the builder's libssl and libc, so the runtime must be the same Debian snapshot.",
        "# hexpm publishes each Elixir/OTP pair on dated Debian snapshots (hub.docker.com/r/hexpm): if a tag does",
        "# not exist, pick one there and pass --build-arg, or regenerate with --elixir/--otp/--debian.",
        *(f"ARG {name}={value}" for name, value in plan.args),
        "",
        f"FROM {plan.builder_image} AS builder",
        *(_render_step(step) for step in plan.steps),
        "",
        "FROM debian:${DEBIAN_VERSION} AS runtime",
        _render_step(_apt(packages, "Only the shared libraries the release's erts and NIFs link against")),
        "# C.UTF-8 is built into Debian's libc: no locales package needed.",
        "ENV LANG=C.UTF-8",
        f"WORKDIR {root}",
        "# Owned by root and read-only to the app user: the pod runs with a read-only root filesystem anyway,",
        "# and writes only to the /tmp emptyDir (RELEASE_TMP, RELX_OUT_FILE_PATH, the crash dump).",
        f"COPY --from=builder {BUILD_DIR}/{plan.release_dir} {root}",
        "# The numeric user of the rendered securityContext (runAsNonRoot needs a number to check).",
        f"USER {user}",
        "# The container ports of the rendered pod (web, epmd, distribution, metrics).",
        f"EXPOSE {ports}",
        "# No tini: the start script execs into beam.smp, which handles SIGTERM as init:stop() (OTP >= 20).",
        f"CMD {json.dumps(release_command(spec))}",
    ]
    return "\n".join(out) + "\n"


def dockerignore(project: Project) -> str:
    """Keep build output, VCS data, editor state and secrets out of the build context."""
    common = [
        "# Generated by `beamkube dockerfile`: what the image build must not see.",
        ".git/",
        ".github/",
        "_build/",
        "deps/",
        "**/erl_crash.dump",
        "**/*.ez",
        "*.swp",
        ".env",
        ".env.*",
        "Dockerfile",
        ".dockerignore",
        "beamkube.yaml",
        "k8s/",
    ]
    if project.tool == "mix":
        common += [".elixir_ls/", ".lexical/", "cover/", "doc/", "tmp/", "assets/node_modules/"]
    else:
        common += ["_checkouts/", "log/", "logs/", "ct_logs/", "doc/", ".rebar3/"]
    return "\n".join(common) + "\n"
