"""Real Erlang nodes in network-namespace "pods", started exactly as `beamkube render` says.

Role: test support with process, file and network I/O. Nothing about a node is typed here: the launcher
reads the rendered workload's container (command, env, volume mounts), resolves env the way the kubelet
does (downward-API fieldRefs, secretKeyRef from the test's Secrets, envFrom ConfigMaps, `$(VAR)` references),
writes the rendered ConfigMap's items into a temp dir standing in for its mount path, and starts the node:
- `release`: the container command itself, with `release.root` mapped to a real `mix release` built from
  `tests/fixtures/projects/mix_app` (cached by content hash);
- `erl`: what the release's start script would run, on plain `erl`: for mix `erl -args_file
  $RELEASE_VM_ARGS -name $RELEASE_NODE -setcookie $RELEASE_COOKIE`, for relx/Distillery the `${VAR}`
  substitution of vm.args(.src) into the writable path, then `erl -args_file` (name and cookie inside).
The only rewriting: absolute paths under a volume's mountPath (in env values and mounted files) point to the
temp dir standing in for that volume, since the test cannot mount over /etc/beamkube or /tmp.

A hidden control node in the switch namespace reads every node's `nodes()` over distribution, so tests
see exactly what the BEAM sees.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.dns import ClusterDns, ClusterResolver, Endpoint, ServiceZone
from tests.support.netns import GATEWAY_V4, GATEWAY_V6, NETNS_ETC, PodNet, PodNetwork, in_namespace

REPO = Path(__file__).resolve().parents[2]
MIX_FIXTURE = REPO / "tests" / "fixtures" / "projects" / "mix_app"
RELX_FIXTURE = REPO / "tests" / "fixtures" / "projects" / "rebar_app"
CACHE_ROOT = Path(os.environ.get("BEAMKUBE_TEST_CACHE", "/var/tmp/beamkube-test-cache"))
# What the image would put in the environment before the container's env (the kubelet merges them).
IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


class LaunchError(RuntimeError):
    """The rendered manifests cannot be turned into a node (the message says which part)."""


# --- the rendered objects ----------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedApp:
    """The objects `beamkube render` produced, with the parts a pod needs."""

    objects: list[dict[str, Any]]
    cluster_domain: str

    def find(self, kind: str, name: str | None = None) -> dict[str, Any]:
        for obj in self.objects:
            if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name):
                return obj
        raise LaunchError(f"no {kind} {name or ''} in the rendered objects")

    @property
    def workload(self) -> dict[str, Any]:
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "StatefulSet"):
                return obj
        raise LaunchError("no Deployment or StatefulSet rendered")

    @property
    def namespace(self) -> str:
        return str(self.workload["metadata"]["namespace"])

    @property
    def pod_spec(self) -> dict[str, Any]:
        return dict(self.workload["spec"]["template"]["spec"])

    @property
    def container(self) -> dict[str, Any]:
        return dict(self.pod_spec["containers"][0])

    @property
    def headless_service(self) -> dict[str, Any]:
        """The Service that governs pod DNS: the StatefulSet's serviceName, or the headless one."""
        workload = self.workload
        if workload["kind"] == "StatefulSet":
            return self.find("Service", workload["spec"]["serviceName"])
        for obj in self.objects:
            if obj["kind"] == "Service" and obj["spec"].get("clusterIP") == "None":
                return obj
        raise LaunchError("no headless Service rendered")

    def vm_arg(self, flag: str) -> str | None:
        """The value of `flag` in the rendered vm.args (ConfigMap `<app>-beam`), or None."""
        config = self.find("ConfigMap", f"{self.workload['metadata']['name']}-beam")
        for text in config["data"].values():
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == flag:
                    return str(parts[1])
        return None

    def pod_name(self, ordinal: int) -> str:
        """A pod name as the controller would pick it."""
        name = self.workload["metadata"]["name"]
        if self.workload["kind"] == "StatefulSet":
            return f"{name}-{ordinal}"
        return f"{name}-7d4b9c8f5-{secrets.token_hex(3)[:5]}"

    def pod_hostname(self, pod: str) -> tuple[str | None, str | None]:
        """(hostname, subdomain FQDN) as the StatefulSet controller sets them; Deployment pods have none."""
        if self.workload["kind"] != "StatefulSet":
            return None, None
        service = self.workload["spec"]["serviceName"]
        return pod, f"{pod}.{service}.{self.namespace}.svc.{self.cluster_domain}"


