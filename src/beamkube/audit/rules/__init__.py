"""The rule catalogue: every rule beamkube audit knows, in ID order.

Role: data only (no I/O). IDs are stable: a rule may be reworded or retired, never renumbered.
"""

from __future__ import annotations

from beamkube.audit.model import Rule
from beamkube.audit.rules import beam, platform, workload

THEMES = {
    "resources": "Resources and QoS",
    "probes": "Probes",
    "rollout": "Rollout strategy and replicas",
    "availability": "Disruption budgets",
    "placement": "Anti-affinity and topology spread",
    "autoscaling": "Autoscaling (HPA/VPA)",
    "security": "Restricted securityContext",
    "image": "Image tag and pull policy",
    "network": "NetworkPolicy",
    "api": "Removed and deprecated API versions",
    "beam": "BEAM clustering and runtime",
}

RULES: tuple[Rule, ...] = tuple(sorted([*workload.RULES, *platform.RULES, *beam.RULES], key=lambda r: r.id))
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["BY_ID", "RULES", "THEMES"]
