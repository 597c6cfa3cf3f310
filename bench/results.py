"""Where every benchmark writes its JSON: ``bench/results/<name>.json`` (git-ignored).

Written atomically and as strict JSON (NaN/inf become null), through :mod:`edge.fileio`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.fileio import json_safe, write_text_atomic

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_results(name: str, doc: dict[str, Any], indent: int = 2) -> Path:
    """Write ``doc`` to ``bench/results/<name>.json``, print where, and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    write_text_atomic(path, json.dumps(json_safe(doc), indent=indent, allow_nan=False) + "\n")
    print(f"wrote {path}")
    return path
