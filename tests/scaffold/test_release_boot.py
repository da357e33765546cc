"""Real releases prove what the Dockerfile and the manifests assume.

Each fixture is built by replaying the generated Dockerfile's builder stage with Debian's Elixir and rebar3
(`tests/support/releases.py`, once per session). The release it leaves where `COPY --from=builder` looks is
then started with the rendered container's command, env (resolved as the kubelet would, from `beamkube render`
output) and volumes: read-only release at `release.root`, read-only root, the ConfigMap read-only at its
mountPath, only the emptyDir writable, as the rendered numeric user. The node must answer, carry the rendered
node name and vm.args settings, write nothing outside the emptyDir, be the process the runtime started (so
it gets SIGTERM itself) and exit 0 on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from beamkube.scaffold.detect import Project, detect, read_project
from beamkube.scaffold.dockerfile import BUILD_DIR, build_plan, choose_versions, dockerfile
from beamkube.scaffold.spec_file import spec_yaml
from beamkube.spec import load_spec_text
from beamkube.spec.model import AppSpec
from tests.support.beam import PodFacts, resolve_env
from tests.support.ci import in_ci
from tests.support.releases import FIXTURES, PodRun, build_release, rendered_container, run_pod

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.slow]

TOOLS = ("erl", "mix", "rebar3", "unshare", "setpriv", "chroot", "ip", "hostname")
POD_IP = "10.200.41.7"


def require_machine() -> None:
    """Root and the Debian toolchain; CI has both, so CI fails rather than skips."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    problem = "needs root" if os.geteuid() != 0 else (f"missing {', '.join(missing)}" if missing else "")
    if problem:
        if in_ci():
            pytest.fail(f"release boot tests {problem} (scripts/install-system installs the toolchain)")
        pytest.skip(problem)


def prepare(fixture: str, scratch: Path, extra: str = "") -> tuple[Project, AppSpec, str, Path]:
    project = detect(read_project(FIXTURES / fixture))
    text = spec_yaml(project) + extra
    spec = load_spec_text(text)
    versions, _ = choose_versions(project)
    release = build_release(FIXTURES / fixture, project, build_plan(project, versions), scratch)
    return project, spec, text, release


@pytest.mark.parametrize("fixture", ["mix_app", "rebar_app"])
def test_the_builder_stage_leaves_a_self_contained_release_where_the_image_copies_it(
    fixture: str, scratch: Path
) -> None:
    require_machine()
    project, spec, _, release = prepare(fixture, scratch)
    versions, _ = choose_versions(project)
    copy = next(line for line in dockerfile(spec, project, versions).splitlines() if line.startswith("COPY --from"))
    source, dest = copy.split()[1:][1:]
    assert source == f"{BUILD_DIR}/{build_plan(project, versions).release_dir}" and dest == spec.release.root
    script = release / "bin" / spec.release_name
    assert script.is_file() and os.access(script, os.X_OK)
    assert list(release.glob("erts-*/bin/beam.smp")), "erts is bundled: the runtime image has no Erlang"
    assert list(release.glob("releases/*/start.boot"))
    # No symlink may point back into the build tree (relx dev_mode would): COPY would ship dangling links.
    links = [p for p in release.rglob("*") if p.is_symlink()]
    assert links == []


def render_json(spec_text: str, where: Path) -> list[dict[str, Any]]:
    path = where / "beamkube.yaml"
    path.write_text(spec_text)
    result = subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", "render", str(path), "-o", "json", "-q"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


NODE_QUERY = {
    "mix": """"$script" rpc 'IO.puts("#{node()}|#{:net_kernel.get_net_ticktime()}|"""
    """#{is_pid(Process.whereis(:beamkube_discovery))}")'""",
    "relx": """"$script" eval '{node(), net_kernel:get_net_ticktime(), is_pid(whereis(beamkube_discovery))}.'""",
}


def parse_query(flavour: str, text: str) -> tuple[str, int, bool]:
    if flavour == "mix":
        match = re.fullmatch(r"([^|]+)\|(\d+)\|(true|false)", text)
    else:
        match = re.fullmatch(r"\{'([^']+)',(\d+),(true|false)\}", text)
    assert match, f"unexpected answer {text!r}"
    return match.group(1), int(match.group(2)), match.group(3) == "true"


CASES = {
    "mix-stateless": ("mix_app", ""),
    "mix-stable": ("mix_app", "identity: stable\n"),
    "relx-stateless": ("rebar_app", ""),
    "relx-stable": ("rebar_app", "identity: stable\n"),
}


