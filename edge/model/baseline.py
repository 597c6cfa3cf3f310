"""Baseline-relative arousal: the model's logit against the speaker's own running baseline.

Design. Voices differ in pitch, loudness and timbre far more between people than arousal moves
them, so Poise judges each agent against themselves. The baseline keeps the logits of the
speaker's last ``capacity`` *speech* windows (silent windows are never scored, so they never
enter) and summarises them robustly:

* centre = midhinge = (25th + 75th percentile) / 2, which stays between a calm and an aroused
  cluster even when one of them holds more windows than the other (the median would not);
* spread = inter-quartile range / 1.349 (a standard deviation for normal data), floored at
  ``min_spread`` so a very steady voice does not turn noise into alarms.

``relative = (logit - centre) / spread``: 0 is the speaker's usual, +1 is one spread above it.
Until ``min_windows`` windows were seen the baseline is not ready and :meth:`update` returns None.
State is a plain dict (:meth:`ArousalBaseline.state` / :meth:`ArousalBaseline.from_state`) so the
device can persist an agent's baseline between calls.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass(frozen=True)
class BaselineSettings:
    """How the per-speaker baseline is kept."""

    capacity: int = 600
    """Speech windows remembered (600 x 0.5 s = 5 minutes of speech)."""

    min_windows: int = 20
    """Windows needed before relative scores are given (10 s of speech)."""

    min_spread: float = 0.5
    """Floor of the spread (logit units)."""

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.min_windows < 1:
            raise ValueError("capacity and min_windows must be positive")
        if self.min_windows > self.capacity:
            raise ValueError("min_windows cannot exceed capacity")
        if self.min_spread <= 0:
            raise ValueError("min_spread must be positive")


class ArousalBaseline:
    """One speaker's running baseline of arousal logits."""

    def __init__(self, settings: BaselineSettings | None = None) -> None:
        self.settings = settings if settings is not None else BaselineSettings()
        self._logits: deque[float] = deque(maxlen=self.settings.capacity)

    def __len__(self) -> int:
        return len(self._logits)

    @property
    def ready(self) -> bool:
        return len(self._logits) >= self.settings.min_windows

    def add(self, logit: float) -> None:
        """Remember one speech window's logit (non-finite values are ignored)."""
        if np.isfinite(logit):
            self._logits.append(float(logit))

    def centre_spread(self) -> tuple[float, float]:
        """(centre, spread) of what was seen so far; (0, min_spread) when empty."""
        if not self._logits:
            return 0.0, self.settings.min_spread
        q25, q75 = np.percentile(np.fromiter(self._logits, np.float64), [25.0, 75.0])
        return float((q25 + q75) / 2.0), max(float(q75 - q25) / 1.349, self.settings.min_spread)

    def relative(self, logit: float, require_ready: bool = True) -> float | None:
        """``(logit - centre) / spread`` without adding ``logit``; None if not ready (and
        ``require_ready``)."""
        if require_ready and not self.ready:
            return None
        centre, spread = self.centre_spread()
        return (float(logit) - centre) / spread

    def update(self, logit: float) -> float | None:
        """Add a speech window's logit, then return its relative score (None until ready)."""
        self.add(logit)
        return self.relative(logit)

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"version": STATE_VERSION, "logits": [round(v, 5) for v in self._logits]}

    @classmethod
    def from_state(
        cls, state: dict[str, Any], settings: BaselineSettings | None = None
    ) -> ArousalBaseline:
        """Rebuild from :meth:`state` (a different capacity keeps the newest values)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported baseline state version {state.get('version')!r}")
        b = cls(settings)
        for v in state.get("logits", []):
            b.add(float(v))
        return b


def score_relative(
    logits_per_item: Sequence[Iterable[float]], settings: BaselineSettings | None = None
) -> list[float]:
    """Offline scoring of one speaker's session: build the baseline from all their speech
    windows, then score each item (file) as the mean relative score of its windows (NaN for an
    item without windows). This is the device's baseline after calibration on the session."""
    items = [np.asarray(list(v), np.float64) for v in logits_per_item]
    base = ArousalBaseline(
        settings if settings is not None else BaselineSettings(capacity=1_000_000)
    )
    for v in items:
        for x in v:
            base.add(float(x))
    centre, spread = base.centre_spread()
    return [float(np.mean((v - centre) / spread)) if v.size else float("nan") for v in items]
