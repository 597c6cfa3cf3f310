"""Train the learned syllable counter (:mod:`edge.features.syllables`) on EmoDB and RAVDESS.

Run: ``.venv/bin/python -m models.train_syllables [--loso] [--epochs N] [--out PATH]`` (train
extra; ``PATH`` defaults to ``models/syllables-v1``). ``--loso`` first scores the recipe
leave-one-speaker-out (10 fits; ``--seeds`` fits each group once per seed and scores the mean of
their counts as well as each seed's); then the shipped network is fitted on all speakers (one
per seed of ``--seeds``: an ensemble, :class:`~edge.features.syllables.SyllableEnsemble`) and
written as ``PATH.npz`` with a card ``PATH.json`` (the LOSO scores go into both).
``make syllables`` does exactly that.

Data: every EmoDB file with syllable marks, in six copies (clean; 0.88x and 1.12x speed; telephone
band with mu-law; office noise at 12-30 dB SNR; 1.06x speed plus telephone), each through the
real :class:`~edge.features.frontend.FrontEnd` and :class:`~edge.features.syllables.SyllableInputs`
as on the device. Target per hop: for each labelled syllable whose nucleus (see
:mod:`models.syllable_labels`; times scaled with the speed) lies in the copy, a Gaussian bump of
``sigma_hops`` with unit mass over the copy's hops. Loss: squared error per hop plus
``count_weight`` x the squared error of the copy's total, both on the VAD-gated output the device
produces. Held-out speakers are always scored on their clean copies (and reported on the
telephone and noisy ones) through the numpy streaming code the device runs.

RAVDESS (actors 01-12) adds English with count-level supervision: both statements have seven
syllables, so each copy (:data:`RAVDESS_VARIANTS`) trains only the count term (its per-hop weight
is 0). With both corpora, ``--loso`` holds out one EmoDB speaker and one or two RAVDESS actors
per fit (:func:`speaker_folds`: ten fits, every speaker held out once).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from edge.features.config import FeatureConfig
from edge.features.syllables import ENSEMBLE_FORMAT, NET_FORMAT, SyllableEnsemble, SyllableNet
from edge.fileio import write_bytes_atomic, write_text_atomic
from models.emodb import REPO_ROOT, Utterance, utterances
from models.syllable_data import (
    ESPEAK_VARIANTS,
    RAVDESS_VARIANTS,
    SCORED_VARIANTS,
    VARIANTS,
    Example,
    build_examples,
)
from models.syllable_fit import TrainSettings, count, fit
from models.syllable_labels import scores

log = logging.getLogger(__name__)

#: What the card says about use and limits (also written by :func:`main`).
CARD_TEXT: dict[str, Any] = {
    "intended_use": (
        "Counting syllables per 10 ms hop in one speaker's speech for speech and articulation "
        "rate (poise analyze; optionally the device's pace cue). It counts; it does not "
        "recognise words and keeps nothing of what was said."
    ),
    "limits": [
        "Trained on acted speech of 22 speakers: German (EmoDB, ten speakers, 2.0 s excerpts, "
        "syllable times) and North American English (RAVDESS actors 01-12, two seven-syllable "
        "statements, count-level labels only). Scores are for held-out speaker groups; the "
        "shipped fit saw all speakers.",
        "RAVDESS gives only two sentences at one count: it teaches English timing, not the "
        "range of real calls; other languages and spontaneous speech are untested.",
        "Also trained (count-level) on espeak-ng speech: ten voices in English, German, "
        "Spanish, Romanian, Italian and Dutch at 90-320 wpm, with counts read from espeak-ng's "
        "phoneme output (models/espeak_corpus.py). The benches' voices (en, en-us) and text "
        "are held out, but the synthesiser is the same, so espeak-ng figures are not natural "
        "speech figures.",
        "Needs the front-end settings of feature_digest; other settings fall back to "
        "intensity-peak counting.",
        "Sees 100 ms ahead: the front-end emits each hop 10 hops later than without it.",
    ],
    "citation": (
        'F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss: "A Database of German '
        'Emotional Speech", Proc. Interspeech 2005, Lisbon, pp. 1517-1520. S. R. Livingstone, '
        "F. A. Russo: The Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS), "
        "PLoS ONE 13(5): e0196391, 2018."
    ),
    "licence": "CC BY-NC-SA 4.0 (inherited from RAVDESS: the weights are trained on it)",
}


def speaker_folds(speakers: list[str], n_groups: int = 10) -> list[tuple[str, ...]]:
    """Held-out speaker groups: with one corpus, one speaker per fold (LOSO); with both, the
    EmoDB speakers and the RAVDESS actors are dealt round-robin into ``n_groups`` groups (10:
    one EmoDB speaker and one or two actors per fit), so every speaker is held out exactly once."""
    emodb = sorted(s for s in speakers if not s.startswith("r"))
    rav = sorted(s for s in speakers if s.startswith("r"))
    if not emodb or not rav:
        return [(s,) for s in sorted(speakers)]
    n = max(1, min(n_groups, len(emodb)))
    groups: list[list[str]] = [[] for _ in range(n)]
    for i, s in enumerate(emodb):
        groups[i % n].append(s)
    for i, s in enumerate(rav):
        groups[i % n].append(s)
    return [tuple(g) for g in groups]


def held_out_speakers(examples: list[Example]) -> list[str]:
    """The speakers :func:`loso` holds out: every EmoDB speaker and RAVDESS actor (the
    synthetic espeak-ng voices are always trained on)."""
    return sorted({e.utt.speaker for e in examples if e.utt.corpus != "espeak"})


def recipe(s: TrainSettings) -> dict[str, Any]:
    """The settings a held-out report depends on besides its seeds (as JSON gives them back)."""
    return dict(json.loads(json.dumps({k: v for k, v in asdict(s).items() if k != "seed"})))


def loso(
    examples: list[Example],
    s: TrainSettings,
    n_groups: int = 10,
    seeds: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Speaker-independent scores: for each group of :func:`speaker_folds`, fit on the other
    speakers and count the held-out ones' scored copies; scores per corpus and copy. The
    synthetic espeak-ng voices are never held out: every fit trains on them (none of them is a
    voice the benches speak with).

    With several ``seeds`` every group is fitted once per seed; the count of a copy is then the
    mean of the seeds' counts, which is what an ensemble of those nets would count (a count is
    the sum of the per-hop density, so averaging the nets' outputs averages their counts).
    ``by_seed`` keeps each seed's own scores beside the ensemble's."""
    seeds = seeds or (s.seed,)
    speakers = held_out_speakers(examples)
    per_seed: dict[int, dict[str, dict[str, float]]] = {
        k: {v: {} for v in SCORED_VARIANTS} for k in seeds
    }
    folds = speaker_folds(speakers, n_groups)
    for group in folds:
        held = [
            e
            for e in examples
            if e.utt.speaker in group and e.utt.corpus != "espeak" and e.variant in SCORED_VARIANTS
        ]
        train = [e for e in examples if e.utt.speaker not in group]
        for k in seeds:
            t0 = time.perf_counter()
            net = fit(train, replace(s, seed=k))
            for e in held:
                per_seed[k][e.variant][e.utt.stem] = count(net, e)
            parts = []
            for corpus in ("emodb", "ravdess"):
                clean = [e for e in held if e.variant == "clean" and e.utt.corpus == corpus]
                if clean:
                    sc = scores(
                        np.asarray([per_seed[k]["clean"][e.utt.stem] for e in clean]),
                        np.asarray([e.label for e in clean], np.float64),
                    )
                    parts.append(f"{corpus} r={sc['pearson_r']:.3f} MAE={sc['mae_pct']:.1f}%")
            print(
                f"  held-out {'+'.join(group)} seed {k}: {'; '.join(parts)} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    labels = {
        e.utt.stem: e.label for e in examples if e.variant == "clean" and e.utt.corpus != "espeak"
    }
    corpus_of = {e.utt.stem: e.utt.corpus for e in examples}
    counts = {
        v: {stem: float(np.mean([per_seed[k][v][stem] for k in seeds])) for stem in got}
        for v, got in per_seed[seeds[0]].items()
    }
    by_variant, by_corpus = _score_counts(counts, labels, corpus_of)
    report: dict[str, Any] = {
        "speakers": speakers,
        "folds": [list(g) for g in folds],
        "seeds": list(seeds),
        "recipe": recipe(s),
        "by_variant": by_variant,
        "by_corpus": by_corpus,
        "counts": counts,
    }
    if len(seeds) > 1:
        report["by_seed"] = {
            str(k): _score_counts(per_seed[k], labels, corpus_of)[1] for k in seeds
        }
        report["counts_by_seed"] = {str(k): per_seed[k] for k in seeds}
    return report


