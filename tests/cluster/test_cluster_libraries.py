"""What libcluster and dns_cluster would find in a live cluster, for every combination `cluster-config` prints.

Role: integration tests (root, network namespaces, Erlang, the test DNS server). The pods run the rendered
manifests and mesh through beamkube's own loop; then each library's lookup, restated from its source, runs
from inside the pod network with the values the printed snippet carries, and must yield exactly the live
node names — or, where the snippet says the library cannot work, nothing (and the snippet must say why):
- libcluster 3.5 Kubernetes.DNS (lib/strategy/kubernetes_dns.ex): `:inet_res.getbyname(service, :a)`,
  `<application_name>@<ntoa(ip)>`;
- libcluster 3.5 Kubernetes.DNSSRV (kubernetes_dns_srv.ex): SRV of `<service>.<namespace>.svc.cluster.local.`
  (the domain is fixed in the source), `<application_name>@<target>`;
- dns_cluster 0.2.0 (lib/dns_cluster.ex): A and AAAA of `query`, `<basename of node()>@<ntoa(ip)>`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from beamkube.cluster_config import Library, cluster_config
from beamkube.errors import UsageError
from beamkube.render import render
from beamkube.spec.model import AppSpec
from tests.cluster.conftest import FAST
from tests.support.beam import RenderedApp, running_cluster

pytestmark = [pytest.mark.erlang, pytest.mark.netns, pytest.mark.timeout(60)]

STATELESS: dict[str, Any] = {"name": "web", "namespace": "shop", "image": "x/web:1", "cluster": {**FAST}}
STABLE: dict[str, Any] = {"name": "kv", "namespace": "data", "image": "x/kv:1", "identity": "stable",
                          "release": {"flavour": "relx"}, "web": None, "cluster": {**FAST}}  # fmt: skip
CASES: dict[str, tuple[dict[str, Any], bool, bool | None]] = {
    # name: (spec, libcluster finds the nodes, dns_cluster finds them — None: cluster-config refuses)
    "dns": (STATELESS, True, True),
    "dns-ipv6": ({**STATELESS, "cluster": {**FAST, "ipFamily": "ipv6"}}, False, True),
    "dnssrv": (STABLE, True, None),
    "dnssrv-ipv6": ({**STABLE, "cluster": {**FAST, "ipFamily": "ipv6"}}, True, None),
    "dnssrv-corp-domain": ({**STABLE, "clusterDomain": "corp.example"}, False, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_library_lookups_find_exactly_the_live_nodes_or_the_snippet_says_why_not(case: str, netns_ok: None) -> None:
    raw, libcluster_works, dns_cluster_works = CASES[case]
    spec = AppSpec.model_validate(raw)
    app = RenderedApp(render(spec).objects, spec.clusterDomain)
    snippet = cluster_config(spec, Library.LIBCLUSTER).snippet
    found = dict(re.findall(r'(\w+): "([^"]*)"', snippet))
    v6 = spec.cluster.ipFamily == "ipv6"
    with running_cluster(app) as cluster:
        pods = cluster.start_pods(app.pod_name(i) for i in range(3))
        cluster.wait_mesh(timeout=15)  # beamkube's loop clusters every case, the library or not
        assert cluster.control is not None
        lookup = cluster.control.lookup
        basename = found["application_name"]
        if "DNSSRV" in snippet:
            srv_name = f"{found['service']}.{found['namespace']}.svc.cluster.local"  # fixed in libcluster
            libcluster = {f"{basename}@{host}" for host in lookup(srv_name, "srv")}
        else:
            libcluster = {f"{basename}@{ip}" for ip in lookup(found["service"], "a")}
        if libcluster_works:
            assert libcluster == cluster.nodes
        else:
            assert libcluster == set()
            assert ("A records only" if v6 else "svc.cluster.local.;") in snippet
        if dns_cluster_works is None:
            with pytest.raises(UsageError, match=r"dns_cluster 0\.2\.0 connects <basename>@<IP>"):
                cluster_config(spec, Library.DNS_CLUSTER)
            return
        query = pods[0].env["DNS_CLUSTER_QUERY"]
        own = pods[0].node.split("@", 1)[0]
        dns_cluster = {f"{own}@{item}" for rtype in ("a", "aaaa") for item in lookup(query, rtype)}
        assert dns_cluster == cluster.nodes
        assert ("here: AAAA" if v6 else "here: A)") in cluster_config(spec, Library.DNS_CLUSTER).snippet
