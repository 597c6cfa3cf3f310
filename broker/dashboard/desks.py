"""The desk directory: names and teams of devices, from a TOML file an admin keeps.

    [desks.desk-0001]
    name = "North 1"
    team = "north"
    agent = "a-017"      # optional: the agent normally at this desk

Devices not listed show under their device id with no team.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from broker.dashboard.model import Desk
from edge.errors import ConfigError
from edge.telemetry.topics import TopicError, validate_id


def load_desks(path: str | Path, default_site: str = "default") -> list[Desk]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"desk directory {path}: {exc}") from None
    out = []
    for device, row in (data.get("desks") or {}).items():
        try:
            validate_id(device, "device")
            site = validate_id(str(row.get("site", default_site)), "site")
            team = row.get("team")
            if team is not None:
                validate_id(str(team), "team")
        except TopicError as exc:
            raise ConfigError(f"desk directory {path}: {exc}") from None
        out.append(Desk(device, site, str(row.get("name", device))[:64], team, row.get("agent")))
    return out