def _score_counts(
    counts: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, float],
    corpus_of: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scores of held-out ``counts`` (variant -> stem -> count): per variant over all files,
    and per corpus and variant."""
    by_variant: dict[str, Any] = {}
    by_corpus: dict[str, Any] = {}
    for v, got in counts.items():
        stems = sorted(got)
        if not stems:
            continue  # the variant was not built
        by_variant[v] = scores(
            np.asarray([got[k] for k in stems]), np.asarray([labels[k] for k in stems], np.float64)
        )
        for corpus in sorted({corpus_of[k] for k in stems}):
            ks = [k for k in stems if corpus_of[k] == corpus]
            by_corpus.setdefault(corpus, {})[v] = scores(
                np.asarray([got[k] for k in ks]), np.asarray([labels[k] for k in ks], np.float64)
            )
    return by_variant, by_corpus


def _read_report(
    path: Path, examples: list[Example], s: TrainSettings, n_groups: int, seeds: tuple[int, ...]
) -> dict[str, Any]:
    """A held-out report written by ``--loso --counts-out``, checked against this run's
    speakers, groups, seeds and recipe (:class:`SystemExit` with the reason if it does not
    match)."""
    try:
        report = json.loads(Path(path).read_text())
        folds, got_seeds, got_recipe = report["folds"], report["seeds"], report["recipe"]
        if not isinstance(report["by_corpus"], dict) or not isinstance(report["by_variant"], dict):
            raise TypeError("by_corpus and by_variant must be tables")
        if not isinstance(folds, list) or not isinstance(got_recipe, dict):
            raise TypeError("folds must be a list and recipe a table")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"--loso-from {path}: not a held-out report ({exc})") from exc
    want = [list(g) for g in speaker_folds(held_out_speakers(examples), n_groups)]
    if folds != want or got_seeds != list(seeds):
        raise SystemExit(
            f"--loso-from {path}: its folds/seeds ({len(folds)} groups, seeds {got_seeds}) are "
            f"not this run's ({len(want)} groups, seeds {list(seeds)})"
        )
    this_recipe = recipe(s)
    if got_recipe != this_recipe:
        differ = sorted(k for k in this_recipe if got_recipe.get(k) != this_recipe[k])
        raise SystemExit(f"--loso-from {path}: made with another recipe ({', '.join(differ)})")
    return dict(report)


#: Card fields not repeated inside the ``.npz``.
CARD_ONLY = frozenset({"loso_all_files", "loso_by_corpus", "loso_by_seed", "loso_folds"})


def save(
    nets: SyllableNet | list[SyllableNet], out: Path, meta: dict[str, Any]
) -> SyllableEnsemble:
    """Write ``out.npz`` and its card ``out.json``: one network (:data:`NET_FORMAT`) or several
    fitted with different seeds (:data:`ENSEMBLE_FORMAT`, arrays prefixed ``m<j>.``); return
    the file as loaded back."""
    members = [nets] if isinstance(nets, SyllableNet) else list(nets)
    first = members[0]
    full = {**first.meta, **meta, "lookahead": first.lookahead, "n_mels": first.n_mels}
    arrays: dict[str, Any] = {}
    if len(members) > 1:
        full["format"] = ENSEMBLE_FORMAT
        full["members"] = [
            {"layers": len(m.layers), "dilations": [la.dilation for la in m.layers]}
            for m in members
        ]
        for k in ("layers", "dilations"):
            full.pop(k, None)
    else:
        full["format"] = NET_FORMAT
    for j, net in enumerate(members):
        prefix = f"m{j}." if len(members) > 1 else ""
        arrays[prefix + "out_weight"] = net.out_weight.astype(np.float32)
        arrays[prefix + "out_bias"] = np.asarray(net.out_bias, np.float32)
        arrays[prefix + "mean"] = net.mean.astype(np.float32)
        arrays[prefix + "std"] = net.std.astype(np.float32)
        for i, layer in enumerate(net.layers):
            arrays[f"{prefix}kernel{i}"] = layer.kernel.astype(np.float32)
            arrays[f"{prefix}bias{i}"] = layer.bias.astype(np.float32)
    # the per-corpus held-out tables live in the card only (they would add ~12 KB to the file)
    inner = {k: v for k, v in full.items() if k not in CARD_ONLY}
    arrays["meta"] = np.asarray(json.dumps(inner, sort_keys=True))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz = out.with_suffix(".npz")
    write_bytes_atomic(npz, buf.getvalue())
    loaded = SyllableEnsemble.load(npz)
    card = {**full, "file": npz.name, "sha256": loaded.sha256, "bytes": len(buf.getvalue())}
    write_text_atomic(out.with_suffix(".json"), json.dumps(card, indent=2, sort_keys=True) + "\n")
    return loaded


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loso", action="store_true", help="score leave-one-speaker-out first")
    ap.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    ap.add_argument("--limit", type=int, default=0, help="only every k-th file (~N files; smoke)")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "syllables-v1")
    ap.add_argument("--no-save", action="store_true", help="score only (with --loso)")
    ap.add_argument(
        "--corpora", default="emodb,ravdess,espeak", help="any of emodb, ravdess, espeak"
    )
    ap.add_argument("--groups", type=int, default=10, help="held-out speaker groups (both corpora)")
    ap.add_argument("--count-weight", type=float, default=TrainSettings.count_weight)
    ap.add_argument("--lookahead", type=int, default=TrainSettings.lookahead)
    ap.add_argument("--dropout", type=float, default=TrainSettings.dropout)
    ap.add_argument("--seed", type=int, default=TrainSettings.seed, help="Keras seed of every fit")
    ap.add_argument(
        "--seeds",
        help="comma-separated seeds: the shipped file holds one network per seed (an ensemble "
        "that counts the mean of their counts); with --loso each is fitted on every group and "
        "scored as the ensemble and alone",
    )
    ap.add_argument(
        "--counts-out", type=Path, help="with --loso: write the held-out per-file counts (JSON)"
    )
    ap.add_argument(
        "--loso-from",
        type=Path,
        help="instead of --loso: take the held-out scores from a report that --loso "
        "--counts-out wrote for the same seeds and groups (then only the final fit runs)",
    )
    args = ap.parse_args(argv)
    if args.loso_from and args.loso:
        ap.error("--loso-from replaces --loso: give one of them")
    if args.counts_out and not args.loso:
        ap.error("--counts-out needs --loso (the counts are the held-out fits')")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    s = TrainSettings(
        epochs=args.epochs,
        count_weight=args.count_weight,
        lookahead=args.lookahead,
        dropout=args.dropout,
        seed=args.seed,
    )
    t0 = time.perf_counter()
    corpora = [c for c in args.corpora.split(",") if c]
    utts: list[Utterance] = utterances() if "emodb" in corpora else []
    if "ravdess" in corpora:
        from models import ravdess

        utts += ravdess.utterances()
    if "espeak" in corpora:
        from models import espeak_corpus

        utts += espeak_corpus.utterances()
    if args.limit:
        utts = utts[:: max(1, len(utts) // args.limit)]
    examples = build_examples(utts, sigma_hops=s.sigma_hops)
    print(f"{len(examples)} copies of {len(utts)} files ({time.perf_counter() - t0:.0f} s)")
    meta: dict[str, Any] = {
        "trained": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings": asdict(s),
        "variants": [v for v, _ in VARIANTS],
        "ravdess_variants": [v for v, _ in RAVDESS_VARIANTS],
        "espeak_variants": [v for v, _ in ESPEAK_VARIANTS],
        "data": (
            f"{' + '.join(corpora)}: {len(utts)} files, all speakers (EmoDB: syllable times; "
            "RAVDESS actors 01-12: seven syllables per file, count-level only; espeak-ng: "
            "10 voices in 6 languages at 90-320 wpm, count from its phoneme output)"
        ),
        "feature_digest": FeatureConfig().digest(),
        "label_rule": "syllables whose vowel midpoint (lablaut) lies in the copy",
        **CARD_TEXT,
    }
    seeds = tuple(int(k) for k in args.seeds.split(",")) if args.seeds else (s.seed,)
    meta["seeds"] = list(seeds)
    if args.loso or args.loso_from:
        report = (
            loso(examples, s, args.groups, seeds)
            if args.loso
            else _read_report(args.loso_from, examples, s, args.groups, seeds)
        )
        # "loso" keeps meaning EmoDB's held-out scores (as in issue 2); both corpora beside it
        meta["loso"] = report["by_corpus"].get("emodb", report["by_variant"])
        meta["loso_all_files"] = report["by_variant"]
        meta["loso_by_corpus"] = report["by_corpus"]
        meta["loso_folds"] = report["folds"]
        if "by_seed" in report:
            meta["loso_by_seed"] = report["by_seed"]
        if args.counts_out:
            write_text_atomic(args.counts_out, json.dumps(report, indent=1, sort_keys=True) + "\n")
        for corpus, rows in report["by_corpus"].items():
            for v, sc in rows.items():
                print(
                    f"held out {corpus:<8} {v:<6} r={sc['pearson_r']:.4f} "
                    f"MAE={sc['mae_pct']:.1f}% bias={sc['mean_signed_error']:+.2f}"
                )
        for k, by_corpus in report.get("by_seed", {}).items():
            for corpus, rows in by_corpus.items():
                sc = rows["clean"]
                print(
                    f"  seed {k} alone: {corpus:<8} clean r={sc['pearson_r']:.4f} "
                    f"MAE={sc['mae_pct']:.1f}% bias={sc['mean_signed_error']:+.2f}"
                )
    if args.no_save:
        return 0
    nets = [fit(examples, replace(s, seed=k)) for k in seeds]
    saved = save(nets, args.out, meta)
    print(
        f"wrote {args.out}.npz ({len(saved.members)} network(s), {saved.sha256[:12]}) "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
