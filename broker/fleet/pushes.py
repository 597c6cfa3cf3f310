"""Signed config and model pushes: ``poise fleet config set/show/refresh`` and ``push-model``.

Config is kept per scope (``site:<id>`` and ``device:<id>``, each a mapping shaped like
``device.toml``); a device's effective config is its site's settings with its own laid over them,
plus the latest model manifest. Every change gives each affected device a new document with the
next fleet-wide version, signed, stored in the registry and published retained on its config
topic. Documents expire (``config_days``); ``config refresh`` re-signs them all before that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from broker.fleet.fleet import Fleet, FleetError
from broker.fleet.layout import write_public
from edge.errors import PoiseError
from edge.fleet import signing
from edge.fleet.config_keeper import REMOTE_DENIED, deep_merge, flatten
from edge.fleet.documents import CONFIG_TYPE, DOC_VERSION, MODEL_TYPE
from edge.settings import DeviceSettings
from edge.settings.loader import from_mapping, merge_overrides
from edge.telemetry.envelope import format_ts
from edge.telemetry.topics import DeviceTopics

log = logging.getLogger(__name__)


def _check_settings(settings: dict[str, Any]) -> None:
    for key in flatten(settings):
        if any(key == p or key.startswith(p + ".") for p in REMOTE_DENIED):
            raise FleetError(f"setting {key} cannot be changed remotely")
    from_mapping(DeviceSettings, settings)  # unknown key or bad value: ConfigError


def _unset(settings: dict[str, Any], key: str) -> None:
    parts = key.split(".")
    node = settings
    for p in parts[:-1]:
        child = node.get(p)
        if not isinstance(child, dict):
            return
        node = child
    node.pop(parts[-1], None)


def config_set(
    fleet: Fleet,
    *,
    site: str | None = None,
    device: str | None = None,
    assignments: list[str] | None = None,
    unset: list[str] | None = None,
) -> list[tuple[str, int]]:
    """Change a site's or a device's settings; returns (device, new version) published."""
    if (site is None) == (device is None):
        raise FleetError("give exactly one of --site or --device")
    if device is not None:
        scope = f"device:{fleet.device(device).id}"
    else:
        if not fleet.registry.devices(site=site):
            raise FleetError(f"no device in site {site!r}")
        scope = f"site:{site}"
    settings = merge_overrides(fleet.registry.scope_settings(scope), assignments or [])
    for key in unset or []:
        _unset(settings, key)
    _check_settings(settings)
    with fleet.registry.transaction() as db:
        fleet.registry.set_scope_settings(db, scope, settings)
    targets = [fleet.device(device)] if device else fleet.registry.devices(site=site)
    return republish(fleet, [d.id for d in targets])


def effective_settings(fleet: Fleet, device: str) -> dict[str, Any]:
    d = fleet.device(device)
    return deep_merge(
        fleet.registry.scope_settings(f"site:{d.site}"),
        fleet.registry.scope_settings(f"device:{d.id}"),
    )


def republish(fleet: Fleet, devices: list[str]) -> list[tuple[str, int]]:
    """Sign a new config version for each device and publish them retained."""
    key = fleet._signing_key()
    now = fleet.wall_clock()
    model = fleet.registry.latest_model()
    out: list[tuple[str, int]] = []
    messages: list[tuple[str, bytes, bool]] = []
    with fleet.registry.transaction() as db:
        for dev_id in devices:
            d = fleet.device(dev_id)
            if d.revoked_at is not None:
                continue
            version = fleet.registry.next_counter(db, "config")
            signed = {
                "type": CONFIG_TYPE,
                "v": DOC_VERSION,
                "site": d.site,
                "device": d.id,
                "version": version,
                "issued": format_ts(now),
                "expires": format_ts(now + fleet.settings.config_days * 86400),
                "settings": effective_settings(fleet, d.id),
                "model": model,
            }
            doc = signing.sign(key, signed)
            fleet.registry.store_device_config(db, d.id, version, doc)
            messages.append((DeviceTopics(d.site, d.id).config, signing.canonical_json(doc), True))
            out.append((d.id, version))
    if messages:
        fleet.mqtt.publish(messages)
    log.info("published %d signed config(s)", len(messages))
    return out


def config_show(fleet: Fleet, device: str) -> dict[str, Any] | None:
    doc = fleet.registry.device_config(fleet.device(device).id)
    return None if doc is None else dict(doc["signed"])


def refresh(fleet: Fleet) -> list[tuple[str, int]]:
    """Re-sign every device's config (new version, new expiry) and regenerate the CRL."""
    fleet.write_crl()
    fleet.reload_broker()
    return republish(fleet, [d.id for d in fleet.registry.devices(include_revoked=False)])


def push_model(
    fleet: Fleet,
    model_file: Path,
    reference: Path,
    tolerance: float = 0.05,
    expect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Sign a manifest for ``model_file`` (its card beside it) and the reference clip, store
    both under ``models/<version>/`` for the HTTPS endpoint, and publish the new configs.

    ``expect`` (tests only) replaces the self-test expectation measured here."""
    from edge.features.config import FeatureConfig
    from edge.fleet.selftest import measure
    from edge.model.card import card_path_for, load_card

    try:
        blob = model_file.read_bytes()
        clip = reference.read_bytes()
    except OSError as exc:
        raise FleetError(f"cannot read {exc.filename}: {exc.strerror}") from None
    card_path = card_path_for(model_file)
    card = load_card(card_path)
    features = FeatureConfig()
    if expect is None:
        try:
            expect = {**measure(model_file, reference, features), "tolerance": tolerance}
        except PoiseError as exc:
            raise FleetError(f"the model fails its own self-test here: {exc}") from None
    sha = hashlib.sha256(blob).hexdigest()
    now = fleet.wall_clock()
    with fleet.registry.transaction() as db:
        version = fleet.registry.next_counter(db, "model")
        name = str(card.raw.get("name") or model_file.stem)
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in model_file.stem)
        file_name = f"{stem}.tflite"
        signed = {
            "type": MODEL_TYPE,
            "v": DOC_VERSION,
            "name": name,
            "version": version,
            "file": file_name,
            "size": len(blob),
            "sha256": sha,
            "feature_digest": card.feature_digest,
            "card": card.raw,
            "reference": {
                "file": "reference.wav",
                "size": len(clip),
                "sha256": hashlib.sha256(clip).hexdigest(),
                "expect": expect,
            },
            "issued": format_ts(now),
            "expires": format_ts(now + fleet.settings.model_days * 86400),
        }
        if card.sha256 != sha:
            raise FleetError(f"{model_file}: does not match its card {card_path}")
        doc = signing.sign(fleet._signing_key(), signed)
        target = fleet.dir.models / str(version)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        write_public(target / file_name, blob)
        write_public(target / "reference.wav", clip)
        write_public(target / "manifest.json", json.dumps(doc).encode())
        fleet.registry.store_model(db, version, name, doc, now)
    republish(fleet, [d.id for d in fleet.registry.devices(include_revoked=False)])
    log.info("model %s v%d pushed (%d bytes)", name, version, len(blob))
    return signed
