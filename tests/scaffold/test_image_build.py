"""A real image build: the generated Dockerfile of a mix and of a rebar3 fixture, built by `beamkube build`
with buildah from locally made base images (tests/scaffold/images.py), then run with podman the way the
rendered Deployment runs it: read-only root, uid/gid 65534, all capabilities dropped, no privilege
escalation, the rendered env (resolved as the kubelet would), the ConfigMap read-only at its mountPath and an
emptyDir-like tmpfs at /tmp, in a network namespace of its own (a pod). A peer node in another namespace must
reach it on its web port and as a distributed node, and find it running as 65534 on a read-only filesystem.

What this leaves unchecked: hex.pm is unreachable, so the fixtures have no hex dependencies and the
`mix local.hex`/`local.rebar`/`deps.get` network steps of projects that have some never run here; the
hexpm/* builder images are stand-ins made from Debian's Erlang 25/Elixir 1.14 (see images.py); rebar3 is
fetched by the Dockerfile's ADD from a loopback HTTP server serving Debian's rebar3 instead of GitHub; docker
(no daemon here) is not exercised; the Dockerfile's apt-get steps do run, against Debian's mirror.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.beam import PodFacts, resolve_env
from tests.support.ci import in_ci
from tests.support.netns import PodNetwork
from tests.support.releases import FIXTURES

from .images import DEBIAN_ELIXIR, DEBIAN_OTP, PODMAN, BaseImages, make_base_images

pytestmark = [pytest.mark.slow, pytest.mark.netns, pytest.mark.erlang, pytest.mark.timeout(900)]

NEEDED = ("buildah", "podman", "mmdebstrap", "/usr/sbin/runc", "ip", "erl")
DEBIAN = "bookworm-20250224-slim"


def require_machine() -> None:
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    problem = "needs root" if os.geteuid() != 0 else (f"missing {', '.join(missing)}" if missing else "")
    if problem:
        if in_ci():
            pytest.fail(
                f"image build test {problem} (scripts/install-system installs buildah, podman, runc, mmdebstrap)"
            )
        pytest.skip(problem)


@pytest.fixture(scope="module")
def base_images() -> BaseImages:
    require_machine()
    return make_base_images(DEBIAN)


@pytest.fixture(scope="module")
def rebar3_server() -> Iterator[str]:
    """Debian's rebar3 over loopback HTTP, standing in for the GitHub release the Dockerfile's ADD fetches."""
    rebar3 = Path("/usr/bin/rebar3").resolve()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(rebar3.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{rebar3.name}"
    server.shutdown()


def beamkube(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "beamkube.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=900,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert result.returncode == 0, f"beamkube {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return result


def netns_run(netns: str, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, *command], capture_output=True, text=True, timeout=timeout)


HTTP_GET = "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=2).read().decode(),end='')"
PEER_CHECK = """
erlang:set_cookie(node(), list_to_atom(os:getenv("BK_COOKIE"))),
Target = list_to_atom(os:getenv("BK_TARGET")),
Ping = fun Retry(0) -> pang;
           Retry(N) -> case net_adm:ping(Target) of pong -> pong; pang -> timer:sleep(500), Retry(N - 1) end
       end,
