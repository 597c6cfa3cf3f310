"""The :class:`CueOutput` protocol and the timing of light and buzz patterns.

Patterns are pure functions of the time since the cue was shown, so an output driven by
``tick(now)`` from an injected clock can be tested without sleeping.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from edge.settings import Buzz, CueSettings, CueStyle, Pattern


@runtime_checkable
class CueOutput(Protocol):
    """Shows one cue at a time."""

    def show(self, cue: str, style: CueStyle) -> None:
        """Start showing ``cue`` (replacing any cue being shown)."""
        ...

    def clear(self) -> None:
        """Stop showing anything."""
        ...

    def tick(self, now: float) -> None:
        """Advance patterns to clock time ``now`` (seconds, from the injected clock)."""
        ...

    def close(self) -> None:
        """Clear and release the hardware."""
        ...


class NullCue:
    """Shows nothing (``--cue none``)."""

    def show(self, cue: str, style: CueStyle) -> None:
        pass

    def clear(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def close(self) -> None:
        pass


def light_level(pattern: Pattern, elapsed: float, settings: CueSettings) -> float:
    """LED level 0..1 (before brightness) ``elapsed`` seconds into ``pattern``."""
    if elapsed < 0:
        return 0.0
    if pattern == "steady":
        return 1.0
    if pattern == "blink":
        phase = (elapsed % settings.blink_period_s) / settings.blink_period_s
        return 1.0 if phase < 0.5 else 0.0
    # pulse: raised cosine "breathing", starting dark and peaking mid-period
    phase = (elapsed % settings.pulse_period_s) / settings.pulse_period_s
    return 0.5 - 0.5 * math.cos(2.0 * math.pi * phase)


def buzz_active(buzz: Buzz, elapsed: float, settings: CueSettings) -> bool:
    """Whether the motor runs ``elapsed`` seconds after the cue was shown."""
    if buzz == "none" or elapsed < 0:
        return False
    b = settings.buzz_s
    if buzz == "short":
        return elapsed < b
    return elapsed < b or 2 * b <= elapsed < 3 * b
