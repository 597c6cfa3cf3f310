"""Talk spurts: streaming smoothing of one side's per-hop voice activity.

Silent gaps shorter than ``bridge`` hops between speech are filled, then spurts shorter than
``min`` hops are dropped. :class:`SpurtSmoother` emits each hop once its smoothed value can no
longer change (a silence once it reaches the bridge length, a spurt's start once the spurt reaches
the minimum length), so feeding a stream in any chunking gives the same result as feeding it whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

B = npt.NDArray[np.bool_]


def runs(x: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start and end (exclusive) indices of runs of equal values in a 1-D array."""
    if x.size == 0:
        e = np.zeros(0, np.int64)
        return e, e
    change = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [x.size]]).astype(np.int64)
    return starts, ends


class SpurtSmoother:
    """Streaming VAD smoothing for one side: emits decided hops (in order, possibly lagging)."""

    def __init__(self, bridge_hops: int, min_hops: int) -> None:
        self.bridge = max(int(bridge_hops), 0)
        self.min = max(int(min_hops), 1)
        self._pending = np.zeros(0, np.bool_)
        self._confirmed = False  # the pending hops follow a spurt already known to be speech

    def _smooth(self, x: B, final: bool) -> tuple[B, int, int]:
        """Bridge and drop; return (smoothed, start, end) of the last bridged true run (or -1)."""
        y = x.copy()
        s, e = runs(y)
        vals = y[s] if s.size else np.zeros(0, np.bool_)
        inner = (~vals) & (np.arange(s.size) > 0) & (np.arange(s.size) < s.size - 1)
        fill = inner & ((e - s) < self.bridge)
        for a, b in zip(s[fill], e[fill], strict=True):
            y[a:b] = True
        s, e = runs(y)
        vals = y[s] if s.size else np.zeros(0, np.bool_)
        short = vals & ((e - s) < self.min)
        if not final and s.size and vals[-1]:
            short[-1] = False  # a spurt touching the end may still grow
        for a, b in zip(s[short], e[short], strict=True):
            y[a:b] = False
        true_idx = np.flatnonzero(vals)
        if true_idx.size == 0:
            return y, -1, -1
        k = int(true_idx[-1])
        return y, int(s[k]), int(e[k])

    def feed(self, raw: B) -> B:
        """Take raw VAD hops; return the hops whose smoothed value can no longer change."""
        prefix = self.min if self._confirmed else 0
        x = np.concatenate([np.ones(prefix, np.bool_), self._pending, np.asarray(raw, np.bool_)])
        y, s, e = self._smooth(x, final=False)
        n = x.size
        if s < 0 or n - e >= self.bridge:
            horizon, self._confirmed = n, False
        elif e - s >= self.min:
            horizon, self._confirmed = e, True
        else:
            horizon, self._confirmed = s, False
        self._pending = x[horizon:]
        return y[prefix:horizon]

    def flush(self) -> B:
        """End of stream: decide everything still pending."""
        prefix = self.min if self._confirmed else 0
        x = np.concatenate([np.ones(prefix, np.bool_), self._pending])
        y, _, _ = self._smooth(x, final=True)
        self._pending = np.zeros(0, np.bool_)
        self._confirmed = False
        return y[prefix:]
