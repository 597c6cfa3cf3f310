"""The agent's own baseline: robust per-metric references that calibrate, then follow slowly.

Agent-side metrics (articulation rate, robust pitch spread, median pitch, model arousal) are fed per
tick of agent speech. Every ``summary_speech_s`` seconds of speech the articulation rate, the pitch
spread and the median pitch (semitones) are each reduced to their median over that stretch (one
*summary*); the baseline of such a metric is the median of its summaries over the last
``follow_speech_s`` seconds of speech, with a robust spread (1.4826 x MAD). Model arousal is kept
exactly as the model was evaluated: every agent speech window's logit goes into an
:class:`edge.model.baseline.ArousalBaseline` (the speaker's last 600 windows; midhinge centre,
IQR/1.349 spread floored at ``min_spread``), and ``stress`` is that baseline's
:meth:`~edge.model.baseline.ArousalBaseline.relative` score. The baseline is *ready* once
``calibration_speech_s`` seconds of speech were summarised. While ``frozen`` (a drift is active)
nothing is collected, so a drift never becomes the agent's new normal.

:class:`BaselineStore` keeps the state across restarts: written atomically (temp file, fsync,
rename, fsync of the directory); a missing file starts calibration, a corrupt one is logged as a
warning and calibration restarts (never a crash). A state file from before the arousal baseline
(version 1) keeps its rate and pitch references and only recalibrates arousal (with a warning).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import OutputError
from edge.fileio import check_replaceable, clean_stale_temps, exclusive_lock, write_bytes_atomic
from edge.model.baseline import ArousalBaseline
from edge.settings import BaselineSettings
from edge.settings.paths import baseline_state_file

log = logging.getLogger(__name__)

#: Metrics reduced to per-stretch summaries.
SUMMARY_METRICS = ("articulation_rate_sps", "pitch_spread_st", "pitch_level_st")
#: Summary metrics added after state version 2 was written: a state file without them is still
#: read, and they calibrate from the agent's next speech.
_LATER_METRICS = frozenset({"pitch_level_st"})
#: Metrics the baseline keeps (``arousal`` in an :class:`ArousalBaseline`, the others summarised).
METRICS = (*SUMMARY_METRICS, "arousal")
STATE_VERSION = 2
#: Older state files still accepted (version 1: arousal as summaries, dropped on load).
_OLD_VERSIONS = (1,)
#: A summary needs at least this fraction of finite values over its stretch to count.
_MIN_FINITE = 0.2


@dataclass(frozen=True)
class Reference:
    """Where the agent usually is on one metric."""

    median: float
    """Median of the summaries (``arousal``: the midhinge of the window logits)."""
    spread: float
    """1.4826 x median absolute deviation of the summaries, a robust SD (``arousal``: the
    :class:`ArousalBaseline` spread, IQR / 1.349 floored at its ``min_spread``)."""
    n: int
    """Number of summaries behind it (``arousal``: model windows)."""


class AgentBaseline:
    """Running, freezable, serialisable per-metric baseline of one agent."""

    def __init__(self, settings: BaselineSettings | None = None) -> None:
        settings = settings if settings is not None else BaselineSettings()
        self.settings = settings
        cap = max(1, math.ceil(settings.follow_speech_s / settings.summary_speech_s))
        self._summaries: dict[str, deque[float]] = {m: deque(maxlen=cap) for m in SUMMARY_METRICS}
        self._pending: dict[str, list[npt.NDArray[np.float64]]] = {m: [] for m in SUMMARY_METRICS}
        self.arousal = ArousalBaseline()
        """The agent's model-arousal baseline: every speech window's logit while not frozen."""
        self._pending_speech_s = 0.0
        self.speech_s = 0.0
        """Seconds of agent speech summarised since calibration started."""
        self.frozen = False
        """While True, observations are discarded."""
        self._cache: dict[str, Reference | None] = {}

    def reset(self) -> None:
        """Forget everything in place (the fleet's ``recalibrate``): calibrate anew."""
        self.__init__(self.settings)  # type: ignore[misc]

    @property
    def ready(self) -> bool:
        """Calibration is complete: relative cues may fire."""
        return self.speech_s >= self.settings.calibration_speech_s - 1e-6

    @property
    def arousal_ready(self) -> bool:
        """Calibrated and the arousal baseline holds enough windows for relative scores."""
        return self.ready and self.arousal.ready

    def arousal_relative(self, logit: float) -> float | None:
        """``logit`` in the agent's arousal spread units (``ArousalBaseline.relative``), or None
        before :attr:`arousal_ready`."""
        if not self.arousal_ready:
            return None
        return self.arousal.relative(logit)

    @property
    def calibration_progress(self) -> float:
        """0..1 share of the calibration speech collected."""
        return min(1.0, self.speech_s / self.settings.calibration_speech_s)

    def observe(self, speech_s: float, values: dict[str, npt.ArrayLike]) -> bool:
        """Feed ``speech_s`` seconds of agent speech and the metric values seen during it
        (``arousal``: the logits of the model windows that completed during it).

        Returns True when this call completed the calibration.
        """
        if self.frozen or speech_s <= 0:
            return False
        was_ready = self.ready
        for name, v in values.items():
            if name not in METRICS:
                raise KeyError(f"unknown baseline metric {name!r}")
            arr = np.asarray(v, dtype=np.float64).ravel()
            if name == "arousal":
                for x in arr:
                    self.arousal.add(float(x))  # non-finite values are ignored
                self._cache.pop(name, None)
            elif arr.size:
                self._pending[name].append(arr)
        self._pending_speech_s += speech_s
        if self._pending_speech_s >= self.settings.summary_speech_s - 1e-6:
            self._summarise()
        return self.ready and not was_ready

    def _summarise(self) -> None:
        for name, parts in self._pending.items():
            if not parts:
                continue
            arr = np.concatenate(parts)
            finite = arr[np.isfinite(arr)]
            if finite.size and finite.size >= _MIN_FINITE * arr.size:
                self._summaries[name].append(float(np.median(finite)))
            parts.clear()
        self.speech_s += self._pending_speech_s
        self._pending_speech_s = 0.0
        self._cache.clear()

    def reference(self, metric: str) -> Reference | None:
        """The metric's reference, or None before calibration or with too few summaries."""
        if not self.ready:
            return None
        if metric == "arousal":
            if not self.arousal.ready:
                return None
            centre, spread = self.arousal.centre_spread()
            return Reference(centre, spread, len(self.arousal))
        if metric not in self._cache:
            s = np.fromiter(self._summaries[metric], dtype=np.float64)
            if s.size < 3:
                self._cache[metric] = None
            else:
                med = float(np.median(s))
                mad = float(np.median(np.abs(s - med)))
                self._cache[metric] = Reference(med, 1.4826 * mad, int(s.size))
        return self._cache[metric]

    # -- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "speech_s": self.speech_s,
            "summaries": {m: list(q) for m, q in self._summaries.items()},
            "arousal": self.arousal.state(),
        }

    @classmethod
    def from_dict(cls, data: Any, settings: BaselineSettings | None = None) -> AgentBaseline:
        """Rebuild from :meth:`to_dict` output; raises ValueError on anything malformed in the
        rate and pitch state. A missing or unusable arousal baseline (e.g. a version-1 file)
        only restarts the arousal baseline, with a warning."""
        version = data.get("version") if isinstance(data, dict) else None
        if version != STATE_VERSION and version not in _OLD_VERSIONS:
            raise ValueError(f"not a version-{STATE_VERSION} baseline state")
        speech = data.get("speech_s")
        summaries = data.get("summaries")
        if not isinstance(speech, int | float) or not math.isfinite(speech) or speech < 0:
            raise ValueError("speech_s missing or invalid")
        expected = set(METRICS) if version == 1 else set(SUMMARY_METRICS)
        if not isinstance(summaries, dict) or set(summaries) | _LATER_METRICS != (
            expected | _LATER_METRICS
        ):
            raise ValueError("summaries missing or with unexpected metrics")
        out = cls(settings)
        try:
            arousal = data.get("arousal")
            if not isinstance(arousal, dict):
                raise ValueError("no arousal baseline in the state")
            out.arousal = ArousalBaseline.from_state(arousal)
        except (ValueError, TypeError) as exc:
            log.warning(
                "baseline state has no usable arousal baseline (%s): recalibrating arousal "
                "(stress waits for %d agent speech windows)",
                exc,
                out.arousal.settings.min_windows,
            )
            out.arousal = ArousalBaseline()
        for m in SUMMARY_METRICS:
            vals = summaries.get(m, [])
            if not isinstance(vals, list) or not all(
                isinstance(x, int | float) and math.isfinite(x) for x in vals
            ):
                raise ValueError(f"summaries of {m} are not a list of numbers")
            out._summaries[m].extend(float(x) for x in vals)
        out.speech_s = float(speech)
        return out