def launch(
    spec: AppSpec,
    objects: list[dict[str, Any]],
    pod_spec: dict[str, Any],
    container: dict[str, Any],
    release: Path,
    where: Path,
    *,
    one_shot: bool = False,
) -> tuple[PodRun, dict[str, str], str]:
    """Start `container` of `pod_spec` (from `beamkube render`) the way the kubelet would."""
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    config_mounts: dict[str, Path] = {}
    tmpfs: list[str] = []
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            tmpfs.append(mount["mountPath"])
        elif "configMap" in volume:
            assert mount.get("readOnly") is True
            host = where / f"cm-{mount['name']}"
            host.mkdir()
            data = config_maps[volume["configMap"]["name"]]
            for item in volume["configMap"]["items"]:
                (host / item["path"]).write_text(data[item["key"]])
            config_mounts[mount["mountPath"]] = host
        else:
            raise AssertionError(f"unexpected volume {volume}")
    stable = spec.identity.value == "stable"
    pod_name = f"{spec.name}-0" if stable else f"{spec.name}-5d8c7b9f4-x2x7q"
    fqdn = f"{pod_name}.{spec.name}-headless.{spec.namespace}.svc.{spec.clusterDomain}"
    cookie = secrets.token_urlsafe(24)  # never printed
    env = resolve_env(
        container,
        PodFacts(name=pod_name, namespace=spec.namespace, ip=POD_IP),
        {spec.cookie_secret_name: {spec.cluster.cookieKey: cookie}},
        config_maps,
    )
    security = pod_spec["securityContext"]
    run = run_pod(
        release=release,
        release_root=spec.release.root,
        command=list(container["command"]),
        env=env,
        uid=security["runAsUser"],
        gid=security["runAsGroup"],
        config_mounts=config_mounts,
        tmpfs_mounts=tmpfs,
        pod_ip=POD_IP,
        hostname=pod_name,
        hosts={POD_IP: f"{fqdn} {pod_name}"},
        node_query=NODE_QUERY[spec.release.flavour.value],
        scratch=where,
        one_shot=one_shot,
    )
    return run, env, fqdn


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_release_starts_read_only_with_the_rendered_environment(case: str, scratch: Path, tmp_path: Path) -> None:
    require_machine()
    fixture, extra = CASES[case]
    _, spec, text, release = prepare(fixture, scratch, extra)
    objects = render_json(text, tmp_path)
    pod_spec, container = rendered_container(objects)
    run, env, fqdn = launch(spec, objects, pod_spec, container, release, tmp_path)
    stable = spec.identity.value == "stable"
    security = pod_spec["securityContext"]
    facts = run.facts
    context = f"{case}: {facts}\n{run.output[-4000:]}"
    # The process the container runtime starts becomes beam.smp (exec all the way down), so SIGTERM reaches
    # the BEAM itself: no tini needed.
    assert facts.get("comm") == "beam.smp", context
    assert facts.get("pid") and facts["pid"] == facts["started"], context
    node, ticktime, discovery_loop = parse_query(spec.release.flavour.value, facts["query"])
    assert node == env["RELEASE_NODE"] == (fqdn_node := f"{spec.release_name}@{fqdn if stable else POD_IP}"), (
        context,
        fqdn_node,
    )
    assert ticktime == spec.cluster.netTicktime, context  # our vm.args was used, not the release's own
    assert discovery_loop, context  # and its -eval line ran
    assert facts["uid"] == f"{security['runAsUser']}:{security['runAsGroup']}"
    assert (facts["writable_root"], facts["writable_release"]) == ("no", "no")
    written = facts["written"].split()
    if spec.release.flavour.value == "relx":
        assert written == ["./vm.args"], context  # RELX_OUT_FILE_PATH=/tmp: the substituted vm.args only
    else:
        # RELEASE_TMP (/tmp/release) and, at times, an .erlang.cookie in HOME (/tmp) from an auxiliary VM.
        allowed = ("./release", "./.erlang.cookie")
        assert all(path in allowed or path.startswith("./release/") for path in written), context
    assert facts["exit"] == "0", context  # SIGTERM → init:stop() → clean exit
    print(f"{case}: answered {facts['boot_ms']} ms after start; whole run {run.seconds:.1f} s")


def test_the_migration_job_evals_in_a_fresh_read_only_pod(scratch: Path, tmp_path: Path) -> None:
    """A mix Job (`bin/<release> eval`, RELEASE_DISTRIBUTION=none) runs with the same vm.args, read-only."""
    require_machine()
    job = '\njobs:\n  - {name: migrate, eval: "IO.puts(:beamkube_job_ran); System.halt(0)"}\n'
    _, spec, text, release = prepare("mix_app", scratch, job)
    objects = render_json(text, tmp_path)
    [job_object] = [o for o in objects if o["kind"] == "Job"]
    pod_spec = job_object["spec"]["template"]["spec"]
    [container] = pod_spec["containers"]
    run, env, _ = launch(spec, objects, pod_spec, container, release, tmp_path, one_shot=True)
    assert env["RELEASE_DISTRIBUTION"] == "none"
    assert run.facts.get("exit") == "0", run.output
    assert "beamkube_job_ran" in run.output
    assert all(p == "./release" or p.startswith("./release/") for p in run.facts["written"].split()), run.output
