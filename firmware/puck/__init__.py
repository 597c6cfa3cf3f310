"""Poise cue puck firmware (MicroPython, RP2040). See docs/puck-protocol.md."""

VERSION = "1.2.0"
PROTOCOL = 1
