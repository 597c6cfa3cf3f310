"""Speaker-change detection: do same-voice probes match and other voices not?

    .venv/bin/python -m bench.voice_change

For every speaker of EmoDB and RAVDESS (22 voices), an *enrolled* signature is built from their
low-arousal clean files (what the device keeps after calibrating on calm speech) and *probes* of
``probe_speech_s`` seconds of speech from their other files (in file order): their other calm
files and their aroused files, clean and telephone-band copies (a different line is a different
channel: a reject is expected there). Each probe is matched against all enrolled voices of the
same corpus
with :func:`edge.device.voice.match` (cross-corpus impostors would be too easy). Reported:
false rejects (a returning agent starts a fresh calibration), false accepts (another agent's
baseline is resumed: the failure that matters), and the equal-error threshold.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.results import write_results
from edge.device.voice import SignatureBuilder, VoiceSettings, VoiceSignature, distance, match
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch

log = logging.getLogger(__name__)


def probes(batches: Sequence[FrameBatch], seconds: float) -> list[VoiceSignature]:
    """Consecutive signatures of ``seconds`` of speech each over ``batches`` (files in order)."""
    out = []
    b = SignatureBuilder()
    for batch in batches:
        b.push(batch)
        if b.speech_s >= seconds:
            sig = b.signature()
            if sig is not None:
                out.append(sig)
            b.reset()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.voice_change", description=__doc__)
    ap.add_argument("--probe-s", type=float, default=VoiceSettings.probe_speech_s)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from models.dataset import DEFAULT_CACHE, build_cache, load_batches
    from models.fitting import read_corpora

    settings = VoiceSettings(probe_speech_s=args.probe_s)
    utts = read_corpora(("emodb", "ravdess"))
    base = build_cache(utts, ("clean", "phone"), FeatureConfig(), root=DEFAULT_CACHE)
    clean = load_batches(base, utts, "clean")
    phone = load_batches(base, utts, "phone")
    speakers = sorted({u.speaker for u in utts})
    enrolled: dict[str, VoiceSignature] = {}
    probe_sets: dict[str, dict[str, list[VoiceSignature]]] = {}
    for s in speakers:
        idx = [i for i, u in enumerate(utts) if u.speaker == s]
        low = [i for i in idx if utts[i].arousal == "low"]
        enrol = low[::2]
        rest = {
            "calm": low[1::2],
            "aroused": [i for i in idx if utts[i].arousal == "high"],
        }
        b = SignatureBuilder()
        for i in enrol:
            b.push(clean[i])
        sig = b.signature()
        assert sig is not None
        enrolled[s] = sig
        probe_sets[s] = {
            f"{kind} {cond}": probes([src[i] for i in files], settings.probe_speech_s)
            for kind, files in rest.items()
            for cond, src in (("clean", clean), ("phone", phone))
        }
    corpus_of = {u.speaker: u.corpus for u in utts}
    rows: dict[str, Any] = {}
    genuine: list[float] = []
    impostor: list[float] = []
    for cond in ("calm clean", "calm phone", "aroused clean", "aroused phone"):
        fr = fa = n = 0
        for s in speakers:
            same_corpus = {k: v for k, v in enrolled.items() if corpus_of[k] == corpus_of[s]}
            for p in probe_sets[s][cond]:
                n += 1
                who, _ = match(p, same_corpus, settings)
                fr += who is None
                fa += who is not None and who != s
                if cond == "calm clean":
                    genuine.append(distance(p, enrolled[s], settings))
                    impostor += [distance(p, v, settings) for k, v in same_corpus.items() if k != s]
        rows[cond] = {
            "probes": n,
            "false_reject": round(fr / max(n, 1), 4),
            "false_accept": round(fa / max(n, 1), 4),
        }
    g, im = np.asarray(genuine), np.asarray(impostor)
    grid = np.linspace(0.1, 4.0, 391)
    frr = np.asarray([(g > t).mean() for t in grid])
    far = np.asarray([(im <= t).mean() for t in grid])
    k = int(np.argmin(np.abs(frr - far)))
    print(
        f"voice signature, {settings.probe_speech_s:g} s probes vs enrolled calm speech, "
        f"{len(speakers)} speakers (impostors from the same corpus), threshold "
        f"{settings.threshold:g}"
    )
    print(f"{'probe audio':<16} {'probes':>7} {'false reject':>13} {'false accept':>13}")
    for cond, r in rows.items():
        print(f"{cond:<16} {r['probes']:>7} {r['false_reject']:>13.3f} {r['false_accept']:>13.3f}")
    print(
        f"calm clean pairwise: equal error {0.5 * (frr[k] + far[k]):.3f} at threshold "
        f"{grid[k]:.2f}; "
        f"genuine distance median {np.median(g):.2f}, impostor median {np.median(im):.2f}"
    )
    write_results(
        "voice_change",
        {
            "settings": {
                "probe_speech_s": settings.probe_speech_s,
                "threshold": settings.threshold,
                "shape_scale": settings.shape_scale,
                "f0_scale_st": settings.f0_scale_st,
            },
            "speakers": len(speakers),
            "match": rows,
            "pairwise_calm_clean": {
                "eer": round(float(0.5 * (frr[k] + far[k])), 4),
                "eer_threshold": round(float(grid[k]), 3),
                "genuine_median": round(float(np.median(g)), 3),
                "impostor_median": round(float(np.median(im)), 3),
            },
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
