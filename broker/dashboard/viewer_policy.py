"""What each role may see, by policy profile: the device's profiles (:mod:`edge.policy`), read
for their central-side rules.

``default``: supervisors see everything the device publishes about their teams; ``eu`` (and
``private``): no arousal and no stress (cues, figures or alerts) for supervisors at all, and team
figures only as aggregates over at least ``min_aggregate_agents`` agents (the profile's
``min_team_aggregate``, 5, unless the dashboard settings say otherwise). An agent always sees
their own data; an admin sees what a supervisor of every team would see plus the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.accounts.roles import Principal, Role
from edge.policy import PROFILES as DEVICE_PROFILES
from edge.policy import profile as device_profile

PROFILES = tuple(DEVICE_PROFILES)
"""Profile names the dashboard knows: the device's (``default``, ``eu``, ``private``)."""


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


def viewer_policy(name: str, min_aggregate_agents: int | None = None) -> ViewerPolicy:
    """The viewer side of a device policy profile; unknown names are a ``ValueError``.

    ``min_aggregate_agents`` overrides the profile's minimum for profiles that aggregate team
    figures at all (``min_team_aggregate`` > 1); None keeps the profile's."""
    p = device_profile(name)
    minimum = p.min_team_aggregate
    if min_aggregate_agents is not None and minimum > 1:
        minimum = max(1, min_aggregate_agents)
    return ViewerPolicy(
        profile=p.name,
        arousal_for_supervisors=p.supervisor_sees_arousal,
        stress_for_supervisors=not p.hard_no_emotion,
        min_aggregate_agents=minimum,
    )
