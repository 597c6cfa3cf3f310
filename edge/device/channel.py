"""One side of the device loop (agent or customer): its feature front-end, its optional arousal
model, and the hops and scores the pipeline's decision ticks have not consumed yet."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.device.arousal import ArousalModel, empty_scores
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch


class FrontEndLike(Protocol):
    """What the pipeline needs of :class:`edge.features.frontend.FrontEnd`."""

    def process(self, samples: npt.NDArray[Any]) -> FrameBatch: ...

    def flush(self) -> FrameBatch: ...


def default_frontend(
    config: FeatureConfig, min_batch_hops: int = 1, learned_syllables: bool = False
) -> FrontEndLike:
    from edge.features.frontend import FrontEnd

    fe: FrontEndLike = FrontEnd(
        config, min_batch_hops=min_batch_hops, learned_syllables=learned_syllables
    )
    return fe


class Channel:
    """One side: front-end, optional model, and hops/scores not yet consumed by a tick."""

    def __init__(self, fe: FrontEndLike, model: ArousalModel | None, n_mels: int) -> None:
        self.fe = fe
        self.model = model
        self.pending = FrameBatch.empty(n_mels)
        self.score_t: npt.NDArray[np.float64] = np.zeros(0, np.float64)
        self.score_v: npt.NDArray[np.float32] = np.zeros(0, np.float32)

    def add(self, batch: FrameBatch) -> None:
        if not len(batch):
            return
        self.pending = FrameBatch.concat([self.pending, batch]) if len(self.pending) else batch
        t, v = self.model.push(batch) if self.model is not None else empty_scores()
        if t.size:
            self.score_t = np.concatenate([self.score_t, t])
            self.score_v = np.concatenate([self.score_v, v])

    def take(self, n: int) -> FrameBatch:
        out = self.pending.slice(0, n)
        self.pending = self.pending.slice(n, len(self.pending))
        return out

    def scores_until(self, t: float) -> npt.NDArray[np.float32]:
        k = int(np.searchsorted(self.score_t, t + 1e-9, side="right"))
        out = self.score_v[:k]
        self.score_t, self.score_v = self.score_t[k:], self.score_v[k:]
        return out
