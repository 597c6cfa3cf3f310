"""Parse and check ``desks.csv`` for ``poise fleet import``: every bad row reported by line.

Columns (header required, any order, extra columns ignored): ``device``, ``site``, ``desk``.
Ids follow the telemetry contract (``[a-z0-9-]{1,64}``); ``desk`` is a free label (1-64
printable characters). A device id may appear once in the file and must not exist yet.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from edge.errors import InputError
from edge.telemetry.topics import TopicError, validate_id

REQUIRED = ("device", "site", "desk")


@dataclass(frozen=True)
class DeskRow:
    """One valid row."""

    line: int
    device: str
    site: str
    desk: str


class ImportRowsError(InputError):
    """Rows that cannot be imported; nothing was imported."""

    def __init__(self, path: str, problems: list[str]) -> None:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{path}: {len(problems)} bad row(s), nothing imported: {shown}{more}")
        self.problems = problems


def read_desks(path: Path) -> list[DeskRow]:
    """Valid rows of ``path``, or :class:`ImportRowsError` naming every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return parse_desks(text, str(path))


def parse_desks(text: str, where: str = "desks.csv") -> list[DeskRow]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{where}: empty file") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{where}: header must have columns device,site,desk (missing {missing})")
    col = {c: header.index(c) for c in REQUIRED}
    rows: list[DeskRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for rec in reader:
        line = reader.line_num
        if not any(v.strip() for v in rec):
            continue
        if len(rec) < len(header):
            problems.append(f"line {line}: {len(rec)} columns, header has {len(header)}")
            continue
        device, site, desk = (rec[col[c]].strip() for c in REQUIRED)
        try:
            validate_id(device, "device id")
            validate_id(site, "site id")
        except TopicError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if not desk or len(desk) > 64 or not desk.isprintable():
            problems.append(f"line {line}: desk must be 1-64 printable characters")
            continue
        if device in seen:
            problems.append(f"line {line}: device {device} already on line {seen[device]}")
            continue
        seen[device] = line
        rows.append(DeskRow(line, device, site, desk))
    if problems:
        raise ImportRowsError(where, problems)
    if not rows:
        raise InputError(f"{where}: no rows")
    return rows
