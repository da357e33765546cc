"""Hypothesis strategies for valid `beamkube.yaml` specs: every field of `AppSpec` varied within what the
model accepts (names up to their length limits, all flavours, identities, discovery modes, probes, jobs,
autoscalers, storage, TLS, IPv6, labels..., and the production fields: pull secrets, tolerations, node affinity,
per-group metadata, envFrom, volumes, sidecars, init containers, the ServiceAccount, Ingress hosts and TLS,
per-Job resources and env, processes). Most cross-field rules are respected by construction (storage only
with `identity: stable`), a few are left for the model to reject (see `app_spec`).

Role: test helper; pure.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


@st.composite
def dns_name(draw: st.DrawFn, max_len: int) -> str:
    """A DNS-1035 label (letter first, no trailing '-') of at most `max_len` characters."""
    first = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    middle = draw(st.text(NAME_CHARS, max_size=max(0, max_len - 2)))
    last = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")) if max_len > 1 else ""
    return (first + middle + last)[:max_len] if (first + middle + last)[-1] != "-" else first


def _long_or_short(max_len: int) -> st.SearchStrategy[str]:
    """Short names mostly, and names at the limit often enough to catch overflowing derived names."""
    at_limit = st.builds(lambda s: (s * max_len)[:max_len], dns_name(8).filter(lambda s: not s.endswith("-")))
    return st.one_of(dns_name(12), dns_name(max_len), at_limit)


label_value = st.from_regex(r"\A([a-z0-9]([-a-z0-9_.]{0,20}[a-z0-9])?)\Z")
label_key = st.one_of(
    # labels beamkube owns (app.kubernetes.io/*) are refused by the model: tests/render/test_bad_specs.py
    st.from_regex(r"\A[a-z][a-z0-9]{0,10}\Z"),
    st.from_regex(r"\A[a-z]{1,8}\.example\.com/[a-z][-a-z0-9]{0,10}[a-z0-9]\Z"),
)
env_name = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,15}\Z")
cpu = st.one_of(
    st.integers(1, 8).map(str),
    st.integers(50, 4000).map(lambda m: f"{m}m"),
    st.sampled_from(["0.5", "1.5"]),
)
memory = st.one_of(st.integers(64, 4096).map(lambda m: f"{m}Mi"), st.integers(1, 8).map(lambda g: f"{g}Gi"))
port = st.integers(1024, 65535)
image = st.one_of(
    st.builds(
        lambda n, t: f"registry.example.com/team/{n}:{t}", dns_name(20), st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,30}\Z")
    ),
    st.builds(lambda n: f"ghcr.io/acme/{n}", dns_name(20)),
    st.builds(lambda n, d: f"{n}@sha256:{d}", dns_name(20), st.from_regex(r"\A[0-9a-f]{64}\Z")),
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def probe(draw: st.DrawFn, has_web: bool) -> dict[str, Any] | bool | None:
    kind = draw(
        st.sampled_from(["default", "off", "http", "tcp", "exec"] if has_web else ["default", "off", "tcp", "exec"])
    )
    if kind == "default":
        return None
    if kind == "off":
        return False
    body: dict[str, Any]
    if kind == "http":
        body = {"http": {"path": draw(st.from_regex(r"\A/[a-z/]{0,20}\Z"))}}
    elif kind == "tcp":
        choices: list[Any] = ["web", "dist"] if has_web else ["dist"]
        body = {"tcp": {"port": draw(st.sampled_from(choices))}}
    else:
        body = {"exec": draw(st.lists(st.sampled_from(["/app/bin/check", "--ready", "-q"]), min_size=1, max_size=3))}
    for key, low, high in (("periodSeconds", 1, 60), ("timeoutSeconds", 1, 30), ("failureThreshold", 1, 30)):
        if draw(st.booleans()):
            body[key] = draw(st.integers(low, high))
    return body


@st.composite
def resources(draw: st.DrawFn) -> dict[str, Any]:
    """Requests never above limits (the model rejects that, as the API server would)."""
    out: dict[str, Any] = {"requests": {}, "limits": {}}
    for res, values in (("cpu", cpu), ("memory", memory)):
        mode = draw(st.sampled_from(["both-equal", "both", "inverted", "request-only", "limit-only", "none"]))
        value = draw(values)
        if mode == "both-equal":
            out["requests"][res] = out["limits"][res] = value
        elif mode == "both":
            out["requests"][res] = value
            out["limits"][res] = _double(value)
        elif mode == "inverted":  # a request above its limit: the model must reject it
            out["requests"][res] = _double(value)
            out["limits"][res] = value
        elif mode == "request-only":
            out["requests"][res] = value
        elif mode == "limit-only":
            out["limits"][res] = value
    return out


def _double(quantity: str) -> str:
    digits = "".join(ch for ch in quantity if ch.isdigit() or ch == ".")
    suffix = quantity[len(digits) :]
    number = float(digits) * 2
    return (str(int(number)) if number.is_integer() else str(number)) + suffix


@st.composite
def app_spec(draw: st.DrawFn, production: bool = False) -> dict[str, Any]:
    """A raw spec mapping (as loaded from YAML), valid field by field. Some cross-field combinations are
    deliberately left to the model to reject (requests above limits, app + job names too long for a CronJob,
    clashing ports or env names, a PDB that blocks every eviction): the property is over what it accepts."""
    stable = draw(st.booleans())
    name = draw(_long_or_short(40))
    spec: dict[str, Any] = {
        "name": name,
        "namespace": draw(_long_or_short(63)),
        "image": draw(image),
        "identity": "stable" if stable else "stateless",
        "replicas": draw(st.integers(0, 7)),
        "imagePullPolicy": draw(st.sampled_from(["IfNotPresent", "Always", "Never"])),
        "clusterDomain": draw(st.sampled_from(["cluster.local", "k8s.example.org"])),
        "terminationGracePeriodSeconds": draw(st.integers(5, 600)),
        "preStopSleepSeconds": draw(st.integers(0, 30)),
    }
    release: dict[str, Any] = {"flavour": draw(st.sampled_from(["mix", "relx", "distillery"]))}
    if draw(st.booleans()):
        release["name"] = draw(st.from_regex(r"\A[a-z][a-z0-9_]{0,20}\Z"))
    if draw(st.booleans()):
        release["vmArgs"] = draw(
            st.lists(st.sampled_from(["+K true", "+A 64", "-kernel shell_history enabled"]), max_size=2)
        )
    if draw(st.integers(0, 5)) == 0:
        release["command"] = ["/usr/bin/tini", "--", "/app/bin/app", "start"]
    spec["release"] = release

    # Ports: web, dist, epmd and metrics must all differ.
    ports = draw(st.lists(port, min_size=4, max_size=4, unique=True))
    has_web = draw(st.integers(0, 4)) > 0
    cluster: dict[str, Any] = {"distPort": ports[0], "epmdPort": draw(st.sampled_from([4369, ports[1]]))}
    discoveries = ["dns", "kubernetes", "none", None] + (["dnssrv", "static"] if stable else [])
    discovery = draw(st.sampled_from(discoveries))
    if discovery is not None:
        cluster["discovery"] = discovery
    if discovery == "static" and draw(st.booleans()):
        cluster["maxReplicas"] = draw(st.integers(1, 9))
    cluster["ipFamily"] = draw(st.sampled_from(["ipv4", "ipv6"]))
    if draw(st.booleans()):
        cluster["netTicktime"] = draw(st.integers(2, 120))
    if draw(st.booleans()):
        cluster["pollIntervalMs"] = draw(st.integers(500, 60_000))
    if draw(st.booleans()):
        cluster["tls"] = {"secretName": draw(dns_name(30)), "verify": draw(st.booleans())}
    if draw(st.booleans()):
        cluster["cookieSecret"] = draw(dns_name(40))
        cluster["cookieKey"] = draw(st.from_regex(r"\A[a-z][a-z0-9_.-]{0,10}\Z"))
    spec["cluster"] = cluster

    if has_web:
        web: dict[str, Any] = {
            "port": ports[2],
            "servicePort": draw(st.sampled_from([80, 443, 8080])),
            "serviceType": draw(st.sampled_from(["ClusterIP", "LoadBalancer", "NodePort"])),
        }
        if draw(st.booleans()):
            ingress: dict[str, Any] = {"host": draw(st.from_regex(r"\A[a-z][a-z0-9]{0,10}\.example\.com\Z"))}
            if draw(st.booleans()):
                ingress["tlsSecret"] = draw(dns_name(30))
            if draw(st.booleans()):
                ingress["className"] = "nginx"
            web["ingress"] = ingress
        spec["web"] = web
    else:
        spec["web"] = None
    if draw(st.booleans()):
        spec["metrics"] = {
            "port": draw(st.sampled_from([ports[3], ports[2], ports[0]] if has_web else [ports[3], ports[0]]))
        }

    spec["resources"] = draw(resources())
    if draw(st.integers(0, 4)) == 0:
        spec["limitRange"] = {}
    rollout: dict[str, Any] = {}
    if stable:
        rollout["podManagementPolicy"] = draw(st.sampled_from(["Parallel", "OrderedReady"]))
        rollout["partition"] = draw(st.integers(0, 3))
    elif draw(st.booleans()):
        rollout["strategy"] = "Recreate"
    else:
        rollout["maxSurge"] = draw(st.sampled_from([1, 2, "25%", "50%"]))
        rollout["maxUnavailable"] = draw(st.sampled_from([0, 1, "0%", "25%"]))
    spec["rollout"] = rollout
    spec["placement"] = {
        "antiAffinity": {
            "mode": draw(st.sampled_from(["preferred", "required", "off"])),
            "topology": draw(st.sampled_from(["hostname", "zone", "region"])),
        },
        "spread": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "topology": st.sampled_from(["hostname", "zone", "region"]),
                        "whenUnsatisfiable": st.sampled_from(["ScheduleAnyway", "DoNotSchedule"]),
                    }
                ),
                max_size=2,
                unique_by=lambda s: s["topology"],
            )
        ),
        "nodeSelector": draw(st.dictionaries(label_key, label_value, max_size=2)),
    }
    spec["probes"] = {k: v for k in ("readiness", "liveness", "startup") if (v := draw(probe(has_web))) is not None}
    if stable and draw(st.booleans()):
        spec["storage"] = {
            "size": draw(memory),
            "mountPath": draw(st.sampled_from(["/data", "/var/lib/app"])),
            "retainOnDelete": draw(st.booleans()),
        }
    spec["env"] = draw(st.dictionaries(st.from_regex(r"\AAPP_[A-Z0-9_]{1,10}\Z"), st.text(max_size=20), max_size=3))
    spec["secretEnv"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    # names beamkube sets itself are refused by the model (see test_bad_specs.py)
                    "name": st.from_regex(r"\AAPP_SECRET_[A-Z]{1,8}\Z"),
                    "secret": dns_name(30),
                    "key": st.sampled_from(["url", "key"]),
                }
            ),
            max_size=2,
        )
    )
    job_room = 30  # the model's limit; whether app name + job name fit is the model's business
    jobs = draw(
        st.lists(
            st.fixed_dictionaries(
                {"name": dns_name(job_room), "eval": st.sampled_from(["App.Release.migrate()", 'io:format("hi").'])},
                optional={"schedule": st.sampled_from(["@daily", "*/5 * * * *"])},
            ),
            max_size=2,
            unique_by=lambda j: j["name"],
        )
    )
    if release["flavour"] == "relx":  # relx cannot `eval` without a running node: such jobs run a command
        jobs = [{**{k: v for k, v in job.items() if k != "eval"}, "command": ["/app/bin/migrate"]} for job in jobs]
    spec["jobs"] = jobs
    autoscaled = draw(st.booleans())
    if autoscaled:
        low = draw(st.integers(1, 5))
        scaling: dict[str, Any] = {"min": low, "max": draw(st.integers(low, 20))}
        if draw(st.booleans()):
            scaling["cpu"] = draw(st.integers(10, 90))
        if draw(st.booleans()) or "cpu" not in scaling:
            scaling["pods"] = [{"name": "requests_per_second", "averageValue": "100"}]
        if draw(st.booleans()):
            scaling["external"] = [{"name": "queue_lag", "selector": {"topic": "orders"}, "value": "30"}]
        spec["autoscaling"] = scaling
    if draw(st.booleans()):
        modes = (
            ["Off"]
            if autoscaled and "cpu" in spec["autoscaling"]
            else ["Off", "Initial", "Recreate", "InPlaceOrRecreate"]
        )
        spec["vpa"] = {"updateMode": draw(st.sampled_from(modes))}
    floor = spec["autoscaling"]["min"] if autoscaled else spec["replicas"]
    if draw(st.booleans()):
        if draw(st.booleans()):
            spec["disruption"] = {"minAvailable": draw(st.integers(1, max(1, floor + 1)))}
        else:
            spec["disruption"] = {"maxUnavailable": draw(st.sampled_from([1, 2, "25%"]))}
    if draw(st.booleans()):
        spec["priority"] = draw(st.sampled_from([{"className": "system-high"}, {"value": 1000}]))
    spec["labels"] = draw(st.dictionaries(label_key, label_value, max_size=2))
    spec["annotations"] = draw(st.dictionaries(label_key, st.text(max_size=20), max_size=2))
    if draw(st.booleans()):
        spec["security"] = {"runAsUser": draw(st.integers(1, 70000)), "runAsGroup": draw(st.integers(1, 70000))}
    if production or draw(st.integers(0, 2)) > 0:
        production_fields(draw, spec, has_web=has_web, processes=production or draw(st.booleans()))
    return spec


# Valid resources only (the inverted case is covered by `resources()`), so most production specs are accepted.
small_resources = st.sampled_from(
    [
        {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        {"requests": {}, "limits": {}},
    ]
)


def _side_container(draw: st.DrawFn, name: str, volumes: list[str], *, sidecar: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "image": draw(image)}
    if draw(st.booleans()):
        body["args"] = draw(st.lists(st.sampled_from(["--port=5432", "-v", "instance:region:db"]), max_size=3))
    if draw(st.booleans()):
        body["env"] = draw(st.dictionaries(st.from_regex(r"\ASIDE_[A-Z]{1,6}\Z"), st.text(max_size=10), max_size=2))
    if draw(st.booleans()):
        body["envFrom"] = [{"secret": draw(dns_name(20)), "optional": draw(st.booleans())}]
    if draw(st.booleans()):
        body["resources"] = draw(small_resources)
    if volumes and draw(st.booleans()):
        body["volumeMounts"] = [{"name": draw(st.sampled_from(volumes)), "mountPath": "/side"}]
    if sidecar and draw(st.booleans()):
        body["ports"] = [{"name": "side-health", "containerPort": 9090}]
        body["probes"] = {"readiness": {"http": {"path": "/readiness", "port": 9090}}}
    if draw(st.booleans()):
        body["runAsUser"] = draw(st.integers(1, 70000))
    return body


def production_fields(draw: st.DrawFn, spec: dict[str, Any], *, has_web: bool, processes: bool) -> None:
    """The production-app fields: pull secrets, placement, per-group metadata, envFrom, volumes, sidecars,
    init containers, the ServiceAccount, Ingress hosts/TLS, per-Job resources and env, and processes."""
    spec["imagePullSecrets"] = draw(st.lists(dns_name(20), max_size=2, unique=True))
    placement = spec["placement"]
    placement["tolerations"] = draw(
        st.lists(
            st.one_of(
                st.builds(lambda k: {"key": k, "operator": "Exists"}, st.sampled_from(["dedicated", "spot"])),
                st.builds(
                    lambda k, v, e: {"key": k, "value": v, "effect": e},
                    st.sampled_from(["dedicated", "pool"]),
                    label_value,
                    st.sampled_from(["NoSchedule", "PreferNoSchedule"]),
                ),
                st.just(
                    {
                        "key": "node.kubernetes.io/unreachable",
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": 30,
                    }
                ),
            ),
            max_size=3,
        )
    )
    if draw(st.booleans()):
        expression = {"key": "pool", "operator": draw(st.sampled_from(["In", "NotIn"])), "values": ["beam", "general"]}
        placement["nodeAffinity"] = draw(
            st.sampled_from(
                [
                    {"required": [{"matchExpressions": [expression]}]},
                    {"preferred": [{"weight": 20, "matchExpressions": [{"key": "spot", "operator": "DoesNotExist"}]}]},
                ]
            )
        )
    meta = st.fixed_dictionaries(
        {},
        optional={
            "labels": st.dictionaries(label_key, label_value, max_size=2),
            "annotations": st.dictionaries(label_key, st.text(max_size=20), max_size=2),
        },
    )
    spec["objectMeta"] = {
        group: draw(meta) for group in ("webService", "headlessService", "ingress") if draw(st.booleans())
    }
    if draw(st.booleans()):
        spec["objectMeta"]["pods"] = {"labels": draw(st.dictionaries(label_key, label_value, max_size=2))}
    spec["envFrom"] = draw(
        st.lists(
            st.one_of(
                st.builds(lambda n, o: {"secret": n, "optional": o}, dns_name(30), st.booleans()),
                st.builds(lambda n: {"configMap": n, "prefix": "CFG_"}, dns_name(30)),
            ),
            max_size=2,
        )
    )
    volume_names = draw(st.lists(st.sampled_from(["certs", "cache", "uploads", "vault"]), max_size=3, unique=True))
    volumes = []
    for index, name in enumerate(volume_names):
        source = draw(
            st.sampled_from(
                [
                    {"secret": "app-certs"},
                    {"configMap": "app-files"},
                    {"persistentVolumeClaim": "shared-uploads"},
                    {
                        "csi": {
                            "driver": "secrets-store.csi.k8s.io",
                            "volumeAttributes": {"secretProviderClass": "vault"},
                        }
                    },
                    {"emptyDir": {"sizeLimit": "64Mi"}},
                    {"emptyDir": {"medium": "Memory"}},
                ]
            )
        )
        volume: dict[str, Any] = {"name": name, **source}
        if draw(st.booleans()):
            volume["mountPath"] = f"/mnt/{name}{index}"
        volumes.append(volume)
    spec["volumes"] = volumes
    names = draw(
        st.lists(st.sampled_from(["proxy", "vault-agent", "shipper", "wait-db", "setup"]), max_size=3, unique=True)
    )
    split = draw(st.integers(0, len(names)))
    spec["sidecars"] = [_side_container(draw, n, volume_names, sidecar=True) for n in names[:split]]
    spec["initContainers"] = [_side_container(draw, n, volume_names, sidecar=False) for n in names[split:]]
    if draw(st.booleans()):
        spec["serviceAccount"] = draw(
            st.sampled_from(
                [
                    {"existing": "shared-runtime"},
                    {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/app"}},
                    {
                        "annotations": {"iam.gke.io/gcp-service-account": "app@proj.iam.gserviceaccount.com"},
                        "labels": {"team": "core"},
                    },
                ]
            )
        )
    ingress = (spec.get("web") or {}).get("ingress")
    if ingress is not None:
        if draw(st.booleans()):
            ingress["extraHosts"] = [
                {"host": "www." + ingress["host"], "paths": draw(st.sampled_from([["/"], ["/api", "/ws"]]))}
            ]
        if draw(st.booleans()):
            ingress["certManager"] = draw(st.sampled_from([{"clusterIssuer": "letsencrypt"}, {"issuer": "local-ca"}]))
        ingress["pathType"] = draw(st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"]))
    for job in spec["jobs"]:
        if draw(st.booleans()):
            job["resources"] = draw(small_resources)
        if draw(st.booleans()):
            job["env"] = {"JOB_MODE": "batch"}
    discovery = spec["cluster"].get("discovery")
    if discovery != "static" and processes:
        types: dict[str, Any] = {}
        names = st.lists(st.sampled_from(["web", "worker", "scheduler", "api"]), min_size=1, max_size=3, unique=True)
        for name in draw(names):
            process: dict[str, Any] = {} if has_web or name != "web" else {"web": False}
            if draw(st.booleans()):
                process["replicas"] = draw(st.integers(0, 5))
            if draw(st.booleans()):
                process["resources"] = draw(small_resources)
            if draw(st.booleans()):
                process["env"] = {"ROLE": name.upper()}
            if draw(st.booleans()):
                process["command"] = ["/app/bin/app", "start"]
            if draw(st.booleans()):
                process["autoscaling"] = draw(st.sampled_from([False, {"min": 1, "max": 4, "cpu": 70}]))
            if draw(st.booleans()):
                process["disruption"] = draw(st.sampled_from([False, {"maxUnavailable": 1}]))
            if name != "web" or not has_web:
                process["probes"] = {}
            types[name] = process
        if has_web and "web" not in types:
            first = next(iter(types))
            types[first]["web"] = True
            types[first].pop("probes", None)
        spec["processes"] = types
