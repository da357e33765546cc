"""A DNS server answering like a Kubernetes cluster's DNS (CoreDNS) for one headless Service.

Role: test support with network I/O (UDP and TCP sockets, optionally opened inside a network namespace).
What it serves, from the endpoints it reads afresh on every query (so a test moves, adds or removes pods
just by changing the state it points at):
- `<svc>.<ns>.svc.<domain>` A/AAAA: every endpoint, ready or not (the Service publishes not-ready
  addresses);
- `<hostname>.<svc>.<ns>.svc.<domain>` A/AAAA for pods with a hostname (StatefulSet pods), and the dashed-IP
  name `10-200-0-5.<svc>...` for pods without one (Deployment pods), as CoreDNS does;
- `_<port>._tcp.<svc>.<ns>.svc.<domain>` SRV for each named port of the Service, targets as above, and
  SRV on `<svc>.<ns>.svc.<domain>` itself (every port), which libcluster's DNSSRV strategy queries;
- NXDOMAIN for everything else (the namespaces have no other network).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dnslib import AAAA, QTYPE, RCODE, RR, SOA, SRV, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

TTL = 5  # CoreDNS's kubernetes plugin default


@dataclass(frozen=True)
class Endpoint:
    """One pod behind the headless Service."""

    ip: str
    hostname: str | None = None

    @property
    def dns_label(self) -> str:
        if self.hostname is not None:
            return self.hostname
        return self.ip.replace(".", "-").replace(":", "-")


@dataclass(frozen=True)
class ServiceZone:
    """The headless Service as cluster DNS sees it: name, namespace, domain and named ports."""

    service: str
    namespace: str
    domain: str
    ports: tuple[tuple[str, int], ...]

    @property
    def fqdn(self) -> str:
        return f"{self.service}.{self.namespace}.svc.{self.domain}"

    @classmethod
    def from_service(cls, service: dict[str, Any], domain: str) -> ServiceZone:
        """Built from a rendered Service object (name, namespace and ports as rendered)."""
        meta = service["metadata"]
        ports = tuple((p["name"], int(p["port"])) for p in service["spec"]["ports"])
        return cls(service=meta["name"], namespace=meta["namespace"], domain=domain, ports=ports)


class ClusterResolver(BaseResolver):  # type: ignore[misc]
    """dnslib resolver over a zone and a callable returning the current endpoints."""

    def __init__(
        self,
        zone: ServiceZone,
        endpoints: Callable[[], Sequence[Endpoint]],
        ttl: int = TTL,
        *,
        service_records: bool = True,
    ) -> None:
        """`service_records=False` answers nothing for the Service name and its SRV names while the pods'
        own host names still resolve: a test proves a discovery mode does not lean on service DNS."""
        self.zone = zone
        self.endpoints = endpoints
        self.ttl = ttl
        self.queries = 0
        self.service_records = service_records

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        self.queries += 1
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        endpoints = list(self.endpoints())  # re-read on every query
        fqdn = self.zone.fqdn
        answers: list[RR | None] = []
        known = False
        if qname == fqdn:
            known = True
            if not self.service_records:
                pass
            elif qtype == "SRV":  # CoreDNS: the Service name itself has an SRV record per port and endpoint
                for _, port in self.zone.ports:
                    answers += self._srv(qname, port, endpoints)
            else:
                answers = [self._addr_rr(qname, ep.ip, qtype) for ep in endpoints]
        elif qname.endswith("." + fqdn):
            label = qname[: -len(fqdn) - 1]
            port_names = {f"_{name}._tcp": port for name, port in self.zone.ports}
            if label in port_names:
                known = True
                if qtype in ("SRV", "ANY") and self.service_records:
                    answers += self._srv(qname, port_names[label], endpoints)
            else:
                matching = [ep for ep in endpoints if ep.dns_label == label]
                known = bool(matching)
                answers = [self._addr_rr(qname, ep.ip, qtype) for ep in matching]
        for rr in answers:
            if rr is not None:
                reply.add_answer(rr)
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
        if not reply.rr:
            soa = SOA(
                mname=f"ns.dns.{self.zone.domain}",
                rname=f"hostmaster.{self.zone.domain}",
                times=(1, 7200, 1800, 86400, self.ttl),
            )
            reply.add_auth(RR(DNSLabel(self.zone.domain), QTYPE.SOA, rdata=soa, ttl=self.ttl))
        return reply

    def _srv(self, qname: str, port: int, endpoints: Sequence[Endpoint]) -> list[RR | None]:
        weight = 100 // max(1, len(endpoints))
        records: list[RR | None] = []
        for ep in endpoints:
            srv = SRV(priority=0, weight=weight, port=port, target=f"{ep.dns_label}.{self.zone.fqdn}.")
            records.append(RR(qname, QTYPE.SRV, rdata=srv, ttl=self.ttl))
        return records

    def _addr_rr(self, qname: str, address: str, qtype: str) -> RR | None:
        version = ipaddress.ip_address(address).version
        if version == 4 and qtype in ("A", "ANY"):
            return RR(qname, QTYPE.A, rdata=A(address), ttl=self.ttl)
        if version == 6 and qtype in ("AAAA", "ANY"):
            return RR(qname, QTYPE.AAAA, rdata=AAAA(address), ttl=self.ttl)
        return None


class _QuietLogger:
    """dnslib logs every query to stdout by default; the tests want silence."""

    def log_recv(self, *args: object) -> None: ...
    def log_send(self, *args: object) -> None: ...
    def log_request(self, *args: object) -> None: ...
    def log_reply(self, *args: object) -> None: ...
    def log_truncated(self, *args: object) -> None: ...
    def log_error(self, *args: object) -> None: ...
    def log_data(self, *args: object) -> None: ...


class ClusterDns:
    """UDP + TCP servers on `address:port`. Create it (inside a namespace through `netns.in_namespace`)
    then `start()`; `stop()` closes the sockets."""

    def __init__(self, resolver: ClusterResolver, address: str, port: int = 53) -> None:
        self.resolver = resolver
        self.address = address
        self.servers = [
            DNSServer(resolver, address=address, port=port, tcp=tcp, logger=_QuietLogger()) for tcp in (False, True)
        ]
        self.port = self.servers[0].server.server_address[1]
        self.tcp_port = self.servers[1].server.server_address[1]

    def start(self) -> None:
        # Own threads with a short poll interval: socketserver's shutdown() waits one interval (0.5 s
        # by default) per server, which adds up over many tests.
        for server in self.servers:
            threading.Thread(
                target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            ).start()

    def stop(self) -> None:
        for server in self.servers:
            server.server.shutdown()
            server.server.server_close()


def query(address: str, port: int, name: str, qtype: str, *, tcp: bool = False) -> DNSRecord:
    """One query to the server (for tests of the server itself)."""
    packet = DNSRecord.question(name, qtype).send(address, port, tcp=tcp, timeout=2)
    return DNSRecord.parse(packet)
