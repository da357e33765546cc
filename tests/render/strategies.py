"""Hypothesis strategies for valid `beamkube.yaml` specs: every field of `AppSpec` varied within what the
model accepts (names up to their length limits, all flavours, identities, discovery modes, probes, jobs,
autoscalers, storage, TLS, IPv6, labels...). Most cross-field rules are respected by construction (storage only
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
def app_spec(draw: st.DrawFn) -> dict[str, Any]:
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
    return spec
