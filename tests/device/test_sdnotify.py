"""sd_notify over a real unix datagram socket."""

from __future__ import annotations

import os
import socket

from edge.device.sdnotify import SdNotifier


def test_ready_watchdog_and_stopping_reach_the_socket(tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind(str(path))
        srv.settimeout(5)
        n = SdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "4000000"})
        assert n.enabled and n.watchdog_s == 2.0
        assert n.ready("listening")
        assert srv.recv(256) == b"READY=1\nSTATUS=listening"
        assert n.watchdog(10.0)
        assert not n.watchdog(11.0)  # within half the watchdog period
        assert n.watchdog(12.0)
        assert n.stopping()
        got = [srv.recv(256) for _ in range(3)]
    assert got == [b"WATCHDOG=1", b"WATCHDOG=1", b"STOPPING=1"]


def test_abstract_namespace_address():
    name = f"poise-test-{os.getpid()}-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind("\0" + name)
        srv.settimeout(5)
        assert SdNotifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert srv.recv(64) == b"READY=1"


def test_without_systemd_everything_is_a_no_op(tmp_path):
    n = SdNotifier({})
    assert not n.enabled
    assert not n.ready() and not n.watchdog(0.0) and not n.stopping()
    gone = SdNotifier({"NOTIFY_SOCKET": str(tmp_path / "missing.sock")})
    assert not gone.ready()  # logged, not raised
