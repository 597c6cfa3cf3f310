"""Scripted sessions for test_puck.py: serial input and fake-time steps per scenario.

Steps (see fakes/harness.py): {"send": text}, {"send_hex": hex bytes}, {"wait": ms},
{"pin": id, "level": 0|1} (drive an input pin, e.g. the button on GP14). Every
session boots the firmware first (self-test, watchdog); the script starts at the first loop
step. Optional keys: "neopixel_fails" (the fake LED driver raises on write), "config"
(attributes of puck.config to override).
"""

from __future__ import annotations

import random
from typing import Any

Session = dict[str, Any]


def hexbytes(data: bytes) -> str:
    return data.hex()


RNG = random.Random(1234)
NOISE = bytes(b for b in RNG.randbytes(3000) if b != 3)  # 0x03 is the maintenance byte

SCENARIOS: dict[str, Session] = {
    "commands": {
        "script": [
            {"send": "PING\n"},
            {"send": "VERSION\n"},
            {"send": "STATUS\n"},
            {"send": "IDENTIFY\n"},
            {"wait": 2000},
            {"send": "CUE pace ff8000 steady none\n"},
            {"send": "STATUS\n"},
            {"send": "CLEAR\n"},
            {"send": "STATUS\n"},
        ]
    },
    "steady": {"script": [{"send": "CUE pace 00ff00 steady none\n"}, {"wait": 2000}]},
    "pulse": {"script": [{"send": "CUE stress FF0000 pulse none\n"}, {"wait": 2500}]},
    "blink": {"script": [{"send": "CUE overtalk 0000ff blink none\n"}, {"wait": 2100}]},
    "short": {"script": [{"send": "CUE pace ffffff steady short\n"}, {"wait": 600}]},
    "double": {"script": [{"send": "CUE monologue ffffff steady double\n"}, {"wait": 600}]},
    "clear": {
        "script": [
            {"send": "CUE overtalk ff00ff blink double\n"},
            {"wait": 60},
            {"send": "CLEAR\n"},
            {"wait": 1500},
        ]
    },
    "identify": {
        "script": [
            {"send": "CUE flat 00ffff steady none\n"},
            {"wait": 100},
            {"send": "IDENTIFY\n"},
            {"wait": 2000},
        ]
    },
    "errors": {
        "script": [
            {"send": "\n"},
            {"send": "\r\n"},
            {"send": "FOO bar\n"},
            {"send": "ping\n"},
            {"send_hex": hexbytes(b"\x00\x01\x7f\xe2\x82\n")},
            {"send_hex": hexbytes(b"PING \xc3\x28\n")},
            {"send_hex": hexbytes(b"\xed\xa0\x80\n")},  # UTF-8-encoded surrogate
            {"send_hex": hexbytes("CAFÉ\n".encode())},
            {"send": "PING extra\n"},
            {"send": "PING \n"},
            {"send": " PING\n"},
            {"send": "CUE pace ff0000 steady\n"},
            {"send": "CUE Pace ff0000 steady none\n"},
            {"send": "CUE abcdefghijklmnopq ff0000 steady none\n"},
            {"send": "CUE pace ff00 steady none\n"},
            {"send": "CUE pace gg0000 steady none\n"},
            {"send": "CUE pace ff0000 wobble none\n"},
            {"send": "CUE pace ff0000 steady long\n"},
            {"send": "CUE pace  ff0000 steady none\n"},
            {"send": "STATUS\n"},
            {"send": "PING\n"},
        ]
    },
    "limits": {
        "script": [
            {"send": "X" * 63 + "\n"},
            {"send": "X" * 64 + "\n"},
            {"send": "Y" * 62 + "\r\n"},
            {"send": "Y" * 63 + "\r\n"},
            {"send": "Z" * 200 + "\n"},
            {"send": "CUE pace ff0000 steady none" + " " * 37 + "\n"},  # 65 bytes
            {"send": "PING\r\n"},
        ]
    },
    "partial": {
        "script": [
            {"send": "PI"},
            {"wait": 300},
            {"send": "NG"},
            {"wait": 300},
            {"send": "\n"},
            {"send": "CUE pace 102030 st"},
            {"wait": 100},
            {"send": "eady none\nPI"},
            {"wait": 50},
            {"send": "NG\n"},
        ]
    },
    "noise": {
        "script": [
            {"send_hex": hexbytes(NOISE)},
            {"wait": 100},
            {"send": "\nPING\n"},
        ]
    },
    "overflow_no_newline": {
        "script": [
            {"send_hex": hexbytes(b"Q" * 1000)},
            {"wait": 100},
            {"send": "\nPING\n"},
        ]
    },
    "uptime": {"script": [{"wait": 3000}, {"send": "STATUS\n"}]},
    "host_lost": {
        "script": [
            {"send": "CUE pace ff0000 steady short\n"},
            {"wait": 14000},
            {"send": "PING\n"},
            {"wait": 3000},
            {"send": "CUE pace ff0000 steady none\n"},
            {"wait": 500},
        ]
    },
    "keepalive": {
        "script": [
            {"send": "CUE pace ff0000 steady none\n"},
            *[step for _ in range(8) for step in ({"wait": 1900}, {"send": "PING\n"})],
            {"wait": 1000},
        ]
    },
    "never_connected": {"script": [{"wait": 15000}]},
    "button": {
        "script": [
            {"send": "PING\n"},
            {"pin": 14, "level": 0},  # a short press (1 s): not counted
            {"wait": 1000},
            {"pin": 14, "level": 1},
            {"wait": 100},
            {"send": "PING\n"},
            {"pin": 14, "level": 0},  # t = 1100: a long press with a 20 ms bounce in it
            {"wait": 500},
            {"pin": 14, "level": 1},
            {"wait": 20},
            {"pin": 14, "level": 0},
            {"wait": 2000},  # counted at t = 3100, acknowledged with the identify blink
            {"send": "PING\n"},
            {"wait": 3000},  # still held: counted once
            {"pin": 14, "level": 1},
            {"wait": 200},
            {"send": "PING\n"},
            {"pin": 14, "level": 0},  # a second long press
            {"wait": 2100},
            {"pin": 14, "level": 1},
            {"wait": 1600},  # the acknowledgement blinks out
            {"send": "PING\n"},
            {"send": "STATUS\n"},
        ]
    },
    "no_button": {
        "config": {"BUTTON_PIN": None},
        "script": [{"send": "PING\n"}, {"pin": 14, "level": 0}, {"wait": 3000}, {"send": "PING\n"}],
    },
    "led_broken": {
        "neopixel_fails": True,
        "script": [
            {"send": "STATUS\n"},
            {"send": "PING\n"},
            {"send": "CUE pace ff0000 steady short\n"},
            {"wait": 300},
            {"send": "STATUS\n"},
        ],
    },
    "maintenance": {
        "script": [
            {"send": "CUE pace ff0000 steady none\n"},
            {"wait": 100},
            {"send_hex": hexbytes(b"PING\n\x03\r\x01")},
        ]
    },
}
