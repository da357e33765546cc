"""The API double as pods see it: `kubernetes.default.svc` over TLS inside the pod network, plus Pod objects.

Role: test support with network I/O (sockets in the test's switch namespace and on 127.0.0.1 only).
- `ApiBridge` listens on the switch namespace's gateway addresses (IPv4 and IPv6, port 6443), terminates TLS
  with a certificate for `kubernetes.default.svc` signed by a fresh CA, and relays the bytes to the API
  double on 127.0.0.1: pods reach it at KUBERNETES_SERVICE_HOST/PORT as they reach a real API server.
  The listening sockets are created on a thread that entered the namespace (they stay there); the relay's
  upstream sockets are made in the test process's own namespace.
- `service_account_files` is what the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount.
- `pod_object` is the Pod a workload controller + scheduler + kubelet would leave in the API for one
  network-namespace pod (template labels, StatefulSet hostname/subdomain, status.podIP, Ready);
- `api_cluster` puts it together: the double with the endpoints controller, the rendered Services, the
  bridge, and a `Cluster` whose pods are mirrored into the double and get the kubelet's API env and
  service-account files.
Not modelled: authentication and RBAC (the double accepts any bearer token; the Role is checked in unit
tests), API priority and fairness, HTTP/2.
"""

from __future__ import annotations

import contextlib
import secrets
import select
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.support.apidouble import ApiFailure, Running, serve
from tests.support.beam import Cluster, Pod, RenderedApp, make_tls_secret
from tests.support.endpoints import EndpointsController
from tests.support.netns import GATEWAY_V4, GATEWAY_V6, PodNetwork, in_namespace
from tests.support.podexec import Runner, Started, spawn

API_PORT = 6443
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ApiBridge:
    """TLS relay from the pod network to the API double (see the module docstring). Use as a context manager."""

    def __init__(self, network: PodNetwork, upstream_url: str, workdir: Path) -> None:
        parsed = urlparse(upstream_url)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.network = network
        self.tls = make_tls_secret(
            workdir, ca_name="kube-apiserver-test-ca",
            san=f"DNS:kubernetes.default.svc,DNS:kubernetes.default,IP:{GATEWAY_V4},IP:{GATEWAY_V6}",
        )  # fmt: skip
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(workdir / "tls.crt", workdir / "tls.key")
        self._listeners: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connections = 0

    def env(self, family: str = "ipv4") -> dict[str, str]:
        """What the kubelet injects into every container for the `kubernetes` Service."""
        host = GATEWAY_V6 if family == "ipv6" else GATEWAY_V4
        return {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": str(API_PORT)}

    def __enter__(self) -> ApiBridge:
        def listen() -> list[socket.socket]:
            v4 = socket.create_server((GATEWAY_V4, API_PORT), reuse_port=False)
            v6 = socket.create_server((GATEWAY_V6, API_PORT), family=socket.AF_INET6)
            return [v4, v6]

        self._listeners = in_namespace(self.network.switch, listen)
        for listener in self._listeners:
            listener.settimeout(0.2)
            thread = threading.Thread(target=self._accept, args=(listener,), daemon=True, name="api-bridge")
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for listener in self._listeners:
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._relay, args=(client,), daemon=True, name="api-relay").start()

    def _relay(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            client = self.context.wrap_socket(raw, server_side=True)
            upstream = socket.create_connection(self.upstream, timeout=10)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        with client, upstream:
            # One thread per connection, blocking sockets: an SSL object must not be read and written from
            # two threads at once. pending() covers TLS records already decrypted but not yet read.
            peers = {client: upstream, upstream: client}
            while not self._stop.is_set():
                readable = [client] if client.pending() else select.select(list(peers), [], [], 0.5)[0]
                for source in readable:
                    try:
                        data = source.recv(65536)
                        if not data:
                            return
                        peers[source].sendall(data)
                    except OSError:  # ssl.SSLError included; a closed or reset side ends the relay
                        return


def service_account_files(tls: dict[str, str], namespace: str) -> dict[str, str]:
    """token, ca.crt and namespace as the kubelet projects them."""
    return {"token": "test-token-for-the-api-double\n", "ca.crt": tls["ca.crt"], "namespace": namespace}


def pod_runner(cluster: Cluster) -> Runner:
    """The kubelet side of exec for tests/support/podexec.py: start argv inside the pod's network namespace
    with the pod's environment and its container paths mapped, as the container runtime would."""

    def run(namespace: str, pod: str, container: str, argv: Sequence[str], stdin: bool, tty: bool) -> Started:
        target = cluster.pods.get(pod)
        if target is None or target.paths is None or target.launch_env is None:
            raise LookupError(f"container {container} of pod {pod} is not running")
        command = ["ip", "netns", "exec", target.net.netns, *(target.paths.translate(word) for word in argv)]
        return spawn(command, stdin=stdin, tty=tty, env=target.launch_env, cwd=target.root)

    return run


def pod_object(app: RenderedApp, name: str, ip: str) -> dict[str, Any]:
    template = app.workload["spec"]["template"]
    spec: dict[str, Any] = {"containers": template["spec"]["containers"], "nodeName": "worker-1"}
    if app.workload["kind"] == "StatefulSet":
        spec |= {"hostname": name, "subdomain": app.workload["spec"]["serviceName"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": app.namespace, "labels": dict(template["metadata"]["labels"])},
        "spec": spec,
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }


@dataclass
class ApiCluster:
    cluster: Cluster
    api: Running
    controller: EndpointsController

    def slice_reads(self) -> int:
        return sum(1 for r in self.api.api.log if r.plural == "endpointslices" and r.method == "GET")


@contextlib.contextmanager
def api_cluster(
    app: RenderedApp, tmp_path: Path, family: str = "ipv4", *, dns_headless: bool = False
) -> Iterator[ApiCluster]:
    namespace = app.namespace
    with serve(tmp_path, controller=False) as running, EndpointsController(running.api) as controller:
        running.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for obj in app.objects:
            if obj["kind"] == "Service":
                running.api.put(obj)
        store = running.api.store

        def mirror(pod: Pod, alive: bool) -> None:
            if alive:
                running.api.put(pod_object(app, pod.name, pod.net.ip_for(family)))
            else:
                with contextlib.suppress(ApiFailure):
                    store.delete(store.rdef("", "pods"), namespace, pod.name)

        search = [f"{namespace}.svc.{app.cluster_domain}", f"svc.{app.cluster_domain}", app.cluster_domain]
        bridge_dir = tmp_path / "api-tls"
        with PodNetwork(search=search) as network, ApiBridge(network, running.url, bridge_dir) as bridge:
            cluster = Cluster(
                app, network, cookie="c" + secrets.token_urlsafe(24), service_env=bridge.env(family),
                extra_dirs={SERVICE_ACCOUNT_DIR: service_account_files(bridge.tls, namespace)},
                pod_hook=mirror, dns_headless=dns_headless,
            )  # fmt: skip
            with cluster:
                yield ApiCluster(cluster, running, controller)
