"""Learned syllable counting: a small dilated 1-D CNN turns per-hop evidence into a syllable
*density* (expected nuclei per hop) whose sum over any stretch is its syllable count.

Why: the intensity-peak detector in :mod:`edge.features.nuclei` (De Jong & Wempe) misses
syllables that share one intensity hump in fast speech and splits slow ones; on EmoDB it counts
with r 0.76 against the labels. Its peaks, the intensity contour relative to the last second,
voicing and the log-mel band *shape* (no absolute level: the counter is gain-free) go into the
network here, which was trained on EmoDB leave-one-speaker-out to put one unit of mass per
labelled syllable (``models/train_syllables.py``; figures in docs/features.md).

Streaming: every layer is a causal convolution with its own history (zeros before the stream,
as in training), and the network answers for hop ``i`` once it has seen hop ``i + lookahead``;
:meth:`SyllableCounter.finish` feeds ``lookahead`` rows of zeros (standardised space, again as in
training) to decide the last hops. The density is zero outside speech (VAD) and is returned in
integer micro-syllables, so sums are exact and the output does not depend on how the stream is
cut into blocks.

Ensembles: a file may hold several networks fitted with different seeds
(:data:`ENSEMBLE_FORMAT`, :class:`SyllableEnsemble`); the counter runs each on the same rows and
averages their densities before the VAD gate and the rounding, so it counts the mean of their
counts. A one-network file (:data:`NET_FORMAT`) is an ensemble of one and counts exactly as that
network does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.features.config import FeatureConfig
from edge.features.strided import windows
from edge.model.assets import default_syllable_weights

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

NET_FORMAT = "poise-syllable-net/1"
#: Several networks in one file: arrays prefixed ``m<j>.``, their shapes in the meta's ``members``.
ENSEMBLE_FORMAT = "poise-syllable-net/2"
DEFAULT_NET = default_syllable_weights()
MODELS_DIR = DEFAULT_NET.parent
#: Density units per syllable in the integer output.
MICRO = 1_000_000
#: Trailing window (hops) of the level maxima the relative levels are taken against (1 s).
LEVEL_MEMORY_HOPS = 100
#: Relative-level clips (the mel-mean level in natural-log units, level_dbfs in dB).
MEL_LEVEL_CLIP = 12.0
LEVEL_DB_CLIP = 40.0
#: Input channels after the ``n_mels`` band-shape channels, in order.
EXTRA_CHANNELS = ("mel_level_rel", "level_db_rel", "voicing", "vad", "voiced", "peak")


@dataclass(frozen=True)
class ConvLayer:
    """One causal convolution with ReLU."""

    kernel: F64
    """Weights, shape (taps, in_channels, out_channels); tap ``taps-1`` is the current hop."""
    bias: F64
    """Shape (out_channels,)."""
    dilation: int
    """Hops between taps."""

    @property
    def context(self) -> int:
        """Past input rows this layer needs besides the current one."""
        return (self.kernel.shape[0] - 1) * self.dilation


@dataclass(frozen=True)
class SyllableNet:
    """The trained network and its input normalisation (read with :meth:`load`)."""

    layers: tuple[ConvLayer, ...]
    out_weight: F64
    """Output projection, shape (channels,)."""
    out_bias: float
    mean: F64
    """Per-channel input mean (standardisation)."""
    std: F64
    """Per-channel input standard deviation."""
    lookahead: int
    """Hops after a hop that the network sees before it answers for it."""
    n_mels: int
    meta: dict[str, Any]
    """Training facts (data, folds, held-out scores), from the file."""
    sha256: str
    """Hash of the file's bytes."""

    @property
    def n_inputs(self) -> int:
        return self.n_mels + len(EXTRA_CHANNELS)

    @classmethod
    def load(cls, path: Path = DEFAULT_NET) -> SyllableNet:
        """Read and check a one-network file written by ``models.train_syllables``."""
        ensemble = SyllableEnsemble.load(path)
        if len(ensemble.members) != 1:
            raise ModelError(
                f"{path} holds {len(ensemble.members)} networks: read it with SyllableEnsemble.load"
            )
        return ensemble.members[0]

    @classmethod
    def _from_arrays(
        cls, arrays: Mapping[str, npt.NDArray[Any]], meta: dict[str, Any], sha256: str, path: Path
    ) -> SyllableNet:
        """One network from its arrays (names without a member prefix) and its meta."""
        try:
            n_layers = int(meta["layers"])
            layers = tuple(
                ConvLayer(
                    arrays[f"kernel{i}"].astype(np.float64),
                    arrays[f"bias{i}"].astype(np.float64),
                    int(meta["dilations"][i]),
                )
                for i in range(n_layers)
            )
            net = cls(
                layers=layers,
                out_weight=arrays["out_weight"].astype(np.float64).reshape(-1),
                out_bias=float(arrays["out_bias"].reshape(())),
                mean=arrays["mean"].astype(np.float64),
                std=arrays["std"].astype(np.float64),
                lookahead=int(meta["lookahead"]),
                n_mels=int(meta["n_mels"]),
                meta=meta,
                sha256=sha256,
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"{path}: not a syllable network file ({exc})") from exc
        net._check(path)
        return net

    def check_features(self, config: FeatureConfig) -> None:
        """Raise :class:`ModelError` unless the network was trained on these front-end
        settings (its card's ``feature_digest``) and mel bands."""
        _check_features(self.meta, self.n_mels, config)

    def _check(self, path: Path) -> None:
        width = self.n_inputs
        for i, layer in enumerate(self.layers):
            k = layer.kernel
            if k.ndim != 3 or k.shape[1] != width or layer.bias.shape != (k.shape[2],):
                raise ModelError(f"{path}: layer {i} has shape {k.shape}, expected (*, {width}, *)")
            if layer.dilation < 1:
                raise ModelError(f"{path}: layer {i} has dilation {layer.dilation}")
            width = k.shape[2]
        if self.out_weight.shape != (width,):
            raise ModelError(f"{path}: output weights {self.out_weight.shape}, expected {width}")
        if self.mean.shape != (self.n_inputs,) or self.std.shape != (self.n_inputs,):
            raise ModelError(f"{path}: normalisation does not match {self.n_inputs} inputs")
        if not (self.std > 0).all() or self.lookahead < 0:
            raise ModelError(f"{path}: bad normalisation or look-ahead")
        params = [self.out_weight, self.mean, self.std]
        params += [a for layer in self.layers for a in (layer.kernel, layer.bias)]
        if not all(np.isfinite(a).all() for a in params):
            raise ModelError(f"{path}: non-finite weights")


