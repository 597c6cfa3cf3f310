"""The outbox, boot counter, backoff and settings, without a broker."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.protocols import FakeClock
from edge.settings import load_settings
from edge.telemetry.backoff import Backoff
from edge.telemetry.boot import next_boot, read_boot
from edge.telemetry.outbox import Limits, Outbox
from edge.telemetry.settings import TelemetrySettings, parse_broker_url
from tests.support.ports import free_port
from tests.telemetry.harness import make_publisher


def test_outbox_is_ordered_and_deletes_only_what_was_acknowledged(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    for boot, seq in [(2, 0), (1, 5), (1, 6), (2, 1)]:
        box.put(boot, seq, "metrics", 0.0, b"x" * 10)
    assert [r.key for r in box.after(None, 10)] == [(1, 5), (1, 6), (2, 0), (2, 1)]
    assert [r.key for r in box.after((1, 6), 1)] == [(2, 0)]
    assert box.ack(1, 6) and not box.ack(1, 6)
    box.close()
    again = Outbox(tmp_path / "o.db")  # what was stored survives a reopen
    assert [r.key for r in again.after(None, 10)] == [(1, 5), (2, 0), (2, 1)]
    assert again.stats().depth == 3 and again.stats().bytes == 30
    assert again.max_boot() == 2 and again.max_seq(2) == 1 and again.max_seq(3) is None
    again.close()


def test_outbox_bounds_drop_oldest_first(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", Limits(max_rows=100, max_bytes=250, max_age_s=100.0))
    for seq in range(5):
        box.put(1, seq, "metrics", float(seq), b"y" * 100)
    assert [r.seq for r in box.after(None, 10)] == [3, 4]  # bytes: 2 x 100 <= 250
    assert box.stats().dropped == 3
    box.put(1, 5, "metrics", 150.0, b"z")  # seq 3 and 4 are now over 100 s old
    assert [r.seq for r in box.after(None, 10)] == [5]
    box.put(1, 6, "metrics", 150.0, b"z")
    assert box.trim_age(1000.0) == 2 and box.stats() == box.stats().__class__(0, 0, 7)
    box.close()


def test_boot_counter_floor_and_corrupt_file(tmp_path: Path) -> None:
    assert read_boot(tmp_path) == 0
    assert next_boot(tmp_path) == 1 and next_boot(tmp_path) == 2
    assert next_boot(tmp_path, floor=7) == 8  # outbox holds boot 7: never reuse it
    (tmp_path / "boot").write_text("garbage")
    assert next_boot(tmp_path, floor=3) == 4


def test_seq_continues_above_what_the_outbox_holds_for_the_boot(tmp_path: Path) -> None:
    """The new boot is above every boot still in the outbox (even if the boot file was lost)."""
    url = f"mqtt://127.0.0.1:{free_port()}"
    box = Outbox(tmp_path / "outbox.sqlite3")
    box.put(1, 41, "metrics", 0.0, b"{}")
    box.close()
    pub = make_publisher(tmp_path, url, FakeClock(0.0), health=False)
    assert pub.boot == 2 and pub.next_seq == 0
    pub.stop()


def test_backoff_is_jittered_doubling_and_capped() -> None:
    b = Backoff(1.0, 8.0, 0.5, random.Random(3))
    delays = [b.next_delay() for _ in range(8)]
    for d, n in zip(delays, [1, 2, 4, 8, 8, 8, 8, 8], strict=True):
        assert n * 0.5 <= d <= n
    assert len(set(delays[3:])) > 1  # jitter: not in lock step
    b.reset()
    assert b.next_delay() <= 1.0


@pytest.mark.parametrize(
    ("url", "host", "port", "tls"),
    [
        ("mqtt://broker.lan", "broker.lan", 1883, False),
        ("mqtts://10.0.0.2:9999", "10.0.0.2", 9999, True),
    ],
)
def test_broker_urls(url: str, host: str, port: int, tls: bool) -> None:
    a = parse_broker_url(url)
    assert (a.host, a.port, a.tls) == (host, port, tls)


@pytest.mark.parametrize(
    "url", ["http://x", "mqtt://", "mqtt://u:p@host", "mqtt://host/path", "mqtt://host:99999"]
)
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_broker_url(url)


@pytest.mark.parametrize("key", ["site", "device"])
@pytest.mark.parametrize("bad", ["a/b", "+", "#", "desk#1", "Desk"])
def test_bad_ids_are_refused_by_the_settings(key: str, bad: str) -> None:
    with pytest.raises(ConfigError, match=f"telemetry.{key}"):
        load_settings(None, [f'telemetry.{key}="{bad}"'])


def test_defaults_are_off_and_the_device_id_comes_from_the_host_name() -> None:
    s = load_settings().telemetry
    assert not s.enabled and s.site == "default"
    assert s.device_id("Pi-Desk_07.local") == "pi-desk-07-local"
    assert TelemetrySettings(device="desk-9").device_id("whatever") == "desk-9"


def test_password_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    assert TelemetrySettings(password_file=str(tmp_path / "pw")).read_password() == "s3cret"
    with pytest.raises(ValueError, match="password_file"):
        TelemetrySettings(password_file=str(tmp_path / "missing")).read_password()


def test_checked_payloads_never_reach_the_outbox_when_invalid(tmp_path: Path) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    pub = make_publisher(tmp_path, url, FakeClock(0.0), health=False, check_payloads=True)
    assert pub.publish("events", {"call": None, "agent": None, "t": 1.0, "event": {}}) is None
    assert pub.stream.invalid == 1 and pub.outbox.depth == 0 and pub.next_seq == 0
    with pytest.raises(ValueError, match="stream kind"):
        pub.publish("status", {})
    pub.stop()
