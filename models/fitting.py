"""Fitting the prosody network on cached corpus features: the training settings, the corpora's
front-end output, and one fold's normalisation + network (shared by :mod:`models.train`,
:mod:`models.protocol_eval` and the benches' fold models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.features.config import FeatureConfig
from edge.model.inputs import InputSpec
from edge.model.speaker_norm import SpeakerNormSettings
from models import emodb, ravdess
from models.augment import VARIANTS
from models.dataset import (
    DEFAULT_FRONTEND,
    WindowSet,
    build_cache,
    fit_spec,
    labelled,
    load_batches,
    make_windows,
)
from models.emodb import Utterance
from models.folds import CORPORA, PROTOCOLS
from models.network import NetworkSettings, build_network


@dataclass(frozen=True)
class TrainSettings:
    """One training run."""

    epochs: int = 8
    """Passes over the training windows (8 over both corpora: ~2x the windows of EmoDB alone,
    so about the steps of v1's 16 EmoDB epochs)."""
    batch_size: int = 64
    """Windows per gradient step."""
    learning_rate: float = 2e-3
    """Peak Adam learning rate (cosine decay to 5 % over the run)."""
    seed: int = 0
    """Seed of weights, shuffling and augmentation."""
    variants: tuple[str, ...] = VARIANTS
    """Augmentation recipes trained on (``clean`` included)."""
    train_stride_hops: int = 25
    """Window stride for training windows (the device uses ``spec.stride_hops``)."""
    spec: InputSpec = field(default_factory=lambda: InputSpec(speaker_norm=SpeakerNormSettings()))
    """Input windows (normalisation fitted per run; per-speaker input normalisation on)."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """Network size."""
    corpora: tuple[str, ...] = CORPORA
    """Corpora to use (``emodb``, ``ravdess``)."""
    speakers: tuple[str, ...] = ()
    """Speakers to use (empty = all)."""
    protocols: tuple[str, ...] = PROTOCOLS
    """Evaluation protocols to run (:mod:`models.folds`; empty = none)."""
    max_folds: int | None = None
    """Run only the first N folds of each protocol (None = all; 0 = skip evaluation)."""


def train_network(ws: WindowSet, spec: InputSpec, settings: TrainSettings, seed: int) -> Any:
    """Fit a fresh network on ``ws``."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_network(spec.shape, settings.network)
    steps = max(1, int(np.ceil(len(ws) / settings.batch_size))) * settings.epochs
    lr = keras.optimizers.schedules.CosineDecay(settings.learning_rate, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    pos = float(ws.y.mean())
    weights = {0: 0.5 / max(1.0 - pos, 1e-3), 1: 0.5 / max(pos, 1e-3)}
    model.fit(
        ws.x,
        ws.y,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        class_weight=weights,
        shuffle=True,
        verbose=0,
    )
    return model


def read_corpora(
    corpora: Sequence[str], emodb_dir: str | None = None, ravdess_dir: str | None = None
) -> list[Utterance]:
    """Labelled utterances of the named corpora, EmoDB first."""
    out: list[Utterance] = []
    if "emodb" in corpora:
        out += labelled(emodb.utterances(emodb_dir))
    if "ravdess" in corpora:
        out += labelled(ravdess.utterances(ravdess_dir))
    return out


@dataclass
class Corpus:
    """Cached front-end output of every labelled utterance and variant."""

    utts: list[Utterance]
    batches: dict[str, list[Any]]


def load_corpus(
    settings: TrainSettings,
    emodb_dir: str | None,
    cache: Path,
    workers: int,
    config: FeatureConfig,
    ravdess_dir: str | None = None,
) -> Corpus:
    utts = read_corpora(settings.corpora, emodb_dir, ravdess_dir)
    if settings.speakers:
        utts = [u for u in utts if u.speaker in settings.speakers]
    base = build_cache(
        utts, settings.variants, config, DEFAULT_FRONTEND, cache, workers, settings.seed
    )
    return Corpus(utts, {v: load_batches(base, utts, v) for v in settings.variants})


def fit_fold(
    corpus: Corpus, train_idx: list[int], settings: TrainSettings, seed: int
) -> tuple[Any, InputSpec, WindowSet]:
    """Normalisation + network trained on the utterances ``train_idx`` (all variants)."""
    spec = fit_spec([corpus.batches["clean"][i] for i in train_idx], settings.spec)
    train_spec = replace(spec, stride_hops=settings.train_stride_hops)
    utts = [corpus.utts[i] for i in train_idx]
    # Every copy is normalised per speaker with that copy's own statistics (make_windows), as
    # the device's norm follows the agent's headset and line.
    parts = [
        make_windows([corpus.batches[v][i] for i in train_idx], utts, train_spec)
        for v in settings.variants
    ]
    ws = WindowSet(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        speaker=np.concatenate([p.speaker for p in parts]),
        file=np.concatenate([p.file for p in parts]),
    )
    return train_network(ws, spec, settings, seed), spec, ws