Pong = Ping(20),
Uid = rpc:call(Target, os, cmd, ["id -u"]),
Write = rpc:call(Target, file, write_file, ["/app/probe", <<"x">>]),
Tmp = rpc:call(Target, file, write_file, ["/tmp/probe", <<"x">>]),
io:format("~p|~p|~p|~p~n", [Pong, Uid, Write, Tmp]),
halt().
"""


def rendered(spec: Path, cwd: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(beamkube("render", str(spec), "-o", "json", "-q", cwd=cwd).stdout)["items"]
    return items


@pytest.mark.parametrize("fixture", ["image_mix", "image_rebar"])
def test_the_generated_dockerfile_builds_and_the_image_runs_as_the_rendered_pod(
    fixture: str, base_images: BaseImages, rebar3_server: str, tmp_path: Path
) -> None:
    project = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, project, ignore=shutil.ignore_patterns("_build", "deps"))
    spec_path = project / "beamkube.yaml"
    beamkube(
        "dockerfile", str(spec_path), "--elixir", DEBIAN_ELIXIR, "--otp", DEBIAN_OTP, "--debian", DEBIAN, cwd=project
    )
    dockerfile = (project / "Dockerfile").read_text()
    assert "local.hex" not in dockerfile and "local.rebar" not in dockerfile  # no hex deps: offline build
    started = time.monotonic()
    build = beamkube(
        "build", str(spec_path), "--tool", "buildah", "--build-arg", f"REBAR3_URL={rebar3_server}",
        cwd=project, env={"BUILDAH_ISOLATION": "chroot"},
    )  # fmt: skip
    build_seconds = time.monotonic() - started
    objects = rendered(spec_path, project)
    workload = next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))
    pod_spec = workload["spec"]["template"]["spec"]
    (container,) = pod_spec["containers"]
    version = "0.2.0" if fixture == "image_mix" else "0.4.0"
    # Not a git work tree: the tag is the release version; the reference alone is on stdout.
    reference = build.stdout.strip()
    assert reference == f"{container['image'].rsplit(':', 1)[0]}:{version}" == container["image"], build.stderr
    image_user = subprocess.run([*PODMAN, "image", "inspect", "--format", "{{ .Config.User }}", reference],
                                capture_output=True, text=True, timeout=60).stdout.strip()  # fmt: skip
    assert image_user == f"{pod_spec['securityContext']['runAsUser']}:{pod_spec['securityContext']['runAsGroup']}"

    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    mounts: list[str] = []
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            mounts += ["--tmpfs", f"{mount['mountPath']}:rw,mode=1777"]
        else:
            host = tmp_path / f"cm-{mount['name']}"
            host.mkdir()
            for item in volume["configMap"]["items"]:
                (host / item["path"]).write_text(config_maps[volume["configMap"]["name"]][item["key"]])
            assert mount["readOnly"] is True
            mounts += ["-v", f"{host}:{mount['mountPath']}:ro"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
    namespace = workload["metadata"]["namespace"]
    search = [f"{namespace}.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    cookie = secrets.token_urlsafe(24)
    name = f"bk-{fixture.replace('_', '-')}-{os.getpid()}"
    with PodNetwork(search=search) as network:
        pod_name = f"{workload['metadata']['name']}-7d4b9c-x2x7q"
        pod = network.add_pod(pod_name, hostname=pod_name)
        peer = network.add_pod("peer")
        env = resolve_env(
            container, PodFacts(name=pod_name, namespace=namespace, ip=pod.ipv4),
            {o_name: {"cookie": cookie} for o_name in [next(
                e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if e["name"] == "RELEASE_COOKIE"
            )]}, config_maps,
        )  # fmt: skip
        env_file = tmp_path / "env"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        run = subprocess.run(
            [*PODMAN, "run", "-d", "--rm", "--name", name, "--network", f"ns:/run/netns/{pod.netns}",
             "--hostname", pod_name, "--read-only", "--read-only-tmpfs=false",
             "--user", f"{pod_spec['securityContext']['runAsUser']}:{pod_spec['securityContext']['runAsGroup']}",
             "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--env-file", str(env_file), *mounts,
             "--entrypoint", json.dumps(container["command"]), reference],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        try:
            port = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")
            url = f"http://{pod.ipv4}:{port}/"
            answer = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                probe = netns_run(peer.netns, sys.executable, "-c", HTTP_GET, url, timeout=10)
                if probe.returncode == 0:
                    answer = probe.stdout
                    break
                time.sleep(0.5)
            logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True, timeout=30)
            context = f"{logs.stdout[-3000:]}\n{logs.stderr[-3000:]}"
            release = fixture
            node = env["RELEASE_NODE"]
            assert node == f"{release}@{pod.ipv4}", node
            assert answer == f"{release} {node}\n", context
            check = subprocess.run(
                ["ip", "netns", "exec", peer.netns, "erl", "-name", f"peer@{peer.ipv4}", "-noshell",
                 "-setcookie", "placeholder", "-eval", PEER_CHECK],
                capture_output=True, text=True, timeout=60, cwd=tmp_path,
                env={**os.environ, "BK_COOKIE": cookie, "BK_TARGET": node, "ERL_CRASH_DUMP": str(tmp_path / "dump")},
            )  # fmt: skip
            answer_line = (check.stdout.strip().splitlines() or [""])[-1]
            assert answer_line.count("|") == 3, (check.stdout, check.stderr, context)
            pong, uid, write, tmp = answer_line.split("|")
            assert pong == "pong", (check.stdout, check.stderr, context)
            assert uid == f'"{pod_spec["securityContext"]["runAsUser"]}\\n"', uid
            assert write == "{error,erofs}"  # the image's release is on a read-only root
            assert tmp == "ok"  # the emptyDir is the one writable place
        finally:
            subprocess.run([*PODMAN, "rm", "-f", "-t", "5", name], capture_output=True, timeout=60)
            subprocess.run([*PODMAN, "rmi", reference], capture_output=True, timeout=60)  # bases are kept
    print(f"{fixture}: base images {base_images.seconds_made:.0f}s, build {build_seconds:.0f}s")


def test_podman_builds_with_the_command_beamkube_plans(base_images: BaseImages, tmp_path: Path) -> None:
    """The podman path of `beamkube build` (the other daemonless tool) on a one-step Dockerfile."""
    project = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "image_mix", project, ignore=shutil.ignore_patterns("_build", "deps"))
    (project / "Dockerfile").write_text(f"FROM {base_images.runtime}\nRUN test -x /bin/sh && echo built > /marker\n")
    build = beamkube("build", str(project / "beamkube.yaml"), "--tool", "podman", "--tag", "podman-check",
                     cwd=project, env={"BUILDAH_ISOLATION": "chroot"})  # fmt: skip
    reference = build.stdout.strip()
    assert reference == "localhost/beamkube-test/image-mix:podman-check" and "podman build" in build.stderr
    try:
        marker = subprocess.run([*PODMAN, "run", "--rm", "--network", "none", reference, "cat", "/marker"],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert marker.stdout == "built\n", marker.stderr
    finally:
        subprocess.run([*PODMAN, "rmi", reference], capture_output=True, timeout=60)
