"""The streaming front-end: audio samples in, one :class:`FrameBatch` row per 10 ms hop out.

Hop ``i`` covers samples ``[i*hop, (i+1)*hop)``; its time is the hop centre. Every analysis window
is centred on the hop centre and zero-padded before the stream start. The pitch analyser also gets
the frames of its ``context_hops`` neighbouring hops either side (zeros where there is no such hop)
for its continuity step. A hop is emitted once all of its fields are final: its windows (and the
pitch context) are complete, the syllable-nucleus look-ahead (3 hops) has
passed and so has the learned syllable counter's (10 hops, :mod:`edge.features.syllables`);
:attr:`FrontEnd.latency_hops` has the total. :meth:`FrontEnd.flush` ends the stream,
zero-padding after the last sample, so a stream of ``N`` samples yields exactly ``ceil(N/hop)``
hops. The output does not depend on how the stream is cut into blocks.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import InputError, ModelError
from edge.features.config import FeatureConfig
from edge.features.frames import SEMITONE_REF_HZ, FrameBatch
from edge.features.nuclei import NucleusDetector
from edge.features.rates import TempoTracker
from edge.features.spectral import SpectralAnalyzer
from edge.features.speech_gate import SpeechGate
from edge.features.strided import windows
from edge.features.syllables import (
    MICRO,
    SyllableCounter,
    SyllableEnsemble,
    SyllableNet,
    default_net,
)
from edge.features.vad import VoiceActivityDetector

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

#: Fields computed before the nucleus decision, held until then (all but the trailing-window ones).
_EARLY_FIELDS = (
    "t",
    "level_dbfs",
    "vad",
    "f0_hz",
    "f0_st",
    "voicing",
    "mel",
    "alpha_ratio_db",
    "hammarberg_db",
    "jitter",
    "shimmer",
)


class PitchResult(Protocol):
    """What a pitch analyser returns (see ``edge.features.pitch.PitchFrames``)."""

    @property
    def f0_hz(self) -> F32: ...
    @property
    def voicing(self) -> F32: ...
    @property
    def jitter(self) -> F32: ...
    @property
    def shimmer(self) -> F32: ...


class PitchAnalyzer(Protocol):
    """A pure pitch analyser (``edge.features.pitch.PitchTracker`` or a test fake): the result
    for a frame depends on that frame and on ``context_hops`` neighbouring frames either side."""

    @property
    def frame_length(self) -> int: ...

    @property
    def context_hops(self) -> int: ...

    def candidates(self, frames: F32) -> F32:
        """A per-frame summary (n, W): row ``i`` depends on frame ``i`` only."""
        ...

    def finish(self, frames: F32, candidates: F32, context: int) -> PitchResult:
        """Results for ``frames`` (n rows) from the candidates of ``n + 2 * context`` frames:
        ``context`` neighbours either side."""
        ...


def default_pitch_analyzer(config: FeatureConfig) -> PitchAnalyzer:
    """The project's pitch tracker."""
    from edge.features.pitch import PitchTracker

    tracker: PitchAnalyzer = PitchTracker(config)
    return tracker


