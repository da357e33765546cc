"""Network namespaces standing in for pods: a "switch" namespace with a bridge, one veth per pod.

Role: test support with system I/O (needs root and iproute2). Every name carries a prefix with this
process's pid (`bkt-<pid>-<random>`), so parallel runs never collide and `sweep_stale()` can remove what a
crashed run left behind. A pod namespace gets `lo` up, an address on the bridge's subnet (a new one every
time a pod is recreated, as Kubernetes does), `/etc/netns/<ns>/resolv.conf` pointing at the test DNS server
with the cluster's search path and `ndots:5`, and `/etc/netns/<ns>/hosts` with the pod's own name, as the
kubelet writes it. Cleanup kills every process left in a namespace (node, epmd) before deleting it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

PREFIX = "bkt"
NETNS_ETC = Path("/etc/netns")
NETNS_RUN = Path("/run/netns")
CLONE_NEWNET = 0x40000000
SUBNET_V4 = "10.200"
SUBNET_V6 = "fd00:200::"
GATEWAY_V4 = f"{SUBNET_V4}.0.1"
GATEWAY_V6 = f"{SUBNET_V6}1"

T = TypeVar("T")


class NetnsError(RuntimeError):
    """An `ip` command failed (the message carries its stderr)."""


def ip(*args: str, check: bool = True) -> str:
    """Run `ip ARGS`, returning stdout."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def namespace_pids(name: str) -> list[int]:
    out = ip("netns", "pids", name, check=False)
    return [int(word) for word in out.split() if word.isdigit()]


def kill_namespace(name: str) -> None:
    """SIGKILL every process in the namespace (what a node failure looks like), then delete it and its
    /etc/netns directory. Safe to call twice."""
    for _ in range(50):
        pids = namespace_pids(name)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    ip("netns", "delete", name, check=False)
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Remove namespaces, /etc/netns dirs and temp dirs left by test processes that no longer exist."""
    removed: list[str] = []
    names = {line.split()[0] for line in ip("netns", "list", check=False).splitlines() if line.strip()}
    if NETNS_ETC.is_dir():
        names |= {p.name for p in NETNS_ETC.iterdir()}
    for name in sorted(names):
        if _stale(name):
            kill_namespace(name)
            removed.append(name)
    for path in sorted(Path(tempfile.gettempdir()).glob(f"{PREFIX}-*")):  # the runs' pod dirs
        if path.is_dir() and _stale(path.name):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def _stale(name: str) -> bool:
    """`bkt-<pid>-...` whose pid is gone."""
    parts = name.split("-")
    return len(parts) >= 3 and parts[0] == PREFIX and parts[1].isdigit() and not _pid_alive(int(parts[1]))


def in_namespace(name: str, func: Callable[[], T]) -> T:
    """Run `func` on a fresh thread that has entered network namespace `name` (network namespaces are
    per thread on Linux, so the rest of the process is unaffected). Sockets it creates stay in there."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            fd = os.open(NETNS_RUN / name, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {name}")
            finally:
                os.close(fd)
            box["value"] = func()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"setns-{name}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


@dataclass
class PodNet:
    """One pod incarnation's network: its namespace, addresses and the switch-side veth end."""

    pod: str
    netns: str
    ipv4: str
    ipv6: str
    switch_port: str
    hostname: str | None
    alive: bool = True

    def ip_for(self, family: str) -> str:
        return self.ipv6 if family == "ipv6" else self.ipv4


@dataclass
class PodNetwork:
    """The bridge and every pod namespace of one test run. Use as a context manager."""

    search: list[str]
    prefix: str = field(default_factory=lambda: f"{PREFIX}-{os.getpid()}-{secrets.token_hex(2)}")
    pods: dict[str, PodNet] = field(default_factory=dict)
    _counter: int = 0
    _created: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def switch(self) -> str:
        return f"{self.prefix}-sw"

    def __enter__(self) -> PodNetwork:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        sweep_stale()
        ip("netns", "add", self.switch)
        self._created.append(self.switch)
        sw = self.switch
        batch = [
            "link set lo up",
            "link add br0 type bridge",
            f"addr add {GATEWAY_V4}/16 dev br0",
            f"addr add {GATEWAY_V6}/64 dev br0 nodad",
            "link set br0 up",
        ]
        for line in batch:
            ip("-n", sw, *line.split())

    def _next_index(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def add_pod(self, pod: str, *, hostname: str | None = None, fqdn: str | None = None) -> PodNet:
        """Create a namespace for (a new incarnation of) `pod` with a fresh address. `hostname` is the pod's
        hostname (StatefulSet pods) and `fqdn` its DNS name, written into the namespace's /etc/hosts."""
        index = self._next_index()
        host = 10 + index
        ipv4 = f"{SUBNET_V4}.{host // 250}.{host % 250 + 2}"
        ipv6 = f"{SUBNET_V6}{host:x}"
        netns = f"{self.prefix}-p{index}"
        port = f"v{index}"
        ip("netns", "add", netns)
        with self._lock:
            self._created.append(netns)
        etc = NETNS_ETC / netns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text(
            f"nameserver {GATEWAY_V4}\nsearch {' '.join(self.search)}\noptions ndots:5\n"
        )
        names = f"{fqdn} {hostname}" if fqdn and hostname else (hostname or pod)
        (etc / "hosts").write_text(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{ipv4}\t{names}\n{ipv6}\t{names}\n"
        )
        ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns)
        ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        for line in (
            "link set lo up",
            f"addr add {ipv4}/16 dev eth0",
            f"addr add {ipv6}/64 dev eth0 nodad",
            "link set eth0 up",
        ):
            ip("-n", netns, *line.split())
        net = PodNet(pod=pod, netns=netns, ipv4=ipv4, ipv6=ipv6, switch_port=port, hostname=hostname)
        with self._lock:
            self.pods[pod] = net
        return net

    def remove_pod(self, pod: str) -> None:
        """SIGKILL everything in the pod's namespace and delete it: no FIN reaches the peers, as when a
        Kubernetes node dies."""
        with self._lock:
            net = self.pods.pop(pod, None)
        if net is not None:
            net.alive = False
            # Cable first, then the processes: the kernel would otherwise send FIN/RST for the killed
            # node's sockets and the peers would learn of the death at once.
            ip("-n", self.switch, "link", "delete", net.switch_port, check=False)
            kill_namespace(net.netns)

    def set_link(self, pod: str, up: bool) -> None:
        """Unplug (or plug back) the pod's cable at the switch: a network partition."""
        ip("-n", self.switch, "link", "set", self.pods[pod].switch_port, "up" if up else "down")

    def close(self) -> None:
        with self._lock:
            created, self._created = list(reversed(self._created)), []
            self.pods.clear()
        for name in created:
            kill_namespace(name)


@contextlib.contextmanager
def pod_network(search: list[str]) -> Iterator[PodNetwork]:
    network = PodNetwork(search=search)
    try:
        network.start()
        yield network
    finally:
        network.close()
