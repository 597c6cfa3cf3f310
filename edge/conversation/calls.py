"""Where a call starts and ends: the one definition the device loop uses.

A call **starts** once both sides have spoken (VAD) with no silence of ``end_silence_s`` between
them — the far end carries audio only while the phone is off-hook, and the agent answers or
greets; without a far end (a mono replay) the agent's speech alone starts it. The call's start
time is the first speech of that stretch. It **ends** when neither side has spoken for
``end_silence_s``; its end time is the last speech. Each call gets a random id (128 bits, hex),
derived from nothing about the people on it.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CallSettings:
    """How the device decides where calls start and end."""

    end_silence_s: float = 60.0
    """Silence of both sides (seconds) that ends a call; shorter silences are dead air inside
    the call."""

    def __post_init__(self) -> None:
        if not 1.0 <= self.end_silence_s <= 3600.0:
            raise ValueError("end_silence_s must be within 1..3600")


@dataclass(frozen=True)
class CallChange:
    """A call started (``start``) or ended (``end``) at audio time ``t``."""

    state: str
    call: str
    t: float
    started_t: float
    """First speech of the call."""
    ended_t: float | None = None
    """Last speech of the call (for ``end``)."""

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_t is None else self.ended_t - self.started_t


def random_call_id() -> str:
    return secrets.token_hex(16)


class CallTracker:
    """Streaming call boundaries from per-tick speech flags of both sides."""

    def __init__(
        self,
        settings: CallSettings | None = None,
        far_end: bool = True,
        new_id: Callable[[], str] = random_call_id,
    ) -> None:
        self.settings = settings or CallSettings()
        self.far_end = far_end
        self.new_id = new_id
        self.call: str | None = None
        """Id of the call in progress, or ``None``."""
        self.started_t = math.nan
        self._agent_first = math.nan
        self._customer_first = math.nan
        self._last_speech = -math.inf

    @property
    def in_call(self) -> bool:
        return self.call is not None

    def update(self, t: float, agent_speech: bool, customer_speech: bool) -> CallChange | None:
        """One tick ending at ``t``; return the change it caused, if any."""
        gap = self.settings.end_silence_s
        if agent_speech or customer_speech:
            if t - self._last_speech > gap:  # a fresh stretch of speech
                self._agent_first = self._customer_first = math.nan
            if agent_speech and math.isnan(self._agent_first):
                self._agent_first = t
            if customer_speech and math.isnan(self._customer_first):
                self._customer_first = t
            self._last_speech = t
        if self.call is None:
            both = not math.isnan(self._agent_first) and (
                not self.far_end or not math.isnan(self._customer_first)
            )
            if both and t - self._last_speech <= gap:
                firsts = [x for x in (self._agent_first, self._customer_first) if not math.isnan(x)]
                self.call = self.new_id()
                self.started_t = min(firsts)
                return CallChange("start", self.call, t, self.started_t)
            return None
        if t - self._last_speech > gap:
            return self.end(t)
        return None

    def end(self, t: float) -> CallChange | None:
        """End the call in progress now (end of stream, agent signed out)."""
        if self.call is None:
            return None
        change = CallChange("end", self.call, t, self.started_t, max(self._last_speech, 0.0))
        self.call = None
        self._agent_first = self._customer_first = math.nan
        return change
