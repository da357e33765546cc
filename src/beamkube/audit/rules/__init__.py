"""The rule catalogue: every rule beamkube audit knows, in ID order.

Role: data only (no I/O). IDs are stable: a rule may be reworded or retired, never renumbered.
"""

from __future__ import annotations

from collections.abc import Iterator

from beamkube.audit.context import Context
from beamkube.audit.model import Hit, Manifest, Rule, Severity
from beamkube.audit.rules import batch, beam, live, objects, platform, pods, rbac, services, spread, workload


def _reported_by_engine(ctx: Context, m: Manifest) -> Iterator[Hit]:
    return iter(())


# Not a check of its own: the engine reports it when another rule's check fails on a field of an unexpected
# type, so malformed input gives a finding instead of a traceback.
MALFORMED = Rule(
    "BK001", Severity.ERROR, "input", "Object has a field of an unexpected type",
    "Validate the object against the Kubernetes schema (kubectl apply --dry-run=server -f FILE).",
    "The API server would reject the object; the named rule could not check it.",
    frozenset({"*"}), _reported_by_engine,
)

THEMES = {
    "input": "Malformed input",
    "resources": "Resources and QoS",
    "probes": "Probes",
    "rollout": "Rollout strategy and replicas",
    "availability": "Disruption budgets",
    "placement": "Anti-affinity and topology spread",
    "autoscaling": "Autoscaling (HPA/VPA)",
    "security": "Restricted securityContext",
    "image": "Image tag and pull policy",
    "network": "Services, Ingress and NetworkPolicy",
    "rbac": "RBAC",
    "api": "Removed and deprecated API versions",
    "beam": "BEAM clustering and runtime",
    "live": "Live cluster only (audit --cluster)",
}

_ALL = [MALFORMED, *objects.RULES, *workload.RULES, *batch.RULES, *pods.RULES, *platform.RULES, *services.RULES]
_ALL += [*spread.RULES, *rbac.RULES, *beam.RULES, *live.RULES]
RULES: tuple[Rule, ...] = tuple(sorted(_ALL, key=lambda r: r.id))
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["BY_ID", "MALFORMED", "RULES", "THEMES"]
