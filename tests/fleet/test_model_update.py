"""Model updates: verify, resume after a cut or a kill, swap, self-test, roll back."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.fleet import signing
from edge.fleet.model_update import ModelUpdater
from edge.telemetry.envelope import format_ts
from tests.fleet.conftest import FakeWallClock

KEY = Ed25519PrivateKey.generate()
DIGEST = "f" * 64


class Files:
    """A fake model server: version -> name -> bytes; can cut a transfer after N bytes."""

    def __init__(self) -> None:
        self.files: dict[int, dict[str, bytes]] = {}
        self.cut_after: int | None = None
        self.offsets: list[int] = []

    def fetch(self, version: int, name: str, offset: int) -> Iterator[bytes]:
        self.offsets.append(offset)
        data = self.files[version][name][offset:]
        for i in range(0, len(data), 1000):
            if self.cut_after is not None and i >= self.cut_after:
                raise OSError("connection reset")
            yield data[i : i + 1000]


def manifest(
    files: Files,
    version: int,
    now: float,
    blob: bytes,
    *,
    expires_in: float = 3600,
    key: Any = KEY,
    expect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    clip = b"RIFF-clip-" + bytes([version]) * 3000
    files.files[version] = {"m.tflite": blob, "reference.wav": clip}
    sha = hashlib.sha256(blob).hexdigest()
    signed = {
        "type": "poise-model",
        "v": 1,
        "name": "prosody",
        "version": version,
        "file": "m.tflite",
        "size": len(blob),
        "sha256": sha,
        "feature_digest": DIGEST,
        "card": {"format": "poise-model-card/1", "model": {"file": "m.tflite", "sha256": sha}},
        "reference": {
            "file": "reference.wav",
            "size": len(clip),
            "sha256": hashlib.sha256(clip).hexdigest(),
            "expect": expect or {"ok": True},
        },
        "issued": format_ts(now),
        "expires": format_ts(now + expires_in),
    }
    return signing.sign(key, signed)


def passing(model: Path, clip: Path, expect: dict[str, Any]) -> dict[str, Any]:
    if not expect.get("ok"):
        raise RuntimeError("reference clip scored differently")
    return {"bytes": model.stat().st_size}


def updater(root: Path, files: Files, wall: FakeWallClock, test: Any = passing) -> ModelUpdater:
    return ModelUpdater(root, [KEY.public_key()], DIGEST, files, test, wall)


def blob(v: int, n: int = 25_000) -> bytes:
    return bytes([v]) * n


def test_install_then_upgrade(tmp_path: Path, wall: FakeWallClock) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    assert u.offer(manifest(f, 1, wall(), blob(1))).status == "installed"
    assert u.running_version == 1 and u.current_model() is not None
    assert u.current_model().read_bytes() == blob(1)  # type: ignore[union-attr]
    assert u.offer(manifest(f, 2, wall(), blob(2))).status == "installed"
    assert u.current_model().read_bytes() == blob(2)  # type: ignore[union-attr]
    assert u.report()["model"]["version"] == 2
    assert (tmp_path / "current").resolve().name == "v2"


@pytest.mark.parametrize(
    "case", ["unsigned", "tampered", "expired", "older", "bad-bytes", "features"]
)
def test_refused_and_old_kept(tmp_path: Path, wall: FakeWallClock, case: str) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    u.offer(manifest(f, 3, wall(), blob(3)))
    if case == "unsigned":
        m: Any = manifest(f, 4, wall(), blob(4))["signed"]
    elif case == "tampered":
        m = manifest(f, 4, wall(), blob(4))
        m = copy.deepcopy(m)
        m["signed"]["sha256"] = hashlib.sha256(b"evil").hexdigest()
        m["signed"]["card"]["model"]["sha256"] = m["signed"]["sha256"]
    elif case == "expired":
        m = manifest(f, 4, wall(), blob(4), expires_in=-5)
    elif case == "older":
        m = manifest(f, 2, wall(), blob(2))
    elif case == "features":
        m = manifest(f, 4, wall(), blob(4))
        s = copy.deepcopy(m["signed"])
        s["feature_digest"] = "0" * 64
        m = signing.sign(KEY, s)
    else:  # signed manifest, but the server hands out other bytes
        m = manifest(f, 4, wall(), blob(4))
        f.files[4]["m.tflite"] = blob(5)
    out = u.offer(m)
    assert out.status == "refused" and out.running == 3
    assert u.current_model().read_bytes() == blob(3)  # type: ignore[union-attr]
    assert not (tmp_path / "v4").exists()


def test_cut_transfer_keeps_old_and_resumes(tmp_path: Path, wall: FakeWallClock) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    u.offer(manifest(f, 1, wall(), blob(1)))
    m = manifest(f, 2, wall(), blob(2))
    f.cut_after = 12_000
    out = u.offer(m)
    assert (out.status, out.running) == ("interrupted", 1)
    assert u.current_model().read_bytes() == blob(1)  # type: ignore[union-attr]
    f.cut_after = None
    f.offsets.clear()
    assert u.offer(m).status == "installed"
    assert f.offsets[0] == 12_000  # resumed, not restarted
    assert u.current_model().read_bytes() == blob(2)  # type: ignore[union-attr]


KILLER = r"""
import os, sys, json, signal
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.fleet import test_model_update as t
from tests.fleet.conftest import FakeWallClock
class Dying(t.Files):
    def fetch(self, version, name, offset):
        for i, chunk in enumerate(super().fetch(version, name, offset)):
            if i == 10:
                os.kill(os.getpid(), signal.SIGKILL)  # the process dies mid-transfer
            yield chunk
