"""Atomic file replacement and NaN-free JSON, shared by every writer in Poise."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from edge.fileio import atomic_write, json_safe, write_bytes_atomic, write_text_atomic


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_write(target, sync_dir=True) as fh:
        fh.write("half of the new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_bytes_and_text_replace_with_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    write_bytes_atomic(target, b"\x00\x01", sync_dir=True)
    write_bytes_atomic(target, b"\x02")
    assert target.read_bytes() == b"\x02"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_json_safe_maps_non_finite_and_numpy_scalars() -> None:
    doc = {
        "a": math.nan,
        "b": [1.0, math.inf, np.float32(2.5), np.int64(3)],
        "c": (np.float64("nan"), "x"),
        "d": {"e": -math.inf, "f": True},
    }
    out = json_safe(doc)
    assert out == {
        "a": None,
        "b": [1.0, None, 2.5, 3],
        "c": [None, "x"],
        "d": {"e": None, "f": True},
    }
    json.dumps(out, allow_nan=False)
