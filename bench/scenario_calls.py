"""The scripted calls of :mod:`bench.scenarios`: two-channel audio built at run time (espeak-ng,
and EmoDB/RAVDESS read in place for the held-out ``stress@``/``empathy@`` calls), with each
call's scripted onsets and calm spans. No audio is kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench import heldout
from edge.simulate.call_builder import Call
from edge.simulate.speech import F32, SR


@dataclass
class Scenario:
    name: str
    detector: str | None
    audio: F32
    onsets: list[float] = field(default_factory=list)
    calm_spans: list[tuple[float, float]] = field(default_factory=list)
    needs_model: bool = False
    note: str = ""


def _interleave(
    call: Call,
    calm: F32,
    hot: F32,
    speak: Callable[[F32], None],
    reply: Callable[[float], None],
    turn_s: tuple[float, float],
    reply_s: tuple[float, float],
    rng: np.random.Generator,
) -> float:
    """Play ``calm`` then ``hot`` speech in turns of ``turn_s`` seconds, each followed by a reply
    of ``reply_s`` seconds from the other side; return the time the hot stretch starts."""
    onset = 0.0
    for x in (calm, hot):
        if x is hot:
            onset = call.now
        pos = 0
        while pos < x.size:
            n = min(x.size - pos, round(float(rng.uniform(*turn_s)) * SR))
            speak(x[pos : pos + n])
            pos += n
            call.pause(0.5)
            reply(float(rng.uniform(*reply_s)))
            call.pause(0.5)
    return onset


def build(name: str, calm_minutes: float, neutral_calm: bool = False) -> Scenario:
    """The call ``name``; ``neutral_calm``: held-out EmoDB calm speech without boredom."""
    call = Call(seed=sum(map(ord, name)))
    warm = 300.0  # calm stretch before episodes: calibrates the baseline (~3.5 min of speech)
    if name in ("calm", "calm_varied"):
        (call.calm if name == "calm" else call.varied)(calm_minutes * 60)
        note = (
            "tidy turn-taking, one voice and rate"
            if name == "calm"
            else "rates 140-200 wpm, 3 voices, backchannels, 2-6 s pauses"
        )
        return Scenario(name, None, call.audio(), [], [(0.0, call.now)], note=note)
    if name in ("pace", "flat"):
        call.calm(warm)
        t0 = call.now
        onsets = [t0]
        kw: dict[str, Any] = {"rate": 260} if name == "pace" else {"voice": "en-us+flat"}
        end = t0 + 120
        while call.now < end:
            call.agent_says(float(call.rng.uniform(15, 25)), **kw)
            call.pause(0.6)
            call.customer_says(float(call.rng.uniform(2, 4)))
            call.pause(0.6)
        return Scenario(
            name,
            name,
            call.audio(),
            onsets,
            [(0.0, t0)],
            note="espeak -s 260" if name == "pace" else "espeak monotone variant",
        )
    if name == "overtalk":
        call.calm(120)
        calm_end = call.now
        onsets = []
        for _ in range(3):
            call.agent_says(4.0)
            onsets.append(call.now)
            call.both(6.0)
            call.pause(0.8)
            call.calm(70)
        return Scenario(
            name,
            name,
            call.audio(),
            onsets,
            [(0.0, calm_end)],
            note="6 s of both talking, 3 episodes 80 s apart",
        )
    if name == "monologue":
        call.calm(120)
        t0 = call.now
        call.agent_says(100.0, gap_s=0.8)
        call.pause(0.8)
        call.calm(40)
        return Scenario(
            name,
            name,
            call.audio(),
            [t0 + 60.0],
            [(0.0, t0)],
            note="100 s agent turn; onset = turn start + 60 s (the definition)",
        )
    if name == "dead_air":
        call.calm(120)
        calm_end = call.now
        onsets = []
        for _ in range(2):
            onsets.append(call.now)
            call.pause(15.0)
            call.calm(75)
        return Scenario(
            name,
            name,
            call.audio(),
            onsets,
            [(0.0, calm_end)],
            note="15 s of mutual silence, 2 episodes; delay counted from silence start",
        )
    kind, _, spk = name.partition("@")
    if kind in ("stress", "empathy") and spk:
        corpus = heldout.corpus_of(spk)
        seed = sum(map(ord, name))
        rng = np.random.default_rng(seed)
        calm_set = heldout.NEUTRAL_CALM if neutral_calm else heldout.CALM
        calm = heldout.stretch(spk, calm_set[corpus], HELDOUT_CALM_S, seed=seed + 1)
        hot = heldout.stretch(spk, heldout.STRESSED[corpus], HELDOUT_HOT_S, seed=seed + 2)
        who = f"{corpus} speaker {spk} (held out of the fold model)"
        if kind == "stress":
            t0 = _interleave(
                call, calm, hot, call.agent_audio, call.customer_says, (12, 20), (2, 4), rng
            )
            note = f"agent = {who}: 10 min calm, then 2 min stressed"
        else:
            calm, hot = heldout.telephone_band(calm), heldout.telephone_band(hot)
            t0 = _interleave(
                call, calm, hot, call.customer_audio, call.agent_says, (8, 14), (4, 8), rng
            )
            note = f"customer = {who}, telephone band: 10 min calm, then 2 min stressed"
        return Scenario(name, kind, call.audio(), [t0], [(0.0, t0)], needs_model=True, note=note)
    raise ValueError(name)


#: Seconds of the held-out speaker's calm and stressed speech in ``stress@``/``empathy@`` calls.
HELDOUT_CALM_S = 600.0
HELDOUT_HOT_S = 120.0

SCENARIOS = (
    "calm",
    "calm_varied",
    "pace",
    "flat",
    "overtalk",
    "monologue",
    "dead_air",
    *(f"stress@{s}" for s in heldout.HELDOUT),
    *(f"empathy@{s}" for s in heldout.HELDOUT),
)
#: The same held-out calls on each other set (:data:`bench.heldout.SETS`: B ``--validation``, C
#: ``--third``, D ``--voices D``), run only when asked for.
SET_SCENARIOS: dict[str, tuple[str, ...]] = {
    letter: (*(f"stress@{s}" for s in group), *(f"empathy@{s}" for s in group))
    for letter, group in heldout.SETS.items()
}
#: Where each set's run is written (A's held-out calls are part of the default set).
SET_RESULTS = {
    "B": "scenarios_validation",
    "C": "scenarios_third",
    "D": "scenarios_fourth",
    "E": "scenarios_fifth",
    "F": "scenarios_sixth",
}
VALIDATION_SCENARIOS = SET_SCENARIOS["B"]
THIRD_SCENARIOS = SET_SCENARIOS["C"]
