"""The demo's live terminal view: one row per desk from the dashboard's floor API."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CLEAR = "\x1b[H\x1b[2J"


@dataclass
class FloorWatch:
    """Remembers what the floor showed: every (device, cue) seen, cue counts per desk."""

    seen: dict[str, Counter[str]] = field(default_factory=dict)
    last_cue: dict[str, str | None] = field(default_factory=dict)
    tiles: list[dict[str, Any]] = field(default_factory=list)

    def update(self, floor: dict[str, Any]) -> None:
        self.tiles = sorted(floor.get("tiles", []), key=lambda t: t["device"])
        for t in self.tiles:
            dev, cue = t["device"], t.get("cue")
            if cue and self.last_cue.get(dev) != cue:
                self.seen.setdefault(dev, Counter())[cue] += 1
            self.last_cue[dev] = cue

    @property
    def cues_seen(self) -> int:
        return sum(sum(c.values()) for c in self.seen.values())


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    m, sec = divmod(int(s), 60)
    return f"{m}:{sec:02d}"


def render(watch: FloorWatch, header: str) -> str:
    """The table as text (no colour needed: every state is spelled out)."""
    rows = [
        header,
        "",
        f"{'desk':<10} {'name':<10} {'team':<7} {'agent':<10} {'state':<8} {'call':>6} "
        f"{'cue now':<10} {'pace':<8} cues seen",
    ]
    for t in watch.tiles:
        state = "online" if t.get("online") else "offline"
        call = _fmt_s(t.get("call_s")) if t.get("in_call") else "-"
        seen = watch.seen.get(t["device"], Counter())
        cues = ", ".join(f"{k} {v}" for k, v in sorted(seen.items())) or "-"
        cue = (t.get("cue") or "-").upper() if t.get("cue") else "-"
        rows.append(
            f"{t['device']:<10} {str(t.get('name', ''))[:10]:<10} {t.get('team') or '-'!s:<7} "
            f"{str(t.get('agent') or '-')[:10]:<10} {state:<8} {call:>6} {cue:<10} "
            f"{str(t.get('pace') or '-')[:8]:<8} {cues}"
        )
    if not watch.tiles:
        rows.append("(waiting for the first desk to come online)")
    return "\n".join(rows)