# --- kubelet-style env resolution ---------------------------------------------------------------

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's `$(VAR)` expansion: defined names are replaced, undefined ones stay as written,
    `$$` is a literal `$`."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REF.sub(repl, value)


@dataclass(frozen=True)
class PodFacts:
    """What the API server knows about a pod once scheduled (the downward API's sources)."""

    name: str
    namespace: str
    ip: str
    node_name: str = "worker-1"


def resolve_env(
    container: dict[str, Any],
    pod: PodFacts,
    secrets_data: dict[str, dict[str, str]],
    config_maps: dict[str, dict[str, str]],
) -> dict[str, str]:
    """The container's environment, in kubelet order: envFrom first, then env entries in order."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]
            env.update(config_maps.get(ref["name"], {}))
        elif "secretRef" in source:
            env.update(secrets_data.get(source["secretRef"]["name"], {}))
    fields = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "status.podIP": pod.ip,
        "status.podIPs": pod.ip,
        "spec.nodeName": pod.node_name,
    }
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = expand(str(item["value"]), env)
            continue
        source = item.get("valueFrom", {})
        if "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            if path not in fields:
                raise LaunchError(f"env {name}: unsupported fieldRef {path}")
            env[name] = fields[path]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            try:
                env[name] = secrets_data[ref["name"]][ref["key"]]
            except KeyError:
                raise LaunchError(f"env {name}: Secret {ref['name']} key {ref['key']} not provided") from None
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[name] = config_maps[ref["name"]][ref["key"]]
        else:
            raise LaunchError(f"env {name}: unsupported valueFrom {sorted(source)}")
    return env


# --- volumes ------------------------------------------------------------------------------------


class PathMap:
    """Container paths → host dirs standing in for them (longest mount path wins)."""

    def __init__(self, mounts: dict[str, Path]) -> None:
        self.mounts = dict(sorted(mounts.items(), key=lambda kv: -len(kv[0])))
        alternatives = "|".join(re.escape(p) for p in self.mounts)
        self._pattern = re.compile(rf"(?<![\w/.-])({alternatives})(?=/|$|[\s\"',}}\]])") if mounts else None

    def host(self, container_path: str) -> Path:
        return Path(self.translate(container_path))

    def translate(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: str(self.mounts[m.group(1)]), text)


def materialise_volumes(
    app: RenderedApp, root: Path, secrets_data: dict[str, dict[str, str]], image_dirs: dict[str, Path]
) -> PathMap:
    """Create a dir per volumeMount under `root`, fill configMap/secret volumes from the rendered objects and
    the test's Secrets, and return the path map (plus `image_dirs`, the image's own paths like /app)."""
    volumes = {v["name"]: v for v in app.pod_spec.get("volumes", [])}
    mounts: dict[str, Path] = dict(image_dirs)
    files: list[tuple[Path, str]] = []
    for index, mount in enumerate(app.container.get("volumeMounts", [])):
        host = root / f"vol{index}-{mount['name']}"
        host.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = host
        volume = volumes.get(mount["name"])
        if volume is None:  # a volumeClaimTemplate: an empty disk will do
            continue
        if "configMap" in volume:
            data = app.find("ConfigMap", volume["configMap"]["name"])["data"]
            items = volume["configMap"].get("items") or [{"key": k, "path": k} for k in data]
            files += [(host / item["path"], data[item["key"]]) for item in items]
        elif "secret" in volume:
            data = secrets_data.get(volume["secret"]["secretName"])
            if data is None:
                raise LaunchError(f"volume {mount['name']}: Secret {volume['secret']['secretName']} not provided")
            files += [(host / key, value) for key, value in data.items()]
    path_map = PathMap(mounts)
    for path, content in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(path_map.translate(content))
    return path_map


# --- the mix release fixture --------------------------------------------------------------------


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "_build" not in path.parts and "deps" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    version = subprocess.run(["elixir", "--short-version"], capture_output=True, text=True, timeout=60)
    digest.update(version.stdout.encode())
    return digest.hexdigest()[:16]


def build_relx_release(project: Path = RELX_FIXTURE) -> Path:
    """`rebar3 release` (relx) of the fixture, once per content hash, like `build_mix_release`."""
    return build_mix_release(project, ["rebar3", "release"], ("default", "rel"))


def build_mix_release(
    project: Path = MIX_FIXTURE,
    command: Sequence[str] = ("mix", "release", "--overwrite", "--quiet"),
    output: tuple[str, str] = ("prod", "rel"),
) -> Path:
    """`MIX_ENV=prod mix release` of the fixture, once per content hash (a file lock serialises parallel
    runs; the result is moved into place atomically). Returns the release root (`bin/<name>` inside)."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    key = _tree_hash(project)
    target = CACHE_ROOT / f"{project.name}-{key}"
    release = target / "_build" / output[0] / output[1] / project.name
    if (release / "bin" / project.name).exists():
        return release
    with open(CACHE_ROOT / f"{project.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (release / "bin" / project.name).exists():
            return release
        work = Path(tempfile.mkdtemp(prefix=f"{project.name}-", dir=CACHE_ROOT))
        shutil.copytree(project, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("_build", "deps"))
        env = {**os.environ, "MIX_ENV": "prod", "HOME": str(work), "MIX_HOME": str(work / ".mix")}
        result = subprocess.run(list(command), cwd=work, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise LaunchError(f"{' '.join(command)} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
    return release


# --- pods ---------------------------------------------------------------------------------------


@dataclass
class Pod:
    """One running pod incarnation: its network, node name, process and dirs."""

    name: str
    net: PodNet
    node: str
    process: subprocess.Popen[bytes]
    root: Path
    env: dict[str, str]
    log: Path
    app: RenderedApp | None = None  # the rendered objects this pod was started from (a rollout mixes two)
    paths: PathMap | None = None
    launch_env: dict[str, str] | None = None  # the process environment, container paths translated

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _substitute_os_vars(text: str, env: dict[str, str]) -> str:
    """relx's vm.args.src / Distillery's REPLACE_OS_VARS: `${VAR}` from the environment."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), text)


def node_command(app: RenderedApp, env: dict[str, str], paths: PathMap, mode: str) -> list[str]:
    """The argv that starts the node (see the module docstring for the two modes)."""
    command = [paths.translate(part) for part in app.container["command"]]
    if mode == "release":
        return command
    if "RELEASE_VM_ARGS" in env:  # mix: name and cookie are the start script's arguments
        name_flag = "-name" if env.get("RELEASE_DISTRIBUTION", "sname") == "name" else "-sname"
        return [
            "erl", "-noshell", "-noinput", "-args_file", env["RELEASE_VM_ARGS"],
            name_flag, env["RELEASE_NODE"], "-setcookie", env["RELEASE_COOKIE"],
        ]  # fmt: skip
    if "VMARGS_PATH" in env:  # relx: $VMARGS_PATH.src → $RELX_OUT_FILE_PATH/vm.args
        source, out_dir = Path(env["VMARGS_PATH"] + ".src"), Path(env["RELX_OUT_FILE_PATH"])
        if not source.exists():
            return ["erl", "-noshell", "-noinput", "-args_file", env["VMARGS_PATH"]]
    elif env.get("REPLACE_OS_VARS") == "true":  # Distillery: $RELEASE_CONFIG_DIR/vm.args → mutable dir
        source, out_dir = Path(env["RELEASE_CONFIG_DIR"]) / "vm.args", Path(env["RELEASE_MUTABLE_DIR"])
    else:
        raise LaunchError("the rendered env names no vm.args (RELEASE_VM_ARGS, VMARGS_PATH or REPLACE_OS_VARS)")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "vm.args"
    target.write_text(_substitute_os_vars(source.read_text(), env))
    return ["erl", "-noshell", "-noinput", "-args_file", str(target)]


class Cluster:
    """Pods of one rendered app on a `PodNetwork`, the cluster DNS serving them, and a control node."""

    def __init__(
        self,
        app: RenderedApp,
        network: PodNetwork,
        *,
        cookie: str,
        mode: str = "erl",
        release_dir: Path | None = None,
        extra_secrets: dict[str, dict[str, str]] | None = None,
        service_env: dict[str, str] | None = None,
        extra_dirs: dict[str, dict[str, str]] | None = None,
        pod_hook: Callable[[Pod, bool], None] | None = None,
        dns_headless: bool = True,
    ) -> None:
        """`service_env`: what the kubelet injects before the container's env (KUBERNETES_SERVICE_HOST...);
        `extra_dirs`: container dir → files the kubelet mounts itself (the service-account token);
        `pod_hook(pod, alive)`: told when a pod starts or goes (to mirror it into an API double);
        `dns_headless=False`: the cluster DNS answers nothing for the headless Service (to prove that a
        discovery mode does not lean on DNS)."""
        self.app = app
        self.service_env = dict(service_env or {})
        self.extra_dirs = dict(extra_dirs or {})
        self.pod_hook = pod_hook
        self.network = network
        self.cookie = cookie
        self.mode = mode
        self.release_dir = release_dir
        self.proto_dist = app.vm_arg("-proto_dist") or "inet_tcp"
        # Pods get both address families; the node names and DNS answers use the one the VM speaks.
        self.ip_family = "ipv6" if self.proto_dist.startswith("inet6") else "ipv4"
        self.pods: dict[str, Pod] = {}
        self.dead: list[Pod] = []
        self.root = Path(tempfile.mkdtemp(prefix=f"{network.prefix}-"))
        cookie_ref = self._cookie_ref()
        self.secrets: dict[str, dict[str, str]] = {cookie_ref[0]: {cookie_ref[1]: cookie}, **(extra_secrets or {})}
        self.config_maps = {
            o["metadata"]["name"]: dict(o.get("data", {})) for o in app.objects if o["kind"] == "ConfigMap"
        }
        self._lock = threading.Lock()
        zone = ServiceZone.from_service(app.headless_service, app.cluster_domain)
        self.resolver = ClusterResolver(zone, self.endpoints, service_records=dns_headless)
        self.dns: ClusterDns | None = None
        self.control: Control | None = None
        self._counter = 0

    def _cookie_ref(self) -> tuple[str, str]:
        for item in self.app.container.get("env", []):
            if item["name"] == "RELEASE_COOKIE":
                ref = item["valueFrom"]["secretKeyRef"]
                return str(ref["name"]), str(ref["key"])
        raise LaunchError("the container has no RELEASE_COOKIE from a Secret")

    def endpoints(self) -> list[Endpoint]:
        """The headless Service's endpoints: every pod whose namespace exists, ready or not."""
        with self._lock:
            pods = sorted(self.pods.values(), key=lambda p: p.name)
        return [Endpoint(p.net.ip_for(self.ip_family), p.net.hostname) for p in pods if p.net.alive]

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        (NETNS_ETC / self.network.switch).mkdir(parents=True, exist_ok=True)
        (NETNS_ETC / self.network.switch / "resolv.conf").write_text(
            f"nameserver {GATEWAY_V4}\nsearch {' '.join(self.network.search)}\noptions ndots:5\n"
        )
        self.dns = in_namespace(self.network.switch, lambda: ClusterDns(self.resolver, GATEWAY_V4, 53))
        self.dns.start()
        self.control = Control(self, self._control_dist_args())

    def _control_dist_args(self) -> list[str]:
        """The control node speaks the pods' distribution protocol; for TLS it gets the same Secret and
        the rendered ssl_dist.conf, materialised like a pod's volumes."""
        args = ["-proto_dist", self.proto_dist]
        optfile = self.app.vm_arg("-ssl_dist_optfile")
        if optfile is not None:
            paths = materialise_volumes(self.app, self.root / "control", self.secrets, {})
            args += ["-ssl_dist_optfile", paths.translate(optfile)]
        return args

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        for pod in list(self.pods.values()):
            self._stop(pod)
        for pod in self.dead:
            _reap(pod.process)
        if self.dns is not None:
            self.dns.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start_pod(
        self,
        name: str,
        *,
        cookie: str | None = None,
        mode: str | None = None,
        secrets_override: dict[str, dict[str, str]] | None = None,
        app: RenderedApp | None = None,
    ) -> Pod:
        """Create the pod's namespace, volumes and env from the rendered objects (`app`: another render of
        the same app, e.g. the new version during a rolling update), and start its node."""
        app = app or self.app
        config_maps = {o["metadata"]["name"]: dict(o.get("data", {})) for o in app.objects if o["kind"] == "ConfigMap"}
        hostname, fqdn = app.pod_hostname(name)
        net = self.network.add_pod(name, hostname=hostname, fqdn=fqdn)
        with self._lock:
            self._counter += 1
            root = self.root / f"{name}-{self._counter}"
        root.mkdir(parents=True)
        secrets_data = {**self.secrets, **(secrets_override or {})}
        if cookie is not None:
            ref = self._cookie_ref()
            secrets_data[ref[0]] = {ref[1]: cookie}
        image_dirs: dict[str, Path] = {}
        for index, (container_dir, files) in enumerate(sorted(self.extra_dirs.items())):
            host_dir = root / f"kubelet{index}"
            host_dir.mkdir()
            for file_name, content in files.items():
                (host_dir / file_name).write_text(content)
            image_dirs[container_dir] = host_dir
        if self.release_dir is not None:
            root_path = app.container["command"][0].rsplit("/bin/", 1)[0]
            image_dirs[root_path] = self.release_dir
        paths = materialise_volumes(app, root, secrets_data, image_dirs)
        facts = PodFacts(name=name, namespace=app.namespace, ip=net.ip_for(self.ip_family))
        raw = resolve_env(app.container, facts, secrets_data, config_maps)
        env = {**self.service_env, **{key: paths.translate(value) for key, value in raw.items()}}
        argv = node_command(app, env, paths, mode or self.mode)
        log = root / "node.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", net.netns, *argv],
                env={**IMAGE_ENV, **env},
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pod = Pod(name=name, net=net, node=raw["RELEASE_NODE"], process=process, root=root, env=raw, log=log,
                  app=app, paths=paths, launch_env={**IMAGE_ENV, **env})  # fmt: skip
        with self._lock:
            self.pods[name] = pod
        if self.pod_hook is not None:
            self.pod_hook(pod, True)
        return pod

    def start_pods(self, names: Iterable[str], **kwargs: Any) -> list[Pod]:
        """Start several pods at once (as a Parallel StatefulSet or a Deployment does)."""
        names = list(names)
        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            return list(pool.map(lambda n: self.start_pod(n, **kwargs), names))

    def kill(self, name: str) -> Pod:
        """A node failure: SIGKILL and the pod's network gone, no goodbye to the peers."""
        with self._lock:
            pod = self.pods.pop(name)
        self.network.remove_pod(name)
        _reap(pod.process)
        self.dead.append(pod)
        if self.pod_hook is not None:
            self.pod_hook(pod, False)
        return pod

    def stop(self, names: Iterable[str], timeout: float = 10.0) -> None:
        """Scale down: SIGTERM (init:stop, as the kubelet sends it), wait for the nodes to exit, then
        remove the pods' namespaces."""
        with self._lock:
            pods = [self.pods.pop(name) for name in names]
        for pod in pods:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pod.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for pod in pods:
            with contextlib.suppress(subprocess.TimeoutExpired):
                pod.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            self.network.remove_pod(pod.name)
            _reap(pod.process)
            self.dead.append(pod)
            if self.pod_hook is not None:
                self.pod_hook(pod, False)

    def terminate(self, name: str, grace: float | None = None) -> dict[str, float]:
        """Delete a pod the way the kubelet does: run the rendered preStop exec hook inside the pod (its env,
        its network namespace), then SIGTERM, then SIGKILL when terminationGracePeriodSeconds ends. Returns
        the seconds the hook took and the node took to exit after SIGTERM."""
        with self._lock:
            pod = self.pods[name]
        app = pod.app or self.app
        hook = (app.container.get("lifecycle") or {}).get("preStop") or {}
        limit = grace if grace is not None else float(app.pod_spec.get("terminationGracePeriodSeconds", 30))
        start = time.monotonic()
        if "exec" in hook:
            assert pod.paths is not None and pod.launch_env is not None
            argv = [pod.paths.translate(word) for word in hook["exec"]["command"]]
            with open(pod.root / "prestop.log", "wb") as out, contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(["ip", "netns", "exec", pod.net.netns, *argv], env=pod.launch_env, cwd=pod.root,
                               stdout=out, stderr=subprocess.STDOUT, timeout=limit)  # fmt: skip
        elif "sleep" in hook:
            time.sleep(min(limit, float(hook["sleep"]["seconds"])))
        hook_seconds = time.monotonic() - start
        with contextlib.suppress(ProcessLookupError):
            os.kill(pod.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            pod.process.wait(timeout=max(0.1, limit - hook_seconds))
        exit_seconds = time.monotonic() - start - hook_seconds
        with self._lock:
            self.pods.pop(name, None)
        self.network.remove_pod(name)
        _reap(pod.process)
        self.dead.append(pod)
        if self.pod_hook is not None:
            self.pod_hook(pod, False)
        return {"hook": hook_seconds, "exit": exit_seconds}

    def _stop(self, pod: Pod) -> None:
        with self._lock:
            self.pods.pop(pod.name, None)
        self.network.remove_pod(pod.name)
        _reap(pod.process)

    def partition(self, name: str, connected: bool) -> None:
        self.network.set_link(name, connected)

    @property
    def nodes(self) -> set[str]:
        with self._lock:
            return {p.node for p in self.pods.values()}

    def wait_booted(self, timeout: float = 15.0) -> float:
        """Poll until every running node's init has finished booting (a rollout that is done)."""
        assert self.control is not None
        control = self.control
        return wait_for(lambda: all(control.booted(sorted(self.nodes)).values()), timeout)

    def wait_mesh(self, expected: Iterable[str] | None = None, timeout: float = 15.0) -> float:
        """Poll until every expected node's nodes() is exactly the other expected nodes; returns the seconds
        it took. Fails with every node's view (and the logs of missing nodes) on timeout."""
        want = set(expected) if expected is not None else self.nodes
        assert self.control is not None
        start = time.monotonic()
        views: dict[str, set[str] | None] = {}
        while True:
            views = self.control.nodes(sorted(want))
            if all(views.get(n) == want - {n} for n in want):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                logs = "\n".join(f"--- {p.name} ({p.node})\n{p.logs()[-1500:]}" for p in self.pods.values()
                                 if views.get(p.node) is None)  # fmt: skip
                raise AssertionError(f"no full mesh of {sorted(want)} after {timeout} s: {views}\n{logs}")
            time.sleep(0.05)


def _reap(process: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# --- the control node ---------------------------------------------------------------------------

CONTROL_ERL = r"""
-module(beamkube_control).
%% Reads commands on stdin, one per line; answers on stdout in lines starting with "@@ " (the logger may
%% print reports in between). Hidden, so no node counts it in nodes().
-export([main/0]).

main() -> loop().

loop() ->
    case io:get_line("") of
        eof -> halt(0);
        {error, _} -> halt(0);
        Line ->
            case string:lexemes(string:trim(Line), " ") of
                ["nodes", Timeout | Nodes] -> nodes([list_to_atom(N) || N <- Nodes], list_to_integer(Timeout));
                ["status" | Nodes] -> status([list_to_atom(N) || N <- Nodes]);
                ["lookup", Type, Name] -> lookup(list_to_atom(Type), Name);
                ["burn", Node, Count] -> burn(list_to_atom(Node), list_to_integer(Count));
                ["eval", Node, Timeout | Words] -> eval(list_to_atom(Node), list_to_integer(Timeout),
                                                       lists:join(" ", Words));
                ["cookie", Node, Cookie] -> erlang:set_cookie(list_to_atom(Node), list_to_atom(Cookie)),
                                            io:format("@@ end~n");
                _ -> io:format("@@ error~n@@ end~n")
            end,
            loop()
    end.

nodes(Nodes, Timeout) ->
    Self = self(),
    Pids = [spawn(fun() -> Self ! {self(), N, rpc:call(N, erlang, nodes, [], Timeout)} end) || N <- Nodes],
    [receive {P, N, Reply} -> report(N, Reply) after Timeout + 500 -> io:format("@@ ~s down~n", [N]) end
     || {P, N} <- lists:zip(Pids, Nodes)],
    io:format("@@ end~n").

status(Nodes) ->
    [io:format("@@ ~s ~p~n", [N, case rpc:call(N, init, get_status, [], 1000) of
                                   {started, started} -> started; _ -> booting end]) || N <- Nodes],
    io:format("@@ end~n").

lookup(Type, Name) ->
    Items = [case Type of srv -> {_, _, _, Host} = R, Host; _ -> inet:ntoa(R) end
             || R <- inet_res:lookup(Name, in, Type)],
    io:format("@@ ~s~n@@ end~n", [lists:join(",", lists:sort(Items))]).

%% Busy processes on Node (interpreted by its erl_eval: no code of ours needs to be loaded there).
burn(Node, Count) ->
    {ok, Tokens, _} = erl_scan:string("F = fun(G) -> G(G) end, F(F)."),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    [spawn(Node, erl_eval, exprs, [Exprs, []]) || _ <- lists:seq(1, Count)],
    io:format("@@ end~n").

%% Evaluate an expression on Node (what `beamkube rpc` runs there), printing the result term.
eval(Node, Timeout, Text) ->
    {ok, Tokens, _} = erl_scan:string(Text),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    Reply = rpc:call(Node, erl_eval, exprs, [Exprs, []], Timeout),
    Value = case Reply of {value, V, _} -> V; Other -> Other end,
    io:format("@@ ~w~n@@ end~n", [Value]).

report(N, Peers) when is_list(Peers) ->
    io:format("@@ ~s ok ~s~n", [N, lists:join(",", [atom_to_list(P) || P <- lists:sort(Peers)])]);
report(N, _) -> io:format("@@ ~s down~n", [N]).
"""


def compile_control(directory: Path) -> Path:
    source = directory / "beamkube_control.erl"
    source.write_text(CONTROL_ERL)
    result = subprocess.run(["erlc", "-o", str(directory), str(source)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise LaunchError(f"erlc beamkube_control: {result.stdout}{result.stderr}")
    return directory


class Control:
    """`erl -hidden` in the switch namespace; `nodes()` asks every node for its nodes() in parallel."""

    def __init__(self, cluster: Cluster, extra_args: Sequence[str]) -> None:
        code = compile_control(cluster.root)
        host = GATEWAY_V6 if cluster.ip_family == "ipv6" else GATEWAY_V4
        argv = [
            "erl", "-noshell", "-hidden", "-name", f"control@{host}", "-setcookie", cluster.cookie,
            "-kernel", "net_ticktime", "2", "-pa", str(code), *extra_args, "-s", "beamkube_control", "main",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", cluster.network.switch, *argv],
            env={**IMAGE_ENV, "HOME": str(cluster.root)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._lock = threading.Lock()

    def _ask(self, line: str) -> list[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self._lock:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
            lines: list[str] = []
            while True:
                reply = self.process.stdout.readline()
                if not reply:
                    raise LaunchError("the control node exited")
                if not reply.startswith("@@ "):
                    continue  # a log report from the control node itself
                if reply.strip() == "@@ end":
                    return lines
                lines.append(reply[3:].strip())

    def nodes(self, nodes: Sequence[str], timeout_ms: int = 1000) -> dict[str, set[str] | None]:
        """Each node's nodes() (visible connections), or None when it does not answer."""
        if not nodes:
            return {}
        views: dict[str, set[str] | None] = {}
        for line in self._ask(f"nodes {timeout_ms} {' '.join(nodes)}"):
            node, status, *peers = line.split(" ")
            views[node] = set(filter(None, ",".join(peers).split(","))) if status == "ok" else None
        return views

    def lookup(self, name: str, rtype: str) -> list[str]:
        """`inet_res:lookup(Name, in, Type)` as a node in the cluster network sees it (addresses as text,
        SRV targets as host names), sorted."""
        lines = self._ask(f"lookup {rtype} {name}")
        return [item for item in lines[0].split(",") if item] if lines else []

    def booted(self, nodes: Sequence[str]) -> dict[str, bool]:
        """Whether each node's init has finished booting (`init:get_status()` is {started, started})."""
        if not nodes:
            return {}
        return {line.split(" ")[0]: line.split(" ")[1] == "started" for line in self._ask(f"status {' '.join(nodes)}")}

    def burn(self, node: str, count: int) -> None:
        """Start `count` busy processes on `node` (they run until the node stops)."""
        self._ask(f"burn {node} {count}")

    def eval(self, node: str, expression: str, timeout_ms: int = 2000) -> str:
        """`expression` (Erlang, ending with a dot) evaluated on `node`; the result printed with ~w."""
        lines = self._ask(f"eval {node} {timeout_ms} {expression}")
        return lines[0] if lines else ""

    def use_cookie(self, node: str, cookie: str) -> None:
        self._ask(f"cookie {node} {cookie}")

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        _reap(self.process)


@contextlib.contextmanager
def running_cluster(
    app: RenderedApp, *, cookie: str | None = None, **kwargs: Any
) -> Iterator[Cluster]:
    """A `PodNetwork` + `Cluster` for `app`, torn down (processes, namespaces, dirs) whatever happens."""
    namespace = app.namespace
    domain = app.cluster_domain
    search = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain]
    with PodNetwork(search=search) as network:
        # Never a leading "-": erl takes `-setcookie -x...` for a flag and picks a random cookie instead.
        cluster = Cluster(app, network, cookie=cookie or "c" + secrets.token_urlsafe(24), **kwargs)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.close()


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Poll `predicate` until true; returns the seconds it took or raises AssertionError."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - start


def make_tls_secret(
    directory: Path, *, ca_name: str = "beamkube-test-ca", san: str = "DNS:beam-node"
) -> dict[str, str]:
    """`tls.crt`, `tls.key` and `ca.crt` for a dist TLS Secret: a fresh CA (openssl) and one node certificate
    signed by it, shared by every pod as a Secret is, with one subjectAltName as cert-manager would set.
    Returns the Secret's data (PEM text)."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        result = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise LaunchError(f"openssl {args[0]}: {result.stderr.strip()}")

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN={ca_name}", "-keyout", "ca.key", "-out", "ca.crt",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=beam-node",
            "-keyout", "tls.key", "-out", "node.csr")
    (directory / "ext.cnf").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
        f"extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={san}\n"
    )
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "ext.cnf", "-out", "tls.crt")  # fmt: skip
    return {name: (directory / name).read_text() for name in ("tls.crt", "tls.key", "ca.crt")}
