"""Read the RAVDESS speech working copy (actors 01-12, 16 kHz) in place, like :mod:`models.emodb`.

The corpus directory comes from ``POISE_RAVDESS_DIR`` or defaults to ``../shared/corpus/ravdess``
beside the checkout. File names are ``03-01-EE-II-SS-RR-AA.wav`` (modality, vocal channel,
emotion, intensity, statement, repetition, actor). Both statements ("Kids are talking by the
door", "Dogs are sitting by the door") have seven syllables, so every file carries a count label.

Licence: CC BY-NC-SA 4.0 (Livingstone & Russo 2018, PLoS ONE 13(5): e0196391); weights trained on
it inherit those terms. Speaker ids are ``r01``..``r12`` so they never collide with EmoDB's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edge.errors import InputError
from models.emodb import REPO_ROOT, Utterance

DEFAULT_DIR = REPO_ROOT.parent / "shared" / "corpus" / "ravdess"

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
#: The common binary arousal mapping (corpus README); disgust is left out (None).
AROUSAL: dict[str, str | None] = {
    "01": "low",
    "02": "low",
    "04": "low",
    "03": "high",
    "05": "high",
    "06": "high",
    "08": "high",
    "07": None,
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
#: Both statements have seven syllables.
SYLLABLES_PER_STATEMENT = 7
CITATION = (
    "Livingstone SR, Russo FA (2018). The Ryerson Audio-Visual Database of Emotional Speech and "
    "Song (RAVDESS). PLoS ONE 13(5): e0196391. CC BY-NC-SA 4.0."
)


def corpus_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The corpus directory: ``path``, else ``$POISE_RAVDESS_DIR``, else the shared default."""
    p = Path(path or os.environ.get("POISE_RAVDESS_DIR") or DEFAULT_DIR)
    if not (p / "wav").is_dir():
        raise InputError(
            f"RAVDESS not found at {p} (expected a wav/ folder); set POISE_RAVDESS_DIR"
        )
    return p


@dataclass(frozen=True)
class RavdessUtterance(Utterance):
    """One RAVDESS speech file (an :class:`~models.emodb.Utterance` with RAVDESS fields)."""

    intensity: str = "01"
    """``01`` normal, ``02`` strong."""
    repetition: str = "01"
    """``01`` or ``02``."""

    @property
    def emotion_name(self) -> str:
        return EMOTIONS[self.emotion]

    @property
    def female(self) -> bool:
        """Even-numbered actors are female."""
        return int(self.speaker[1:]) % 2 == 0


def parse_name(stem: str) -> dict[str, str] | None:
    """The seven fields of a RAVDESS speech file name, or None if it is not one."""
    parts = stem.split("-")
    if len(parts) != 7 or not all(len(p) == 2 and p.isdigit() for p in parts):
        return None
    modality, channel, emotion, intensity, statement, rep, actor = parts
    if modality != "03" or channel != "01" or emotion not in EMOTIONS:
        return None
    if statement not in STATEMENTS:
        return None
    return {
        "emotion": emotion,
        "intensity": intensity,
        "statement": statement,
        "repetition": rep,
        "actor": actor,
    }


def utterances(path: str | os.PathLike[str] | None = None) -> list[RavdessUtterance]:
    """All speech files, sorted by actor then file name."""
    root = corpus_dir(path)
    out = []
    for wav in sorted((root / "wav").glob("*.wav")):
        f = parse_name(wav.stem)
        if f is None:
            continue
        out.append(
            RavdessUtterance(
                path=wav,
                speaker=f"r{f['actor']}",
                text=f"s{f['statement']}",
                emotion=f["emotion"],
                arousal=AROUSAL[f["emotion"]],
                syllable_times=(),
                end_time=None,
                corpus="ravdess",
                syllable_count=SYLLABLES_PER_STATEMENT,
                intensity=f["intensity"],
                repetition=f["repetition"],
            )
        )
    out.sort(key=lambda u: (u.speaker, u.path.name))
    return out
