"""`beamkube build [--push]`: build the project's Dockerfile with buildah, podman or docker, whichever is there.

Role: `plan_build` is pure (which tool, which commands, which image reference); `image_tag` reads git;
`run_build` runs the commands (process I/O). The reference is printed alone on stdout, so
`beamkube deploy --image "$(beamkube build --push)"` works. Facts behind the choices:
- buildah and podman build without a daemon (CI runners and these machines have no docker daemon); both honour
  `BUILDAH_ISOLATION` (`chroot` where the builder itself runs in a container) and read registry credentials
  from `containers-auth.json`, falling back to `~/.docker/config.json` (where `docker/login-action` writes);
- the tag is the git commit (12 hex digits, `-dirty` with uncommitted changes) in a git work tree, else the
  release version, unless `--tag` names one: a tag per commit is what rollback and `ci github` rely on.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beamkube.errors import BeamkubeError, UsageError

TOOLS = ("buildah", "podman", "docker")
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"


class BuildFailed(BeamkubeError):
    """The build tool ran and failed (its own output, above, says why)."""


@dataclass(frozen=True)
class BuildPlan:
    tool: str
    reference: str
    commands: tuple[tuple[str, ...], ...]
    digest_file: Path | None = None


def find_tool(preferred: str | None, which: Callable[[str], str | None] = shutil.which) -> tuple[str, str]:
    """(name, path) of the build tool: `preferred`, else the first of buildah, podman, docker on PATH."""
    candidates = (preferred,) if preferred else TOOLS
    if preferred and preferred not in TOOLS:
        raise UsageError(f"--tool {preferred!r}: expected one of {', '.join(TOOLS)}")
    for name in candidates:
        path = which(name)
        if path:
            return name, path
    raise UsageError(
        f"no image build tool found ({' or '.join(candidates)}); install buildah or podman "
        "(Debian: apt-get install buildah podman) or pass --tool"
    )


def image_tag(project_dir: Path, version: str | None) -> str:
    """The commit (12 digits, `-dirty` when the work tree has changes), else the release version."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        if sha.returncode == 0 and sha.stdout.strip():
            status = subprocess.run(
                ["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=20,
            )  # fmt: skip
            return sha.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    if version:
        return version
    raise UsageError(f"{project_dir}: not a git work tree and no release version found; pass --tag")


def plan_build(
    tool: tuple[str, str],
    repository: str,
    tag: str,
    *,
    dockerfile: Path,
    context: Path,
    build_args: list[str],
    push: bool,
    digest_file: Path | None = None,
) -> BuildPlan:
    import re

    if not re.fullmatch(TAG, tag):
        raise UsageError(f"--tag {tag!r}: a tag is letters, digits, '_', '.', '-' (at most 128, no leading '.'/'-')")
    for arg in build_args:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg):
            raise UsageError(f"--build-arg {arg!r}: expected NAME=VALUE")
    name, path = tool
    reference = f"{repository}:{tag}"
    # buildah caches no layers unless asked (podman and docker do by default): without it, the Dockerfile's
    # dependency-first layer order would save nothing.
    verb = ["bud", "--layers"] if name == "buildah" else ["build"]
    build: list[str] = [path, *verb, "-t", reference, "-f", str(dockerfile)]
    for arg in build_args:
        build += ["--build-arg", arg]
    build.append(str(context))
    commands: list[tuple[str, ...]] = [tuple(build)]
    if push:
        if name == "docker":
            commands.append((path, "push", reference))
        else:
            commands.append((path, "push", *(("--digestfile", str(digest_file)) if digest_file else ()), reference))
    return BuildPlan(name, reference, tuple(commands), digest_file if push and name != "docker" else None)


def run_build(plan: BuildPlan, echo: Callable[[str], None]) -> str:
    """Run the plan's commands (their output goes to stderr); returns the reference, with the pushed digest
    when the tool reports one."""
    import sys

    for command in plan.commands:
        echo(f"$ {' '.join(command)}")
        result = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr)
        if result.returncode != 0:
            raise BuildFailed(f"{plan.tool} {command[1]} failed with exit code {result.returncode} (output above)")
    if plan.digest_file is not None and plan.digest_file.is_file():
        digest = plan.digest_file.read_text().strip()
        if digest.startswith("sha256:"):
            return f"{plan.reference}@{digest}"
    return plan.reference
