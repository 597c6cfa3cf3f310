"""Fakes for device tests: scripted front-end and arousal model, synthetic hop streams."""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.features.frames import FrameBatch
from edge.protocols import AudioBlock

HOP = 0.01


def hops(
    n: int,
    t0: float = 0.0,
    *,
    vad: float | np.ndarray = 1.0,
    rate: float = 5.0,
    f0_st: float | np.ndarray | None = None,
    level: float = -20.0,
    spread_st: float = 2.0,
    seed: int = 0,
) -> FrameBatch:
    """``n`` hops of one channel: VAD on (bool or share), a constant articulation rate, and
    voiced F0 around 60 st with the given robust spread (Gaussian, SD = spread)."""
    rng = np.random.default_rng(seed)
    b = FrameBatch.empty(40)
    cols = {
        f.name: np.resize(getattr(b, f.name), (n, *getattr(b, f.name).shape[1:]))
        for f in dataclasses.fields(b)
    }
    cols = {k: np.zeros_like(v) for k, v in cols.items()}
    cols["t"] = t0 + HOP * (np.arange(n) + 0.5)
    v = np.broadcast_to(np.asarray(vad), (n,))
    cols["vad"] = v.astype(bool) if v.dtype == bool else rng.random(n) < v
    f0 = (
        (60.0 + spread_st * rng.standard_normal(n))
        if f0_st is None
        else np.broadcast_to(np.asarray(f0_st, np.float64), (n,))
    )
    cols["f0_st"] = np.where(cols["vad"], f0, np.nan).astype(np.float32)
    cols["articulation_rate_sps"] = np.where(cols["vad"], rate, np.nan).astype(np.float32)
    cols["speech_rate_sps"] = cols["articulation_rate_sps"]
    cols["level_dbfs"] = np.where(cols["vad"], level, -70.0).astype(np.float32)
    for k in (
        "f0_hz",
        "voicing",
        "alpha_ratio_db",
        "hammarberg_db",
        "jitter",
        "shimmer",
        "pitch_sd_st",
        "pause_s",
    ):
        cols[k] = cols[k].astype(np.float32)
    cols["mel"] = np.zeros((n, 40), np.float32)
    cols["nucleus"] = np.zeros(n, bool)
    return FrameBatch(**cols)


class ScriptedFrontEnd:
    """Returns the next hops of a prepared stream, one hop per 160 samples received."""

    def __init__(self, stream: FrameBatch) -> None:
        self.stream = stream
        self.pos = 0
        self.received = 0

    def process(self, samples: np.ndarray) -> FrameBatch:
        self.received += len(samples)
        stop = min(self.received // 160, len(self.stream))
        out = self.stream.slice(self.pos, stop)
        self.pos = stop
        return out

    def flush(self) -> FrameBatch:
        out = self.stream.slice(self.pos, len(self.stream))
        self.pos = len(self.stream)
        return out


class ScriptedModel:
    """An arousal model that scores every 50 hops from a function of time."""

    def __init__(self, arousal_at) -> None:
        self.arousal_at = arousal_at
        self.seen = 0

    def push(self, frames: FrameBatch):
        ends = [t for i, t in enumerate(frames.t) if (self.seen + i + 1) % 50 == 0]
        self.seen += len(frames)
        t = np.asarray(ends, np.float64)
        return t, np.asarray([self.arousal_at(x) for x in t], np.float32)


def scripted_factory(agent: FrameBatch, customer: FrameBatch):
    """A frontend_factory handing out the agent stream first, then the customer stream."""
    streams = [agent, customer]

    def make(config):
        return ScriptedFrontEnd(streams.pop(0))

    return make


def blocks(seconds: float, block_s: float = 0.1):
    n = round(block_s * 16000)
    for i in range(round(seconds / block_s)):
        yield AudioBlock(i * block_s, np.zeros((n, 2), np.int16), 16000)
