"""Read the Berlin EmoDB working copy in place (never copied into the project).

The corpus directory comes from ``POISE_EMODB_DIR`` or defaults to ``../shared/corpus/emodb``
beside the checkout. File names are ``SSTTTEV.wav``: speaker, text, emotion letter, version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr

from edge.audio.wav import read_wav
from edge.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "corpus" / "emodb"

EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
#: Binary arousal as is usual for EmoDB; disgust is left out (None).
AROUSAL = {"W": "high", "F": "high", "A": "high", "L": "low", "T": "low", "N": "low", "E": None}
FEMALE_SPEAKERS = frozenset({"08", "09", "13", "14", "16"})


def corpus_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The corpus directory: ``path``, else ``$POISE_EMODB_DIR``, else the shared default."""
    p = Path(path or os.environ.get("POISE_EMODB_DIR") or DEFAULT_DIR)
    if not (p / "wav").is_dir():
        raise InputError(f"EmoDB not found at {p} (expected a wav/ folder); set POISE_EMODB_DIR")
    return p


@dataclass(frozen=True)
class Utterance:
    """One EmoDB file and what its name and labels say."""

    path: Path
    """The WAV file."""
    speaker: str
    """Two-digit speaker id."""
    text: str
    """Text id, e.g. ``a01``."""
    emotion: str
    """Emotion letter (German initial)."""
    arousal: str | None
    """``high``, ``low`` or None (disgust)."""
    syllable_times: tuple[float, ...]
    """Times (s) of the syllable marks in ``silb/`` (original, untruncated timeline)."""
    end_time: float | None
    """Time of the final ``.`` mark (end of the utterance), if present."""
    corpus: str = "emodb"
    """Which corpus the file belongs to (``emodb`` or ``ravdess``)."""
    syllable_count: int | None = None
    """Known syllables of the whole file when only the count is labelled (RAVDESS: 7)."""

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def emotion_name(self) -> str:
        return EMOTIONS[self.emotion]

    def read(self) -> tuple[npt.NDArray[np.float32], int]:
        """Samples as float32 in [-1, 1) and the sample rate."""
        x, sr = read_wav(self.path)
        if x.shape[1] != 1:
            raise InputError(f"{self.path}: expected mono, got {x.shape[1]} channels")
        return x[:, 0], sr

    def read_16k(self, sample_rate: int = 16_000) -> npt.NDArray[np.float32]:
        """Samples as float32 at ``sample_rate`` (soxr HQ resampling), as every consumer uses."""
        x, sr = self.read()
        if sr != sample_rate:
            x = np.asarray(soxr.resample(x, sr, sample_rate, quality="HQ"), np.float32)
        return x


def _read_silb(path: Path) -> tuple[tuple[float, ...], float | None]:
    times: list[float] = []
    end: float | None = None
    if not path.exists():
        return (), None
    for line in path.read_text(encoding="latin-1").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            t = float(parts[0])
        except ValueError:
            continue
        if parts[1] == ".":
            end = t
        else:
            times.append(t)
    return tuple(times), end


def utterances(path: str | os.PathLike[str] | None = None) -> list[Utterance]:
    """All utterances, sorted by file name."""
    root = corpus_dir(path)
    out = []
    for wav in sorted((root / "wav").glob("*.wav")):
        stem = wav.stem
        if len(stem) != 7 or stem[5] not in EMOTIONS:
            continue
        times, end = _read_silb(root / "silb" / f"{stem}.silb")
        out.append(
            Utterance(
                path=wav,
                speaker=stem[:2],
                text=stem[2:5],
                emotion=stem[5],
                arousal=AROUSAL[stem[5]],
                syllable_times=times,
                end_time=end,
            )
        )
    return out
