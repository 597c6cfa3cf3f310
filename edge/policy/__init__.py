"""Policy: which detectors run, and the single filter deciding what leaves the device.

Named profiles set the whole policy in one word (``policy.profile``); explicit ``policy.*`` keys
in the device TOML may tighten a profile, never loosen a hard rule of it (``eu`` refuses any
setting that would publish arousal or run stress for anyone but the agent).

* ``default``: all detectors run; ``stress`` is shown to the agent only; per-window metrics,
  the conversation cues and the agent's arousal (for roles the central policy allows) are
  published.
* ``eu``: for workplaces under the EU AI Act Art. 5(1)(f) (emotion inference in the workplace):
  ``stress`` is off unless explicitly set ``agent-only``, and no arousal value (agent or
  customer) and no stress or empathy event ever leaves the device; metrics (rates, pitch, talk
  time, cue counts of the published kinds) still do.
* ``private``: nothing but status and health leave the device.

:class:`OutboundFilter` is the only place that turns an event into something published; the
telemetry sink asks it for every event (see ``tests/telemetry`` for the proof that ``eu`` lets no
arousal or stress through).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.device.events import CallEvent, CueEvent, DriftEvent, Event, MetricsWindow
from edge.telemetry import payloads

EMOTION_DETECTORS = ("stress", "empathy")
"""Detectors that infer emotion (arousal) — never published under ``eu``."""


@dataclass(frozen=True)
class Profile:
    """The values a named profile gives the ``policy`` settings, and its hard rules."""

    name: str
    stress: str
    """``off`` or ``agent-only``."""
    publish_metrics: bool
    publish_arousal: bool
    publish_cues: tuple[str, ...]
    publish_events: bool
    """Publish cue on/off and call start/end events."""
    hard_no_emotion: bool
    """No arousal value and no emotion cue may be published, whatever else is set."""
    hard_no_telemetry: bool = False
    """Nothing but status and health may be published."""
    supervisor_sees_arousal: bool = True
    """(Central side) supervisors may see agents' arousal."""
    min_team_aggregate: int = 1
    """(Central side) team figures are shown to supervisors only over at least this many agents."""


PROFILES: dict[str, Profile] = {
    "default": Profile(
        "default",
        stress="agent-only",
        publish_metrics=True,
        publish_arousal=True,
        publish_cues=("overtalk", "monologue", "dead_air", "pace", "flat"),
        publish_events=True,
        hard_no_emotion=False,
    ),
    "eu": Profile(
        "eu",
        stress="off",
        publish_metrics=True,
        publish_arousal=False,
        publish_cues=("overtalk", "monologue", "dead_air", "pace", "flat"),
        publish_events=True,
        hard_no_emotion=True,
        supervisor_sees_arousal=False,
        min_team_aggregate=5,
    ),
    "private": Profile(
        "private",
        stress="agent-only",
        publish_metrics=False,
        publish_arousal=False,
        publish_cues=(),
        publish_events=False,
        hard_no_emotion=True,
        hard_no_telemetry=True,
        supervisor_sees_arousal=False,
        min_team_aggregate=5,
    ),
}
"""Every named profile."""


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy profile {name!r} (known: {', '.join(PROFILES)})"
        ) from None


def profile_defaults(name: str) -> dict[str, Any]:
    """The ``policy.*`` settings a profile stands for (merged under the user's keys)."""
    p = profile(name)
    return {
        "stress": p.stress,
        "publish_metrics": p.publish_metrics,
        "publish_arousal": p.publish_arousal,
        "publish_cues": list(p.publish_cues),
        "publish_events": p.publish_events,
    }


class OutboundFilter:
    """Decides, per event kind and per field, what may be published; builds the payload body.

    ``policy`` is an ``edge.settings.PolicySettings`` (already checked against its profile)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        prof = profile(policy.profile)
        self.no_emotion = prof.hard_no_emotion
        self.nothing = prof.hard_no_telemetry
        cues = set(policy.publish_cues) - {"stress"}
        if self.no_emotion:
            cues -= set(EMOTION_DETECTORS)
        self.cues = frozenset(cues)
        self.arousal = bool(policy.publish_arousal) and not self.no_emotion

    def outbound(self, event: Event) -> tuple[str, dict[str, Any]] | None:
        """``(topic kind, payload body)`` to publish for ``event``, or ``None``."""
        if self.nothing:
            return None
        if isinstance(event, MetricsWindow):
            if not self.policy.publish_metrics:
                return None
            return "metrics", payloads.metrics_body(event, self.arousal, self.cues)
        if not self.policy.publish_events:
            return None
        if isinstance(event, CueEvent | DriftEvent):
            if event.cue not in self.cues or isinstance(event, DriftEvent):
                return None
            return "events", payloads.cue_body(event)
        if isinstance(event, CallEvent):
            return "events", payloads.call_body(event)
        return None
