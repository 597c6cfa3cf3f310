"""Where EmoDB's labelled syllables have their nuclei, from the ``silb/`` and ``lablaut/`` marks.

The ``silb/`` marks are syllable onsets (each coincides with the start of the syllable's first
phone in ``lablaut/``), so an onset says nothing about whether the vowel survived the corpus' cut
at 2.0 s. The nucleus of syllable ``k`` is the midpoint of the longest vowel phone whose midpoint
lies in ``[mark_k, mark_k+1)`` (the last syllable ends at the ``.`` mark); without a vowel (a
syllabic nasal or lateral, ``haben`` = ``ha bm``) the longest ``m n N l`` phone; without either (a
few misaligned marks) the middle of the span, capped at 0.3 s. A syllable is in a 2.0 s copy when
that midpoint is < 2.0 s, i.e. more than half of its vowel is in the audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.emodb import Utterance

#: Length of the corpus copy (seconds).
CLIP_S = 2.0
#: Phone labels (EmoDB SAMPA) that start with one of these are vowels (incl. diphthongs, ``6``).
VOWEL_START = frozenset("aeiouyAEIOUY2986@")
#: Phones that can carry a syllable without a vowel (``bm``, ``gN``, ``n``).
SYLLABIC_START = frozenset("mnNl")


def read_phones(stem: str, root: Path) -> list[tuple[float, float, str]]:
    """``lablaut/`` segments (start, end, phone) of one file; each time starts its line's segment,
    the next phone's time ends it (the final ``.`` line only ends the last one).

    A line is ``TIME COLOUR PHONE<TAB>DIACRITICS<TAB>STRESS``. A line with an empty phone only
    marks a diacritic change inside the running phone (``+lar``/``-lar`` laryngealisation,
    ``-sth`` devoicing, ...; 3,630 of 27,022 lines), so it extends the previous segment instead of
    starting one: read as a segment of its own it would cut e.g. the ``aI`` of ``eis`` in
    03a01Fa to its first 46 ms and move the vowel midpoint by 70 ms."""
    paths = sorted(root.glob(f"{stem}*.lablaut"))
    if not paths:
        return []
    marks: list[tuple[float, str]] = []
    started = False
    for line in paths[0].read_text(encoding="latin-1").splitlines():
        if not started:
            started = line.startswith("#")
            continue
        parts = line.split("\t", 1)[0].split()
        if len(parts) >= 3:
            marks.append((float(parts[0]), parts[2]))
        elif len(parts) == 2 and not marks:
            marks.append((float(parts[0]), "_"))  # a diacritic before any phone: a pause
    return [(marks[i][0], marks[i + 1][0], marks[i][1]) for i in range(len(marks) - 1)]


def nucleus_times(utt: Utterance, root: Path) -> np.ndarray:
    """Time (s) of each labelled syllable's nucleus: midpoint of its longest vowel, else of its
    longest syllabic consonant, else of its span (capped at 0.3 s); see the module docstring."""
    phones = read_phones(utt.stem, root)
    marks = list(utt.syllable_times)
    ends = [*marks[1:], utt.end_time if utt.end_time is not None else np.inf]
    out = []
    for a, b in zip(marks, ends, strict=True):
        mine = [(e - s, (s + e) / 2, ph) for s, e, ph in phones if a - 1e-3 <= (s + e) / 2 < b]
        vowel = [(dur, mid) for dur, mid, ph in mine if ph[0] in VOWEL_START]
        cons = [(dur, mid) for dur, mid, ph in mine if ph[0] in SYLLABIC_START]
        if vowel or cons:
            out.append(max(vowel or cons)[1])
        else:
            out.append((a + min(b, a + 0.3)) / 2)
    return np.asarray(out)


def scores(det: np.ndarray, lab: np.ndarray) -> dict[str, float]:
    """Detected vs labelled counts per file: Pearson r (NaN if either is constant), mean
    absolute error as % of the mean label, mean signed error, and both means."""
    lab = lab.astype(np.float64)
    det = det.astype(np.float64)
    r = float(np.corrcoef(det, lab)[0, 1]) if det.std() > 0 and lab.std() > 0 else float("nan")
    return {
        "files": len(det),
        "pearson_r": r,
        "mae_pct": float(np.abs(det - lab).mean() / lab.mean() * 100.0),
        "mean_signed_error": float((det - lab).mean()),
        "mean_detected": float(det.mean()),
        "mean_labelled": float(lab.mean()),
    }
