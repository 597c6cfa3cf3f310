"""Store and forward against a real mosquitto: nothing is lost across broker restarts, network
partitions, killed device processes and power cuts. Afterwards the plain MQTT v5 subscriber has
seen every (device, boot, seq) at least once, in order per boot, and the outbox is empty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edge.protocols import FakeClock
from edge.settings import PolicySettings
from edge.telemetry.sink import TelemetrySink
from tests.support.mosquitto import Broker, BrokerFactory
from tests.support.mqtt_sub import Subscriber
from tests.support.ports import free_port
from tests.support.tcp_proxy import TcpProxy
from tests.telemetry.harness import (
    assert_complete_in_order,
    make_publisher,
    outbox_depth,
    stream,
)
from tests.telemetry.synthetic import window

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["poise/v1/+/+/+"]


def test_broker_sigkilled_and_restarted_mid_stream(mosquitto: Broker, tmp_path: Path) -> None:
    sub = Subscriber(mosquitto.port, TOPICS, client_id="collector-test")
    clock = FakeClock(0.0)
    pub = make_publisher(tmp_path / "state", mosquitto.url, clock, health=False).start()
    sink = TelemetrySink(pub, PolicySettings())
    try:
        assert pub.wait_connected(10)
        for i in range(40):
            sink.handle(window(i))
        # Kill once the broker has passed the first 40 on: a message the broker acknowledged
        # but had not yet delivered or saved (autosave every second) dies with the broker, which
        # no publisher can prevent; what the device must prevent is losing anything of its own.
        sub.wait_for(lambda m: len({d["seq"] for d in stream(m)}) >= 40, 10)
        assert pub.wait_drained(10)
        mosquitto.kill()
        for i in range(40, 80):
            sink.handle(window(i))  # stored while the broker is down
        mosquitto.start()
        sub.wait_subscribed(2, 15)  # the subscriber is back before the device may reconnect
        clock.advance(10.0)  # past the reconnect backoff
        assert pub.wait_connected(10)
        msgs = sub.wait_for(lambda m: len({d["seq"] for d in stream(m)}) >= 80, 20)
        assert pub.wait_drained(10)
    finally:
        pub.stop(2.0)
        sub.close()
    assert_complete_in_order(stream(msgs), {1: 80})
    assert pub.stats.connects >= 2
    assert outbox_depth(tmp_path / "state") == 0


def test_device_cut_off_for_ten_minutes_then_reconnects(mosquitto: Broker, tmp_path: Path) -> None:
    """A network partition of 600 s (fake clock): windows every 10 s and health every 60 s are
    kept, reconnect attempts back off (jittered, capped), and everything arrives in order."""
    proxy = TcpProxy(mosquitto.port)
    sub = Subscriber(mosquitto.port, TOPICS)
    clock = FakeClock(0.0)
    pub = make_publisher(tmp_path / "state", proxy.url, clock, backoff_max_s=60.0).start()
    sink = TelemetrySink(pub, PolicySettings())
    try:
        assert pub.wait_connected(10)
        for i in range(6):  # one minute connected
            clock.advance(10.0)
            sink.handle(window(i))
            assert pub.wait_observed(clock.now(), 10)
        proxy.cut()
        attempts_before = pub.stats.connect_attempts
        for i in range(6, 66):  # ten minutes cut off
            clock.advance(10.0)
            sink.handle(window(i))
            assert pub.wait_observed(clock.now(), 10)
        assert not pub.connected
        attempts = pub.stats.connect_attempts - attempts_before
        waiting = pub.outbox.depth
        proxy.restore()
        clock.advance(61.0)  # past the longest backoff
        assert pub.wait_connected(10)
        n = pub.next_seq
        msgs = sub.wait_for(lambda m: len({d["seq"] for d in stream(m)}) >= n, 20)
        assert pub.wait_drained(10)
    finally:
        pub.stop(2.0)
        sub.close()
        proxy.close()
    docs = stream(msgs)
    assert_complete_in_order(docs, {1: n})
    # 1, 2, 4, ..., 60 s: about a dozen attempts in 600 s, not one per poll
    assert 4 <= attempts <= 20, attempts
    health = {d["seq"]: d for d in docs if d["kind"] == "health"}.values()  # without duplicates
    assert len(health) == 12  # 720 s of fake time with health every 60 s
    assert max(h["outbox"]["depth"] for h in health) >= 60
    assert waiting >= 70  # 60 windows + 10 health stored while cut off
    assert outbox_depth(tmp_path / "state") == 0


def _driver(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.telemetry.driver", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], word: str, timeout_s: float = 30.0) -> list[str]:
    """Lines of the driver up to the first starting with ``word`` (bounded by the process
    ending; the caller's communicate/kill bounds the time)."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith(word):
            return lines
    _, err = proc.communicate(timeout=timeout_s)
    raise AssertionError(f"driver ended without {word}: {lines}\n{err[-2000:]}")


def _finish(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> str:
    out, err = proc.communicate(timeout=timeout_s)
    assert proc.returncode == 0, err[-3000:]
    return out


def test_device_sigkilled_mid_drain_and_restarted(
    broker_factory: BrokerFactory, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    broker = broker_factory(port=free_port())
    # 1: 300 windows stored while no broker runs (the unit is offline); stopped cleanly
    out = _finish(_driver("--state", state, "--broker", broker.url, "--count", "300",
                          "--exit-when-drained", "--drain-timeout", "0"))  # fmt: skip
    assert "STORED 300" in out and "DRAINED" not in out
    assert outbox_depth(Path(state)) == 300
    broker.start()
    sub = Subscriber(broker.port, TOPICS)
    try:
        # 2: the broker is back; the device is SIGKILLed after 100 acknowledgements
        proc = _driver("--state", state, "--broker", broker.url, "--inflight", "5",
                       "--stall-after-acks", "100")  # fmt: skip
        try:
            _read_until(proc, "STALLED")
        finally:
            proc.kill()
            proc.wait(10)
        left = outbox_depth(Path(state))
        assert 0 < left <= 201, left  # mid-drain: acknowledged rows are gone, the rest remain
        # 3: restarted, with 20 new windows: everything arrives
        out = _finish(_driver("--state", state, "--broker", broker.url, "--count", "20",
                              "--exit-when-drained"))  # fmt: skip
        assert "DRAINED" in out
        msgs = sub.wait_for(lambda m: len({(d["boot"], d["seq"]) for d in stream(m)}) >= 320, 20)
    finally:
        sub.close()
    assert_complete_in_order(stream(msgs), {1: 300, 3: 20})
    assert outbox_depth(Path(state)) == 0


def test_power_cut_between_outbox_write_and_send(mosquitto: Broker, tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    sub = Subscriber(mosquitto.port, TOPICS)
    try:
        proc = _driver("--state", state, "--broker", mosquitto.url, "--count", "50",
                       "--kill-after-write", "30", "--wait-connected")  # fmt: skip
        proc.communicate(timeout=60)
        assert proc.returncode == -9  # killed itself right after storing seq 30
        out = _finish(_driver("--state", state, "--broker", mosquitto.url, "--count", "10",
                              "--exit-when-drained"))  # fmt: skip
        assert "BOOT 2" in out and "DRAINED" in out
        msgs = sub.wait_for(lambda m: len({(d["boot"], d["seq"]) for d in stream(m)}) >= 41, 20)
    finally:
        sub.close()
    # seq 30 was stored but never sent before the cut: it is delivered by the next boot
    assert_complete_in_order(stream(msgs), {1: 31, 2: 10})
    assert outbox_depth(Path(state)) == 0


def test_boot_counter_is_persisted_and_incremented_at_every_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens: the boot is persisted anyway
    for expected in (1, 2, 3):
        out = _finish(_driver("--state", str(state), "--broker", url, "--exit-when-drained"))
        assert f"BOOT {expected}" in out
        assert (state / "boot").read_text().strip() == str(expected)
