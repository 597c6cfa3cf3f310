"""Scripted two-channel calls: turn-taking built from espeak-ng speech and EmoDB utterances.

Used by bench/scenarios.py, bench/device_loop.py, bench/device_demo.py and the device tests.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.scenario_audio import (
    CUSTOMER_SENTENCES,
    F32,
    SR,
    read_wav_mono,
    resample,
    speech_block,
    stereo,
)

AGENT_VOICE = "en-us+norm"
CUSTOMER_VOICE = "en-us+f3"


class Call:
    """Builds a two-channel call turn by turn; ``now`` is the current length in seconds."""

    def __init__(self, seed: int) -> None:
        self.agent: list[F32] = []
        self.customer: list[F32] = []
        self.rng = np.random.default_rng(seed)
        self.n = 0

    @property
    def now(self) -> float:
        return self.n / SR

    def _add(self, a: F32 | None, c: F32 | None) -> None:
        n = max(0 if a is None else a.size, 0 if c is None else c.size)
        aa = np.zeros(n, np.float32)
        cc = np.zeros(n, np.float32)
        if a is not None:
            aa[: a.size] = a
        if c is not None:
            cc[: c.size] = c
        self.agent.append(aa)
        self.customer.append(cc)
        self.n += n

    def seed(self) -> int:
        return int(self.rng.integers(1 << 30))

    def agent_says(self, seconds: float, **kw: Any) -> None:
        kw.setdefault("voice", AGENT_VOICE)
        self._add(speech_block(seconds, seed=self.seed(), **kw), None)

    def agent_audio(self, x: F32) -> None:
        self._add(x, None)

    def customer_says(self, seconds: float) -> None:
        x = speech_block(
            seconds, seed=self.seed(), voice=CUSTOMER_VOICE, sentences=CUSTOMER_SENTENCES
        )
        self._add(None, x)

    def customer_audio(self, x: F32) -> None:
        self._add(None, x)

    def both(self, seconds: float) -> None:
        a = speech_block(seconds, seed=self.seed(), voice=AGENT_VOICE, gap_s=0.2)
        c = speech_block(
            seconds, seed=self.seed(), voice=CUSTOMER_VOICE, sentences=CUSTOMER_SENTENCES, gap_s=0.2
        )
        self._add(a, c)

    def pause(self, seconds: float) -> None:
        self._add(np.zeros(round(seconds * SR), np.float32), None)

    def calm(self, seconds: float, **agent_kw: Any) -> None:
        """Ordinary turn-taking: agent turns of 8-20 s, customer turns of 2-5 s."""
        end = self.now + seconds
        while self.now < end:
            self.agent_says(float(self.rng.uniform(8, 20)), **agent_kw)
            self.pause(float(self.rng.uniform(0.4, 1.2)))
            self.customer_says(float(self.rng.uniform(2, 5)))
            self.pause(float(self.rng.uniform(0.4, 1.2)))

    def varied(self, seconds: float) -> None:
        """Less tidy calm speech: each agent turn at its own rate (140-200 wpm) and voice, short
        customer backchannels over the agent ("Okay."), and thinking pauses of 2-6 s."""
        end = self.now + seconds
        while self.now < end:
            rate = int(self.rng.integers(140, 201))
            voice = str(self.rng.choice([AGENT_VOICE, "en-us", "en-gb-x-rp"]))
            a = speech_block(
                float(self.rng.uniform(6, 22)), seed=self.seed(), rate=rate, voice=voice
            )
            c = np.zeros_like(a)
            if self.rng.random() < 0.5:
                bc = speech_block(
                    0.8,
                    seed=self.seed(),
                    voice=CUSTOMER_VOICE,
                    sentences=("Okay.", "Yes.", "Right.", "Mhm."),
                    gap_s=0.0,
                )
                at = int(self.rng.uniform(0.3, 0.7) * a.size)
                n = min(bc.size, a.size - at)
                c[at : at + n] = bc[:n]
            self._add(a, c)
            self.pause(float(self.rng.uniform(2, 6)) if self.rng.random() < 0.3 else 0.6)
            self.customer_says(float(self.rng.uniform(1.5, 6)))
            self.pause(float(self.rng.uniform(0.3, 1.5)))

    def audio(self) -> F32:
        return stereo(np.concatenate(self.agent), np.concatenate(self.customer))


def heldout_speaker(preferred: tuple[str, ...]) -> tuple[str, bool]:
    """The first preferred EmoDB speaker the model card does not list as a training speaker
    (so the stress/empathy scenarios do not score the model on its own training voices), and
    whether the model was trained on it after all (every speaker listed: results optimistic)."""
    card = Path(__file__).resolve().parent.parent / "models" / "prosody-v1.json"
    trained: set[str] = set()
    with contextlib.suppress(OSError, ValueError):
        trained = set(json.loads(card.read_text()).get("training", {}).get("speakers", []))
    for spk in preferred:
        if spk not in trained:
            return spk, False
    return preferred[0], True


def emodb_stretch(speaker: str, emotions: str, seconds: float, seed: int) -> F32:
    """EmoDB utterances of one speaker and emotions, shuffled, 0.5-0.9 s apart, to ``seconds``."""
    from models.emodb import utterances

    files = [u.path for u in utterances() if u.speaker == speaker and u.emotion in emotions]
    clips = [resample(*read_wav_mono(p)) for p in files]
    rng = np.random.default_rng(seed)
    out: list[F32] = []
    total = 0
    while total < seconds * SR:
        for i in rng.permutation(len(clips)):
            gap = np.zeros(round(float(rng.uniform(0.5, 0.9)) * SR), np.float32)
            out += [clips[i], gap]
            total += clips[i].size + gap.size
    return np.concatenate(out)[: round(seconds * SR)]
