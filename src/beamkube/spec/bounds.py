"""Limits that Kubernetes and the BEAM enforce, checked on a spec before anything is rendered.

Role: pure. `check_bounds(spec)` runs inside `AppSpec`'s cross-field validator and raises `FieldError` naming the
field, so a spec that would be refused by the API server, by `erl` at boot, or by `beamkube audit` at error
severity fails at load time with the limit in the message. Sources of each limit are next to it.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from beamkube.quantity import cpu_millicores

if TYPE_CHECKING:
    from beamkube.spec.model import AppSpec

# erl: "+S Schedulers:SchedulerOnline ... The maximum for both values is 1024".
MAX_SCHEDULERS = 1024
# An Erlang atom (so a node name) holds at most 255 characters (erlang.org, efficiency guide "Advanced").
MAX_ATOM = 255
# k8s.io/apimachinery validation: a ConfigMap's or Secret's data at most 1 MiB in total (MaxSecretSize),
# annotations at most 256 KiB in total (TotalAnnotationSizeLimitB).
MAX_CONFIG_BYTES = 1024 * 1024
MAX_ANNOTATION_BYTES = 256 * 1024
# The longest pod IP a stateless node name holds (an IPv6 address written out in full).
MAX_POD_IP = 39


def check_bounds(spec: AppSpec) -> None:
    from beamkube.spec.model import FieldError

    problem = image_problem(spec.image)
    if problem is not None:
        raise FieldError(("image",), problem)
    cpu = spec.resources.limits.cpu
    if cpu is not None and math.ceil(cpu_millicores(cpu) / 1000) > MAX_SCHEDULERS:
        raise FieldError(
            ("resources", "limits", "cpu"),
            f"{cpu} would start {math.ceil(cpu_millicores(cpu) / 1000)} schedulers; the BEAM runs at most "
            f"{MAX_SCHEDULERS} (erl +S), so the CPU limit may be at most {MAX_SCHEDULERS}",
        )
    _check_node_name(spec)
    for index, job in enumerate(spec.jobs):
        if job.schedule is not None:
            problem = cron_problem(job.schedule)
            if problem is not None:
                raise FieldError(("jobs", index, "schedule"), f"'{job.schedule}' is not a cron schedule: {problem}")
    env_bytes = sum(len(k.encode()) + len(v.encode()) for k, v in spec.env.items())
    if env_bytes > MAX_CONFIG_BYTES:
        raise FieldError(("env",), f"holds {env_bytes:,} bytes; a ConfigMap holds at most {MAX_CONFIG_BYTES:,} (1 MiB)")
    vm_args_bytes = sum(len(line.encode()) + 1 for line in spec.release.vmArgs)
    if vm_args_bytes > MAX_CONFIG_BYTES // 2:
        raise FieldError(
            ("release", "vmArgs"), f"holds {vm_args_bytes:,} bytes; vm.args goes into a ConfigMap (at most 1 MiB)"
        )
    annotation_bytes = sum(len(k.encode()) + len(v.encode()) for k, v in spec.annotations.items())
    if annotation_bytes > MAX_ANNOTATION_BYTES:
        raise FieldError(
            ("annotations",), f"hold {annotation_bytes:,} bytes; Kubernetes allows {MAX_ANNOTATION_BYTES:,} in total"
        )
    _check_disruption(spec)
    no_cpu = spec.resources.requests.cpu is None and spec.resources.limits.cpu is None
    if spec.autoscaling is not None and spec.autoscaling.cpu is not None and no_cpu:
        raise FieldError(
            ("autoscaling", "cpu"),
            "scales on CPU utilisation, a percentage of the CPU request, but resources set no CPU request or limit "
            "(audit BK503); set resources.requests.cpu",
        )
    if spec.preStopSleepSeconds >= spec.terminationGracePeriodSeconds:
        raise FieldError(
            ("preStopSleepSeconds",),
            f"{spec.preStopSleepSeconds} is not shorter than terminationGracePeriodSeconds "
            f"({spec.terminationGracePeriodSeconds}): the pod would be killed before init:stop runs",
        )
    _check_static_peers(spec)
    _check_probes(spec)


def _check_node_name(spec: AppSpec) -> None:
    from beamkube.spec.model import FieldError, Identity

    if spec.identity is Identity.STABLE:
        ordinal = str(max(spec.max_replicas, spec.replicas) - 1)
        host = f"{spec.name}-{ordinal}.{spec.name}-headless.{spec.namespace}.svc.{spec.clusterDomain}"
    else:
        host = "f" * MAX_POD_IP
    node = f"{spec.release_name}@{host}"
    if len(node) > MAX_ATOM:
        where = ("release", "name") if spec.release.name is not None else ("name",)
        raise FieldError(
            where,
            f"makes node names of up to {len(node)} characters ({spec.release_name[:20]}...@{host[:20]}...); "
            f"an Erlang node name is an atom of at most {MAX_ATOM}",
        )


def _check_disruption(spec: AppSpec) -> None:
    """The cases `audit` (BK402) reports as blocking every eviction, which docs/render.md promises never
    to render: maxUnavailable 0, and a minAvailable (percentages rounded up, as the disruption controller
    does) that covers every pod."""
    from beamkube.spec.model import FieldError

    budget = spec.disruption
    if budget is None:
        return
    if budget.maxUnavailable in (0, "0%"):
        raise FieldError(
            ("disruption", "maxUnavailable"),
            f"{budget.maxUnavailable} never allows an eviction (node drains would hang); use 1 or more",
        )
    floor = spec.autoscaling.min if spec.autoscaling is not None else spec.replicas
    wanted = budget.minAvailable
    if floor == 0 and wanted not in (None, 0, "0%"):
        raise FieldError(
            ("disruption", "minAvailable"),
            f"{wanted} cannot be met with replicas: 0 (audit BK402); remove disruption while the app is scaled to 0",
        )
    if floor > 0 and isinstance(wanted, str) and wanted.endswith("%"):
        needed = math.ceil(int(wanted[:-1]) * floor / 100)
        if needed >= floor:
            raise FieldError(
                ("disruption", "minAvailable"),
                f"{wanted} of {floor} pods rounds up to {needed}: no pod is evictable (node drains would hang); "
                "use a lower value",
            )


def _check_static_peers(spec: AppSpec) -> None:
    from beamkube.spec.model import Discovery, FieldError

    if spec.effective_discovery is not Discovery.STATIC or spec.cluster.maxReplicas is None:
        return
    most = max(spec.replicas, spec.autoscaling.max if spec.autoscaling is not None else 0)
    if spec.cluster.maxReplicas < most:
        raise FieldError(
            ("cluster", "maxReplicas"),
            f"{spec.cluster.maxReplicas} lists fewer static peers than the {most} pods that can run; "
            "the pods past the list would never be connected",
        )


def _check_probes(spec: AppSpec) -> None:
    """A release image has `bin/<release>`, not mix (audit BK204, an error)."""
    from beamkube.spec.model import FieldError, Probe

    for name in ("readiness", "liveness", "startup"):
        probe = getattr(spec.probes, name)
        if isinstance(probe, Probe) and probe.exec is not None:
            words = [w for part in probe.exec for w in part.split()]
            if any(w == "mix" or w.endswith("/mix") for w in words):
                raise FieldError(
                    ("probes", name, "exec"),
                    "runs mix, which a release image does not contain (the probe would always fail); "
                    f"use bin/{spec.release_name} rpc, an http probe or a tcp probe",
                )


# --- image references: the grammar of github.com/distribution/reference (regexp.go) ------------------------

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
_TYPOGRAPHIC = "“”„‘’‚«»「」`´"
NAME_TOTAL_LENGTH_MAX = 255
DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}  # the algorithms go-digest registers


def image_problem(image: str) -> str | None:
    """Why `image` is not a valid reference, in words, or None."""
    shown = f"'{image}'" if len(image) <= 80 else f"'{image[:60]}...'"
    if any(c in _TYPOGRAPHIC for c in image):
        return f"{shown} contains typographic quotes; write the reference without them (or with plain ' or \")"
    if not image.isascii() or not image.isprintable():
        return f"{shown} contains characters an image reference cannot have (only ASCII letters, digits, ./:-_@)"
    if _REFERENCE.fullmatch(image) is not None:
        algorithm, _, hex_digits = image.partition("@")[2].partition(":")
        if algorithm and DIGEST_HEX.get(algorithm) != len(hex_digits):
            return f"{shown}: a digest is sha256: and 64 hex digits (or sha384: 96, sha512: 128)"
        name = image.split("@", 1)[0]
        if ":" in name.rsplit("/", 1)[-1]:
            name = name.rsplit(":", 1)[0]
        if len(name) > NAME_TOTAL_LENGTH_MAX:
            return f"{shown} has a name of {len(name)} characters; at most {NAME_TOTAL_LENGTH_MAX}"
        return None
    first, _, rest = image.partition("/")
    has_domain = bool(rest) and ("." in first or ":" in first or first == "localhost")
    path = rest if has_domain else image
    repository = re.split(r"[:@]", path, maxsplit=1)[0]
    if repository != repository.lower():
        return f"{shown}: the repository path must be lowercase ({repository.lower()})"
    if "@" in image:
        return f"{shown}: a digest is sha256: and 64 hex digits (or sha384: 96, sha512: 128)"
    return f"{shown} is not an image reference like ghcr.io/acme/app:1.2.3 or ghcr.io/acme/app@sha256:<digest>"


# --- cron: Kubernetes parses CronJob schedules with robfig/cron's standard parser ----------------------------

_FIELDS = (  # name, low, high, names
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def cron_problem(schedule: str) -> str | None:
    """What robfig/cron's ParseStandard (and so the API server) would refuse in `schedule`, or None."""
    text = schedule.strip()
    if "TZ" in text:
        return "a time zone cannot be part of the schedule (Kubernetes has a separate timeZone field)"
    if text.startswith("@"):
        return None if text in _DESCRIPTORS else f"expected one of {', '.join(_DESCRIPTORS)}"
    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in value.split(","):
            problem = _cron_part(part, low, high, names, question=name.startswith("day"))
            if problem is not None:
                return f"{name} '{value}': {problem}"
    return None


def _cron_part(part: str, low: int, high: int, names: tuple[str, ...], *, question: bool) -> str | None:
    span, slash, step = part.partition("/")
    if slash and (not step.isdigit() or not step.isascii() or int(step) == 0):
        return f"the step after / must be a positive number, not '{step}'"
    if span in ("*", "?"):
        return "? is only allowed in day of month and day of week" if span == "?" and not question else None
    start_text, dash, end_text = span.partition("-")
    bounds = []
    for item in (start_text, end_text) if dash else (start_text,):
        number = _cron_number(item, names)
        if number is None:
            return f"'{item}' is not a number" + (" or a name" if names else "")
        if not low <= number <= high:
            return f"{number} is outside {low}-{high}"
        bounds.append(number)
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        return f"the range {span} runs backwards"
    return None


def _cron_number(text: str, names: tuple[str, ...]) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text)
    lowered = text.lower()
    return names.index(lowered) + (1 if len(names) == 12 else 0) if lowered in names else None