class FrontEnd:
    """Per-hop features of one channel. Not thread-safe; one instance per channel."""

    def __init__(
        self,
        config: FeatureConfig | None = None,
        pitch: PitchAnalyzer | None = None,
        min_batch_hops: int = 1,
        syllable_net: SyllableNet | SyllableEnsemble | None = None,
        learned_syllables: bool | None = None,
    ) -> None:
        """``min_batch_hops``: analyse only once at least this many hops are complete (flush
        takes the rest). Each call costs a fixed ~0.5 ms of numpy overhead on a desktop core, so
        a caller that reads 10-20 ms blocks saves most of the CPU with e.g. 10 (100 ms) at the
        price of that much extra latency. The output is the same for any value.

        ``syllable_net``: the learned syllable counter's network or ensemble (default: the
        shipped file).
        ``learned_syllables``: True requires the network (:class:`~edge.errors.ModelError` if it
        was trained on other settings); False counts the intensity-peak nuclei instead (used to
        make the network's own training data); None (default) uses the network when it fits
        ``config`` and otherwise counts peaks, with a warning."""
        if min_batch_hops < 1:
            raise ValueError("min_batch_hops must be at least 1")
        self.min_batch_hops = min_batch_hops
        self.config = config if config is not None else FeatureConfig()
        self.pitch = pitch if pitch is not None else default_pitch_analyzer(self.config)
        self._spectral = SpectralAnalyzer(self.config)
        self._vad = VoiceActivityDetector(self.config)
        self._nuclei = NucleusDetector(self.config)
        self._tempo = TempoTracker(self.config)
        self._gate = SpeechGate(self.config, ahead=self._nuclei.lookahead)
        self._counter: SyllableCounter | None = None
        if learned_syllables or learned_syllables is None:
            net = syllable_net if syllable_net is not None else default_net()
            try:
                net.check_features(self.config)
            except ModelError:
                if learned_syllables:
                    raise
                log.warning(
                    "the syllable network does not fit these front-end settings: syllables are "
                    "intensity-peak nuclei (retrain with models.train_syllables)"
                )
            else:
                self._counter = SyllableCounter(net)
        self.hop = self.config.hop
        self._centre = self.hop // 2
        lengths = (
            self._spectral.frame_length,
            int(self.pitch.frame_length),
            self._nuclei.frame_length,
        )
        if min(lengths) < 1:
            raise ValueError("analysis windows must be at least one sample long")
        self._pitch_context = int(self.pitch.context_hops)
        if self._pitch_context < 0:
            raise ValueError("the pitch analyser's context must not be negative")
        reach = self._pitch_context * self.hop  # pitch frames of the neighbouring hops
        pitch_length = int(self.pitch.frame_length)
        self._left = max(n // 2 for n in lengths)
        """Samples each window reaches before the hop centre (at most)."""
        self._right = max(*(n - n // 2 for n in lengths), pitch_length - pitch_length // 2 + reach)
        """Samples each window reaches from the hop centre on (at most)."""
        counter_ahead = self._counter.lookahead if self._counter is not None else 0
        self.latency_hops = (
            self._nuclei.lookahead
            + counter_ahead
            + math.ceil((self._right - (self.hop - self._centre)) / self.hop)
        )
        """Hops a sample waits, beyond its own, before its hop is emitted (while streaming)."""
        self.reset()

    def reset(self) -> None:
        """Forget the stream; the next sample is sample 0 of a new one."""
        self._buf: F32 = np.zeros(self._left, np.float32)
        self._buf_start = -self._left
        """Stream index of ``self._buf[0]``."""
        self._received = 0
        self._next_hop = 0
        self._pending: dict[str, np.ndarray] | None = None
        self._pitch_ahead: F32 | None = None
        """Pitch candidates of hops ``[next_hop - c, next_hop + c)`` (``c`` = context hops),
        analysed by the previous call; None at the stream start."""
        self._held: dict[str, np.ndarray] | None = None
        """Rows final but for the learned syllable count."""
        if self._counter is not None:
            self._counter.reset()
        self._vad.reset()
        self._nuclei.reset()
        self._tempo.reset()
        self._gate.reset()

    @property
    def samples_received(self) -> int:
        return self._received

    def process(self, samples: npt.ArrayLike) -> FrameBatch:
        """Add samples (mono float in [-1, 1] or int16 at ``config.sample_rate``); return the
        hops that became final. Raises :class:`InputError` on unusable input, keeping the state."""
        x = self._as_float32(samples)
        self._buf = np.concatenate([self._buf, x])
        self._received += len(x)
        # Hop i is complete when centre + right <= received.
        n_ready = (self._received - self._right - self._centre) // self.hop + 1
        if n_ready - self._next_hop < self.min_batch_hops:
            return FrameBatch.empty(self.config.n_mels)
        early = self._analyze_hops(n_ready)
        return self._emit(early, final=False)

    def flush(self) -> FrameBatch:
        """End of stream: emit every remaining hop (zero-padding after the end), then reset."""
        n_hops = -(-self._received // self.hop)
        need = (n_hops - 1) * self.hop + self._centre + self._right
        pad = max(0, need - (self._buf_start + len(self._buf)))
        self._buf = np.concatenate([self._buf, np.zeros(pad, np.float32)])
        early = self._analyze_hops(max(n_hops, self._next_hop), end=n_hops)
        out = self._emit(early, final=True)
        self.reset()
        return out

    def _as_float32(self, samples: npt.ArrayLike) -> F32:
        try:
            a = np.asarray(samples)
        except (TypeError, ValueError) as exc:
            raise InputError(f"audio samples are not a numeric array: {exc}") from exc
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1:
            raise InputError(f"expected mono samples (1-D), got shape {a.shape}")
        if a.dtype == np.int16:
            return a.astype(np.float32) * np.float32(1.0 / 32768.0)
        if a.dtype.kind != "f":  # np.floating (float16 .. longdouble)
            raise InputError(f"expected int16 or float samples, got {a.dtype}")
        x = a.astype(np.float32)
        if not np.isfinite(x).all():
            raise InputError("audio samples contain NaN or infinity")
        return x

    def _analyze_hops(self, stop: int, end: int | None = None) -> dict[str, np.ndarray] | None:
        """Frame features of hops ``[self._next_hop, stop)``; drops samples no longer needed.
        ``end``: the stream has this many hops (at the flush): later hops are no context."""
        start = self._next_hop
        if stop <= start:
            return None
        cfg = self.config
        hops = np.arange(start, stop)
        first = start * self.hop + self._centre - self._buf_start  # buffer index of 1st centre
        count = stop - start
        spec_frames = self._frames(first, count, self._spectral.frame_length)
        inten_frames = self._frames(first, count, self._nuclei.frame_length)
        spectral = self._spectral.analyze(_remove_dc(spec_frames))
        pitch = self._pitch(start, stop, first, end)
        intensity = self._nuclei.intensity(_remove_dc(inten_frames))
        f0 = np.asarray(pitch.f0_hz, np.float32)
        voicing = np.asarray(pitch.voicing, np.float32)
        voiced = (voicing >= cfg.voicing_threshold) & np.isfinite(f0) & (f0 > 0)
        f0 = np.where(voiced, f0, np.float32(np.nan)).astype(np.float32, copy=False)
        # Only NaN or positive finite F0 here: log2 raises no floating-point warning.
        f0_st = (12.0 * np.log2(f0 / np.float32(SEMITONE_REF_HZ))).astype(np.float32, copy=False)
        vad = self._vad.update(spectral.mean_square, spectral.level_dbfs)
        nucleus_now = self._nuclei.push(intensity, voiced, vad)
        self._next_hop = stop
        drop = stop * self.hop + self._centre - self._left - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start += drop
        early: dict[str, np.ndarray] = {
            "t": (hops + 0.5) * (self.hop / cfg.sample_rate),
            "level_dbfs": spectral.level_dbfs,
            "vad": vad,
            "f0_hz": f0,
            "f0_st": f0_st,
            "voicing": voicing,
            "mel": spectral.mel,
            "alpha_ratio_db": spectral.alpha_ratio_db,
            "hammarberg_db": spectral.hammarberg_db,
            "jitter": np.where(voiced, np.asarray(pitch.jitter, np.float32), np.nan),
            "shimmer": np.where(voiced, np.asarray(pitch.shimmer, np.float32), np.nan),
            "_nucleus": nucleus_now,
        }
        return early

    def _pitch(self, start: int, stop: int, first: int, end: int | None) -> PitchResult:
        """Pitch of hops ``[start, stop)`` with ``c`` hops of context either side: candidates of
        hops before the stream or after its ``end`` come from zero frames (no such hop:
        unvoiced); those of ``[start - c, start + c)`` were kept from the previous call."""
        c, length = self._pitch_context, int(self.pitch.frame_length)
        ahead = self._pitch_ahead
        if ahead is None:  # the stream start: hops -c .. -1 do not exist
            ahead = self.pitch.candidates(np.zeros((c, length), np.float32))
            first_new = start
        else:
            first_new = start + c
        new = _remove_dc(
            self._frames(first + (first_new - start) * self.hop, stop + c - first_new, length)
        )
        if end is not None and stop + c > end:
            new[max(0, end - first_new) :] = 0.0
        cands = np.concatenate([ahead, self.pitch.candidates(new)])
        self._pitch_ahead = cands[len(cands) - 2 * c :]
        own = _remove_dc(self._frames(first, stop - start, length))
        return self.pitch.finish(own, cands, c)

    def _frames(self, first: int, count: int, length: int) -> F32:
        """Rows ``buf[c - length//2 : c - length//2 + length]`` for ``count`` centres ``c`` from
        buffer index ``first`` on, ``hop`` apart, as a strided view (no copy)."""
        lo = first - length // 2
        hi = lo + (count - 1) * self.hop + length
        if lo < 0 or hi > len(self._buf):
            raise AssertionError("analysis window outside the buffer")
        return windows(self._buf[lo:hi], length, self.hop)

    def _emit(self, early: dict[str, np.ndarray] | None, final: bool) -> FrameBatch:
        """Queue new hops; emit those whose nucleus decision and syllable count are in (all of
        them when final)."""
        decided = [] if early is None else [early.pop("_nucleus")]
        if early is not None:
            self._pending = (
                early
                if self._pending is None
                else {k: np.concatenate([self._pending[k], early[k]]) for k in early}
            )
        if final:
            decided.append(self._nuclei.finish())
        nucleus = np.concatenate(decided) if decided else np.zeros(0, np.bool_)
        k = len(nucleus)
        if self._pending is None or (k == 0 and not final):
            return FrameBatch.empty(self.config.n_mels)
        rows = {name: arr[:k] for name, arr in self._pending.items()}
        self._pending = {name: arr[k:] for name, arr in self._pending.items()}
        # Energy VAD -> speech only near voiced energetic hops (clicks and noise bursts are not).
        later = self._pending["vad"] & np.isfinite(self._pending["f0_hz"])
        rows["vad"] = self._gate.gate(rows["vad"], np.isfinite(rows["f0_hz"]), later)
        rows["nucleus"] = nucleus
        counted, micro = self._count(rows, final)
        if counted is None:
            return FrameBatch.empty(self.config.n_mels)
        rows = counted
        tempo = self._tempo.update(micro, rows["vad"], rows["f0_st"])
        return FrameBatch(
            **{name: rows[name] for name in _EARLY_FIELDS},
            nucleus=rows["nucleus"],
            syllables=(micro / MICRO).astype(np.float32),
            speech_rate_sps=tempo.speech_rate_sps,
            articulation_rate_sps=tempo.articulation_rate_sps,
            pitch_sd_st=tempo.pitch_sd_st,
            pause_s=tempo.pause_s,
        )

    def _count(
        self, rows: dict[str, np.ndarray], final: bool
    ) -> tuple[dict[str, np.ndarray] | None, npt.NDArray[np.int64]]:
        """Micro-syllables of the rows the counter has decided, and those rows (the others wait
        in ``self._held``)."""
        if self._counter is None:
            return rows, rows["nucleus"].astype(np.int64) * MICRO
        micro = [self._counter.push(rows)]
        if final:
            micro.append(self._counter.finish())
        got = np.concatenate(micro)
        held = (
            rows
            if self._held is None
            else {k: np.concatenate([self._held[k], rows[k]]) for k in rows}
        )
        k = len(got)
        self._held = {name: arr[k:] for name, arr in held.items()}
        if k == 0:
            return None, got
        return {name: arr[:k] for name, arr in held.items()}, got


def _remove_dc(frames: F32) -> F32:
    """Each row minus its own mean: a DC offset (cheap sound cards, some headsets) must not raise
    the level, the VAD's noise floor or the spectrum's lowest bins. Per frame, so it stays exactly
    block-size invariant and does not smear an impulse beyond the frames that contain it."""
    # np.add.reduce + divide is exactly what ``frames.mean(dtype=float64)`` does, without the
    # wrapper's per-call cost.
    mean = np.add.reduce(frames, axis=1, dtype=np.float64, keepdims=True)
    mean /= frames.shape[1]
    return np.subtract(frames, mean.astype(np.float32), dtype=np.float32)
