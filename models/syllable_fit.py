"""Fitting the learned syllable counter: the recipe (:class:`TrainSettings`), the Keras network
and its loss, and the count the device would make of a copy (through the numpy streaming code
of :mod:`edge.features.syllables`). The data is :mod:`models.syllable_data`; the command line,
the held-out scores and the file are :mod:`models.train_syllables`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.syllables import (
    MICRO,
    NET_FORMAT,
    ConvLayer,
    SyllableCounter,
    SyllableEnsemble,
    SyllableNet,
)
from models.syllable_data import SIGMA_HOPS, Example

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrainSettings:
    """The recipe."""

    filters: int = 32
    """Channels of every convolution."""
    kernel: int = 5
    """Taps of every convolution."""
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    """Dilation of each convolution (receptive field 1 + 4 * 15 = 61 hops)."""
    lookahead: int = 10
    """Hops of future the network sees before answering (100 ms of extra front-end latency)."""
    dropout: float = 0.1
    """Spatial dropout after each convolution (training only)."""
    sigma_hops: float = SIGMA_HOPS
    """Width of the target bump around each labelled nucleus."""
    count_weight: float = 0.05
    """Weight of the per-copy count error against the per-hop error."""
    epochs: int = 20
    batch_size: int = 16
    learning_rate: float = 2e-3
    """Peak of the cosine-decayed Adam learning rate."""
    seed: int = 0


def fit(train: list[Example], s: TrainSettings) -> SyllableNet:
    """Fit the network on ``train``; return it as the device reads it."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(s.seed)
    allrows = np.concatenate([e.raw for e in train])
    mean, std = allrows.mean(axis=0), allrows.std(axis=0) + 1e-3
    x, y = _batch(train, mean, std, s.lookahead)
    model = build_keras(x.shape[2], s, training=True)

    def loss(true: Any, pred: Any) -> Any:
        target, mask, gate, hop_w = true[..., 0], true[..., 1], true[..., 2], true[..., 3]
        p = pred * gate
        per_hop = tf.reduce_sum(hop_w * mask * tf.square(p - target), axis=1)
        count = tf.reduce_sum(mask * p, axis=1) - tf.reduce_sum(mask * target, axis=1)
        return per_hop + s.count_weight * tf.square(count)

    steps = s.epochs * -(-len(train) // s.batch_size)
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(s.learning_rate, steps))
    model.compile(optimizer=opt, loss=loss)
    model.fit(x, y, batch_size=s.batch_size, epochs=s.epochs, verbose=0, shuffle=True)
    convs = [w for w in model.layers if isinstance(w, keras.layers.Conv1D)]
    hidden = tuple(
        ConvLayer(
            np.asarray(c.kernel.numpy(), np.float64), np.asarray(c.bias.numpy(), np.float64), d
        )
        for c, d in zip(convs[:-1], s.dilations, strict=True)
    )
    meta = {"format": NET_FORMAT, "layers": len(hidden), "dilations": list(s.dilations)}
    return SyllableNet(
        layers=hidden,
        out_weight=np.asarray(convs[-1].kernel.numpy(), np.float64).reshape(-1),
        out_bias=float(np.asarray(convs[-1].bias.numpy()).reshape(())),
        mean=mean,
        std=std,
        lookahead=s.lookahead,
        n_mels=FeatureConfig().n_mels,
        meta=meta,
        sha256="",
    )


def build_keras(n_inputs: int, s: TrainSettings, training: bool = False) -> Any:
    """The network as a ``keras.Model``: (batch, hops, inputs) standardised rows to (batch,
    hops) densities, answering for hop ``i - lookahead`` at position ``i``; dropout only when
    ``training``."""
    import keras
    from keras import layers

    inp = keras.Input((None, n_inputs))
    h = inp
    for d in s.dilations:
        h = layers.Conv1D(
            s.filters, s.kernel, dilation_rate=d, padding="causal", activation="relu"
        )(h)
        if training and s.dropout:
            h = layers.SpatialDropout1D(s.dropout)(h)
    out = layers.Conv1D(
        1, 1, activation="softplus", bias_initializer=keras.initializers.Constant(-3.0)
    )(h)
    return keras.Model(inp, layers.Reshape((-1,))(out))


def keras_from_net(net: SyllableNet, s: TrainSettings) -> Any:
    """A Keras model carrying ``net``'s weights (to check the numpy code against Keras)."""
    import keras

    model = build_keras(net.n_inputs, s)
    convs = [w for w in model.layers if isinstance(w, keras.layers.Conv1D)]
    for c, layer in zip(convs, net.layers, strict=False):
        c.set_weights([layer.kernel, layer.bias])
    convs[-1].set_weights([net.out_weight.reshape(1, -1, 1), np.asarray([net.out_bias])])
    return model


def _batch(examples: list[Example], mean: F64, std: F64, lookahead: int) -> tuple[F32, F32]:
    """Inputs padded with ``lookahead`` zero rows (as :meth:`SyllableCounter.finish` does) and
    (target, count mask, VAD gate, per-hop weight) shifted by the look-ahead."""
    n_max = max(len(e.raw) for e in examples) + lookahead
    x = np.zeros((len(examples), n_max, examples[0].raw.shape[1]), np.float32)
    y = np.zeros((len(examples), n_max, 4), np.float32)
    for j, e in enumerate(examples):
        n = len(e.raw)
        x[j, :n] = (e.raw - mean) / std
        y[j, lookahead : lookahead + n, 0] = e.target
        y[j, lookahead : lookahead + n, 1] = 1.0
        y[j, lookahead : lookahead + n, 2] = e.vad
        y[j, lookahead : lookahead + n, 3] = e.hop_weight
    return x, y


def count(net: SyllableNet | SyllableEnsemble, e: Example, block_hops: int = 25) -> float:
    """Syllables the device would count in the copy (streamed in blocks of ``block_hops``)."""
    counter = SyllableCounter(net)
    got = [
        counter.push_rows(e.raw[i : i + block_hops], e.vad[i : i + block_hops])
        for i in range(0, len(e.raw), block_hops)
    ]
    got.append(counter.finish())
    return float(np.concatenate(got).sum()) / MICRO
