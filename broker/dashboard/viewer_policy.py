"""What each role may see, by policy profile (the same profile names as the device's policy).

``default``: supervisors see everything the device publishes about their teams; ``eu``: no
arousal and no stress (cues, figures or alerts) for supervisors at all, and team figures only
as aggregates over at least ``min_aggregate_agents`` agents. An agent always sees their own
data; an admin sees what a supervisor of every team would see plus the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.accounts.roles import Principal, Role

PROFILES = ("default", "eu")
"""Profile names the dashboard knows (same names as the device policy profiles)."""


@dataclass(frozen=True)
class ViewerPolicy:
    """The viewer-side rules of one profile."""

    profile: str
    """Profile name (``default``, ``eu``)."""
    arousal_for_supervisors: bool
    """Whether supervisors and admins see arousal values."""
    stress_for_supervisors: bool
    """Whether supervisors and admins see stress cues and the "offer a break" alert."""
    min_aggregate_agents: int
    """Team figures are shown only when at least this many agents contribute (1: always)."""

    def sees_arousal(self, who: Principal) -> bool:
        return who.role is Role.AGENT or self.arousal_for_supervisors

    def sees_cue(self, who: Principal, cue: str) -> bool:
        return cue != "stress" or who.role is Role.AGENT or self.stress_for_supervisors

    def sees_stress_alerts(self, who: Principal) -> bool:
        return who.role is not Role.AGENT and self.stress_for_supervisors

    def filter_cues(self, who: Principal, cues: dict[str, int]) -> dict[str, int]:
        return {k: v for k, v in cues.items() if self.sees_cue(who, k)}


def viewer_policy(profile: str, min_aggregate_agents: int = 5) -> ViewerPolicy:
    """The viewer policy of a profile; unknown names are a ``ValueError``."""
    if profile == "default":
        return ViewerPolicy("default", True, True, 1)
    if profile == "eu":
        return ViewerPolicy("eu", False, False, max(1, min_aggregate_agents))
    raise ValueError(f"unknown policy profile {profile!r} (known: {', '.join(PROFILES)})")
