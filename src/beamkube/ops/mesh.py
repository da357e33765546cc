"""`beamkube status --mesh`: ask every pod's node whom it is connected to, and say whether the cluster is whole.

Role: `collect` does network I/O (lists pods and the headless Service's EndpointSlices, then one exec per
pod running the release's rpc/eval); `probe_expression`, `parse_probe`, `analyse` and `format_report` are
pure. Each node answers `node()` and `nodes()` (Node.list() in Elixir) on one marked line; from the answers:
- the membership matrix (row: the node asked; column: whether it lists that node);
- the partitions: connected components of the "is connected to" graph over the pods' nodes;
- nodes not in DNS: pods whose node host (pod IP, or `<hostname>.<headless>`) is not among the headless
  Service's EndpointSlice endpoints, so peers resolving the Service cannot find them;
- foreign nodes: names some node is connected to that belong to no current pod (a stale or another app's).
Exit code 1 when the cluster is split or a node could not be asked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beamkube.kube.resources import ResourceType
from beamkube.ops.remote import Session, open_session, rpc_argv
from beamkube.ops.status import beam_node_name
from beamkube.render.names import Names
from beamkube.spec.model import AppSpec, Flavour

MARK = "beamkube-mesh"
ENDPOINT_SLICE = ResourceType("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True)
_LINE = re.compile(rf"{MARK} (\S+)((?: \S+)*)")


def probe_expression(spec: AppSpec) -> str:
    """One line `beamkube-mesh <node> <peer>...`: Elixir for mix/Distillery rpc, Erlang for relx eval (whose
    result is printed as a term, so the line is also the expression's value)."""
    if spec.release.flavour is Flavour.RELX:
        return (f'lists:flatten(["{MARK} ",atom_to_list(node())|[[" ",atom_to_list(N)]||N<-nodes()]])')
    return f'IO.puts(Enum.join(["{MARK}" | Enum.map([node() | Node.list()], &Atom.to_string/1)], " "))'


def parse_probe(output: str) -> tuple[str, set[str]] | None:
    """(node, peers) from a probe's output, or None when the marked line is missing."""
    for line in output.splitlines():
        match = _LINE.search(line.replace('"', " "))
        if match:
            return match.group(1), set(match.group(2).split())
    return None


@dataclass
class PodView:
    pod: str
    node: str  # from the pod's RELEASE_NODE (what it should be called)
    peers: set[str] | None  # None: the node could not be asked
    error: str = ""


@dataclass
class MeshReport:
    views: list[PodView]
    partitions: list[list[str]] = field(default_factory=list)
    not_in_dns: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return len(self.partitions) > 1

    @property
    def exit_code(self) -> int:
        return 1 if self.split or self.unreachable else 0

    def document(self) -> dict[str, Any]:
        """The report as JSON-ready data (`status --mesh -o json`)."""
        nodes = []
        for v in self.views:
            item: dict[str, Any] = {"pod": v.pod, "node": v.node, "peers": None if v.peers is None else sorted(v.peers)}
            if v.error:
                item["error"] = v.error
            nodes.append(item)
        return {
            "nodes": nodes,
            "partitions": self.partitions,
            "split": self.split,
            "notInDns": self.not_in_dns,
            "foreign": self.foreign,
            "unreachable": self.unreachable,
        }


def analyse(views: list[PodView], dns_hosts: set[str]) -> MeshReport:
    """The partitions and anomalies of `views` (pure)."""
    nodes = [v.node for v in views]
    known = set(nodes)
    links: dict[str, set[str]] = {n: set() for n in nodes}
    for view in views:
        for peer in view.peers or set():
            if peer in known:
                links[view.node].add(peer)
                links[peer].add(view.node)  # a distribution connection is one link for both ends
    partitions: list[list[str]] = []
    seen: set[str] = set()
    for start in nodes:
        if start in seen:
            continue
        group, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node not in group:
                group.add(node)
                todo += links[node] - group
        seen |= group
        partitions.append(sorted(group))
    return MeshReport(
        views=views,
        partitions=sorted(partitions, key=lambda g: (-len(g), g)),
        not_in_dns=sorted(v.node for v in views if v.node.split("@", 1)[-1] not in dns_hosts),
        foreign=sorted({p for v in views for p in v.peers or set()} - known),
        unreachable=sorted(v.pod for v in views if v.peers is None),
    )


def format_report(report: MeshReport) -> str:
    views = report.views
    width = max((len(v.pod) for v in views), default=3)
    header = " " * (width + 3) + "".join(f" {i:>2}" for i in range(len(views)))
    lines = [header]
    for i, view in enumerate(views):
        cells = []
        for j, other in enumerate(views):
            if i == j:
                cells.append("-")
            elif view.peers is None:
                cells.append("?")
            else:
                cells.append("x" if other.node in view.peers else ".")
        lines.append(f"{view.pod.ljust(width)} {i:>2}" + "".join(f" {c:>2}" for c in cells))
    lines.append("")
    lines += [f"{i:>2} {v.pod}  {v.node}" + (f"  (not asked: {v.error})" if v.peers is None else "")
              for i, v in enumerate(views)]  # fmt: skip
    lines.append("")
    if report.split:
        lines.append(f"SPLIT into {len(report.partitions)} partitions:")
        lines += [f"  {{{', '.join(group)}}}" for group in report.partitions]
    elif views:
        lines.append(f"whole: {len(views)} nodes, one partition")
    if report.unreachable:
        lines.append(f"could not ask: {', '.join(report.unreachable)}")
    if report.not_in_dns:
        lines.append(f"not in DNS (headless Service endpoints): {', '.join(report.not_in_dns)}")
    if report.foreign:
        lines.append(f"connected to nodes of no current pod: {', '.join(report.foreign)}")
    return "\n".join(lines) + "\n"


async def _dns_hosts(session: Session) -> set[str]:
    names = Names.of(session.plan.spec)
    slices, _ = await session.client.list(
        ENDPOINT_SLICE, session.namespace, label_selector=f"kubernetes.io/service-name={names.headless}"
    )
    hosts: set[str] = set()
    for item in slices:
        for endpoint in item.get("endpoints") or []:
            hosts.update(str(a) for a in endpoint.get("addresses") or [])
            if endpoint.get("hostname"):
                hosts.add(f"{endpoint['hostname']}.{names.headless_fqdn}")
    return hosts


async def collect(session: Session) -> MeshReport:
    pods = await session.running_pods()
    argv = rpc_argv(session.plan.spec, probe_expression(session.plan.spec))

    async def ask(pod: dict[str, Any]) -> PodView:
        name, node = str(pod["metadata"]["name"]), beam_node_name(pod)
        try:
            result = await session.exec(name, argv, timeout=30.0)
        except Exception as exc:  # one pod failing to answer is a finding, not the end of the report
            return PodView(name, node, None, str(exc))
        parsed = parse_probe((result.stdout + result.stderr).decode(errors="replace"))
        if result.exit_code != 0 or parsed is None:
            return PodView(name, node, None, result.message or f"exit code {result.exit_code}")
        return PodView(name, parsed[0] or node, parsed[1])

    views = list(await asyncio.gather(*(ask(p) for p in pods)))
    return analyse(views, await _dns_hosts(session))


def mesh_status(spec_path: Path, kubeconfig: Path | None, context: str | None, namespace: str | None,
                write: Callable[[str], None], *, as_json: bool = False) -> int:  # fmt: skip
    """The `status --mesh` command body: print the report (table or JSON), return the exit code."""
    session = open_session(spec_path, kubeconfig, context, namespace)

    async def main() -> MeshReport:
        async with session.client:
            return await collect(session)

    report = asyncio.run(main())
    if as_json:
        import json

        write(json.dumps(report.document(), indent=2, sort_keys=True))
    else:
        write(format_report(report))
    return report.exit_code
