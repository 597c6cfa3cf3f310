"""A simulated desk's shift: generated two-channel calls with the moments a supervisor should see.

Each desk gets its own seed, so a dozen desks sound different and do not cue in lockstep. A call
is a random mix of calm turn-taking, a fast stretch (espeak-ng at 250-290 wpm), a stressed
stretch (raised pitch and rate, or EmoDB/RAVDESS anger/fear when a corpus is given), talking
over the customer, a long agent monologue and dead air; calls are separated by between-call
silence longer than ``calls.end_silence_s`` so the device closes each call.

Speech is espeak-ng (always installed by the bootstrap script); a corpus is read only when its
path is given, never fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.simulate.call_builder import Call
from edge.simulate.speech import F32, SR, read_wav_mono, resample

log = logging.getLogger(__name__)

MOMENTS = ("fast", "stressed", "overtalk", "monologue", "dead_air")
"""The stretches a call may contain besides calm turn-taking."""


@dataclass(frozen=True)
class CallPlan:
    """How one desk's calls are made."""

    call_s: float = 150.0
    """Typical call length (seconds; each call is 0.7-1.3 times this)."""
    gap_s: float = 75.0
    """Silence between calls (seconds); above ``calls.end_silence_s`` (60 s) so calls end."""
    moments_per_call: int = 2
    """How many of :data:`MOMENTS` each call contains (chosen at random, different per call)."""
    corpus: str | None = None
    """``emodb:DIR`` or ``ravdess:DIR``: stressed stretches from real acted speech."""


def corpus_clips(spec: str, stressed: bool) -> list[F32]:
    """Utterances (16 kHz mono) of one corpus, stressed (anger/fear) or calm emotions."""
    kind, _, path = spec.partition(":")
    if kind == "emodb":
        from models.emodb import utterances

        emotions = ("W", "A") if stressed else ("N", "L")
        files = [u.path for u in utterances(path or None) if u.emotion in emotions]
    elif kind == "ravdess":
        from models.ravdess import utterances as rav

        emotions = ("05", "06") if stressed else ("01", "02")
        files = [u.path for u in rav(path or None) if u.emotion in emotions]
    else:
        raise ValueError(f"corpus {spec!r}: expected emodb:DIR or ravdess:DIR")
    return [resample(*read_wav_mono(p)) for p in files[:60]]


class DeskCalls:
    """Generates one desk's calls, one :class:`numpy.ndarray` (n, 2) float32 per call + gap."""

    def __init__(self, seed: int, plan: CallPlan | None = None) -> None:
        self.seed = seed
        self.plan = plan or CallPlan()
        self.rng = np.random.default_rng(seed)
        self._corpus: list[F32] | None = None

    def _stressed_audio(self, call: Call, seconds: float) -> None:
        if self.plan.corpus:
            if self._corpus is None:
                self._corpus = corpus_clips(self.plan.corpus, stressed=True)
            clips = self._corpus
            out: list[F32] = []
            total = 0
            while total < seconds * SR and clips:
                c = clips[int(self.rng.integers(len(clips)))]
                gap = np.zeros(round(float(self.rng.uniform(0.4, 0.8)) * SR), np.float32)
                out += [c, gap]
                total += c.size + gap.size
            if out:
                call.agent_audio(np.concatenate(out)[: round(seconds * SR)])
                return
        call.agent_says(seconds, rate=int(self.rng.integers(230, 261)), pitch=80, gap_s=0.3)

    def _moment(self, call: Call, kind: str) -> None:
        if kind == "fast":
            call.agent_says(float(self.rng.uniform(25, 35)), rate=int(self.rng.integers(250, 291)))
        elif kind == "stressed":
            self._stressed_audio(call, float(self.rng.uniform(20, 30)))
        elif kind == "overtalk":
            call.agent_says(3)
            call.both(float(self.rng.uniform(4, 7)))
        elif kind == "monologue":
            call.agent_says(float(self.rng.uniform(65, 75)), gap_s=0.8)
        elif kind == "dead_air":
            call.pause(float(self.rng.uniform(12, 16)))
        call.pause(0.8)
        call.customer_says(float(self.rng.uniform(2, 4)))
        call.pause(0.8)

    def call(self, index: int) -> F32:
        """Call number ``index`` followed by its between-call silence, shape (n, 2)."""
        call = Call(seed=self.seed * 1009 + index)
        length = self.plan.call_s * float(self.rng.uniform(0.7, 1.3))
        k = min(self.plan.moments_per_call, len(MOMENTS))
        moments = [str(m) for m in self.rng.choice(MOMENTS, size=k, replace=False)]
        call.pause(float(self.rng.uniform(0.5, 2.0)))
        call.customer_says(float(self.rng.uniform(2, 4)))
        call.pause(0.6)
        slot = max(10.0, (length - 10.0) / (k + 1))
        for m in moments:
            call.calm(slot)
            self._moment(call, m)
        call.calm(slot)
        call.pause(self.plan.gap_s * float(self.rng.uniform(0.9, 1.2)))
        log.debug("desk seed %d call %d: %.0f s with %s", self.seed, index, call.now, moments)
        return call.audio()

    def calls(self) -> Iterator[F32]:
        """Calls without end (the desk works until it is stopped)."""
        i = 0
        while True:
            yield self.call(i)
            i += 1


def write_call_wav(path: Path, audio: F32) -> Path:
    """Write one generated call as 16-bit stereo PCM at 16 kHz."""
    from edge.simulate.speech import write_wav

    return write_wav(path, audio)
