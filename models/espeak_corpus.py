"""Synthetic count-level training speech: espeak-ng voices in several languages at 90-320 wpm.

Each file is a sentence drawn (seeded) from a small per-language word list, spoken by one voice
at one rate; its syllable count is read from espeak-ng's own phoneme output for exactly that
text, voice and rate (:func:`count_nuclei` on ``espeak-ng -q --ipa --sep=_``), so the label is
what the synthesiser says, not a dictionary guess. Files are written once into
``.cache/espeak-syllables/`` (never committed) with a manifest; the same seed gives the same
files. :func:`utterances` returns them as count-only :class:`~models.emodb.Utterance` rows
(``corpus="espeak"``, speaker ``e:VOICE``).

Held out for honesty: the voices the benches speak with (``en``/``en-gb`` in
``bench.syllable_bench``, ``en-us`` in ``bench.scenarios``, and their close relatives ``en-gb-x-rp``
and ``en-us-nyc``) are never used, and a sentence is dropped if it shares any word run of three
with the bench's text. Hebrew (``he``) is left out: espeak-ng reads unvocalised Hebrew with
vowel-less words (e.g. ``l_d_v_ʁ`` for a three-syllable word), which would teach nonsense.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.errors import InputError
from models.emodb import REPO_ROOT, Utterance

log = logging.getLogger(__name__)

CACHE_DIR = REPO_ROOT / ".cache" / "espeak-syllables"
#: Training voices and the word list each speaks. None of the benches' voices.
VOICES: tuple[tuple[str, str], ...] = (
    ("en-029", "en"),
    ("en-gb-scotland", "en"),
    ("en-gb-x-gbclan", "en"),
    ("en-gb-x-gbcwmd", "en"),
    ("de", "de"),
    ("es", "es"),
    ("es-419", "es"),
    ("ro", "ro"),
    ("it", "it"),
    ("nl", "nl"),
)
#: Voices the benches use: never trained on.
HELD_OUT_VOICES = frozenset({"en", "en-gb", "en-gb-x-rp", "en-us", "en-us-nyc"})
#: espeak-ng voice variants (pitch and timbre), drawn per file.
VARIANTS = ("", "+m3", "+m7", "+f2", "+f4")
RATE_WPM = (90, 320)
WORDS_PER_SENTENCE = (3, 9)
FILES_PER_VOICE = 30
#: Longest file kept (s): words are dropped from the end until the speech fits. The training
#: batches are padded to the longest copy; this keeps the 0.7x copies within the
#: longest copies of the other corpora (EmoDB 2.0 s at 0.6x: 3.3 s).
MAX_SECONDS = 2.3

#: Word lists (space-separated) the sentences are drawn from.
WORDS: dict[str, str] = {
    "en": (
        "hello please account billing payment question problem number address yesterday "
        "tomorrow morning evening delivery package customer service manager minute second "
        "really actually probably certainly definitely usually telephone internet password "
        "update cancel refund receipt invoice balance message we you they she he it can will "
        "should would could check send change open close wait help call again later today "
        "every little very quite simple easy difficult important available information "
        "department appointment situation confirmation electricity"
    ),
    "de": (
        "guten Morgen bitte danke Rechnung Konto Zahlung Frage Problem Nummer Adresse gestern "
        "morgen Abend Lieferung Paket Kunde Kundin Dienst Leiter Minute Sekunde wirklich "
        "eigentlich wahrscheinlich sicher natürlich Telefon Internet Passwort ändern "
        "kündigen Rückzahlung Beleg Nachricht wir Sie sie er es kann wird sollte könnte "
        "prüfen schicken öffnen schließen warten helfen anrufen wieder später heute jeder "
        "kleine sehr ziemlich einfach schwierig wichtig verfügbar Information Abteilung "
        "Termin Bestätigung Verbindung Überweisung"
    ),
    "es": (
        "hola buenos días por favor gracias factura cuenta pago pregunta problema número "
        "dirección ayer mañana tarde entrega paquete cliente servicio encargado minuto "
        "segundo realmente probablemente seguro claro teléfono internet contraseña cambiar "
        "cancelar reembolso recibo mensaje nosotros usted ellos ella puede debería podría "
        "revisar enviar abrir cerrar esperar ayudar llamar otra vez luego hoy cada pequeño "
        "muy bastante sencillo difícil importante disponible información departamento cita "
        "situación confirmación electricidad"
    ),
    "ro": (
        "bună ziua vă rog mulțumesc factură cont plată întrebare problemă număr adresă ieri "
        "mâine seara livrare pachet client serviciu director minut secundă într-adevăr "
        "probabil sigur desigur telefon internet parolă schimba anula rambursare chitanță "
        "mesaj noi dumneavoastră ei ea poate trebuie putea verifica trimite deschide închide "
        "aștepta ajuta suna din nou mai târziu astăzi fiecare mic foarte destul simplu "
        "greu important disponibil informație departament programare situație confirmare "
        "electricitate"
    ),
    "it": (
        "buongiorno per favore grazie fattura conto pagamento domanda problema numero "
        "indirizzo ieri domani sera consegna pacco cliente servizio responsabile minuto "
        "secondo davvero probabilmente sicuro certo telefono internet password cambiare "
        "annullare rimborso ricevuta messaggio noi lei loro può dovrebbe potrebbe "
        "controllare inviare aprire chiudere aspettare aiutare chiamare ancora dopo oggi "
        "ogni piccolo molto abbastanza semplice difficile importante disponibile "
        "informazione dipartimento appuntamento situazione conferma elettricità"
    ),
    "nl": (
        "goedemorgen alstublieft dank rekening betaling vraag probleem nummer adres gisteren "
        "morgen avond levering pakket klant dienst manager minuut seconde echt eigenlijk "
        "waarschijnlijk zeker natuurlijk telefoon internet wachtwoord wijzigen opzeggen "
        "terugbetaling bon bericht wij u zij hij het kan zal zou moeten controleren sturen "
        "openen sluiten wachten helpen bellen opnieuw later vandaag elke kleine heel "
        "tamelijk eenvoudig moeilijk belangrijk beschikbaar informatie afdeling afspraak "
        "situatie bevestiging elektriciteit"
    ),
}

#: IPA vowel letters (a nucleus is a phoneme token containing one, or a syllabic mark).
VOWELS = frozenset("aeiouyæɑɐɒɛɜɝəɚɪɨʉɔøœɶʊʌɯɤɵɘɞʏᵻ")
#: High vowels: next to another vowel with no boundary they form one diphthong nucleus.
HIGH_VOWELS = frozenset("iuyɪʊʏɨʉ")
SYLLABIC_MARKS = frozenset("\u0329\u030d")
STRESS = frozenset("ˈˌ")


def _is_vowel(token: str) -> bool:
    return any(c in VOWELS or c in SYLLABIC_MARKS for c in token)


def _is_high(token: str) -> bool:
    letters = [c for c in token if c in VOWELS]
    return len(letters) == 1 and letters[0] in HIGH_VOWELS


def count_nuclei(ipa: str) -> int:
    """Syllables in espeak-ng's ``--ipa --sep=_`` output: phoneme tokens with a vowel letter or
    a syllabic mark (``n̩``), words split at spaces. Two vowel tokens in a row count once when
    one of them is a plain high vowel (``ɛ_i``, ``ʊ_o``: a diphthong) unless the second carries
    stress or an empty token (``__``, espeak's syllable break) separates them (``iː__ˈeɪ``)."""
    n = 0
    for word in ipa.split():
        prev: str | None = None  # previous token if it was a vowel, else None
        broke = False
        for tok in word.split("_"):
            if not tok:
                broke = True
                continue
            if tok.startswith("(") and tok.endswith(")"):
                continue  # language-switch marker
            if not _is_vowel(tok):
                prev, broke = None, False
                continue
            merge = (
                prev is not None
                and not broke
                and not any(c in STRESS for c in tok)
                and (_is_high(prev) or _is_high(tok))
            )
            if not merge:
                n += 1
            prev, broke = tok, False
    return n


def phonemes(text: str, voice: str, rate: int) -> str:
    """espeak-ng's IPA for ``text`` as ``voice`` speaks it at ``rate`` wpm."""
    out = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "--sep=_", "-v", voice, "-s", str(rate), text],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def sentence(lang: str, k: int, rng: np.random.Generator) -> str:
    """A sentence of ``k`` distinct words drawn from the language's word list."""
    words = WORDS[lang].split()
    picked = [words[int(i)] for i in rng.choice(len(words), size=k, replace=False)]
    return " ".join(picked).capitalize() + "."


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = ["".join(c for c in t.lower() if c.isalpha()) for t in text.split()]
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


