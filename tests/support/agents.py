"""What a device run left in its per-agent baseline folder (``agents/`` beside the state file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def saved_agents(state_file: Path) -> dict[str, dict[str, Any]]:
    """The agent records saved beside ``state_file``, by agent id (``agent-<id>.json``)."""
    folder = state_file.parent / "agents"
    out = {}
    for p in sorted(folder.glob("agent-*.json")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        assert doc["version"] >= 1 and doc["agent"] == p.name[len("agent-") : -len(".json")]
        out[doc["agent"]] = doc
    return out
