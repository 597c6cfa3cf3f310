"""EmoDB through the device front-end: cached per-hop features of clean and augmented copies.

Each (utterance, variant) is resampled to the front-end rate, augmented (seeded), run through the
front-end and stored as one ``.npz`` of its :class:`~edge.features.frames.FrameBatch` under
``build/model-cache/<feature digest>-<front-end source hash>-a<augment version>/<variant>/``.
Windows are cut later with :func:`edge.model.inputs.windows_from_batch`, as on the device.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.fileio import atomic_write
from edge.model.inputs import (
    InputSpec,
    fit_speaker_norm,
    fit_stats,
    raw_rows,
    stack,
    windows_from_batch,
)
from edge.model.speaker_norm import SpeakerNorm
from models.augment import AUGMENT_VERSION, AugmentSettings, augment, seed_for
from models.emodb import REPO_ROOT, Utterance

log = logging.getLogger(__name__)

#: The real front-end; a "module:function" string so worker processes can import it.
DEFAULT_FRONTEND = "models.dataset:frontend_analyze"
DEFAULT_CACHE = REPO_ROOT / "build" / "model-cache"

Analyzer = Callable[[npt.NDArray[np.float32], FeatureConfig], FrameBatch]


def load_analyzer(spec: str) -> Analyzer:
    """Import ``module:function``."""
    mod, _, fn = spec.partition(":")
    fn_obj: Analyzer = getattr(importlib.import_module(mod), fn)
    return fn_obj


def frontend_analyze(x: npt.NDArray[np.float32], config: FeatureConfig) -> FrameBatch:
    """A whole signal through a fresh device :class:`FrontEnd` (process + flush)."""
    from edge.features.frontend import FrontEnd

    fe = FrontEnd(config)
    return FrameBatch.concat([fe.process(x), fe.flush()])


def frontend_source_hash() -> str:
    """sha256 over the front-end's source files, so cached features follow code edits that did
    not (yet) bump ``FEATURE_CODE_VERSION``."""
    h = hashlib.sha256()
    for p in sorted((REPO_ROOT / "edge" / "features").glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def save_batch(path: Path, batch: FrameBatch) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols: dict[str, Any] = batch.columns()
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(fh, **cols)


def load_batch(path: Path) -> FrameBatch:
    with np.load(path) as z:
        return FrameBatch(**{f.name: z[f.name] for f in dataclasses.fields(FrameBatch)})


@dataclass(frozen=True)
class CacheJob:
    """One (utterance, variant) to compute; picklable for worker processes."""

    utt: Utterance
    variant: str
    out: Path
    frontend: str
    config: FeatureConfig
    settings: AugmentSettings
    seed: int


def _run_job(job: CacheJob) -> str:
    analyze = load_analyzer(job.frontend)
    x = job.utt.read_16k(job.config.sample_rate)
    rng = np.random.default_rng(seed_for(job.utt.stem, job.variant, job.seed))
    y = augment(x, job.config.sample_rate, job.variant, rng, job.settings)
    save_batch(job.out, analyze(y, job.config))
    return job.utt.stem


def cache_dir(root: Path, config: FeatureConfig) -> Path:
    return root / f"{config.digest()[:12]}-{frontend_source_hash()[:12]}-a{AUGMENT_VERSION}"


def build_cache(
    utts: Sequence[Utterance],
    variants: Sequence[str],
    config: FeatureConfig | None = None,
    frontend: str = DEFAULT_FRONTEND,
    root: Path = DEFAULT_CACHE,
    workers: int = 2,
    seed: int = 0,
    settings: AugmentSettings | None = None,
    progress: bool = True,
) -> Path:
    """Compute the features of every missing (utterance, variant); return the cache folder."""
    config = config if config is not None else FeatureConfig()
    settings = settings if settings is not None else AugmentSettings()
    base = cache_dir(root, config)
    jobs = [
        CacheJob(u, v, base / v / f"{u.stem}.npz", frontend, config, settings, seed)
        for v in variants
        for u in utts
        if not (base / v / f"{u.stem}.npz").exists()
    ]
    if jobs:
        log.info("computing features of %d (utterance, variant) pairs into %s", len(jobs), base)
        bar = tqdm(total=len(jobs), desc="features", unit="file", disable=not progress)
        if workers > 1:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(workers) as pool:
                for _ in pool.imap_unordered(_run_job, jobs, chunksize=4):
                    bar.update()
        else:
            for job in jobs:
                _run_job(job)
                bar.update()
        bar.close()
    return base


@dataclass(frozen=True)
class WindowSet:
    """Model input windows with their labels and where they came from."""

    x: npt.NDArray[np.float32]
    """Windows (n, hops, channels), normalised."""
    y: npt.NDArray[np.float32]
    """1.0 for high arousal, 0.0 for low."""
    speaker: npt.NDArray[np.str_]
    """Speaker id of each window."""
    file: npt.NDArray[np.int64]
    """Index of the utterance (in the list passed in) each window came from."""

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def select(self, mask: npt.NDArray[np.bool_]) -> WindowSet:
        return WindowSet(self.x[mask], self.y[mask], self.speaker[mask], self.file[mask])


def labelled(utts: Sequence[Utterance]) -> list[Utterance]:
    """Utterances with a binary arousal label (disgust left out)."""
    return [u for u in utts if u.arousal is not None]


def load_batches(base: Path, utts: Sequence[Utterance], variant: str) -> list[FrameBatch]:
    return [load_batch(base / variant / f"{u.stem}.npz") for u in utts]


def fit_spec(batches: Sequence[FrameBatch], spec: InputSpec) -> InputSpec:
    """Normalisation constants from the per-hop features of ``batches``."""
    return fit_stats([raw_rows(b, spec.n_mels) for b in batches], spec)


def speaker_norms(
    batches: Sequence[FrameBatch], utts: Sequence[Utterance], spec: InputSpec
) -> list[SpeakerNorm | None]:
    """Per file, its speaker's :class:`SpeakerNorm` fitted on all of that speaker's ``batches``
    (the device's norm after hearing them); all None without speaker normalisation."""
    by_spk: dict[str, list[int]] = {}
    for i, u in enumerate(utts):
        by_spk.setdefault(u.speaker, []).append(i)
    out: list[SpeakerNorm | None] = [None] * len(utts)
    for idx in by_spk.values():
        norm = fit_speaker_norm([batches[i] for i in idx], spec)
        for i in idx:
            out[i] = norm
    return out


def make_windows(
    batches: Sequence[FrameBatch],
    utts: Sequence[Utterance],
    spec: InputSpec,
    per_speaker: bool = True,
) -> WindowSet:
    """Cut every utterance into windows exactly as the device does; with speaker normalisation
    (and ``per_speaker``) each file is normalised by its speaker's statistics over ``batches``."""
    norms = speaker_norms(batches, utts, spec) if per_speaker else [None] * len(utts)
    xs, ys, spk, fidx = [], [], [], []
    for i, (b, u) in enumerate(zip(batches, utts, strict=True)):
        wins = windows_from_batch(b, spec, norm=norms[i])
        if not wins:
            continue
        xs.append(stack(wins, spec))
        ys += [1.0 if u.arousal == "high" else 0.0] * len(wins)
        spk += [u.speaker] * len(wins)
        fidx += [i] * len(wins)
    return WindowSet(
        x=np.concatenate(xs) if xs else np.zeros((0, *spec.shape), np.float32),
        y=np.asarray(ys, np.float32),
        speaker=np.asarray(spk),
        file=np.asarray(fidx, np.int64),
    )
