"""Scripted two-channel calls: turn-taking built from espeak-ng speech (corpora: bench.heldout).

Used by bench/scenarios.py, bench/device_loop.py, bench/device_demo.py and the device tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.simulate.speech import (
    CUSTOMER_SENTENCES,
    F32,
    SR,
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
