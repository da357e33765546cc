"""The rendered vm.args as erlexec reads it: every flavour and discovery boots, and the VM receives exactly the
discovery expression and peer list beamkube generated (quotes included).

Role: integration tests running `erl` (no network namespaces: the node is not distributed here).
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from beamkube.render.beam import vm_args
from beamkube.render.names import Names
from beamkube.spec.model import AppSpec

pytestmark = pytest.mark.erlang

CASES = [
    ("mix", "stateless", "dns"),
    ("mix", "stable", "dnssrv"),
    ("relx", "stable", "static"),
    ("distillery", "stable", "dnssrv"),
    ("mix", "stateless", "dns-ipv6"),
]

# init runs the vm.args `-eval`s in order before ours: by then the discovery loop must be registered and
# sleeping between rounds (erlexec kept its quotes, or the expression would not even parse).
PROBE = (
    "timer:sleep(200),P=whereis(beamkube_discovery),"
    'io:format("~p~n~p~n~p~n",[is_pid(P)andalso process_info(P,status),'
    "application:get_env(kernel,net_ticktime),application:get_env(kernel,sync_nodes_optional,[])]),halt()."
)


@pytest.mark.parametrize(("flavour", "identity", "discovery"), CASES)
def test_erl_reads_the_rendered_vm_args_verbatim(
    flavour: str, identity: str, discovery: str, tmp_path: Path, erl_ok: None
) -> None:
    ipv6 = discovery.endswith("-ipv6")
    spec = AppSpec.model_validate(
        {"name": "app", "image": "x:1", "identity": identity, "release": {"flavour": flavour},
         "cluster": {"discovery": discovery.removesuffix("-ipv6"), "netTicktime": 7, "pollIntervalMs": 60000,
                     "ipFamily": "ipv6" if ipv6 else "ipv4"}}
    )  # fmt: skip
    names = Names.of(spec)
    # Not distributed here: drop relx/Distillery's -name/-setcookie lines (their ${VAR}s need a start script).
    text = "\n".join(
        line for line in vm_args(spec, names).splitlines() if not line.startswith(("-name", "-setcookie"))
    )
    path = tmp_path / "vm.args"
    path.write_text(text + "\n")
    result = subprocess.run(
        # sync_nodes_timeout 1 (ms) after the file: a lone static node would otherwise wait 10 s for its peers.
        ["erl", "-noshell", "-noinput", "-args_file", str(path), "-kernel", "sync_nodes_timeout", "1",
         "-eval", PROBE],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    loop, ticktime, peers = result.stdout.split("\n", 2)
    assert loop == "{status,waiting}"
    assert ticktime == "{ok,7}"
    expected = [names.stable_node(i) for i in range(spec.max_replicas)] if discovery == "static" else []
    assert ast.literal_eval(peers.strip().replace("'", '"')) == expected
