"""`beamkube cluster-config`: the Elixir config for teams that cluster with libcluster or dns_cluster.

Role: pure generator (no I/O). Every name in the snippet comes from `render.names.Names` and the rendered
env, the same place the manifests take them from, so the library looks up exactly the Service, labels and
node basename the pods have. beamkube's own vm.args loop already clusters every discovery mode without code
(`kubernetes` through EndpointSlices); the snippet is for apps that want the library too (both can run side
by side: connecting an already connected node is a no-op).

What each snippet relies on was read in the libraries' source (docs/clustering.md has the table):
- libcluster 3.5 `Cluster.Strategy.Kubernetes` (lib/strategy/kubernetes.ex): GET
  `https://<kubernetes_master>.<CLUSTER_DOMAIN or cluster.local>/api/v1/namespaces/NS/endpoints?labelSelector=`
  with the default httpc profile (`ipfamily: inet`); Endpoints carry the Service's labels, so the selector
  is the discovery Service's; every address needs `targetRef.namespace`; `:hostname` mode builds
  `<hostname>.<service>.<ns>.svc.<kubernetes_cluster_name>.local`. No EndpointSlice support.
- libcluster 3.5 `Kubernetes.DNS` (lib/strategy/kubernetes_dns.ex): `:inet_res.getbyname(service, :a)` and a
  match on `:inet` hostents: IPv4 only. `Kubernetes.DNSSRV` (kubernetes_dns_srv.ex): SRV of
  `<service>.<namespace>.svc.cluster.local.` (the domain is fixed), node names `<app>@<SRV target>`.
- dns_cluster 0.2.0 (lib/dns_cluster.ex): A and AAAA of `query` (no record-type option), connects
  `<own basename>@<IP>`: only IP node names can match.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from beamkube.errors import UsageError
from beamkube.render.beam import beam_env, node_basename, node_name_env, stable_nodes
from beamkube.render.names import Names, selector_labels
from beamkube.spec.model import AppSpec, Discovery, Identity

# The component label of the headless Service (render/services.py); tests/cluster prove the selector built
# from it matches the Endpoints a real-style endpoints controller makes from the rendered Service.
DISCOVERY_COMPONENT = "discovery"


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


def kubernetes_selector(spec: AppSpec) -> str:
    """The label selector libcluster's Kubernetes strategy lists Endpoints by: labels of the discovery
    (headless) Service, which the endpoints controller copies onto its Endpoints. Not the version label (it
    changes with every image) and not the pod labels (no Endpoints carries them)."""
    return ",".join(f"{k}={v}" for k, v in selector_labels(spec, DISCOVERY_COMPONENT).items())


def _libcluster(spec: AppSpec, names: Names) -> tuple[str, list[str], list[str]]:
    """(strategy, config lines, comment lines) for libcluster."""
    discovery = spec.effective_discovery
    interval = spec.cluster.pollIntervalMs
    release = node_basename(spec, names)
    notes: list[str] = []
    v6 = spec.cluster.ipFamily == "ipv6"
    if discovery is Discovery.DNS:
        if v6:
            notes += [
                "# libcluster 3.5's Kubernetes.DNS resolves A records only (getbyname(_, :a)) and cannot find",
                "# IPv6 pods: use --library dns_cluster (A and AAAA) or rely on beamkube's rendered loop.",
            ]
        return (
            "Cluster.Strategy.Kubernetes.DNS",
            [f"service: {_quote(names.headless_fqdn)}", f"application_name: {_quote(release)}",
             f"polling_interval: {interval}"],
            notes,
        )  # fmt: skip
    if discovery is Discovery.DNSSRV:
        if spec.clusterDomain != "cluster.local":
            notes += [
                "# libcluster 3.5's Kubernetes.DNSSRV always queries <service>.<namespace>.svc.cluster.local.;",
                f"# with clusterDomain {spec.clusterDomain} it finds nothing. beamkube's rendered loop queries",
                f"# {names.srv_query()} and clusters the pods without this snippet.",
            ]
        return (
            "Cluster.Strategy.Kubernetes.DNSSRV",
            [f"service: {_quote(names.headless)}", f"namespace: {_quote(names.namespace)}",
             f"application_name: {_quote(release)}", f"polling_interval: {interval}"],
            notes,
        )  # fmt: skip
    if discovery is Discovery.KUBERNETES:
        config = [
            f"kubernetes_node_basename: {_quote(release)}",
            f"kubernetes_selector: {_quote(kubernetes_selector(spec))}",
            f"kubernetes_namespace: {_quote(names.namespace)}",
            "kubernetes_ip_lookup_mode: :endpoints",
        ]
        notes.append(
            "# The selector matches the discovery Service's labels, which the endpoints controller copies onto "
            "its Endpoints."
        )
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
        hosts = ", ".join(f':"{node}"' for node in stable_nodes(spec, names))
        return "Cluster.Strategy.Epmd", [f"hosts: [{hosts}]"], notes
    raise UsageError(f"{spec.name}: cluster.discovery is none; there is nothing to configure")


def _ipv6_client_lines(spec: AppSpec) -> list[str]:
    """libcluster's Kubernetes strategy calls the API through httpc's default profile, which resolves
    IPv4 only: on a v6-only cluster `kubernetes.default.svc` has just an AAAA record and every poll fails
    with `{:failed_connect, [..., {:inet, [:inet], :nxdomain}]}`. `inet6fb4` tries IPv6 first."""
    if spec.cluster.ipFamily != "ipv6" or spec.effective_discovery is not Discovery.KUBERNETES:
        return []
    return [
        "# IPv6: in start/2, before the children start (libcluster uses httpc's default profile):",
        "#   :ok = :httpc.set_options(ipfamily: :inet6fb4)",
    ]


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
            *_ipv6_client_lines(spec),
        ]
    )
    return ClusterConfig(Library.LIBCLUSTER, strategy, snippet + "\n", env_summary(spec, names))


def dns_cluster_config(spec: AppSpec) -> ClusterConfig:
    """dns_cluster 0.2.0 dials `<own basename>@<IP>` for every A/AAAA answer, so it can only join nodes named
    by IP (identity stateless) whose headless Service has address records (any discovery but none/static)."""
    discovery = spec.effective_discovery
    if spec.identity is Identity.STABLE or discovery in (Discovery.STATIC, Discovery.NONE):
        raise UsageError(
            f"{spec.name}: dns_cluster 0.2.0 connects <basename>@<IP> from A/AAAA records, but these nodes are "
            f"named {node_name_env(spec, Names.of(spec))} (identity {spec.identity.value}, discovery "
            f"{discovery.value}); use --library libcluster, or beamkube's rendered discovery loop alone"
        )
    names = Names.of(spec)
    release = names.release
    # DNS_CLUSTER_QUERY is rendered for `dns`; with `kubernetes` the headless Service's name is the query.
    rendered_query = discovery is Discovery.DNS
    source = 'System.get_env("DNS_CLUSTER_QUERY")' if rendered_query else _quote(names.headless_fqdn)
    family = "AAAA" if spec.cluster.ipFamily == "ipv6" else "A"
    snippet = "\n".join(
        [
            f"# dns_cluster for {spec.name} (discovery: {discovery.value}), generated by beamkube cluster-config",
            f"# dns_cluster 0.2.0 looks up A and AAAA records of the query (here: {family}) and connects",
            f"# {node_basename(spec, names)}@<IP>, the rendered RELEASE_NODE {node_name_env(spec, names)}.",
            "# config/runtime.exs" + (" (DNS_CLUSTER_QUERY is set by the rendered pods)" if rendered_query else ""),
            "import Config",
            "",
            f"config :{release}, dns_cluster_query: {source}",
            "",
            f"# lib/{release}/application.ex, first among the children:",
            f"#   {{DNSCluster, query: Application.get_env(:{release}, :dns_cluster_query) || :ignore}}",
        ]
    )
    return ClusterConfig(Library.DNS_CLUSTER, "DNSCluster", snippet + "\n", env_summary(spec, names))


def cluster_config(spec: AppSpec, library: Library = Library.LIBCLUSTER) -> ClusterConfig:
    """The snippet for `library` matching the spec's discovery."""
    if library is Library.DNS_CLUSTER:
        return dns_cluster_config(spec)
    return libcluster_config(spec)
