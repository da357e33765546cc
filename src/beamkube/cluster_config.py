"""`beamkube cluster-config`: the Elixir config for teams that cluster with libcluster or dns_cluster.

Role: pure generator (no I/O). Every name in the snippet comes from `render.names.Names` and the rendered
env, the same place the manifests take them from, so the library looks up exactly the Service, labels and
node basename the pods have. beamkube's own vm.args loop already clusters `dns`, `dnssrv` and `static` apps
without code; the snippet is for apps that want the library (both can run side by side), and is required
for `kubernetes` discovery, which renders RBAC but no loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from beamkube.errors import UsageError
from beamkube.render.beam import beam_env
from beamkube.render.names import Names, selector_labels
from beamkube.spec.model import AppSpec, Discovery, Identity


class Library(str, Enum):
    LIBCLUSTER = "libcluster"
    DNS_CLUSTER = "dns_cluster"


@dataclass(frozen=True)
class ClusterConfig:
    """The snippet plus the env the rendered pods set for it (values never include secrets)."""

    library: Library
    strategy: str
    snippet: str
    env: list[tuple[str, str]]

    def text(self) -> str:
        lines = [self.snippet.rstrip("\n"), "", "# Env the rendered pods set (beamkube render; do not repeat it):"]
        width = max(len(name) for name, _ in self.env)
        lines += [f"#   {name.ljust(width)}  {value}" for name, value in self.env]
        return "\n".join(lines) + "\n"


def _module(release: str) -> str:
    return "".join(part.capitalize() for part in release.split("_"))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def env_summary(spec: AppSpec, names: Names) -> list[tuple[str, str]]:
    """The container env as `(NAME, what it is)`: literal values, downward-API fields, Secret references
    (name and key only)."""
    out: list[tuple[str, str]] = []
    for item in beam_env(spec, names):
        source: dict[str, Any] = item.get("valueFrom", {})
        if "value" in item:
            out.append((item["name"], str(item["value"])))
        elif "fieldRef" in source:
            out.append((item["name"], f"<{source['fieldRef']['fieldPath']}>"))
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            out.append((item["name"], f"<Secret {ref['name']} key {ref['key']}>"))
    return out


def _libcluster(spec: AppSpec, names: Names) -> tuple[str, list[str], list[str]]:
    """(strategy, config lines, comment lines) for libcluster."""
    discovery = spec.effective_discovery
    interval = spec.cluster.pollIntervalMs
    release = names.release
    notes: list[str] = []
    if discovery is Discovery.DNS:
        if spec.cluster.ipFamily == "ipv6":
            notes.append("# libcluster's Kubernetes.DNS looks up A records only; IPv6 pods need dns_cluster.")
        return (
            "Cluster.Strategy.Kubernetes.DNS",
            [f"service: {_quote(names.headless_fqdn)}", f"application_name: {_quote(release)}",
             f"polling_interval: {interval}"],
            notes,
        )  # fmt: skip
    if discovery is Discovery.DNSSRV:
        if spec.clusterDomain != "cluster.local":
            notes.append(
                f"# Check that your libcluster version queries {names.headless_fqdn}: older ones assume "
                "cluster.local."
            )
        return (
            "Cluster.Strategy.Kubernetes.DNSSRV",
            [f"service: {_quote(names.headless)}", f"namespace: {_quote(names.namespace)}",
             f"application_name: {_quote(release)}", f"polling_interval: {interval}"],
            notes,
        )  # fmt: skip
    if discovery is Discovery.KUBERNETES:
        selector = ",".join(f"{k}={v}" for k, v in selector_labels(spec).items())
        config = [
            f"kubernetes_node_basename: {_quote(release)}",
            f"kubernetes_selector: {_quote(selector)}",
            f"kubernetes_namespace: {_quote(names.namespace)}",
        ]
        if spec.identity is Identity.STABLE:
            config += ["mode: :hostname", f"kubernetes_service_name: {_quote(names.headless)}"]
            if spec.clusterDomain.endswith(".local"):
                config.append(f"kubernetes_cluster_name: {_quote(spec.clusterDomain.removesuffix('.local'))}")
            else:
                notes.append(
                    f"# libcluster's :hostname mode builds <pod>.<service>.<namespace>.svc.<name>.local; "
                    f"clusterDomain {spec.clusterDomain} does not fit it: prefer discovery dnssrv."
                )
        else:
            config.append("mode: :ip")
        config.append(f"polling_interval: {interval}")
        return "Cluster.Strategy.Kubernetes", config, notes
    if discovery is Discovery.STATIC:
        hosts = ", ".join(f':"{names.stable_node(i)}"' for i in range(spec.max_replicas))
        return "Cluster.Strategy.Epmd", [f"hosts: [{hosts}]"], notes
    raise UsageError(f"{spec.name}: cluster.discovery is none; there is nothing to configure")


def libcluster_config(spec: AppSpec) -> ClusterConfig:
    names = Names.of(spec)
    strategy, config, notes = _libcluster(spec, names)
    release = names.release
    module = _module(release)
    body = ",\n".join(f"          {line}" for line in config)
    snippet = "\n".join(
        [
            f"# libcluster for {spec.name} (discovery: {spec.effective_discovery.value}), generated by "
            "beamkube cluster-config",
            *notes,
            "# config/runtime.exs",
            "import Config",
            "",
            "if config_env() == :prod do",
            "  config :libcluster,",
            "    topologies: [",
            f"      {release}: [",
            f"        strategy: {strategy},",
            "        config: [",
            body,
            "        ]",
            "      ]",
            "    ]",
            "end",
            "",
            f"# lib/{release}/application.ex, first among the children:",
            f"#   {{Cluster.Supervisor, [Application.get_env(:libcluster, :topologies, []), "
            f"[name: {module}.ClusterSupervisor]]}}",
        ]
    )
    return ClusterConfig(Library.LIBCLUSTER, strategy, snippet + "\n", env_summary(spec, names))


def dns_cluster_config(spec: AppSpec) -> ClusterConfig:
    discovery = spec.effective_discovery
    if discovery not in (Discovery.DNS, Discovery.DNSSRV):
        raise UsageError(
            f"{spec.name}: dns_cluster needs cluster.discovery dns or dnssrv (it is {discovery.value}); "
            "use --library libcluster"
        )
    names = Names.of(spec)
    release = names.release
    options = [f"query: Application.get_env(:{release}, :dns_cluster_query) || :ignore"]
    if discovery is Discovery.DNSSRV:
        options.append("resource_types: [:srv]")
    elif spec.cluster.ipFamily == "ipv6":
        options.append("resource_types: [:aaaa]")
    snippet = "\n".join(
        [
            f"# dns_cluster for {spec.name} (discovery: {discovery.value}), generated by beamkube cluster-config",
            "# config/runtime.exs (DNS_CLUSTER_QUERY is set by the rendered pods)",
            "import Config",
            "",
            f'config :{release}, dns_cluster_query: System.get_env("DNS_CLUSTER_QUERY")',
            "",
            f"# lib/{release}/application.ex, first among the children:",
            f"#   {{DNSCluster, {', '.join(options)}}}",
        ]
    )
    return ClusterConfig(Library.DNS_CLUSTER, "DNSCluster", snippet + "\n", env_summary(spec, names))


def cluster_config(spec: AppSpec, library: Library = Library.LIBCLUSTER) -> ClusterConfig:
    """The snippet for `library` matching the spec's discovery."""
    if library is Library.DNS_CLUSTER:
        return dns_cluster_config(spec)
    return libcluster_config(spec)
