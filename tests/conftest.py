"""Shared fixtures: repository paths and the EmoDB corpus (read in place)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.support.mosquitto", "tests.support.edge_call"]

REPO = Path(__file__).resolve().parent.parent


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