f = Dying()
doc = json.loads(Path(sys.argv[3]).read_text())
f.files[2] = {k: bytes.fromhex(v) for k, v in json.loads(Path(sys.argv[4]).read_text()).items()}
from edge.fleet.model_update import ModelUpdater
from edge.fleet.signing import load_public_pem
key = load_public_pem(Path(sys.argv[5]).read_bytes())
ModelUpdater(Path(sys.argv[2]), [key], t.DIGEST, f, t.passing, FakeWallClock()).offer(doc)
"""


def test_killed_transfer_keeps_old_and_resumes(tmp_path: Path, wall: FakeWallClock) -> None:
    f = Files()
    root = tmp_path / "models"
    u = updater(root, f, wall)
    u.offer(manifest(f, 1, wall(), blob(1)))
    m = manifest(f, 2, wall(), blob(2))
    (tmp_path / "m.json").write_text(json.dumps(m))
    (tmp_path / "f.json").write_text(json.dumps({k: v.hex() for k, v in f.files[2].items()}))
    (tmp_path / "k.pub").write_bytes(signing.public_pem(KEY.public_key()))
    repo = str(Path(__file__).resolve().parents[2])
    p = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLER,
            repo,
            str(root),
            str(tmp_path / "m.json"),
            str(tmp_path / "f.json"),
            str(tmp_path / "k.pub"),
        ],
        timeout=60,
        env={**os.environ},
    )
    assert p.returncode == -9
    again = updater(root, f, wall)  # the next start
    assert again.running_version == 1
    assert again.current_model().read_bytes() == blob(1)  # type: ignore[union-attr]
    f.offsets.clear()
    assert again.offer(m).status == "installed"
    assert f.offsets[0] > 0
    assert again.current_model().read_bytes() == blob(2)  # type: ignore[union-attr]


def test_failing_self_test_rolls_back(tmp_path: Path, wall: FakeWallClock) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    u.offer(manifest(f, 1, wall(), blob(1)))
    out = u.offer(manifest(f, 2, wall(), blob(2), expect={"ok": False}))
    assert (out.status, out.running, out.reason) == ("rolled-back", 1, "self-test")
    assert u.current_model().read_bytes() == blob(1)  # type: ignore[union-attr]
    assert u.report()["update"]["status"] == "rolled-back"
    assert not (tmp_path / "v2").exists()


def test_first_install_failing_falls_back_to_shipped(tmp_path: Path, wall: FakeWallClock) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    out = u.offer(manifest(f, 1, wall(), blob(1), expect={"ok": False}))
    assert out.status == "rolled-back" and u.current_model() is None


def test_death_during_self_test_rolls_back_at_next_start(
    tmp_path: Path, wall: FakeWallClock
) -> None:
    f = Files()
    u = updater(tmp_path, f, wall)
    u.offer(manifest(f, 1, wall(), blob(1)))

    def dies(model: Path, clip: Path, expect: dict[str, Any]) -> dict[str, Any]:
        raise SystemExit("power cut")  # not an Exception: escapes like a real death would

    u.self_test = dies
    with pytest.raises(SystemExit):
        u.offer(manifest(f, 2, wall(), blob(2)))
    again = updater(tmp_path, f, wall)
    assert again.running_version == 1
    assert again.report()["update"]["status"] == "rolled-back"