@dataclass(frozen=True)
class Plan:
    """One file to synthesise."""

    stem: str
    voice: str
    variant: str
    rate: int
    text: str


def plan(seed: int = 0, files_per_voice: int | None = None) -> list[Plan]:
    """The deterministic list of files (no espeak-ng call)."""
    from bench.syllable_bench import TEXT

    banned = _trigrams(TEXT)
    rng = np.random.default_rng(seed)
    out = []
    for voice, lang in VOICES:
        for j in range(FILES_PER_VOICE if files_per_voice is None else files_per_voice):
            rate = int(rng.integers(RATE_WPM[0], RATE_WPM[1] + 1))
            variant = VARIANTS[int(rng.integers(len(VARIANTS)))]
            # about MAX_SECONDS of speech at this rate (longer files would pad every batch)
            k_max = max(WORDS_PER_SENTENCE[0], min(WORDS_PER_SENTENCE[1], int(1.7 * rate / 60)))
            text = sentence(lang, int(rng.integers(WORDS_PER_SENTENCE[0], k_max + 1)), rng)
            if _trigrams(text) & banned:
                continue
            out.append(Plan(f"{voice}-{j:03d}", voice, variant, rate, text))
    return out


def _digest(plans: list[Plan]) -> str:
    h = hashlib.sha256()
    for p in plans:
        h.update(f"{p.stem}|{p.voice}{p.variant}|{p.rate}|{p.text}\n".encode())
    return h.hexdigest()[:12]


