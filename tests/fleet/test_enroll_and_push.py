"""Enrollment over real HTTPS and a real model pushed, downloaded, self-tested and swapped."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from broker.fleet.fleet import Fleet
from broker.fleet.pushes import config_set, config_show, push_model
from edge.errors import PoiseError
from edge.features.config import FeatureConfig
from edge.fleet.agent import FleetAgent, subscriptions
from edge.fleet.cmds import CmdHandler
from edge.fleet.config_keeper import ConfigKeeper
from edge.fleet.enroll import EnrollError, EnrollmentClient, HttpsFetcher, HttpsTransport, Identity
from edge.fleet.model_update import ModelUpdater
from edge.fleet.selftest import run_self_test
from edge.fleet.signing import load_public_keys
from edge.model.card import DEFAULT_MODEL, card_path_for
from edge.telemetry.topics import DeviceTopics
from tests.fleet.conftest import WAIT_S, connect, enroll, mqtt_client
from tests.support.mosquitto import Broker


def test_token_is_one_time_and_must_match(fleet: Fleet, enroll_server: str, tmp_path: Path) -> None:
    a = fleet.add("desk-1", "s1", "A")
    b = fleet.add("desk-2", "s1", "B")
    # Stored hashed only.
    blob = b"".join(p.read_bytes() for p in fleet.dir.root.glob("registry.db*"))
    assert a.token.encode() not in blob and b.token.encode() not in blob
    with pytest.raises(EnrollError, match="403"):
        enroll(fleet, enroll_server, "desk-1", tmp_path / "w", b.token)  # B's token for A
    with pytest.raises(EnrollError, match="403"):
        enroll(fleet, enroll_server, "desk-1", tmp_path / "w2", "x" * 43)
    ident = enroll(fleet, enroll_server, "desk-1", tmp_path / "ok", a.token)
    assert ident.enrolled and not (tmp_path / "ok" / "enroll.token").exists()
    with pytest.raises(EnrollError, match="403"):  # spent
        enroll(fleet, enroll_server, "desk-1", tmp_path / "again", a.token)
    d = fleet.device("desk-1")
    assert d.state == "enrolled" and d.cert_serial and not d.token_pending


def test_replacement_unit_revokes_the_old_certificate(
    fleet: Fleet, enroll_server: str, tmp_path: Path
) -> None:
    a = fleet.add("desk-1", "s1", "A")
    enroll(fleet, enroll_server, "desk-1", tmp_path / "old", a.token)
    old_serial = fleet.device("desk-1").cert_serial
    token = fleet.new_enrollment_token("desk-1")  # `poise fleet renew`
    enroll(fleet, enroll_server, "desk-1", tmp_path / "new", token)
    assert fleet.device("desk-1").cert_serial != old_serial
    assert int(old_serial) in [s for s, _ in fleet.registry.revoked_serials()]  # type: ignore[arg-type]


def test_wrong_cn_csr_refused(fleet: Fleet, enroll_server: str, tmp_path: Path) -> None:
    a = fleet.add("desk-1", "s1", "A")
    ident = Identity.in_dir(tmp_path, fleet.dir.ca_cert)
    (tmp_path / "t").write_text(a.token)
    client = EnrollmentClient(ident, HttpsTransport(enroll_server, fleet.dir.ca_cert))
    with pytest.raises(EnrollError, match="403"):
        client.enroll("desk-2", tmp_path / "t")  # CSR for desk-2 with desk-1's token
    assert fleet.device("desk-1").token_pending  # a refusal does not spend the token


@pytest.fixture
def clip(emodb_dir: Path, tmp_path: Path) -> Path:
    src = sorted((emodb_dir / "wav").glob("*.wav"))[0]
    return Path(shutil.copyfile(src, tmp_path / "reference.wav"))


def test_config_and_model_reach_device_over_mqtt(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path, clip: Path
) -> None:
    a = fleet.add("desk-1", "s1", "A")
    state = tmp_path / "dev"
    ident = enroll(fleet, enroll_server, "desk-1", state, a.token)
    topics = DeviceTopics("s1", "desk-1")
    trusted = load_public_keys(fleet.dir.signing_pub.read_bytes())
    blinks: list[float] = []
    recal: list[int] = []

    class Blink:
        def identify(self, seconds: float) -> None:
            blinks.append(seconds)

    import time

    wall = time.time
    keeper = ConfigKeeper(state / "config.json", trusted, "s1", "desk-1", wall)
    fetcher = HttpsFetcher(enroll_server, fleet.dir.ca_cert)
    models = ModelUpdater(
        state / "models", trusted, FeatureConfig().digest(), fetcher, run_self_test, wall
    )
    agent = FleetAgent(topics, keeper, CmdHandler(Blink(), lambda: recal.append(1), wall), models)
    dev = mqtt_client(fleet.settings.device_port, ident.ca, ident.cert, ident.key, "desk-1")
    dev.c.on_message = lambda c, u, m: agent.on_message(m.topic, bytes(m.payload))
    assert connect(dev, fleet.settings.device_port)
    dev.c.subscribe(subscriptions(topics))
    # A real model (the shipped one, as version 1) pushed with a reference clip.
    work = tmp_path / "push"
    work.mkdir()
    model = Path(shutil.copyfile(DEFAULT_MODEL, work / "prosody-v1.tflite"))
    shutil.copyfile(card_path_for(DEFAULT_MODEL), work / "prosody-v1.json")
    signed = push_model(fleet, model, clip)
    assert signed["reference"]["expect"]["windows"] > 0

    def until(pred: object, what: str) -> None:
        deadline = time.monotonic() + 60
        while not pred():  # type: ignore[operator]
            assert time.monotonic() < deadline, what
            agent.wait_models(0.1)

    until(lambda: models.running_version == 1, "model v1 never installed")
    assert models.current_model().read_bytes() == DEFAULT_MODEL.read_bytes()  # type: ignore[union-attr]
    # A signed model that scores the reference clip differently than the fleet measured
    # (here: a forged expectation) fails its self-test on the device and is rolled back.
    push_model(
        fleet,
        model,
        clip,
        expect={
            **signed["reference"]["expect"],
            "mean_logit": signed["reference"]["expect"]["mean_logit"] + 5,
        },
    )
    until(lambda: models.last.get("status") == "rolled-back", "bad model not rolled back")
    assert models.running_version == 1
    # Config: applied live where possible; identify reaches the cue.
    config_set(fleet, site="s1", assignments=["budget.min_gap_s=45.0"])
    until(lambda: keeper.settings.get("budget", {}).get("min_gap_s") == 45.0, "config missing")
    assert keeper.version == config_show(fleet, "desk-1")["version"]  # type: ignore[index]
    fleet.identify("desk-1", 12)
    until(lambda: blinks == [12.0], "identify never arrived")
    report = json.loads(agent.report_json())
    assert report["model"]["version"] == 1 and report["update"]["status"] == "rolled-back"
    dev.stop()
    agent.close()
    assert WAIT_S


def test_tokens_and_keys_are_0600(fleet: Fleet) -> None:
    for p in (
        fleet.dir.ca_key,
        fleet.dir.signing_key,
        fleet.dir.server_key,
        fleet.dir.client_key("admin"),
        fleet.dir.registry,
    ):
        assert p.stat().st_mode & 0o777 == 0o600, p
    with sqlite3.connect(fleet.dir.registry) as db:
        assert db.execute("SELECT COUNT(*) FROM devices").fetchone()[0] == 0
    with pytest.raises(PoiseError):
        Fleet.init(fleet.dir, fleet.settings)  # never overwrites a CA


def test_unit_renews_its_certificate_before_expiry(
    fleet: Fleet, enroll_server: str, tmp_path: Path
) -> None:
    from cryptography import x509

    from edge.fleet.enroll import RenewalClient
    from tests.fleet.conftest import FakeWallClock

    a = fleet.add("desk-1", "s1", "A")
    ident = enroll(fleet, enroll_server, "desk-1", tmp_path / "u", a.token)
    old = x509.load_pem_x509_certificate(ident.cert.read_bytes())
    old_key = ident.key.read_bytes()
    transport = HttpsTransport(enroll_server, fleet.dir.ca_cert)
    import time

    early = RenewalClient(ident, transport, FakeWallClock(time.time()))
    assert not early.renew("desk-1")  # a year left: nothing to do
    late = RenewalClient(ident, transport, FakeWallClock(time.time() + 340 * 86400))
    assert late.renew("desk-1")
    new = x509.load_pem_x509_certificate(ident.cert.read_bytes())
    assert new.serial_number != old.serial_number and ident.key.read_bytes() != old_key
    assert ident.key.stat().st_mode & 0o777 == 0o600
    assert fleet.device("desk-1").cert_serial == str(new.serial_number)
    assert not list((tmp_path / "u").glob("*.next"))
    # A revoked unit cannot renew.
    fleet.revoke("desk-1")
    with pytest.raises(EnrollError, match="403"):
        RenewalClient(ident, transport, FakeWallClock(time.time() + 340 * 86400)).renew("desk-1")