def _check_features(meta: Mapping[str, Any], n_mels: int, config: FeatureConfig) -> None:
    want = meta.get("feature_digest")
    if config.n_mels != n_mels or (want is not None and want != config.digest()):
        raise ModelError(
            "the syllable network was trained on other front-end settings "
            f"(digest {str(want)[:12]}, {n_mels} mel bands); retrain it with "
            "models.train_syllables or use the front-end's default settings"
        )


@dataclass(frozen=True)
class SyllableEnsemble:
    """Networks whose densities the counter averages (read with :meth:`load`)."""

    members: tuple[SyllableNet, ...]
    meta: dict[str, Any]
    """Training facts of the file (data, seeds, held-out scores)."""
    sha256: str
    """Hash of the file's bytes."""

    def __post_init__(self) -> None:
        if not self.members:
            raise ModelError("a syllable ensemble needs at least one network")
        first = self.members[0]
        for net in self.members[1:]:
            if (net.lookahead, net.n_mels) != (first.lookahead, first.n_mels):
                raise ModelError(
                    "the networks of a syllable ensemble must share look-ahead and mel bands "
                    f"({net.lookahead}/{net.n_mels} against {first.lookahead}/{first.n_mels})"
                )

    @classmethod
    def of(cls, net: SyllableNet) -> SyllableEnsemble:
        """One network as an ensemble of one (it counts exactly as the network does)."""
        return cls((net,), net.meta, net.sha256)

    @property
    def lookahead(self) -> int:
        return self.members[0].lookahead

    @property
    def n_mels(self) -> int:
        return self.members[0].n_mels

    @property
    def n_inputs(self) -> int:
        return self.members[0].n_inputs

    def check_features(self, config: FeatureConfig) -> None:
        """As :meth:`SyllableNet.check_features`, for the file's front-end settings."""
        _check_features(self.meta, self.n_mels, config)

    @classmethod
    def load(cls, path: Path = DEFAULT_NET) -> SyllableEnsemble:
        """Read and check a network file (one network or several) of ``models.train_syllables``."""
        try:
            blob = Path(path).read_bytes()
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
            meta = json.loads(str(arrays["meta"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read syllable network {path}: {exc}") from exc
        sha = hashlib.sha256(blob).hexdigest()
        fmt = meta.get("format") if isinstance(meta, dict) else None
        if fmt == NET_FORMAT:
            return cls.of(SyllableNet._from_arrays(arrays, meta, sha, path))
        if fmt != ENSEMBLE_FORMAT:
            raise ModelError(f"{path}: format {fmt!r}, expected {NET_FORMAT} or {ENSEMBLE_FORMAT}")
        specs = meta.get("members")
        if not isinstance(specs, list) or not specs or not all(isinstance(m, dict) for m in specs):
            raise ModelError(f"{path}: an ensemble file needs a list of members")
        members = []
        for j, spec in enumerate(specs):
            prefix = f"m{j}."
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            member_meta = {k: v for k, v in meta.items() if k != "members"}
            member_meta.update(spec, format=NET_FORMAT)
            members.append(SyllableNet._from_arrays(own, member_meta, sha, path))
        return cls(tuple(members), meta, sha)


@cache
def default_net() -> SyllableEnsemble:
    """The shipped network or networks (read once per process)."""
    return SyllableEnsemble.load(DEFAULT_NET)


class SyllableInputs:
    """Streaming input rows of the network (before standardisation); one per channel."""

    def __init__(self, n_mels: int) -> None:
        self.n_mels = n_mels
        self.reset()

    def reset(self) -> None:
        past = LEVEL_MEMORY_HOPS - 1
        self._mel_level: F64 = np.full(past, -np.inf)
        self._level_db: F64 = np.full(past, -np.inf)

    def push(self, hops: Mapping[str, npt.NDArray[Any]]) -> F64:
        """Rows for the next hops: band shape (mel minus its band mean), the band-mean level and
        ``level_dbfs`` relative to their maxima over the last second (clipped), voicing, speech,
        voiced and De Jong peak flags. ``hops``: front-end columns (a ``FrameBatch.columns()``)
        with at least ``mel``, ``level_dbfs``, ``voicing``, ``vad``, ``f0_hz`` and ``nucleus``."""
        m = np.asarray(hops["mel"], np.float64)
        if m.ndim != 2 or m.shape[1] != self.n_mels:
            raise ValueError(f"mel must have shape (n, {self.n_mels})")
        n = m.shape[0]
        out = np.empty((n, self.n_mels + len(EXTRA_CHANNELS)), np.float64)
        lvl = m.mean(axis=1)
        np.subtract(m, lvl[:, None], out=out[:, : self.n_mels])
        c = self.n_mels
        out[:, c] = self._relative(lvl, "_mel_level", MEL_LEVEL_CLIP)
        out[:, c + 1] = self._relative(
            np.asarray(hops["level_dbfs"], np.float64), "_level_db", LEVEL_DB_CLIP
        )
        out[:, c + 2] = np.nan_to_num(np.asarray(hops["voicing"], np.float64))
        out[:, c + 3] = hops["vad"]
        out[:, c + 4] = np.isfinite(hops["f0_hz"])
        out[:, c + 5] = hops["nucleus"]
        return out

    def _relative(self, x: F64, attr: str, clip: float) -> F64:
        hist = np.concatenate([getattr(self, attr), x])
        running_max = windows(hist, LEVEL_MEMORY_HOPS).max(axis=1)
        setattr(self, attr, hist[len(hist) - (LEVEL_MEMORY_HOPS - 1) :])
        return np.asarray(np.clip(x - running_max, -clip, 0.0), np.float64)


class SyllableCounter:
    """One per channel: hop features in, micro-syllables per hop out, ``net.lookahead`` hops
    behind (all of them after :meth:`finish`). With an ensemble, the mean of its networks'
    densities."""

    def __init__(self, net: SyllableNet | SyllableEnsemble | None = None) -> None:
        if net is None:
            net = default_net()
        self.net = SyllableEnsemble.of(net) if isinstance(net, SyllableNet) else net
        self.lookahead = self.net.lookahead
        self._inputs = SyllableInputs(self.net.n_mels)
        # float64 on purpose: BLAS sums a row differently for different block lengths (gemv for
        # one hop, gemm for more). In float32 that moved a density by ~1e-7 and, after rounding,
        # the micro-syllable count by one between block sizes; in float64 such a flip needs a
        # value within ~1e-16 of a rounding boundary. It costs ~0.07 ms per second of audio.
        self._weights = [
            [(layer.kernel.reshape(-1, layer.kernel.shape[2]), layer.bias) for layer in m.layers]
            for m in self.net.members
        ]
        self.reset()

    def reset(self) -> None:
        self._inputs.reset()
        self._hist = [
            [np.zeros((layer.context, layer.kernel.shape[1])) for layer in m.layers]
            for m in self.net.members
        ]
        """Per network, per layer: the input rows of the layer's past it still needs."""
        self._to_skip = self.lookahead
        """Outputs still to drop: the first ``lookahead`` answer for hops before the stream."""
        self._vad: B = np.zeros(0, np.bool_)
        """Speech flags of the hops pushed but not yet answered for."""
        self._ended = False

    def push(self, hops: Mapping[str, npt.NDArray[Any]]) -> I64:
        """Add hops (front-end columns, see :meth:`SyllableInputs.push`); return
        micro-syllables for the hops that became decided, oldest first."""
        return self.push_rows(self._inputs.push(hops), hops["vad"])

    def push_rows(self, raw: F64, vad: B) -> I64:
        """Like :meth:`push`, from :class:`SyllableInputs` rows already made (training code)."""
        if self._ended:
            raise RuntimeError("push after finish without reset")
        self._vad = np.concatenate([self._vad, np.asarray(vad, np.bool_)])
        return self._run(np.asarray(raw, np.float64), standardised=False)

    def finish(self) -> I64:
        """End of stream: decide the remaining hops and stop."""
        out = self._run(np.zeros((self.lookahead, self.net.n_inputs)), standardised=True)
        self._ended = True
        return out

    def _run(self, raw: F64, standardised: bool) -> I64:
        """Densities of the networks for these rows (raw, or already standardised: the zero
        rows of :meth:`finish`), averaged, gated by VAD and rounded to micro-syllables."""
        members = self.net.members
        total = None
        for j, m in enumerate(members):
            x = raw if standardised else (raw - m.mean) / m.std
            d = self._member_density(j, x)
            total = d if total is None else total + d
        assert total is not None  # an ensemble has at least one network
        density = total / len(members)  # exact for one network: x / 1 == x
        skip = min(self._to_skip, len(density))
        self._to_skip -= skip
        density = density[skip:]
        k = len(density)
        gate, self._vad = self._vad[:k], self._vad[k:]
        return np.asarray(np.rint(density * gate * MICRO), np.int64)

    def _member_density(self, j: int, x: F64) -> F64:
        """Network ``j``'s density for standardised rows ``x``, advancing its layers' history."""
        net = self.net.members[j]
        hist = self._hist[j]
        n = x.shape[0]
        h = x
        for i, layer in enumerate(net.layers):
            seq = np.concatenate([hist[i], h])
            d = layer.dilation
            taps = layer.kernel.shape[0]
            cols = np.concatenate([seq[q * d : q * d + n] for q in range(taps)], axis=1)
            weight, bias = self._weights[j][i]
            h = cols @ weight
            h += bias
            np.maximum(h, 0.0, out=h)
            if layer.context:
                hist[i] = seq[len(seq) - layer.context :]
        z = h @ net.out_weight + net.out_bias
        return np.asarray(np.logaddexp(0.0, z), np.float64)  # softplus
