"""Signed model updates on the device: resumable download, verify, write beside, swap, self-test,
roll back.

Layout under ``root`` (the device's state directory)::

    v<N>/            one installed version: the model, its card (same name, .json), the
                     reference clip and manifest.json (the signed manifest it came with)
    current, previous   symlinks to version directories, replaced atomically (os.replace)
    partial/<sha256>.part   downloads in progress (resumed from their size after a cut or kill)
    update.json      the last outcome (reported in status); ``testing`` while a self-test runs

An update is installed only if its manifest verifies (:func:`check_manifest`) and both files
match their sha256 and size; the new version is written beside the old one, ``current`` is
swapped to it, and the self-test runs on the reference clip. If the self-test fails — or the
process dies during it (``testing`` found at the next start) — ``current`` goes back to the
previous version. A cut or killed transfer leaves ``current`` untouched; the next attempt
continues from the partial file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.errors import PoiseError
from edge.fileio import write_bytes_atomic, write_text_atomic
from edge.fleet.documents import ModelManifest, Refused, check_manifest
from edge.fleet.signing import canonical_json
from edge.telemetry.envelope import WallClock

log = logging.getLogger(__name__)


class Fetcher(Protocol):
    """Where the bytes come from (HTTPS from the collector; a fake in tests)."""

    def fetch(self, version: int, name: str, offset: int) -> Iterator[bytes]:
        """Yield the file's bytes from ``offset`` on; raise OSError when the transfer breaks."""
        ...


SelfTest = Callable[[Path, Path, dict[str, Any]], dict[str, Any]]
"""(model path, reference clip, expect) -> measured values; raises on failure."""


@dataclass(frozen=True)
class UpdateOutcome:
    """What became of one offered manifest (reported in ``status``)."""

    status: str
    """``installed``, ``current`` (already running it), ``refused``, ``interrupted``
    (transfer broke; resumes next time), ``rolled-back`` (self-test failed)."""
    version: int
    """The manifest's version (0 if unreadable)."""
    running: int
    """The model version running after this."""
    reason: str = ""
    """Why, when not installed."""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "version": self.version,
            "running": self.running,
            "reason": self.reason,
        }


