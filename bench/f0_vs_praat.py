"""PitchTracker against Praat's autocorrelation pitch on every EmoDB (or RAVDESS) file.

Run: ``.venv/bin/python -m bench.f0_vs_praat [--corpus emodb|ravdess] [--limit N] [--direct]
[--condition clean|telephone|noise10]``. Prints a table and writes
``bench/results/f0_vs_praat.json`` (``f0_vs_praat_ravdess.json``; ``_<condition>`` appended when
degraded).

Each file is resampled to 16,000 Hz with soxr (HQ) where needed (EmoDB is 22,050 Hz; RAVDESS's
working copy is 16 kHz already; all 716 RAVDESS files are used, disgust included: pitch needs no
labels). Ours: the front-end's per-hop F0 (``edge.features.frontend.FrontEnd``; ``--direct`` frames
the signal itself, zero-padded windows centred on each hop centre, exactly as the front-end does).
Praat: ``Sound.to_pitch_ac (time_step=0.01, pitch_floor=60, pitch_ceiling=500)`` on the same 16 kHz
signal, read at our hop centres ``(i + 0.5) * 0.01`` s: the nearest Praat frame decides
voiced/unvoiced, a voiced value is interpolated linearly (in log F0) when both neighbouring frames
are voiced.

Metrics: GPE = share of frames both call voiced where ``|f0 - praat| > 20 % of praat``; FPE = mean
absolute error in semitones on the remaining both-voiced frames; voicing agreement = share of all
frames with the same voiced/unvoiced call; precision/recall of our voiced calls against Praat's.
"gated" repeats them on frames above Praat's silence gate (a peak of at least 2 * 0.03 / 1.45 of
the file's peak: quieter frames are never voiced in Praat, a rule a streaming tracker cannot
apply without knowing the whole file). A sweep over voicing thresholds (on the same voicing
confidences) shows the trade-off. Jitter and shimmer: per file, the median over our voiced frames
against Praat's file-level local jitter and shimmer (``To PointProcess (cc)``, Praat defaults).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import defaultdict

import numpy as np

from bench.results import write_results
from edge.features.config import FeatureConfig
from edge.features.pitch import PitchTracker
from models import emodb, ravdess

SR = 16_000
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def centred_frames(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    n = -(-len(x) // hop)
    pad = np.pad(x, (length, length + hop))
    starts = np.arange(n) * hop + hop // 2 - length // 2 + length
    return pad[starts[:, None] + np.arange(length)[None, :]]


CONDITIONS = ("clean", "telephone", "noise10")


def degrade(x: np.ndarray, condition: str, key: str) -> np.ndarray:
    """``x`` (16 kHz) as heard through ``condition``: ``telephone`` (8 kHz, 300-3400 Hz, mu-law,
    back to 16 kHz) or ``noise10`` (office-like coloured noise at 10 dB SNR, seeded per file);
    both from :mod:`models.augment`. Praat hears the same degraded signal."""
    if condition == "clean":
        return x
    from models import augment

    if condition == "telephone":
        return augment.telephone(x, SR)
    rng = np.random.default_rng(augment.seed_for(key, condition))
    return augment.add_noise(x, 10.0, rng)


def praat_voice_quality(x: np.ndarray) -> tuple[float, float]:
    """Praat's file-level local jitter and shimmer (cross-correlation point process, defaults)."""
    import parselmouth
    from parselmouth.praat import call

    snd = parselmouth.Sound(x.astype(np.float64), sampling_frequency=SR)
    pitch = snd.to_pitch_cc(time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0)
    points = call([snd, pitch], "To PointProcess (cc)")
    jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    shimmer = call([snd, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    return float(jitter), float(shimmer)


def praat_at(x: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Praat AC pitch at ``times`` (Hz, NaN unvoiced)."""
    import parselmouth

    pitch = parselmouth.Sound(x.astype(np.float64), sampling_frequency=SR).to_pitch_ac(
        time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0
    )
    pt = np.asarray(pitch.xs())
    pf = np.asarray(pitch.selected_array["frequency"], np.float64)
    pf[pf <= 0] = np.nan
    k = np.clip(np.searchsorted(pt, times) - 1, 0, len(pt) - 2)
    t0, t1 = pt[k], pt[k + 1]
    frac = np.clip((times - t0) / (t1 - t0), 0.0, 1.0)
    nearest = np.where(frac < 0.5, pf[k], pf[k + 1])
    both = np.isfinite(pf[k]) & np.isfinite(pf[k + 1])
    with np.errstate(invalid="ignore"):
        interp = np.exp((1 - frac) * np.log(pf[k]) + frac * np.log(pf[k + 1]))
    out = np.where(both, interp, nearest)
    out[(times < pt[0] - 0.005) | (times > pt[-1] + 0.005)] = np.nan
    return out


def scores(f0: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    ours_v, ref_v = np.isfinite(f0), np.isfinite(ref)
    both = ours_v & ref_v
    rel = np.abs(f0[both] - ref[both]) / ref[both]
    gross = rel > 0.2
    st = np.abs(12 * np.log2(f0[both][~gross] / ref[both][~gross]))
    n_ours, n_ref = int(ours_v.sum()), int(ref_v.sum())
    return {
        "frames": len(f0),
        "both_voiced": int(both.sum()),
        "gpe": float(gross.mean()) if both.any() else float("nan"),
        "fpe_st": float(st.mean()) if st.size else float("nan"),
        "voicing_agreement": float((ours_v == ref_v).mean()),
        "precision": float(both.sum() / n_ours) if n_ours else float("nan"),
        "recall": float(both.sum() / n_ref) if n_ref else float("nan"),
    }


def voice_quality_agreement(ours: np.ndarray, praat: np.ndarray) -> dict[str, float]:
    """Correlations (Pearson, Spearman) and median ratio of per-file jitter and shimmer."""
    from scipy.stats import pearsonr, spearmanr

    out: dict[str, float] = {"files": len(ours)}
    for k, name in enumerate(("jitter", "shimmer")):
        a, b = ours[:, k], praat[:, k]
        ok = np.isfinite(a) & np.isfinite(b)
        out[f"{name}_pearson"] = float(pearsonr(a[ok], b[ok])[0])
        out[f"{name}_spearman"] = float(spearmanr(a[ok], b[ok])[0])
        out[f"{name}_median_ratio"] = float(np.median(a[ok] / b[ok]))
        out[f"{name}_ours_median"] = float(np.median(a[ok]))
        out[f"{name}_praat_median"] = float(np.median(b[ok]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="only the first N files")
    ap.add_argument("--corpus", choices=("emodb", "ravdess"), default="emodb")
    ap.add_argument(
        "--direct", action="store_true", help="frame the signal here instead of the FrontEnd"
    )
    ap.add_argument(
        "--condition",
        choices=CONDITIONS,
        default="clean",
        help="degrade every file first (both trackers hear the same signal); results go to "
        "f0_vs_praat[_ravdess]_<condition>.json",
    )
    args = ap.parse_args(argv)

    cfg = FeatureConfig()
    raw = PitchTracker(dataclasses.replace(cfg, voicing_threshold=0.0))  # for the sweep
    utts = emodb.utterances() if args.corpus == "emodb" else ravdess.utterances()
    if args.limit:
        utts = utts[:: max(1, len(utts) // args.limit)][: args.limit]
    female = {
        u.speaker
        for u in utts
        if (
            u.speaker in emodb.FEMALE_SPEAKERS
            if u.corpus == "emodb"
            else int(u.speaker[1:]) % 2 == 0
        )
    }
    spk_ids = sorted({u.speaker for u in utts})

    f0_all, v_all, raw_all, ref_all, spk_all, gate_all = [], [], [], [], [], []
    vq_ours: list[tuple[float, float]] = []
    vq_praat: list[tuple[float, float]] = []
    t_pitch = t_frontend = t_praat = 0.0
    audio_s = 0.0
    frames_total = 0
    tracker = PitchTracker(cfg)
    for u in utts:
        x = np.asarray(degrade(u.read_16k(SR), args.condition, u.stem), np.float32)
        audio_s += len(x) / SR
        frames = centred_frames(x, tracker.frame_length, cfg.hop).astype(np.float32)
        frames_total += len(frames)
        t = time.perf_counter()
        res = tracker.analyze(frames)
        t_pitch += time.perf_counter() - t
        if args.direct:
            f0 = res.f0_hz.astype(np.float64)
        else:
            from edge.features.frontend import FrontEnd

            t = time.perf_counter()
            fe = FrontEnd(cfg)
            batch = fe.process(x)
            tail = fe.flush()
            t_frontend += time.perf_counter() - t
            f0 = np.concatenate([batch.f0_hz, tail.f0_hz]).astype(np.float64)[: len(frames)]
            if len(f0) != len(frames):
                raise RuntimeError(f"{u.stem}: front-end gave {len(f0)} hops, not {len(frames)}")
        r = raw.analyze(frames)
        times = (np.arange(len(frames)) + 0.5) * cfg.hop_s
        t = time.perf_counter()
        ref = praat_at(x, times)
        t_praat += time.perf_counter() - t
        # Praat's silence gate: a frame whose peak (over Praat's 3-period window, which is our
        # frame) is below 2 * 0.03 / 1.45 of the file's peak can never be voiced in Praat.
        peak = np.abs(frames).max(axis=1)
        gate_all.append(peak >= 2 * 0.03 / 1.45 * max(float(np.abs(x).max()), 1e-9))
        voiced = np.isfinite(res.f0_hz)
        if voiced.sum() >= 10:
            vq_ours.append(
                (float(np.nanmedian(res.jitter[voiced])), float(np.nanmedian(res.shimmer[voiced])))
            )
            vq_praat.append(praat_voice_quality(x))
        f0_all.append(f0)
        v_all.append(r.voicing)
        raw_all.append(r.f0_hz.astype(np.float64))
        ref_all.append(ref)
        spk_all.append(np.full(len(f0), spk_ids.index(u.speaker)))

    f0 = np.concatenate(f0_all)
    voicing = np.concatenate(v_all)
    rawf0 = np.concatenate(raw_all)
    ref = np.concatenate(ref_all)
    spk = np.concatenate(spk_all)
    gate = np.concatenate(gate_all)

    overall = scores(f0, ref)
    gated = scores(f0[gate], ref[gate])
    vq = voice_quality_agreement(np.array(vq_ours), np.array(vq_praat))
    by_speaker = {spk_ids[s]: scores(f0[spk == s], ref[spk == s]) for s in np.unique(spk)}
    by_sex: dict[str, dict[str, float]] = {}
    groups: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(spk), bool))
    for s in np.unique(spk):
        groups["female" if spk_ids[s] in female else "male"] |= spk == s
    for name, mask in groups.items():
        by_sex[name] = scores(f0[mask], ref[mask])
    sweep = {f"{thr:.2f}": scores(np.where(voicing >= thr, rawf0, np.nan), ref) for thr in SWEEP}

    print(
        f"{args.corpus} ({args.condition}): {len(utts)} files, {audio_s:.1f} s audio, "
        f"{frames_total} hops"
    )
    print(f"{'':10s} {'GPE %':>7s} {'FPE st':>7s} {'agree %':>8s} {'prec %':>7s} {'rec %':>7s}")

    def row(name: str, s: dict[str, float]) -> None:
        print(
            f"{name:10s} {100 * s['gpe']:7.2f} {s['fpe_st']:7.3f} "
            f"{100 * s['voicing_agreement']:8.2f} {100 * s['precision']:7.2f} "
            f"{100 * s['recall']:7.2f}"
        )

    row("all", overall)
    row("gated", gated)
    for name, s in sorted(by_sex.items()):
        row(name, s)
    for name, s in by_speaker.items():
        row(f"spk {name}", s)
    print("voicing threshold sweep (same F0 picks):")
    for name, s in sweep.items():
        row(f"thr {name}", s)
    print(
        f"per file, median of our voiced frames vs Praat (local, cc point process): "
        f"jitter r={vq['jitter_pearson']:.2f} rho={vq['jitter_spearman']:.2f} "
        f"ratio {vq['jitter_median_ratio']:.2f}; shimmer r={vq['shimmer_pearson']:.2f} "
        f"rho={vq['shimmer_spearman']:.2f} ratio {vq['shimmer_median_ratio']:.2f} "
        f"({vq['files']} files)"
    )
    rtf = t_pitch / audio_s
    print(
        f"PitchTracker: {t_pitch:.2f} s for {audio_s:.0f} s audio (RTF {rtf:.4f}; "
        f"{1e6 * t_pitch / frames_total:.1f} us/hop); Praat to_pitch_ac {t_praat:.2f} s"
        + (f"; FrontEnd total {t_frontend:.2f} s" if t_frontend else "")
    )
    out = {
        "corpus": args.corpus,
        "condition": args.condition,
        "files": len(utts),
        "audio_s": audio_s,
        "hops": frames_total,
        "voicing_threshold": cfg.voicing_threshold,
        "source": "direct" if args.direct else "frontend",
        "overall": overall,
        "above_praat_silence_gate": gated,
        "voice_quality_vs_praat": vq,
        "by_sex": by_sex,
        "by_speaker": by_speaker,
        "threshold_sweep": sweep,
        "timing": {
            "pitch_s": t_pitch,
            "pitch_rtf": rtf,
            "us_per_hop": 1e6 * t_pitch / frames_total,
            "praat_s": t_praat,
            "frontend_s": t_frontend,
        },
    }
    name = "f0_vs_praat" if args.corpus == "emodb" else "f0_vs_praat_ravdess"
    write_results(name if args.condition == "clean" else f"{name}_{args.condition}", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