class BaselineStore:
    """Loads and atomically saves an :class:`AgentBaseline` at ``path``."""

    def __init__(self, path: Path | None, settings: BaselineSettings | None = None) -> None:
        self.path = baseline_state_file(path)
        """The state file (``None`` given: ``baseline.json`` in the state directory)."""
        self.settings = settings if settings is not None else BaselineSettings()

    @contextlib.contextmanager
    def hold(self) -> Iterator[BaselineStore]:
        """Lock the state file for the block (a second run on it fails at once with a clear
        error instead of racing) and remove temporary files an interrupted save left."""
        check_replaceable(self.path)
        with exclusive_lock(self.path):
            clean_stale_temps(self.path)
            yield self

    def load(self) -> AgentBaseline:
        """The saved baseline; a fresh (calibrating) one when missing or unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.info("no baseline at %s: calibrating on the agent's first speech", self.path)
            return AgentBaseline(self.settings)
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            log.warning("cannot read baseline %s (%s): recalibrating", self.path, why)
            return AgentBaseline(self.settings)
        try:
            baseline = AgentBaseline.from_dict(json.loads(text), self.settings)
        except RecursionError:
            log.warning("baseline file %s is corrupt (nested too deeply): recalibrating", self.path)
            return AgentBaseline(self.settings)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("baseline file %s is corrupt (%s): recalibrating", self.path, exc)
            return AgentBaseline(self.settings)
        log.info(
            "loaded baseline from %s (%.0f s of speech, %s)",
            self.path,
            baseline.speech_s,
            "ready" if baseline.ready else "still calibrating",
        )
        return baseline

    def save(self, baseline: AgentBaseline) -> None:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps(baseline.to_dict(), separators=(",", ":")).encode()
        write_bytes_atomic(self.path, blob, sync_dir=True)

    def reset(self) -> None:
        """Forget the baseline: the next run calibrates again."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            log.info("no baseline at %s to remove", self.path)
            return
        except OSError as exc:
            raise OutputError(f"cannot reset baseline {self.path}: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(
                f"cannot reset baseline {self.path}: not a regular file (check baseline.state_file)"
            )
        try:
            self.path.unlink()
            log.info("removed baseline %s", self.path)
        except FileNotFoundError:
            log.info("no baseline at %s to remove", self.path)
        except OSError as exc:
            raise OutputError(f"cannot reset baseline {self.path}: {exc.strerror}") from None
