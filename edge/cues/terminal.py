"""A "virtual LED" for demos: a coloured block and the cue name on a terminal (stderr)."""

from __future__ import annotations

import sys
from typing import TextIO

from edge.settings import CueStyle


class TerminalCue:
    """Prints one line per change: an ANSI 24-bit colour block, the cue, pattern and buzz."""

    def __init__(self, stream: TextIO | None = None, colour: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.colour = self.stream.isatty() if colour is None else colour
        self.current: str | None = None

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def show(self, cue: str, style: CueStyle) -> None:
        self.current = cue
        r, g, b = (int(style.colour[i : i + 2], 16) for i in (0, 2, 4))
        block = f"\x1b[48;2;{r};{g};{b}m    \x1b[0m" if self.colour else f"[#{style.colour}]"
        buzz = "" if style.buzz == "none" else f", {style.buzz} buzz"
        self._write(f"{block} cue {cue} ({style.pattern}{buzz})")

    def clear(self) -> None:
        if self.current is not None:
            block = "\x1b[48;2;40;40;40m    \x1b[0m" if self.colour else "[off]"
            self._write(f"{block} clear ({self.current})")
        self.current = None

    def tick(self, now: float) -> None:
        pass

    def close(self) -> None:
        self.clear()