def generate(cache_dir: Path = CACHE_DIR, seed: int = 0) -> Path:
    """Synthesise the planned files into ``cache_dir/<digest>/`` (once) and return that folder;
    ``manifest.json`` there lists stem, voice, rate, text, phonemes and count."""
    if shutil.which("espeak-ng") is None:
        raise InputError("espeak-ng is not installed (scripts/bootstrap-system.sh installs it)")
    plans = plan(seed)
    out = cache_dir / _digest(plans)
    manifest = out / "manifest.json"
    if manifest.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in plans:
        v = p.voice + p.variant
        wav = out / f"{p.stem}.wav"
        words = p.text.rstrip(".").split()
        while True:
            text = " ".join(words) + "."
            subprocess.run(
                ["espeak-ng", "-v", v, "-s", str(p.rate), "-w", str(wav), text],
                check=True,
                capture_output=True,
            )
            if len(words) == 1 or _seconds(wav) <= MAX_SECONDS:
                break
            words = words[:-1]
        ipa = phonemes(text, v, p.rate)
        if "(" in ipa or _seconds(wav) > MAX_SECONDS:
            wav.unlink()  # a language switch mixes voices in the count; or still too long
            continue
        n = count_nuclei(ipa)
        rows.append({**p.__dict__, "text": text, "ipa": ipa.strip(), "syllables": n})
    manifest.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    log.info("espeak-ng: %d files in %s", len(rows), out)
    return out


def _seconds(wav: Path) -> float:
    from edge.audio.wav import read_wav

    x, sr = read_wav(wav)
    return len(x) / sr


def utterances(cache_dir: Path = CACHE_DIR, seed: int = 0) -> list[Utterance]:
    """The generated files (synthesised first if missing) as count-only utterances."""
    folder = generate(cache_dir, seed)
    rows = json.loads((folder / "manifest.json").read_text())
    return [
        Utterance(
            path=folder / f"{r['stem']}.wav",
            speaker=f"e:{r['voice']}",
            text=r["text"],
            emotion="N",
            arousal=None,
            syllable_times=(),
            end_time=None,
            corpus="espeak",
            syllable_count=int(r["syllables"]),
        )
        for r in rows
        if r["syllables"] > 0
    ]


def main(argv: list[str] | None = None) -> int:
    """``python -m models.espeak_corpus``: synthesise the training files (once) and summarise."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    utts = utterances(args.cache_dir, args.seed)
    total = sum(u.syllable_count or 0 for u in utts)
    print(f"{len(utts)} espeak-ng files, {total} syllables, in {utts[0].path.parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
