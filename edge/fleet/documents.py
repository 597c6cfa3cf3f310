"""What a signed fleet config and a signed model manifest must say, checked without I/O.

Both are :mod:`edge.fleet.signing` documents whose ``signed`` part carries a ``type``, a
monotonic ``version``, ``issued`` and ``expires`` timestamps (RFC 3339 UTC). The device refuses
anything unsigned or tampered (signature), addressed to another device, older than or equal to
what it runs (rollback), or expired (freeze: a withheld update cannot keep a stale document
valid forever). The config's ``settings`` is a mapping shaped like ``device.toml``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.errors import PoiseError
from edge.fleet.signing import SignatureError, verify
from edge.telemetry.envelope import parse_ts

CONFIG_TYPE = "poise-config"
MODEL_TYPE = "poise-model"
DOC_VERSION = 1
_SHA = re.compile(r"^[0-9a-f]{64}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Refused(PoiseError):
    """A document the device will not apply; ``reason`` is a short machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ConfigDoc:
    """A verified config for this device."""

    version: int
    """Monotonic across the fleet; the device never applies one <= what it has."""
    issued: float
    """Seconds since the epoch when the fleet signed it."""
    expires: float
    """Seconds since the epoch after which it is refused."""
    settings: dict[str, Any]
    """Overrides of ``device.toml``, same nesting."""
    model: dict[str, Any] | None
    """A signed model manifest document the device should run, or None."""
    raw: dict[str, Any]
    """The whole signed document as received (kept on disk as the last good one)."""


@dataclass(frozen=True)
class ModelManifest:
    """A verified model manifest."""

    name: str
    """Model family (``prosody``)."""
    version: int
    """Monotonic per family; the device never installs one <= what it runs."""
    file: str
    """File name of the model (plain name, no path)."""
    size: int
    """Bytes of the model file."""
    sha256: str
    """sha256 (hex) of the model file."""
    feature_digest: str
    """Front-end features the model was trained on (must equal the device's)."""
    card: dict[str, Any]
    """The model card (``poise-model-card/1``), written beside the model."""
    reference: dict[str, Any]
    """Self-test clip: ``file``, ``size``, ``sha256`` and ``expect`` (``windows``,
    ``mean_logit``, ``tolerance``)."""
    expires: float
    """Seconds since the epoch after which it is refused."""
    raw: dict[str, Any]
    """The whole signed document."""


def _ts(signed: dict[str, Any], key: str) -> float:
    try:
        value = parse_ts(str(signed[key]))
    except (KeyError, ValueError):
        raise Refused("malformed", f"{key!r} missing or not a timestamp") from None
    if not math.isfinite(value):
        raise Refused("malformed", f"{key!r} is not a timestamp")
    return value


def _int(signed: dict[str, Any], key: str, minimum: int = 0) -> int:
    value = signed.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise Refused("malformed", f"{key!r} must be an integer >= {minimum}")
    return value


def _signed(doc: Any, trusted: Iterable[Ed25519PublicKey], kind: str) -> dict[str, Any]:
    try:
        signed = verify(doc, trusted)
    except SignatureError as exc:
        reason = "unsigned" if "unsigned" in str(exc) or "not a signed" in str(exc) else "signature"
        raise Refused(reason, str(exc)) from None
    if signed.get("type") != kind or signed.get("v") != DOC_VERSION:
        raise Refused("malformed", f"not a {kind} v{DOC_VERSION} document")
    return signed


def check_config(
    doc: Any,
    trusted: Iterable[Ed25519PublicKey],
    site: str,
    device: str,
    now: float,
    current_version: int,
) -> ConfigDoc:
    """Verify a config document for ``site``/``device``; raise :class:`Refused`."""
    s = _signed(doc, trusted, CONFIG_TYPE)
    if s.get("site") != site or s.get("device") != device:
        raise Refused("wrong-device", "config is addressed to another device")
    version = _int(s, "version", 1)
    issued, expires = _ts(s, "issued"), _ts(s, "expires")
    if version <= current_version:
        raise Refused("rollback", f"config version {version} is not newer than {current_version}")
    if now >= expires:
        raise Refused("expired", f"config version {version} expired")
    settings = s.get("settings")
    if not isinstance(settings, dict):
        raise Refused("malformed", "'settings' must be an object")
    model = s.get("model")
    if model is not None and not isinstance(model, dict):
        raise Refused("malformed", "'model' must be a signed manifest or null")
    return ConfigDoc(version, issued, expires, settings, model, doc)


def check_manifest(
    doc: Any,
    trusted: Iterable[Ed25519PublicKey],
    now: float,
    current_version: int,
    feature_digest: str,
) -> ModelManifest:
    """Verify a model manifest; raise :class:`Refused`."""
    s = _signed(doc, trusted, MODEL_TYPE)
    version = _int(s, "version", 1)
    expires = _ts(s, "expires")
    if version <= current_version:
        raise Refused("rollback", f"model version {version} is not newer than {current_version}")
    if now >= expires:
        raise Refused("expired", f"model manifest version {version} expired")
    name, file, sha = s.get("name"), s.get("file"), s.get("sha256")
    if not isinstance(name, str) or not isinstance(file, str) or not _FILE.match(file):
        raise Refused("malformed", "model 'name'/'file' missing or not a plain file name")
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise Refused("malformed", "model 'sha256' must be 64 hex digits")
    size = _int(s, "size", 1)
    card, ref = s.get("card"), s.get("reference")
    if not isinstance(card, dict) or not isinstance(ref, dict):
        raise Refused("malformed", "model 'card' and 'reference' must be objects")
    if s.get("feature_digest") != feature_digest:
        raise Refused(
            "features", "model was trained on other front-end features than this device's"
        )
    card_model = card.get("model")
    if not isinstance(card_model, dict) or card_model.get("sha256") != sha:
        raise Refused("malformed", "the card inside the manifest describes another file")
    rfile, rsha = ref.get("file"), ref.get("sha256")
    if not isinstance(rfile, str) or not _FILE.match(rfile) or rfile == file:
        raise Refused("malformed", "reference 'file' missing or not a plain file name")
    if not isinstance(rsha, str) or not _SHA.match(rsha):
        raise Refused("malformed", "reference 'sha256' must be 64 hex digits")
    _int(ref, "size", 1)
    if not isinstance(ref.get("expect"), dict):
        raise Refused("malformed", "reference 'expect' must be an object")
    return ModelManifest(
        name, version, file, size, sha, str(s["feature_digest"]), card, ref, expires, doc
    )
