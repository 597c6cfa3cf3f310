"""Training data of the learned syllable counter: every (file, copy) through the device's
front-end, with its per-hop target (EmoDB syllable marks) or its count (RAVDESS, espeak-ng).
Used by :mod:`models.train_syllables` and the syllable benches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd
from edge.features.syllables import SyllableInputs
from models.augment import add_noise, change_speed, change_tempo, gain, seed_for, telephone
from models.emodb import Utterance, corpus_dir
from models.syllable_labels import CLIP_S, nucleus_times

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Width (hops) of the target bump around each labelled nucleus (the recipe's ``sigma_hops``).
SIGMA_HOPS = 3.0

#: Copies of each file: (name, time factor). ``tempo*`` copies are time-stretched at the same
#: pitch (SoX WSOLA), the others resampled (``speed``: tempo and pitch together). Without the
#: tempo copies the network learned EmoDB's typical rate as a prior: slow synthetic speech
#: (espeak-ng at 100 wpm) came out at 1.6x its syllables. Gain is drawn per copy from -9..+6 dB.
VARIANTS: tuple[tuple[str, float], ...] = (
    ("clean", 1.0),
    ("slow", 0.88),
    ("fast", 1.12),
    ("phone", 1.0),
    ("noisy", 1.0),
    ("fastphone", 1.06),
    ("tempo0.6", 0.6),
    ("tempo0.75", 0.75),
    ("tempo1.3", 1.3),
    ("tempo1.6", 1.6),
)
#: Copies of each RAVDESS file (count-level labels only: seven syllables in every copy). Fewer
#: than EmoDB's to keep ``make syllables`` short; the tempo copies carry the rate range.
RAVDESS_VARIANTS: tuple[tuple[str, float], ...] = (
    ("clean", 1.0),
    ("phone", 1.0),
    ("noisy", 1.0),
    ("tempo0.75", 0.75),
    ("tempo1.3", 1.3),
)
#: Copies of each espeak-ng file (:mod:`models.espeak_corpus`, count-level labels from its
#: phoneme output); the 0.7x tempo copy is slow speech below the 90 wpm the voices start at.
ESPEAK_VARIANTS: tuple[tuple[str, float], ...] = (
    ("clean", 1.0),
    ("phone", 1.0),
    ("tempo0.7", 0.7),
)
#: Copies the held-out speaker is scored on (``clean`` is the headline figure).
SCORED_VARIANTS = ("clean", "phone", "noisy")


@dataclass(frozen=True)
class Example:
    """One copy of one file, ready to train on or to count."""

    utt: Utterance
    variant: str
    raw: F64
    """Network input rows before standardisation, shape (hops, channels)."""
    vad: npt.NDArray[np.bool_]
    target: F32
    """Target density per hop (sums to ``label``)."""
    label: int
    """Labelled syllables in this copy."""
    hop_weight: float = 1.0
    """Weight of the per-hop error: 1 with syllable times (EmoDB), 0 with only a count (RAVDESS:
    the target is then spread evenly over the speech hops and only its sum is trained on)."""


def build_examples(
    utts: list[Utterance],
    variants: tuple[tuple[str, float], ...] = VARIANTS,
    sigma_hops: float = SIGMA_HOPS,
) -> list[Example]:
    """Every (file, variant) pair through the front-end: EmoDB files with syllable marks (per-hop
    targets), RAVDESS and espeak-ng files with their known count (:data:`RAVDESS_VARIANTS`,
    :data:`ESPEAK_VARIANTS`); others skipped."""
    cfg = FeatureConfig()
    fe = FrontEnd(cfg, learned_syllables=False)
    inputs = SyllableInputs(cfg.n_mels)
    lablaut = corpus_dir() / "lablaut" if any(u.corpus == "emodb" for u in utts) else None
    out = []
    for utt in utts:
        count_only = utt.corpus != "emodb"
        if count_only and not utt.syllable_count:
            continue
        if not count_only and not utt.syllable_times:
            continue
        x16 = utt.read_16k(cfg.sample_rate)
        nuclei = np.zeros(0) if count_only or lablaut is None else nucleus_times(utt, lablaut)
        copies = {"emodb": variants, "espeak": ESPEAK_VARIANTS}.get(utt.corpus, RAVDESS_VARIANTS)
        for name, speed in copies:
            rng = np.random.default_rng(seed_for(utt.stem, name))
            if name.startswith("tempo"):
                y = change_tempo(x16, cfg.sample_rate, speed)
            else:
                y = change_speed(x16, cfg.sample_rate, speed)
            y = gain(y, float(rng.uniform(-9.0, 6.0)))
            if "phone" in name:
                y = telephone(y, cfg.sample_rate)
            if name == "noisy":
                y = add_noise(y, float(rng.uniform(12.0, 30.0)), rng)
            b = FrameBatch.concat([fe.process(y), fe.flush()])
            inputs.reset()
            raw = inputs.push(b.columns())
            if count_only:
                n = int(utt.syllable_count or 0)
                speech = np.asarray(b.vad, np.float32)
                target = (speech * (n / max(float(speech.sum()), 1.0))).astype(np.float32)
                out.append(Example(utt, name, raw, b.vad, target, n, hop_weight=0.0))
                continue
            dur = len(y) / cfg.sample_rate
            taus = nuclei[nuclei < CLIP_S] / speed
            target = _bumps(b.t, taus, dur, sigma_hops)
            out.append(Example(utt, name, raw, b.vad, target, len(taus)))
    return out


def _bumps(t: F64, taus: F64, dur: float, sigma_hops: float) -> F32:
    y = np.zeros(len(t), np.float64)
    sigma = sigma_hops * (t[1] - t[0] if len(t) > 1 else 0.01)
    for tau in taus[taus < dur]:
        g = np.exp(-0.5 * ((t - tau) / sigma) ** 2)
        y += g / g.sum()
    return y.astype(np.float32)
