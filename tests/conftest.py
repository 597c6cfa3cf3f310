"""Shared fixtures: repository paths and the EmoDB corpus (read in place)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.mosquitto", "tests.support.edge_call"]

REPO = Path(__file__).resolve().parent.parent


def _untracked() -> set[str] | None:
    """Files in the checkout that git neither tracks nor ignores (None: not a git checkout)."""
    try:
        r = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "--others", "--exclude-standard"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {line for line in r.stdout.splitlines() if line} if r.returncode == 0 else None


_UNTRACKED_AT_START: set[str] | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _UNTRACKED_AT_START
    _UNTRACKED_AT_START = _untracked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a test left a file in the checkout (tests write under tmp_path)."""
    after = _untracked()
    if _UNTRACKED_AT_START is None or after is None:
        return
    new = sorted(after - _UNTRACKED_AT_START)
    if new:
        print(f"\nERROR: the tests left files in the checkout: {', '.join(new)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def emodb_dir() -> Path:
    from models.emodb import corpus_dir

    return corpus_dir()


@pytest.fixture(scope="session")
def ravdess_dir() -> Path:
    from models.ravdess import corpus_dir

    return corpus_dir()
