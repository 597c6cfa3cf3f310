"""Type-checks firmware/ against the MicroPython rp2 stubs (not CPython's stdlib).

micropython-rp2-stubs installs its modules (machine.pyi, neopixel.pyi, ...) at the top of
site-packages without a py.typed marker, so mypy will not pick them up from there; the test
links them (and micropython-stdlib-stubs' _mpy_shed helpers) into a temporary directory given
as MYPYPATH, and uses micropython-stdlib-stubs as the typeshed.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _top_level_entries(dist_name: str) -> tuple[Path, set[str]]:
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{dist_name} is not installed: `make venv` (dev extra) installs it")
    files = dist.files or []
    names = {f.parts[0] for f in files if not f.parts[0].endswith(".dist-info")}
    return Path(str(dist.locate_file(""))), names


def test_firmware_typechecks_against_rp2_stubs(tmp_path: Path) -> None:
    site, rp2_names = _top_level_entries("micropython-rp2-stubs")
    stdlib_site, _ = _top_level_entries("micropython-stdlib-stubs")
    typings = tmp_path / "typings"
    typings.mkdir()
    for name in sorted(rp2_names):
        if name.endswith((".md", ".toml")):
            continue
        (typings / name).symlink_to(site / name)
    (typings / "_mpy_shed").symlink_to(stdlib_site / "_mpy_shed")
    assert (typings / "machine.pyi").exists() and (typings / "neopixel.pyi").exists()

    env = dict(os.environ, MYPYPATH=str(typings))
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(REPO / "firmware" / "mypy.ini"),
        "--custom-typeshed-dir",
        str(stdlib_site),
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
        str(REPO / "firmware" / "main.py"),
        str(REPO / "firmware" / "puck"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def test_firmware_is_lint_clean() -> None:
    """firmware/ is excluded from the project's ruff run (MicroPython, not CPython 3.11);
    lint it here with the rules that make sense for MicroPython code."""
    cmd = [
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--isolated",
        "--line-length",
        "100",
        "--target-version",
        "py311",
        "--select",
        "E,F,W,I,B,SIM",
        str(REPO / "firmware"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