class ModelUpdater:
    """Installs signed model versions under ``root``."""

    def __init__(
        self,
        root: Path,
        trusted: list[Ed25519PublicKey],
        feature_digest: str,
        fetcher: Fetcher,
        self_test: SelfTest,
        wall_clock: WallClock,
        fsync_every: int = 1 << 20,
    ) -> None:
        self.root = Path(root)
        self.trusted = trusted
        self.feature_digest = feature_digest
        self.fetcher = fetcher
        self.self_test = self_test
        self.wall_clock = wall_clock
        self.fsync_every = fsync_every
        (self.root / "partial").mkdir(parents=True, exist_ok=True)
        self.last = self._read_state()
        self.failed: set[int] = {int(v) for v in self.last.get("failed", [])}
        if self.last.get("status") == "testing":
            self._rollback("self-test did not finish (process died)")

    # -- what runs -------------------------------------------------------------------------
    def _link(self, name: str) -> Path | None:
        p = self.root / name
        return p.resolve() if p.is_symlink() and p.resolve().is_dir() else None

    def current_manifest(self) -> dict[str, Any] | None:
        d = self._link("current")
        if d is None:
            return None
        try:
            doc = json.loads((d / "manifest.json").read_bytes())
            signed: dict[str, Any] = doc["signed"]
            return signed
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def running_version(self) -> int:
        m = self.current_manifest()
        return int(m["version"]) if m else 0

    def current_model(self) -> Path | None:
        """Path of the model file ``current`` points at (None: the shipped default serves)."""
        d, m = self._link("current"), self.current_manifest()
        return d / str(m["file"]) if d is not None and m is not None else None

    def report(self) -> dict[str, Any]:
        """For ``status``: what runs and the last update's outcome."""
        m = self.current_manifest()
        return {
            "model": None
            if m is None
            else {"name": m["name"], "version": m["version"], "sha256": m["sha256"]},
            "update": {k: v for k, v in self.last.items() if k != "failed"} or None,
        }

    # -- one update ------------------------------------------------------------------------
    def offer(self, doc: Any) -> UpdateOutcome:
        """Verify the manifest and install it (see module doc)."""
        running = self.running_version
        m = self.current_manifest()
        if m is not None and isinstance(doc, dict) and doc.get("signed") == m:
            return UpdateOutcome("current", running, running)
        try:
            man = check_manifest(doc, self.trusted, self.wall_clock(), running, self.feature_digest)
        except Refused as exc:
            log.warning("model manifest refused (%s): %s", exc.reason, exc)
            version = doc.get("signed", {}).get("version", 0) if isinstance(doc, dict) else 0
            return self._outcome("refused", version if isinstance(version, int) else 0, exc.reason)
        if man.version in self.failed:
            return UpdateOutcome("refused", man.version, running, "failed-self-test-before")
        try:
            model = self._download(man.version, man.file, man.size, man.sha256)
            ref = self._download(
                man.version,
                man.reference["file"],
                int(man.reference["size"]),
                str(man.reference["sha256"]),
            )
        except OSError as exc:
            log.warning("model %d transfer interrupted (%s); will resume", man.version, exc)
            return self._outcome("interrupted", man.version, "transfer")
        except Refused as exc:
            log.warning("model %d refused (%s): %s", man.version, exc.reason, exc)
            return self._outcome("refused", man.version, exc.reason)
        target = self._write_version(man, model, ref)
        self._save_state({"status": "testing", "version": man.version})
        self._swap(target)
        try:
            measured = self.self_test(
                target / man.file,
                target / str(man.reference["file"]),
                dict(man.reference["expect"]),
            )
        except Exception as exc:  # any failure of the new model means: back to the old one
            self._rollback(f"self-test failed: {exc}")
            shutil.rmtree(target, ignore_errors=True)
            return UpdateOutcome("rolled-back", man.version, self.running_version, "self-test")
        log.info("model %s v%d installed; self-test %s", man.name, man.version, measured)
        self._cleanup(keep=(target, self._link("previous")))
        return self._outcome("installed", man.version, "")

    def _outcome(self, status: str, version: int, reason: str) -> UpdateOutcome:
        out = UpdateOutcome(status, version, self.running_version, reason)
        self._save_state(out.to_json())
        return out

    def _download(self, version: int, name: str, size: int, sha256: str) -> bytes:
        part = self.root / "partial" / f"{sha256}.part"
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        if have < size:
            with part.open("ab") as fh:
                since_sync = 0
                for chunk in self.fetcher.fetch(version, name, have):
                    fh.write(chunk)
                    have += len(chunk)
                    since_sync += len(chunk)
                    if have > size:
                        break
                    if since_sync >= self.fsync_every:
                        fh.flush()
                        os.fsync(fh.fileno())
                        since_sync = 0
                fh.flush()
                os.fsync(fh.fileno())
        data = part.read_bytes()
        if len(data) < size:
            raise OSError(f"{name}: transfer ended at {len(data)} of {size} bytes")
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            part.unlink()
            raise Refused("sha256", f"{name}: size or sha256 does not match the manifest")
        return data

    def _write_version(self, man: ModelManifest, model: bytes, ref: bytes) -> Path:
        target = self.root / f"v{man.version}"
        tmp = self.root / f".v{man.version}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        tmp.mkdir()
        write_bytes_atomic(tmp / man.file, model)
        card = Path(man.file).with_suffix(".json").name
        write_text_atomic(tmp / card, json.dumps(man.card, indent=1) + "\n")
        write_bytes_atomic(tmp / str(man.reference["file"]), ref)
        write_bytes_atomic(tmp / "manifest.json", canonical_json(man.raw))
        os.replace(tmp, target)
        _fsync_dir(self.root)
        return target

    def _swap(self, target: Path) -> None:
        cur = self._link("current")
        if cur is not None and cur != target:
            self._set_link("previous", cur)
        self._set_link("current", target)

    def _set_link(self, name: str, target: Path) -> None:
        tmp = self.root / f".{name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(target.name, tmp)
        os.replace(tmp, self.root / name)
        _fsync_dir(self.root)

    def _rollback(self, why: str) -> None:
        prev, cur = self._link("previous"), self._link("current")
        failed = self.last.get("version", 0) if self.last.get("status") == "testing" else 0
        if prev is not None and prev != cur:
            self._set_link("current", prev)
        elif (
            cur is not None
            and self.current_manifest() is not None
            and (self.running_version == failed)
        ):
            (self.root / "current").unlink()  # first install failed: back to the shipped model
            _fsync_dir(self.root)
        log.warning("model rolled back to version %d: %s", self.running_version, why)
        if failed:
            self.failed.add(int(failed))
        self._save_state(
            {
                "status": "rolled-back",
                "version": failed or self.last.get("version", 0),
                "running": self.running_version,
                "reason": "self-test",
            }
        )

    def _cleanup(self, keep: tuple[Path | None, ...]) -> None:
        keep_names = {p.name for p in keep if p is not None}
        for d in self.root.glob("v*"):
            if d.is_dir() and d.name not in keep_names:
                shutil.rmtree(d, ignore_errors=True)
        for p in (self.root / "partial").glob("*.part"):
            p.unlink()

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads((self.root / "update.json").read_bytes())
            return state if isinstance(state, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        state = {**state, "failed": sorted(getattr(self, "failed", set()))}
        self.last = state
        write_text_atomic(self.root / "update.json", json.dumps(state) + "\n", sync_dir=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ModelUpdateError(PoiseError):
    """A model file the self-test refuses."""
