"""`beamkube status --mesh`, `beamkube rpc` and `beamkube remote` on a live cluster of real release nodes.

Role: integration tests (root, network namespaces, a real `mix release`, the API double on 127.0.0.1, the
beamkube console script as a subprocess). The pods are mirrored into the double as Pod objects; the
endpoints controller makes their EndpointSlices; the double's exec endpoint (tests/support/podexec.py)
runs each command inside the matching pod's network namespace with the pod's env, as a kubelet would.
The answers come from the BEAM itself (`node()`, `Node.list()` through the release's rpc).
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import FAST, _unavailable, rendered
from tests.support.apidouble import ApiFailure, Running, serve
from tests.support.beam import Cluster, Pod, RenderedApp, build_relx_release, running_cluster, wait_for
from tests.support.endpoints import EndpointsController
from tests.support.kubeapi import pod_object, pod_runner
from tests.support.podexec import serve_exec

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(150)]

SPEC: dict[str, Any] = {
    "name": "mixapp", "namespace": "shop", "image": "x/mixapp:1", "replicas": 3,
    "release": {"flavour": "mix", "name": "mix_app"}, "cluster": {**FAST},
}  # fmt: skip


@dataclass
class Live:
    cluster: Cluster
    api: Running
    spec_file: Path
    execs: list[dict[str, Any]]

    def beamkube(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(self.api.kubeconfig)}
        return subprocess.run([sys.executable, "-m", "beamkube.cli.main", *args], input=stdin, capture_output=True,
                              text=True, timeout=120, env=env)  # fmt: skip


    def remote_in_a_terminal(self, pod: str, line: str, expect: str, timeout: float = 30.0) -> str:
        """`beamkube remote POD` on a pseudo-terminal (so it asks for a TTY, as from a shell): wait for the
        IEx prompt, type `line`, wait for `expect` (text of its output that the echoed line does not contain:
        waiting for a prefix the echo also shows returned before the output under load), leave with Ctrl+G `q`
        (quits the local shell VM only). Returns what the terminal showed."""
        env = {**os.environ, "KUBECONFIG": str(self.api.kubeconfig), "TERM": "dumb"}
        master, slave = pty.openpty()
        argv = [sys.executable, "-m", "beamkube.cli.main", "remote", pod, "-f", str(self.spec_file)]
        process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        screen = bytearray()

        def read_until(text: bytes) -> None:
            deadline = time.monotonic() + timeout
            while text not in screen:
                ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise AssertionError(f"no {text!r} on the terminal: {screen.decode(errors='replace')}")
                try:
                    screen.extend(os.read(master, 4096))
                except OSError:
                    raise AssertionError(f"terminal closed: {screen.decode(errors='replace')}") from None

        try:
            read_until(b"iex(")
            os.write(master, line.encode() + b"\r")
            read_until(expect.encode())
            os.write(master, b"\x07")  # Ctrl+G: the shell's job control ...
            read_until(b"-->")
            os.write(master, b"q\r")  # ... q quits the local remote-shell VM, not the pod's node
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
        return screen.decode(errors="replace")


@contextlib.contextmanager
def live_cluster(app: RenderedApp, tmp_path: Path, release: Path, spec: dict[str, Any]) -> Iterator[Live]:
    spec_file = tmp_path / "beamkube.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    with serve(tmp_path, controller=False) as running, EndpointsController(running.api):
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": app.namespace}})
        for obj in app.objects:
            if obj["kind"] == "Service":
                running.api.put(obj)
        store = running.api.store

        def mirror(pod: Pod, alive: bool) -> None:
            if alive:
                running.api.put(pod_object(app, pod.name, pod.net.ipv4))
            else:
                with contextlib.suppress(ApiFailure):
                    store.delete(store.rdef("", "pods"), app.namespace, pod.name)

        with running_cluster(app, mode="release", release_dir=release, pod_hook=mirror) as cluster:
            execs = serve_exec(running.api, pod_runner(cluster))
            yield Live(cluster, running, spec_file, execs)


def test_mesh_status_rpc_and_remote_on_a_healthy_then_partitioned_cluster(
    netns_ok: None, mix_release: Path, tmp_path: Path
) -> None:
    app = rendered(SPEC)
    with live_cluster(app, tmp_path, mix_release, SPEC) as live:
        cluster = live.cluster
        pods = cluster.start_pods(app.pod_name(i) for i in range(3))
        cluster.wait_mesh(timeout=30)
        spec = str(live.spec_file)

        healthy = live.beamkube("status", spec, "--mesh")
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "whole: 3 nodes, one partition" in healthy.stdout
        assert healthy.stdout.count(" x") == 6  # every node lists the two others
        assert "not in DNS" not in healthy.stdout
        assert {e["pod"] for e in live.execs} == {p.name for p in pods}

        everywhere = live.beamkube("rpc", "IO.puts(node())", "--all", "-f", spec)
        assert everywhere.returncode == 0, everywhere.stderr
        assert sorted(everywhere.stdout.splitlines()) == sorted(f"{p.name}: {p.node}" for p in pods)
        one = live.beamkube("rpc", "IO.puts(length(Node.list()))", "--pod", pods[1].name, "-f", spec)
        assert one.stdout.strip() == "2"
        missing = live.beamkube("rpc", "1", "--pod", "nope", "-f", spec)
        assert missing.returncode == 2 and missing.stderr.startswith("beamkube: pod nope is not a running pod")

        screen = live.remote_in_a_terminal(
            pods[0].name, 'IO.puts("remote-on " <> to_string(node()))', expect=f"remote-on {pods[0].node}"
        )
        assert f"remote-on {pods[0].node}" in screen, screen  # evaluated on the pod's node, not a local shell
        assert live.execs[-1]["tty"] is True

        cut = pods[2]
        cluster.partition(cut.name, connected=False)
        assert cluster.control is not None
        control, others = cluster.control, [p.node for p in pods[:2]]
        wait_for(lambda: all(cut.node not in (v or set()) for v in control.nodes(others).values()), 15)
        split = live.beamkube("status", spec, "--mesh")
        assert split.returncode == 1, split.stdout + split.stderr
        assert "SPLIT into 2 partitions" in split.stdout
        assert f"{{{cut.node}}}" in split.stdout
        as_json = live.beamkube("status", spec, "--mesh", "-o", "json")
        doc = json.loads(as_json.stdout)
        assert (as_json.returncode, doc["split"]) == (1, True)
        assert sorted(map(sorted, doc["partitions"])) == sorted([sorted(others), [cut.node]])
        print(healthy.stdout, split.stdout, sep="\n")


RELX: dict[str, Any] = {
    "name": "rebarapp", "namespace": "shop", "image": "x/rebarapp:1", "replicas": 3,
    "release": {"flavour": "relx", "name": "rebar_app"}, "cluster": {**FAST},
}  # fmt: skip


@pytest.fixture(scope="session")
def relx_release(netns_ok: None) -> Path:
    if shutil.which("rebar3") is None:
        _unavailable("rebar3 is not installed (scripts/install-system)")
    return build_relx_release()


def test_relx_release_mesh_status_and_eval(netns_ok: None, relx_release: Path, tmp_path: Path) -> None:
    """relx 3.19: `bin/<rel> foreground` boots from the rendered vm.args.src; `eval` (erl_call -e) answers
    the mesh probe and `beamkube rpc` with Erlang forms."""
    app = rendered(RELX)
    with live_cluster(app, tmp_path, relx_release, RELX) as live:
        pods = live.cluster.start_pods(app.pod_name(i) for i in range(3))
        live.cluster.wait_mesh(timeout=30)
        spec = str(live.spec_file)
        healthy = live.beamkube("status", spec, "--mesh")
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "whole: 3 nodes, one partition" in healthy.stdout
        answer = live.beamkube("rpc", "length(nodes())", "--pod", pods[0].name, "-f", spec)
        assert (answer.returncode, answer.stdout.strip()) == (0, "2"), answer.stdout + answer.stderr
