"""The prosody network: a small 1-D CNN over one input window, giving an arousal logit.

Time is the convolution axis, the mel bands and prosody channels are the input channels. The
output is a single logit (``sigmoid`` gives the probability of high arousal); the logit rather than
the probability is exported so int8 quantisation keeps resolution where the per-speaker baseline
needs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkSettings:
    """Size of the network."""

    filters: tuple[int, ...] = (32, 48, 64)
    """Output channels of each convolution block."""

    kernels: tuple[int, ...] = (5, 3, 3)
    """Kernel length (hops) of each convolution block."""

    strides: tuple[int, ...] = (2, 1, 1)
    """Convolution stride of each block (the first halves the time axis cheaply)."""

    pools: tuple[int, ...] = (1, 2, 1)
    """Max-pool factor after each block (1 = none)."""

    dropout: float = 0.3
    """Dropout before the output layer (training only)."""

    l2: float = 1e-4
    """L2 weight decay on the convolution kernels."""

    def __post_init__(self) -> None:
        if not len(self.filters) == len(self.kernels) == len(self.strides) == len(self.pools):
            raise ValueError("filters, kernels, strides and pools need the same length")


def build_network(
    input_shape: tuple[int, int], settings: NetworkSettings = NetworkSettings()
) -> Any:
    """A compiled-ready ``keras.Model`` mapping (batch, hops, channels) to (batch, 1) logits."""
    import keras
    from keras import layers

    reg = keras.regularizers.l2(settings.l2) if settings.l2 > 0 else None
    inp = keras.Input(shape=input_shape, name="window")
    x = inp
    blocks = zip(settings.filters, settings.kernels, settings.strides, settings.pools, strict=True)
    for i, (f, k, st, p) in enumerate(blocks):
        x = layers.Conv1D(
            f,
            k,
            strides=st,
            padding="same",
            use_bias=False,
            kernel_regularizer=reg,
            name=f"conv{i}",
        )(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        if p > 1:
            x = layers.MaxPooling1D(p, name=f"pool{i}")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(settings.dropout, name="drop")(x)
    out = layers.Dense(1, name="arousal_logit")(x)
    return keras.Model(inp, out, name="poise_prosody")
