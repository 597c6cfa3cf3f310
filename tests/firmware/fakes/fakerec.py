"""Shared recorder of the fake hardware (runs inside MicroPython, not CPython).

The harness sets `clock` to a function returning the fake time in ms; every fake device
appends {"t": ms, "ev": kind, ...} dicts to `events`.
"""

events: list = []
wdt_feeds: list = []
clock = None
neopixel_fails = False
pin_levels: dict = {}  # input pin id -> level the script set (unset: the pull decides)


def now():
    return clock() if clock is not None else 0


def record(ev, **fields):
    fields["t"] = now()
    fields["ev"] = ev
    events.append(fields)
