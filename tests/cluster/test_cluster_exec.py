"""`kube.exec` (websocket exec, `v5.channel.k8s.io`) against the API double's exec endpoint, and the pure
parts of `status --mesh`.

Role: integration tests over HTTP on 127.0.0.1 (the double, tests/support/podexec.py, running the command
as a local process) plus unit tests. The channel protocol and Status shapes are the API server's
(staging/src/k8s.io/apimachinery/pkg/util/remotecommand, kubelet's NonZeroExitCode status); the double
refuses what a real server refuses (unknown pod 404, unknown container 400).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from beamkube.kube.config import Target, resolve
from beamkube.kube.errors import KubeError
from beamkube.kube.exec import ExecResult, exec_command, exec_url
from beamkube.ops.mesh import PodView, analyse, format_report, parse_probe, probe_expression
from beamkube.spec.model import AppSpec
from tests.support.apidouble import Running, serve
from tests.support.podexec import Started, serve_exec, spawn


def local_runner(namespace: str, pod: str, container: str, argv: Sequence[str], stdin: bool, tty: bool) -> Started:
    return spawn(argv, stdin=stdin, tty=tty)


@pytest.fixture
def double(tmp_path: Path) -> Iterator[Running]:
    with serve(tmp_path, controller=False) as running:
        serve_exec(running.api, local_runner)
        running.api.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app-0", "namespace": "default"},
                         "spec": {"containers": [{"name": "beam", "image": "x:1"}]}, "status": {"phase": "Running"}})
        yield running


def run(running: Running, argv: list[str], **options: object) -> ExecResult:
    resolved = resolve(Target(kubeconfig=running.kubeconfig))
    return asyncio.run(exec_command(resolved, running.url, "default", "app-0", argv, **options))  # type: ignore[arg-type]


def test_exit_codes_output_and_stderr(double: Running) -> None:
    ok = run(double, ["sh", "-c", "echo out; echo err >&2"], container="beam")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, b"out\n", b"err\n")
    failed = run(double, ["sh", "-c", "exit 7"])
    assert failed.exit_code == 7 and "non-zero exit code" in failed.message


def test_stdin_reaches_the_command_and_is_closed(double: Running) -> None:
    async def feed() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    result = run(double, ["cat"], stdin=feed())
    assert result.stdout == b"hello world"


def test_refusals_are_one_line_errors(double: Running) -> None:
    resolved = resolve(Target(kubeconfig=double.kubeconfig))
    with pytest.raises(KubeError, match=r'HTTP 404 .*pods \\"nope\\" not found'):
        asyncio.run(exec_command(resolved, double.url, "default", "nope", ["true"]))
    with pytest.raises(KubeError, match=r"HTTP 400 .*container other is not valid for pod app-0"):
        run(double, ["true"], container="other")


def test_url_repeats_command_and_switches_scheme() -> None:
    url = exec_url("https://api:6443/", "ns", "p-0", ["bin/app", "rpc", "IO.puts(1 + 1)"], container="beam",
                   stdin=False, tty=False)  # fmt: skip
    assert url.startswith("wss://api:6443/api/v1/namespaces/ns/pods/p-0/exec?command=bin%2Fapp&command=rpc&")
    assert "command=IO.puts%281+%2B+1%29" in url and "container=beam" in url


def test_mesh_analysis_finds_partitions_foreign_and_dns_gaps() -> None:
    views = [
        PodView("a", "app@10.0.0.1", {"app@10.0.0.2"}),
        PodView("b", "app@10.0.0.2", {"app@10.0.0.1", "app@10.9.9.9"}),
        PodView("c", "app@10.0.0.3", set()),
        PodView("d", "app@10.0.0.4", None, "exec failed"),
    ]
    report = analyse(views, {"10.0.0.1", "10.0.0.2", "10.0.0.3"})
    assert report.partitions == [["app@10.0.0.1", "app@10.0.0.2"], ["app@10.0.0.3"], ["app@10.0.0.4"]]
    assert report.split and report.exit_code == 1
    assert report.foreign == ["app@10.9.9.9"] and report.not_in_dns == ["app@10.0.0.4"]
    assert report.unreachable == ["d"]
    text = format_report(report)
    assert "SPLIT into 3 partitions" in text and "could not ask: d" in text
    whole = analyse(views[:2], {"10.0.0.1", "10.0.0.2"})
    assert not whole.split and "whole: 2 nodes" in format_report(whole)


def test_probe_expressions_and_parsing() -> None:
    mix = AppSpec.model_validate({"name": "a", "image": "x:1"})
    relx = AppSpec.model_validate({"name": "a", "image": "x:1", "release": {"flavour": "relx"}})
    assert probe_expression(mix).startswith("IO.puts(") and "Node.list()" in probe_expression(mix)
    assert "nodes()" in probe_expression(relx)
    assert parse_probe("noise\nbeamkube-mesh a@h b@h c@h\n") == ("a@h", {"b@h", "c@h"})
    assert parse_probe('"beamkube-mesh a@h"\n') == ("a@h", set())  # relx prints the value as a string term
    assert parse_probe("no marker") is None


def test_tty_gives_the_command_a_terminal_and_streams_stdin(double: Running) -> None:
    async def feed() -> AsyncIterator[bytes]:
        yield b"echo typed-$((6*7))\n"
        await asyncio.sleep(0.3)
        yield b"exit 3\n"

    result = run(double, ["sh", "-c", "test -t 0 && echo has-a-tty; exec sh"], stdin=feed(), tty=True, size=(80, 24))
    assert b"has-a-tty" in result.stdout and b"typed-42" in result.stdout
    assert result.exit_code == 3
