"""Rules on topology spread constraints and HPA bounds that the API accepts but that never do what they say.

Role: pure (no I/O). Field semantics from the upstream API reference: `maxSkew` must be > 0,
`whenUnsatisfiable` is DoNotSchedule or ScheduleAnyway, `topologyKey` is required; an HPA whose
minReplicas equals maxReplicas never scales.
"""

from __future__ import annotations

from collections.abc import Iterator

from beamkube.audit.context import POD_KINDS, Context, as_list, as_map, pod_spec
from beamkube.audit.model import Hit, Manifest, Rule, Severity

_WHEN = ("DoNotSchedule", "ScheduleAnyway")


def bad_spread(ctx: Context, m: Manifest) -> Iterator[Hit]:
    for i, item in enumerate(as_list(pod_spec(m).get("topologySpreadConstraints"))):
        item = as_map(item)
        where = f"topologySpreadConstraints[{i}]"
        skew = item.get("maxSkew")
        if not isinstance(skew, int) or isinstance(skew, bool) or skew < 1:
            yield Hit(f"{where}.maxSkew {skew!r} (must be an integer >= 1)")
        if item.get("whenUnsatisfiable") not in _WHEN:
            yield Hit(f"{where}.whenUnsatisfiable {item.get('whenUnsatisfiable')!r} (allowed: {' or '.join(_WHEN)})")
        if not item.get("topologyKey"):
            yield Hit(f"{where}.topologyKey is missing")


def hpa_fixed(ctx: Context, m: Manifest) -> Iterator[Hit]:
    low, high = m.spec.get("minReplicas", 1), m.spec.get("maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low == high:
        yield Hit(f"minReplicas = maxReplicas = {low}")


RULES = [
    Rule("BK455", Severity.ERROR, "placement", "Topology spread constraint is invalid",
         "Give each constraint maxSkew >= 1, a topologyKey, and whenUnsatisfiable DoNotSchedule or ScheduleAnyway.",
         "The API server rejects the pod template; the spreading never applies.",
         frozenset(POD_KINDS), bad_spread),
    Rule("BK508", Severity.INFO, "autoscaling", "HPA can never scale (minReplicas = maxReplicas)",
         "Raise maxReplicas above minReplicas, or drop the HPA and set replicas.",
         "The autoscaler holds a fixed count: it only adds the BK504 tug-of-war with the workload's replicas.",
         frozenset({"HorizontalPodAutoscaler"}), hpa_fixed),
]
